"""Frames arrive: every frame once, in order, through fused and queued hops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from streamlib import AudioFrame, Input, Output, Processor, ProcessorConfig, StreamRuntime
from streamlib.testing import CollectingSink, PassThrough, ScriptedSource, Worker, instance

from .helpers import chain

N = 20_000


@pytest.mark.parametrize("optimize", [True, False], ids=["fused", "unfused"])
def test_20000_frame_chain_delivers_every_frame_once_in_order(optimize: bool) -> None:
    with StreamRuntime(optimize=optimize) as rt:
        _, _, sink = chain(
            rt, frames=N, middles=(PassThrough, PassThrough, Worker, PassThrough), block_size=64
        )
        if optimize:
            assert rt.plan.thread_count == 3  # source+2 fused, worker+1 fused, sink
        else:
            assert rt.plan.thread_count == 6
        rt.start()
        assert rt.run(timeout=120)
        got = instance(rt, sink)
        assert got.sequences == list(range(N))
        assert got.ended.is_set()
        stats = rt.stats()
        assert all(c["dropped"] == 0 for c in stats["connections"].values())
        assert stats["processors"][sink.id]["frames_in"] == N
        assert rt.errors == []


class _RecordingSource(ScriptedSource):
    def setup(self) -> None:
        self.written: list[Any] = []

    def make_frame(self, seq: int, timestamp_ns: int) -> Any:
        frame = super().make_frame(seq, timestamp_ns)
        self.written.append(frame)
        return frame


@pytest.mark.parametrize("optimize", [True, False])
def test_frames_are_passed_by_reference_not_copied(optimize: bool) -> None:
    with StreamRuntime(optimize=optimize) as rt:
        src = rt.add_processor(_RecordingSource, num_frames=50)
        mids = [rt.add_processor(cls) for cls in (PassThrough, Worker, PassThrough)]
        sink = rt.add_processor(CollectingSink)
        previous = src.output_port("out")
        for mid in mids:
            rt.connect(previous, mid.input_port("in"))
            previous = mid.output_port("out")
        rt.connect(previous, sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        written = instance(rt, src).written
        received = instance(rt, sink).frames
        assert len(received) == 50
        # the very same frame objects, so the very same pixel/sample buffers
        assert all(a is b for a, b in zip(written, received, strict=True))
        addresses = [f.samples.__array_interface__["data"][0] for f in received]
        assert addresses == [f.samples.__array_interface__["data"][0] for f in written]
        assert all(not f.samples.flags.writeable for f in received)


def test_fan_out_gives_every_consumer_every_frame() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=500)
        a = rt.add_processor(CollectingSink)
        b = rt.add_processor(PassThrough)
        c = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), a.input_port("in"))
        rt.connect(src.output_port("out"), b.input_port("in"))
        rt.connect(b.output_port("out"), c.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        assert instance(rt, a).sequences == list(range(500))
        assert instance(rt, c).sequences == list(range(500))
        assert rt.stats()["processors"][src.id]["frames_out"] == 500


@dataclass(frozen=True)
class _BlockConfig(ProcessorConfig):
    size: int = 7


class _Rechunk(Processor):
    """Holds samples; emits blocks of ``size``; flushes the remainder at end of stream."""

    Config = _BlockConfig
    config: _BlockConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        self.buffer = np.zeros((0, 2), np.float32)

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        self.buffer = np.concatenate([self.buffer, frame.samples])
        while len(self.buffer) >= self.config.size:
            block, self.buffer = self.buffer[: self.config.size], self.buffer[self.config.size :]
            self.audio_out.write(AudioFrame(np.ascontiguousarray(block), 48000))

    def on_end_of_stream(self) -> None:
        if len(self.buffer):
            self.audio_out.write(AudioFrame(np.ascontiguousarray(self.buffer), 48000))


@pytest.mark.parametrize("optimize", [True, False])
def test_on_end_of_stream_flushes_before_end_of_stream_moves_on(optimize: bool) -> None:
    with StreamRuntime(optimize=optimize) as rt:
        src = rt.add_processor(ScriptedSource, num_frames=10, block_size=5)
        r = rt.add_processor(_Rechunk, size=7)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), r.input_port("audio_in"))
        rt.connect(r.output_port("audio_out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        sizes = [f.num_frames for f in instance(rt, sink).frames]
        assert sizes == [7] * 7 + [1]
        assert sum(sizes) == 50


class _Zip(Processor):
    """Two inputs: emits a frame when both hold one (sums them)."""

    left = Input(AudioFrame)
    right = Input(AudioFrame)
    out = Output(AudioFrame)

    def setup(self) -> None:
        self.pending: dict[str, Any] = {}

    def process(self) -> None:
        for name in ("left", "right"):
            if name not in self.pending:
                frame = self.inputs[name].read()
                if frame is not None:
                    self.pending[name] = frame
        if len(self.pending) == 2:
            a, b = self.pending.pop("left"), self.pending.pop("right")
            self.out.write(a.with_samples(a.samples + b.samples))


def test_two_inputs_end_when_both_ended() -> None:
    with StreamRuntime() as rt:
        s1 = rt.add_processor(ScriptedSource, num_frames=300)
        s2 = rt.add_processor(ScriptedSource, num_frames=300)
        z = rt.add_processor(_Zip)
        sink = rt.add_processor(CollectingSink)
        rt.connect(s1.output_port("out"), z.input_port("left"))
        rt.connect(s2.output_port("out"), z.input_port("right"))
        rt.connect(z.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        frames = instance(rt, sink).frames
        assert [f.samples[0, 0] for f in frames] == [2.0 * i for i in range(300)]


def test_run_returns_at_once_without_sources() -> None:
    with StreamRuntime() as rt:
        rt.add_processor(CollectingSink)  # unconnected: not scheduled
        rt.start()
        assert rt.plan.thread_count == 0
        assert rt.run(timeout=5)


def test_run_times_out_on_an_endless_source() -> None:
    with StreamRuntime() as rt:
        chain(rt, frames=None)
        rt.start()
        assert rt.run(timeout=0.2) is False


def test_setup_and_shutdown_exactly_once_on_the_processors_own_thread() -> None:
    seen: dict[str, list[str]] = {}

    class _Where(PassThrough):
        def setup(self) -> None:
            super().setup()
            seen.setdefault(self.processor_id, []).append(_thread_name())

        def on_shutdown(self) -> None:
            seen.setdefault(self.processor_id, []).append(_thread_name())

    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=10)
        w = rt.add_processor(_Where)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), w.input_port("in"))
        rt.connect(w.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=10)
    assert seen == {w.id: [f"streamlib:{src.id}", f"streamlib:{src.id}"]}  # fused into the source
    assert instance(rt, sink).setup_calls == 1
    assert instance(rt, sink).shutdown_calls == 1


def _thread_name() -> str:
    import threading

    return threading.current_thread().name


def test_a_fused_processors_flush_reaches_the_fused_processors_after_it() -> None:
    # source -> rechunk (fused) -> pass (fused) -> pass (fused) -> sink: the rechunker's
    # remainder, written in on_end_of_stream, must cross the rest of the fused chain
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=10, block_size=5)
        r = rt.add_processor(_Rechunk, size=7)
        a = rt.add_processor(PassThrough)
        b = rt.add_processor(PassThrough)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), r.input_port("audio_in"))
        rt.connect(r.output_port("audio_out"), a.input_port("in"))
        rt.connect(a.output_port("out"), b.input_port("in"))
        rt.connect(b.output_port("out"), sink.input_port("in"))
        assert rt.plan.thread_count == 2
        rt.start()
        assert rt.run(timeout=30)
        assert [f.num_frames for f in instance(rt, sink).frames] == [7] * 7 + [1]


class _Burst(Worker):
    """Reads one frame, writes it three times, one per call: progress without reading."""

    def setup(self) -> None:
        super().setup()
        self.owed: list[Any] = []

    def process(self) -> None:
        if not self.owed:
            frame = self._in.read()
            if frame is not None:
                self.owed = [frame] * 3
        if self.owed:
            self._out.write(self.owed.pop())

    def on_end_of_stream(self) -> None:
        while self.owed:
            self._out.write(self.owed.pop())


def test_a_head_that_writes_without_reading_is_not_mistaken_for_stalled() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=200)
        burst = rt.add_processor(_Burst)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), burst.input_port("in"))
        rt.connect(burst.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        assert len(instance(rt, sink).sequences) == 600


class _ZipOrAlone(_Zip):
    """Like _Zip, but once the right input has ended, left frames pass alone."""

    def process(self) -> None:
        super().process()
        if "left" in self.pending and self.inputs["right"].ended:
            self.out.write(self.pending.pop("left"))


def test_end_of_stream_wakes_a_head_that_waits_for_another_input() -> None:
    # the zip waits for both inputs; when the right source ends, its end of stream must
    # wake the zip even though no frame arrives with it
    with StreamRuntime() as rt:
        s1 = rt.add_processor(ScriptedSource, num_frames=50)
        s2 = rt.add_processor(ScriptedSource, num_frames=20)
        z = rt.add_processor(_ZipOrAlone)
        sink = rt.add_processor(CollectingSink)
        rt.connect(s1.output_port("out"), z.input_port("left"))
        rt.connect(s2.output_port("out"), z.input_port("right"))
        rt.connect(z.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        assert len(instance(rt, sink).frames) == 50
