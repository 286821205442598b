"""Load shedding: a clock-driven source far behind its deadlines skips to its latest
due tick (the skipped ticks counted), instead of catching up on every one."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from streamlib import ProcessorHandle, StreamRuntime
from streamlib.engine._group import SHED_BEHIND_NS
from streamlib.processors import ChordGeneratorProcessor, WavFileSourceProcessor
from streamlib.testing import CollectingSink, FakeClock, instance

PERIOD = Fraction(512 * 10**9, 48000)  # 10.67 ms


def _at(n: int) -> int:
    """Just past tick n's deadline."""
    return int(n * PERIOD) + 1


def _exact_chord(block: int) -> np.ndarray:
    t = (block * 512 + np.arange(512)) / 48000
    return sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) * (0.2 / 3)  # type: ignore[no-any-return]


def _live_chord_to_sink(rt: StreamRuntime) -> tuple[ProcessorHandle, CollectingSink]:
    """A live chord generator -> a collecting sink, started."""
    src = rt.add_processor(ChordGeneratorProcessor, live=True, buffer_size=512)
    sink = rt.add_processor(CollectingSink)
    rt.connect(src.output_port("audio"), sink.input_port("in"))
    rt.start()
    return src, instance(rt, sink)


def test_a_source_far_behind_skips_to_its_latest_tick_and_counts_the_skipped() -> None:
    assert 49 * PERIOD > SHED_BEHIND_NS
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src, collected = _live_chord_to_sink(rt)
        for n in range(1, 4):
            clock.set(_at(n))
            assert collected.wait_for(n)
        clock.set(_at(53))  # ticks 4..53 all due at once: 49 periods (523 ms) behind
        assert collected.wait_for(4)
        clock.set(_at(54))
        assert collected.wait_for(5)
        frames = list(collected.frames)
        stats = rt.stats()["processors"][src.id]
    blocks = [0, 1, 2, 52, 53]  # tick n makes block n - 1; ticks 4..52 were never run
    assert [f.sequence for f in frames] == blocks
    assert [f.timestamp_ns for f in frames] == [int(k * PERIOD) for k in blocks]
    assert stats["ticks_skipped"] == 49
    assert stats["ticks_late"] == 0  # the tick it ran was on time
    for frame, block in zip(frames, blocks, strict=True):  # the chord moved on in time
        assert np.max(np.abs(frame.samples[:, 0] - _exact_chord(block))) < 1e-6


def test_a_source_a_little_behind_catches_up_on_every_tick() -> None:
    assert 2 * PERIOD < SHED_BEHIND_NS
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src, collected = _live_chord_to_sink(rt)
        clock.set(_at(1))
        assert collected.wait_for(1)
        # ticks 2..4 due at once: 2 periods (21 ms) behind (three frames: no more than
        # the sink's queue holds, so none is dropped however the threads interleave)
        clock.set(_at(4))
        assert collected.wait_for(4)
        frames = list(collected.frames)
        stats = rt.stats()["processors"][src.id]
    assert [f.sequence for f in frames] == list(range(4))
    assert [f.timestamp_ns for f in frames] == [int(k * PERIOD) for k in range(4)]
    assert stats["ticks_skipped"] == 0
    assert stats["ticks_late"] == 2  # ticks 2 and 3 ran more than a period late; 4 on time


def test_a_live_file_source_skips_the_audio_of_skipped_ticks(tmp_path: Path) -> None:
    path = tmp_path / "ramp.wav"
    ramp = (np.arange(48000 * 2) % 1000).astype(np.float32)[:, None] / 1000
    soundfile.write(str(path), ramp, 48000, subtype="FLOAT")
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src = rt.add_processor(WavFileSourceProcessor, path=path, buffer_size=512, live=True)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        collected = instance(rt, sink)
        clock.set(_at(1))
        assert collected.wait_for(1)
        clock.set(_at(30))  # 28 periods (299 ms) behind
        assert collected.wait_for(2)
        clock.set(_at(31))
        assert collected.wait_for(3)
        frames = list(collected.frames)
        assert rt.stats()["processors"][src.id]["ticks_skipped"] == 28
    assert [f.sequence for f in frames] == [0, 29, 30]
    for frame in frames:  # each block holds the file's samples of its own time
        start = frame.sequence * 512
        assert np.array_equal(frame.samples, ramp[start : start + 512])
        assert frame.timestamp_ns == int(frame.sequence * PERIOD)
