"""``str(plan)``: the seed's "Graph optimization complete:" block, in this package's names."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._diff import PlanDiff
    from ._types import ConnectionPlan, GraphPlan, ProcessorPlan

__all__ = ["describe_changes", "format_plan"]


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


def format_plan(plan: GraphPlan) -> str:
    lines = ["Graph optimization complete:"]
    for pid in sorted(plan.processors, key=_order):
        p = plan.processors[pid]
        where = f" (into {p.fused_into})" if p.fused_into else ""
        held = "" if p.scheduled else " [not scheduled: a port side is unconnected]"
        how = f"{p.priority.name}, {p.threading.name}{where}{held}{_measured(p)}"
        lines.append(f"  - {p.processor_type} ({pid}): {how}")
    if plan.connections:
        lines.append("  - Connections:")
        for cid in sorted(plan.connections):
            c = plan.connections[cid]
            how = "fused (no buffer)" if c.fused else f"capacity={c.capacity} ({c.connection_type.name})"
            lines.append(f"    - {c.source} -> {c.sink}: {how}")
    if not plan.optimized:
        lines.append("  (optimize=False: one thread per processor, the unoptimized baseline)")
    return "\n".join(lines)


def describe_changes(changes: PlanDiff) -> str:
    """What a re-plan changed, and the rule behind each change (logged at INFO)."""
    old, new = changes.old, changes.new
    lines = ["Re-plan:"]
    for pid in changes.processors_added:
        lines.append(f"  - {new.processors[pid].processor_type} ({pid}) added: {_how(new.processors[pid])}")
    for pid in changes.processors_removed:
        lines.append(f"  - {old.processors[pid].processor_type} ({pid}) removed")
    seen = set(changes.processors_added) | set(changes.processors_removed)
    heads = (*changes.groups_added, *changes.groups_removed, *changes.groups_changed)
    for head in heads:
        for group in (old.groups.get(head), new.groups.get(head)):
            for pid in group.members if group else ():
                if pid in seen or pid not in old.processors or pid not in new.processors:
                    continue
                seen.add(pid)
                was, now = old.processors[pid], new.processors[pid]
                if was != now:
                    lines.append(
                        f"  - {now.processor_type} ({pid}): {_how(was)} -> {_how(now)}{_why(was, now)}"
                    )
    for cid in changes.connections_added:
        c = new.connections[cid]
        lines.append(f"    - {c.source} -> {c.sink}: {_carried(c)} (new)")
    for cid in changes.connections_removed:
        c = old.connections[cid]
        lines.append(f"    - {c.source} -> {c.sink}: removed")
    for cid in changes.connections_changed:
        was_c, now_c = old.connections[cid], new.connections[cid]
        lines.append(f"    - {now_c.source} -> {now_c.sink}: {_carried(was_c)} -> {_carried(now_c)}")
    return "\n".join(lines)


def _how(p: ProcessorPlan) -> str:
    where = f" (into {p.fused_into})" if p.fused_into else ""
    held = "" if p.scheduled else ", not scheduled"
    return f"{p.priority.name}, {p.threading.name}{where}{held}"


def _measured(p: ProcessorPlan) -> str:
    """Why a measured rule made the difference (nothing for the declared rules)."""
    if p.threading.value == "pooled":
        return " [on the shared pool: clock-driven, every member of its group measured cheap]"
    if p.cost.value == "cheap" and p.fused_into:
        return " [measured cheap: a small fraction of its input period]"
    if p.cost.value == "slow":
        return " [measured slow: too large a share of its input period to share a thread]"
    return ""


def _why(was: ProcessorPlan, now: ProcessorPlan) -> str:
    reasons = []
    if was.threading is not now.threading:
        if now.threading.value == "pooled":
            reasons.append(
                "clock-driven and every member of its group measured cheap: the shared pool runs it"
            )
        elif was.threading.value == "pooled" and now.threading.value == "dedicated":
            reasons.append("its group is no longer all measured cheap: a thread of its own")
        elif now.fused_into and now.cost.value == "cheap":
            reasons.append("measured cheap: a small fraction of its input period")
        elif now.fused_into:
            reasons.append("one input and one output connection, declared lightweight")
        elif now.cost.value == "slow":
            reasons.append("measured slow: too large a share of its input period to share a thread")
        elif was.cost is not now.cost:
            reasons.append("no longer measured cheap")
        else:
            reasons.append("no longer one input and one output connection")
    if was.live != now.live:
        reasons.append("its component is now live" if now.live else "its component is no longer live")
    if was.scheduled != now.scheduled:
        reasons.append("its ports are now connected" if now.scheduled else "a port side is unconnected")
    return f": {'; '.join(reasons)}" if reasons else ""


def _carried(c: ConnectionPlan) -> str:
    return "fused (no buffer)" if c.fused else f"capacity={c.capacity} ({c.connection_type.name})"
