"""``python -m streamlib.bench <benchmark> [options]``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "hop": ("streamlib.bench._hop", "per-frame cost: fused vs a thread per processor vs a hand loop"),
    "optimizer": (
        "streamlib.bench._optimizer",
        "planning cost, cache hits, and the cost of a live edit by graph size",
    ),
    "replan": (
        "streamlib.bench._replan",
        "live re-plans next to and inside a running audio chain: timing, lateness, loss",
    ),
    "peers": ("streamlib.bench._peers", "the flagship chain: streamlib vs hand-written Python vs GStreamer"),
    "pooltrace": (
        "streamlib.bench._pooltrace",
        "the pool's steps while live pipelines run: what made ticks late (a diagnostic)",
    ),
    "soak": ("streamlib.bench._soak", "a long service run: memory, threads, loss and drops over time"),
    "video": ("streamlib.bench._video", "1080p test pattern -> resize -> convert -> MP4, optimized vs not"),
    "wake": (
        "streamlib.bench._wake",
        "what sleeping between ticks costs on this machine: the flagship DSP's CPU per tick",
    ),
    "work": (
        "streamlib.bench._work",
        "interpreter steps per tick of the flagship chain vs the same DSP as one processor",
    ),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help") or args[0] not in BENCHMARKS:
        print("usage: python -m streamlib.bench <benchmark> [options]\n\nbenchmarks:")
        for name, (_, text) in BENCHMARKS.items():
            print(f"  {name:<12}{text}")
        return 0 if args and args[0] in ("-h", "--help") else 2
    module = importlib.import_module(BENCHMARKS[args[0]][0])
    result: int = module.main(args[1:])
    return result


if __name__ == "__main__":
    sys.exit(main())
