"""The plan's value types: immutable, comparable, printable."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

__all__ = [
    "POOL_WORKERS",
    "CostClass",
    "ConnectionPlan",
    "ComponentPlan",
    "ConnectionType",
    "GraphPlan",
    "OverflowPolicy",
    "ProcessorPlan",
    "ThreadGroupPlan",
    "ThreadPriority",
    "ThreadingStrategy",
]


class ThreadingStrategy(enum.Enum):
    """How a processor is run."""

    DEDICATED = "dedicated"
    """Heads its own thread group."""
    FUSED = "fused"
    """Runs inline on the thread of the group it is fused into: no queue, no hop."""
    POOLED = "pooled"
    """Heads a group run by the runtime's shared pool of workers, earliest deadline
    first: a clock-driven group whose every member was measured cheap."""


class CostClass(enum.Enum):
    """What the runtime measured of a processor's ``process()`` cost, relative to
    the period of the frames it takes (see ``streamlib.plan.classify_cost``)."""

    UNMEASURED = "unmeasured"
    """No measurement yet (a graph as built, a non-live component): declared rules only."""
    CHEAP = "cheap"
    """A small fraction of its input's period: fused like a lightweight processor."""
    SLOW = "slow"
    """A large share of its input's period, or blocking: never fused."""


class ThreadPriority(enum.Enum):
    """Scheduling class of a processor's role (and of a thread: its head's)."""

    REAL_TIME = "real_time"
    HIGH = "high"
    NORMAL = "normal"


class ConnectionType(enum.Enum):
    """A connection classified by the priorities of the threads at its two ends."""

    REAL_TIME_TO_REAL_TIME = "rt_rt"
    REAL_TIME_TO_NORMAL = "rt_normal"
    NORMAL_TO_REAL_TIME = "normal_rt"
    NORMAL_TO_NORMAL = "normal_normal"


class OverflowPolicy(enum.Enum):
    """What a write does when a queue is full."""

    DROP_OLDEST = "drop_oldest"
    """Live components: never block; drop (and count) the oldest frame."""
    BLOCK = "block"
    """Non-live components: wait for room, so nothing is lost."""


class ProcessorPlan(NamedTuple):
    """How one processor runs. (Plan entries are named tuples: immutable, compared by
    value, and cheap to make, which matters when a re-plan makes many.)"""

    processor_id: str
    processor_type: str
    threading: ThreadingStrategy
    fused_into: str | None
    """The head of the thread group the processor runs in, or None when it is the head."""
    priority: ThreadPriority
    """The priority of the processor's role (its thread runs at its head's priority)."""
    scheduled: bool
    """False while the service-mode rule holds the processor back."""
    live: bool
    """True when the processor's component is live."""
    cost: CostClass = CostClass.UNMEASURED
    """The measured cost class the plan was made with (UNMEASURED: declared rules)."""

    @property
    def head(self) -> str:
        return self.fused_into or self.processor_id


class ConnectionPlan(NamedTuple):
    """How one connection is carried."""

    connection_id: int
    source: str
    """``"processor_0.audio"``."""
    sink: str
    fused: bool
    """True: no queue, the consumer runs inline in the producer's pass."""
    capacity: int | None
    """Queue capacity in frames; None when fused."""
    connection_type: ConnectionType
    policy: OverflowPolicy
    batched: bool = False
    """Hand frames over per batch (a full queue, or the producer's end of pass)
    instead of waking the consumer per frame: chosen for queues of non-live
    components, where only throughput counts."""


class ThreadGroupPlan(NamedTuple):
    """A head processor and the processors fused into it, in pass order."""

    head: str
    members: tuple[str, ...]
    """Head first, then fused processors in topological order."""
    priority: ThreadPriority
    scheduled: bool
    live: bool
    pooled: bool = False
    """Run by the shared worker pool instead of a thread of its own."""


@dataclass(frozen=True, slots=True)
class ComponentPlan:
    """The plan of one connected component (the unit the optimizer analyzes and
    caches)."""

    processors: Mapping[str, ProcessorPlan]
    connections: Mapping[int, ConnectionPlan]
    groups: Mapping[str, ThreadGroupPlan]
    checksum: int
    """The component's structural checksum (independent of ids and order)."""

    @property
    def thread_count(self) -> int:
        return count_threads(self.groups.values())


POOL_WORKERS = max(1, os.cpu_count() or 1)
"""Workers of the shared pool: about one per core."""


def count_threads(groups: Iterable[ThreadGroupPlan]) -> int:
    """OS threads for these groups: one per scheduled group of its own, plus the
    pool's workers once if any scheduled group is pooled."""
    own = pooled = 0
    for g in groups:
        if g.scheduled:
            if g.pooled:
                pooled += 1
            else:
                own += 1
    return own + (POOL_WORKERS if pooled else 0)


class GraphPlan:
    """The strategy in force: per processor, per connection, per thread group.

    Immutable: its mappings are read-only views of dicts nobody changes after the
    plan is made. ``str(plan)`` is the seed's "Graph optimization complete:" block.

    Attributes:
        processors: processor id -> ProcessorPlan.
        connections: connection id -> ConnectionPlan.
        groups: head processor id -> ThreadGroupPlan.
        checksum: the graph's structural checksum: combines its components'
            checksums (an order-independent multiset hash); never depends on ids.
        thread_count: OS threads the plan runs: one per scheduled thread group of its
            own, plus the shared pool's workers once if any group is pooled.
        optimized: False for the unoptimized baseline (``optimize=False``).
    """

    __slots__ = ("processors", "connections", "groups", "checksum", "thread_count", "optimized")

    processors: Mapping[str, ProcessorPlan]
    connections: Mapping[int, ConnectionPlan]
    groups: Mapping[str, ThreadGroupPlan]
    checksum: int
    thread_count: int
    optimized: bool

    def __init__(
        self,
        processors: Mapping[str, ProcessorPlan],
        connections: Mapping[int, ConnectionPlan],
        groups: Mapping[str, ThreadGroupPlan],
        *,
        checksum: int,
        thread_count: int | None = None,
        optimized: bool = True,
        _owned: bool = False,
    ) -> None:
        # _owned: the caller hands over dicts it will never touch again (no copy)
        def view(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
            return MappingProxyType(mapping if _owned and type(mapping) is dict else dict(mapping))

        setter = object.__setattr__
        setter(self, "processors", view(processors))
        setter(self, "connections", view(connections))
        setter(self, "groups", view(groups))
        setter(self, "checksum", checksum)
        if thread_count is None:
            thread_count = count_threads(groups.values())
        setter(self, "thread_count", thread_count)
        setter(self, "optimized", optimized)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"GraphPlan is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"GraphPlan is immutable (cannot delete {name!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GraphPlan):
            return NotImplemented
        return (
            self.checksum == other.checksum
            and self.optimized == other.optimized
            and dict(self.processors) == dict(other.processors)
            and dict(self.connections) == dict(other.connections)
            and dict(self.groups) == dict(other.groups)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<GraphPlan {len(self.processors)} processors, {len(self.connections)} connections, "
            f"{self.thread_count} threads, checksum {self.checksum:016x}>"
        )

    def __str__(self) -> str:
        from ._format import format_plan

        return format_plan(self)


EMPTY_PLAN = GraphPlan({}, {}, {}, checksum=0, thread_count=0)

for _cls in (ThreadingStrategy, ThreadPriority, ConnectionType, CostClass, GraphPlan):
    _cls.__module__ = "streamlib"
