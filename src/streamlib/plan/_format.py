"""``str(plan)``: the seed's "Graph optimization complete:" block, in this package's names."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._types import GraphPlan

__all__ = ["format_plan"]


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


def format_plan(plan: GraphPlan) -> str:
    lines = ["Graph optimization complete:"]
    for pid in sorted(plan.processors, key=_order):
        p = plan.processors[pid]
        where = f" (into {p.fused_into})" if p.fused_into else ""
        held = "" if p.scheduled else " [not scheduled: a port side is unconnected]"
        lines.append(f"  - {p.processor_type} ({pid}): {p.priority.name}, {p.threading.name}{where}{held}")
    if plan.connections:
        lines.append("  - Connections:")
        for cid in sorted(plan.connections):
            c = plan.connections[cid]
            how = "fused (no buffer)" if c.fused else f"capacity={c.capacity} ({c.connection_type.name})"
            lines.append(f"    - {c.source} -> {c.sink}: {how}")
    if not plan.optimized:
        lines.append("  (optimize=False: one thread per processor, the unoptimized baseline)")
    return "\n".join(lines)
