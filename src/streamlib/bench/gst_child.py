"""GStreamer's side of ``python -m streamlib.bench peers``, run by Debian's own Python
(``/usr/bin/python3``, whose ``python3-gi`` provides the GStreamer bindings): N copies
of the flagship chain in this one process, measured the way the Python variants are.

    audiotestsrc is-live=true samplesperbuffer=480 ! audio/x-raw,F32LE,24 kHz,mono
      [! queue] ! audioresample ! audio/x-raw,48 kHz [! queue] ! audioconvert
      ! audio/x-raw,stereo [! queue] ! audiobuffersplit (512 samples) [! queue]
      ! freeverb [! queue] ! fakesink sync=false

A live ``audiotestsrc`` pushes each 20 ms buffer when the clock reaches its
timestamp (``timestamp-offset`` staggers the pipelines' phases across the period).

Two ways to measure. ``--probe tracer`` (the default): GStreamer's own latency tracer
(``GST_TRACERS=latency``, written by C code to a log file, no Python in the data
path) gives, per source buffer, the time from its push at the source to the sink
(``time``) and when that was (``ts``); processing latency is ``time``, a miss is a
``time`` over 50 ms or a push more than one period behind the source's schedule
(push = ts - time; the schedule is its earliest push minus k periods). No end-to-end
figure in this mode. ``--probe python``: pad probes (Python callbacks, as a PyGObject
user would write them) record every source push and every sink arrival; they run
under the interpreter lock in GStreamer's streaming threads, which at high pipeline
counts is what limits GStreamer (so its density is understated); after the run, per
sink buffer:

- processing latency: arrival minus the timestamp of the source buffer that let it
  out (the one holding its last sample, plus the resampler's look-ahead), the tick
  it waited for; the Python variants' definition;
- end-to-end latency: arrival minus the capture of its last sample, with the source
  modelled as a capture device that delivers each buffer once its last sample is in
  (audiotestsrc generates it one period ahead, so add one period);
- misses: frames whose processing latency exceeds 50 ms, and source pushes more than
  one period behind the clock.

Prints one JSON object as its last line. Not imported by streamlib (it needs ``gi``).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

SOURCE_RATE = 24_000
SOURCE_BLOCK = 480
OUT_RATE = 48_000
OUT_BLOCK = 512
PERIOD_NS = SOURCE_BLOCK * 1_000_000_000 // SOURCE_RATE
MISS_LATENCY_NS = 50_000_000
# The sink buffer ending at t is let out by the source buffer holding t plus the
# resampler's look-ahead (audioresample's default filter: between 1.33 and 2.67 ms,
# measured). Sink buffers end on a 1.33 ms grid within a source period, so any value
# strictly between those two picks the right source buffer.
LOOKAHEAD_NS = 2_000_000


def describe(queues: bool, live: bool, buffers: int, offset_ns: int) -> str:
    q = " ! queue" if queues else ""
    src = (
        f"audiotestsrc is-live={'true' if live else 'false'} samplesperbuffer={SOURCE_BLOCK} "
        f"timestamp-offset={offset_ns} wave=sine"
    )
    if not live:
        src += f" num-buffers={buffers}"
    return (
        f"{src} ! audio/x-raw,format=F32LE,rate={SOURCE_RATE},channels=1,layout=interleaved{q}"
        f" ! audioresample ! audio/x-raw,rate={OUT_RATE}{q} ! audioconvert ! audio/x-raw,channels=2{q}"
        f" ! audiobuffersplit output-buffer-duration={OUT_BLOCK}/{OUT_RATE}{q} ! freeverb{q}"
        " ! fakesink name=sink sync=false async=false"
    )


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        nan = float("nan")
        return {"p50": nan, "p99": nan, "max": nan}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": at(0.5), "p99": at(0.99), "max": ordered[-1]}


class Pipeline:
    def __init__(
        self,
        index: int,
        n: int,
        queues: bool,
        live: bool,
        buffers: int,
        clock: Gst.Clock,
        probes: bool = True,
    ) -> None:
        offset = index * PERIOD_NS // max(n, 1)
        self.pipeline = Gst.parse_launch(describe(queues, live, buffers, offset))
        self.pipeline.use_clock(clock)
        self.pushes: list[tuple[int, int]] = []  # (clock time, pts)
        self.arrivals: list[tuple[int, int, int]] = []  # (clock time, pts, duration)
        self.recording = False
        if live and probes:
            source = self.pipeline.get_by_name("audiotestsrc0") or self._first_source()
            source.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self._on_push, clock)
            sink = self.pipeline.get_by_name("sink")
            sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self._on_arrival, clock)

    def _first_source(self) -> Gst.Element:
        it = self.pipeline.iterate_sources()
        ok, element = it.next()
        assert ok == Gst.IteratorResult.OK
        return element

    def _on_push(self, _pad: Gst.Pad, info: Gst.PadProbeInfo, clock: Gst.Clock) -> Gst.PadProbeReturn:
        if self.recording:
            self.pushes.append((clock.get_time(), info.get_buffer().pts))
        return Gst.PadProbeReturn.OK

    def _on_arrival(self, _pad: Gst.Pad, info: Gst.PadProbeInfo, clock: Gst.Clock) -> Gst.PadProbeReturn:
        if self.recording:
            buffer = info.get_buffer()
            self.arrivals.append((clock.get_time(), buffer.pts, buffer.duration))
        return Gst.PadProbeReturn.OK

    def results(self) -> tuple[list[float], list[float], int, int]:
        """(processing ms, end-to-end ms, late pushes, frames too old)."""
        base = self.pipeline.get_base_time()
        late = sum(1 for now, pts in self.pushes if now - base - pts > PERIOD_NS)
        starts = [pts for _, pts in self.pushes]
        processing, end_to_end, old = [], [], 0
        for now, pts, duration in self.arrivals:
            rt = now - base
            end = pts + duration
            i = bisect.bisect_right(starts, end + LOOKAHEAD_NS) - 1
            if i < 0:
                continue  # released before the window opened
            p = rt - starts[i]
            processing.append(p / 1e6)
            end_to_end.append((rt - end + PERIOD_NS) / 1e6)
            old += p > MISS_LATENCY_NS
        return processing, end_to_end, late, old


TRACE_LINE = re.compile(
    r"latency, src-element-id=\(string\)(\S+?), .*? time=\(guint64\)(\d+), ts=\(guint64\)(\d+);"
)


def traced(log: str, warmup: float, seconds: float) -> tuple[list[float], int, int]:
    """From the latency tracer's log: (processing ms in the window, late pushes, frames
    too old)."""
    by_source: dict[str, list[tuple[int, int]]] = {}
    first = None
    with open(log, errors="replace") as f:
        for line in f:
            if "latency, src-element-id" not in line:
                continue
            m = TRACE_LINE.search(line)
            if m is None:
                continue
            took, ts = int(m.group(2)), int(m.group(3))
            first = ts if first is None else min(first, ts)
            by_source.setdefault(m.group(1), []).append((ts - took, took))
    if first is None:
        return [], 0, 0
    start = first + int(warmup * 1e9)
    end = start + int(seconds * 1e9)
    processing: list[float] = []
    late = old = 0
    for entries in by_source.values():
        entries.sort()
        schedule = min(push - k * PERIOD_NS for k, (push, _) in enumerate(entries))
        for k, (push, took) in enumerate(entries):
            if not start <= push + took < end:
                continue
            processing.append(took / 1e6)
            late += push - k * PERIOD_NS - schedule > PERIOD_NS
            old += took > MISS_LATENCY_NS
    return processing, late, old


def run_live(
    n: int, queues: bool, seconds: float, warmup: float, trace: str | None = None
) -> dict[str, object]:
    clock = Gst.SystemClock.obtain()
    base_threads = threads()
    pipelines = [Pipeline(i, n, queues, True, 0, clock, probes=trace is None) for i in range(n)]
    for p in pipelines:
        if p.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise SystemExit("a pipeline failed to start")
    try:
        time.sleep(warmup)
        for p in pipelines:
            p.recording = True
        cpu0, t0 = cpu_s(), time.monotonic()
        time.sleep(seconds / 2)
        thread_count = threads() - base_threads
        time.sleep(seconds / 2)
        for p in pipelines:
            p.recording = False
        cpu, wall = cpu_s() - cpu0, time.monotonic() - t0
        errors = [p for p in pipelines if p.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)]
        if errors:
            raise SystemExit(f"{len(errors)} pipelines posted errors")
    finally:
        for p in pipelines:
            p.pipeline.set_state(Gst.State.NULL)
    processing: list[float] = []
    end_to_end: list[float] = []
    late = old = 0
    if trace is not None:
        processing, late, old = traced(trace, warmup, seconds)
    for p in pipelines if trace is None else ():
        a, b, c, d = p.results()
        processing += a
        end_to_end += b
        late += c
        old += d
    return {
        "pipelines": n,
        "threads": thread_count,
        "cpu_s": cpu,
        "audio_s": n * wall,
        "buffers": len(processing),
        "latency_ms": percentiles(processing),
        "end_to_end_ms": percentiles(end_to_end) if trace is None else None,
        "probe": "python" if trace is None else "tracer",
        "misses": late + old,
        "late_source_ticks": late,
    }


def run_offline(queues: bool, buffers: int) -> dict[str, object]:
    pipeline = Pipeline(0, 1, queues, False, buffers, Gst.SystemClock.obtain()).pipeline
    bus = pipeline.get_bus()
    t0 = time.perf_counter()
    pipeline.set_state(Gst.State.PLAYING)
    message = bus.timed_pop_filtered(600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    elapsed = time.perf_counter() - t0
    pipeline.set_state(Gst.State.NULL)
    if message is None or message.type != Gst.MessageType.EOS:
        raise SystemExit(f"offline run failed: {message.parse_error() if message else 'timeout'}")
    return {"buffers": buffers, "seconds": elapsed, "buffers_per_s": buffers / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipelines", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--mode", choices=("live", "offline"), default="live")
    parser.add_argument("--buffers", type=int, default=2000)
    parser.add_argument("--queues", action="store_true")
    parser.add_argument("--probe", choices=("tracer", "python"), default="tracer")
    args = parser.parse_args()
    trace = None
    if args.mode == "live" and args.probe == "tracer":  # before Gst.init, which reads them
        fd, trace = tempfile.mkstemp(prefix="streamlib-gst-trace-", suffix=".log")
        os.close(fd)
        os.environ.update(
            GST_TRACERS="latency", GST_DEBUG="GST_TRACER:7", GST_DEBUG_NO_COLOR="1", GST_DEBUG_FILE=trace
        )
    Gst.init(None)
    threading.current_thread().name = "gst-child"
    if args.mode == "live":
        try:
            result = run_live(args.pipelines, args.queues, args.seconds, args.warmup, trace)
        finally:
            if trace is not None:
                os.unlink(trace)
    else:
        result = run_offline(args.queues, args.buffers)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
