"""FakeClock: time that moves only when a test moves it."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["FakeClock"]


class FakeClock:
    """A clock for tests: ``now_ns()`` changes only through ``advance()`` / ``set()``.

    Runners waiting for a deadline on a fake clock block until the clock moves
    (they register as listeners), so a test drives clock-driven sources tick by tick.

    Example:
        >>> clock = FakeClock()
        >>> clock.advance(10_000_000)
        >>> clock.now_ns()
        10000000
    """

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def now_ns(self) -> int:
        return self._now

    def timeout_s(self, deadline_ns: int) -> float | None:
        return 0.0 if deadline_ns <= self._now else None

    def advance(self, ns: int) -> None:
        """Move time forward by ``ns`` and wake everything waiting on the clock."""
        if ns < 0:
            raise ValueError("a monotonic clock cannot go back")
        with self._lock:
            self._now += ns
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def set(self, now_ns: int) -> None:
        """Move time forward to ``now_ns``."""
        self.advance(now_ns - self._now)

    def add_listener(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def __repr__(self) -> str:
        return f"FakeClock(now_ns={self._now})"
