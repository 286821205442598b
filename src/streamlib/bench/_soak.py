"""``python -m streamlib.bench soak --minutes 10``: a long run of a service.

``--pipelines`` live pipelines (the seed's chain: chord generator at 24 kHz in 10 ms
blocks -> resampler -> channel converter -> rechunker -> reverb -> a sink that checks
every sequence number) run the whole time, while other pipelines of several shapes
are added and removed at random next to them. Every ``--sample`` seconds it records
resident memory, thread counts, the plan cache's size, and frames; at the end it
reports the slopes (memory and threads must be flat), frames lost on the surviving
pipelines (must be 0), and every dropped frame with its cause.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

from .._frames import AudioFrame
from ..graph import Input, Processor
from ..processors import (
    AudioChannelConverterProcessor,
    AudioResamplerProcessor,
    BufferRechunkerProcessor,
    ChordGeneratorProcessor,
    ReverbProcessor,
    WavFileSinkProcessor,
)
from ..runtime import StreamRuntime
from ..testing import CollectingSink, PassThrough, ScriptedSource, Worker


class _Checker(Processor):
    """A live sink that checks sequence numbers: gaps are frames lost on the way."""

    live = True
    audio = Input(AudioFrame)

    def setup(self) -> None:
        self.frames = 0
        self.gaps = 0
        self.next: int | None = None

    def process(self) -> None:
        frame = self.audio.read()
        if frame is None:
            return
        if self.next is not None and frame.sequence != self.next:
            self.gaps += abs(frame.sequence - self.next)
        self.next = frame.sequence + 1
        self.frames += 1


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _slope(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _survivor(rt: StreamRuntime) -> tuple[list[Any], Any]:
    chord = rt.add_processor(
        ChordGeneratorProcessor, live=True, sample_rate=24000, channels=1, buffer_size=240
    )
    resampler = rt.add_processor(AudioResamplerProcessor, source_sample_rate=24000, target_sample_rate=48000)
    converter = rt.add_processor(AudioChannelConverterProcessor)
    rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=512)
    reverb = rt.add_processor(ReverbProcessor)
    sink = rt.add_processor(_Checker)
    chain = [chord, resampler, converter, rechunker, reverb]
    rt.connect(chord.output_port("audio"), resampler.input_port("audio_in"))
    rt.connect(resampler.output_port("audio_out"), converter.input_port("audio_in"))
    rt.connect(converter.output_port("audio_out"), rechunker.input_port("audio_in"))
    rt.connect(rechunker.output_port("audio_out"), reverb.input_port("audio_in"))
    rt.connect(reverb.output_port("audio_out"), sink.input_port("audio"))
    return [*chain, sink], sink


def _churn(rt: StreamRuntime, rng: random.Random, directory: Path) -> list[Any]:
    """A random short-lived pipeline."""
    shape = rng.randrange(3)
    if shape == 0:  # a live scripted chain, light or heavy in the middle
        src = rt.add_processor(ScriptedSource, live=True, num_frames=None, channels=1, block_size=256)
        mid = rt.add_processor(rng.choice([PassThrough, Worker]))
        sink = rt.add_processor(CollectingSink, live=True, keep_frames=False)
        rt.connect(src.output_port("out"), mid.input_port("in"))
        rt.connect(mid.output_port("out"), sink.input_port("in"))
        return [src, mid, sink]
    if shape == 1:  # a chord written to a file
        chord = rt.add_processor(ChordGeneratorProcessor, live=True, duration_s=rng.uniform(0.2, 2.0))
        conv = rt.add_processor(AudioChannelConverterProcessor)
        wav = rt.add_processor(WavFileSinkProcessor, path=directory / f"churn-{rng.randrange(10**9)}.wav")
        rt.connect(chord.output_port("audio"), conv.input_port("audio_in"))
        rt.connect(conv.output_port("audio_out"), wav.input_port("audio"))
        return [chord, conv, wav]
    src = rt.add_processor(
        ScriptedSource, num_frames=rng.randint(50, 500), block_size=64
    )  # a file-like burst
    sink = rt.add_processor(CollectingSink, keep_frames=False)
    rt.connect(src.output_port("out"), sink.input_port("in"))
    return [src, sink]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streamlib.bench soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--sample", type=float, default=None, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    duration = args.minutes * 60
    every = args.sample or max(1.0, duration / 40)
    rng = random.Random(args.seed)
    directory = Path(tempfile.mkdtemp(prefix="streamlib-soak-"))
    samples: list[tuple[float, float, int, int, int, int]] = []
    churned = removed_with_queued = 0
    with StreamRuntime() as rt:
        rt.start()
        survivors = [_survivor(rt) for _ in range(args.pipelines)]
        survivor_ids = {h.id for handles, _ in survivors for h in handles}
        checkers = [cast(_Checker, rt._engine.slots[sink.id].processor) for _, sink in survivors]
        alive: list[list[Any]] = []
        t0 = time.monotonic()
        next_sample = t0
        print(f"soak: {args.pipelines} live pipelines for {args.minutes:g} min, churn beside them")
        print(
            f"{'t (s)':>7}{'RSS MB':>9}{'threads':>9}{'streamlib':>10}{'cache':>7}{'alive':>7}{'frames':>10}"
        )
        while True:
            now = time.monotonic()
            if now >= next_sample:
                stats = rt.stats()
                frames = sum(c.frames for c in checkers)
                sample = (
                    now - t0,
                    _rss_mb(),
                    threading.active_count(),
                    len(stats["threads"]),
                    stats["optimizer"]["cache_entries"],
                    frames,
                )
                samples.append(sample)
                print(
                    f"{sample[0]:>7.0f}{sample[1]:>9.1f}{sample[2]:>9}{sample[3]:>10}{sample[4]:>7}"
                    f"{len(alive):>7}{sample[5]:>10}"
                )
                next_sample += every
            if now - t0 >= duration:
                break
            if alive and (len(alive) >= 10 or rng.random() < 0.5):
                handles = alive.pop(rng.randrange(len(alive)))
                rng.shuffle(handles)
                for handle in handles:
                    rt.remove_processor(handle)
            else:
                alive.append(_churn(rt, rng, directory))
                churned += 1
            time.sleep(rng.uniform(0.05, 0.4))
        stats = rt.stats()
        errors = rt.errors
        for handles in alive:
            for handle in handles:
                rt.remove_processor(handle)
    removed_with_queued = sum(
        p.get("dropped_on_disconnect", 0) for pid, p in stats["processors"].items() if pid not in survivor_ids
    )
    gaps = sum(c.gaps for c in checkers)
    survivor_drops = sum(
        c["dropped"]
        for c in stats["connections"].values()
        if c["source"].split(".")[0] in survivor_ids or c["sink"].split(".")[0] in survivor_ids
    )
    churn_drops = sum(
        c["dropped"]
        for c in stats["connections"].values()
        if c["source"].split(".")[0] not in survivor_ids and c["sink"].split(".")[0] not in survivor_ids
    )
    half = samples[len(samples) // 2 :]
    minutes = [s[0] / 60 for s in half]
    print()
    print(f"pipelines added and removed beside the survivors: {churned}")
    print(
        f"RSS slope over the second half: {_slope(minutes, [s[1] for s in half]):+.2f} MB/min; "
        f"threads slope: {_slope(minutes, [float(s[2]) for s in half]):+.2f} /min"
    )
    print(f"plan cache: {samples[-1][4]} entries (bound 1024)")
    print(
        f"frames at the surviving sinks: {sum(c.frames for c in checkers)}; lost on their paths: {gaps} "
        f"(sequence gaps); dropped in their queues: {survivor_drops}"
    )
    print("drops with causes:")
    print(f"  live queue full (oldest dropped) on surviving pipelines: {survivor_drops}")
    print(f"  live queue full (oldest dropped) on churned pipelines still present: {churn_drops}")
    print(f"  frames queued on connections removed with their pipeline: {removed_with_queued}")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:5]))
    return 0 if gaps == 0 and survivor_drops == 0 and not errors else 1
