"""Measured cost rules (issue #9): cost classes with hysteresis, plans under measured
costs, the cost class in the plan cache key, and live re-plans when costs change."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from streamlib import StreamRuntime, ThreadingStrategy
from streamlib.graph import Graph, Processor
from streamlib.plan import CostClass, CostSample, Optimizer, classify_cost, optimize
from streamlib.runtime import _costs as costs_module
from streamlib.testing import (
    BusyWork,
    CollectingSink,
    FakeClock,
    FakeCosts,
    PassThrough,
    ScriptedSource,
    Worker,
    check_costs,
    instance,
    use_costs,
)

from .conftest import streamlib_threads
from .helpers import chain

CHEAP, SLOW, UNMEASURED = CostClass.CHEAP, CostClass.SLOW, CostClass.UNMEASURED
PERIOD_MS = 512 / 48  # a 512-sample block at 48 kHz: 10.67 ms


def sample(cpu_share: float, wall_share: float | None = None, calls: int = 64) -> CostSample:
    period = PERIOD_MS * 1e6
    wall = cpu_share if wall_share is None else wall_share
    return CostSample(
        "processor_1",
        timed_calls=calls,
        cpu_p99_ns=round(cpu_share * period),
        cpu_mean_ns=0.0,
        wall_p50_ns=round(wall * period),
        wall_p99_ns=round(wall * period),
        wall_max_ns=0,
        period_ns=period,
    )


# --- classification ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "wall", "current", "expected"),
    [
        (0.002, None, UNMEASURED, CHEAP),  # the reverb: 21 us of 10.7 ms
        (0.05, None, UNMEASURED, CHEAP),
        (0.10, None, UNMEASURED, UNMEASURED),  # the band between: no decision yet
        (0.10, None, CHEAP, CHEAP),  # ... and no flapping either way
        (0.10, None, SLOW, SLOW),
        (0.24, None, CHEAP, CHEAP),
        (0.26, None, CHEAP, SLOW),
        (0.04, None, SLOW, CHEAP),  # recovered well below the fusing threshold
        (0.01, 0.30, UNMEASURED, UNMEASURED),  # cheap CPU but waits (median): not fused
        (0.01, 0.6, CHEAP, SLOW),  # blocks for most of a period on a typical call
    ],
)
def test_cost_classes_have_hysteresis(
    cpu: float, wall: float | None, current: CostClass, expected: CostClass
) -> None:
    assert classify_cost(sample(cpu, wall), current) is expected


def test_under_contention_wall_time_is_not_held_against_a_processor() -> None:
    """Sources of several components fell behind: a long wall time then measures the
    load (waiting for the interpreter lock, preemption), and CPU time alone decides."""
    assert classify_cost(sample(0.01, 1.5), CHEAP, wall_trusted=False) is CHEAP
    assert classify_cost(sample(0.01, 0.3), UNMEASURED, wall_trusted=False) is CHEAP
    assert classify_cost(sample(0.3, 0.3), CHEAP, wall_trusted=False) is SLOW


def test_too_few_calls_or_no_input_period_decide_nothing() -> None:
    assert classify_cost(sample(0.001, calls=15), UNMEASURED) is UNMEASURED
    assert classify_cost(sample(0.9, calls=15), CHEAP) is CHEAP
    idle = CostSample("processor_1", 64, 1000, 1000.0, 1000, 1000, 1000, None)
    assert classify_cost(idle, CHEAP) is CHEAP


# --- plans under measured costs -----------------------------------------------------------


def seed_chain(sink_live: bool) -> tuple[StreamRuntime, Graph, list[str]]:
    """The seed's flagship shape, built on a runtime that is never started: a live
    source, three lightweight processors, a reverb-like processor that is not
    declared lightweight, a sink."""
    rt = StreamRuntime()
    middles = (PassThrough, PassThrough, PassThrough, Worker)
    src, mids, sink = chain(rt, frames=None, live=True, middles=middles, sink_live=sink_live)
    return rt, rt._graph, [src.id, *(m.id for m in mids), sink.id]


def heads(plan: object, ids: list[str]) -> list[str]:
    return [plan.processors[p].head for p in ids]  # type: ignore[attr-defined]


def test_without_measurements_the_seed_plan_holds() -> None:
    _rt, graph, ids = seed_chain(sink_live=True)
    for observations in (None, {}, dict.fromkeys(ids, UNMEASURED)):
        plan = optimize(graph, observations)
        assert plan.thread_count == 3
        assert heads(plan, ids) == [ids[0]] * 4 + [ids[4], ids[5]]


def test_a_cheap_processor_fuses_and_a_device_sink_keeps_its_thread() -> None:
    _rt, graph, ids = seed_chain(sink_live=True)
    plan = optimize(graph, {ids[4]: CHEAP, ids[5]: CHEAP})
    assert heads(plan, ids) == [ids[0]] * 5 + [ids[5]]
    assert plan.thread_count == 2
    assert plan.processors[ids[4]].cost is CHEAP
    text = str(plan)
    assert f"Worker ({ids[4]}): NORMAL, FUSED (into {ids[0]}) [measured cheap" in text
    assert f"CollectingSink ({ids[5]}): REAL_TIME, DEDICATED\n" in text + "\n"


def test_a_cheap_sink_that_no_device_drives_joins_its_upstream_group() -> None:
    _rt, graph, ids = seed_chain(sink_live=False)
    plan = optimize(graph, {ids[4]: CHEAP, ids[5]: CHEAP})
    assert heads(plan, ids) == [ids[0]] * 6
    assert plan.thread_count == 1
    assert all(plan.connections[c].fused for c in graph.connections)
    only_sink = optimize(graph, {ids[5]: CHEAP})  # joins the reverb-like processor's group
    assert heads(only_sink, ids) == [ids[0]] * 4 + [ids[4], ids[4]]


def test_a_slow_processor_never_fuses_whatever_it_declares() -> None:
    _rt, graph, ids = seed_chain(sink_live=False)
    plan = optimize(graph, {ids[2]: SLOW})
    assert heads(plan, ids) == [ids[0], ids[0], ids[2], ids[2], ids[4], ids[5]]
    assert plan.processors[ids[2]].threading is ThreadingStrategy.DEDICATED
    assert "[measured slow" in str(plan)


def test_sources_fan_outs_and_the_baseline_ignore_cheapness() -> None:
    rt, graph, ids = seed_chain(sink_live=False)
    everything_cheap = dict.fromkeys(ids, CHEAP)
    source = optimize(graph, everything_cheap).processors[ids[0]]
    assert source.fused_into is None  # a head, never fused (pooled: see test_pool.py)
    baseline = optimize(graph, everything_cheap, fuse=False)
    assert baseline.thread_count == 6 and baseline == optimize(graph, fuse=False)
    # a second consumer of the second processor: a fan-out stays dedicated even when cheap
    extra = rt.add_processor(CollectingSink)
    rt.connect(rt._handle(ids[2]).output_port("out"), extra.input_port("in"))
    plan = optimize(graph, {**everything_cheap, extra.id: CHEAP})
    assert plan.processors[ids[2]].threading is ThreadingStrategy.DEDICATED


def test_the_cost_class_is_part_of_the_cache_key() -> None:
    _rt, graph, ids = seed_chain(sink_live=False)
    optimizer = Optimizer()
    before = optimizer.update(graph, ids)
    assert optimizer.observe({ids[4]: CHEAP}) == {ids[4]}
    assert optimizer.observe({ids[4]: CHEAP}) == set()  # no change, nothing to re-plan
    after = optimizer.update(graph, {ids[4]})
    assert after.checksum != before.checksum
    assert after == optimize(graph, {ids[4]: CHEAP})  # incremental == pure
    misses = optimizer.cache.misses
    optimizer.observe({ids[4]: UNMEASURED})
    again = optimizer.update(graph, {ids[4]})
    assert again == before and optimizer.cache.misses == misses  # the first plan, from the cache
    optimizer.observe({ids[4]: CHEAP})
    assert optimizer.update(graph, {ids[4]}) == after and optimizer.cache.misses == misses


# --- live, on the runtime ------------------------------------------------------------------


def test_costs_fuse_and_unfuse_a_running_live_chain_losing_no_frame() -> None:
    clock = FakeClock()
    period = 512 * 1_000_000_000 // 48000
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        src, (work,), sink = chain(rt, frames=None, live=True, middles=(Worker,), sink_live=False)
        rt.start()
        assert rt.plan.thread_count == 3
        source, collected = instance(rt, src), instance(rt, sink)
        worker_object = instance(rt, work)

        def step(k: int) -> None:
            for _ in range(k):
                n = source.emitted + 1
                clock.advance(period)
                assert collected.wait_for(n)

        step(10)
        source_thread = {t["name"]: t["native_id"] for t in rt.stats()["threads"]}[f"streamlib:{src.id}"]
        costs.set(work, cpu_us=21, period_ms=10.7)
        costs.set(sink, cpu_us=5, period_ms=10.7)
        assert check_costs(rt) == {work.id: CHEAP, sink.id: CHEAP}
        assert rt.plan.thread_count == 1
        for thread in streamlib_threads():  # the retired threads exit at once
            if thread.name != f"streamlib:{src.id}":
                thread.join(5)
        assert [t.name for t in streamlib_threads()] == [f"streamlib:{src.id}"]
        assert rt.stats()["processors"][work.id]["cost"] == "cheap"
        step(10)
        costs.set(work, cpu_us=1500, period_ms=10.7)  # 14 %: in the band, nothing changes
        assert check_costs(rt)[work.id] is CHEAP
        assert rt.plan.thread_count == 1
        costs.set(work, cpu_us=4000, period_ms=10.7)  # 37 %: slow, moved out
        assert check_costs(rt)[work.id] is SLOW
        assert rt.plan.processors[work.id].threading is ThreadingStrategy.DEDICATED
        assert rt.plan.processors[sink.id].fused_into == work.id  # still cheap: joins the worker
        assert rt.plan.thread_count == 2
        step(10)
        assert collected.sequences == list(range(30))  # every frame once, in order
        assert instance(rt, work) is worker_object  # never re-created
        threads = {t["name"]: t["native_id"] for t in rt.stats()["threads"]}
        assert threads[f"streamlib:{src.id}"] == source_thread  # the source's thread stayed
        assert rt.stats()["processors"][src.id]["ticks"] == 30  # and its clock never shifted
        assert rt.errors == []


def test_a_processor_declared_lightweight_but_measured_slow_is_moved_out() -> None:
    """Real measurements: a lightweight-declared processor that burns 4 ms of CPU per
    10.7 ms frame is found out and gets its own thread; a cheap one stays fused."""
    with StreamRuntime() as rt:
        use_costs(rt)  # the runtime's own measurements; the test decides when to look
        src = rt.add_processor(ScriptedSource, live=True, num_frames=None)
        light = rt.add_processor(PassThrough)
        busy = rt.add_processor(BusyWork, busy_us=4000)
        sink = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(src.output_port("out"), light.input_port("in"))
        rt.connect(light.output_port("out"), busy.input_port("in"))
        rt.connect(busy.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.plan.processors[busy.id].fused_into == src.id  # as declared
        collected = instance(rt, sink)
        assert collected.wait_for(5)
        assert check_costs(rt) == {}  # the first look starts the window
        assert collected.wait_for(5 + 8 * 20)  # >= 16 timed calls (one pass in 8 is timed)
        classes = check_costs(rt)
        assert classes[busy.id] is SLOW
        assert classes[light.id] is CHEAP
        assert rt.plan.processors[busy.id].threading is ThreadingStrategy.DEDICATED
        assert rt.plan.processors[light.id].fused_into == src.id
        p99 = rt.stats()["processors"][busy.id]["process_time_us_p99"]
        assert p99 >= 4000
        assert collected.wait_for(len(collected.sequences) + 5)  # still running
        assert rt.errors == []


class _WholeChain(Processor):
    """A clock-driven source that does all its work itself and writes no frames (a
    pipeline written as one processor)."""

    live = True
    period_ns = 5_000_000

    def setup(self) -> None:
        self.ticks = 0
        self.changed = threading.Condition()

    def process(self) -> None:
        sum(range(200))
        with self.changed:
            self.ticks += 1
            self.changed.notify_all()

    def wait_for(self, ticks: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.ticks >= ticks, timeout=30)


def test_a_clock_driven_source_is_measured_against_its_tick_period() -> None:
    """Real measurements: a source's calls are its ticks, so its cost is judged against
    its tick period, also when it makes no frames at all (it used to have no period
    then, so it was never judged, never pooled)."""
    with StreamRuntime() as rt:
        use_costs(rt)  # the runtime's own measurements; the test decides when to look
        whole = rt.add_processor(_WholeChain)
        rt.start()
        chain_object = instance(rt, whole)
        assert rt.plan.processors[whole.id].threading is ThreadingStrategy.DEDICATED
        assert chain_object.wait_for(5)
        assert check_costs(rt) == {}  # the first look starts the window
        assert chain_object.wait_for(5 + 8 * 20)  # >= 16 timed calls (one pass in 8 is timed)
        assert check_costs(rt) == {whole.id: CHEAP}
        assert rt.plan.processors[whole.id].threading is ThreadingStrategy.POOLED
        ticks = chain_object.ticks
        assert chain_object.wait_for(ticks + 5)  # ticking on the pool
        assert rt.errors == []


def test_a_look_at_the_measurements_holds_up_neither_edits_nor_a_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runtime's own measurements are read in paced chunks (a look at hundreds of
    processors takes a few hundred ms) outside the edit lock: an edit goes ahead while
    a look pauses between two chunks, and a stop ends the look at its next pause."""
    in_pause, go_on = threading.Event(), threading.Event()

    def pause(_seconds: float) -> None:
        in_pause.set()
        go_on.wait(10)

    monkeypatch.setattr(costs_module, "time", SimpleNamespace(sleep=pause))
    rt = StreamRuntime()
    use_costs(rt)  # the runtime's own measurements; the test decides when to look
    _src, _mids, sink = chain(rt, frames=None, live=True, middles=(PassThrough,) * 8, sink_live=False)
    rt.start()
    try:
        assert instance(rt, sink).wait_for(3)
        looking = threading.Thread(target=check_costs, args=(rt,))
        looking.start()
        assert in_pause.wait(10)  # past the first chunk of processors, pausing
        edited = threading.Event()

        def edit() -> None:
            rt.remove_processor(rt.add_processor(PassThrough))
            edited.set()

        threading.Thread(target=edit).start()
        assert edited.wait(10), "an edit waited for a look at the measurements"
        rt.stop()  # goes ahead as well
        assert looking.is_alive()  # (the look is still paused)
    finally:
        go_on.set()
        rt.stop()
    looking.join(10)  # it ends at its next pause, and re-plans nothing
    assert not looking.is_alive()
    assert rt.errors == []


def test_the_baseline_reads_no_measurements() -> None:
    costs = FakeCosts()
    with StreamRuntime(optimize=False) as rt:
        use_costs(rt, costs)
        _src, (work,), sink = chain(rt, frames=None, live=True, middles=(Worker,), sink_live=False)
        rt.start()
        costs.set(work, cpu_us=1, period_ms=10.7)
        costs.set(sink, cpu_us=1, period_ms=10.7)
        assert check_costs(rt) == {}
        assert rt.plan.thread_count == 3


def test_a_queue_holds_one_measured_burst_on_top_of_the_seed_capacity() -> None:
    _rt, graph, ids = seed_chain(sink_live=True)
    last = next(c for c in graph.connections.values() if c.sink == ids[5])
    assert optimize(graph).connections[last.id].capacity == 4  # NORMAL -> REAL_TIME
    bursty = optimize(graph, bursts={ids[4]: {"out": 4}})
    assert bursty.connections[last.id].capacity == 4 + 4 - 1
    assert bursty.checksum != optimize(graph).checksum  # part of the cache key
    fused = optimize(graph, {ids[4]: CHEAP}, bursts={ids[4]: {"out": 4}})
    assert fused.connections[last.id].capacity == 3 + 4 - 1  # REAL_TIME -> REAL_TIME
    optimizer = Optimizer()
    optimizer.update(graph, ids)
    assert optimizer.observe({}, {ids[4]: {"out": 4}}) == {ids[4]}
    assert optimizer.update(graph, {ids[4]}) == bursty  # incremental == pure


def test_a_measured_burst_resizes_a_running_queue() -> None:
    clock = FakeClock()
    period = 512 * 1_000_000_000 // 48000
    costs = FakeCosts()
    with StreamRuntime(clock=clock) as rt:
        use_costs(rt, costs)
        src, (work,), sink = chain(rt, frames=None, live=True, middles=(Worker,))
        rt.start()
        source, collected = instance(rt, src), instance(rt, sink)
        clock.advance(period)
        assert collected.wait_for(1)
        costs.set_burst(work, "out", 4)
        check_costs(rt)
        cid = next(c for c, s in rt.stats()["connections"].items() if s["sink"] == f"{sink.id}.in")
        assert rt.plan.connections[cid].capacity == 4 + 4 - 1
        assert rt.stats()["connections"][cid]["capacity"] == 7
        for _ in range(5):
            n = source.emitted + 1
            clock.advance(period)
            assert collected.wait_for(n)
        assert collected.sequences == list(range(6))
