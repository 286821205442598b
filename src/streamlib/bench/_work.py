"""``python -m streamlib.bench work``: the interpreter's work per tick of the flagship chain.

Wall and CPU times of one pipeline's tick vary by +-10 % from run to run on this
machine class, more than most changes to the per-frame path make; and at hundreds of
live pipelines every interpreter step costs several times what it costs warm (their
state competes for the caches). This benchmark counts instead: the Python bytecode
instructions the pool workers execute per source tick, for

(a) the flagship chain built from the library's six processors (what users build);
(b) the same DSP calls written as one processor per pipeline (the runtime around a
    coarse processor: the floor for the scheduling, without ports and frames).

The count is nearly deterministic: the same code and Python usually count within
0.5 % from run to run; the pool's waits depend on thread timing, and about one run in
five counts up to 8 % more there, so each variant is measured three times and the
median run is reported. A change to the per-frame path shows as a number, and the
ratio (a) / (b) is the library chain's interpreter overhead. Both run on a fake clock with every processor
reported cheap (``streamlib.testing.FakeCosts``), so both are pooled and fused as
they are at density, without waiting for measurements.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

from ..plan import ThreadingStrategy
from ..runtime import StreamRuntime
from ..testing import FakeClock, FakeCosts, check_costs, use_costs
from ._peers_python import PERIOD_NS, Record, StreamlibVariant, _WholeChainVariant

__all__ = ["Work", "measure", "median_work"]

_Tracer = Callable[[FrameType, str, Any], Any]


class Work:
    """Opcodes counted per function (``file:function``) over ``ticks`` source ticks."""

    def __init__(self, ticks: int, counts: Counter[str]) -> None:
        self.ticks = ticks
        self.counts = counts

    @property
    def per_tick(self) -> float:
        return sum(self.counts.values()) / self.ticks

    def top(self, n: int) -> list[tuple[str, float]]:
        return [(name, count / self.ticks) for name, count in self.counts.most_common(n)]


def median_work(variant: str, ticks: int = 200, warmup: int = 20, runs: int = 3) -> Work:
    """The median of ``runs`` measurements (by opcodes per tick)."""
    works = sorted((measure(variant, ticks, warmup) for _ in range(runs)), key=lambda w: w.per_tick)
    return works[len(works) // 2]


def measure(variant: str, ticks: int = 200, warmup: int = 20) -> Work:
    """Opcodes per tick of one live pipeline (``variant``: "library" or "one"), counted
    on the runtime's pool workers (all they run: the pool, the pass, the processors)."""
    counts: Counter[str] = Counter()
    counting = threading.Event()

    def local(frame: FrameType, event: str, arg: Any) -> _Tracer:
        if event == "opcode" and counting.is_set():
            code = frame.f_code
            counts[f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"] += 1
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> _Tracer | None:
        if not threading.current_thread().name.startswith("streamlib:pool"):
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return local

    clock = FakeClock(1_000_000_000)
    rt = StreamRuntime(clock=clock)
    costs = FakeCosts()
    use_costs(rt, costs)
    threading.settrace(trace)  # the pool's workers start with it
    try:
        rt.start()
        source = (
            StreamlibVariant(optimize=True) if variant == "library" else _WholeChainVariant()
        )._add_pipeline(rt, True, Record(), None)
        for pid, processor in rt.plan.processors.items():
            costs.set(pid, cpu_us=20, period_ms=PERIOD_NS / 1e6 if processor.live else None)
        check_costs(rt)
        group = rt._engine.groups
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            clock.advance(PERIOD_NS)
            while (g := group.get(source)) is None or g.ticks < done:
                time.sleep(0.0002)  # (a fake clock: the pool ticks it once, at once)

        for _ in range(warmup):
            tick()
        counting.set()
        for _ in range(ticks):
            tick()
        counting.clear()
        pooled = rt.plan.processors[source].threading is ThreadingStrategy.POOLED
    finally:
        threading.settrace(None)
        rt.stop()
    if not pooled:
        raise RuntimeError(f"{variant}: the pipeline was not pooled:\n{rt.plan}")
    return Work(ticks, counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamlib.bench work", description=__doc__)
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--top", type=int, default=15, help="functions listed for the library chain")
    args = parser.parse_args(argv)
    library = median_work("library", args.ticks)
    one = median_work("one", args.ticks)
    print(
        f"Python opcodes per source tick (20 ms), one live flagship pipeline, {args.ticks} ticks "
        "(median of three runs):"
    )
    print(f"  library chain (six processors)  {library.per_tick:8.0f}")
    print(f"  chain as one processor          {one.per_tick:8.0f}")
    print(f"  ratio                           {library.per_tick / one.per_tick:8.2f}")
    print(f"\nlibrary chain, by function (opcodes per tick, top {args.top}):")
    for name, count in library.top(args.top):
        print(f"  {count:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
