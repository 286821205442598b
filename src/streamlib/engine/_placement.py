"""CPU placement: which cores the dedicated threads of a component may run on.

Python threads run Python one at a time (the interpreter lock), so the threads of
a component that pass frames along a chain mostly take turns: a hand-off wakes the
next thread and the previous one soon sleeps. Where they run decides what a turn
costs. Waking a thread on another core takes an inter-processor interrupt and a
cold cache; on this project's reference machine (a 2-core VM) a two-thread
ping-pong round trip costs 45 us across cores and 11 us on one, and the hop
benchmark's optimized chain runs 12.9 -> 10.0 us per frame when its two threads
share a core. Threads whose work runs outside the interpreter lock (a codec, an
image resize) are the opposite case: they overlap, and one core would serialize
them (the video benchmark: 150 -> 100 frames per second).

So it is measured, per component, for the components that are not live, have at
least two dedicated threads, and run on the optimized plan (live components are
left to the kernel: their real-time threads must run wherever a core is free at
their deadline; so are pool workers and the unoptimized baseline):

1. **Probe.** The threads start where the kernel puts them. Over the first
   ``PROBE_NS`` they run, their CPU time (``/proc/self/task/<tid>/schedstat``) is
   summed: a component whose threads together used at most ``PACK_CORES`` cores
   takes turns, and is **packed** onto one CPU (the allowed CPU holding the fewest
   packs); one that used more overlaps, and stays **spread** for good. A packed
   component is probed again every ``REPROBE_NS`` (~2.5 % of its time spread), as
   what a thread does may change (a codec opened on the first frame).
2. **Watch.** While packed, every ``WINDOW_NS`` of activity: when its threads
   together waited on the run queue (runnable, not running) more than
   ``SPREAD_SHARE`` of the wall time (they have work at the same time now, or
   another process is busy on that core), or when threads started since it was
   packed sit on its CPU alone (a packed thread's children inherit its mask: a
   codec's worker threads), it is spread for good, those children included.

Spreading is final, so nothing flaps. The decisions are logged with their
numbers; ``stats()["threads"]`` shows each thread's CPUs. Without
``sched_setaffinity``, per-thread schedstat, or a second allowed CPU, nothing is
placed.

Synchronization: ``arrange`` runs under the engine's lock (plan changes);
``check`` runs on a member runner's own thread, after a pass; both take ``_lock``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runner import DedicatedRunner

__all__ = [
    "IDLE_CORES",
    "PACK_CORES",
    "PROBE_NS",
    "REPROBE_NS",
    "SPREAD_SHARE",
    "WINDOW_NS",
    "Placement",
    "read_schedstat",
]

log = logging.getLogger(__name__)

PROBE_NS = 20_000_000
"""How long a component's threads run where the kernel puts them before it is
decided whether they take turns."""
PACK_CORES = 1.2
"""Cores a component's threads may use together (during the probe) and still be
packed onto one."""
IDLE_CORES = 0.05
"""A probe in which the threads used less than this many cores (still setting up,
waiting for input) judges nothing: it starts over."""
REPROBE_NS = 2_000_000_000
"""How often a packed component is probed again (its work may have changed: a codec
opened on the first frame, a heavier section of a file)."""
WINDOW_NS = 100_000_000
"""How often a packed component's run-queue delay is looked at."""
SPREAD_SHARE = 0.5
"""Run-queue delay of a packed component's threads, summed, as a share of the wall
time, above which it is spread."""

ReadStat = Callable[[int], tuple[int, int]]


def read_schedstat(native_id: int) -> tuple[int, int]:
    """(CPU time, run-queue delay) of thread ``native_id`` of this process, in ns."""
    with open(f"/proc/self/task/{native_id}/schedstat", "rb") as f:
        fields = f.read().split()
    return int(fields[0]), int(fields[1])


def _allowed_cpus() -> frozenset[int]:
    """The CPUs this process may run on (its main thread's mask)."""
    if not hasattr(os, "sched_getaffinity"):
        return frozenset()
    try:
        return frozenset(os.sched_getaffinity(os.getpid()))
    except OSError:
        return frozenset()


def _schedstat_works() -> bool:
    try:
        read_schedstat(threading.get_native_id())
    except (OSError, ValueError, IndexError):
        return False
    return True


def _thread_ids() -> frozenset[int]:
    try:
        return frozenset(int(name) for name in os.listdir("/proc/self/task"))
    except OSError:
        return frozenset()


def _cpus_text(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


PROBING, PACKED = "probing", "packed"


@dataclass(eq=False)
class Pack:
    """The threads of one component, probed and then perhaps sharing a CPU."""

    members: list[DedicatedRunner]
    state: str = PROBING
    cpu: int = -1
    """The CPU they share (when packed)."""
    since_ns: int = 0
    due_ns: int = 0
    """When the current window ends (``time.monotonic_ns``); the members' runners
    look after each pass whether it did."""
    marks: dict[int, tuple[int, int]] = field(default_factory=dict)
    """native id -> its (CPU time, run-queue delay) at ``since_ns``."""
    threads: frozenset[int] = frozenset()
    """The process's threads when it was packed."""
    reprobe_ns: int = 0
    probes: int = 0
    dissolved: bool = False


class Placement:
    """Probes, packs and spreads the threads of non-live components (see the module
    docstring).

    Args:
        read_stat: reads a thread's (CPU time, run-queue delay) (tests pass a fake).
        enabled: None: enabled where the platform supports it.
    """

    def __init__(self, read_stat: ReadStat | None = None, enabled: bool | None = None) -> None:
        self._lock = threading.Lock()
        self.allowed = _allowed_cpus()
        if enabled is None:
            enabled = hasattr(os, "sched_setaffinity") and len(self.allowed) > 1 and _schedstat_works()
        self.enabled = enabled
        self._read_stat = read_stat or read_schedstat
        self._packs: dict[object, Pack] = {}
        self._pinned: dict[DedicatedRunner, int] = {}
        """Runners whose affinity this placement narrowed, and to which CPU."""
        self.spread: set[DedicatedRunner] = set()
        """Runners of components decided to stay spread (never packed again)."""

    def arrange(self, components: dict[object, list[DedicatedRunner]]) -> None:
        """Take the dedicated runners of the non-live components, per component key
        (after a plan change): new components are probed, packed ones keep their
        CPU (a runner that joined one is moved there). Runners no longer listed get
        every allowed CPU back."""
        if not self.enabled:
            return
        with self._lock:
            packs: dict[object, Pack] = {}
            for key, listed in components.items():
                runners = [r for r in listed if r.native_id is not None]
                if len(runners) < 2 or any(r in self.spread for r in runners):
                    continue
                pack = self._packs.get(key)
                if pack is None or pack.dissolved:
                    pack = Pack(runners)
                    self._restart_window(pack, PROBE_NS)
                else:
                    for gone in set(pack.members) - set(runners):
                        gone.pack = None
                    pack.members = runners
                packs[key] = pack
            for key, pack in self._packs.items():
                if packs.get(key) is not pack:
                    pack.dissolved = True
                    for member in pack.members:
                        if member.pack is pack:
                            member.pack = None
            for pack in packs.values():
                for runner in pack.members:
                    runner.pack = pack
            self._packs = packs
            pinned = {r: p.cpu for p in packs.values() if p.state == PACKED for r in p.members}
            for runner in self._pinned.keys() - pinned.keys():
                if runner.thread.is_alive():  # (a retired runner's thread id may be reused)
                    self._set(runner.native_id, self.allowed)
            for runner, cpu in pinned.items():
                if self._pinned.get(runner) != cpu:
                    self._set(runner.native_id, frozenset((cpu,)))
            self._pinned = pinned

    def check(self, runner: DedicatedRunner) -> None:
        """Called on a member runner's thread after a pass once its component's
        window is over: decide (see the module docstring)."""
        pack = runner.pack
        if pack is None:
            return
        now = time.monotonic_ns()
        with self._lock:
            if pack.dissolved or now < pack.due_ns:
                return
            wall = now - pack.since_ns
            cpu = waited = 0
            for member in pack.members:
                assert member.native_id is not None
                with contextlib.suppress(OSError, ValueError, IndexError):  # exited meanwhile
                    used, delay = self._read_stat(member.native_id)
                    mark = pack.marks.get(member.native_id, (used, delay))
                    cpu += used - mark[0]
                    waited += delay - mark[1]
            if pack.state == PROBING:
                pack.probes += 1
                if cpu < IDLE_CORES * wall:
                    self._restart_window(pack, PROBE_NS, now)
                elif cpu <= PACK_CORES * wall:
                    self._pack(pack, cpu / wall)
                else:
                    self._dissolve(
                        pack, f"used {cpu / wall:.2f} cores together (their work overlaps): left spread"
                    )
                return
            offspring = self._offspring(pack)
            if offspring:
                for tid in offspring:
                    self._set(tid, self.allowed)
                self._dissolve(
                    pack,
                    f"started {len(offspring)} thread(s) of their own (native workers, which "
                    f"inherited CPU {pack.cpu}): spread over CPUs {_cpus_text(self.allowed)}",
                )
            elif waited > SPREAD_SHARE * wall:
                self._dissolve(
                    pack,
                    f"together waited {100 * waited / wall:.0f} % of {wall / 1e6:.0f} ms for CPU "
                    f"{pack.cpu} (they have work at the same time): spread over CPUs "
                    f"{_cpus_text(self.allowed)}",
                )
            elif now >= pack.reprobe_ns:
                pack.state = PROBING
                for member in pack.members:
                    self._pinned.pop(member, None)
                    self._set(member.native_id, self.allowed)
                self._restart_window(pack, PROBE_NS, now)
            else:
                self._restart_window(pack, WINDOW_NS, now)

    def clear(self) -> None:
        """Forget every runner (their threads have exited)."""
        with self._lock:
            for pack in self._packs.values():
                pack.dissolved = True
                for member in pack.members:
                    member.pack = None
            self._packs = {}
            self._pinned = {}
            self.spread = set()

    @staticmethod
    def cpus_of(native_id: int | None) -> list[int] | None:
        """The CPUs the kernel lets thread ``native_id`` run on (None: unknown)."""
        if native_id is None or not hasattr(os, "sched_getaffinity"):
            return None
        try:
            return sorted(os.sched_getaffinity(native_id))
        except OSError:
            return None

    # --- helpers (lock held) -----------------------------------------------------------

    def _pack(self, pack: Pack, cores: float) -> None:
        first = pack.cpu < 0
        pack.state = PACKED
        if first:
            pack.cpu = self._least_loaded()
        pack.threads = _thread_ids()
        for member in pack.members:
            self._pinned[member] = pack.cpu
            self._set(member.native_id, frozenset((pack.cpu,)))
        log.log(
            logging.INFO if first else logging.DEBUG,
            "%s (not live) used %.2f cores together (they take turns on the interpreter lock): "
            "they share CPU %d, where hand-offs between them cost less",
            _describe(pack),
            cores,
            pack.cpu,
        )
        self._restart_window(pack, WINDOW_NS)
        pack.reprobe_ns = pack.since_ns + REPROBE_NS

    def _dissolve(self, pack: Pack, reason: str) -> None:
        """Spread ``pack`` for good (logged once done: whoever reads the log sees the
        threads spread)."""
        pack.dissolved = True
        for member in pack.members:
            member.pack = None
            self.spread.add(member)
            if self._pinned.pop(member, None) is not None:
                self._set(member.native_id, self.allowed)
        self._packs = {k: p for k, p in self._packs.items() if p is not pack}
        log.info("%s %s", _describe(pack), reason)

    def _least_loaded(self) -> int:
        """The allowed CPU holding the fewest packs (highest number on a tie: CPU 0
        usually takes more of the machine's interrupts)."""
        load = dict.fromkeys(self.allowed, 0)
        for pack in self._packs.values():
            if pack.state == PACKED and not pack.dissolved and pack.cpu in load:
                load[pack.cpu] += 1
        return min(sorted(self.allowed, reverse=True), key=lambda cpu: load[cpu])

    def _offspring(self, pack: Pack) -> list[int]:
        """Threads started since ``pack`` was packed that are not runners and are
        bound to its CPU alone: a packed thread started them (a thread inherits its
        creator's CPU mask)."""
        members = {m.native_id for p in self._packs.values() for m in p.members}
        found = []
        for tid in _thread_ids() - pack.threads - members:
            with contextlib.suppress(OSError):  # it exited meanwhile
                if os.sched_getaffinity(tid) == {pack.cpu}:
                    found.append(tid)
        return found

    def _restart_window(self, pack: Pack, length: int, now: int | None = None) -> None:
        pack.since_ns = time.monotonic_ns() if now is None else now
        pack.due_ns = pack.since_ns + length
        marks: dict[int, tuple[int, int]] = {}
        for member in pack.members:
            assert member.native_id is not None
            with contextlib.suppress(OSError, ValueError, IndexError):
                marks[member.native_id] = self._read_stat(member.native_id)
        pack.marks = marks

    @staticmethod
    def _set(native_id: int | None, cpus: frozenset[int]) -> None:
        if native_id is None or not cpus:
            return
        with contextlib.suppress(OSError):  # the thread exited meanwhile
            os.sched_setaffinity(native_id, cpus)


def _describe(pack: Pack) -> str:
    heads = ", ".join(sorted(r.group.head_id for r in pack.members))
    return f"the threads of {heads}"
