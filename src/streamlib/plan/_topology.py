"""Graph topology the decisions share: components, roles, topological order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..graph import Connection, ProcessorNode
from ._types import CostClass

__all__ = ["Topology", "analyze"]


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


@dataclass(frozen=True, slots=True)
class Topology:
    """Facts about one set of processors (a component, or a whole graph)."""

    nodes: Mapping[str, ProcessorNode]
    connections: Mapping[int, Connection]
    inputs: Mapping[str, tuple[Connection, ...]]
    """Input connections per processor."""
    outputs: Mapping[str, tuple[Connection, ...]]
    """Output connections per processor."""
    order: tuple[str, ...]
    """Topological order, ties broken by processor id."""
    costs: Mapping[str, CostClass] = field(default_factory=lambda: MappingProxyType({}))
    """Measured cost classes (absent: UNMEASURED)."""
    bursts: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: MappingProxyType({}))
    """Measured bursts: processor id -> output port -> most frames written in one pass."""

    def burst(self, pid: str, port: str) -> int:
        return self.bursts.get(pid, {}).get(port, 1)

    def cost(self, pid: str) -> CostClass:
        return self.costs.get(pid, CostClass.UNMEASURED)

    def is_source(self, pid: str) -> bool:
        return not self.inputs[pid]

    def is_sink(self, pid: str) -> bool:
        return not self.outputs[pid]

    def schedulable(self, pid: str) -> bool:
        """The service-mode rule: a processor that declares outputs waits for one to be
        connected, and one that declares inputs waits for one to be connected."""
        node = self.nodes[pid]
        if node.outputs and not self.outputs[pid]:
            return False
        return not (node.inputs and not self.inputs[pid])


def analyze(
    nodes: Mapping[str, ProcessorNode],
    connections: Iterable[Connection],
    costs: Mapping[str, CostClass] | None = None,
    bursts: Mapping[str, Mapping[str, int]] | None = None,
) -> Topology:
    ins: dict[str, list[Connection]] = {pid: [] for pid in nodes}
    outs: dict[str, list[Connection]] = {pid: [] for pid in nodes}
    conns = {}
    for c in connections:
        conns[c.id] = c
        outs[c.source].append(c)
        ins[c.sink].append(c)
    indegree = {pid: len({c.source for c in ins[pid]}) for pid in nodes}
    ready = [(_order(pid), pid) for pid, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, pid = heapq.heappop(ready)
        order.append(pid)
        for succ in {c.sink for c in outs[pid]}:
            indegree[succ] -= 1
            if indegree[succ] == 0:
                heapq.heappush(ready, (_order(succ), succ))
    if len(order) != len(nodes):  # the graph rejects cycles at connect(); never here
        raise AssertionError("cycle in a graph that should be acyclic")
    return Topology(
        nodes=nodes,
        connections=conns,
        inputs={pid: tuple(sorted(v, key=lambda c: c.id)) for pid, v in ins.items()},
        outputs={pid: tuple(sorted(v, key=lambda c: c.id)) for pid, v in outs.items()},
        order=tuple(order),
        costs=MappingProxyType({pid: c for pid, c in costs.items() if pid in nodes} if costs else {}),
        bursts=MappingProxyType({pid: b for pid, b in bursts.items() if pid in nodes} if bursts else {}),
    )


def components(nodes: Mapping[str, ProcessorNode], connections: Iterable[Connection]) -> list[list[str]]:
    """Connected components (ignoring direction), each sorted by id, ordered by their
    smallest id."""
    parent = {pid: pid for pid in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in connections:
        a, b = find(c.source), find(c.sink)
        if a != b:
            parent[a] = b
    groups: dict[str, list[str]] = {}
    for pid in nodes:
        groups.setdefault(find(pid), []).append(pid)
    result = [sorted(g, key=_order) for g in groups.values()]
    result.sort(key=lambda g: _order(g[0]))
    return result
