"""The flagship chain run by streamlib and by the hand-written Python a user would write
instead, for ``python -m streamlib.bench peers``.

The chain: a live source of 24 kHz mono 480-sample buffers (20 ms) -> resample to
48 kHz (libsoxr, HQ, streaming) -> duplicate to stereo -> rechunk to 512 -> reverb
(pedalboard) -> a sink that records each frame's end-to-end latency: its arrival
time minus the capture time of its last sample (the runtime's definition).

Every variant runs N copies in this process, the sources' phases staggered across
the 20 ms period, and reports the same figures: threads, CPU seconds per audio
second, latency percentiles, deadline misses (a frame older than 50 ms at the sink,
or a source tick more than one period late).
"""

from __future__ import annotations

import abc
import bisect
import heapq
import math
import os
import queue
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pedalboard
import soxr

from .._frames import AudioFrame
from ..graph import Input, Processor, ProcessorConfig, ProcessorStatus
from ..processors import (
    AudioChannelConverterProcessor,
    AudioResamplerProcessor,
    BufferRechunkerProcessor,
    ChordGeneratorProcessor,
    ReverbProcessor,
)
from ..runtime import StreamRuntime

SOURCE_RATE = 24_000
SOURCE_BLOCK = 480
OUT_RATE = 48_000
OUT_BLOCK = 512
PERIOD_NS = SOURCE_BLOCK * 1_000_000_000 // SOURCE_RATE  # 20 ms
_OUT_PER_BLOCK = SOURCE_BLOCK * OUT_RATE // SOURCE_RATE
MISS_LATENCY_NS = 50_000_000
FREQUENCIES = (261.63, 329.63, 392.0)


def os_threads() -> set[int]:
    """The process's threads' ids now (each an entry of ``/proc/self/task``)."""
    return {int(tid) for tid in os.listdir("/proc/self/task")}


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ReleaseSchedule:
    """When libsoxr releases output samples: after source block k has been fed, it has
    emitted ``counts[k]`` output samples in all (HQ, 24 -> 48 kHz, 480-sample blocks:
    nothing, then 1660, nothing, 1660, ...; independent of the signal). A frame whose
    last sample is output sample j was released by the first block k with
    counts[k] > j: its *processing latency* is its arrival minus the capture end of
    that block (the tick that let it out), which excludes the resampler's buffering
    and leaves queueing and compute. Computed once, shared read-only."""

    def __init__(self, blocks: int = 30_000) -> None:
        stream = soxr.ResampleStream(SOURCE_RATE, OUT_RATE, 1, dtype="float32", quality="HQ")
        zeros = np.zeros((SOURCE_BLOCK, 1), np.float32)
        total = 0
        counts = []
        for _ in range(blocks):
            total += len(stream.resample_chunk(zeros))
            counts.append(total)
        self.counts = counts

    def release_block(self, last_sample: int) -> int:
        return bisect.bisect_right(self.counts, last_sample)  # (a fraction of searchsorted's cost)

    def released_at(self, timestamp_ns: int, sequence: int) -> int:
        """Release time of the rechunked 512-sample frame number ``sequence`` (its
        first sample is output sample ``sequence * 512``), stamped ``timestamp_ns``:
        the capture end of the block that released it, counted from the frame's own
        stamp. A source's skipped ticks and a queue's dropped frames shift stamps and
        sequences alike, so it stays exact across them (the frame that straddles a
        skip is off by that skip)."""
        first = sequence * OUT_BLOCK
        end = (self.release_block(first + OUT_BLOCK - 1) + 1) * _OUT_PER_BLOCK
        return timestamp_ns + (end - first) * 1_000_000_000 // OUT_RATE


_SCHEDULE: ReleaseSchedule | None = None


def schedule() -> ReleaseSchedule:
    global _SCHEDULE
    if _SCHEDULE is None:
        _SCHEDULE = ReleaseSchedule()
    return _SCHEDULE


class Record:
    """What the sinks of one run observed, one raw entry per 512-sample frame, appended
    as it arrives (one ``list.append``, atomic from many threads with or without the
    GIL); the figures are worked out after the run (``figures``), so recording costs
    every Python variant the same few steps per frame. Per frame: end-to-end latency
    (arrival minus capture of the frame's last sample) and processing latency (arrival
    minus the tick that released the frame from the resampler)."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, int, int]] = []
        """(arrival, t0, first sample or stamp, -1 or sequence), see ``add``/``add_stamped``."""
        self._start = 0

    def clear(self) -> None:
        """Count from the next entry on. The entries so far stay until the record is
        dropped (after the run): freeing a warm-up's hundreds of thousands of them
        here would hold the interpreter lock for tens of ms while the pipelines run,
        and make every one of them late once (a density probe's window started so)."""
        self._start = len(self.entries)

    def __len__(self) -> int:
        return len(self.entries) - self._start

    def add(self, arrival: int, t0: int, first_sample: int) -> None:
        """A frame whose first sample is output sample ``first_sample`` of a pipeline
        whose source started capturing at ``t0`` (a gap-free stream: it was released
        by the block the schedule says, counted from ``t0``)."""
        self.entries.append((arrival, t0, first_sample, -1))

    def add_stamped(self, arrival: int, t0: int, timestamp_ns: int, sequence: int) -> None:
        """A frame stamped ``timestamp_ns`` (capture of its first sample), number
        ``sequence`` of the rechunked stream, of a pipeline whose first frame was
        stamped ``t0``: its release counts from its own stamp
        (``ReleaseSchedule.released_at``), exact across a source's skipped ticks and
        dropped frames, which shift ``t0 + block * period``. (A sink may append the same
        tuple to ``entries`` itself.)"""
        self.entries.append((arrival, t0, timestamp_ns, sequence))

    def figures(self, count: int | None = None) -> tuple[list[int], list[int]]:
        """(end-to-end latencies, processing latencies), ns, of the first ``count``
        entries (default: all)."""
        releases = schedule()
        latencies, processing = [], []
        end = len(self.entries) if count is None else self._start + count
        for arrival, t0, x, sequence in self.entries[self._start : end]:
            if sequence < 0:
                first = x
                released = t0 + (releases.release_block(first + OUT_BLOCK - 1) + 1) * PERIOD_NS
            else:
                first = round((x - t0) * OUT_RATE / 1e9)
                released = releases.released_at(x, sequence)
            latencies.append(arrival - t0 - (first + OUT_BLOCK) * 1_000_000_000 // OUT_RATE)
            processing.append(arrival - released)
        return latencies, processing


class Variant(abc.ABC):
    """One way of running N pipelines."""

    name = ""
    threads_per_pipeline = ""

    @abc.abstractmethod
    def start(self, n: int, live: bool, record: Record, frames: int | None = None) -> None:
        """Start ``n`` pipelines (live, or ``frames`` source buffers as fast as they go)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop every pipeline and release them."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> bool:
        """Offline: block until every pipeline finished (True) or timeout."""

    def late_ticks(self) -> int:
        return 0

    def settle(self, timeout: float) -> None:
        """After the warm-up: wait (up to ``timeout`` s) until the variant's own
        adjustments are done, so the measured window sees the steady state."""


# --- streamlib -------------------------------------------------------------------------


class _LatencySink(Processor):
    """Records each frame's arrival with its stamp and sequence (``Record.add_stamped``);
    the pipeline's start is the first frame's timestamp (it holds output sample 0)."""

    audio = Input(AudioFrame)  # not live: no device drives it (the source sets the pace)
    record: Record  # (set on the class by the variant as it adds one)

    def setup(self) -> None:
        self.t0: int | None = None
        self._now = self.clock.now_ns
        self._append = self.record.entries.append

    def process(self) -> None:
        frame = self.audio.read()
        if frame is not None:
            arrival = self._now()
            timestamp = frame.timestamp_ns
            t0 = self.t0
            if t0 is None:
                self.t0 = t0 = timestamp
            self._append((arrival, t0, timestamp, frame.sequence))


class StreamlibVariant(Variant):
    def __init__(self, optimize: bool) -> None:
        self.optimize = optimize
        self.name = "streamlib" if optimize else "streamlib optimize=False"
        self.rt: StreamRuntime | None = None
        self.sources: list[str] = []
        self.pipelines = 0

    def start(self, n: int, live: bool, record: Record, frames: int | None = None) -> None:
        schedule()  # (computed here, not in the first sink's setup on a worker)
        rt = StreamRuntime(optimize=self.optimize)
        rt.start()  # service mode: pipelines are added one by one, phases staggered
        self.rt = rt
        self.sources = []
        for k in range(n):
            self.sources.append(self._add_pipeline(rt, live, record, frames))
            if live and k < n - 1:
                time.sleep(PERIOD_NS / 1e9 / n)
        self.pipelines = n

    def _add_pipeline(self, rt: StreamRuntime, live: bool, record: Record, frames: int | None) -> str:
        """Add and connect one pipeline; returns its source's id."""
        duration = None if frames is None else frames * SOURCE_BLOCK / SOURCE_RATE
        chord = rt.add_processor(
            ChordGeneratorProcessor,
            sample_rate=SOURCE_RATE,
            channels=1,
            buffer_size=SOURCE_BLOCK,
            frequencies=FREQUENCIES,
            live=live,
            duration_s=duration,
        )
        resampler = rt.add_processor(
            AudioResamplerProcessor, source_sample_rate=SOURCE_RATE, target_sample_rate=OUT_RATE
        )
        converter = rt.add_processor(AudioChannelConverterProcessor)
        rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=OUT_BLOCK)
        reverb = rt.add_processor(ReverbProcessor)
        _LatencySink.record = record  # (it starts as it is added: no time to set it on the instance)
        sink = rt.add_processor(_LatencySink)
        rt.connect(resampler.output_port("audio_out"), converter.input_port("audio_in"))
        rt.connect(converter.output_port("audio_out"), rechunker.input_port("audio_in"))
        rt.connect(rechunker.output_port("audio_out"), reverb.input_port("audio_in"))
        rt.connect(reverb.output_port("audio_out"), sink.input_port("audio"))
        rt.connect(chord.output_port("audio"), resampler.input_port("audio_in"))  # last: it starts now
        return chord.id

    def settle(self, timeout: float) -> None:
        """The measured cost rules re-plan each pipeline once its costs are known (about
        a second or two in): wait until every live processor has a measured class and
        the plan has not changed for two checks (a plan that merely held still for two
        seconds could still move the last pipelines of a ramp into the pool later)."""
        rt = self.rt
        assert rt is not None
        deadline = time.monotonic() + timeout
        last, stable = rt.plan, 0
        while stable < 2 and time.monotonic() < deadline:
            time.sleep(1.0)
            plan = rt.plan
            costs = rt._optimizer.costs
            measured = not self.optimize or all(
                pid in costs for pid, processor in plan.processors.items() if processor.live
            )
            stable = stable + 1 if plan is last and measured else 0
            last = plan

    def late_ticks(self) -> int:
        # the engine's counters directly: a full rt.stats() of hundreds of pipelines holds
        # the interpreter for tens of ms, which would itself make sources late
        assert self.rt is not None
        late = self.rt._engine.late_ticks()
        return sum(late.get(s, 0) for s in self.sources)

    def wait(self, timeout: float) -> bool:
        assert self.rt is not None
        return self.rt.run(timeout=timeout)

    def stop(self) -> None:
        if self.rt is not None:
            self.threads_per_pipeline = f"{self.rt.plan.thread_count / max(self.pipelines, 1):g}"
            self.rt.stop()
            errors = self.rt.errors
            self.rt = None
            if errors:
                raise RuntimeError(f"{self.name}: {errors[0]}")


# --- hand-written Python --------------------------------------------------------------


class _Dsp:
    """One pipeline's DSP state, as a hand-written program keeps it."""

    def __init__(self) -> None:
        self.increments = [f / SOURCE_RATE for f in FREQUENCIES]
        ramp = 2 * np.pi * np.outer(self.increments, np.arange(SOURCE_BLOCK, dtype=np.float64))
        gain = 0.2 / len(FREQUENCIES)
        self.table = np.ascontiguousarray(np.vstack([np.cos(ramp), np.sin(ramp)]) * gain, np.float32)
        self.phases = [0.0] * len(FREQUENCIES)
        self.resampler = soxr.ResampleStream(SOURCE_RATE, OUT_RATE, 1, dtype="float32", quality="HQ")
        self.pending: list[np.ndarray[Any, Any]] = []
        self.buffered = 0
        self.out_position = 0  # output samples emitted
        self.reverb = pedalboard.Reverb()

    def generate(self) -> np.ndarray[Any, Any]:
        """The chord generator's algorithm (ChordGeneratorProcessor), same numpy calls."""
        phases = self.phases
        turns = [2 * math.pi * p for p in phases]
        weights = np.array([*map(math.sin, turns), *map(math.cos, turns)], np.float32)
        block: np.ndarray[Any, Any] = (weights @ self.table)[:, None]
        for k, step in enumerate(self.increments):
            phases[k] = (phases[k] + step * SOURCE_BLOCK) % 1.0
        return block

    def resample(self, block: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        out: np.ndarray[Any, Any] = self.resampler.resample_chunk(block)
        return out

    @staticmethod
    def duplicate(block: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.repeat(block, 2, axis=1)

    def rechunk(self, block: np.ndarray[Any, Any]) -> list[tuple[int, np.ndarray[Any, Any]]]:
        """(output position of the first sample, 512-sample block) for each full block."""
        out = []
        if len(block):
            self.pending.append(block)
            self.buffered += len(block)
        while self.buffered >= OUT_BLOCK:
            joined = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
            out.append((self.out_position, joined[:OUT_BLOCK]))
            rest = joined[OUT_BLOCK:]
            self.pending = [rest] if len(rest) else []
            self.buffered -= OUT_BLOCK
            self.out_position += OUT_BLOCK
        return out

    def reverb_block(self, block: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        out: np.ndarray[Any, Any] = self.reverb.process(block, OUT_RATE, reset=False)
        return out


def _sleep_until(deadline_ns: int) -> int:
    """Sleep to an absolute deadline; returns how late we woke (ns)."""
    remaining = deadline_ns - time.monotonic_ns()
    if remaining > 0:
        time.sleep(remaining / 1e9)
    return time.monotonic_ns() - deadline_ns


class _Pipeline:
    """The state every hand-written variant shares for one pipeline."""

    def __init__(self, record: Record, t0: int, live: bool, frames: int | None) -> None:
        self.dsp = _Dsp()
        self.record = record
        self.t0 = t0
        self.live = live
        self.frames = frames
        self.tick = 0
        self.late = 0

    def next_block(self, stop: threading.Event) -> np.ndarray[Any, Any] | None:
        """The source: the next 480-sample block at its deadline (live), or at once."""
        if self.frames is not None and self.tick >= self.frames:
            return None
        self.tick += 1
        if self.live:
            lateness = _sleep_until(self.t0 + self.tick * PERIOD_NS)
            if lateness > PERIOD_NS:
                self.late += 1
        return None if stop.is_set() else self.dsp.generate()

    def arrive(self, position: int) -> None:
        self.record.add(time.monotonic_ns(), self.t0, position)

    def run_chain(self, block: np.ndarray[Any, Any]) -> None:
        """Resample, duplicate, rechunk, reverb, and record each frame at the sink."""
        dsp = self.dsp
        for position, chunk in dsp.rechunk(dsp.duplicate(dsp.resample(block))):
            dsp.reverb_block(chunk)
            self.arrive(position)


@dataclass(frozen=True)
class _WholeChainConfig(ProcessorConfig):
    live: bool = True
    frames: int | None = None
    """Offline: end of stream after this many source buffers."""


class _WholeChain(Processor):
    """One pipeline's whole chain, the hand-written functions, as one streamlib processor:
    a clock-driven source with no ports that records its frames itself."""

    Config = _WholeChainConfig
    config: _WholeChainConfig
    record: Record  # (set on the class by the variant as it adds one)

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    @property
    def period_ns(self) -> int | None:  # type: ignore[override]
        return PERIOD_NS if self.config.live else None

    def setup(self) -> None:
        self.pipeline = _Pipeline(self.record, 0, self.config.live, self.config.frames)

    def process(self) -> ProcessorStatus | None:
        p = self.pipeline
        if p.frames is not None and p.tick >= p.frames:
            return ProcessorStatus.END_OF_STREAM
        p.tick += 1
        if p.live:  # ticks skipped to shed load leave no gap in its own stream of blocks
            p.t0 = self.tick_ns - p.tick * PERIOD_NS
        p.run_chain(p.dsp.generate())
        return None


class _WholeChainVariant(StreamlibVariant):
    """streamlib running each pipeline as one processor that calls the hand-written
    functions: the runtime (pool, clock, measurement) around coarse processors, without
    the library's processors, ports and frames. Against *hand-written, pooled* it shows
    what the runtime's scheduling costs; against *streamlib*, what the six processors
    of the library's chain cost over the same functions."""

    def __init__(self) -> None:
        super().__init__(optimize=True)
        self.name = "streamlib: chain as one processor"

    def _add_pipeline(self, rt: StreamRuntime, live: bool, record: Record, frames: int | None) -> str:
        _WholeChain.record = record  # (it starts as it is added: no time to set it on the instance)
        return rt.add_processor(_WholeChain, live=live, frames=frames).id


class _ThreadedVariant(Variant):
    """Hand-written threads and bounded queue.Queues."""

    stages = 6

    def __init__(self, stages: int) -> None:
        self.stages = stages
        self.name = f"hand-written, {stages} threads per pipeline"
        self.threads_per_pipeline = str(stages)
        self.pipelines: list[_Pipeline] = []
        self.threads: list[threading.Thread] = []
        self.stop_event = threading.Event()
        self.done: list[threading.Event] = []

    def start(self, n: int, live: bool, record: Record, frames: int | None = None) -> None:
        self.stop_event = threading.Event()
        base = time.monotonic_ns()
        self.pipelines = [
            _Pipeline(record, base + k * PERIOD_NS // max(n, 1), live, frames) for k in range(n)
        ]
        self.threads, self.done = [], []
        for p in self.pipelines:
            stages = self._stages(p)
            queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=16) for _ in range(len(stages) - 1)]
            done = threading.Event()
            self.done.append(done)
            for i, stage in enumerate(stages):
                inbox = queues[i - 1] if i else None
                outbox = queues[i] if i < len(queues) else None
                last = i == len(stages) - 1
                t = threading.Thread(
                    target=self._run, args=(stage, inbox, outbox, done if last else None), daemon=True
                )
                self.threads.append(t)
        for t in self.threads:
            t.start()

    def _stages(self, p: _Pipeline) -> list[Callable[[Any], list[Any]]]:
        dsp = p.dsp

        def source(_: Any) -> list[Any]:
            block = p.next_block(self.stop_event)
            return [None] if block is None else [block]

        def resample(block: Any) -> list[Any]:
            return [dsp.resample(block)]

        def duplicate(block: Any) -> list[Any]:
            return [dsp.duplicate(block)]

        def rechunk(block: Any) -> list[Any]:
            return dsp.rechunk(block)

        def reverb(item: Any) -> list[Any]:
            position, block = item
            return [(position, dsp.reverb_block(block))]

        def sink(item: Any) -> list[Any]:
            p.arrive(item[0])
            return []

        if self.stages == 6:
            return [source, resample, duplicate, rechunk, reverb, sink]

        def front(_: Any) -> list[Any]:  # the seed's plan: source + light stages on one thread
            block = p.next_block(self.stop_event)
            if block is None:
                return [None]
            return dsp.rechunk(dsp.duplicate(dsp.resample(block)))

        return [front, reverb, sink]

    def _run(
        self,
        stage: Callable[[Any], list[Any]],
        inbox: queue.Queue[Any] | None,
        outbox: queue.Queue[Any] | None,
        done: threading.Event | None,
    ) -> None:
        while True:
            item = inbox.get() if inbox is not None else 0
            if item is None:
                break
            outputs = stage(item)
            if outputs and outputs[0] is None:  # the source ended
                break
            if outbox is not None:
                for out in outputs:
                    outbox.put(out)
        if outbox is not None:
            outbox.put(None)
        if done is not None:
            done.set()

    def late_ticks(self) -> int:
        return sum(p.late for p in self.pipelines)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(d.wait(max(0.0, deadline - time.monotonic())) for d in self.done)

    def stop(self) -> None:
        self.stop_event.set()
        for p in self.pipelines:
            p.frames = p.tick  # the source ends at its next tick
        for t in self.threads:
            t.join(5)
        self.threads = []
        self.pipelines = []  # release the DSP state (libsoxr, the reverb) now


class _LoopVariant(Variant):
    """The same functions in one hand-written loop per pipeline: Python's limit."""

    name = "hand-written, 1 loop per pipeline"
    threads_per_pipeline = "1"

    def __init__(self) -> None:
        self.pipelines: list[_Pipeline] = []
        self.threads: list[threading.Thread] = []
        self.stop_event = threading.Event()

    def start(self, n: int, live: bool, record: Record, frames: int | None = None) -> None:
        self.stop_event = threading.Event()
        base = time.monotonic_ns()
        self.pipelines = [
            _Pipeline(record, base + k * PERIOD_NS // max(n, 1), live, frames) for k in range(n)
        ]
        self.threads = [threading.Thread(target=self._run, args=(p,), daemon=True) for p in self.pipelines]
        for t in self.threads:
            t.start()

    def _run(self, p: _Pipeline) -> None:
        while (block := p.next_block(self.stop_event)) is not None:
            p.run_chain(block)

    def late_ticks(self) -> int:
        return sum(p.late for p in self.pipelines)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def stop(self) -> None:
        self.stop_event.set()
        for p in self.pipelines:
            p.frames = p.tick
        for t in self.threads:
            t.join(5)
        self.threads = []
        self.pipelines = []  # release the DSP state (libsoxr, the reverb) now


class _PooledLoopVariant(_LoopVariant):
    """The same functions run by a pool of worker threads (one per core) that each run
    a pipeline's whole chain when its tick is due, from a heap of absolute deadlines:
    streamlib's pooled strategy written by hand (the form issue #9 measured)."""

    name = "hand-written, pooled"

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()
        self.heap: list[tuple[int, int]] = []
        self.active = 0
        self.threads_per_pipeline = f"{os.cpu_count() or 2} shared"

    def start(self, n: int, live: bool, record: Record, frames: int | None = None) -> None:
        self.stop_event = threading.Event()
        base = time.monotonic_ns()
        self.pipelines = [
            _Pipeline(record, base + k * PERIOD_NS // max(n, 1), live, frames) for k in range(n)
        ]
        self.heap = [(p.t0 + PERIOD_NS if live else 0, k) for k, p in enumerate(self.pipelines)]
        heapq.heapify(self.heap)
        self.active = n
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(os.cpu_count() or 2)]
        for t in self.threads:
            t.start()

    def _next(self) -> tuple[int, int] | None:
        """The next due (deadline, pipeline), or None once stopped or all ended."""
        cond, heap = self.cond, self.heap
        with cond:
            while not self.stop_event.is_set():
                if not heap:
                    if not self.active:
                        return None
                    cond.wait()
                    continue
                due = heap[0][0]
                wait = due - time.monotonic_ns()
                if wait <= 0:
                    return heapq.heappop(heap)
                cond.wait(wait / 1e9)
            return None

    def _work(self) -> None:
        while (item := self._next()) is not None:
            due, k = item
            p = self.pipelines[k]
            if p.frames is not None and p.tick >= p.frames:
                with self.cond:
                    self.active -= 1
                    self.cond.notify_all()
                continue
            p.tick += 1
            if p.live and time.monotonic_ns() - due > PERIOD_NS:
                p.late += 1
            p.run_chain(p.dsp.generate())
            with self.cond:
                heapq.heappush(self.heap, (p.t0 + (p.tick + 1) * PERIOD_NS if p.live else 0, k))
                self.cond.notify()

    def stop(self) -> None:
        self.stop_event.set()
        with self.cond:
            self.cond.notify_all()  # workers waiting for a deadline see the stop at once
        super().stop()


def python_variants() -> list[Variant]:
    return [
        StreamlibVariant(optimize=True),
        StreamlibVariant(optimize=False),
        _WholeChainVariant(),
        _ThreadedVariant(6),
        _ThreadedVariant(3),
        _LoopVariant(),
        _PooledLoopVariant(),
    ]
