"""The checks of the graph-building API (API.md, "Building and running a graph").

Every failed edit must raise the documented exception, name what it is about, and
leave the graph exactly as it was: the same plan, the same connections, and the next
valid edit gets the ids it would have got had the failed call never been made.
"""

import pickle
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import streamlib
from streamlib import (
    AudioFrame,
    ConfigError,
    DataFrame,
    GraphCycleError,
    InvalidConnectionError,
    PortNotFoundError,
    PortTypeMismatchError,
    Processor,
    ProcessorConfig,
    ProcessorError,
    ProcessorHandle,
    ProcessorNotFoundError,
    RuntimeStateError,
    StreamError,
    StreamRuntime,
    VideoFrame,
)
from streamlib.testing import CollectingSink, PassThrough, ScriptedSource, ScriptedSourceConfig, Worker

Handles = dict[str, ProcessorHandle]
Builder = Callable[[StreamRuntime], Handles]

FRAME_TYPES = {"audio": AudioFrame, "video": VideoFrame, "data": DataFrame}


# --- graph builders (deterministic, so a twin runtime can replay them) -------------------


def build_empty(rt: StreamRuntime) -> Handles:
    return {}


def build_source(rt: StreamRuntime) -> Handles:
    return {"src": rt.add_processor(ScriptedSource)}


def build_pair(rt: StreamRuntime) -> Handles:
    """processor_0 (ScriptedSource, audio) and processor_1 (CollectingSink, audio),
    not connected."""
    return {"src": rt.add_processor(ScriptedSource), "sink": rt.add_processor(CollectingSink)}


def build_connected_pair(rt: StreamRuntime) -> Handles:
    h = build_pair(rt)
    rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
    return h


def build_chain(rt: StreamRuntime) -> Handles:
    """processor_0 (source) -> processor_1 (PassThrough) -> processor_2 (sink)."""
    h = {
        "src": rt.add_processor(ScriptedSource),
        "mid": rt.add_processor(PassThrough),
        "sink": rt.add_processor(CollectingSink),
    }
    rt.connect(h["src"].output_port("out"), h["mid"].input_port("in"))
    rt.connect(h["mid"].output_port("out"), h["sink"].input_port("in"))
    return h


def build_two_sources_one_sink(rt: StreamRuntime) -> Handles:
    """processor_0 -> processor_2, and processor_1 (a second source) unconnected."""
    h = {
        "src0": rt.add_processor(ScriptedSource),
        "src1": rt.add_processor(ScriptedSource),
        "sink": rt.add_processor(CollectingSink),
    }
    rt.connect(h["src0"].output_port("out"), h["sink"].input_port("in"))
    return h


def build_passthrough(rt: StreamRuntime) -> Handles:
    return {"p": rt.add_processor(PassThrough)}


def build_chain_with_removed_source(rt: StreamRuntime) -> Handles:
    """processor_0 (source, removed), processor_1 (PassThrough) -> processor_2 (sink)."""
    h = build_chain(rt)
    rt.remove_processor(h["src"])
    return h


def build_chain_with_removed_sink(rt: StreamRuntime) -> Handles:
    h = build_chain(rt)
    rt.remove_processor(h["sink"])
    return h


def make_ring_builder(n: int) -> Builder:
    """n PassThroughs in a line (processor_0 -> ... -> processor_{n-1}); the last one
    also feeds a CollectingSink (processor_n), which is not on the cycle that
    connecting processor_{n-1}.out -> processor_0.in would close."""

    def build(rt: StreamRuntime) -> Handles:
        h = {f"p{i}": rt.add_processor(PassThrough) for i in range(n)}
        for i in range(n - 1):
            rt.connect(h[f"p{i}"].output_port("out"), h[f"p{i + 1}"].input_port("in"))
        h["sink"] = rt.add_processor(CollectingSink)
        rt.connect(h[f"p{n - 1}"].output_port("out"), h["sink"].input_port("in"))
        return h

    return build


# --- the atomicity check -----------------------------------------------------------------


def probe(rt: StreamRuntime) -> tuple[str, str, int]:
    """A valid edit: add a source and a sink and connect them; the ids it got."""
    src = rt.add_processor(ScriptedSource)
    sink = rt.add_processor(CollectingSink)
    cid = rt.connect(src.output_port("out"), sink.input_port("in"))
    return src.id, sink.id, cid


def expect_atomic_failure(
    build: Builder,
    fail: Callable[[StreamRuntime, Handles], object],
    exc_type: type[BaseException],
    *fragments: str,
) -> BaseException:
    """Build a graph, make ``fail`` raise ``exc_type`` whose message contains every
    fragment, and check the graph is exactly as it was (compared with a twin runtime
    that never saw the failed call)."""
    rt = StreamRuntime()
    handles = build(rt)
    plan_before = rt.plan
    text_before = str(rt.plan)
    connections_before = len(rt.plan.connections)
    repr_before = repr(rt)

    with pytest.raises(exc_type) as info:
        fail(rt, handles)

    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in the message {message!r}"
    assert type(info.value).__module__ == "streamlib" or not isinstance(info.value, StreamError)

    assert rt.plan == plan_before
    assert str(rt.plan) == text_before
    assert len(rt.plan.connections) == connections_before
    assert repr(rt) == repr_before

    twin = StreamRuntime()
    build(twin)
    expected_ids = probe(twin)
    assert probe(rt) == expected_ids, "the failed call consumed an id"
    assert rt.plan == twin.plan
    rt.stop()
    twin.stop()
    return info.value


# --- ports: handle.output_port / handle.input_port ---------------------------------------


@pytest.mark.parametrize(
    ("build", "key", "direction", "name"),
    [
        pytest.param(build_source, "src", "output", "nope", id="source-output-undeclared"),
        pytest.param(build_source, "src", "input", "in", id="source-has-no-inputs"),
        pytest.param(build_pair, "sink", "input", "nope", id="sink-input-undeclared"),
        pytest.param(build_pair, "sink", "output", "out", id="sink-has-no-outputs"),
        pytest.param(build_passthrough, "p", "output", "audio_out", id="middle-output-undeclared"),
        pytest.param(build_passthrough, "p", "input", "", id="empty-name"),
    ],
)
def test_undeclared_port_name_raises_port_not_found(
    build: Builder, key: str, direction: str, name: str
) -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return getattr(h[key], f"{direction}_port")(name)

    pid = f"processor_{0 if key in ('src', 'p') else 1}"
    error = expect_atomic_failure(build, fail, PortNotFoundError, pid, repr(name))
    assert isinstance(error, LookupError)


@pytest.mark.parametrize(
    ("direction", "name"),
    [("output", "in"), ("input", "out")],
    ids=["output_port-of-an-input", "input_port-of-an-output"],
)
def test_port_name_declared_in_the_other_direction_raises_port_not_found(direction: str, name: str) -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return getattr(h["p"], f"{direction}_port")(name)

    error = expect_atomic_failure(build_passthrough, fail, PortNotFoundError, "processor_0", repr(name))
    # The message says what the name is on the other side.
    other = "input" if direction == "output" else "output"
    assert other in str(error)


@pytest.mark.parametrize("asked", [VideoFrame, DataFrame, streamlib.Frame], ids=lambda t: t.__name__)
@pytest.mark.parametrize("direction", ["output", "input"])
def test_wrong_frame_type_for_a_port_raises_port_type_mismatch(direction: str, asked: type) -> None:
    key, port = ("src", "out") if direction == "output" else ("sink", "in")
    pid = "processor_0" if direction == "output" else "processor_1"

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return getattr(h[key], f"{direction}_port")(port, frame_type=asked)

    error = expect_atomic_failure(
        build_pair, fail, PortTypeMismatchError, f"{pid}.{port}", "AudioFrame", asked.__name__
    )
    assert isinstance(error, TypeError)


@pytest.mark.parametrize("kind", ["audio", "video", "data"])
def test_matching_frame_type_is_accepted(kind: str) -> None:
    frame_type = FRAME_TYPES[kind]
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, frame_kind=kind)
        sink = rt.add_processor(CollectingSink, frame_kind=kind)
        out_ref = src.output_port("out", frame_type=frame_type)
        in_ref = sink.input_port("in", frame_type)
        cid = rt.connect(out_ref, in_ref)
        assert rt.plan.connections[cid].source == "processor_0.out"
        assert rt.plan.connections[cid].sink == "processor_1.in"


# --- connect() -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out_kind", "in_kind"),
    [("audio", "video"), ("video", "audio"), ("audio", "data"), ("data", "video")],
)
def test_connect_different_frame_types_raises_port_type_mismatch(out_kind: str, in_kind: str) -> None:
    def build(rt: StreamRuntime) -> Handles:
        return {
            "src": rt.add_processor(ScriptedSource, frame_kind=out_kind),
            "sink": rt.add_processor(CollectingSink, frame_kind=in_kind),
        }

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))

    out_name = FRAME_TYPES[out_kind].__name__
    in_name = FRAME_TYPES[in_kind].__name__
    error = expect_atomic_failure(
        build,
        fail,
        PortTypeMismatchError,
        "processor_0.out",
        "processor_1.in",
        out_name,
        in_name,
    )
    assert isinstance(error, TypeError)
    # The documented shape: "cannot connect processor_0.out (AudioFrame) to processor_1.in (VideoFrame)".
    assert f"processor_0.out ({out_name})" in str(error)
    assert f"processor_1.in ({in_name})" in str(error)


def test_connect_to_an_input_already_connected_raises_invalid_connection() -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["src1"].output_port("out"), h["sink"].input_port("in"))

    error = expect_atomic_failure(
        build_two_sources_one_sink,
        fail,
        InvalidConnectionError,
        "processor_1.out",
        "processor_2.in",
    )
    # It also says what already feeds the input.
    assert "processor_0.out" in str(error)
    assert not isinstance(error, GraphCycleError)


def test_connecting_the_same_pair_twice_raises_invalid_connection() -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))

    expect_atomic_failure(
        build_connected_pair, fail, InvalidConnectionError, "processor_0.out", "processor_1.in"
    )


def test_connect_with_output_and_input_swapped_raises_invalid_connection() -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["sink"].input_port("in"), h["src"].output_port("out"))

    expect_atomic_failure(build_pair, fail, InvalidConnectionError, "processor_0.out", "processor_1.in")


@pytest.mark.parametrize("both", ["outputs", "inputs"])
def test_connect_two_outputs_or_two_inputs_raises_invalid_connection(both: str) -> None:
    def build(rt: StreamRuntime) -> Handles:
        return {"a": rt.add_processor(PassThrough), "b": rt.add_processor(PassThrough)}

    def fail(rt: StreamRuntime, h: Handles) -> object:
        if both == "outputs":
            return rt.connect(h["a"].output_port("out"), h["b"].output_port("out"))
        return rt.connect(h["a"].input_port("in"), h["b"].input_port("in"))

    expect_atomic_failure(build, fail, InvalidConnectionError)


@pytest.mark.parametrize("cls", [PassThrough, Worker], ids=lambda c: c.__name__)
def test_self_loop_raises_invalid_connection(cls: type[Processor]) -> None:
    def build(rt: StreamRuntime) -> Handles:
        return {"p": rt.add_processor(cls)}

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["p"].output_port("out"), h["p"].input_port("in"))

    expect_atomic_failure(build, fail, InvalidConnectionError, "processor_0.out", "processor_0.in")


@pytest.mark.parametrize("n", [2, 3, 5])
def test_connection_closing_a_cycle_raises_graph_cycle_error_naming_the_cycle(n: int) -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h[f"p{n - 1}"].output_port("out"), h["p0"].input_port("in"))

    error = expect_atomic_failure(
        make_ring_builder(n),
        fail,
        GraphCycleError,
        f"processor_{n - 1}.out",
        "processor_0.in",
        *(f"processor_{i}" for i in range(n)),
    )
    assert isinstance(error, InvalidConnectionError)
    # The sink hanging off the last PassThrough is not on the cycle.
    assert f"processor_{n}" not in str(error)


def test_cycle_through_the_middle_of_a_chain_names_only_the_cycle() -> None:
    """processor_0 -> processor_1 is a separate pipeline; processor_2 -> processor_3 ->
    processor_4 is a line whose head input is free: closing it names only 2, 3 and 4."""

    def build(rt: StreamRuntime) -> Handles:
        h = {"src": rt.add_processor(ScriptedSource), "sink0": rt.add_processor(CollectingSink)}
        rt.connect(h["src"].output_port("out"), h["sink0"].input_port("in"))
        h.update({f"p{i}": rt.add_processor(Worker) for i in (2, 3, 4)})
        rt.connect(h["p2"].output_port("out"), h["p3"].input_port("in"))
        rt.connect(h["p3"].output_port("out"), h["p4"].input_port("in"))
        return h

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(h["p4"].output_port("out"), h["p2"].input_port("in"))

    error = expect_atomic_failure(build, fail, GraphCycleError, "processor_2", "processor_3", "processor_4")
    assert "processor_0" not in str(error)
    assert "processor_1" not in str(error)


@pytest.mark.parametrize(
    ("build", "which"),
    [
        pytest.param(build_chain_with_removed_source, "output", id="removed-source-output"),
        pytest.param(build_chain_with_removed_sink, "input", id="removed-sink-input"),
    ],
)
def test_connect_a_port_of_a_removed_processor_raises_processor_not_found(build: Builder, which: str) -> None:
    # Port references taken from a handle of a removed processor.
    def fail(rt: StreamRuntime, h: Handles) -> object:
        if which == "output":
            return rt.connect(h["src"].output_port("out"), h["mid"].input_port("in"))
        return rt.connect(h["mid"].output_port("out"), h["sink"].input_port("in"))

    removed = "processor_0" if which == "output" else "processor_2"
    error = expect_atomic_failure(build, fail, ProcessorNotFoundError, removed)
    assert isinstance(error, LookupError)


def test_connect_a_port_reference_taken_before_the_removal_raises_processor_not_found() -> None:
    refs: dict[str, Any] = {}

    def build(rt: StreamRuntime) -> Handles:
        h = build_pair(rt)
        refs["out"] = h["src"].output_port("out")
        rt.remove_processor(h["src"])
        return h

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(refs["out"], h["sink"].input_port("in"))

    expect_atomic_failure(build, fail, ProcessorNotFoundError, "processor_0")


def test_remove_processor_with_a_stale_handle_raises_processor_not_found() -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.remove_processor(h["src"])

    error = expect_atomic_failure(
        build_chain_with_removed_source, fail, ProcessorNotFoundError, "processor_0"
    )
    assert isinstance(error, LookupError)


@pytest.mark.parametrize(
    ("build", "bad_id"),
    [
        pytest.param(build_empty, 0, id="empty-graph"),
        pytest.param(build_connected_pair, 99, id="never-issued"),
        pytest.param(build_connected_pair, -1, id="negative"),
        pytest.param(build_connected_pair, "0", id="a-str"),
    ],
)
def test_disconnect_an_unknown_connection_id_raises_processor_not_found(
    build: Builder, bad_id: object
) -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.disconnect(bad_id)  # type: ignore[arg-type]

    expect_atomic_failure(build, fail, ProcessorNotFoundError, repr(bad_id))


def test_disconnect_an_already_disconnected_id_raises_processor_not_found() -> None:
    ids: dict[str, int] = {}

    def build(rt: StreamRuntime) -> Handles:
        h = build_pair(rt)
        ids["c"] = rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
        rt.disconnect(ids["c"])
        return h

    error = expect_atomic_failure(build, lambda rt, h: rt.disconnect(ids["c"]), ProcessorNotFoundError)
    assert str(ids["c"]) in str(error)


def test_disconnect_a_connection_removed_with_its_processor_raises_processor_not_found() -> None:
    ids: dict[str, int] = {}

    def build(rt: StreamRuntime) -> Handles:
        h = build_pair(rt)
        ids["c"] = rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
        rt.remove_processor(h["sink"])
        return h

    expect_atomic_failure(build, lambda rt, h: rt.disconnect(ids["c"]), ProcessorNotFoundError)


GARBAGE: list[Any] = [
    pytest.param(lambda h: (None, None), id="None-None"),
    pytest.param(lambda h: ("processor_0.out", "processor_1.in"), id="strings"),
    pytest.param(lambda h: (h["src"], h["sink"]), id="handles"),
    pytest.param(lambda h: (h["src"].output_port("out"), None), id="output-None"),
    pytest.param(lambda h: (None, h["sink"].input_port("in")), id="None-input"),
    pytest.param(lambda h: (h["src"].output_port("out"), "processor_1.in"), id="output-str"),
    pytest.param(lambda h: (42, 43), id="ints"),
    pytest.param(lambda h: (("processor_0", "out"), ("processor_1", "in")), id="tuples"),
]


@pytest.mark.parametrize("args", GARBAGE)
def test_connect_with_garbage_arguments_raises_invalid_connection(args: Callable[[Handles], tuple]) -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(*args(h))

    expect_atomic_failure(build_pair, fail, InvalidConnectionError)


# --- handles and refs from another runtime ----------------------------------------------


def test_remove_processor_with_a_handle_from_another_runtime_raises_processor_not_found() -> None:
    other = StreamRuntime()
    foreign = other.add_processor(ScriptedSource)  # processor_0 of the other runtime

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.remove_processor(foreign)

    expect_atomic_failure(build_chain, fail, ProcessorNotFoundError, "processor_0")


def test_connect_a_port_of_another_runtime_raises_processor_not_found() -> None:
    other = StreamRuntime()
    foreign = other.add_processor(ScriptedSource)  # processor_0 of the other runtime

    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.connect(foreign.output_port("out"), h["sink"].input_port("in"))

    expect_atomic_failure(build_pair, fail, ProcessorNotFoundError, "processor_0")


# --- other failed edits are atomic too -------------------------------------------------


@dataclass(frozen=True)
class BrokenConfig(ProcessorConfig):
    pass


class BrokenOnConstruction(Processor):
    Config = BrokenConfig
    out = streamlib.Output(AudioFrame)

    def __init__(self) -> None:
        raise RuntimeError("cannot build me")

    def process(self) -> None:
        return None


def test_add_processor_whose_constructor_fails_raises_processor_error_and_consumes_no_id() -> None:
    def fail(rt: StreamRuntime, h: Handles) -> object:
        return rt.add_processor(BrokenOnConstruction)

    error = expect_atomic_failure(
        build_chain, fail, ProcessorError, "processor_3", "BrokenOnConstruction", "cannot build me"
    )
    assert isinstance(error, ProcessorError)
    assert error.processor_id == "processor_3"
    assert isinstance(error.__cause__, RuntimeError)


NOT_PROCESSOR_CLASSES = [
    pytest.param(int, id="int"),
    pytest.param(object(), id="an-object"),
    pytest.param("ScriptedSource", id="a-str"),
    pytest.param(None, id="None"),
    pytest.param(ScriptedSourceConfig, id="a-config-class"),
]


@pytest.mark.parametrize("bad", NOT_PROCESSOR_CLASSES)
def test_add_processor_of_a_non_processor_class_changes_nothing(bad: object) -> None:
    expect_atomic_failure(build_chain, lambda rt, h: rt.add_processor(bad), Exception)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", NOT_PROCESSOR_CLASSES)
def test_add_processor_of_a_non_processor_class_raises_type_error(bad: object) -> None:
    with StreamRuntime() as rt, pytest.raises(TypeError, match="Processor subclass"):
        rt.add_processor(bad)  # type: ignore[arg-type]


def test_add_processor_with_an_invalid_config_changes_nothing() -> None:
    expect_atomic_failure(
        build_chain,
        lambda rt, h: rt.add_processor(ScriptedSource, bogus=1),
        ConfigError,
        "bogus",
    )


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda rt, h: rt.add_processor(ScriptedSource), id="add_processor"),
        pytest.param(
            lambda rt, h: rt.connect(h["src"].output_port("out"), h["sink"].input_port("in")), id="connect"
        ),
        pytest.param(lambda rt, h: rt.disconnect(0), id="disconnect"),
        pytest.param(lambda rt, h: rt.remove_processor(h["src"]), id="remove_processor"),
    ],
)
def test_edits_after_stop_raise_runtime_state_error_and_change_nothing(
    edit: Callable[[StreamRuntime, Handles], object],
) -> None:
    rt = StreamRuntime()
    h = build_pair(rt)
    rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
    rt.stop()
    plan = rt.plan
    with pytest.raises(RuntimeStateError):
        edit(rt, h)
    assert rt.plan == plan
    assert len(rt.plan.connections) == 1


# --- what is allowed -----------------------------------------------------------------


@pytest.mark.parametrize("fan", [2, 3])
def test_fan_out_one_output_to_several_inputs_is_allowed(fan: int) -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource)
        sinks = [rt.add_processor(CollectingSink) for _ in range(fan)]
        ids = [rt.connect(src.output_port("out"), s.input_port("in")) for s in sinks]
        assert all(type(cid) is int for cid in ids)
        assert len(set(ids)) == fan
        assert len(rt.plan.connections) == fan
        for cid, sink in zip(ids, sinks, strict=True):
            assert rt.plan.connections[cid].source == "processor_0.out"
            assert rt.plan.connections[cid].sink == f"{sink.id}.in"


def test_fan_out_then_fan_in_free_inputs_is_not_a_cycle() -> None:
    """A diamond (source -> a, source -> b, a -> sink, b -> ...) has no cycle."""
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource)
        a = rt.add_processor(Worker)
        b = rt.add_processor(Worker)
        sink_a = rt.add_processor(CollectingSink)
        sink_b = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), a.input_port("in"))
        rt.connect(src.output_port("out"), b.input_port("in"))
        rt.connect(a.output_port("out"), sink_a.input_port("in"))
        rt.connect(b.output_port("out"), sink_b.input_port("in"))
        assert len(rt.plan.connections) == 4


def test_processor_ids_follow_creation_order_and_are_never_reused() -> None:
    with StreamRuntime() as rt:
        handles = [rt.add_processor(cls) for cls in (ScriptedSource, PassThrough, Worker, CollectingSink)]
        assert [h.id for h in handles] == ["processor_0", "processor_1", "processor_2", "processor_3"]
        assert [h.processor_type for h in handles] == [
            "ScriptedSource",
            "PassThrough",
            "Worker",
            "CollectingSink",
        ]
        rt.remove_processor(handles[3])  # the newest
        rt.remove_processor(handles[1])
        assert set(rt.plan.processors) == {"processor_0", "processor_2"}
        again = rt.add_processor(CollectingSink)
        assert again.id == "processor_4"
        rt.remove_processor(handles[0])
        rt.remove_processor(handles[2])
        rt.remove_processor(again)
        assert dict(rt.plan.processors) == {}
        assert rt.add_processor(ScriptedSource).id == "processor_5"


def test_processor_ids_are_per_runtime() -> None:
    with StreamRuntime() as rt1, StreamRuntime() as rt2:
        assert rt1.add_processor(ScriptedSource).id == "processor_0"
        assert rt2.add_processor(ScriptedSource).id == "processor_0"
        assert rt1.add_processor(ScriptedSource).id == "processor_1"


def test_connection_ids_are_ints_and_a_disconnected_id_stays_stale() -> None:
    with StreamRuntime() as rt:
        h = build_pair(rt)
        first = rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
        assert type(first) is int
        assert list(rt.plan.connections) == [first]
        rt.disconnect(first)
        assert len(rt.plan.connections) == 0
        # The input is free again.
        second = rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
        assert type(second) is int
        assert second != first, "a connection id was reused: a stale id would remove the new connection"
        with pytest.raises(ProcessorNotFoundError):
            rt.disconnect(first)
        assert list(rt.plan.connections) == [second]


def test_remove_processor_removes_its_connections() -> None:
    with StreamRuntime() as rt:
        h = build_chain(rt)
        ids = list(rt.plan.connections)
        assert len(ids) == 2
        rt.remove_processor(h["mid"])
        assert len(rt.plan.connections) == 0
        assert set(rt.plan.processors) == {"processor_0", "processor_2"}
        for cid in ids:
            with pytest.raises(ProcessorNotFoundError):
                rt.disconnect(cid)
        # The source's output and the sink's input are free to connect again.
        cid = rt.connect(h["src"].output_port("out"), h["sink"].input_port("in"))
        assert cid not in ids
        assert rt.plan.connections[cid].source == "processor_0.out"
        assert rt.plan.connections[cid].sink == "processor_2.in"


def test_remove_processor_keeps_unrelated_connections() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource)
        keep = rt.add_processor(CollectingSink)
        drop = rt.add_processor(CollectingSink)
        kept = rt.connect(src.output_port("out"), keep.input_port("in"))
        rt.connect(src.output_port("out"), drop.input_port("in"))
        rt.remove_processor(drop)
        assert list(rt.plan.connections) == [kept]


def test_successful_edit_updates_the_plan_at_once() -> None:
    with StreamRuntime() as rt:
        assert dict(rt.plan.processors) == {}
        src = rt.add_processor(ScriptedSource)
        assert set(rt.plan.processors) == {"processor_0"}
        sink = rt.add_processor(CollectingSink)
        cid = rt.connect(src.output_port("out"), sink.input_port("in"))
        assert set(rt.plan.connections) == {cid}
        rt.disconnect(cid)
        assert set(rt.plan.connections) == set()
        rt.remove_processor(src)
        assert set(rt.plan.processors) == {"processor_1"}


# --- the exception classes -----------------------------------------------------------

EXCEPTIONS: list[tuple[type[Exception], tuple[type[BaseException], ...]]] = [
    (StreamError, (Exception,)),
    (ConfigError, (StreamError, ValueError)),
    (PortNotFoundError, (StreamError, LookupError)),
    (PortTypeMismatchError, (StreamError, TypeError)),
    (InvalidConnectionError, (StreamError, ValueError)),
    (GraphCycleError, (InvalidConnectionError, StreamError, ValueError)),
    (ProcessorNotFoundError, (StreamError, LookupError)),
    (RuntimeStateError, (StreamError, RuntimeError)),
    (ProcessorError, (StreamError,)),
]


def _make(cls: type[Exception]) -> Exception:
    if cls is ProcessorError:
        return ProcessorError("processor_3", "PassThrough", "boom")
    return cls("boom")


@pytest.mark.parametrize(("cls", "bases"), EXCEPTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_exception_classes_print_as_streamlib_names_and_have_their_documented_bases(
    cls: type[Exception], bases: tuple[type[BaseException], ...]
) -> None:
    assert cls.__module__ == "streamlib"
    assert repr(cls) == f"<class 'streamlib.{cls.__name__}'>"
    assert getattr(streamlib, cls.__name__) is cls
    for base in bases:
        assert issubclass(cls, base), f"{cls.__name__} is not a {base.__name__}"
    error = _make(cls)
    line = "".join(traceback.format_exception_only(type(error), error))
    assert line.startswith(f"streamlib.{cls.__name__}: ")
    assert "boom" in line


@pytest.mark.parametrize(("cls", "bases"), EXCEPTIONS, ids=lambda v: getattr(v, "__name__", ""))
def test_exceptions_pickle_round_trip(cls: type[Exception], bases: object) -> None:
    error = _make(cls)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls
    assert str(again) == str(error)
    if isinstance(error, ProcessorError):
        assert isinstance(again, ProcessorError)
        assert again.processor_id == "processor_3"
        assert again.processor_type == "PassThrough"


def test_processor_error_names_the_processor() -> None:
    error = ProcessorError("processor_3", "PassThrough", "boom")
    assert "processor_3" in str(error)
    assert "PassThrough" in str(error)
    assert "boom" in str(error)


def test_graph_cycle_error_is_not_confused_with_other_invalid_connections() -> None:
    assert not issubclass(InvalidConnectionError, GraphCycleError)
    assert not issubclass(PortTypeMismatchError, InvalidConnectionError)
    assert not issubclass(ProcessorNotFoundError, InvalidConnectionError)
