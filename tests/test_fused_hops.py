"""streamlib's own processors on fused links read and write through the link's deque
(C calls, see ``engine._ports``): every frame is still counted, the counts stay exact
across re-plans that move a hop in and out of that path, and a subclass (whose code
streamlib does not vouch for) keeps every check."""

from __future__ import annotations

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
from streamlib.testing import CollectingSink, instance

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


def _check_counts(
    stats: dict[str, Any], chord: Any, resampler: Any, converter: Any, rechunker: Any, replanned: bool = False
) -> None:
    p = stats["processors"]
    assert p[chord.id]["frames_out"] == BLOCKS == p[resampler.id]["frames_in"]
    assert p[resampler.id]["frames_out"] == p[converter.id]["frames_in"] == p[converter.id]["frames_out"]
    assert p[converter.id]["frames_out"] == p[rechunker.id]["frames_in"]
    for pid in (resampler.id, converter.id, rechunker.id):
        assert p[pid]["process_calls"] == p[pid]["frames_in"], pid
    # the whole stream: 4 s at 48 kHz in 512-sample blocks (the last one partial)
    assert p[rechunker.id]["frames_out"] == -(-int(SECONDS * 48_000) // 512)
    for connection in stats["connections"].values():
        assert connection["dropped"] == 0
        if not replanned:  # (a connection's count starts again when a re-plan replaces its queue)
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
    _check_counts(stats, chord, resampler, converter, rechunker, replanned=True)
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
