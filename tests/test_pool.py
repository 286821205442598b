"""Pooled execution (issue #9): clock-driven groups whose every member is measured
cheap run on a shared pool of workers, earliest deadline first; they move in and out
live without losing a frame; workers never spin; a fault stops only its component."""

from __future__ import annotations

import os
import threading
import time

import pytest

from streamlib import ProcessorError, StreamRuntime, ThreadingStrategy
from streamlib.engine import _pool
from streamlib.engine._pool import (
    EARLY_NS,
    HELP_AFTER_NS,
    PROBE_STEPS,
    RETRY_NS,
    STUCK_NS,
    HelpMeter,
    early_ns,
)
from streamlib.plan import POOL_WORKERS, CostClass, optimize
from streamlib.testing import (
    CollectingSink,
    FakeClock,
    FakeCosts,
    FaultInjector,
    PassThrough,
    ScriptedSource,
    check_costs,
    instance,
    use_costs,
)

from .conftest import streamlib_threads
from .helpers import chain

PERIOD = 512 * 1_000_000_000 // 48000
CHEAP = CostClass.CHEAP


def all_cheap(costs: FakeCosts, *handles: object) -> None:
    for handle in handles:
        costs.set(handle, cpu_us=20, period_ms=10.7)  # type: ignore[arg-type]


def unstuck(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a fake clock, real time passing in a step is the test machine's, not the
    runtime's: a step that waits for the interpreter lock while the test's own thread
    holds it is not stuck (``STUCK_NS``), and no second worker should join for it."""
    monkeypatch.setattr(_pool, "STUCK_NS", 10**12)


def live_pipeline(rt: StreamRuntime, middles: tuple[type, ...] = (PassThrough,)) -> tuple[object, ...]:
    src, mids, sink = chain(rt, frames=None, live=True, middles=middles, sink_live=False)
    return src, *mids, sink


def test_the_plan_pools_clock_driven_groups_whose_members_are_all_cheap() -> None:
    rt = StreamRuntime()
    src, mid, sink = live_pipeline(rt)
    ids = [src.id, mid.id, sink.id]  # type: ignore[attr-defined]
    graph = rt._graph
    assert optimize(graph).thread_count == 2  # as built: source + sink
    plan = optimize(graph, dict.fromkeys(ids, CHEAP))
    assert plan.processors[ids[0]].threading is ThreadingStrategy.POOLED
    assert [plan.processors[p].head for p in ids] == [ids[0]] * 3
    assert plan.thread_count == POOL_WORKERS == max(1, os.cpu_count() or 1)
    assert "POOLED [on the shared pool" in str(plan)
    partly = optimize(graph, {ids[1]: CHEAP, ids[2]: CHEAP})  # the source not measured yet
    assert partly.processors[ids[0]].threading is ThreadingStrategy.DEDICATED
    assert partly.thread_count == 1
    # a second pooled pipeline costs no thread
    src2, mid2, sink2 = live_pipeline(rt)
    more = dict.fromkeys([*ids, src2.id, mid2.id, sink2.id], CHEAP)  # type: ignore[attr-defined]
    assert optimize(graph, more).thread_count == POOL_WORKERS


def test_groups_move_into_the_pool_and_out_again_losing_no_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    # every tick runs at its deadline, so each step of the clock by a period is one
    # tick per source (a busy worker's early window would run some a step sooner)
    monkeypatch.setattr(_pool, "EARLY_NS", 0)
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        pipelines = [live_pipeline(rt) for _ in range(3)]
        rt.start()
        sources = [instance(rt, p[0]) for p in pipelines]
        sinks = [instance(rt, p[-1]) for p in pipelines]

        def step(k: int) -> None:
            for _ in range(k):
                wanted = [s.emitted + 1 for s in sources]
                clock.advance(PERIOD)
                for sink, n in zip(sinks, wanted, strict=True):
                    assert sink.wait_for(n)

        step(5)
        for p in pipelines:
            all_cheap(costs, *p)
        check_costs(rt)
        assert all(rt.plan.processors[p[0].id].threading is ThreadingStrategy.POOLED for p in pipelines)  # type: ignore[attr-defined]
        assert rt.plan.thread_count == POOL_WORKERS
        for thread in streamlib_threads():  # the dedicated threads retired
            if not thread.name.startswith("streamlib:pool-"):
                thread.join(5)
        assert sorted(t.name for t in streamlib_threads()) == [
            f"streamlib:pool-{k}" for k in range(POOL_WORKERS)
        ]
        pool_threads = {t["name"] for t in rt.stats()["threads"]}
        assert pool_threads == {f"streamlib:pool-{k}" for k in range(POOL_WORKERS)}
        step(10)
        costs.set(pipelines[0][1], cpu_us=4000, period_ms=10.7)  # turns slow: out of the pool
        check_costs(rt)
        plan = rt.plan.processors
        first = [p.id for p in pipelines[0]]  # type: ignore[attr-defined]
        assert plan[first[1]].threading is ThreadingStrategy.DEDICATED  # its own thread...
        assert plan[first[2]].fused_into == first[1]  # ...with the cheap sink
        assert plan[first[0]].threading is ThreadingStrategy.POOLED  # the source alone: still cheap
        assert rt.plan.thread_count == POOL_WORKERS + 1
        step(10)
        for p in pipelines:  # sources turn slow: out of the pool altogether, the workers stop
            costs.set(p[0], cpu_us=4000, period_ms=10.7)
        check_costs(rt)
        assert rt.plan.thread_count == 2 + 1 + 1
        assert not [t for t in streamlib_threads() if t.name.startswith("streamlib:pool-")]
        step(5)
        for sink in sinks:
            assert sink.sequences == list(range(30))  # every frame once, in order
        for source in sources:
            assert source.emitted == 30  # the schedule never shifted through the moves
        assert rt.errors == []


class ThreadNoting(PassThrough):
    """A pass-through that notes the thread of each call."""

    def setup(self) -> None:
        super().setup()
        self.threads: list[int] = []

    def process(self) -> None:
        self.threads.append(threading.get_ident())
        super().process()


def test_one_worker_runs_every_tick_while_it_keeps_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers taking turns on the interpreter lock cost CPU on every turn: while no
    due tick waits ``HELP_AFTER_NS``, the worker that is awake runs them all and the
    others sleep; when ticks queue up, they are all run, in order."""
    unstuck(monkeypatch)
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        n = 32  # phases 1/32 of a period apart: ~0.33 ms
        pipelines = [live_pipeline(rt, (ThreadNoting,)) for _ in range(n)]
        rt.start()
        for p in pipelines:
            all_cheap(costs, *p)
        check_costs(rt)
        assert all(rt.plan.processors[p[0].id].threading is ThreadingStrategy.POOLED for p in pipelines)  # type: ignore[attr-defined]
        groups = [rt._engine.groups[p[0].id] for p in pipelines]  # type: ignore[attr-defined]
        sinks = [instance(rt, p[-1]) for p in pipelines]
        notes = [instance(rt, p[1]) for p in pipelines]
        ticks = 0
        while ticks < 3 * n:  # several due at once, none HELP_AFTER_NS late
            now = min(g.deadline_ns for g in groups) + HELP_AFTER_NS * 9 // 10
            wanted = [  # (the busy worker also runs what is due within its early window)
                len(sink.frames) + (g.deadline_ns <= now + early_ns(g))
                for g, sink in zip(groups, sinks, strict=True)
            ]
            assert sum(wanted) - ticks >= 2
            clock.set(now)
            for sink, count in zip(sinks, wanted, strict=True):
                assert sink.wait_for(count)
            ticks = sum(wanted)
        assert sum(len(note.threads) for note in notes) == ticks
        assert len({t for note in notes for t in note.threads}) == 1
        counts = [len(sink.frames) for sink in sinks]
        clock.advance(5 * PERIOD)  # every pipeline 4-5 ticks behind at once (not shed yet)
        for sink, count in zip(sinks, counts, strict=True):
            assert sink.wait_for(count + 4)
        assert all(sink.sequences == list(range(len(sink.frames))) for sink in sinks)
        assert rt.errors == []


class Napping(ThreadNoting):
    """Notes its thread, then releases the interpreter lock for a while (as native work
    does), so an idle worker woken to help would get to run."""

    def process(self) -> None:
        time.sleep(0.0005)
        super().process()


def test_the_help_meter_allows_a_second_worker_only_while_it_pays() -> None:
    """Two workers stepping at once take turns on the interpreter lock; whether that
    gets more done than one worker alone is measured (fake durations here)."""
    meter = HelpMeter()
    now = 10**12
    for _ in range(100):
        meter.note(100_000, overlapped=False)  # alone: 100 us a step
    for _ in range(PROBE_STEPS - 1):
        meter.note(300_000, overlapped=True)  # overlapped: 300 us (two get 2/3 of one's)
        assert meter.pays(now)  # still measuring
    meter.note(300_000, overlapped=True)
    assert not meter.pays(now)
    for _ in range(100):  # help is off for RETRY_NS, whatever is seen meanwhile
        meter.note(100_000, overlapped=True)
    assert not meter.pays(now + RETRY_NS - 1)
    assert meter.pays(now + RETRY_NS)  # then it measures afresh
    for _ in range(PROBE_STEPS):
        meter.note(130_000, overlapped=True)  # native work side by side: two get 1.5x
    assert meter.pays(now + RETRY_NS + 1)
    for _ in range(200):
        meter.note(200_000, overlapped=True)  # the mix changed: 2x100/200 = 1 < 1.2
    assert not meter.pays(now + RETRY_NS + 2)


def test_workers_do_not_help_each_other_where_it_does_not_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the meter's verdict against help, ticks that queue up behind the worker
    are all run, in order, by that one worker; with it for help, a second joins."""
    unstuck(monkeypatch)
    for helps in (False, True):
        clock = FakeClock()
        costs = FakeCosts()
        with StreamRuntime(clock=clock) as rt:
            use_costs(rt, costs)
            pipelines = [live_pipeline(rt, (Napping,)) for _ in range(8)]
            rt.start()
            for p in pipelines:
                all_cheap(costs, *p)
            check_costs(rt)
            assert all(rt.plan.processors[p[0].id].threading is ThreadingStrategy.POOLED for p in pipelines)  # type: ignore[attr-defined]
            rt._engine.pool.meter.against_until = 0 if helps else 2**62  # type: ignore[attr-defined]
            sinks = [instance(rt, p[-1]) for p in pipelines]
            notes = [instance(rt, p[1]) for p in pipelines]
            before = [len(note.threads) for note in notes]
            clock.advance(5 * PERIOD)  # every pipeline 4-5 ticks behind at once
            for sink in sinks:
                assert sink.wait_for(4)
            threads = {t for note, k in zip(notes, before, strict=True) for t in note.threads[k:]}
            assert len(threads) == (2 if helps else 1)
            assert all(sink.sequences == list(range(len(sink.frames))) for sink in sinks)
            assert rt.errors == []


class Blocking(ThreadNoting):
    """Blocks in one call, once armed, until released (as a processor stuck on I/O or
    a lock does: the interpreter lock is free meanwhile)."""

    def setup(self) -> None:
        super().setup()
        self.armed = threading.Event()
        self.entered = threading.Event()
        self.release = threading.Event()

    def process(self) -> None:
        if self.armed.is_set() and not self.entered.is_set():
            self.entered.set()
            self.release.wait(30)
        super().process()


def test_a_stuck_step_does_not_hold_up_the_pool_s_other_groups() -> None:
    """One pooled group's call blocks: once its step has run ``STUCK_NS``, an idle worker
    runs the other groups' due ticks (real time: being stuck is a matter of the wall
    clock), even with the help meter against a second worker; when the call returns,
    its group goes on where it was, and no group lost a frame."""
    costs = FakeCosts()
    with StreamRuntime() as rt:
        use_costs(rt, costs)
        stuck = live_pipeline(rt, (Blocking,))
        others = [live_pipeline(rt, (ThreadNoting,)) for _ in range(3)]
        rt.start()
        pipelines = (stuck, *others)
        for p in pipelines:
            all_cheap(costs, *p)
        check_costs(rt)
        assert all(rt.plan.processors[p[0].id].threading is ThreadingStrategy.POOLED for p in pipelines)  # type: ignore[attr-defined]
        rt._engine.pool.meter.against_until = 2**62  # type: ignore[attr-defined]
        blocking = instance(rt, stuck[1])
        sinks = [instance(rt, p[-1]) for p in others]

        def dropped() -> int:  # (the queues of the dedicated start may drop on a busy machine)
            return sum(c["dropped"] for c in rt.stats()["connections"].values())

        drops = dropped()
        try:
            blocking.armed.set()
            assert blocking.entered.wait(10)
            began = time.perf_counter_ns()
            counts = [len(sink.frames) for sink in sinks]
            for sink, count in zip(sinks, counts, strict=True):  # meanwhile the others tick on
                assert sink.wait_for(count + 3)
            assert time.perf_counter_ns() - began > STUCK_NS  # (they did wait that long)
        finally:
            blocking.release.set()
        stuck_sink = instance(rt, stuck[-1])
        assert stuck_sink.wait_for(len(stuck_sink.frames) + 3)  # it goes on
        for sink in (*sinks, stuck_sink):  # every frame once, in order
            assert sink.sequences == sorted(set(sink.sequences))
        assert dropped() == drops  # none lost meanwhile
        assert rt.errors == []


@pytest.mark.parametrize(
    ("periods", "early"),
    [
        # 10.7 ms periods: the window is a quarter of the period (2.7 ms); the second
        # source is due 1.3 ms after the first, the third 5.3 ms after
        ((PERIOD, PERIOD + PERIOD // 8, PERIOD + PERIOD // 2), (True, True, False)),
        # 40 ms periods: the window is EARLY_NS (5 ms), not a quarter of the period
        ((40_000_000, 43_000_000, 46_000_000), (True, True, False)),
        # 4 ms periods: a 1 ms window, so a tick 1.5 ms ahead waits for its deadline
        ((4_000_000, 4_800_000, 5_500_000), (True, True, False)),
    ],
    ids=["quarter-period", "capped", "short-period"],
)
def test_a_busy_worker_runs_a_tick_due_within_its_early_window_instead_of_sleeping(
    monkeypatch: pytest.MonkeyPatch, periods: tuple[int, int, int], early: tuple[bool, bool, bool]
) -> None:
    """A worker that has just run a tick also runs the next one whose deadline is at
    most ``early_ns()`` ahead (a quarter of its period, at most ``EARLY_NS``: each
    wake-up costs more than the sleep saves): its data is the deadline's (``tick_ns``,
    timestamps), only delivered sooner. A tick further ahead, or one only an idle
    worker would take, waits for its deadline."""
    unstuck(monkeypatch)
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        # different periods, so each source's phase starts at the same origin: the
        # first deadlines are the periods
        pipelines = [
            (src, *mids, sink)
            for src, mids, sink in (
                chain(rt, frames=None, live=True, sink_live=False, period_ns=p) for p in periods
            )
        ]
        rt.start()
        for p in pipelines:
            all_cheap(costs, *p)
        check_costs(rt)
        groups = [rt._engine.groups[p[0].id] for p in pipelines]  # type: ignore[attr-defined]
        assert all(rt.plan.processors[p[0].id].threading is ThreadingStrategy.POOLED for p in pipelines)  # type: ignore[attr-defined]
        assert [g.deadline_ns for g in groups] == list(periods)
        assert [periods[0] >= p - early_ns(g) for p, g in zip(periods, groups, strict=True)] == list(early)
        assert early_ns(groups[1]) == min(EARLY_NS, periods[1] // 4)
        first, near, far = (instance(rt, p[-1]) for p in pipelines)
        clock.set(periods[0])  # the first is due; the second is within its window
        assert first.wait_for(1)
        assert near.wait_for(1)
        assert clock.now_ns() == periods[0] < periods[1]
        assert near.frames[0].timestamp_ns == 0  # its block began one period before its deadline
        assert instance(rt, pipelines[1][0]).tick_ns == periods[1]
        for _ in range(100):  # the third waits (time passes on the real clock only)
            rt.stats()
        assert far.frames == []
        clock.set(periods[2] - early_ns(groups[2]))  # an idle worker does not run ticks early
        for _ in range(100):
            rt.stats()
        assert far.frames == []
        clock.set(periods[2])
        assert far.wait_for(1)
        assert far.frames[0].timestamp_ns == 0
        assert rt.errors == []


def test_pool_workers_never_spin() -> None:
    """With nothing due, the workers block: no pass runs until the clock moves."""
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        pipeline = live_pipeline(rt)
        rt.start()
        all_cheap(costs, *pipeline)
        check_costs(rt)
        group = rt._engine.groups[pipeline[0].id]  # type: ignore[attr-defined]
        sink = instance(rt, pipeline[-1])
        clock.advance(PERIOD)
        assert sink.wait_for(1)
        passes = group._passes
        cpu = _cpu_ticks([t.native_id for t in streamlib_threads()])
        for _ in range(300):  # time passes on the real clock, none on the runtime's
            rt.stats()
        assert group._passes == passes
        assert _cpu_ticks([t.native_id for t in streamlib_threads()]) - cpu <= 1  # 10 ms of slack
        clock.advance(PERIOD)
        assert sink.wait_for(2)
        assert group._passes > passes


def _cpu_ticks(native_ids: list[int | None]) -> int:
    total = 0
    for tid in native_ids:
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def test_a_group_that_raises_in_the_pool_stops_only_its_component() -> None:
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        bad_src = rt.add_processor(ScriptedSource, live=True, num_frames=None)
        bad = rt.add_processor(FaultInjector, fail_in="process", after=3)
        bad_sink = rt.add_processor(CollectingSink)
        rt.connect(bad_src.output_port("out"), bad.input_port("in"))
        rt.connect(bad.output_port("out"), bad_sink.input_port("in"))
        good = live_pipeline(rt)
        rt.start()
        all_cheap(costs, bad_src, bad, bad_sink, *good)
        check_costs(rt)
        assert rt.plan.processors[bad_src.id].threading is ThreadingStrategy.POOLED
        sink = instance(rt, good[-1])
        for k in range(1, 9):
            clock.advance(PERIOD)
            assert sink.wait_for(k)
        errors = rt.errors
        assert len(errors) == 1 and isinstance(errors[0], ProcessorError)
        assert errors[0].processor_id == bad.id
        assert instance(rt, bad_sink).sequences == [0, 1, 2]
        assert sink.sequences == list(range(8))  # the other pooled pipeline kept its ticks
        assert rt.stats()["processors"][bad.id]["state"] == "failed"


def test_a_failure_of_streamlib_s_own_code_in_a_step_loses_no_worker() -> None:
    # a bug in the runtime's code around a pooled group (here: its report that the group
    # is done) is reported against the group, stops only its component, and leaves
    # every worker serving the others; before, the worker died with the runner marked
    # running, so stop() found its processors stuck
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        short = chain(rt, frames=3, live=True, middles=(PassThrough,), sink_live=False)
        good = live_pipeline(rt)
        engine = rt._engine
        done = engine.group_done

        def group_done(runner: object) -> None:
            if runner.group.head_id == short[0].id:  # type: ignore[attr-defined]
                raise RuntimeError("injected into group_done")
            done(runner)  # type: ignore[arg-type]

        failed = engine.group_failed
        reported = threading.Event()

        def group_failed(*args: object) -> None:
            failed(*args)  # type: ignore[arg-type]
            reported.set()

        engine.group_done = group_done  # type: ignore[method-assign]
        engine.group_failed = group_failed  # type: ignore[method-assign]
        rt.start()
        all_cheap(costs, short[0], *short[1], short[2], *good)
        check_costs(rt)
        assert rt.plan.processors[short[0].id].threading is ThreadingStrategy.POOLED
        pool = engine.pool
        workers = list(pool.workers)
        sink = instance(rt, good[-1])
        for k in range(1, 6):  # the short pipeline's three frames and end are due by then
            clock.advance(PERIOD)
            assert sink.wait_for(k)
        assert reported.wait(10)
        errors = rt.errors
        assert len(errors) == 1 and isinstance(errors[0], ProcessorError), errors
        assert errors[0].processor_id in {short[0].id, short[2].id}
        assert "a bug in streamlib" in str(errors[0]) and "injected into group_done" in str(errors[0])
        assert instance(rt, short[2]).sequences == [0, 1, 2]  # its frames all arrived
        assert all(worker.is_alive() for worker in workers)
        for k in range(6, 10):  # the workers still serve the pool
            clock.advance(PERIOD)
            assert sink.wait_for(k)
        assert sink.sequences == list(range(9))
    stats = rt.stats()["processors"]
    assert all(stats[p.id]["state"] != "did not stop" for p in (short[0], *short[1], short[2], *good))


def test_an_identical_pipeline_starts_with_what_was_measured_of_the_first() -> None:
    """Measured classes are remembered by structure: a tenant's second pipeline (the
    same types, configs and connections) is pooled from its first plan; a different
    one is not."""
    clock = FakeClock()
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        first = live_pipeline(rt)
        rt.start()
        all_cheap(costs, *first)
        check_costs(rt)
        assert rt.plan.processors[first[0].id].threading is ThreadingStrategy.POOLED  # type: ignore[attr-defined]
        second = live_pipeline(rt)
        assert rt.plan.processors[second[0].id].threading is ThreadingStrategy.POOLED  # type: ignore[attr-defined]
        assert rt.plan.processors[second[0].id].cost is CHEAP  # type: ignore[attr-defined]
        assert rt.plan.thread_count == POOL_WORKERS
        other = chain(rt, frames=None, live=True, middles=(PassThrough, PassThrough), sink_live=False)
        assert rt.plan.processors[other[0].id].threading is ThreadingStrategy.DEDICATED
        sink = instance(rt, second[-1])
        for k in range(1, 4):
            clock.advance(PERIOD)
            assert sink.wait_for(k)
        assert sink.sequences == [0, 1, 2]
