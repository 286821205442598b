"""``python -m streamlib.bench wake``: the flagship DSP's CPU per tick by spacing."""

from __future__ import annotations

import pytest

from streamlib.bench import _wake
from streamlib.bench.__main__ import main


def test_wake_measures_each_spacing_on_the_thread_s_cpu_clock() -> None:
    w = _wake.measure(seconds=0.15)
    # a tick of resample + stereo + rechunk + reverb is native work: tens of us at
    # least, and no spacing makes it cheaper than nothing
    for us in (w.back_to_back_us, w.after_1ms_sleep_us, w.first_after_20ms_us, w.rest_after_20ms_us):
        assert 5 < us < 50_000
    assert w.sleep_1ms_us > 0
    # the sleep's own CPU is counted in the figures that sleep before their tick
    assert w.after_1ms_sleep_us > w.sleep_1ms_us


def test_wake_is_a_bench_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wake", "--seconds", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "back to back" in out and "first of 20 after a 20 ms sleep" in out
