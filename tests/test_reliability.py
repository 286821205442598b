"""Reliability: faults contained in every position and hook, counted loss under
overload, concurrent edits, and the same under a tiny GIL switch interval (races
that the GIL usually hides)."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from streamlib import ProcessorError, StreamError, StreamRuntime
from streamlib.testing import CollectingSink, FakeClock, PassThrough, ScriptedSource, Worker, instance

from .conftest import streamlib_threads
from .helpers import chain

HOOKS = ["setup", "process", "on_end_of_stream", "on_shutdown"]
POSITIONS = ["source", "fused", "dedicated", "sink"]


def _faulty(base: type, hook: str) -> type:
    """A subclass of ``base`` whose ``hook`` raises after the first frame."""

    def setup(self: Any) -> None:
        base.setup(self)
        if hook == "setup":
            raise RuntimeError("injected setup fault")

    def process(self: Any) -> Any:
        result = base.process(self)
        self.calls = getattr(self, "calls", 0) + 1
        if hook == "process" and self.calls == 3:
            raise RuntimeError("injected process fault")
        return result

    def on_end_of_stream(self: Any) -> None:
        base.on_end_of_stream(self)
        if hook == "on_end_of_stream":
            raise RuntimeError("injected on_end_of_stream fault")

    def on_shutdown(self: Any) -> None:
        base.on_shutdown(self)
        if hook == "on_shutdown":
            raise RuntimeError("injected on_shutdown fault")

    return type(
        f"Faulty{base.__name__}",
        (base,),
        {
            "setup": setup,
            "process": process,
            "on_end_of_stream": on_end_of_stream,
            "on_shutdown": on_shutdown,
        },
    )


def _pipeline(rt: StreamRuntime, position: str, hook: str, frames: int = 40) -> tuple[Any, list[Any]]:
    """source -> light -> worker -> sink with the fault at ``position``; returns
    (faulty handle, all handles)."""
    kinds: dict[str, type] = {
        "source": ScriptedSource,
        "fused": PassThrough,
        "dedicated": Worker,
        "sink": CollectingSink,
    }
    kinds[position] = _faulty(kinds[position], hook)
    src = rt.add_processor(kinds["source"], num_frames=frames)
    light = rt.add_processor(kinds["fused"])
    worker = rt.add_processor(kinds["dedicated"])
    sink = rt.add_processor(kinds["sink"])
    rt.connect(src.output_port("out"), light.input_port("in"))
    rt.connect(light.output_port("out"), worker.input_port("in"))
    rt.connect(worker.output_port("out"), sink.input_port("in"))
    faulty = {"source": src, "fused": light, "dedicated": worker, "sink": sink}[position]
    return faulty, [src, light, worker, sink]


@pytest.mark.parametrize("hook", HOOKS)
@pytest.mark.parametrize("position", POSITIONS)
def test_a_fault_anywhere_is_named_contained_and_the_runtime_stays_usable(position: str, hook: str) -> None:
    if position == "source" and hook == "on_end_of_stream":
        pytest.skip("a source has no inputs: on_end_of_stream is never called for it")
    rt = StreamRuntime()
    faulty, handles = _pipeline(rt, position, hook)
    _, _, healthy_sink = chain(rt, frames=300, middles=(PassThrough, Worker))
    try:
        if hook == "setup":
            with pytest.raises(ProcessorError) as info:
                rt.start()
            assert info.value.processor_id == faulty.id
            assert streamlib_threads() == []
            for handle in handles:  # the runtime stays un-started and usable
                rt.remove_processor(handle)
            rt.start()
        else:
            rt.start()
        if hook in ("process", "on_end_of_stream"):
            with pytest.raises(ProcessorError) as info:
                rt.run(timeout=30)
            assert info.value.processor_id == faulty.id
            assert f"{hook}() failed" in str(info.value) and "injected" in str(info.value)
            assert isinstance(info.value.__cause__, RuntimeError)
        assert rt.run(timeout=30)  # the failed component counts as ended; the rest finished
        assert instance(rt, healthy_sink).sequences == list(range(300))
        # still usable: a new pipeline added after the fault runs to the end
        _, _, late = chain(rt, frames=100, middles=(Worker,))
        assert rt.run(timeout=30)
        assert instance(rt, late).sequences == list(range(100))
    finally:
        rt.stop()
    if hook == "on_shutdown":
        (error,) = rt.errors
        assert error.processor_id == faulty.id and "on_shutdown() failed" in str(error)
    assert streamlib_threads() == []


def test_an_abandoned_thread_gets_no_on_shutdown_even_if_it_returns_later() -> None:
    release, entered = threading.Event(), threading.Event()

    class _Stuck(Worker):
        def setup(self) -> None:
            super().setup()
            self.shutdowns = 0

        def process(self) -> None:
            entered.set()
            release.wait()
            super().process()

        def on_shutdown(self) -> None:
            self.shutdowns += 1

    rt = StreamRuntime()
    src = rt.add_processor(ScriptedSource, num_frames=None)
    stuck = rt.add_processor(_Stuck)
    sink = rt.add_processor(CollectingSink)
    rt.connect(src.output_port("out"), stuck.input_port("in"))
    rt.connect(stuck.output_port("out"), sink.input_port("in"))
    rt.start()
    assert entered.wait(10)
    stuck_object = instance(rt, stuck)
    rt.stop(timeout=0.2)
    assert "did not stop" in str(rt.errors[-1])
    release.set()
    for thread in streamlib_threads():
        thread.join(10)
    assert stuck_object.shutdowns == 0  # abandoned: reported, never shut down behind the report


def test_overload_keeps_memory_bounded_order_kept_and_counts_exact() -> None:
    clock = FakeClock()
    period = 512 * 1_000_000_000 // 48000
    sent = 400
    with StreamRuntime(clock=clock) as rt:
        src, _, sink = chain(rt, frames=sent, live=True, middles=(PassThrough, Worker))
        consumer = instance(rt, sink)
        rt.start()
        source = instance(rt, src)
        for step in range(sent):  # the consumer takes one frame per two produced
            if step % 2 == 0:
                consumer.hold()
            clock.advance(period)
            assert source.wait_emitted(step + 1)
            if step % 2 == 1:
                consumer.release()
        consumer.release()
        assert rt.run(timeout=30)
        connections = rt.stats()["connections"]
        for c in connections.values():
            if not c["fused"]:
                assert c["peak"] <= c["capacity"]  # memory bounded by the plan's capacities
        received = consumer.sequences
        assert received == sorted(received)
        assert len(set(received)) == len(received)
        dropped = sum(c["dropped"] for c in connections.values())
        queued = sum(c["occupancy"] for c in connections.values())
        assert sent == len(received) + dropped + queued


def _concurrent_pipelines(rt: StreamRuntime, workers: int = 4, per_worker: int = 12) -> None:
    """Four threads add pipelines, wait for each to finish, check every frame arrived,
    and remove it (in a random order), all against one running runtime."""
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(per_worker):
                n = rng.randint(20, 200)
                kinds = rng.sample([PassThrough, Worker, PassThrough], k=rng.randint(1, 3))
                src, mids, sink = chain(rt, frames=n, middles=tuple(kinds))
                collected = instance(rt, sink)
                assert collected.ended.wait(60), "a pipeline did not finish"
                assert collected.sequences == list(range(n))
                handles = [src, *mids, sink]
                rng.shuffle(handles)
                for handle in handles:
                    rt.remove_processor(handle)
        except StreamError as exc:  # only documented errors may surface; none is expected
            errors.append(exc)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert errors == []
    assert len(rt._graph) == 0  # the final graph is empty
    assert rt.plan.thread_count == 0
    for thread in streamlib_threads():  # every removed processor's thread is gone
        thread.join(10)
    assert streamlib_threads() == []


def test_four_threads_adding_and_removing_pipelines() -> None:
    with StreamRuntime() as rt:
        rt.start()
        _concurrent_pipelines(rt)


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """A 1 us GIL switch interval: threads interleave at almost every bytecode, so a
    structure that relies on the GIL instead of its own synchronization shows it."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.mark.usefixtures("tiny_switch_interval")
def test_concurrent_edits_with_a_tiny_switch_interval() -> None:
    with StreamRuntime() as rt:
        rt.start()
        _concurrent_pipelines(rt, per_worker=4)


@pytest.mark.usefixtures("tiny_switch_interval")
def test_ring_buffer_spsc_with_a_tiny_switch_interval() -> None:
    from streamlib.engine import RingBuffer

    for drop_oldest, batched in [(False, False), (False, True), (True, False)]:
        ring = RingBuffer(4, drop_oldest=drop_oldest, batched=batched)
        n = 5000
        got: list[int] = []
        ready = threading.Event()
        ring.set_wake(ready.set)

        def consume(ring: RingBuffer = ring, got: list[int] = got, ready: threading.Event = ready) -> None:
            while not ring.at_eos():
                item = ring.pop()
                if item is None:
                    ring.release_writer()
                    ready.wait(0.005)
                    ready.clear()
                    continue
                got.append(item)

        t = threading.Thread(target=consume)
        t.start()
        for i in range(n):
            ring.push(i)
        ring.push_eos()
        t.join(60)
        assert got == sorted(got)
        s = ring.statistics()
        assert s.frames == n == len(got) + s.dropped + s.occupancy
        if not drop_oldest:
            assert got == list(range(n))


@pytest.mark.usefixtures("tiny_switch_interval")
@pytest.mark.parametrize("seed", range(2))
def test_live_re_plans_with_a_tiny_switch_interval(seed: int) -> None:
    from .test_live_edits import test_random_edits_on_a_running_graph_keep_every_path_that_exists_throughout

    test_random_edits_on_a_running_graph_keep_every_path_that_exists_throughout(seed)
