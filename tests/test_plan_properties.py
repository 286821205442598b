"""Property tests of the plan over random DAGs (API.md, "GraphPlan" rules).

A graph is N processors (1..14), each of a random shape (0/1/2 inputs, 0/1/2 outputs),
lightweight or not, live or not, and random connections from lower to higher index
(so it is acyclic), skipping any whose input is already connected. Every expectation
is recomputed here from the graph alone, not from the optimizer's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from streamlib import (
    ConnectionType,
    DataFrame,
    Input,
    Output,
    Processor,
    ProcessorConfig,
    StreamRuntime,
    ThreadingStrategy,
    ThreadPriority,
)
from streamlib.plan import OverflowPolicy

DEDICATED = ThreadingStrategy.DEDICATED
FUSED = ThreadingStrategy.FUSED
REAL_TIME = ThreadPriority.REAL_TIME
NORMAL = ThreadPriority.NORMAL

# API.md: RT->RT 3 frames, RT->Normal 6, Normal->RT 4, Normal->Normal 12.
EXPECTED_TYPE = {
    (True, True): ConnectionType.REAL_TIME_TO_REAL_TIME,
    (True, False): ConnectionType.REAL_TIME_TO_NORMAL,
    (False, True): ConnectionType.NORMAL_TO_REAL_TIME,
    (False, False): ConnectionType.NORMAL_TO_NORMAL,
}
EXPECTED_CAPACITY = {
    ConnectionType.REAL_TIME_TO_REAL_TIME: 3,
    ConnectionType.REAL_TIME_TO_NORMAL: 6,
    ConnectionType.NORMAL_TO_REAL_TIME: 4,
    ConnectionType.NORMAL_TO_NORMAL: 12,
}
BASELINE_DATA_CAPACITY = 16

FAST = settings(max_examples=150, deadline=None)


# --- processor shapes --------------------------------------------------------------------


@dataclass(frozen=True)
class NodeConfig(ProcessorConfig):
    live: bool = False


class _Node(Processor):
    Config = NodeConfig
    n_in: ClassVar[int] = 0
    n_out: ClassVar[int] = 0

    def ports(self) -> dict[str, Any]:
        ports: dict[str, Any] = {f"in{i}": Input(DataFrame) for i in range(self.n_in)}
        ports.update({f"out{i}": Output(DataFrame) for i in range(self.n_out)})
        return ports

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    def process(self) -> None:
        return None


def _shape(n_in: int, n_out: int, lightweight: bool) -> type[_Node]:
    name = f"Node{n_in}x{n_out}{'Light' if lightweight else 'Heavy'}"
    cls = type(name, (_Node,), {"n_in": n_in, "n_out": n_out, "lightweight": lightweight})
    cls.__module__ = __name__
    cls.__qualname__ = name
    return cls


# Source-capable (0 inputs), middle (1-2 in, 1-2 out) and sink-capable (0 outputs)
# shapes, each lightweight or not; plus the portless 0x0 shape.
SHAPES: tuple[type[_Node], ...] = tuple(
    _shape(n_in, n_out, lightweight)
    for n_in in range(3)
    for n_out in range(3)
    for lightweight in (False, True)
)
SOURCE_SHAPES = [c for c in SHAPES if c.n_in == 0 and c.n_out > 0]
MIDDLE_SHAPES = [c for c in SHAPES if c.n_in > 0 and c.n_out > 0]
SINK_SHAPES = [c for c in SHAPES if c.n_in > 0 and c.n_out == 0]
PORTLESS_SHAPES = [c for c in SHAPES if c.n_in == 0 and c.n_out == 0]


class Edge(NamedTuple):
    source: int
    out_port: str
    sink: int
    in_port: str


class GraphSpec(NamedTuple):
    shapes: tuple[type[_Node], ...]
    live: tuple[bool, ...]
    edges: tuple[Edge, ...]


@st.composite
def graphs(draw: Any) -> GraphSpec:
    n = draw(st.integers(1, 14))
    # source-capable, middle or sink-capable shapes, middles (where fusion happens) the
    # most often; the portless shape rarely
    shape = st.sampled_from(SOURCE_SHAPES + 2 * MIDDLE_SHAPES + SINK_SHAPES + PORTLESS_SHAPES)
    shapes = tuple(draw(st.lists(shape, min_size=n, max_size=n)))
    # mostly not live, so that non-live components of several processors are common
    live = tuple(draw(st.lists(st.integers(0, 5).map(lambda v: v == 0), min_size=n, max_size=n)))
    # Random connections from a lower to a higher index (acyclic), skipping any whose
    # input is already connected. Drawn per processor so graphs are dense enough to
    # fuse; `back` counts upstream candidates from the nearest, often 1 (a chain).
    edges: list[Edge] = []
    taken: set[tuple[int, str]] = set()
    for hi in range(1, n):
        upstream = [lo for lo in range(hi) if shapes[lo].n_out > 0]
        if shapes[hi].n_in == 0 or not upstream:
            continue
        for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3]))):
            back = draw(st.one_of(st.just(1), st.integers(1, len(upstream))))
            lo = upstream[-back]
            out_port = f"out{draw(st.integers(0, shapes[lo].n_out - 1))}"
            in_port = f"in{draw(st.integers(0, shapes[hi].n_in - 1))}"
            if (hi, in_port) in taken:
                continue
            taken.add((hi, in_port))
            edges.append(Edge(lo, out_port, hi, in_port))
    return GraphSpec(shapes, live, tuple(edges))


class Built(NamedTuple):
    rt: StreamRuntime
    pid: list[str]
    """Spec index -> processor id."""
    cid: dict[int, Edge]
    """Connection id -> edge."""


def build(
    spec: GraphSpec,
    *,
    edge_order: tuple[Edge, ...] | None = None,
    add_order: list[int] | None = None,
    optimize: bool = True,
) -> Built:
    rt = StreamRuntime(optimize=optimize)
    handles: dict[int, Any] = {}
    for i in add_order if add_order is not None else range(len(spec.shapes)):
        handles[i] = rt.add_processor(spec.shapes[i], live=spec.live[i])
    cid = {}
    for e in edge_order if edge_order is not None else spec.edges:
        cid[rt.connect(handles[e.source].output_port(e.out_port), handles[e.sink].input_port(e.in_port))] = e
    return Built(rt, [handles[i].id for i in range(len(spec.shapes))], cid)


def live_components(spec: GraphSpec) -> list[bool]:
    """Per processor index: whether its connected component has a live processor."""
    parent = list(range(len(spec.shapes)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in spec.edges:
        parent[find(e.source)] = find(e.sink)
    live_roots = {find(i) for i, live in enumerate(spec.live) if live}
    return [find(i) in live_roots for i in range(len(spec.shapes))]


# --- the invariants ------------------------------------------------------------------------


def check_plan(spec: GraphSpec, built: Built) -> None:
    plan = built.rt.plan
    n = len(spec.shapes)
    pid = built.pid
    index = {p: i for i, p in enumerate(pid)}
    ins: list[list[int]] = [[] for _ in range(n)]
    outs: list[list[int]] = [[] for _ in range(n)]
    for c, e in built.cid.items():
        outs[e.source].append(c)
        ins[e.sink].append(c)
    comp_live = live_components(spec)

    assert set(plan.processors) == set(pid)
    assert set(plan.connections) == set(built.cid)

    # every processor in exactly one thread group, the head first
    seen: dict[str, str] = {}
    for head, group in plan.groups.items():
        assert group.head == head
        assert group.members[0] == head
        for m in group.members:
            assert m not in seen, f"{m} in groups {seen.get(m)} and {head}"
            seen[m] = head
    assert set(seen) == set(pid)
    for p in pid:
        pp = plan.processors[p]
        assert pp.head == (pp.fused_into or p)
        assert pp.head == seen[p]
        assert pp.processor_type == spec.shapes[index[p]].__name__

    # fusion: exactly the lightweight processors with one input and one output connection,
    # into the head of their upstream processor's thread
    for i, p in enumerate(pid):
        pp = plan.processors[p]
        fusable = spec.shapes[i].lightweight and len(ins[i]) == 1 and len(outs[i]) == 1
        if fusable:
            upstream = pid[built.cid[ins[i][0]].source]
            assert pp.threading is FUSED, f"{p} should be fused"
            assert pp.fused_into == plan.processors[upstream].head
            assert plan.processors[pp.fused_into].threading is DEDICATED
            assert pp.priority is NORMAL  # its own role's: a middle processor
        else:
            assert pp.threading is DEDICATED, f"{p} should be dedicated"
            assert pp.fused_into is None
            is_endpoint = not ins[i] or not outs[i]
            expected = REAL_TIME if is_endpoint and comp_live[i] else NORMAL
            assert pp.priority is expected, f"{p}: {pp.priority} != {expected}"
        assert pp.live == comp_live[i]

    # group order: head, then fused processors with each one after its upstream
    for group in plan.groups.values():
        assert plan.groups[group.head].priority is plan.processors[group.head].priority
        for k, m in enumerate(group.members[1:], start=1):
            (c,) = ins[index[m]]
            assert pid[built.cid[c].source] in group.members[:k]

    # connections: fused iff its sink is fused; type from the two ends' thread priorities
    for c, e in built.cid.items():
        cp = plan.connections[c]
        assert (cp.source, cp.sink) == (f"{pid[e.source]}.{e.out_port}", f"{pid[e.sink]}.{e.in_port}")
        src_head = plan.processors[pid[e.source]].head
        sink_head = plan.processors[pid[e.sink]].head
        kind = EXPECTED_TYPE[
            (
                plan.processors[src_head].priority is REAL_TIME,
                plan.processors[sink_head].priority is REAL_TIME,
            )
        ]
        assert cp.connection_type is kind
        sink_fused = plan.processors[pid[e.sink]].threading is FUSED
        assert cp.fused == sink_fused
        if cp.fused:
            assert cp.capacity is None
            assert src_head == sink_head
        else:
            assert cp.capacity == EXPECTED_CAPACITY[kind]
        live = comp_live[e.source]
        assert cp.policy is (OverflowPolicy.DROP_OLDEST if live else OverflowPolicy.BLOCK)

    # service mode: held back while a declared side has no connection
    for i, p in enumerate(pid):
        pp = plan.processors[p]
        shape = spec.shapes[i]
        held = (shape.n_out > 0 and not outs[i]) or (shape.n_in > 0 and not ins[i])
        if held:
            assert not pp.scheduled, f"{p} should be held back"
        if pp.threading is DEDICATED:
            assert pp.scheduled == (not held)
        else:  # runs inline in its head's pass
            assert pp.scheduled == plan.processors[pp.fused_into].scheduled
    for group in plan.groups.values():
        assert group.scheduled == plan.processors[group.head].scheduled
    assert plan.thread_count == sum(1 for g in plan.groups.values() if g.scheduled)


@FAST
@given(graphs())
def test_plan_invariants(spec: GraphSpec) -> None:
    check_plan(spec, build(spec))


@FAST
@given(graphs())
def test_baseline_invariants(spec: GraphSpec) -> None:
    built = build(spec, optimize=False)
    plan = built.rt.plan
    assert set(plan.groups) == set(built.pid)
    for p in plan.processors.values():
        assert (p.threading, p.priority, p.fused_into) == (DEDICATED, NORMAL, None)
    for c in plan.connections.values():
        assert (c.fused, c.capacity) == (False, BASELINE_DATA_CAPACITY)
    assert plan.thread_count == sum(1 for p in plan.processors.values() if p.scheduled)


# --- independence from edit order ---------------------------------------------------------


def _by_ports(plan: Any) -> dict[tuple[str, str], Any]:
    return {(c.source, c.sink): c._replace(connection_id=-1) for c in plan.connections.values()}


@FAST
@given(graphs().flatmap(lambda g: st.tuples(st.just(g), st.permutations(g.edges))))
def test_plan_does_not_depend_on_connection_order(spec_and_order: tuple[GraphSpec, list[Edge]]) -> None:
    spec, order = spec_and_order
    first = build(spec).rt.plan
    second_built = build(spec, edge_order=tuple(order))
    second = second_built.rt.plan
    check_plan(spec, second_built)
    assert dict(first.processors) == dict(second.processors)
    assert dict(first.groups) == dict(second.groups)
    assert _by_ports(first) == _by_ports(second)
    assert first.thread_count == second.thread_count
    assert first.checksum == second.checksum


@FAST
@given(graphs().flatmap(lambda g: st.tuples(st.just(g), st.permutations(range(len(g.shapes))))))
def test_plan_does_not_depend_on_processor_ids(spec_and_order: tuple[GraphSpec, list[int]]) -> None:
    """API.md: checksums never depend on processor ids or insertion order; the plan
    is the same up to renaming (a group's fused members compared as a set, since
    siblings may be listed in either valid order)."""
    spec, add_order = spec_and_order
    a = build(spec)
    b = build(spec, add_order=list(add_order))
    check_plan(spec, b)
    pa, pb = a.rt.plan, b.rt.plan
    assert pa.checksum == pb.checksum
    rename = dict(zip(a.pid, b.pid, strict=True))

    def ref(r: str) -> str:
        p, port = r.split(".")
        return f"{rename[p]}.{port}"

    for p, q in rename.items():
        x, y = pa.processors[p], pb.processors[q]
        assert (x.threading, x.priority, x.scheduled, x.live) == (
            y.threading,
            y.priority,
            y.scheduled,
            y.live,
        )
        assert (rename[x.fused_into] if x.fused_into else None) == y.fused_into
    assert {rename[h] for h in pa.groups} == set(pb.groups)
    for h, g in pa.groups.items():
        other = pb.groups[rename[h]]
        assert {rename[m] for m in g.members} == set(other.members)
        assert (g.priority, g.scheduled) == (other.priority, other.scheduled)
    conns_b = {(c.source, c.sink): c for c in pb.connections.values()}
    for c in pa.connections.values():
        d = conns_b[(ref(c.source), ref(c.sink))]
        assert (c.fused, c.capacity, c.connection_type, c.policy) == (
            d.fused,
            d.capacity,
            d.connection_type,
            d.policy,
        )
