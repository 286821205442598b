"""Measured cost classes: when a processor's measured ``process()`` time makes it
cheap enough to fuse, or too slow to share a thread.

The runtime measures every processor of a live component while it runs (wall time
and thread CPU time per call, over a window of recent calls) and the period of the
frames it takes. ``classify_cost`` turns one window into a class, with hysteresis:

- CHEAP: p99 CPU time per call at most ``CHEAP_SHARE`` of the input period (and,
  where wall time can be trusted, a median wall time of at most
  ``CHEAP_WALL_SHARE`` of it: it does not wait either);
- SLOW: p99 CPU time above ``SLOW_SHARE`` of the period, or (where wall time can be
  trusted) a median wall time above ``BLOCKING_SHARE`` of it: it blocks;
- in between: the class stays what it was, so a processor near a threshold never
  flaps between plans.

CPU time decides cost. Wall time also counts waiting for the interpreter lock (a
processor whose native code releases it must get it back) and being preempted,
which grow with the load, not with the processor, and which fusing does not add
to; so wall time is only used to find blocking, by its median (a processor that
blocks does so on every call; contention shows in the tail), and not at all while
the runtime is contended (clock-driven sources of more than one component fell
behind during the window): then wall time measures the overload. Judging by wall
time under overload would unfuse cheap processors exactly when threads cost most.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._types import CostClass

__all__ = [
    "BLOCKING_SHARE",
    "CHEAP_SHARE",
    "CHEAP_WALL_SHARE",
    "MIN_SAMPLES",
    "SLOW_SHARE",
    "CostSample",
    "classify_cost",
]

CHEAP_SHARE = 0.05
"""CPU p99 at most this share of the input period: cheap (the reverb: 21 us of 10.7 ms, 0.2 %)."""
CHEAP_WALL_SHARE = 0.25
"""Median wall time at most this share of the input period, for cheap (wall trusted)."""
SLOW_SHARE = 0.25
"""CPU p99 above this share of the input period: slow."""
BLOCKING_SHARE = 0.5
"""Median wall time above this share of the input period: blocking, so slow (wall trusted)."""
MIN_SAMPLES = 16
"""Timed calls a window needs before it is classified."""


@dataclass(frozen=True, slots=True)
class CostSample:
    """One processor's measurements over a window of recent calls."""

    processor_id: str
    timed_calls: int
    """Calls timed in the window."""
    cpu_p99_ns: int
    cpu_mean_ns: float
    wall_p50_ns: int
    wall_p99_ns: int
    wall_max_ns: int
    period_ns: float | None
    """The mean interval between frames arriving on its inputs over the window; None
    when nothing arrived (a source, or an idle input)."""

    @property
    def cpu_share(self) -> float:
        return self.cpu_p99_ns / self.period_ns if self.period_ns else float("inf")

    @property
    def wall_share(self) -> float:
        """Median wall time over the input period."""
        return self.wall_p50_ns / self.period_ns if self.period_ns else float("inf")

    def describe(self) -> str:
        """The numbers behind a decision, for the log."""
        if not self.period_ns:
            return f"p99 {self.cpu_p99_ns / 1e3:.0f} us CPU, no input period"
        return (
            f"CPU p99 {self.cpu_p99_ns / 1e3:.0f} us ({self.cpu_share:.1%}), wall p50 "
            f"{self.wall_p50_ns / 1e3:.0f} us ({self.wall_share:.1%}) / p99 {self.wall_p99_ns / 1e3:.0f} us "
            f"of its {self.period_ns / 1e6:.2f} ms input period, {self.timed_calls} calls timed"
        )


def classify_cost(sample: CostSample, current: CostClass, *, wall_trusted: bool = True) -> CostClass:
    """The cost class after a window, given the class so far (see the module doc).
    ``wall_trusted``: False while the runtime is contended (wall time then measures
    the load, not the processor)."""
    if sample.period_ns is None or sample.period_ns <= 0 or sample.timed_calls < MIN_SAMPLES:
        return current
    if sample.cpu_share > SLOW_SHARE or (wall_trusted and sample.wall_share > BLOCKING_SHARE):
        return CostClass.SLOW
    if sample.cpu_share <= CHEAP_SHARE and (not wall_trusted or sample.wall_share <= CHEAP_WALL_SHARE):
        return CostClass.CHEAP
    return current
