"""Measured costs: where they come from, and the thread that acts on them.

While a live component runs, the engine times its processors' ``process()`` calls
(wall and thread CPU time over a window of recent calls) and counts the frames
they read. ``MeasuredCosts`` turns that into one ``CostSample`` per processor per
check; the runtime classifies each (``streamlib.plan.classify_cost``, with
hysteresis) and re-plans the components whose classes changed, live, with the
numbers behind each decision in the log. ``streamlib.testing.FakeCosts`` stands in
for ``MeasuredCosts`` in tests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .._clock import Clock
from ..engine import Engine
from ..engine._latency import nearest_rank
from ..plan import CostSample
from ..plan._costs import MIN_SAMPLES

__all__ = ["CHECK_INTERVAL_S", "CostMonitor", "CostSource", "MeasuredCosts"]

log = logging.getLogger("streamlib")

CHECK_INTERVAL_S = 1.0
"""How often the monitor looks at the measurements while a live component runs and
the plan is settling (after an edit or a measured change)."""
MAX_CHECK_INTERVAL_S = 8.0
"""While nothing changes, the interval doubles up to this (each look costs the
interpreter ~10 us per processor, so hundreds of pipelines are not looked at every
second when their classes are settled)."""


class CostSource(Protocol):
    contended: bool
    """True when the last sample saw the runtime contended (clock-driven sources of
    more than one component fell behind): wall times are not to be trusted."""

    def sample(self) -> dict[str, CostSample]:
        """A sample per processor that has a fresh window of measurements."""
        ...

    def bursts(self) -> dict[str, dict[str, int]]:
        """Per processor, per output port that feeds a queue: the most frames it wrote
        in one pass (only ports that wrote more than one)."""
        ...


_CHUNK = 8
"""Processors looked at between two pauses (see ``CHUNK_PAUSE_S``)."""
CHUNK_PAUSE_S = 0.002
"""The pause after each chunk, so that a check over hundreds of processors takes the
interpreter lock only a few per cent of the time while it runs. Each chunk takes the
lock from a pool worker at one of its native calls and gives it back a chunk later;
a worker that runs hundreds of pipelines alone has little time to spare, and while
the check ran with 0.5 ms pauses it lost about a fifth of its throughput for the
~85 ms the check took: at 165 live flagship pipelines (one worker ~83 % busy), each
check put it 10-30 ms behind, so every source counted a late tick. Measured there
with a check every 2 s over 30 s, two runs each: 0.5 ms pauses, 164 and 492 late
ticks (processing p99 6.0 and 10.5 ms); 2 ms pauses, none (p99 0.6 and 1.6 ms); the
check takes ~270 ms instead of ~85. It runs outside the runtime's edit lock, so
edits do not wait for it."""


class MeasuredCosts:
    """The engine's own measurements. A processor yields a sample once at least
    ``MIN_SAMPLES`` calls were timed since its last one; its input period is the
    clock time since then over the frames it read meanwhile (a source's: made), and a
    clock-driven source's is its tick period.

    Synchronization: ``sample()`` only reads the engine's counters (each written by
    one thread; a snapshot may be a call behind) and takes its own lock, not the
    runtime's edit lock: a paced look at hundreds of processors takes a few hundred
    ms, and edits must not wait for it."""

    def __init__(self, engine: Engine, clock: Clock, running: Callable[[], bool]) -> None:
        self._engine = engine
        self._clock = clock
        self._running = running
        """False once the runtime stops: a look under way ends at its next pause."""
        self._since: dict[str, tuple[int, int, int]] = {}
        """processor id -> (frames read, timed calls, clock ns) at its last sample."""
        self._late: dict[str, int] = {}
        """clock-driven source -> its late ticks at the last sample."""
        self._bursts: dict[str, dict[str, int]] = {}
        self.contended = False
        self._lock = threading.Lock()

    def sample(self) -> dict[str, CostSample]:
        with self._lock:
            return self._sample()

    def _sample(self) -> dict[str, CostSample]:
        now = self._clock.now_ns()
        late = self._engine.late_ticks()
        behind = sum(1 for pid, n in late.items() if n > self._late.get(pid, n))
        self._late = late
        self.contended = behind > 1
        ticks = self._engine.tick_periods()
        samples: dict[str, CostSample] = {}
        bursts: dict[str, dict[str, int]] = {}
        since_of = self._since
        seen = set()
        for i, slot in enumerate(self._engine.live_slots()):
            if i and not i % _CHUNK:
                time.sleep(CHUNK_PAUSE_S)  # the interpreter to the real-time threads for a while
                if not self._running():
                    break  # (stopping: what it has is not used)
            pid = slot.processor_id
            seen.add(pid)
            for name, port in slot.outputs.items():
                if port.burst > 1:
                    bursts.setdefault(pid, {})[name] = port.burst
            timed = slot.timed_calls
            # the period of the frames it takes; a source's: of the frames it makes (a
            # clock-driven source's calls are its ticks, whatever it makes of them: a
            # tick may make no frame, or it may have no outputs at all)
            frames = slot.frames_in if slot.in_endpoints else slot.frames_out
            since = since_of.get(pid)
            if since is None:
                since_of[pid] = (frames, timed, now)
                continue
            fresh = timed - since[1]
            if fresh < MIN_SAMPLES:
                continue
            since_of[pid] = (frames, timed, now)
            wall, cpu = slot.window()
            recent = min(fresh, len(wall))
            wall = sorted(wall[-recent:])
            cpu = sorted(c for c in cpu[-recent:] if c >= 0)
            if not cpu:
                continue
            arrived = frames - since[0]
            samples[pid] = CostSample(
                processor_id=pid,
                timed_calls=recent,
                cpu_p99_ns=nearest_rank(cpu, 0.99),
                cpu_mean_ns=sum(cpu) / len(cpu),
                wall_p50_ns=wall[len(wall) // 2],
                wall_p99_ns=nearest_rank(wall, 0.99),
                wall_max_ns=wall[-1],
                period_ns=ticks.get(pid) or ((now - since[2]) / arrived if arrived > 0 else None),
            )
        for pid in set(since_of) - seen:
            del since_of[pid]
        self._bursts = bursts
        return samples

    def bursts(self) -> dict[str, dict[str, int]]:
        """As seen by the last ``sample()``."""
        return self._bursts


class CostMonitor:
    """A thread (``streamlib-costs``) that calls ``check()`` while a live component
    runs: every ``CHECK_INTERVAL_S`` after an edit or a change, then less and less
    often (up to ``MAX_CHECK_INTERVAL_S``) while nothing changes; it sleeps without a
    timeout while nothing live runs (an idle runtime uses no CPU). ``check`` returns
    (anything live running, anything changed)."""

    def __init__(self, check: Callable[[], tuple[bool, bool]]) -> None:
        self._check = check
        self._cond = threading.Condition()
        self._wanted = False
        self._interval = CHECK_INTERVAL_S
        self._stopping = False
        self.manual = False
        """Set by ``streamlib.testing.use_costs``: the test calls the checks."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="streamlib-costs", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """The plan changed (something may have become live): check soon."""
        with self._cond:
            self._interval = CHECK_INTERVAL_S
            if not self._wanted:
                self._wanted = True
                self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _main(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stopping:
                    self._cond.wait()
                if not self._stopping:
                    self._cond.wait(self._interval)
                if self._stopping:
                    return
            if self.manual:
                continue
            try:
                live, changed = self._check()
            except Exception:  # a measurement must never take the runtime down
                log.exception("measured-cost check failed")
                live, changed = True, False
            with self._cond:
                if not live:
                    self._wanted = False
                # a change re-plans, and the re-plan pokes (back to the short interval)
                if not changed:
                    self._interval = min(self._interval * 2, MAX_CHECK_INTERVAL_S)
