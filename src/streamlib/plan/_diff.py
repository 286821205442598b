"""``diff(old, new)``: what a re-plan changes, so only that is touched."""

from __future__ import annotations

from dataclasses import dataclass

from ._types import GraphPlan

__all__ = ["DiffScope", "PlanDiff", "diff"]


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """The thread groups and connections whose plan changed between two plans.

    A group "changed" when its members, their order, its priority or whether it is
    scheduled differ; a connection when its kind (fused or queued), capacity or
    overflow policy differ. Everything not named here keeps running untouched.
    """

    old: GraphPlan
    new: GraphPlan
    groups_added: tuple[str, ...]
    groups_removed: tuple[str, ...]
    groups_changed: tuple[str, ...]
    connections_added: tuple[int, ...]
    connections_removed: tuple[int, ...]
    connections_changed: tuple[int, ...]
    processors_added: tuple[str, ...]
    processors_removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (
            self.groups_added
            or self.groups_removed
            or self.groups_changed
            or self.connections_added
            or self.connections_removed
            or self.connections_changed
            or self.processors_added
            or self.processors_removed
        )


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


@dataclass(frozen=True, slots=True)
class DiffScope:
    """Where two plans may differ (what an edit's changed components hold, before and
    after): a diff looks only there, so it costs what the edit touched, not the
    size of the graph."""

    processors: frozenset[str]
    connections: frozenset[int]
    groups: frozenset[str]


def diff(old: GraphPlan, new: GraphPlan, scope: DiffScope | None = None) -> PlanDiff:
    """What changed from ``old`` to ``new``; only within ``scope`` when given (the
    caller vouches that nothing outside it changed)."""
    og, ng = old.groups, new.groups
    oc, nc = old.connections, new.connections
    op, np_ = old.processors, new.processors
    heads = set(og) | set(ng) if scope is None else scope.groups
    cids = set(oc) | set(nc) if scope is None else scope.connections
    pids = set(op) | set(np_) if scope is None else scope.processors
    return PlanDiff(
        old=old,
        new=new,
        groups_added=tuple(sorted((h for h in heads if h in ng and h not in og), key=_order)),
        groups_removed=tuple(sorted((h for h in heads if h in og and h not in ng), key=_order)),
        groups_changed=tuple(
            sorted((h for h in heads if h in og and h in ng and og[h] != ng[h]), key=_order)
        ),
        connections_added=tuple(sorted(c for c in cids if c in nc and c not in oc)),
        connections_removed=tuple(sorted(c for c in cids if c in oc and c not in nc)),
        connections_changed=tuple(sorted(c for c in cids if c in oc and c in nc and oc[c] != nc[c])),
        processors_added=tuple(sorted((p for p in pids if p in np_ and p not in op), key=_order)),
        processors_removed=tuple(sorted((p for p in pids if p in op and p not in np_), key=_order)),
    )
