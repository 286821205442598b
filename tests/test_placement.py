"""CPU placement: the threads of a non-live component share a core, until measured
to compete for it (``streamlib.engine._placement``)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from streamlib import DataFrame, Input, Output, Processor, ProcessorConfig, StreamRuntime
from streamlib.engine._placement import PROBE_NS, SPREAD_SHARE, WINDOW_NS, Placement
from streamlib.testing import CollectingSink, ScriptedSource, Worker, instance

from .helpers import chain

ALLOWED = sorted(os.sched_getaffinity(os.getpid())) if hasattr(os, "sched_getaffinity") else []

pytestmark = pytest.mark.skipif(
    len(ALLOWED) < 2 or not Placement().enabled,
    reason="needs sched_setaffinity, per-thread schedstat and two allowed CPUs",
)


class _Log(logging.Handler):
    """Keeps the placement's messages; ``wait(needle, n)`` waits for the n-th one
    containing ``needle``."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self._cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._cond:
            self.messages.append(record.getMessage())
            self._cond.notify_all()

    def wait(self, needle: str, n: int = 1, timeout: float = 30.0) -> list[str]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.matching(needle)) >= n, timeout)
            return self.matching(needle)

    def matching(self, needle: str) -> list[str]:
        return [m for m in self.messages if needle in m]


@pytest.fixture
def placement_log() -> Iterator[_Log]:
    handler = _Log()
    logger = logging.getLogger("streamlib.engine._placement")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


def _cpus(rt: StreamRuntime) -> dict[str, list[int]]:
    """Per streamlib thread, the CPUs the kernel lets it run on (read from the kernel,
    and checked against what stats() reports)."""
    out = {}
    for thread in rt.stats()["threads"]:
        kernel = sorted(os.sched_getaffinity(thread["native_id"]))
        assert thread["cpus"] == kernel
        out[thread["name"]] = kernel
    return out


def test_threads_that_take_turns_share_one_cpu(placement_log: _Log) -> None:
    with StreamRuntime() as rt:
        _, _, sink = chain(rt, frames=None, middles=(Worker,))
        rt.start()
        assert placement_log.wait("share CPU"), placement_log.messages
        cpus = _cpus(rt)
        assert len(cpus) == rt.plan.thread_count == 3
        shared = {tuple(c) for c in cpus.values()}
        assert len(shared) == 1 and len(next(iter(shared))) == 1, cpus
        n = len(instance(rt, sink).sequences)
        assert instance(rt, sink).wait_for(n + 100)
        assert instance(rt, sink).sequences == list(range(len(instance(rt, sink).sequences)))


def test_two_packed_components_get_different_cpus(placement_log: _Log) -> None:
    with StreamRuntime() as rt:
        chain(rt, frames=None)
        chain(rt, frames=None)
        rt.start()
        assert len(placement_log.wait("share CPU", 2)) == 2, placement_log.messages
        assert sorted(c for (c,) in _cpus(rt).values()) == [ALLOWED[-2]] * 2 + [ALLOWED[-1]] * 2


def test_live_components_and_the_baseline_are_left_to_the_kernel(placement_log: _Log) -> None:
    with StreamRuntime() as rt:
        _, _, sink = chain(rt, frames=None, live=True, middles=(Worker,))
        rt.start()
        assert instance(rt, sink).wait_for(10)  # 100 ms: past a probe
        assert set(map(tuple, _cpus(rt).values())) == {tuple(ALLOWED)}
    with StreamRuntime(optimize=False) as rt:
        _, _, sink = chain(rt, frames=20_000)
        rt.start()
        assert rt.run(timeout=60)
        assert instance(rt, sink).sequences == list(range(20_000))
    assert placement_log.messages == []


def test_a_component_that_becomes_live_gets_every_cpu_back(placement_log: _Log) -> None:
    with StreamRuntime() as rt:
        src, _, _ = chain(rt, frames=None)
        rt.start()
        assert placement_log.wait("share CPU")
        assert all(len(c) == 1 for c in _cpus(rt).values())
        live_sink = rt.add_processor(CollectingSink, live=True)
        rt.connect(src.output_port("out"), live_sink.input_port("in"))
        assert any(g.live for g in rt.plan.groups.values())
        assert set(map(tuple, _cpus(rt).values())) == {tuple(ALLOWED)}
        assert instance(rt, live_sink).wait_for(5)


# --- measured: threads that compete for the core are spread -----------------------------


@dataclass(frozen=True)
class _HashConfig(ProcessorConfig):
    mebibytes: int = 2


class _Hash(Processor):
    """Hashes a buffer per frame: CPU work without the interpreter lock (hashlib
    releases it), so two of these have work at the same time."""

    Config = _HashConfig
    config: _HashConfig
    inp = Input(DataFrame)
    out = Output(DataFrame)

    def setup(self) -> None:
        self._buffer = bytes(self.config.mebibytes << 20)

    def process(self) -> None:
        frame = self.inp.read()
        if frame is not None:
            hashlib.sha256(self._buffer).digest()
            self.out.write(frame)


def test_threads_whose_work_overlaps_stay_spread(placement_log: _Log) -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, num_frames=None, frame_kind="data")
        first = rt.add_processor(_Hash)
        second = rt.add_processor(_Hash)
        sink = rt.add_processor(CollectingSink, frame_kind="data", keep_frames=False)
        rt.connect(src.output_port("out"), first.input_port("inp"))
        rt.connect(first.output_port("out"), second.input_port("inp"))
        rt.connect(second.output_port("out"), sink.input_port("in"))
        rt.start()
        # the probe finds them overlapping (on a busy machine it may not, and packs
        # them: then their waiting for the one CPU spreads them)
        assert placement_log.wait("spread"), placement_log.messages
        assert "left spread" in placement_log.messages[-1] or "waited" in placement_log.messages[-1]
        assert set(map(tuple, _cpus(rt).values())) == {tuple(ALLOWED)}
        n = len(instance(rt, sink).sequences)
        assert instance(rt, sink).wait_for(n + 10)


# --- the rule, with fake run-queue delays -----------------------------------------------


class _FakeRunner:
    """What Placement reads of a runner, on a real (parked) thread."""

    def __init__(self, name: str) -> None:
        self._go = threading.Event()
        self._up = threading.Event()
        self.native_id: int | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.group = SimpleNamespace(head_id=name)
        self.pack: Any = None
        self.thread.start()
        self._up.wait()

    def _main(self) -> None:
        self.native_id = threading.get_native_id()
        self._up.set()
        self._go.wait()

    def end(self) -> None:
        self._go.set()
        self.thread.join()


class _FakeStat:
    """Per thread (CPU ns, run-queue delay ns), advanced by hand."""

    def __init__(self) -> None:
        self.stat: dict[int, tuple[int, int]] = {}

    def __call__(self, tid: int) -> tuple[int, int]:
        return self.stat.get(tid, (0, 0))

    def add(self, runners: list[_FakeRunner], cpu: float, delay: float, wall: int) -> None:
        """Each runner used ``cpu`` and waited ``delay`` of ``wall`` ns."""
        for r in runners:
            assert r.native_id is not None
            used, waited = self(r.native_id)
            self.stat[r.native_id] = (used + int(cpu * wall), waited + int(delay * wall))


def _elapse(pack: Any, placement: Placement, runner: _FakeRunner, wall: int) -> None:
    """Pretend ``wall`` ns of the current window passed, then let ``runner`` check."""
    pack.since_ns -= wall
    pack.due_ns = 0
    placement.check(runner)  # type: ignore[arg-type]


def _affinity(runners: list[_FakeRunner]) -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(r.native_id or 0)) for r in runners}


@pytest.fixture
def fake_runners() -> Iterator[list[_FakeRunner]]:
    runners = [_FakeRunner(name) for name in "abcd"]
    yield runners
    for r in runners:
        r.end()


def test_probe_pack_watch_reprobe_spread(fake_runners: list[_FakeRunner]) -> None:
    stat = _FakeStat()
    placement = Placement(read_stat=stat, enabled=True)
    ab, cd = fake_runners[:2], fake_runners[2:]
    everything = frozenset(ALLOWED)
    placement.arrange({"ab": ab, "cd": cd})  # type: ignore[dict-item]
    pack = ab[0].pack
    assert pack is not None and ab[1].pack is pack and pack.state == "probing"
    assert _affinity(ab) == {everything}  # probing: where the kernel puts them
    # an idle probe (setting up) judges nothing
    stat.add(ab, 0.01, 0, PROBE_NS)
    _elapse(pack, placement, ab[0], PROBE_NS)
    assert pack.state == "probing"
    # taking turns: 0.55 + 0.55 cores <= PACK_CORES: packed on the highest CPU
    stat.add(ab, 0.55, 0, PROBE_NS)
    _elapse(pack, placement, ab[1], PROBE_NS)
    assert pack.state == "packed" and _affinity(ab) == {frozenset({ALLOWED[-1]})}
    # the other component overlaps (0.7 + 0.7 cores): left spread, for good
    other = cd[0].pack
    stat.add(cd, 0.7, 0, PROBE_NS)
    _elapse(other, placement, cd[0], PROBE_NS)
    assert other.dissolved and cd[0].pack is None and _affinity(cd) == {everything}
    placement.arrange({"ab": ab, "cd": cd})  # type: ignore[dict-item]
    assert cd[0].pack is None and ab[0].pack is pack  # a re-plan changes neither
    # packed, waiting a little for the CPU (hand-offs): stays packed
    stat.add(ab, 0.5, 0.2, WINDOW_NS)
    _elapse(pack, placement, ab[0], WINDOW_NS)
    assert pack.state == "packed" and _affinity(ab) == {frozenset({ALLOWED[-1]})}
    # re-probed when due: spread again for the probe, then packed again
    pack.reprobe_ns = 0
    stat.add(ab, 0.5, 0.2, WINDOW_NS)
    _elapse(pack, placement, ab[0], WINDOW_NS)
    assert pack.state == "probing" and _affinity(ab) == {everything}
    stat.add(ab, 0.5, 0, PROBE_NS)
    _elapse(pack, placement, ab[0], PROBE_NS)
    assert pack.state == "packed" and _affinity(ab) == {frozenset({ALLOWED[-1]})}
    # now they have work at the same time: together more than SPREAD_SHARE waiting
    stat.add(ab, 0.5, SPREAD_SHARE / 2 + 0.05, WINDOW_NS)
    _elapse(pack, placement, ab[1], WINDOW_NS)
    assert pack.dissolved and ab[0].pack is None and _affinity(ab) == {everything}
    placement.arrange({"ab": ab})  # type: ignore[dict-item]
    assert ab[0].pack is None  # never packed again


def test_threads_started_by_a_packed_thread_spread_it(fake_runners: list[_FakeRunner]) -> None:
    stat = _FakeStat()
    placement = Placement(read_stat=stat, enabled=True)
    ab = fake_runners[:2]
    placement.arrange({"ab": ab})  # type: ignore[dict-item]
    pack = ab[0].pack
    stat.add(ab, 0.5, 0, PROBE_NS)
    _elapse(pack, placement, ab[0], PROBE_NS)
    assert pack.state == "packed"
    # a packed thread starts a worker thread: it inherits the one-CPU mask
    started = threading.Event()
    done = threading.Event()
    tid: list[int] = []

    def child() -> None:
        tid.append(threading.get_native_id())
        started.set()
        done.wait()

    def spawn() -> None:
        os.sched_setaffinity(0, {pack.cpu})  # as if started by the packed thread
        threading.Thread(target=child, daemon=True).start()

    spawner = threading.Thread(target=spawn)
    spawner.start()
    spawner.join()
    assert started.wait(5)
    try:
        assert os.sched_getaffinity(tid[0]) == {pack.cpu}
        stat.add(ab, 0.5, 0, WINDOW_NS)
        _elapse(pack, placement, ab[0], WINDOW_NS)
        assert pack.dissolved
        assert os.sched_getaffinity(tid[0]) == set(ALLOWED)
        assert _affinity(ab) == {frozenset(ALLOWED)}
    finally:
        done.set()


def test_a_runner_no_longer_listed_gets_every_cpu_back(fake_runners: list[_FakeRunner]) -> None:
    stat = _FakeStat()
    placement = Placement(read_stat=stat, enabled=True)
    ab = fake_runners[:2]
    placement.arrange({"ab": ab})  # type: ignore[dict-item]
    stat.add(ab, 0.5, 0, PROBE_NS)
    _elapse(ab[0].pack, placement, ab[0], PROBE_NS)
    assert _affinity(ab) == {frozenset({ALLOWED[-1]})}
    placement.arrange({})
    assert _affinity(ab) == {frozenset(ALLOWED)} and ab[0].pack is None
