"""Capture times of sample positions: how derived frames get their timestamps.

A processor that re-blocks or resamples audio stamps each frame it writes with the
capture time of its first sample. ``SampleTimeline`` remembers, for the frames it
was fed, where each starts in the stream and when it was captured, and answers
"when was sample N captured?", also across gaps (frames dropped upstream).
"""

from __future__ import annotations

from collections import deque

from .._frames import AudioFrame

__all__ = ["SampleTimeline"]


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
        self.position += frame.num_frames

    def time_at(self, index: int) -> int:
        """Capture time of sample ``index`` (0-based, counted over all frames fed)."""
        anchors = self._anchors
        while len(anchors) > 1 and anchors[1][0] <= index:
            anchors.popleft()
        if not anchors:
            return 0
        start, timestamp, rate = anchors[0]
        return timestamp + (index - start) * 1_000_000_000 // rate
