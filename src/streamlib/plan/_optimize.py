"""``optimize(graph) -> GraphPlan`` and the incremental, caching ``Optimizer``.

Both analyze the graph per connected component with the same rules. ``optimize``
is the pure reference: the whole graph, every time. ``Optimizer`` is what the
runtime uses: an edit names the processors it touched, only their components are
looked at again, each by its structural checksum in the plan cache (a hit is
verified and mapped onto the component's ids), and the rest of the plan is reused
as it is. Both give equal plans for the same graph (a property the tests check).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ..graph import Graph
from ._analysis import ComponentParts, analyze_component
from ._cache import CachedPlan, PlanCache
from ._canonical import canonical_form, canonical_order, combine, component_checksum, label, with_cost
from ._diff import DiffScope
from ._topology import Topology, analyze, components
from ._types import POOL_WORKERS, ConnectionPlan, CostClass, GraphPlan, ProcessorPlan, ThreadGroupPlan

__all__ = ["Optimizer", "OptimizerStatistics", "optimize"]

log = logging.getLogger(__name__)

LEARNED_CLASSES = 4096
"""Measured classes remembered by structure (an LRU, like the plan cache)."""


def _topology(
    graph: Graph,
    members: Iterable[str],
    costs: Mapping[str, CostClass] | None = None,
    bursts: Mapping[str, Mapping[str, int]] | None = None,
) -> Topology:
    """The component as the optimizer sees it: a processor with measurements (a cost
    class, output bursts) has them folded into its structure checksum (so into the
    cache key and the verified canonical form)."""
    member_list = list(members)
    nodes = {pid: graph.nodes[pid] for pid in member_list}
    measured: dict[str, CostClass] = {}
    burst_of: dict[str, Mapping[str, int]] = {}
    for pid in member_list:
        cost = costs.get(pid, CostClass.UNMEASURED) if costs else CostClass.UNMEASURED
        ports = bursts.get(pid) if bursts else None
        if cost is CostClass.UNMEASURED and not ports:
            continue
        if cost is not CostClass.UNMEASURED:
            measured[pid] = cost
        if ports:
            burst_of[pid] = ports
        facts = cost.value + "".join(f"|{port}:{n}" for port, n in sorted((ports or {}).items()))
        node = nodes[pid]
        nodes[pid] = replace(node, structure_checksum=with_cost(node.structure_checksum, facts))
    return analyze(
        nodes,
        (c for pid in member_list for c in graph.out_connections(pid).values()),
        measured,
        burst_of,
    )


def _checksum(topology: Topology) -> tuple[int, dict[str, int]]:
    labels = label(topology.order, topology.nodes, topology.inputs, topology.outputs)
    return component_checksum(labels, topology.outputs), labels


def optimize(
    graph: Graph,
    observations: Mapping[str, CostClass] | None = None,
    *,
    bursts: Mapping[str, Mapping[str, int]] | None = None,
    fuse: bool = True,
) -> GraphPlan:
    """The plan for ``graph``, computed from scratch (no cache, no state).

    Args:
        graph: the graph to plan.
        observations: measured cost classes of running processors (processor id ->
            CostClass); absent or UNMEASURED: the declared rules alone.
        bursts: measured bursts (processor id -> output port -> the most frames it
            wrote in one pass): a queue holds one burst on top of its seed capacity.
        fuse: False gives the unoptimized baseline of ``StreamRuntime(optimize=False)``
            (which reads no measurements).
    """
    costs = observations if fuse else None
    bursts = bursts if fuse else None
    processors: dict[str, ProcessorPlan] = {}
    connections: dict[int, ConnectionPlan] = {}
    groups: dict[str, ThreadGroupPlan] = {}
    total = 0
    count = 0
    for members in components(graph.nodes, graph.connections.values()):
        topology = _topology(graph, members, costs, bursts)
        checksum, _ = _checksum(topology)
        p, c, g = analyze_component(topology, fuse=fuse)
        processors.update(p)
        connections.update(c)
        groups.update(g)
        total += checksum
        count += 1
    return GraphPlan(
        processors,
        connections,
        groups,
        checksum=combine(total, count, optimized=fuse),
        optimized=fuse,
        _owned=True,
    )


@dataclass(frozen=True, slots=True)
class OptimizerStatistics:
    cache_hits: int
    cache_misses: int
    cache_entries: int
    last_analysis_us: float
    components: int


@dataclass(slots=True)
class _Component:
    members: frozenset[str]
    connections: tuple[int, ...]
    groups: tuple[str, ...]
    checksum: int
    thread_count: int
    """Scheduled groups with a thread of their own."""
    pooled: int
    """Scheduled groups run by the pool."""


class Optimizer:
    """Keeps the plan of a graph up to date edit by edit, re-analyzing only the
    components an edit touched, through the plan cache.

    Synchronization: used only under the runtime's edit lock.
    """

    def __init__(self, *, fuse: bool = True, cache_size: int = 1024) -> None:
        self.fuse = fuse
        self.cache = PlanCache(cache_size)
        self._components: dict[int, _Component] = {}
        self._component_of: dict[str, int] = {}
        self._next = 0
        self._total = 0
        self._threads = 0
        self._pooled = 0
        self._processors: dict[str, ProcessorPlan] = {}
        self._connections: dict[int, ConnectionPlan] = {}
        self._groups: dict[str, ThreadGroupPlan] = {}
        self.plan = GraphPlan({}, {}, {}, checksum=combine(0, 0, optimized=fuse), optimized=fuse)
        self.last_analysis_us = 0.0
        self.last_scope = DiffScope(frozenset(), frozenset(), frozenset())
        """Where the last update could have changed the plan."""
        self.costs: dict[str, CostClass] = {}
        """Measured cost classes in force (processor id -> CHEAP or SLOW)."""
        self.bursts: dict[str, dict[str, int]] = {}
        """Measured bursts in force (processor id -> output port -> frames per pass)."""
        self.learning = False
        """Set by the runtime once it runs: measured classes are remembered by
        structure, and a processor in the same place of an identical component (a
        tenant's second pipeline, one that comes back) starts with them."""
        self._learned: OrderedDict[tuple[int, int], CostClass] = OrderedDict()
        """(component's declared structure checksum, processor label) -> class."""
        self._place: dict[str, tuple[int, int]] = {}
        """Processor id -> its key in ``_learned`` (while learning)."""

    def observe(
        self, costs: Mapping[str, CostClass], bursts: Mapping[str, Mapping[str, int]] | None = None
    ) -> set[str]:
        """Record measured cost classes and output bursts (a processor's entry in
        ``bursts`` replaces its previous one); returns the processors whose facts
        changed (pass them to ``update`` to re-plan their components). The baseline
        (``fuse=False``) reads no measurements."""
        if not self.fuse:
            return set()
        changed = set()
        for pid, cost in costs.items():
            place = self._place.get(pid)
            if place is not None:
                self._learned[place] = cost
                self._learned.move_to_end(place)
                while len(self._learned) > LEARNED_CLASSES:
                    self._learned.popitem(last=False)
            if self.costs.get(pid, CostClass.UNMEASURED) is not cost:
                changed.add(pid)
                if cost is CostClass.UNMEASURED:
                    del self.costs[pid]
                else:
                    self.costs[pid] = cost
        for pid, ports in (bursts or {}).items():
            wanted = {port: n for port, n in ports.items() if n > 1}
            if self.bursts.get(pid, {}) != wanted:
                changed.add(pid)
                if wanted:
                    self.bursts[pid] = wanted
                else:
                    del self.bursts[pid]
        return changed

    def update(self, graph: Graph, touched: Iterable[str]) -> GraphPlan:
        """The plan after an edit that touched ``touched`` (processors added, removed,
        or at either end of a connection made or removed)."""
        t0 = time.perf_counter_ns()
        touched = set(touched)
        # new dicts for the new plan (the old plan keeps its own): a C-level copy
        processors = self._processors.copy()
        connections = self._connections.copy()
        groups = self._groups.copy()
        region = {pid for pid in touched if pid in graph}
        scope_p: set[str] = set(touched)
        scope_c: set[int] = set()
        scope_g: set[str] = set()
        for key in {self._component_of[p] for p in touched if p in self._component_of}:
            old = self._components.pop(key)
            scope_p.update(old.members)
            scope_c.update(old.connections)
            scope_g.update(old.groups)
            for pid in old.members:
                del self._component_of[pid]
                del processors[pid]
                if pid in graph:
                    region.add(pid)
            for cid in old.connections:
                del connections[cid]
            for head in old.groups:
                del groups[head]
            self._total -= old.checksum
            self._threads -= old.thread_count
            self._pooled -= old.pooled
        for pid in touched:
            if pid not in graph:  # a removed processor's measurements go with it
                self.costs.pop(pid, None)
                self.bursts.pop(pid, None)
                self._place.pop(pid, None)
        for members in _split(graph, region):
            if self.learning:
                self._recall(graph, members)
            topology = _topology(graph, members, self.costs, self.bursts)
            p, c, g, checksum = self._plan_component(topology)
            processors.update(p)
            connections.update(c)
            groups.update(g)
            scope_p.update(p)
            scope_c.update(c)
            scope_g.update(g)
            threads = sum(1 for group in g.values() if group.scheduled and not group.pooled)
            pooled = sum(1 for group in g.values() if group.scheduled and group.pooled)
            key = self._next
            self._next += 1
            self._components[key] = _Component(
                frozenset(members), tuple(c), tuple(g), checksum, threads, pooled
            )
            for pid in members:
                self._component_of[pid] = key
            self._total += checksum
            self._threads += threads
            self._pooled += pooled
        self._processors, self._connections, self._groups = processors, connections, groups
        self.plan = GraphPlan(
            processors,
            connections,
            groups,
            checksum=combine(self._total, len(self._components), optimized=self.fuse),
            thread_count=self._threads + (POOL_WORKERS if self._pooled else 0),
            optimized=self.fuse,
            _owned=True,
        )
        self.last_scope = DiffScope(frozenset(scope_p), frozenset(scope_c), frozenset(scope_g))
        self.last_analysis_us = (time.perf_counter_ns() - t0) / 1e3
        return self.plan

    def start_learning(self, graph: Graph) -> None:
        """From now on (the runtime runs), remember measured classes by structure."""
        self.learning = True
        for members in components(graph.nodes, graph.connections.values()):
            self._recall(graph, members)

    def _recall(self, graph: Graph, members: list[str]) -> None:
        """Note where each processor sits in its component's declared structure, and
        give the ones not measured yet the class learned at that place."""
        checksum, labels = _checksum(_topology(graph, members))
        learned = self._learned
        for pid in members:
            place = (checksum, labels[pid])
            self._place[pid] = place
            if pid not in self.costs:
                cost = learned.get(place)
                if cost is not None and cost is not CostClass.UNMEASURED:
                    self.costs[pid] = cost

    def component_of(self, processor_id: str) -> object:
        """An opaque key of the processor's connected component (None if unknown)."""
        return self._component_of.get(processor_id)

    def _plan_component(
        self, topology: Topology
    ) -> tuple[dict[str, ProcessorPlan], dict[int, ConnectionPlan], dict[str, ThreadGroupPlan], int]:
        checksum, labels = _checksum(topology)
        entry = self.cache.get(checksum)
        positions = None
        if entry is not None:
            positions = canonical_order(
                topology.order, topology.nodes, topology.inputs, topology.outputs, labels
            )
            if canonical_form(positions, topology.nodes, topology.outputs) == entry.form:
                self.cache.hits += 1
                log.debug("plan cache hit for component %016x (%d processors)", checksum, len(positions))
                parts: ComponentParts = entry.apply(positions, topology)
                return (*parts, checksum)
            log.debug("plan cache: checksum %016x collides with another structure", checksum)
        self.cache.misses += 1
        log.debug("plan cache miss for component %016x (%d processors)", checksum, len(topology.order))
        parts = analyze_component(topology, fuse=self.fuse)
        if positions is None:
            positions = canonical_order(
                topology.order, topology.nodes, topology.inputs, topology.outputs, labels
            )
        form = canonical_form(positions, topology.nodes, topology.outputs)
        self.cache.put(checksum, CachedPlan.capture(parts, positions, form))
        return (*parts, checksum)

    def statistics(self) -> OptimizerStatistics:
        return OptimizerStatistics(
            cache_hits=self.cache.hits,
            cache_misses=self.cache.misses,
            cache_entries=len(self.cache),
            last_analysis_us=self.last_analysis_us,
            components=len(self._components),
        )


def _split(graph: Graph, region: set[str]) -> list[list[str]]:
    """The connected components of ``region`` (which holds whole components)."""
    result = []
    seen: set[str] = set()
    for start in sorted(region, key=lambda pid: int(pid.rsplit("_", 1)[1])):
        if start in seen:
            continue
        seen.add(start)
        stack = [start]
        members = []
        while stack:
            pid = stack.pop()
            members.append(pid)
            for c in graph.out_connections(pid).values():
                if c.sink not in seen:
                    seen.add(c.sink)
                    stack.append(c.sink)
            for c in graph.in_connections(pid).values():
                if c.source not in seen:
                    seen.add(c.source)
                    stack.append(c.source)
        result.append(members)
    return result
