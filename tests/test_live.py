"""Live components: clock-driven sources on the runtime clock, drop-oldest queues
whose counts add up exactly, priorities, latency, thread accounting."""

from __future__ import annotations

import os
import threading

import pytest

from streamlib import StreamRuntime, ThreadPriority
from streamlib.engine import read_thread_sched
from streamlib.testing import FakeClock, PassThrough, ScriptedSource, Worker, instance

from .conftest import streamlib_threads
from .helpers import chain

PERIOD = 512 * 1_000_000_000 // 48000  # one 512-sample block at 48 kHz


def step(clock: FakeClock, source: ScriptedSource, frames: int) -> None:
    """Advance the fake clock one period at a time until ``frames`` were emitted."""
    while source.emitted < frames:
        n = source.emitted + 1
        clock.advance(PERIOD)
        assert source.wait_emitted(n, timeout=10)


def test_clock_driven_source_emits_one_frame_per_elapsed_period() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=None, live=True)
        rt.start()
        source = instance(rt, src)
        collected = instance(rt, sink)
        assert source.emitted == 0  # nothing before the first period elapsed
        step(clock, source, 5)
        assert collected.wait_for(5)
        assert source.emitted == 5
        assert collected.sequences == [0, 1, 2, 3, 4]
        stats = rt.stats()["processors"][src.id]
        assert stats["ticks"] == 5
        assert stats["ticks_late"] == 0


def test_ticks_keep_absolute_deadlines_after_a_jump() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=None, live=True)
        rt.start()
        clock.advance(10 * PERIOD)  # a stall: ten periods at once
        assert instance(rt, src).wait_emitted(10)
        assert instance(rt, sink).wait_until(lambda seqs: 9 in seqs)
        ticks = rt.stats()["processors"][src.id]
        assert ticks["ticks"] == 10  # caught up, no tick lost, none extra
        assert ticks["ticks_late"] >= 8  # reported as deadline misses
        frames = instance(rt, sink).frames  # the live queue may drop some of the burst
        assert [f.timestamp_ns for f in frames] == [f.sequence * PERIOD for f in frames]  # no drift
        clock.advance(PERIOD)
        assert instance(rt, sink).wait_until(lambda seqs: 10 in seqs)
        assert rt.stats()["processors"][src.id]["ticks"] == 11


def test_latency_is_measured_at_live_sinks() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=None, live=True, middles=(PassThrough, Worker))
        rt.start()
        source, collected = instance(rt, src), instance(rt, sink)
        for n in range(1, 21):
            clock.advance(PERIOD)
            assert collected.wait_for(n)
        stats = rt.stats()["processors"][sink.id]
        # the fake clock does not move while frames travel: arrival == capture end
        assert stats["latency_ms_p50"] == 0.0
        assert stats["latency_ms_max"] == 0.0
        assert stats["latency_frames"] == 20
        assert source.emitted == 20


def test_overload_drops_oldest_and_the_counts_add_up_exactly() -> None:
    clock = FakeClock()
    sent = 200
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=sent, live=True, middles=())
        collected = instance(rt, sink)
        collected.hold()  # a consumer that has stopped consuming
        rt.start()
        step(clock, instance(rt, src), sent)
        assert collected.in_process.wait(10)
        collected.release()
        assert rt.run(timeout=30)
        stats = rt.stats()
        (conn,) = stats["connections"].values()
        received = collected.sequences
        assert received == sorted(received) and len(set(received)) == len(received)
        assert received[-3:] == [197, 198, 199]  # the newest survive
        assert conn["capacity"] == 3
        assert conn["frames"] == sent
        assert sent == len(received) + conn["dropped"] + conn["occupancy"]
        assert conn["dropped"] == sent - len(received) > 0


def test_overload_through_two_queues_accounts_for_every_frame() -> None:
    clock = FakeClock()
    sent = 300
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=sent, live=True, middles=(PassThrough, Worker))
        collected = instance(rt, sink)
        collected.hold()
        rt.start()
        step(clock, instance(rt, src), sent)
        assert collected.in_process.wait(10)
        collected.release()
        assert rt.run(timeout=30)
        connections = rt.stats()["connections"]
        queued = [c for c in connections.values() if not c["fused"]]
        assert sorted(c["capacity"] for c in queued) == [4, 6]
        dropped = sum(c["dropped"] for c in connections.values())
        occupancy = sum(c["occupancy"] for c in connections.values())
        received = collected.sequences
        assert received == sorted(received)
        assert sent == len(received) + dropped + occupancy
        assert dropped > 0


def test_thread_count_matches_the_plan_and_nothing_remains_after_stop() -> None:
    clock = FakeClock()
    rt = StreamRuntime(clock=clock)
    chain(rt, frames=None, live=True, middles=(PassThrough, PassThrough, PassThrough, Worker))
    chain(rt, frames=None, live=False, middles=(Worker,))
    rt.start()
    names = sorted(t.name for t in streamlib_threads())
    assert len(names) == rt.plan.thread_count == 3 + 3
    assert names == sorted(f"streamlib:{h}" for h, g in rt.plan.groups.items() if g.scheduled)
    rt.stop()
    assert streamlib_threads() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs CAP_SYS_NICE (CI runs as root)")
def test_real_time_threads_get_sched_fifo_from_the_kernel() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        chain(rt, frames=None, live=True, middles=(PassThrough, Worker))
        rt.start()
        threads = {t["name"]: t for t in rt.stats()["threads"]}
        assert len(threads) == 3
        for thread in threads.values():
            policy, rt_priority, nice = read_thread_sched(thread["native_id"])
            if thread["priority"] == ThreadPriority.REAL_TIME.name:
                assert thread["applied"] == "SCHED_FIFO 20"
                assert (policy, rt_priority) == (os.SCHED_FIFO, 20)
            else:
                assert thread["applied"] == "nice 0"
                assert (policy, nice) == (os.SCHED_OTHER, 0)
        # only the runtime's threads changed: the main thread keeps its class
        assert read_thread_sched(threading.get_native_id())[0] == os.SCHED_OTHER


def test_idle_graph_uses_no_cpu() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        chain(rt, frames=None, live=True, middles=(PassThrough, Worker))
        rt.start()
        ids = [t["native_id"] for t in rt.stats()["threads"]]

        def cpu_ticks() -> int:
            total = 0
            for tid in ids:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime
            return total

        before = cpu_ticks()
        threading.Event().wait(0.5)  # observe: a spinning thread would burn ~50 ticks
        assert cpu_ticks() - before <= 2
