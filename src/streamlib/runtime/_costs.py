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
from collections.abc import Callable
from typing import Protocol

from .._clock import Clock
from ..engine import Engine
from ..plan import CostSample
from ..plan._costs import MIN_SAMPLES

__all__ = ["CHECK_INTERVAL_S", "CostMonitor", "CostSource", "MeasuredCosts"]

log = logging.getLogger("streamlib")

CHECK_INTERVAL_S = 1.0
"""How often the monitor looks at the measurements while a live component runs."""


class CostSource(Protocol):
    def sample(self) -> dict[str, CostSample]:
        """A sample per processor that has a fresh window of measurements."""
        ...

    def bursts(self) -> dict[str, dict[str, int]]:
        """Per processor, per output port that feeds a queue: the most frames it wrote
        in one pass (only ports that wrote more than one)."""
        ...


def _p99(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


class MeasuredCosts:
    """The engine's own measurements. A processor yields a sample once at least
    ``MIN_SAMPLES`` calls were timed since its last one; its input period is the
    clock time since then over the frames it read meanwhile.

    Synchronization: called only under the runtime's edit lock."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._since: dict[str, tuple[int, int, int]] = {}
        """processor id -> (frames read, timed calls, clock ns) at its last sample."""

    def sample(self) -> dict[str, CostSample]:
        now = self._clock.now_ns()
        samples: dict[str, CostSample] = {}
        seen = set()
        for pid, frames, timed, wall, cpu in self._engine.live_windows():
            seen.add(pid)
            since = self._since.get(pid)
            if since is None:
                self._since[pid] = (frames, timed, now)
                continue
            fresh = timed - since[1]
            if fresh < MIN_SAMPLES:
                continue
            self._since[pid] = (frames, timed, now)
            recent = min(fresh, len(wall))
            wall, cpu = wall[-recent:], [c for c in cpu[-recent:] if c >= 0]
            if not cpu:
                continue
            arrived = frames - since[0]
            samples[pid] = CostSample(
                processor_id=pid,
                timed_calls=recent,
                cpu_p99_ns=_p99(cpu),
                cpu_mean_ns=sum(cpu) / len(cpu),
                wall_p99_ns=_p99(wall),
                wall_max_ns=max(wall),
                period_ns=(now - since[2]) / arrived if arrived > 0 else None,
            )
        for pid in set(self._since) - seen:
            del self._since[pid]
        return samples

    def bursts(self) -> dict[str, dict[str, int]]:
        return self._engine.live_bursts()


class CostMonitor:
    """A thread (``streamlib-costs``) that calls ``check()`` every
    ``CHECK_INTERVAL_S`` while a live component runs, and sleeps without a timeout
    while none does (an idle runtime uses no CPU). ``check`` returns whether
    anything live is running."""

    def __init__(self, check: Callable[[], bool]) -> None:
        self._check = check
        self._cond = threading.Condition()
        self._wanted = False
        self._stopping = False
        self.manual = False
        """Set by ``streamlib.testing.use_costs``: the test calls the checks."""
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="streamlib-costs", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Something may have become live: start checking."""
        with self._cond:
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
                    self._cond.wait(CHECK_INTERVAL_S)
                if self._stopping:
                    return
            if self.manual:
                continue
            try:
                live = self._check()
            except Exception:  # a measurement must never take the runtime down
                log.exception("measured-cost check failed")
                live = True
            if not live:
                with self._cond:
                    self._wanted = False
