"""The runtime clock: one object through which all pacing goes.

A clock tells the time (``now_ns()``) and how long a thread should block before a
deadline (``timeout_s(deadline_ns)``). A clock that does not advance by itself (a
fake clock in tests) returns ``None`` from ``timeout_s`` and instead calls its
listeners whenever it moves, so waiting threads re-check their deadlines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "MonotonicClock"]


@runtime_checkable
class Clock(Protocol):
    """What the runtime needs from a clock."""

    def now_ns(self) -> int:
        """The current time in nanoseconds (monotonic)."""
        ...

    def timeout_s(self, deadline_ns: int) -> float | None:
        """Seconds of real time to block before ``deadline_ns`` is reached, or
        ``None`` when the clock only moves by being advanced (then the waiter is
        woken through a listener)."""
        ...

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the clock jumps (fake clocks only)."""
        ...

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """Stop calling ``callback``."""
        ...


class MonotonicClock:
    """The default clock: ``time.monotonic_ns()``."""

    __slots__ = ()

    now_ns = staticmethod(time.monotonic_ns)
    """The current time in nanoseconds (the C function itself: it is read several
    times per frame)."""

    def timeout_s(self, deadline_ns: int) -> float | None:
        remaining = deadline_ns - time.monotonic_ns()
        return remaining / 1e9 if remaining > 0 else 0.0

    def add_listener(self, callback: Callable[[], None]) -> None:
        """A real clock never jumps; nothing to register."""

    def remove_listener(self, callback: Callable[[], None]) -> None:
        """A real clock never jumps; nothing to unregister."""

    def __repr__(self) -> str:
        return "MonotonicClock()"
