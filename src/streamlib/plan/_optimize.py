"""``optimize(graph) -> GraphPlan``: a pure function, computed per component.

No threads, no clock, no I/O: the same graph always gives the same plan, so every
rule is testable with plain asserts and property tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..graph import Graph
from ._capacity import CAPACITY, baseline_capacity, classify
from ._checksum import combine, component_checksum
from ._fusion import assign_heads
from ._priority import role_priority
from ._topology import Topology, analyze, components
from ._types import (
    ConnectionPlan,
    GraphPlan,
    OverflowPolicy,
    ProcessorPlan,
    ThreadGroupPlan,
    ThreadingStrategy,
    ThreadPriority,
)

__all__ = ["optimize"]


def optimize(graph: Graph, observations: Mapping[str, Any] | None = None, *, fuse: bool = True) -> GraphPlan:
    """The plan for ``graph``.

    Args:
        graph: the graph to plan.
        observations: measured facts about running processors (reserved for cost-aware
            rules; the rules that use them apply only once measurements exist).
        fuse: False gives the unoptimized baseline of ``StreamRuntime(optimize=False)``:
            a dedicated NORMAL thread per processor, per-frame-type queue capacities.
    """
    del observations  # no rule reads measurements yet
    nodes = graph.nodes
    all_connections = list(graph.connections.values())
    processors: dict[str, ProcessorPlan] = {}
    connections: dict[int, ConnectionPlan] = {}
    groups: dict[str, ThreadGroupPlan] = {}
    checksums = []
    for members in components(nodes, all_connections):
        member_set = set(members)
        topology = analyze(
            {pid: nodes[pid] for pid in members},
            (c for c in all_connections if c.source in member_set),
        )
        checksums.append(component_checksum(members, topology.nodes, topology.inputs, topology.outputs))
        _plan_component(topology, fuse, processors, connections, groups)
    return GraphPlan(
        processors=processors,
        connections=connections,
        groups=groups,
        checksum=combine(checksums, optimized=fuse),
        component_checksums=tuple(sorted(checksums)),
        optimized=fuse,
    )


def _plan_component(
    topology: Topology,
    fuse: bool,
    processors: dict[str, ProcessorPlan],
    connections: dict[int, ConnectionPlan],
    groups: dict[str, ThreadGroupPlan],
) -> None:
    live = any(node.live for node in topology.nodes.values())
    head = assign_heads(topology, fuse=fuse)
    priority = {
        pid: role_priority(topology, pid, live=live) if fuse else ThreadPriority.NORMAL
        for pid in topology.order
    }
    policy = OverflowPolicy.DROP_OLDEST if live else OverflowPolicy.BLOCK

    members: dict[str, list[str]] = {}
    for pid in topology.order:  # topological, so each group lists its members in pass order
        members.setdefault(head[pid], []).append(pid)
    for h, group in members.items():
        scheduled = topology.schedulable(h)
        groups[h] = ThreadGroupPlan(
            head=h, members=tuple(group), priority=priority[h], scheduled=scheduled, live=live
        )
        for pid in group:
            processors[pid] = ProcessorPlan(
                processor_id=pid,
                processor_type=topology.nodes[pid].type_name,
                threading=ThreadingStrategy.DEDICATED if pid == h else ThreadingStrategy.FUSED,
                fused_into=None if pid == h else h,
                priority=priority[pid],
                scheduled=scheduled,
                live=live,
            )

    for cid, c in topology.connections.items():
        fused = head[c.sink] != c.sink  # a fused processor's one input comes from its group
        kind = classify(priority[head[c.source]], priority[head[c.sink]])
        if fused:
            capacity = None
        elif fuse:
            capacity = CAPACITY[kind]
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
