"""``diff(old, new)``: what a re-plan changes, so only that is touched."""

from __future__ import annotations

from dataclasses import dataclass

from ._types import GraphPlan

__all__ = ["PlanDiff", "diff"]


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


def diff(old: GraphPlan, new: GraphPlan) -> PlanDiff:
    og, ng = old.groups, new.groups
    oc, nc = old.connections, new.connections
    return PlanDiff(
        old=old,
        new=new,
        groups_added=tuple(sorted(set(ng) - set(og), key=_order)),
        groups_removed=tuple(sorted(set(og) - set(ng), key=_order)),
        groups_changed=tuple(sorted((h for h in set(og) & set(ng) if og[h] != ng[h]), key=_order)),
        connections_added=tuple(sorted(set(nc) - set(oc))),
        connections_removed=tuple(sorted(set(oc) - set(nc))),
        connections_changed=tuple(sorted(c for c in set(oc) & set(nc) if oc[c] != nc[c])),
        processors_added=tuple(sorted(set(new.processors) - set(old.processors), key=_order)),
        processors_removed=tuple(sorted(set(old.processors) - set(new.processors), key=_order)),
    )
