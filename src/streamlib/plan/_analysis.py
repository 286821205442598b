"""The analysis of one component: fusion, priorities, capacities, thread groups."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from ._capacity import CAPACITY, baseline_capacity, classify
from ._fusion import assign_heads
from ._priority import role_priority
from ._topology import Topology
from ._types import (
    ConnectionPlan,
    CostClass,
    OverflowPolicy,
    ProcessorPlan,
    ThreadGroupPlan,
    ThreadingStrategy,
    ThreadPriority,
)

__all__ = ["analyze_component", "pass_order", "poolable"]

ComponentParts = tuple[dict[str, ProcessorPlan], dict[int, ConnectionPlan], dict[str, ThreadGroupPlan]]


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


def pass_order(head: str, members: Iterable[str], topology: Topology) -> tuple[str, ...]:
    """A group's members in pass order: the head, then its fused processors in
    topological order (each takes its one input from inside the group), ties
    broken by processor id."""
    member_set = set(members)
    children: dict[str, list[str]] = {}
    for pid in member_set:
        if pid != head:
            children.setdefault(topology.inputs[pid][0].source, []).append(pid)
    ordered = [head]
    ready = [(_order(c), c) for c in children.get(head, ())]
    heapq.heapify(ready)
    while ready:
        _, pid = heapq.heappop(ready)
        ordered.append(pid)
        for child in children.get(pid, ()):
            heapq.heappush(ready, (_order(child), child))
    return tuple(ordered)


def poolable(topology: Topology, head: str, members: Iterable[str]) -> bool:
    """A group the shared pool runs (issue #9): its head is a source paced by the
    runtime's clock (not a device callback), and every member was measured cheap, so
    one tick's work is small and never blocks. Measured only while running: a graph
    as built is never pooled."""
    node = topology.nodes[head]
    return (
        node.clock_driven
        and not topology.inputs[head]
        and all(topology.cost(pid) is CostClass.CHEAP for pid in members)
    )


def analyze_component(topology: Topology, *, fuse: bool) -> ComponentParts:
    """The plan of one connected component (the rules of API.md)."""
    live = any(node.live for node in topology.nodes.values())
    head = assign_heads(topology, fuse=fuse)
    priority = {
        pid: role_priority(topology, pid, live=live) if fuse else ThreadPriority.NORMAL
        for pid in topology.order
    }
    policy = OverflowPolicy.DROP_OLDEST if live else OverflowPolicy.BLOCK

    members: dict[str, list[str]] = {}
    for pid in topology.order:
        members.setdefault(head[pid], []).append(pid)
    processors: dict[str, ProcessorPlan] = {}
    groups: dict[str, ThreadGroupPlan] = {}
    for h, group in members.items():
        scheduled = topology.schedulable(h)
        pooled = fuse and live and scheduled and poolable(topology, h, group)
        groups[h] = ThreadGroupPlan(
            head=h,
            members=pass_order(h, group, topology),
            priority=priority[h],
            scheduled=scheduled,
            live=live,
            pooled=pooled,
        )
        own = ThreadingStrategy.POOLED if pooled else ThreadingStrategy.DEDICATED
        for pid in group:
            processors[pid] = ProcessorPlan(
                processor_id=pid,
                processor_type=topology.nodes[pid].type_name,
                threading=own if pid == h else ThreadingStrategy.FUSED,
                fused_into=None if pid == h else h,
                priority=priority[pid],
                scheduled=scheduled,
                live=live,
                cost=topology.cost(pid),
            )

    connections: dict[int, ConnectionPlan] = {}
    for cid, c in topology.connections.items():
        fused = head[c.sink] != c.sink  # a fused processor's one input comes from its group
        kind = classify(priority[head[c.source]], priority[head[c.sink]])
        if fused:
            capacity = None
        elif fuse:  # the seed's slack, on top of the most one pass of its producer wrote
            capacity = CAPACITY[kind] + topology.burst(c.source, c.source_port) - 1
        else:
            capacity = baseline_capacity(c.frame_type)
        connections[cid] = ConnectionPlan(
            connection_id=cid,
            source=c.source_ref,
            sink=c.sink_ref,
            fused=fused,
            capacity=capacity,
            connection_type=kind,
            policy=policy,
            batched=fuse and not fused and not live,
        )
    return processors, connections, groups
