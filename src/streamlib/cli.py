"""The ``streamlib`` command.

``streamlib demo`` runs the seed's flagship topology on built-in defaults and prints
the plan the runtime chose and what it measured.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

from . import __version__


def _demo(args: argparse.Namespace) -> int:
    from .runtime import StreamRuntime
    from .testing import CollectingSink, PassThrough, ScriptedSource, Worker, instance

    block = 512
    rate = 48000
    frames = max(1, int(args.seconds * rate / block))
    print(
        "streamlib demo: the seed's microphone -> resampler -> converter -> rechunker -> "
        "reverb -> speaker topology,\nbuilt from streamlib's test processors (a live "
        f"clock-driven source of {block}-sample blocks at {rate} Hz, a live sink), "
        f"for {args.seconds:g} s.\n"
    )
    with StreamRuntime() as rt:
        mic = rt.add_processor(ScriptedSource, num_frames=frames, live=True, channels=1)
        stages = [rt.add_processor(PassThrough) for _ in range(3)]
        reverb = rt.add_processor(Worker)
        speaker = rt.add_processor(CollectingSink, live=True, keep_frames=False)
        previous = mic.output_port("out")
        for stage in (*stages, reverb):
            rt.connect(previous, stage.input_port("in"))
            previous = stage.output_port("out")
        rt.connect(previous, speaker.input_port("in"))
        print(rt.plan)
        print()
        t0 = time.monotonic()
        rt.start()
        finished = rt.run(timeout=args.seconds + 10)
        elapsed = time.monotonic() - t0
        stats = rt.stats()
        received = len(instance(rt, speaker).sequences)
    _report(stats, speaker.id, received, frames, elapsed, finished)
    return 0 if finished and received > 0 else 1


def _report(
    stats: dict[str, Any], sink_id: str, received: int, sent: int, elapsed: float, finished: bool
) -> None:
    sink = stats["processors"][sink_id]
    dropped = sum(c["dropped"] for c in stats["connections"].values())
    print(f"ran {elapsed:.2f} s: {sent} blocks sent, {received} received, {dropped} dropped")
    if "latency_ms_p50" in sink:
        print(
            "end-to-end latency at the speaker: "
            f"p50 {sink['latency_ms_p50']:.3f} ms, p99 {sink['latency_ms_p99']:.3f} ms, "
            f"max {sink['latency_ms_max']:.3f} ms"
        )
    print("threads (priority as granted by the kernel):")
    for thread in stats["threads"]:
        print(
            f"  {thread['name']:<24} {thread['priority']:<10} {thread['applied']:<16} "
            f"{', '.join(thread['processors'])}"
        )
    if not finished:
        print("the graph did not finish in time", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="streamlib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"streamlib {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the flagship graph on built-in defaults")
    demo.add_argument("--seconds", type=float, default=5.0, help="how long to run (default 5)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
