"""The runtime's lifecycle states, one clear error per illegal transition."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile

from streamlib import Processor, ProcessorConfig, RuntimeStateError, StreamRuntime
from streamlib.testing import CollectingSink, FakeClock, PassThrough, ScriptedSource, Worker

from .conftest import streamlib_threads
from .helpers import chain


def test_start_twice_is_refused() -> None:
    with StreamRuntime() as rt:
        chain(rt, frames=1)
        rt.start()
        with pytest.raises(RuntimeStateError, match="already running"):
            rt.start()


def test_stop_is_final_and_idempotent() -> None:
    rt = StreamRuntime()
    _, _, sink = chain(rt, frames=5)
    rt.start()
    assert rt.run(timeout=10)
    rt.stop()
    rt.stop()
    with pytest.raises(RuntimeStateError, match="stop"):
        rt.start()
    with pytest.raises(RuntimeStateError, match="stop"):
        rt.add_processor(PassThrough)
    with pytest.raises(RuntimeStateError, match="stop"):
        rt.remove_processor(sink)
    assert rt.run(timeout=1) is False


def test_stop_before_start_then_nothing_runs() -> None:
    rt = StreamRuntime()
    chain(rt, frames=5)
    rt.stop()
    with pytest.raises(RuntimeStateError):
        rt.start()
    assert streamlib_threads() == []


def test_run_before_start_is_refused() -> None:
    rt = StreamRuntime()
    with pytest.raises(RuntimeStateError, match="start"):
        rt.run(timeout=1)


def test_context_manager_stops() -> None:
    with StreamRuntime(clock=FakeClock()) as rt:
        chain(rt, frames=None, live=True, middles=(Worker,))
        rt.start()
        assert len(streamlib_threads()) == 3
    assert streamlib_threads() == []
    assert not rt.running


def test_stats_has_the_documented_fields_and_serializes() -> None:
    with StreamRuntime() as rt:
        src, mids, _ = chain(rt, frames=100, middles=(PassThrough, Worker))
        rt.start()
        assert rt.run(timeout=10)
        stats = rt.stats()
        json.dumps(stats)
        p = stats["processors"][src.id]
        assert {
            "type",
            "frames_in",
            "frames_out",
            "process_calls",
            "process_time_us_mean",
            "thread",
            "state",
        } <= set(p)
        assert p["type"] == "ScriptedSource" and p["frames_out"] == 100 and p["frames_in"] == 0
        assert p["thread"] == f"streamlib:{src.id}"
        assert stats["processors"][mids[0].id]["thread"] == f"streamlib:{src.id}"  # fused
        for cid, c in stats["connections"].items():
            assert isinstance(cid, int)
            assert {"source", "sink", "fused", "capacity", "occupancy", "frames", "dropped"} <= set(c)
            assert c["frames"] == 100
        (thread,) = [t for t in stats["threads"] if t["name"] == f"streamlib:{src.id}"]
        assert {"name", "native_id", "processors", "priority", "applied"} <= set(thread)
        assert thread["processors"] == [src.id, mids[0].id]
        assert set(stats["optimizer"]) >= {"cache_hits", "cache_misses", "cache_entries", "last_analysis_us"}


def test_unscheduled_processors_are_reported_as_such(caplog: pytest.LogCaptureFixture) -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=3)
        lonely = rt.add_processor(CollectingSink)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), sink.input_port("in"))
        assert not rt.plan.processors[lonely.id].scheduled
        with caplog.at_level("WARNING", logger="streamlib"):
            rt.start()
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        held = f"{lonely.id} (CollectingSink)"
        assert warnings == [f"start(): not scheduled until a port side is connected: {held}"]
        assert rt.run(timeout=10)
        assert rt.stats()["processors"][lonely.id]["state"] == "not scheduled"
        assert rt.stats()["processors"][lonely.id]["thread"] is None


def test_unresolvable_config_annotation_is_a_clear_type_error() -> None:
    @dataclass(frozen=True)
    class _Cfg(ProcessorConfig):
        x: "NoSuchType" = 1  # type: ignore[name-defined]  # noqa: F821, UP037

    with pytest.raises(TypeError, match="NoSuchType"):
        _Cfg()


def test_processor_without_process_is_refused() -> None:
    class _Empty(Processor):
        pass

    with StreamRuntime() as rt, pytest.raises(TypeError, match="_Empty"):
        rt.add_processor(_Empty)


SEED_PLAN = """Graph optimization complete:
  - ChordGeneratorProcessor (processor_0): REAL_TIME, DEDICATED
  - AudioResamplerProcessor (processor_1): NORMAL, FUSED (into processor_0)
  - AudioChannelConverterProcessor (processor_2): NORMAL, FUSED (into processor_0)
  - BufferRechunkerProcessor (processor_3): NORMAL, FUSED (into processor_0)
  - ReverbProcessor (processor_4): NORMAL, DEDICATED
  - WavFileSinkProcessor (processor_5): REAL_TIME, DEDICATED
  - Connections:
    - processor_0.audio -> processor_1.audio_in: fused (no buffer)
    - processor_1.audio_out -> processor_2.audio_in: fused (no buffer)
    - processor_2.audio_out -> processor_3.audio_in: fused (no buffer)
    - processor_3.audio_out -> processor_4.audio_in: capacity=6 (REAL_TIME_TO_NORMAL)
    - processor_4.audio_out -> processor_5.audio: capacity=4 (NORMAL_TO_REAL_TIME)"""


def test_demo_command_runs_without_devices(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamlib.cli", "demo", "--seconds", "1", "--no-devices"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert SEED_PLAN in result.stdout  # the seed's plan, as built
    assert "chord generator stands in" in result.stdout
    assert "streamlib-demo.wav" in result.stdout
    assert "end-to-end latency (capture timestamp to speaker): p50" in result.stdout
    assert "dropped: 0; underruns: 0" in result.stdout
    data, rate = soundfile.read(str(tmp_path / "streamlib-demo.wav"), always_2d=True)
    assert rate == 48000
    assert data.shape == (48000, 2)  # one second, resampled to 48 kHz stereo, nothing lost


def test_cli_help_and_usage_errors() -> None:
    run = [sys.executable, "-m", "streamlib.cli"]
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert helped.returncode == 0 and "demo" in helped.stdout
    wrong = subprocess.run([*run, "bogus"], capture_output=True, text=True, timeout=30, check=False)
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1 and "invalid choice: 'bogus'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_hop_benchmark_command_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamlib.bench", "hop", "--frames", "500", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "(a)/(c)" in result.stdout and "(b)/(a)" in result.stdout


def test_soak_command_runs_briefly() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamlib.bench",
            "soak",
            "--minutes",
            "0.05",
            "--pipelines",
            "3",
            "--sample",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lost on their paths: 0" in result.stdout
    assert "RSS slope" in result.stdout


def test_video_benchmark_command_runs_briefly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamlib.bench", "video", "--frames", "10", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "frames/s" in result.stdout and "CPU ms/frame" in result.stdout
