"""streamlib's own processors on fused links read and write through the link's deque
(C calls, see ``engine._ports``): every frame is still counted, the counts stay exact
across re-plans that move a hop in and out of that path, and a subclass (whose code
streamlib does not vouch for) keeps every check."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from streamlib import DataFrame, PortTypeMismatchError, ProcessorError, StreamRuntime, ThreadingStrategy
from streamlib.engine._ports import _Reader, _Writer
from streamlib.processors import (
    AudioChannelConverterProcessor,
    AudioResamplerProcessor,
    BufferRechunkerProcessor,
    ChordGeneratorProcessor,
)
from streamlib.testing import CollectingSink, FakeClock, FakeCosts, PassThrough, instance, use_costs

from .helpers import chain

SECONDS = 4.0
BLOCKS = int(SECONDS * 24_000) // 480


def _chain(rt: StreamRuntime) -> tuple[Any, ...]:
    chord = rt.add_processor(
        ChordGeneratorProcessor, sample_rate=24_000, buffer_size=480, live=False, duration_s=SECONDS
    )
    resampler = rt.add_processor(
        AudioResamplerProcessor, source_sample_rate=24_000, target_sample_rate=48_000
    )
    converter = rt.add_processor(AudioChannelConverterProcessor)
    rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=512)
    sink = rt.add_processor(CollectingSink, keep_frames=False)
    rt.connect(chord.output_port("audio"), resampler.input_port("audio_in"))
    rt.connect(resampler.output_port("audio_out"), converter.input_port("audio_in"))
    rt.connect(converter.output_port("audio_out"), rechunker.input_port("audio_in"))
    rt.connect(rechunker.output_port("audio_out"), sink.input_port("in"))
    return chord, resampler, converter, rechunker, sink


def _check_counts(stats: dict[str, Any], chord: Any, resampler: Any, converter: Any, rechunker: Any) -> None:
    p = stats["processors"]
    assert p[chord.id]["frames_out"] == BLOCKS == p[resampler.id]["frames_in"]
    assert p[resampler.id]["frames_out"] == p[converter.id]["frames_in"] == p[converter.id]["frames_out"]
    assert p[converter.id]["frames_out"] == p[rechunker.id]["frames_in"]
    for pid in (resampler.id, converter.id, rechunker.id):
        assert p[pid]["process_calls"] == p[pid]["frames_in"], pid
    # the whole stream: 4 s at 48 kHz in 512-sample blocks (the last one partial)
    assert p[rechunker.id]["frames_out"] == -(-int(SECONDS * 48_000) // 512)
    for connection in stats["connections"].values():  # (also across re-plans that replaced them)
        assert connection["dropped"] == 0
        assert connection["frames"] == p[connection["sink"].split(".")[0]]["frames_in"], connection


def test_the_library_s_fused_hops_count_every_frame() -> None:
    with StreamRuntime() as rt:
        chord, resampler, converter, rechunker, sink = _chain(rt)
        for handle in (resampler, converter, rechunker):
            assert rt.plan.processors[handle.id].threading is ThreadingStrategy.FUSED
        rt.start()
        # the fused members read and write through the links' deques
        assert isinstance(vars(instance(rt, converter))["audio_in"], _Reader)
        assert isinstance(vars(instance(rt, converter))["audio_out"], _Writer)
        assert isinstance(vars(instance(rt, chord))["audio"], _Writer)
        assert rt.run(timeout=60)
        stats = rt.stats()
    _check_counts(stats, chord, resampler, converter, rechunker)
    sequences = instance(rt, sink).sequences
    assert sequences == list(range(len(sequences))) and len(sequences) == 375


def test_counts_stay_exact_as_a_hop_leaves_the_fused_path_and_comes_back() -> None:
    with StreamRuntime() as rt:
        chord, resampler, converter, rechunker, sink = _chain(rt)
        rt.start()
        first = instance(rt, sink)
        assert first.wait_for(60)
        # a second consumer of the converter: its output has two targets now (a plain
        # port, counting each write), and the rechunker's input may become a queue
        second = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(converter.output_port("audio_out"), second.input_port("in"))
        assert not isinstance(vars(instance(rt, converter))["audio_out"], _Writer)
        other = instance(rt, second)
        assert other.wait_for(20)
        rt.remove_processor(second)
        assert isinstance(vars(instance(rt, converter))["audio_out"], _Writer)
        assert rt.run(timeout=60)
        stats = rt.stats()
    _check_counts(stats, chord, resampler, converter, rechunker)
    assert first.sequences == list(range(375))  # every frame once, in order


class _UnvouchedConverter(AudioChannelConverterProcessor):
    """A user's subclass of a trusted processor: its writes are checked as anyone's."""

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is not None:
            self.audio_out.write(DataFrame({"not": "audio"}, frame.timestamp_ns, frame.sequence))


def test_a_subclass_of_a_library_processor_keeps_the_port_type_check() -> None:
    with StreamRuntime() as rt:
        chord = rt.add_processor(ChordGeneratorProcessor, live=False, duration_s=1.0)
        converter = rt.add_processor(_UnvouchedConverter)
        sink = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(chord.output_port("audio"), converter.input_port("audio_in"))
        rt.connect(converter.output_port("audio_out"), sink.input_port("in"))
        assert rt.plan.processors[converter.id].threading is ThreadingStrategy.FUSED
        rt.start()
        with pytest.raises(ProcessorError):
            rt.run(timeout=30)
        errors = rt.errors
    assert len(errors) == 1 and isinstance(errors[0], ProcessorError)
    assert errors[0].processor_id == converter.id
    assert isinstance(errors[0].__cause__, PortTypeMismatchError)
    assert f"{converter.id}.audio_out" in str(errors[0].__cause__)


class _Gate(PassThrough):
    """A lightweight pass-through that a test can hold inside ``process()``."""

    def setup(self) -> None:
        super().setup()
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()

    def process(self) -> None:
        if not self.open.is_set():
            self.held.set()
            self.open.wait()
        super().process()


def test_a_queue_s_drops_stay_counted_when_a_re_plan_fuses_it() -> None:
    clock = FakeClock()
    period = 512 * 1_000_000_000 // 48_000
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, FakeCosts())  # (no measurement: holding the gate is not a slow processor)
        src, (gate,), first = chain(rt, frames=None, live=True, middles=(_Gate,))
        rt.start()
        (into_gate,) = (c for c, s in rt.stats()["connections"].items() if s["sink"] == f"{gate.id}.in")
        source, held = instance(rt, src), instance(rt, gate)
        # a second consumer of the gate: it gets a thread, fed by a dropping queue
        second = rt.add_processor(CollectingSink, live=True)
        rt.connect(gate.output_port("out"), second.input_port("in"))
        assert rt.plan.processors[gate.id].threading is ThreadingStrategy.DEDICATED
        capacity = rt.plan.connections[into_gate].capacity
        assert capacity is not None
        held.open.clear()
        ticks = capacity + 6
        try:
            clock.advance(period)
            assert source.wait_emitted(1) and held.held.wait(10)  # the gate holds, frame 0 unread
            for k in range(ticks):  # the queue into the gate fills, then drops its oldest
                clock.advance(period)
                assert source.wait_emitted(k + 2)
            queue = rt.stats()["connections"][into_gate]
            assert queue["dropped"] == ticks + 1 - capacity and not queue["fused"]
        finally:
            held.open.set()
        rt.remove_processor(second)
        assert rt.plan.processors[gate.id].threading is ThreadingStrategy.FUSED
        clock.advance(period)
        assert source.wait_emitted(ticks + 2)
        assert instance(rt, first).wait_until(lambda seqs: bool(seqs) and seqs[-1] == ticks + 1)
        link = rt.stats()["connections"][into_gate]
        assert link["fused"] and link["dropped"] == ticks + 1 - capacity
        assert link["frames"] == ticks + 2 == source.emitted
