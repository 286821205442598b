"""``python -m streamlib.bench video``: 1080p video through the runtime.

A 1920x1080 30 fps test pattern (not live: as fast as the graph takes it) -> resize to
1280x720 -> convert to bgr24 -> MP4 (libx264, ultrafast/zerolatency), optimized (resize
and convert fused into the source's thread: 2 threads) vs ``optimize=False`` (a thread
per processor: 4). Reported per variant: frames per second (wall clock) and CPU time
per frame (all threads of the process, libx264's included), median of the repeats.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from ..processors import ColorConvertProcessor, MP4WriterProcessor, ResizeProcessor, TestPatternProcessor
from ..runtime import StreamRuntime


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(frames: int, *, optimize: bool, directory: Path) -> tuple[float, float, int]:
    """(frames per second, CPU ms per frame, threads) for one run."""
    with StreamRuntime(optimize=optimize) as rt:
        src = rt.add_processor(
            TestPatternProcessor, width=1920, height=1080, fps=30, live=False, num_frames=frames
        )
        resize = rt.add_processor(ResizeProcessor, width=1280, height=720)
        convert = rt.add_processor(ColorConvertProcessor, pixel_format="bgr24")
        mp4 = rt.add_processor(MP4WriterProcessor, path=directory / f"bench-{optimize}.mp4", fps=30)
        rt.connect(src.output_port("video"), resize.input_port("video_in"))
        rt.connect(resize.output_port("video_out"), convert.input_port("video_in"))
        rt.connect(convert.output_port("video_out"), mp4.input_port("video"))
        threads = rt.plan.thread_count
        cpu0, t0 = _cpu_s(), time.perf_counter()
        rt.start()
        if not rt.run(timeout=600):
            raise RuntimeError("the video benchmark did not finish")
        wall, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
        written = rt.stats()["processors"][mp4.id]["frames_written"]
    if written != frames:
        raise RuntimeError(f"wrote {written} of {frames} frames")
    return frames / wall, cpu / frames * 1e3, threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streamlib.bench video",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="streamlib-video-") as tmp:
        run(30, optimize=True, directory=Path(tmp))  # warm up codecs and caches
        for _ in range(args.repeats):
            for optimize in (True, False):
                results[optimize].append(run(args.frames, optimize=optimize, directory=Path(tmp)))
    print(
        f"video benchmark: {args.frames} frames 1920x1080 -> resize 1280x720 -> bgr24 -> MP4 (libx264), "
        f"median of {args.repeats}"
    )
    print(f"{'variant':<22}{'threads':>8}{'frames/s':>10}{'CPU ms/frame':>14}")
    summary = {}
    for optimize, name in ((True, "optimized"), (False, "optimize=False")):
        fps = statistics.median(r[0] for r in results[optimize])
        cpu = statistics.median(r[1] for r in results[optimize])
        summary[optimize] = (fps, cpu)
        print(f"{name:<22}{results[optimize][0][2]:>8}{fps:>10.1f}{cpu:>14.2f}")
    (fo, co), (fb, cb) = summary[True], summary[False]
    print(f"optimized / baseline: {fo / fb:.2f}x the frames per second, {co / cb:.2f}x the CPU per frame")
    return 0
