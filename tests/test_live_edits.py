"""Service mode: edits while running re-plan live, touch only what changed, and lose
nothing on any path that exists before and after the edit."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from streamlib import ProcessorError, RuntimeStateError, StreamRuntime, ThreadingStrategy
from streamlib.testing import CollectingSink, FakeClock, PassThrough, ScriptedSource, Worker, instance

from .conftest import streamlib_threads
from .helpers import chain


def native_ids(rt: StreamRuntime, pids: list[str]) -> dict[str, int]:
    return {
        t["name"]: t["native_id"] for t in rt.stats()["threads"] if any(p in t["processors"] for p in pids)
    }


def test_a_runtime_started_empty_accepts_a_pipeline_and_runs_it() -> None:
    with StreamRuntime() as rt:
        rt.start()
        assert rt.run(timeout=5)  # nothing to run
        _, _, sink = chain(rt, frames=500, middles=(Worker,))
        assert rt.plan.thread_count == 3
        assert rt.run(timeout=30)
        assert instance(rt, sink).sequences == list(range(500))
        assert instance(rt, sink).setup_calls == 1


def test_connecting_a_second_sink_unfuses_and_removing_it_fuses_again_losing_nothing() -> None:
    n = 30_000
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=n, block_size=16)
        light = rt.add_processor(PassThrough)
        first = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(src.output_port("out"), light.input_port("in"))
        rt.connect(light.output_port("out"), first.input_port("in"))
        assert rt.plan.processors[light.id].threading is ThreadingStrategy.FUSED
        rt.start()
        collected = instance(rt, first)
        assert collected.wait_for(2000)
        second = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(light.output_port("out"), second.input_port("in"))
        assert rt.plan.processors[light.id].threading is ThreadingStrategy.DEDICATED
        other = instance(rt, second)
        assert other.wait_for(2000)
        light_object = instance(rt, light)
        rt.remove_processor(second)
        assert rt.plan.processors[light.id].threading is ThreadingStrategy.FUSED
        assert rt.run(timeout=60)
        assert collected.sequences == list(range(n))  # every frame once, in order
        run = other.sequences
        assert run == list(range(run[0], run[0] + len(run)))  # a contiguous run
        assert other.shutdown_calls == 1
        assert instance(rt, light) is light_object  # never re-created
        assert rt.errors == []


def test_live_fusion_changes_with_a_live_source_on_the_runtime_clock() -> None:
    clock = FakeClock()
    period = 512 * 1_000_000_000 // 48000
    with StreamRuntime(clock=clock) as rt:
        src, (light,), first = chain(rt, frames=None, live=True, middles=(PassThrough,))
        rt.start()
        source, one = instance(rt, src), instance(rt, first)

        def step(k: int) -> None:
            for _ in range(k):
                n = source.emitted + 1
                clock.advance(period)
                assert one.wait_for(n)

        step(10)
        ids_before = native_ids(rt, [src.id])
        second = rt.add_processor(CollectingSink, live=True)
        rt.connect(light.output_port("out"), second.input_port("in"))
        assert rt.plan.processors[light.id].threading is ThreadingStrategy.DEDICATED
        step(10)
        two = instance(rt, second)
        assert two.wait_for(10)
        rt.remove_processor(second)
        step(10)
        assert one.sequences == list(range(30))
        assert two.sequences == list(range(10, 20))
        assert native_ids(rt, [src.id]) == ids_before  # the source's thread never restarted
        assert rt.stats()["processors"][src.id]["ticks"] == 30  # its clock never shifted


def test_unrelated_pipelines_come_and_go_without_touching_a_running_one() -> None:
    with StreamRuntime() as rt:
        src, mids, sink = chain(rt, frames=None, middles=(PassThrough, Worker), block_size=64)
        rt.start()
        collected = instance(rt, sink)
        assert collected.wait_for(100)
        ids = native_ids(rt, [src.id, mids[1].id, sink.id])
        assert len(ids) == 3
        for i in range(100):
            s, m, k = chain(rt, frames=5, middles=(PassThrough,) if i % 2 else (Worker,))
            for handle in (s, m[0], k):
                rt.remove_processor(handle)
        assert native_ids(rt, [src.id, mids[1].id, sink.id]) == ids
        seen = collected.sequences[:]
        assert seen == list(range(len(seen)))  # not a frame lost, doubled or reordered
        assert all(c["dropped"] == 0 for c in rt.stats()["connections"].values())


class _Valve(CollectingSink):
    """Takes nothing while closed (without blocking inside process())."""

    def setup(self) -> None:
        super().setup()
        self.open = threading.Event()

    def process(self) -> None:
        if self.open.is_set():
            super().process()


def test_live_queue_resize_keeps_contents_and_a_live_shrink_drops_the_oldest() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=None)
        worker = rt.add_processor(Worker)
        sink = rt.add_processor(_Valve)
        rt.connect(src.output_port("out"), worker.input_port("in"))
        into_sink = rt.connect(worker.output_port("out"), sink.input_port("in"))
        rt.start()
        valve = instance(rt, sink)

        def queue() -> dict[str, Any]:
            stats: dict[str, Any] = rt.stats()["connections"][into_sink]
            return stats

        while queue()["occupancy"] < 12:  # the closed valve lets the queue fill; the worker then waits
            threading.Event().wait(0.001)
        before = queue()["frames"]
        # a live sink joins the component: it becomes live, and the queue into the valve
        # becomes NORMAL -> REAL_TIME: 4 frames, dropping; the newest 4 are kept
        live = rt.add_processor(CollectingSink, live=True)
        tap = rt.connect(worker.output_port("out"), live.input_port("in"))
        plan = rt.plan.connections[into_sink]
        assert (plan.capacity, plan.policy.name) == (4, "DROP_OLDEST")
        assert queue()["dropped"] >= 8
        assert instance(rt, live).wait_for(50)  # the released worker feeds both
        # non-live again: 12 frames, blocking; what the queue holds is kept
        valve.open.set()
        rt.disconnect(tap)
        assert rt.plan.connections[into_sink].capacity == 12
        assert valve.wait_for(500)
        seqs = valve.sequences
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)  # in order, nothing doubled
        stats = queue()
        assert stats["frames"] >= before
        assert stats["frames"] == len(seqs) + stats["dropped"] + stats["occupancy"]  # every frame accounted


def test_removing_a_processor_shuts_it_down_once_and_stops_its_thread() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=None)
        keep = rt.add_processor(CollectingSink, keep_frames=False)
        gone = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(src.output_port("out"), keep.input_port("in"))
        rt.connect(src.output_port("out"), gone.input_port("in"))
        rt.start()
        removed = instance(rt, gone)
        assert removed.wait_for(50)
        assert f"streamlib:{gone.id}" in {t.name for t in streamlib_threads()}
        rt.remove_processor(gone)
        assert removed.shutdown_calls == 1
        assert _joined(gone.id)
        got = len(removed.sequences)
        kept = instance(rt, keep)
        assert kept.wait_for(len(kept.sequences) + 500)  # frames keep flowing elsewhere...
        assert len(removed.sequences) == got  # ...and none reaches the removed processor
        assert rt.plan.thread_count == 2


def _joined(pid: str) -> bool:
    for t in streamlib_threads():
        if t.name == f"streamlib:{pid}":
            t.join(5)
            return not t.is_alive()
    return True


def test_add_processor_while_running_sets_it_up_and_reports_a_failure() -> None:
    class _Broken(PassThrough):
        def setup(self) -> None:
            raise OSError("no such device: /dev/video7")

    with StreamRuntime() as rt:
        chain(rt, frames=None)
        rt.start()
        before = rt.plan
        with pytest.raises(ProcessorError, match="/dev/video7"):
            rt.add_processor(_Broken)
        assert rt.plan == before
        ok = rt.add_processor(CollectingSink)
        assert instance(rt, ok).setup_calls == 1  # set up at once while running


def test_edits_from_many_threads_are_atomic() -> None:
    with StreamRuntime() as rt:
        rt.start()
        errors: list[BaseException] = []
        sinks: list[Any] = []
        lock = threading.Lock()

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(15):
                    src, mids, sink = chain(rt, frames=rng.randint(50, 300), middles=(PassThrough, Worker))
                    with lock:
                        sinks.append((sink, src))
                    if rng.random() < 0.3:
                        for handle in (src, *mids, sink):
                            rt.remove_processor(handle)
                        with lock:
                            sinks.remove((sink, src))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        assert rt.run(timeout=60)
        for sink, src in sinks:
            n = instance(rt, src).config.num_frames
            assert instance(rt, sink).sequences == list(range(n))


def test_edits_cannot_wait_forever_on_a_stuck_thread() -> None:
    release = threading.Event()
    entered = threading.Event()

    class _Stuck(Worker):
        def process(self) -> None:
            entered.set()
            release.wait()
            super().process()

    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=None)
        stuck = rt.add_processor(_Stuck)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), stuck.input_port("in"))
        rt.connect(stuck.output_port("out"), sink.input_port("in"))
        rt.start()
        assert entered.wait(10)
        import streamlib.engine._replan as engine_module

        old_timeout = engine_module.PAUSE_TIMEOUT_S
        engine_module.PAUSE_TIMEOUT_S = 0.3
        try:
            before = rt.plan
            other = rt.add_processor(CollectingSink)
            with pytest.raises(RuntimeStateError, match="did not reach a frame boundary"):
                rt.connect(stuck.output_port("out"), other.input_port("in"))
            assert rt.plan.connections.keys() == before.connections.keys()
        finally:
            engine_module.PAUSE_TIMEOUT_S = old_timeout
            release.set()


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_on_a_running_graph_keep_every_path_that_exists_throughout(seed: int) -> None:
    rng = random.Random(seed)
    n = 4000
    with StreamRuntime() as rt:
        # the path under watch: source -> a -> b -> sink, with a and b of random kinds
        src = rt.add_processor(ScriptedSource, num_frames=n, block_size=8)
        a = rt.add_processor(rng.choice([PassThrough, Worker]))
        b = rt.add_processor(rng.choice([PassThrough, Worker]))
        sink = rt.add_processor(CollectingSink, keep_frames=False)
        rt.connect(src.output_port("out"), a.input_port("in"))
        rt.connect(a.output_port("out"), b.input_port("in"))
        rt.connect(b.output_port("out"), sink.input_port("in"))
        rt.start()
        extras: list[Any] = []
        for _ in range(25):
            action = rng.random()
            if action < 0.5 or not extras:  # hang a branch off a or b: changes their fusion
                tap = rng.choice([src, a, b])
                branch = rt.add_processor(rng.choice([PassThrough, Worker]))
                end = rt.add_processor(CollectingSink, keep_frames=False)
                rt.connect(tap.output_port("out"), branch.input_port("in"))
                rt.connect(branch.output_port("out"), end.input_port("in"))
                extras.append((branch, end))
            else:
                pair = list(extras.pop(rng.randrange(len(extras))))
                rng.shuffle(pair)
                for handle in pair:
                    rt.remove_processor(handle)
        assert rt.run(timeout=60)
        assert instance(rt, sink).sequences == list(range(n))
        assert rt.errors == []
