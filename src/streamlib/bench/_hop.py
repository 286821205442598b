"""``python -m streamlib.bench hop``: the per-frame cost of the runtime.

A non-live chain: a source, four lightweight processors (each one numpy operation
on a 512x2 float32 block, wrapped in a new frame), a sink; 20,000 frames. Measured
in one run, alternating variants, median of the repeats:

(a) optimized: the four processors fused into the source's thread, one queue hop
    to the sink's thread (after a 20 ms probe the runtime's CPU placement puts the
    two threads on one core: they take turns on the interpreter lock);
(b) ``optimize=False``: a thread per processor, five queue hops;
(c) a hand-written loop doing the same six processors' work, frame objects
    included (the limit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._frames import AudioFrame
from ..graph import Input, Output, Processor, ProcessorConfig, ProcessorStatus
from ..runtime import StreamRuntime
from ..testing import Scale, instance

BLOCK = (512, 2)
RATE = 48000
GAIN = 0.999


@dataclass(frozen=True)
class _SourceConfig(ProcessorConfig):
    num_frames: int = 20_000


class _BlockSource(Processor):
    """Emits ``num_frames`` frames sharing one read-only block (frames are immutable,
    so sharing is safe and the source allocates nothing but the frame object)."""

    Config = _SourceConfig
    config: _SourceConfig
    audio = Output(AudioFrame)

    def setup(self) -> None:
        self._block = np.ones(BLOCK, np.float32)
        self._seq = 0

    def process(self) -> ProcessorStatus | None:
        seq = self._seq
        self.audio.write(AudioFrame(self._block, RATE, seq, seq))
        self._seq = seq + 1
        if self._seq >= self.config.num_frames:
            return ProcessorStatus.END_OF_STREAM
        return None


class _CountingSink(Processor):
    audio = Input(AudioFrame)

    def setup(self) -> None:
        self.count = 0
        self.last = -1

    def process(self) -> None:
        frame = self.audio.read()
        if frame is not None:
            self.count += 1
            self.last = frame.sequence


_placed: dict[bool, set[tuple[int, ...]]] = {True: set(), False: set()}
"""Per optimize flag, the CPU sets the threads had at the end of each run."""


def run_graph(frames: int, *, optimize: bool) -> tuple[float, int, int]:
    """Seconds from start() to the last frame at the sink, frames counted, threads."""
    rt = StreamRuntime(optimize=optimize)
    src = rt.add_processor(_BlockSource, num_frames=frames)
    previous = src.output_port("audio")
    for _ in range(4):
        scale = rt.add_processor(Scale, factor=GAIN)
        rt.connect(previous, scale.input_port("audio_in"))
        previous = scale.output_port("audio_out")
    sink = rt.add_processor(_CountingSink)
    rt.connect(previous, sink.input_port("audio"))
    threads = rt.plan.thread_count
    t0 = time.perf_counter()
    rt.start()
    if not rt.run(timeout=600):
        raise RuntimeError("the hop benchmark did not finish")
    elapsed = time.perf_counter() - t0
    count: int = instance(rt, sink).count
    _placed[optimize].update(tuple(t["cpus"] or ()) for t in rt.stats()["threads"])
    rt.stop()
    return elapsed, count, threads


def run_loop(frames: int) -> tuple[float, int, int]:
    """The same six processors' work in one hand-written loop."""
    block = np.ones(BLOCK, np.float32)
    count = 0
    last = -1
    t0 = time.perf_counter()
    for seq in range(frames):
        frame = AudioFrame(block, RATE, seq, seq)
        for _ in range(4):
            frame = frame.with_samples(frame.samples * GAIN)
        count += 1
        last = frame.sequence
    elapsed = time.perf_counter() - t0
    assert last == frames - 1
    return elapsed, count, 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streamlib.bench hop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    variants: dict[str, Callable[[], tuple[float, int, int]]] = {
        "(a) optimized": lambda: run_graph(args.frames, optimize=True),
        "(b) optimize=False": lambda: run_graph(args.frames, optimize=False),
        "(c) hand-written loop": lambda: run_loop(args.frames),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    threads: dict[str, int] = {}
    run_loop(2000)  # warm up numpy and the frame classes
    for _ in range(args.repeats):
        for name, fn in variants.items():
            elapsed, count, n_threads = fn()
            if count != args.frames:
                print(f"{name}: delivered {count} of {args.frames} frames", file=sys.stderr)
                return 1
            times[name].append(elapsed)
            threads[name] = n_threads
    us = {name: statistics.median(t) / args.frames * 1e6 for name, t in times.items()}
    a, b, c = us["(a) optimized"], us["(b) optimize=False"], us["(c) hand-written loop"]
    print(
        f"hop benchmark: {args.frames} frames of 512x2 float32, source -> 4 light -> sink, "
        f"median of {args.repeats}"
    )
    print(f"{'variant':<24}{'threads':>8}{'us/frame':>11}{'min':>9}{'max':>9}")
    for name in variants:
        lo = min(times[name]) / args.frames * 1e6
        hi = max(times[name]) / args.frames * 1e6
        print(f"{name:<24}{threads[name]:>8}{us[name]:>11.2f}{lo:>9.2f}{hi:>9.2f}")
    for name, optimize in (("(a)", True), ("(b)", False)):
        sets = " ".join("{" + ",".join(map(str, cpus)) + "}" for cpus in sorted(_placed[optimize]))
        print(f"{name} threads' CPUs at the end of a run: {sets}")
    print(f"(a)/(c) = {a / c:.2f}   (target <= 2.0)")
    print(f"(b)/(a) = {b / a:.2f}   (target >= 3.0)")
    return 0
