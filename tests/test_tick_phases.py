"""Tick phases: clock-driven sources with equal periods are spread across the period,
so hundreds of them do not wake at the same instant (issue #9)."""

from __future__ import annotations

from fractions import Fraction

from streamlib import StreamRuntime
from streamlib.testing import CollectingSink, FakeClock, ScriptedSource, instance

PERIOD = 10_000_000  # 10 ms


def test_sources_started_together_get_phases_spread_across_the_period() -> None:
    clock = FakeClock()
    t0 = clock.now_ns()
    with StreamRuntime(clock=clock) as rt:
        sinks = []
        for _ in range(4):
            src = rt.add_processor(ScriptedSource, live=True, num_frames=None, period_ns=PERIOD)
            sink = rt.add_processor(CollectingSink)
            rt.connect(src.output_port("out"), sink.input_port("in"))
            sinks.append(instance(rt, sink))
        rt.start()
        clock.advance(PERIOD)  # each source's first tick comes within one period
        for sink in sinks:
            assert sink.wait_for(1)
        first = sorted(sink.frames[0].timestamp_ns for sink in sinks)
        # block 0 of each was captured from its tick origin: 0, 1/4, 1/2, 3/4 of a period apart
        assert [t - first[0] for t in first] == [0, PERIOD // 4, PERIOD // 2, 3 * PERIOD // 4]
        assert first[-1] == t0  # the first source's phase: its origin is when it started
        clock.advance(PERIOD)
        for sink in sinks:
            assert sink.wait_for(2)
            assert sink.frames[1].timestamp_ns - sink.frames[0].timestamp_ns == PERIOD
        assert rt.errors == []


def test_phases_follow_the_van_der_corput_sequence_and_never_start_late() -> None:
    """The engine's choice, directly: the k-th source of a period gets phase vdc(k),
    and its origin is at most one period before now."""
    with StreamRuntime() as rt:
        engine = rt._engine
        period = Fraction(512 * 1_000_000_000, 48_000)
        now = 1_000_000_000_000
        origins = [engine.tick_origin(period, now) for _ in range(8)]
        assert all(now - period < origin <= now for origin in origins)
        phases = [((origin - origins[0]) % period) / period for origin in origins]
        expected = [0, 1 / 2, 1 / 4, 3 / 4, 1 / 8, 5 / 8, 3 / 8, 7 / 8]
        assert [round(float(p), 6) for p in phases] == [round(e, 6) for e in expected]
        later = engine.tick_origin(period, now + 12_345_678_901)  # later on: same grid
        assert round(float(((later - origins[0]) % period) / period), 6) == round(1 / 16, 6)
