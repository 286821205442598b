"""The plan rules of API.md ("GraphPlan", "Rules"), one table row per situation.

Every graph here is built on a ``StreamRuntime`` that is never started: ``rt.plan``
is recomputed on every edit, so the plan of a graph as built is what the rules
alone decide (no measurements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest

from streamlib import (
    AudioFrame,
    ConnectionType,
    Input,
    Output,
    Processor,
    ProcessorConfig,
    ProcessorHandle,
    StreamRuntime,
    ThreadingStrategy,
    ThreadPriority,
)
from streamlib.plan import OverflowPolicy
from streamlib.testing import CollectingSink, PassThrough, Scale, ScriptedSource, Worker

DEDICATED = ThreadingStrategy.DEDICATED
FUSED = ThreadingStrategy.FUSED
REAL_TIME = ThreadPriority.REAL_TIME
NORMAL = ThreadPriority.NORMAL
RT_RT = ConnectionType.REAL_TIME_TO_REAL_TIME
RT_N = ConnectionType.REAL_TIME_TO_NORMAL
N_RT = ConnectionType.NORMAL_TO_REAL_TIME
N_N = ConnectionType.NORMAL_TO_NORMAL
CAPACITY = {RT_RT: 3, RT_N: 6, N_RT: 4, N_N: 12}


# --- processors the testing package does not have -------------------------------------


@dataclass(frozen=True)
class LiveConfig(ProcessorConfig):
    live: bool = False


class _Inert(Processor):
    Config = LiveConfig

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    def process(self) -> None:
        return None


class LightMerge(_Inert):
    """Two inputs, one output, declared lightweight."""

    lightweight = True
    in_a = Input(AudioFrame)
    in_b = Input(AudioFrame)
    out = Output(AudioFrame)


class LightSplit(_Inert):
    """One input, two outputs, declared lightweight."""

    lightweight = True
    in_ = Input(AudioFrame)
    out_a = Output(AudioFrame)
    out_b = Output(AudioFrame)


class Relay(_Inert):
    """One input, one output, not lightweight; live when its config says so (a
    processor in the middle whose timing is set by an outside clock)."""

    in_ = Input(AudioFrame)
    out = Output(AudioFrame)


class TwoOutSource(_Inert):
    """A source that declares two outputs."""

    out_a = Output(AudioFrame)
    out_b = Output(AudioFrame)


class Portless(_Inert):
    """Declares no ports at all: the service-mode rule never holds it back."""


# --- building graphs from a table row --------------------------------------------------


def src(*, live: bool = False, kind: str = "audio") -> tuple[type[Processor], dict[str, Any]]:
    return ScriptedSource, {"live": live, "frame_kind": kind}


def sink(*, live: bool = False, kind: str = "audio") -> tuple[type[Processor], dict[str, Any]]:
    return CollectingSink, {"live": live, "frame_kind": kind}


def light(kind: str = "audio") -> tuple[type[Processor], dict[str, Any]]:
    return PassThrough, {"frame_kind": kind}


def worker(kind: str = "audio") -> tuple[type[Processor], dict[str, Any]]:
    return Worker, {"frame_kind": kind}


def of(cls: type[Processor], **fields: Any) -> tuple[type[Processor], dict[str, Any]]:
    return cls, fields


class Built(NamedTuple):
    rt: StreamRuntime
    handles: dict[str, ProcessorHandle]
    pid: dict[str, str]
    """Table name -> processor id."""
    cid: dict[str, int]
    """Edge string ("a.out>b.in") -> connection id."""

    @property
    def plan(self) -> Any:
        return self.rt.plan

    def proc(self, name: str) -> Any:
        return self.plan.processors[self.pid[name]]

    def conn(self, edge: str) -> Any:
        return self.plan.connections[self.cid[edge]]


def build(
    nodes: dict[str, tuple[type[Processor], dict[str, Any]]], edges: list[str], *, optimize: bool = True
) -> Built:
    """Add ``nodes`` in order and connect ``edges`` ("a.port>b.port") in order."""
    rt = StreamRuntime(optimize=optimize)
    handles = {name: rt.add_processor(cls, **fields) for name, (cls, fields) in nodes.items()}
    cid = {}
    for edge in edges:
        out_ref, in_ref = edge.split(">")
        a, a_port = out_ref.split(".")
        b, b_port = in_ref.split(".")
        cid[edge] = rt.connect(handles[a].output_port(a_port), handles[b].input_port(b_port))
    return Built(rt, handles, {name: h.id for name, h in handles.items()}, cid)


# Expected processor plans: (threading, priority, fused_into table name or None).
RT_DED = (DEDICATED, REAL_TIME, None)
N_DED = (DEDICATED, NORMAL, None)


def fused(head: str) -> tuple[ThreadingStrategy, ThreadPriority, str]:
    return (FUSED, NORMAL, head)


# Expected connection plans: (fused, capacity, connection_type).
def queue(kind: ConnectionType) -> tuple[bool, int, ConnectionType]:
    return (False, CAPACITY[kind], kind)


def inline(kind: ConnectionType) -> tuple[bool, None, ConnectionType]:
    """A fused connection: both ends on the head's thread, so its type is the head's
    priority at both ends."""
    return (True, None, kind)


class Case(NamedTuple):
    nodes: dict[str, tuple[type[Processor], dict[str, Any]]]
    edges: list[str]
    processors: dict[str, tuple[ThreadingStrategy, ThreadPriority, str | None]]
    connections: dict[str, tuple[bool, int | None, ConnectionType]]
    threads: int


CASES = {
    # --- roles and priorities: sources and sinks dedicated, REAL_TIME iff live component
    "file_source_to_file_sink": Case(
        {"s": src(), "k": sink()},
        ["s.out>k.in"],
        {"s": N_DED, "k": N_DED},
        {"s.out>k.in": queue(N_N)},
        threads=2,
    ),
    "live_source_to_file_sink": Case(
        {"s": src(live=True), "k": sink()},
        ["s.out>k.in"],
        {"s": RT_DED, "k": RT_DED},
        {"s.out>k.in": queue(RT_RT)},
        threads=2,
    ),
    "file_source_to_live_sink": Case(
        {"s": src(), "k": sink(live=True)},
        ["s.out>k.in"],
        {"s": RT_DED, "k": RT_DED},
        {"s.out>k.in": queue(RT_RT)},
        threads=2,
    ),
    "live_middle_makes_the_component_live": Case(
        {"s": src(), "m": of(Relay, live=True), "k": sink()},
        ["s.out>m.in_", "m.out>k.in"],
        {"s": RT_DED, "m": N_DED, "k": RT_DED},
        {"s.out>m.in_": queue(RT_N), "m.out>k.in": queue(N_RT)},
        threads=3,
    ),
    "non_live_worker_middle": Case(
        {"s": src(), "w": worker(), "k": sink()},
        ["s.out>w.in", "w.out>k.in"],
        {"s": N_DED, "w": N_DED, "k": N_DED},
        {"s.out>w.in": queue(N_N), "w.out>k.in": queue(N_N)},
        threads=3,
    ),
    "live_worker_middle_is_normal": Case(
        {"s": src(live=True), "w": worker(), "k": sink(live=True)},
        ["s.out>w.in", "w.out>k.in"],
        {"s": RT_DED, "w": N_DED, "k": RT_DED},
        {"s.out>w.in": queue(RT_N), "w.out>k.in": queue(N_RT)},
        threads=3,
    ),
    "two_live_sources_one_merge": Case(
        {"a": src(live=True), "b": src(), "m": of(LightMerge), "k": sink()},
        ["a.out>m.in_a", "b.out>m.in_b", "m.out>k.in"],
        # two input connections: dedicated although lightweight
        {"a": RT_DED, "b": RT_DED, "m": N_DED, "k": RT_DED},
        {"a.out>m.in_a": queue(RT_N), "b.out>m.in_b": queue(RT_N), "m.out>k.in": queue(N_RT)},
        threads=4,
    ),
    # --- fusion
    "fused_chain_transitive_live": Case(
        {"s": src(live=True), "p1": light(), "p2": light(), "p3": light(), "k": sink(live=True)},
        ["s.out>p1.in", "p1.out>p2.in", "p2.out>p3.in", "p3.out>k.in"],
        # fused_into is the head of the thread, not the direct upstream
        {"s": RT_DED, "p1": fused("s"), "p2": fused("s"), "p3": fused("s"), "k": RT_DED},
        {
            "s.out>p1.in": inline(RT_RT),
            "p1.out>p2.in": inline(RT_RT),
            "p2.out>p3.in": inline(RT_RT),
            # the producing thread is the real-time source's
            "p3.out>k.in": queue(RT_RT),
        },
        threads=2,
    ),
    "fused_chain_transitive_non_live": Case(
        {"s": src(), "p1": light(), "p2": light(), "k": sink()},
        ["s.out>p1.in", "p1.out>p2.in", "p2.out>k.in"],
        {"s": N_DED, "p1": fused("s"), "p2": fused("s"), "k": N_DED},
        {"s.out>p1.in": inline(N_N), "p1.out>p2.in": inline(N_N), "p2.out>k.in": queue(N_N)},
        threads=2,
    ),
    "fused_into_a_middle_head": Case(
        {"s": src(live=True), "w": worker(), "p1": light(), "p2": light(), "k": sink(live=True)},
        ["s.out>w.in", "w.out>p1.in", "p1.out>p2.in", "p2.out>k.in"],
        {"s": RT_DED, "w": N_DED, "p1": fused("w"), "p2": fused("w"), "k": RT_DED},
        {
            "s.out>w.in": queue(RT_N),
            "w.out>p1.in": inline(N_N),
            "p1.out>p2.in": inline(N_N),
            "p2.out>k.in": queue(N_RT),
        },
        threads=3,
    ),
    "several_children_of_one_head": Case(
        {
            "s": src(live=True),
            "p1": light(),
            "p2": light(),
            "p3": light(),
            "k1": sink(live=True),
            "k2": sink(live=True),
        },
        # one output feeding two inputs: the source has two output connections
        ["s.out>p1.in", "p1.out>p2.in", "p2.out>k1.in", "s.out>p3.in", "p3.out>k2.in"],
        {"s": RT_DED, "p1": fused("s"), "p2": fused("s"), "p3": fused("s"), "k1": RT_DED, "k2": RT_DED},
        {
            "s.out>p1.in": inline(RT_RT),
            "p1.out>p2.in": inline(RT_RT),
            "p2.out>k1.in": queue(RT_RT),
            "s.out>p3.in": inline(RT_RT),
            "p3.out>k2.in": queue(RT_RT),
        },
        threads=3,
    ),
    "diamond_children_fuse_merge_is_dedicated": Case(
        {
            "s": of(TwoOutSource, live=True),
            "p1": light(),
            "p2": light(),
            "m": of(LightMerge),
            "k": sink(live=True),
        },
        ["s.out_a>p1.in", "s.out_b>p2.in", "p1.out>m.in_a", "p2.out>m.in_b", "m.out>k.in"],
        {"s": RT_DED, "p1": fused("s"), "p2": fused("s"), "m": N_DED, "k": RT_DED},
        {
            "s.out_a>p1.in": inline(RT_RT),
            "s.out_b>p2.in": inline(RT_RT),
            "p1.out>m.in_a": queue(RT_N),
            "p2.out>m.in_b": queue(RT_N),
            "m.out>k.in": queue(N_RT),
        },
        threads=3,
    ),
    "lightweight_with_two_output_connections_one_port": Case(
        {"s": src(), "p": light(), "k1": sink(), "k2": sink()},
        ["s.out>p.in", "p.out>k1.in", "p.out>k2.in"],
        {"s": N_DED, "p": N_DED, "k1": N_DED, "k2": N_DED},
        {"s.out>p.in": queue(N_N), "p.out>k1.in": queue(N_N), "p.out>k2.in": queue(N_N)},
        threads=4,
    ),
    "lightweight_with_two_output_connections_two_ports": Case(
        {"s": src(live=True), "p": of(LightSplit), "k1": sink(), "k2": sink()},
        ["s.out>p.in_", "p.out_a>k1.in", "p.out_b>k2.in"],
        {"s": RT_DED, "p": N_DED, "k1": RT_DED, "k2": RT_DED},
        {"s.out>p.in_": queue(RT_N), "p.out_a>k1.in": queue(N_RT), "p.out_b>k2.in": queue(N_RT)},
        threads=4,
    ),
    "lightweight_split_with_one_output_connected_fuses": Case(
        {"s": src(live=True), "p": of(LightSplit), "k": sink()},
        ["s.out>p.in_", "p.out_b>k.in"],
        # roles count connections, not declared ports
        {"s": RT_DED, "p": fused("s"), "k": RT_DED},
        {"s.out>p.in_": inline(RT_RT), "p.out_b>k.in": queue(RT_RT)},
        threads=2,
    ),
    "lightweight_with_two_input_connections": Case(
        {"a": src(), "b": src(), "m": of(LightMerge), "k": sink()},
        ["a.out>m.in_a", "b.out>m.in_b", "m.out>k.in"],
        {"a": N_DED, "b": N_DED, "m": N_DED, "k": N_DED},
        {"a.out>m.in_a": queue(N_N), "b.out>m.in_b": queue(N_N), "m.out>k.in": queue(N_N)},
        threads=4,
    ),
    "lightweight_merge_with_one_input_connected_fuses": Case(
        {"a": src(), "m": of(LightMerge), "k": sink()},
        ["a.out>m.in_b", "m.out>k.in"],
        {"a": N_DED, "m": fused("a"), "k": N_DED},
        {"a.out>m.in_b": inline(N_N), "m.out>k.in": queue(N_N)},
        threads=2,
    ),
    "non_lightweight_one_in_one_out": Case(
        {"s": src(live=True), "w1": worker(), "w2": worker(), "k": sink(live=True)},
        ["s.out>w1.in", "w1.out>w2.in", "w2.out>k.in"],
        {"s": RT_DED, "w1": N_DED, "w2": N_DED, "k": RT_DED},
        {"s.out>w1.in": queue(RT_N), "w1.out>w2.in": queue(N_N), "w2.out>k.in": queue(N_RT)},
        threads=4,
    ),
    "scale_is_lightweight": Case(
        {"s": src(live=True), "x": of(Scale), "k": sink()},
        ["s.out>x.audio_in", "x.audio_out>k.in"],
        {"s": RT_DED, "x": fused("s"), "k": RT_DED},
        {"s.out>x.audio_in": inline(RT_RT), "x.audio_out>k.in": queue(RT_RT)},
        threads=2,
    ),
    "lightweight_with_no_output_connection_is_a_sink": Case(
        {"s": src(live=True), "p": light()},
        ["s.out>p.in"],
        # a sink by role: dedicated, REAL_TIME in a live component; but held back
        {"s": RT_DED, "p": RT_DED},
        {"s.out>p.in": queue(RT_RT)},
        threads=1,
    ),
    "video_pipeline_fuses_too": Case(
        {"s": src(live=True, kind="video"), "p": light("video"), "k": sink(live=True, kind="video")},
        ["s.out>p.in", "p.out>k.in"],
        {"s": RT_DED, "p": fused("s"), "k": RT_DED},
        {"s.out>p.in": inline(RT_RT), "p.out>k.in": queue(RT_RT)},
        threads=2,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_processor_plans(case: Case) -> None:
    g = build(case.nodes, case.edges)
    got = {
        name: (g.proc(name).threading, g.proc(name).priority, g.proc(name).fused_into)
        for name in case.processors
    }
    expected = {
        name: (threading, priority, None if head is None else g.pid[head])
        for name, (threading, priority, head) in case.processors.items()
    }
    assert got == expected
    assert set(g.plan.processors) == set(g.pid.values())


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_connection_plans(case: Case) -> None:
    g = build(case.nodes, case.edges)
    got = {
        edge: (g.conn(edge).fused, g.conn(edge).capacity, g.conn(edge).connection_type)
        for edge in case.connections
    }
    assert got == case.connections
    assert set(g.plan.connections) == set(g.cid.values())


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_thread_groups(case: Case) -> None:
    g = build(case.nodes, case.edges)
    plan = g.plan
    heads = {name for name, (threading, _, _) in case.processors.items() if threading is DEDICATED}
    assert set(plan.groups) == {g.pid[h] for h in heads}
    for head in heads:
        group = plan.groups[g.pid[head]]
        fused_children = {n for n, (_, _, into) in case.processors.items() if into == head}
        assert group.members[0] == g.pid[head]
        assert set(group.members[1:]) == {g.pid[n] for n in fused_children}
        assert group.priority is case.processors[head][1]
    assert plan.thread_count == case.threads


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fused_priority_is_its_role_and_runs_on_head_thread(case: Case) -> None:
    g = build(case.nodes, case.edges)
    for p in g.plan.processors.values():
        if p.threading is FUSED:
            assert p.priority is NORMAL
            assert g.plan.processors[p.fused_into].threading is DEDICATED
            assert p.processor_id in g.plan.groups[p.fused_into].members
            assert p.head == p.fused_into
        else:
            assert p.fused_into is None
            assert p.head == p.processor_id


# --- overflow policy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_live", "middle_live", "sink_live", "policy"),
    [
        (False, False, False, OverflowPolicy.BLOCK),
        (True, False, False, OverflowPolicy.DROP_OLDEST),
        (False, True, False, OverflowPolicy.DROP_OLDEST),
        (False, False, True, OverflowPolicy.DROP_OLDEST),
        (True, True, True, OverflowPolicy.DROP_OLDEST),
    ],
)
def test_overflow_policy_follows_liveness(
    source_live: bool, middle_live: bool, sink_live: bool, policy: OverflowPolicy
) -> None:
    g = build(
        {
            "s": src(live=source_live),
            "p": light(),
            "r": of(Relay, live=middle_live),
            "k": sink(live=sink_live),
        },
        ["s.out>p.in", "p.out>r.in_", "r.out>k.in"],
    )
    assert {c.policy for c in g.plan.connections.values()} == {policy}


def test_policy_switches_when_a_live_processor_joins() -> None:
    g = build({"a": src(), "m": of(LightMerge), "k": sink()}, ["a.out>m.in_a", "m.out>k.in"])
    assert {c.policy for c in g.plan.connections.values()} == {OverflowPolicy.BLOCK}
    live = g.rt.add_processor(ScriptedSource, live=True)
    g.rt.connect(live.output_port("out"), g.handles["m"].input_port("in_b"))
    assert {c.policy for c in g.plan.connections.values()} == {OverflowPolicy.DROP_OLDEST}
    assert g.proc("a").priority is REAL_TIME
    assert g.proc("k").priority is REAL_TIME


# --- service mode ------------------------------------------------------------------------


class ServiceCase(NamedTuple):
    nodes: dict[str, tuple[type[Processor], dict[str, Any]]]
    edges: list[str]
    scheduled: dict[str, bool]
    threads: int


SERVICE_CASES = {
    "lone_source_waits_for_an_output": ServiceCase({"s": src()}, [], {"s": False}, 0),
    "lone_live_source_waits_too": ServiceCase({"s": src(live=True)}, [], {"s": False}, 0),
    "lone_sink_waits_for_an_input": ServiceCase({"k": sink()}, [], {"k": False}, 0),
    "lone_middle_waits": ServiceCase({"p": light()}, [], {"p": False}, 0),
    "portless_processor_runs": ServiceCase({"x": of(Portless)}, [], {"x": True}, 1),
    "connected_pair_runs": ServiceCase({"s": src(), "k": sink()}, ["s.out>k.in"], {"s": True, "k": True}, 2),
    "middle_without_output_connection": ServiceCase(
        {"s": src(), "w": worker()}, ["s.out>w.in"], {"s": True, "w": False}, 1
    ),
    "middle_without_input_connection": ServiceCase(
        {"w": worker(), "k": sink()}, ["w.out>k.in"], {"w": False, "k": True}, 1
    ),
    "one_of_two_outputs_connected_is_enough": ServiceCase(
        {"s": of(TwoOutSource), "k": sink()}, ["s.out_b>k.in"], {"s": True, "k": True}, 2
    ),
    "one_of_two_inputs_connected_is_enough": ServiceCase(
        {"m": of(LightMerge), "k": sink(), "s": src()},
        ["s.out>m.in_a", "m.out>k.in"],
        {"s": True, "m": True, "k": True},
        2,  # m is fused into s
    ),
    "fused_chain_with_dangling_end": ServiceCase(
        {"s": src(live=True), "p1": light(), "p2": light()},
        ["s.out>p1.in", "p1.out>p2.in"],
        # p1 fused into s (one thread); p2 is a sink by role and declares an
        # unconnected output: its own group, not scheduled
        {"s": True, "p1": True, "p2": False},
        1,
    ),
    "two_unconnected_and_one_pair": ServiceCase(
        {"a": src(), "b": sink(), "s": src(), "k": sink()},
        ["s.out>k.in"],
        {"a": False, "b": False, "s": True, "k": True},
        2,
    ),
}


@pytest.mark.parametrize("case", SERVICE_CASES.values(), ids=SERVICE_CASES.keys())
def test_service_mode_rule(case: ServiceCase) -> None:
    g = build(case.nodes, case.edges)
    got = {name: g.proc(name).scheduled for name in case.scheduled}
    assert got == case.scheduled
    assert g.plan.thread_count == case.threads
    assert g.plan.thread_count == sum(1 for group in g.plan.groups.values() if group.scheduled)
    for group in g.plan.groups.values():
        assert group.scheduled == g.plan.processors[group.head].scheduled


def test_thread_count_counts_scheduled_groups_only() -> None:
    g = build(
        {"s": src(live=True), "p1": light(), "p2": light(), "w": worker()},
        ["s.out>p1.in", "p1.out>p2.in", "p2.out>w.in"],
    )
    # groups: s (with p1, p2 fused) and w (no output connection: held back)
    assert set(g.plan.groups) == {g.pid["s"], g.pid["w"]}
    assert g.plan.thread_count == 1


def test_service_mode_follows_edits() -> None:
    rt = StreamRuntime()
    s = rt.add_processor(ScriptedSource, live=True)
    assert rt.plan.thread_count == 0
    k = rt.add_processor(CollectingSink, live=True)
    assert not rt.plan.processors[s.id].scheduled
    assert not rt.plan.processors[k.id].scheduled
    cid = rt.connect(s.output_port("out"), k.input_port("in"))
    assert rt.plan.processors[s.id].scheduled
    assert rt.plan.processors[k.id].scheduled
    assert rt.plan.thread_count == 2
    rt.disconnect(cid)
    assert not rt.plan.processors[s.id].scheduled
    assert not rt.plan.processors[k.id].scheduled
    assert rt.plan.thread_count == 0
    rt.connect(s.output_port("out"), k.input_port("in"))
    rt.remove_processor(k)
    assert set(rt.plan.processors) == {s.id}
    assert not rt.plan.processors[s.id].scheduled
    assert rt.plan.thread_count == 0


# --- independent components --------------------------------------------------------------


def test_independent_components_get_independent_decisions() -> None:
    # interleaved ids: the components are told apart by connections, not by order
    g = build(
        {
            "live_s": src(live=True),
            "file_s": src(),
            "live_p": light(),
            "file_p": light(),
            "live_k": sink(),
            "file_k": sink(),
        },
        ["live_s.out>live_p.in", "file_s.out>file_p.in", "live_p.out>live_k.in", "file_p.out>file_k.in"],
    )
    assert (g.proc("live_s").priority, g.proc("live_k").priority) == (REAL_TIME, REAL_TIME)
    assert (g.proc("file_s").priority, g.proc("file_k").priority) == (NORMAL, NORMAL)
    assert g.proc("live_p").fused_into == g.pid["live_s"]
    assert g.proc("file_p").fused_into == g.pid["file_s"]
    live_q = g.conn("live_p.out>live_k.in")
    file_q = g.conn("file_p.out>file_k.in")
    assert (live_q.capacity, live_q.connection_type, live_q.policy) == (3, RT_RT, OverflowPolicy.DROP_OLDEST)
    assert (file_q.capacity, file_q.connection_type, file_q.policy) == (12, N_N, OverflowPolicy.BLOCK)
    assert g.conn("live_s.out>live_p.in").policy is OverflowPolicy.DROP_OLDEST
    assert g.conn("file_s.out>file_p.in").policy is OverflowPolicy.BLOCK
    assert g.plan.thread_count == 4


def test_an_unconnected_live_processor_does_not_make_others_live() -> None:
    g = build({"lonely": src(live=True), "s": src(), "k": sink()}, ["s.out>k.in"])
    assert g.proc("lonely").priority is REAL_TIME
    assert (g.proc("s").priority, g.proc("k").priority) == (NORMAL, NORMAL)
    assert g.conn("s.out>k.in").capacity == 12


# --- the seed's two topologies -----------------------------------------------------------


def camera_display() -> Built:
    return build(
        {"camera": src(live=True, kind="video"), "display": sink(live=True, kind="video")},
        ["camera.out>display.in"],
    )


def microphone_chain() -> Built:
    return build(
        {
            "microphone": src(live=True),
            "resampler": light(),
            "converter": light(),
            "rechunker": light(),
            "reverb": worker(),
            "speaker": sink(live=True),
        },
        [
            "microphone.out>resampler.in",
            "resampler.out>converter.in",
            "converter.out>rechunker.in",
            "rechunker.out>reverb.in",
            "reverb.out>speaker.in",
        ],
    )


def test_seed_camera_to_display() -> None:
    g = camera_display()
    assert g.plan.thread_count == 2
    for name in ("camera", "display"):
        assert (g.proc(name).threading, g.proc(name).priority) == (DEDICATED, REAL_TIME)
    c = g.conn("camera.out>display.in")
    assert (c.fused, c.capacity, c.connection_type) == (False, 3, RT_RT)


def test_seed_microphone_to_speaker() -> None:
    g = microphone_chain()
    plan = g.plan
    assert len(plan.processors) == 6
    assert plan.thread_count == 3
    assert [p.processor_id for p in plan.processors.values() if p.threading is FUSED] == [
        "processor_1",
        "processor_2",
        "processor_3",
    ]
    assert {p.fused_into for p in plan.processors.values() if p.threading is FUSED} == {"processor_0"}
    assert plan.groups["processor_0"].members == ("processor_0", "processor_1", "processor_2", "processor_3")
    queues = [(c.capacity, c.connection_type) for c in plan.connections.values() if not c.fused]
    assert sorted(queues, key=lambda q: q[0]) == [(4, N_RT), (6, RT_N)]
    assert g.conn("rechunker.out>reverb.in").capacity == 6
    assert g.conn("reverb.out>speaker.in").capacity == 4


MICROPHONE_PLAN = """\
Graph optimization complete:
  - ScriptedSource (processor_0): REAL_TIME, DEDICATED
  - PassThrough (processor_1): NORMAL, FUSED (into processor_0)
  - PassThrough (processor_2): NORMAL, FUSED (into processor_0)
  - PassThrough (processor_3): NORMAL, FUSED (into processor_0)
  - Worker (processor_4): NORMAL, DEDICATED
  - CollectingSink (processor_5): REAL_TIME, DEDICATED
  - Connections:
    - processor_0.out -> processor_1.in: fused (no buffer)
    - processor_1.out -> processor_2.in: fused (no buffer)
    - processor_2.out -> processor_3.in: fused (no buffer)
    - processor_3.out -> processor_4.in: capacity=6 (REAL_TIME_TO_NORMAL)
    - processor_4.out -> processor_5.in: capacity=4 (NORMAL_TO_REAL_TIME)"""

CAMERA_PLAN = """\
Graph optimization complete:
  - ScriptedSource (processor_0): REAL_TIME, DEDICATED
  - CollectingSink (processor_1): REAL_TIME, DEDICATED
  - Connections:
    - processor_0.out -> processor_1.in: capacity=3 (REAL_TIME_TO_REAL_TIME)"""


def test_str_plan_microphone() -> None:
    assert str(microphone_chain().plan) == MICROPHONE_PLAN


def test_str_plan_camera() -> None:
    assert str(camera_display().plan) == CAMERA_PLAN


# --- the unoptimized baseline ------------------------------------------------------------


@pytest.mark.parametrize(("kind", "capacity"), [("video", 3), ("audio", 32), ("data", 16)])
@pytest.mark.parametrize("live", [False, True], ids=["file", "live"])
def test_baseline_without_optimization(kind: str, capacity: int, live: bool) -> None:
    g = build(
        {
            "s": src(live=live, kind=kind),
            "p1": light(kind),
            "p2": light(kind),
            "w": worker(kind),
            "k": sink(live=live, kind=kind),
        },
        ["s.out>p1.in", "p1.out>p2.in", "p2.out>w.in", "w.out>k.in"],
        optimize=False,
    )
    plan = g.plan
    for p in plan.processors.values():
        assert (p.threading, p.priority, p.fused_into) == (DEDICATED, NORMAL, None)
    for c in plan.connections.values():
        assert (c.fused, c.capacity, c.connection_type) == (False, capacity, N_N)
    assert plan.thread_count == 5
    assert set(plan.groups) == set(plan.processors)


def test_baseline_mixed_frame_types() -> None:
    g = build(
        {
            "v": src(kind="video"),
            "vk": sink(kind="video"),
            "a": src(kind="audio"),
            "ak": sink(kind="audio"),
            "d": src(kind="data"),
            "dk": sink(kind="data"),
        },
        ["v.out>vk.in", "a.out>ak.in", "d.out>dk.in"],
        optimize=False,
    )
    got = {edge: g.conn(edge).capacity for edge in g.cid}
    assert got == {"v.out>vk.in": 3, "a.out>ak.in": 32, "d.out>dk.in": 16}


# --- plan values -------------------------------------------------------------------------


@pytest.mark.parametrize("topology", [camera_display, microphone_chain], ids=["camera", "microphone"])
def test_identical_builds_give_equal_plans(topology: Any) -> None:
    first, second = topology().plan, topology().plan
    assert first == second
    assert first.checksum == second.checksum
    assert isinstance(first.checksum, int)
    assert str(first) == str(second)


def test_different_graphs_give_different_plans() -> None:
    live = build({"s": src(live=True), "k": sink()}, ["s.out>k.in"]).plan
    file = build({"s": src(), "k": sink()}, ["s.out>k.in"]).plan
    assert live != file
    assert live.checksum != file.checksum


def test_optimized_and_baseline_plans_differ() -> None:
    nodes = {"s": src(), "p": light(), "k": sink()}
    edges = ["s.out>p.in", "p.out>k.in"]
    assert build(nodes, edges).plan != build(nodes, edges, optimize=False).plan


@pytest.mark.parametrize("mapping", ["processors", "connections", "groups"])
def test_plan_is_immutable(mapping: str) -> None:
    plan = microphone_chain().plan
    table = getattr(plan, mapping)
    key = next(iter(table))
    with pytest.raises(TypeError):
        table[key] = table[key]
    with pytest.raises(TypeError):
        del table[key]


def test_plan_entries_are_frozen() -> None:
    plan = microphone_chain().plan
    with pytest.raises(AttributeError):
        plan.processors["processor_1"].threading = DEDICATED  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan.connections[0].capacity = 99  # type: ignore[misc]


def test_a_plan_is_a_snapshot() -> None:
    g = microphone_chain()
    before = g.plan
    text = str(before)
    g.rt.add_processor(ScriptedSource)
    g.rt.disconnect(g.cid["reverb.out>speaker.in"])
    assert g.rt.plan is not before
    assert str(before) == text
    assert len(before.processors) == 6
    assert before.thread_count == 3
