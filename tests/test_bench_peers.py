"""`python -m streamlib.bench peers`: the search, the report, and a short real run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from streamlib import StreamRuntime
from streamlib.bench import _peers
from streamlib.bench._peers_python import Record, ReleaseSchedule
from streamlib.processors import AudioResamplerProcessor, BufferRechunkerProcessor, ChordGeneratorProcessor
from streamlib.testing import CollectingSink, instance


@pytest.mark.parametrize("capacity", [1, 19, 20, 37, 80, 239, 240, 641])
def test_density_search_finds_the_largest_count_without_misses(capacity: int) -> None:
    probes: list[int] = []

    def run(n: int, seconds: float) -> int:
        probes.append(n)
        return 0 if n <= capacity else n - capacity

    found, history = _peers.density(run, 20.0, start=20, limit=640)
    assert [n for n, _ in history] == probes
    if capacity >= 640:
        assert found == 640
    else:
        assert found <= capacity
        assert capacity - found <= max(2, found // 20)  # bisected to about 5 %
        assert any(n > capacity for n in probes)  # a failing count bounds it


def test_the_variants_probes_are_taken_in_turns() -> None:
    # the machine's speed drifts within minutes: no variant's search may run ahead of
    # another's while both still search
    taken: list[tuple[str, int]] = []

    def runner(name: str, capacity: int) -> Callable[[int, float], int]:
        def run(n: int, seconds: float) -> int:
            taken.append((name, n))
            return 0 if n <= capacity else 1

        return run

    found = _peers.densities({"a": runner("a", 150), "b": runner("b", 30)}, 20.0, start=20, limit=640)
    assert found["a"][0] == _peers.density(runner("x", 150), 20.0, start=20, limit=640)[0]
    assert 28 <= found["b"][0] <= 30 and 143 <= found["a"][0] <= 150
    assert [name for name, _ in taken[: 2 * len(found["b"][1])]] == ["a", "b"] * len(found["b"][1])
    assert [(name, n) for name, n in taken if name == "a"] == [("a", n) for n, _ in found["a"][1]]
    assert _peers.densities({"c": runner("c", 5)}, 20.0, start=700, limit=640) == {"c": (0, [])}


def test_processing_latency_counts_from_the_tick_that_released_the_frame() -> None:
    schedule = ReleaseSchedule(blocks=10)
    # libsoxr HQ 24 -> 48 kHz with 480-sample blocks emits nothing, then 1660 samples
    assert schedule.counts[0] == 0 and schedule.counts[1] == 1660
    record = Record()
    t0 = 1_000_000_000
    arrival = t0 + 2 * 20_000_000 + 300_000  # 0.3 ms after the second block's capture ended
    record.add(arrival, t0, first_sample=0)
    assert record.figures() == ([arrival - t0 - 512 * 1_000_000_000 // 48_000], [300_000])


def test_a_stamped_frame_s_processing_latency_counts_from_its_own_stamp() -> None:
    record = Record()
    t0 = 1_000_000_000
    # frame 1 (output samples 512..1023) was released by the second block's end; a
    # skipped tick 60 ms earlier moved its stamp (and its release) 60 ms later
    stamp = t0 + 512 * 1_000_000_000 // 48_000 + 60_000_000
    released = stamp + (2 * 960 - 512) * 1_000_000_000 // 48_000
    record.add_stamped(released + 300_000, t0, stamp, 1)
    record.add(t0 + 40_300_000, t0, first_sample=0)
    latencies, processing = record.figures()
    assert processing == [300_000, 300_000]
    assert abs(latencies[0] - (released + 300_000 - stamp - 512 * 1_000_000_000 // 48_000)) <= 1
    assert len(record) == 2 and record.figures(1) == (latencies[:1], processing[:1])


def test_a_frame_s_release_time_follows_from_its_stamp_and_sequence() -> None:
    # what the streamlib rows use (robust to gaps: it counts from each frame's own stamp)
    # agrees with the schedule the hand-written rows count from their start, where there
    # are no gaps; the library's own resampler and rechunker stamp the frames
    with StreamRuntime() as rt:
        chord = rt.add_processor(
            ChordGeneratorProcessor, sample_rate=24_000, buffer_size=480, live=False, duration_s=2.0
        )
        resampler = rt.add_processor(
            AudioResamplerProcessor, source_sample_rate=24_000, target_sample_rate=48_000
        )
        rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=512)
        sink = rt.add_processor(CollectingSink)
        rt.connect(chord.output_port("audio"), resampler.input_port("audio_in"))
        rt.connect(resampler.output_port("audio_out"), rechunker.input_port("audio_in"))
        rt.connect(rechunker.output_port("audio_out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        frames = instance(rt, sink).frames
    schedule = ReleaseSchedule(blocks=200)
    assert len(frames) > 150
    t0 = frames[0].timestamp_ns
    for k, frame in enumerate(frames):
        assert frame.sequence == k
        last = k * 512 + 511
        if last >= schedule.counts[99]:
            break  # released by the flush at end of stream, not by a block
        expected = t0 + (schedule.release_block(last) + 1) * 20_000_000
        # (stamps are whole nanoseconds, each rounded down: a few ns apart)
        assert abs(schedule.released_at(frame.timestamp_ns, frame.sequence) - expected) < 1000, k
    # a gap (skipped ticks) shifts a frame's stamp, and its release time with it
    gap = 60_000_000
    frame = frames[40]
    assert (
        schedule.released_at(frame.timestamp_ns + gap, 40)
        == schedule.released_at(frame.timestamp_ns, 40) + gap
    )


def test_only_picks_variants_by_substring_or_exact_name() -> None:
    names = ["streamlib", "streamlib optimize=False", "GStreamer 1.22", "GStreamer 1.22 + queues"]
    assert [n for n in names if _peers.selects([], n)] == names
    assert [n for n in names if _peers.selects(["streamlib"], n)] == names[:2]
    assert [n for n in names if _peers.selects(["=streamlib", "=GStreamer 1.22"], n)] == [names[0], names[2]]
    assert [n for n in names if _peers.selects(["=GStreamer"], n)] == []


def test_the_command_writes_json_plots_and_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_peers, "SYSTEM_PYTHON", str(tmp_path / "no-python"))  # GStreamer: skipped
    out = tmp_path / "benchmarks"
    code = _peers.main(
        [
            "--out",
            str(out),
            "--only",
            "streamlib,1 loop,pooled,GStreamer",
            "--counts",
            "1,2",
            "--seconds",
            "0.6",
            "--warmup",
            "0.2",
            "--buffers",
            "100",
            "--no-density",
        ]
    )
    assert code == 0
    report = json.loads((out / "peers.json").read_text())
    assert set(report["variants"]) == {
        "streamlib",
        "streamlib optimize=False",
        "streamlib: chain as one processor",
        "hand-written, 1 loop per pipeline",
        "hand-written, pooled",
    }
    for name, entry in report["variants"].items():
        assert [row["pipelines"] for row in entry["live"]] == [1, 2], name
        assert all(row["frames"] > 0 for row in entry["live"]), name
        assert entry["offline_buffers_per_s"] > 0, name
    # the seed's plan (3 threads per pipeline) until measured costs fuse each pipeline and
    # pool it (the pool's workers), plus the runtime's cost monitor
    assert 1 <= report["variants"]["streamlib"]["live"][1]["threads"] <= 6 + 1
    assert report["variants"]["hand-written, 1 loop per pipeline"]["live"][1]["threads"] == 2
    assert report["variants"]["hand-written, pooled"]["live"][1]["threads"] == (os.cpu_count() or 2)
    assert set(report["skipped"]) == {"GStreamer 1.22", "GStreamer 1.22 + queues"}
    assert "not found" in report["skipped"]["GStreamer 1.22"]
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "| streamlib |" in markdown and "skipped" in markdown
    for plot in ("latency_p99.png", "density.png", "cpu.png", "offline.png"):
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"


def test_clearing_a_record_counts_from_then_on_and_frees_nothing_while_pipelines_run() -> None:
    record = Record()
    t0 = 1_000_000_000
    record.add(t0 + 40_300_000, t0, first_sample=0)
    warm = record.entries
    record.clear()
    assert len(record) == 0 and record.figures() == ([], [])
    record.add(t0 + 40_400_000, t0, first_sample=0)
    assert len(record) == 1 and record.figures()[1] == [400_000]
    assert record.entries is warm and len(warm) == 2  # (freed with the record, after the run)
