"""End-to-end latency at sinks: arrival time minus the capture time of the frame's
last sample, kept over the most recent frames."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._clock import Clock

__all__ = ["LatencyRecorder", "nearest_rank"]


def nearest_rank(ordered: Sequence[int], q: float) -> int:
    """The ``q`` quantile of sorted, non-empty ``ordered`` (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


_WINDOW = 4096
"""Frames kept (a power of two)."""
_MASK = _WINDOW - 1


class LatencyRecorder:
    """Records the latency of each frame a sink reads (a fixed window of the most
    recent ones). Written by the sink's reading thread; a snapshot is read by
    ``stats()`` (a list copy; a torn read can only mix old and new samples)."""

    __slots__ = ("_now", "_samples", "count", "max_ns")

    def __init__(self, clock: Clock) -> None:
        self._now = clock.now_ns
        self._samples: list[int] = []
        self.count = 0
        self.max_ns = 0

    def record(self, frame: Any) -> None:
        latency = self._now() - frame.end_ns
        count = self.count
        self.count = count + 1
        if count < _WINDOW:
            self._samples.append(latency)
        else:
            self._samples[count & _MASK] = latency
        if latency > self.max_ns:
            self.max_ns = latency

    def summary(self) -> dict[str, float]:
        samples = sorted(self._samples)
        if not samples:
            return {}

        def pct(q: float) -> float:
            return nearest_rank(samples, q) / 1e6

        return {
            "latency_ms_p50": pct(0.50),
            "latency_ms_p99": pct(0.99),
            "latency_ms_max": self.max_ns / 1e6,
            "latency_frames": self.count,
        }
