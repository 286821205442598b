"""``python -m streamlib.bench wake``: what sleeping between ticks costs on this machine.

A live pipeline's work comes in ticks with idle time between them, and on a VM the
idle time is not free: the sleep and wake-up themselves cost CPU, and the tick after
a wake-up runs on cold caches and, often, a slower core. That sets a floor under the
CPU per audio second of any live runtime here (streamlib's pool, a hand-written loop,
GStreamer), and it is why the pool runs a tick due within ``early_ns()`` at once
instead of sleeping until it (``streamlib.engine._pool.EARLY_NS``).

This benchmark has no runtime in it: the flagship chain's DSP calls, the hand-written
functions of ``bench peers`` (resample, stereo, rechunk, reverb), for 20 pipelines'
states in turn, on one thread, timed on that thread's CPU clock:

- back to back (no sleep: the hot figure);
- one tick per 1 ms sleep (what a worker does that wakes for each of 20 pipelines
  whose phases are spread over a 20 ms period);
- 20 ticks per 20 ms sleep (a worker that takes them all at one wake-up): the first
  tick after the sleep and the other 19 apart;
- the sleep alone (1 ms), per sleep.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from ._peers_python import _Dsp

__all__ = ["WakeCosts", "measure"]

PIPELINES = 20


@dataclass(frozen=True)
class WakeCosts:
    """Thread CPU per tick (us) of the flagship DSP, by how the ticks are spaced."""

    back_to_back_us: float
    after_1ms_sleep_us: float
    """Per tick, one 1 ms sleep before each (the sleep's own CPU included)."""
    first_after_20ms_us: float
    """The first of 20 ticks run after a 20 ms sleep (the sleep's own CPU included)."""
    rest_after_20ms_us: float
    """The other 19 of those, per tick."""
    sleep_1ms_us: float
    """A 1 ms sleep alone (its CPU: the system call and the wake-up)."""


def _tick(dsp: _Dsp) -> None:
    for _, chunk in dsp.rechunk(dsp.duplicate(dsp.resample(dsp.generate()))):
        dsp.reverb_block(chunk)


def measure(seconds: float = 3.0) -> WakeCosts:
    """Each spacing for ``seconds`` (wall time), in the order listed in the module doc."""
    dsps = [_Dsp() for _ in range(PIPELINES)]
    cpu = time.thread_time_ns
    for dsp in dsps:  # (their first calls set up state)
        _tick(dsp)

    def rounds(sleep_s: float, per_tick: bool) -> tuple[float, float, float]:
        """(us per tick, first tick of a round, the rest of it per tick)."""
        first = rest = 0
        n = count = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for k, dsp in enumerate(dsps):
                start = cpu()
                if sleep_s and (per_tick or k == 0):
                    time.sleep(sleep_s)
                _tick(dsp)
                spent = cpu() - start
                if k == 0:
                    first += spent
                else:
                    rest += spent
                count += 1
            n += 1
        return (first + rest) / count / 1e3, first / n / 1e3, rest / (count - n) / 1e3

    hot, _, _ = rounds(0.0, per_tick=False)
    spaced, _, _ = rounds(0.001, per_tick=True)
    _, first, later = rounds(0.02, per_tick=False)
    sleeps = 0
    start = cpu()
    end = time.monotonic() + seconds / 3
    while time.monotonic() < end:
        time.sleep(0.001)
        sleeps += 1
    sleep_us = (cpu() - start) / sleeps / 1e3
    return WakeCosts(hot, spaced, first, later, sleep_us)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamlib.bench wake", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per spacing")
    args = parser.parse_args(argv)
    w = measure(args.seconds)
    print(f"CPU per tick of the flagship DSP ({PIPELINES} pipelines' states in turn, no runtime):")
    rows = [
        ("back to back", w.back_to_back_us),
        ("one 1 ms sleep before each", w.after_1ms_sleep_us),
        ("first of 20 after a 20 ms sleep", w.first_after_20ms_us),
        ("the other 19 of those", w.rest_after_20ms_us),
    ]
    for name, us in rows:
        print(f"  {name:<34}{us:8.1f} us   {us / w.back_to_back_us:5.2f}x")
    print(f"  {'a 1 ms sleep alone':<34}{w.sleep_1ms_us:8.1f} us")
    print(
        "CPU per audio second of one pipeline (50 ticks): "
        f"{w.back_to_back_us * 50 / 1e3:.2f} ms back to back, "
        f"{w.after_1ms_sleep_us * 50 / 1e3:.2f} ms waking for each tick"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
