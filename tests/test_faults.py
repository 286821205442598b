"""Faults are contained: a failing processor is named, its component stops, the
rest runs on; start() is atomic; stop() is bounded."""

from __future__ import annotations

import threading
import time

import pytest

from streamlib import (
    AudioFrame,
    Output,
    PortTypeMismatchError,
    Processor,
    ProcessorError,
    RuntimeStateError,
    StreamRuntime,
    VideoFrame,
)
from streamlib.testing import CollectingSink, FaultInjector, PassThrough, ScriptedSource, Worker, instance

from .conftest import streamlib_threads
from .helpers import chain


def _faulty_chain(rt: StreamRuntime, *, fail_in: str, after: int = 5) -> tuple:
    src = rt.add_processor(ScriptedSource, num_frames=50)
    bad = rt.add_processor(FaultInjector, fail_in=fail_in, after=after)
    sink = rt.add_processor(CollectingSink)
    rt.connect(src.output_port("out"), bad.input_port("in"))
    rt.connect(bad.output_port("out"), sink.input_port("in"))
    return src, bad, sink


def test_process_failure_names_the_processor_stops_its_component_and_spares_others() -> None:
    with StreamRuntime() as rt:
        _, bad, bad_sink = _faulty_chain(rt, fail_in="process")
        _, _, good_sink = chain(rt, frames=2000, middles=(PassThrough, Worker))
        rt.start()
        with pytest.raises(ProcessorError) as info:
            rt.run(timeout=30)
        error = info.value
        assert error.processor_id == bad.id
        assert bad.id in str(error) and "FaultInjector" in str(error)
        assert "injected fault after 5 frames" in str(error)
        assert isinstance(error.__cause__, RuntimeError)
        assert rt.errors == [error]
        # the healthy component runs to completion; run() keeps waiting on it
        assert rt.run(timeout=30)
        assert instance(rt, good_sink).sequences == list(range(2000))
        received = instance(rt, bad_sink).sequences  # what reached it before the halt
        assert received == list(range(len(received))) and len(received) <= 5
        assert rt.stats()["processors"][bad.id]["state"] == "failed"


@pytest.mark.parametrize("position", ["source", "fused", "dedicated", "sink"])
def test_failure_in_every_position_is_a_processor_error_naming_it(position: str) -> None:
    class _FailingSource(ScriptedSource):
        def process(self):  # type: ignore[no-untyped-def]
            if self.emitted == 3:
                raise ValueError("source broke")
            return super().process()

    class _FailingSink(CollectingSink):
        def process(self) -> None:
            super().process()
            if len(self.sequences) == 3:
                raise ValueError("sink broke")

    class _FailingWorker(Worker):
        def process(self) -> None:
            raise ValueError("worker broke")

    with StreamRuntime() as rt:
        src = rt.add_processor(_FailingSource if position == "source" else ScriptedSource, num_frames=100)
        if position == "fused":
            mid = rt.add_processor(FaultInjector, after=2)
        elif position == "dedicated":
            mid = rt.add_processor(_FailingWorker)
        else:
            mid = rt.add_processor(PassThrough)
        sink = rt.add_processor(_FailingSink if position == "sink" else CollectingSink)
        rt.connect(src.output_port("out"), mid.input_port("in"))
        rt.connect(mid.output_port("out"), sink.input_port("in"))
        expected = {"source": src, "fused": mid, "dedicated": mid, "sink": sink}[position]
        rt.start()
        with pytest.raises(ProcessorError) as info:
            rt.run(timeout=30)
        assert info.value.processor_id == expected.id
        assert rt.run(timeout=5)  # the failed component counts as ended


def test_writing_the_wrong_frame_type_names_the_port() -> None:
    class _Liar(Processor):
        out = Output(AudioFrame)

        def process(self) -> None:
            self.out.write(VideoFrame.__new__(VideoFrame))

    with StreamRuntime() as rt:
        liar = rt.add_processor(_Liar)
        sink = rt.add_processor(CollectingSink)
        rt.connect(liar.output_port("out"), sink.input_port("in"))
        rt.start()
        with pytest.raises(ProcessorError) as info:
            rt.run(timeout=30)
        assert isinstance(info.value.__cause__, PortTypeMismatchError)
        message = str(info.value.__cause__)
        assert f"{liar.id}.out" in message and "AudioFrame" in message and "VideoFrame" in message


def test_setup_failure_makes_start_atomic() -> None:
    rt = StreamRuntime()
    _, _, good_sink = chain(rt, frames=10)
    _, bad, _ = _faulty_chain(rt, fail_in="setup")
    with pytest.raises(ProcessorError) as info:
        rt.start()
    assert info.value.processor_id == bad.id
    assert "setup() failed" in str(info.value)
    assert streamlib_threads() == []
    assert not rt.running
    good = instance(rt, good_sink)
    assert good.setup_calls == good.shutdown_calls  # set up ones were shut down again
    # still un-started: fix the graph and start again
    rt.remove_processor(bad)
    rt.start()
    assert rt.run(timeout=10)
    rt.stop()
    assert good.setup_calls == 2 and good.shutdown_calls == 2


def test_on_shutdown_failure_is_reported_not_raised() -> None:
    rt = StreamRuntime()
    _, bad, _ = _faulty_chain(rt, fail_in="on_shutdown")
    rt.start()
    assert rt.run(timeout=10)
    rt.stop()
    (error,) = rt.errors
    assert error.processor_id == bad.id and "on_shutdown() failed" in str(error)


def test_on_end_of_stream_failure_is_a_processor_error() -> None:
    with StreamRuntime() as rt:
        _, bad, _ = _faulty_chain(rt, fail_in="on_end_of_stream")
        rt.start()
        with pytest.raises(ProcessorError, match="on_end_of_stream"):
            rt.run(timeout=10)
        assert rt.errors[0].processor_id == bad.id


def test_errors_recorded_before_run_are_raised_by_run_oldest_first() -> None:
    with StreamRuntime() as rt:
        _faulty_chain(rt, fail_in="process", after=0)
        _faulty_chain(rt, fail_in="process", after=0)
        rt.start()
        deadline = time.monotonic() + 10
        while len(rt.errors) < 2 and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        first, second = rt.errors
        with pytest.raises(ProcessorError) as a:
            rt.run(timeout=10)
        with pytest.raises(ProcessorError) as b:
            rt.run(timeout=10)
        assert (a.value, b.value) == (first, second)
        assert rt.run(timeout=10)


class _Stuck(PassThrough):
    """Blocks forever inside process() until released."""

    release = threading.Event()
    entered = threading.Event()

    def process(self) -> None:
        _Stuck.entered.set()
        _Stuck.release.wait()
        super().process()


def test_stop_is_bounded_when_a_processor_is_stuck() -> None:
    _Stuck.release.clear()
    _Stuck.entered.clear()
    rt = StreamRuntime()
    src = rt.add_processor(ScriptedSource, num_frames=None)
    stuck = rt.add_processor(_Stuck)
    sink = rt.add_processor(CollectingSink)
    rt.connect(src.output_port("out"), stuck.input_port("in"))
    rt.connect(stuck.output_port("out"), sink.input_port("in"))
    chain(rt, frames=None, middles=(Worker,))
    rt.start()
    assert _Stuck.entered.wait(10)
    t0 = time.monotonic()
    rt.stop(timeout=0.5)
    elapsed = time.monotonic() - t0
    try:
        assert elapsed < 2.0
        (error,) = rt.errors
        assert error.processor_id == stuck.id
        assert "did not stop" in str(error)
        alive = [t.name for t in streamlib_threads()]
        assert alive == [f"streamlib:{src.id}"]  # every other thread was joined
        assert instance(rt, sink).shutdown_calls == 1
    finally:
        _Stuck.release.set()  # let the abandoned daemon thread finish


def test_edits_from_inside_a_processor_are_refused() -> None:
    holder: dict[str, StreamRuntime] = {}

    class _Editor(PassThrough):
        def process(self) -> None:
            holder["rt"].add_processor(PassThrough)

    with StreamRuntime() as rt:
        holder["rt"] = rt
        src = rt.add_processor(ScriptedSource, num_frames=3)
        ed = rt.add_processor(_Editor)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), ed.input_port("in"))
        rt.connect(ed.output_port("out"), sink.input_port("in"))
        rt.start()
        with pytest.raises(ProcessorError) as info:
            rt.run(timeout=10)
        assert isinstance(info.value.__cause__, RuntimeStateError)
