"""``python -m streamlib.bench pooltrace``: what the pool's workers did, step by step,
while live flagship pipelines ran (a diagnostic, not a score).

A density probe fails on a single late tick, and "late" alone does not say why: the
workers were overloaded (every step slower: the machine, the caches), a step ran long
(a processor that blocked, the interpreter lock held elsewhere), a worker slept while
ticks were due, or the machine itself stalled. This runs N pipelines of the peers
benchmark (the library chain, or the same DSP as one processor) in a fresh runtime per
probe and logs every pooled step: when it began and ended, its thread's CPU time, the
deadline it ran for and the worker. It prints per probe

- the late ticks (run a period or more after their deadline) and the machine's own
  stalls and steal (``MachineWatch``);
- a timeline per second: steps, mean wall time per step, the workers' busy share,
  the latest step (how far behind its deadline it began);
- for the first late step, the 5 ms bins around it: steps and wall / CPU time per
  worker, so a slow stretch (wall = CPU, both high), a step that waits (wall >> CPU)
  and a worker that sleeps (no steps while ticks are due) tell themselves apart.

The log wraps ``PooledRunner.step`` for the run (about 1 us a step) and restores it.
Measured with the same log on 2026-11-28 (a slow day: the same code as the day before took
125-200 us of CPU per step against 87-92 us): at 100 pipelines the worker was 95 %
busy with wall = CPU in every bin, i.e. overloaded, not stalled.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter_ns, thread_time_ns
from typing import Any

from ..engine._pool import PooledRunner
from ._peers_python import PERIOD_NS, Record, StreamlibVariant, _WholeChainVariant
from ._stalls import MachineWatch

__all__ = ["Step", "bins", "first_late", "step_log", "timeline"]

BIN_NS = 5_000_000
"""The bins around a late step."""


@dataclass(frozen=True, slots=True)
class Step:
    began_ns: int
    """perf-counter time the step began."""
    ended_ns: int
    deadline_ns: int
    """The group's deadline when the step began (clock ns: the same clock as the perf
    counter with the runtime's real clock)."""
    worker: str
    cpu_ns: int
    """The worker thread's CPU time during the step."""

    @property
    def late_ns(self) -> int:
        return self.began_ns - self.deadline_ns


@contextmanager
def step_log() -> Iterator[list[tuple[int, int, int, int, int]]]:
    """Every pooled step while inside, as raw tuples (began, ended, deadline, native
    thread id, CPU ns); ``steps()`` turns them into ``Step``."""
    raw: list[tuple[int, int, int, int, int]] = []
    original = PooledRunner.step
    note = raw.append
    native_id = threading.get_native_id

    def step(self: PooledRunner) -> int | None:
        deadline = self.group.deadline_ns
        cpu = thread_time_ns()
        began = perf_counter_ns()
        when = original(self)
        note((began, perf_counter_ns(), deadline, native_id(), thread_time_ns() - cpu))
        return when

    PooledRunner.step = step  # type: ignore[method-assign]
    try:
        yield raw
    finally:
        PooledRunner.step = original  # type: ignore[method-assign]


def steps(raw: Sequence[tuple[int, int, int, int, int]], names: dict[int, str]) -> list[Step]:
    return [Step(b, e, d, names.get(t, str(t)), c) for b, e, d, t, c in raw]


def timeline(log: Sequence[Step], start_ns: int, bin_ns: int = 1_000_000_000) -> list[dict[str, Any]]:
    """Per bin from ``start_ns``: steps, mean wall us per step, busy share of one
    worker (%), latest step (ms behind its deadline)."""
    table: dict[int, list[int]] = {}
    for s in log:
        if s.began_ns < start_ns:
            continue
        entry = table.setdefault((s.began_ns - start_ns) // bin_ns, [0, 0, 0])
        entry[0] += 1
        entry[1] += s.ended_ns - s.began_ns
        entry[2] = max(entry[2], s.late_ns)
    return [
        {
            "bin": k,
            "steps": n,
            "mean_us": wall / n / 1e3,
            "busy_pct": 100 * wall / bin_ns,
            "latest_ms": late / 1e6,
        }
        for k, (n, wall, late) in sorted(table.items())
    ]


def first_late(log: Sequence[Step], period_ns: int) -> Step | None:
    """The first step that began a period or more after its deadline."""
    late = [s for s in log if s.late_ns >= period_ns]
    return min(late, key=lambda s: s.began_ns) if late else None


def bins(log: Sequence[Step], lo_ns: int, hi_ns: int, bin_ns: int = BIN_NS) -> list[dict[str, Any]]:
    """Per ``bin_ns`` bin of [lo, hi): per worker, steps, wall and CPU us; and the
    latest step (ms behind its deadline)."""
    out = []
    for b0 in range(lo_ns, hi_ns, bin_ns):
        inside = [s for s in log if b0 <= s.began_ns < b0 + bin_ns]
        workers: dict[str, list[float]] = {}
        for s in inside:
            w = workers.setdefault(s.worker, [0, 0.0, 0.0])
            w[0] += 1
            w[1] += (s.ended_ns - s.began_ns) / 1e3
            w[2] += s.cpu_ns / 1e3
        out.append(
            {
                "at_ns": b0,
                "workers": workers,
                "latest_ms": max((s.late_ns for s in inside), default=0) / 1e6,
            }
        )
    return out


def probe(variant: StreamlibVariant, n: int, seconds: float, warmup: float) -> None:
    record = Record()
    variant.start(n, live=True, record=record)
    try:
        time.sleep(warmup)
        variant.settle(timeout=30.0)
        late0 = variant.late_ticks()
        with step_log() as raw, MachineWatch() as watch:
            start = perf_counter_ns()
            time.sleep(seconds)
            end = perf_counter_ns()
        late = variant.late_ticks() - late0
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    finally:
        variant.stop()
    log = [s for s in steps(raw, names) if start <= s.began_ns < end]
    print(f"{variant.name}, {n} pipelines, {seconds:g} s: {late} late ticks, {len(log)} steps; ", end="")
    print(watch.result)
    print("  s  steps  us/step  busy%  latest ms")
    for row in timeline(log, start):
        print(f"  {row['bin']:<2} {row['steps']:6d} {row['mean_us']:8.0f}", end="")
        print(f" {row['busy_pct']:6.0f} {row['latest_ms']:10.1f}")
    first = first_late(log, PERIOD_NS)
    if first is None:
        return
    print(f"  first late step at {(first.began_ns - start) / 1e6:.1f} ms: 5 ms bins around it")
    print("  ms        latest ms  per worker: steps / wall us / CPU us")
    for row in bins(log, first.began_ns - 100_000_000, first.began_ns + 50_000_000):
        workers = "  ".join(
            f"{name.rsplit('-', 1)[-1]}: {count:.0f} / {wall:.0f} / {cpu:.0f}"
            for name, (count, wall, cpu) in row["workers"].items()
        )
        print(f"  {(row['at_ns'] - start) / 1e6:8.1f} {row['latest_ms']:9.1f}  {workers or '-'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamlib.bench pooltrace", description=__doc__)
    parser.add_argument("--pipelines", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--probes", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--variant", choices=("library", "one"), default="library")
    args = parser.parse_args(argv)
    for _ in range(args.probes):
        variant = StreamlibVariant(optimize=True) if args.variant == "library" else _WholeChainVariant()
        probe(variant, args.pipelines, args.seconds, args.warmup)
        sys.stdout.flush()
    return 0
