"""The plan cache: component checksum -> the component's plan in canonical positions.

A hit is verified against the stored canonical form before it is used, then mapped
onto the component's actual processor and connection ids. Bounded LRU.

Synchronization: the cache is used only under the runtime's edit lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ._analysis import ComponentParts, pass_order
from ._canonical import CanonicalForm
from ._topology import Topology
from ._types import (
    ConnectionPlan,
    ConnectionType,
    OverflowPolicy,
    ProcessorPlan,
    ThreadGroupPlan,
    ThreadingStrategy,
    ThreadPriority,
)

__all__ = ["CacheStatistics", "CachedPlan", "PlanCache"]

EdgeKey = tuple[int, str, int, str]


@dataclass(frozen=True, slots=True)
class CachedPlan:
    """A component's plan with processors named by canonical position."""

    form: CanonicalForm
    processors: tuple[tuple[ThreadingStrategy, int, ThreadPriority, bool, bool], ...]
    """Per position: threading, head position, priority, scheduled, live."""
    connections: dict[EdgeKey, tuple[bool, int | None, ConnectionType, OverflowPolicy, bool]]
    """Per canonical connection: fused, capacity, type, policy, batched."""
    groups: tuple[tuple[int, frozenset[int], ThreadPriority, bool, bool, bool], ...]
    """Per group: head position, member positions, priority, scheduled, live, pooled."""

    @classmethod
    def capture(cls, parts: ComponentParts, positions: list[str], form: CanonicalForm) -> CachedPlan:
        processors, connections, groups = parts
        index = {pid: i for i, pid in enumerate(positions)}
        return cls(
            form=form,
            processors=tuple(
                (p.threading, index[p.head], p.priority, p.scheduled, p.live)
                for p in (processors[pid] for pid in positions)
            ),
            connections={
                _edge_key(c.source, c.sink, index): (
                    c.fused,
                    c.capacity,
                    c.connection_type,
                    c.policy,
                    c.batched,
                )
                for c in connections.values()
            },
            groups=tuple(
                (
                    index[g.head],
                    frozenset(index[m] for m in g.members),
                    g.priority,
                    g.scheduled,
                    g.live,
                    g.pooled,
                )
                for g in groups.values()
            ),
        )

    def apply(self, positions: list[str], topology: Topology) -> ComponentParts:
        """This plan, on the component whose canonical positions are ``positions``."""
        index = {pid: i for i, pid in enumerate(positions)}
        processors: dict[str, ProcessorPlan] = {}
        for pid, (threading, head, priority, scheduled, live) in zip(positions, self.processors, strict=True):
            processors[pid] = ProcessorPlan(
                processor_id=pid,
                processor_type=topology.nodes[pid].type_name,
                threading=threading,
                fused_into=None if positions[head] == pid else positions[head],
                priority=priority,
                scheduled=scheduled,
                live=live,
                cost=topology.cost(pid),
            )
        connections: dict[int, ConnectionPlan] = {}
        for cid, c in topology.connections.items():
            fused, capacity, kind, policy, batched = self.connections[
                (index[c.source], c.source_port, index[c.sink], c.sink_port)
            ]
            connections[cid] = ConnectionPlan(
                connection_id=cid,
                source=c.source_ref,
                sink=c.sink_ref,
                fused=fused,
                capacity=capacity,
                connection_type=kind,
                policy=policy,
                batched=batched,
            )
        groups: dict[str, ThreadGroupPlan] = {}
        for head, members, priority, scheduled, live, pooled in self.groups:
            h = positions[head]
            groups[h] = ThreadGroupPlan(
                head=h,
                members=pass_order(h, (positions[m] for m in members), topology),
                priority=priority,
                scheduled=scheduled,
                live=live,
                pooled=pooled,
            )
        return processors, connections, groups


def _edge_key(source: str, sink: str, index: dict[str, int]) -> EdgeKey:
    source_pid, source_port = source.rsplit(".", 1)
    sink_pid, sink_port = sink.rsplit(".", 1)
    return index[source_pid], source_port, index[sink_pid], sink_port


@dataclass(frozen=True, slots=True)
class CacheStatistics:
    hits: int
    misses: int
    entries: int
    max_entries: int


class PlanCache:
    """A bounded LRU of component plans by structural checksum."""

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError("a plan cache holds at least one entry")
        self.max_entries = max_entries
        self._entries: OrderedDict[int, CachedPlan] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, checksum: int) -> CachedPlan | None:
        entry = self._entries.get(checksum)
        if entry is not None:
            self._entries.move_to_end(checksum)
        return entry

    def put(self, checksum: int, entry: CachedPlan) -> None:
        self._entries[checksum] = entry
        self._entries.move_to_end(checksum)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def statistics(self) -> CacheStatistics:
        return CacheStatistics(self.hits, self.misses, len(self._entries), self.max_entries)
