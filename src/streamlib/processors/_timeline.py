"""Capture times of sample positions: how derived frames get their timestamps.

A processor that re-blocks or resamples audio stamps each frame it writes with the
capture time of its first sample. ``SampleTimeline`` remembers, for the frames it
was fed, where each starts in the stream and when it was captured, and answers
"when was sample N captured?", also across gaps (frames dropped upstream).
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

from .._frames import AudioFrame

__all__ = ["SampleTimeline", "TickBlocks"]


class TickBlocks:
    """Which block a live clock-driven source makes at a tick, and when its first
    sample was captured, from the tick's deadline (``Processor.tick_ns``, the end of
    the period it covers). The first tick makes block 0; a tick the runtime skipped
    to, shedding load, makes a later block (the ones between were never made), so
    timestamps stay exact however late or sparse the ticks."""

    __slots__ = ("_num", "_den", "_start")

    def __init__(self, period_ns: Fraction) -> None:
        self._num = period_ns.numerator
        self._den = period_ns.denominator
        self._start: int | None = None

    def at(self, tick_ns: int) -> tuple[int, int]:
        """(block index, capture time of its first sample) for the tick ending at
        ``tick_ns``."""
        num, den = self._num, self._den
        start = self._start
        if start is None:
            self._start = start = tick_ns - num // den
            return 0, start
        # deadlines are exact to the nanosecond: block k's tick ends k + 1 periods
        # after start (nearest whole period)
        index = ((tick_ns - start) * den * 2 + num) // (2 * num) - 1
        return index, start + index * num // den


class SampleTimeline:
    """Sample positions -> capture times, from the stamps of the frames fed in.

    Queries must not go backwards (positions only grow); anchors that can no longer
    be asked about are forgotten, so memory stays bounded.
    """

    __slots__ = ("_anchors", "position")

    def __init__(self) -> None:
        self._anchors: deque[tuple[int, int, int]] = deque()
        self.position = 0
        """Samples fed so far."""

    def feed(self, frame: AudioFrame) -> None:
        self._anchors.append((self.position, frame.timestamp_ns, frame.sample_rate))
        self.position += len(frame.samples)

    def forget_before(self, index: int) -> None:
        """Forget the frames wholly before sample ``index`` (no query will ask about them)."""
        anchors = self._anchors
        while len(anchors) > 1 and anchors[1][0] <= index:
            anchors.popleft()

    def time_at(self, index: int) -> int:
        """Capture time of sample ``index`` (0-based, counted over all frames fed)."""
        anchors = self._anchors
        while len(anchors) > 1 and anchors[1][0] <= index:  # (forget_before, inline)
            anchors.popleft()
        if not anchors:
            return 0
        start, timestamp, rate = anchors[0]
        return timestamp + (index - start) * 1_000_000_000 // rate
