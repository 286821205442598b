"""`python -m streamlib.bench peers`: the search, the report, and a short real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamlib.bench import _peers
from streamlib.bench._peers_python import Record, ReleaseSchedule


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


def test_processing_latency_counts_from_the_tick_that_released_the_frame() -> None:
    schedule = ReleaseSchedule(blocks=10)
    # libsoxr HQ 24 -> 48 kHz with 480-sample blocks emits nothing, then 1660 samples
    assert schedule.counts[0] == 0 and schedule.counts[1] == 1660
    record = Record()
    t0 = 1_000_000_000
    arrival = t0 + 2 * 20_000_000 + 300_000  # 0.3 ms after the second block's capture ended
    record.add(arrival, t0, first_sample=0)
    assert record.processing == [300_000]
    assert record.latencies == [arrival - t0 - 512 * 1_000_000_000 // 48_000]


def test_the_command_writes_json_plots_and_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_peers, "SYSTEM_PYTHON", str(tmp_path / "no-python"))  # GStreamer: skipped
    out = tmp_path / "benchmarks"
    code = _peers.main(
        [
            "--out",
            str(out),
            "--only",
            "streamlib,1 loop,GStreamer",
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
        "hand-written, 1 loop per pipeline",
    }
    for name, entry in report["variants"].items():
        assert [row["pipelines"] for row in entry["live"]] == [1, 2], name
        assert all(row["frames"] > 0 for row in entry["live"]), name
        assert entry["offline_buffers_per_s"] > 0, name
    # the seed's plan (3 threads per pipeline) until measured costs fuse each pipeline and
    # pool it (the pool's workers), plus the runtime's cost monitor
    assert 1 <= report["variants"]["streamlib"]["live"][1]["threads"] <= 6 + 1
    assert report["variants"]["hand-written, 1 loop per pipeline"]["live"][1]["threads"] == 2
    assert set(report["skipped"]) == {"GStreamer 1.22", "GStreamer 1.22 + queues"}
    assert "not found" in report["skipped"]["GStreamer 1.22"]
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "| streamlib |" in markdown and "skipped" in markdown
    for plot in ("latency_p99.png", "density.png", "cpu.png", "offline.png"):
        assert (out / plot).read_bytes()[:4] == b"\x89PNG"
