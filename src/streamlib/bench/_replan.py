"""``python -m streamlib.bench replan``: live re-planning under a running audio chain.

A live chain (chord generator at 48 kHz in 512-sample blocks -> channel converter ->
rechunker -> reverb -> a sink that records every frame) runs on the real clock.
First it runs quietly, to measure its usual latency; then 100 re-plans happen, one
every ``--interval`` ms: half inside the chain (a second sink is connected to the
converter, which turns it from FUSED into DEDICATED, then removed, FUSED again),
half next to it (another pipeline added, then removed). Reported: the time each
re-plan call takes, how late frames reach the sink compared with the quiet run, and
frames lost (every frame must arrive, once, in order).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

from .._frames import AudioFrame
from ..graph import Input, Processor
from ..processors import (
    AudioChannelConverterProcessor,
    BufferRechunkerProcessor,
    ChordGeneratorProcessor,
    ReverbProcessor,
)
from ..runtime import StreamRuntime
from ..testing import CollectingSink, PassThrough, ScriptedSource

PERIOD_MS = 512 / 48000 * 1000


class _Recorder(Processor):
    """A live sink that records (sequence, latency in ns) of every frame."""

    live = True
    audio = Input(AudioFrame)

    def setup(self) -> None:
        self.samples: list[tuple[int, int]] = []
        self.lock = threading.Lock()

    def process(self) -> None:
        frame = self.audio.read()
        if frame is not None:
            latency = self.clock.now_ns() - frame.end_ns
            with self.lock:
                self.samples.append((frame.sequence, latency))

    def take(self) -> list[tuple[int, int]]:
        with self.lock:
            out, self.samples = self.samples, []
            return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streamlib.bench replan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--replans", type=int, default=100)
    parser.add_argument("--interval", type=float, default=25.0, help="ms between re-plans (default 25)")
    parser.add_argument("--quiet", type=float, default=3.0, help="seconds of quiet running first")
    args = parser.parse_args(argv)

    with StreamRuntime() as rt:
        chord = rt.add_processor(ChordGeneratorProcessor, live=True, sample_rate=48000, buffer_size=512)
        converter = rt.add_processor(AudioChannelConverterProcessor)
        rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=512)
        reverb = rt.add_processor(ReverbProcessor)
        sink = rt.add_processor(_Recorder)
        rt.connect(chord.output_port("audio"), converter.input_port("audio_in"))
        rt.connect(converter.output_port("audio_out"), rechunker.input_port("audio_in"))
        rt.connect(rechunker.output_port("audio_out"), reverb.input_port("audio_in"))
        rt.connect(reverb.output_port("audio_out"), sink.input_port("audio"))
        recorder: Any = rt._engine.slots[sink.id].processor
        rt.start()
        time.sleep(0.5)  # warm up (a benchmark: it measures real time)
        recorder.take()
        time.sleep(args.quiet)
        quiet = recorder.take()

        timings: list[float] = []
        fusion_flips = 0
        extra: Any = None
        neighbour: list[Any] = []
        for i in range(args.replans):
            t0 = time.perf_counter_ns()
            if i % 2 == 0:  # inside the chain: the converter gets a second consumer, or loses it
                if extra is None:
                    extra = rt.add_processor(CollectingSink, live=True, keep_frames=False)
                    rt.connect(converter.output_port("audio_out"), extra.input_port("in"))
                else:
                    rt.remove_processor(extra)
                    extra = None
                fusion_flips += 1
            elif not neighbour:  # next to it: another pipeline comes...
                s = rt.add_processor(ScriptedSource, live=True, num_frames=None, channels=1)
                m = rt.add_processor(PassThrough)
                k = rt.add_processor(CollectingSink, live=True, keep_frames=False)
                rt.connect(s.output_port("out"), m.input_port("in"))
                rt.connect(m.output_port("out"), k.input_port("in"))
                neighbour = [s, m, k]
            else:  # ...and goes
                for handle in neighbour:
                    rt.remove_processor(handle)
                neighbour = []
            timings.append((time.perf_counter_ns() - t0) / 1e6)
            time.sleep(args.interval / 1000)
        time.sleep(0.2)
        during = recorder.take()
        stats = rt.stats()
        errors = rt.errors

    sequences = [s for s, _ in quiet] + [s for s, _ in during]
    lost = (sequences[-1] - sequences[0] + 1) - len(sequences) if sequences else 0
    in_order = sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    dropped = sum(c["dropped"] for c in stats["connections"].values())
    q_lat = [lat / 1e6 for _, lat in quiet]
    d_lat = [lat / 1e6 for _, lat in during]
    usual = statistics.median(q_lat)
    worst_excess = max(d_lat) - usual
    print(
        f"replan benchmark: live 48 kHz chain of 512-sample blocks, {args.replans} re-plans "
        f"{args.interval:g} ms apart"
    )
    print(f"  ({fusion_flips} change the chain's fusion: converter FUSED <-> DEDICATED; the rest add or")
    print("   remove a neighbouring pipeline)")
    print(
        f"re-plan call time: median {statistics.median(timings):.2f} ms, p99 {_pct(timings, 0.99):.2f} ms, "
        f"max {max(timings):.2f} ms"
    )
    print(
        f"latency, quiet ({len(q_lat)} frames): p50 {usual:.2f} ms, p99 {_pct(q_lat, 0.99):.2f} ms, "
        f"max {max(q_lat):.2f} ms"
    )
    print(
        f"latency, re-planning ({len(d_lat)} frames): p50 {statistics.median(d_lat):.2f} ms, "
        f"p99 {_pct(d_lat, 0.99):.2f} ms, max {max(d_lat):.2f} ms"
    )
    print(
        f"worst frame beyond the usual latency: {worst_excess:.2f} ms "
        f"(target <= one period, {PERIOD_MS:.1f} ms)"
    )
    print(
        f"frames lost: {lost} (sequence gaps), dropped in queues: {dropped}, in order: {in_order}, "
        f"errors: {len(errors)} (target: 0 lost, 0 dropped)"
    )
    return 0 if lost == 0 and dropped == 0 and in_order and not errors else 1
