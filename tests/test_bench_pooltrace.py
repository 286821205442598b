"""``python -m streamlib.bench pooltrace``: the step log and what it makes of steps."""

from __future__ import annotations

import pytest

from streamlib.bench import _pooltrace
from streamlib.bench._pooltrace import Step, bins, first_late, step_log, timeline
from streamlib.engine._pool import PooledRunner

MS = 1_000_000


def test_the_timeline_and_the_bins_tell_a_slow_stretch_from_a_waiting_step() -> None:
    log = [
        Step(0 * MS, 1 * MS, 0, "pool-0", 1 * MS),  # on time, wall = CPU
        Step(2 * MS, 3 * MS, 1 * MS, "pool-0", 1 * MS),
        Step(6 * MS, 14 * MS, 5 * MS, "pool-1", 1 * MS),  # waited: wall 8 ms, CPU 1 ms
        Step(1005 * MS, 1006 * MS, 980 * MS, "pool-0", 1 * MS),  # 25 ms behind
    ]
    rows = timeline(log, 0)
    assert [(r["bin"], r["steps"]) for r in rows] == [(0, 3), (1, 1)]
    assert rows[0]["mean_us"] == pytest.approx(10_000 / 3)
    assert rows[0]["busy_pct"] == pytest.approx(1.0)
    assert rows[1]["latest_ms"] == pytest.approx(25.0)
    first = first_late(log, 20 * MS)
    assert first is not None and first.began_ns == 1005 * MS
    assert first_late(log[:3], 20 * MS) is None
    around = bins(log, 0, 10 * MS)
    assert around[0]["workers"] == {"pool-0": [2, 2000.0, 2000.0]}
    assert around[1]["workers"] == {"pool-1": [1, 8000.0, 1000.0]}
    assert around[1]["latest_ms"] == pytest.approx(1.0)


def test_a_short_probe_logs_every_pipeline_s_steps_and_puts_the_step_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = PooledRunner.step
    with step_log() as raw:
        assert PooledRunner.step is not original
    assert PooledRunner.step is original and raw == []
    assert _pooltrace.main(["--pipelines", "3", "--seconds", "1", "--probes", "1", "--warmup", "1"]) == 0
    assert PooledRunner.step is original
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert head.startswith("streamlib, 3 pipelines, 1 s: ")
    steps = int(head.split(" late ticks, ")[1].split(" steps")[0])
    assert steps >= 3 * 25  # three pipelines ticking every 20 ms for a second, all logged
