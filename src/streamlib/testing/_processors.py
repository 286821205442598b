"""Test processors: sources that emit sequence-numbered frames, sinks that collect
them, pass-through and numpy processors, and a processor that fails on purpose."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .._frames import AudioFrame, DataFrame, Frame, VideoFrame
from ..graph import Input, Output, Port, Processor, ProcessorConfig, ProcessorHandle, ProcessorStatus

__all__ = [
    "CollectingSink",
    "CollectingSinkConfig",
    "FaultInjector",
    "FaultInjectorConfig",
    "FrameKind",
    "PassThrough",
    "PassThroughConfig",
    "Scale",
    "ScaleConfig",
    "ScriptedSource",
    "ScriptedSourceConfig",
    "Worker",
    "instance",
]

FrameKind = Literal["audio", "video", "data"]
_FRAME_TYPES: dict[str, type[Frame]] = {"audio": AudioFrame, "video": VideoFrame, "data": DataFrame}


def instance(runtime: Any, handle: ProcessorHandle) -> Any:
    """The processor object behind ``handle`` in ``runtime`` (to read what a test
    processor collected)."""
    return runtime._engine.slots[handle.id].processor


# --- sources ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptedSourceConfig(ProcessorConfig):
    """Args:
    num_frames: frames to emit before end of stream; None: endless.
    frame_kind: "audio" (float32 blocks whose every sample is the sequence number),
        "video" (uint8 pictures) or "data" (the sequence number as payload).
    live: a live source stands in for a device: it is clock-driven, one frame per
        period at absolute deadlines on the runtime's clock.
    period_ns: the tick period of a live source; default: one block's duration.
    """

    num_frames: int | None = 100
    frame_kind: FrameKind = "audio"
    block_size: int = 512
    channels: int = 2
    sample_rate: int = 48000
    width: int = 64
    height: int = 48
    live: bool = False
    period_ns: int | None = None

    def validate(self) -> None:
        if self.num_frames is not None and self.num_frames < 0:
            raise self.invalid("num_frames", "must be >= 0 or None")
        for name in ("block_size", "channels", "sample_rate", "width", "height"):
            if getattr(self, name) <= 0:
                raise self.invalid(name, "must be positive")
        if self.period_ns is not None and self.period_ns <= 0:
            raise self.invalid("period_ns", "must be positive")


class ScriptedSource(Processor):
    """Emits ``num_frames`` sequence-numbered frames on port ``out``.

    Non-live: as fast as the graph takes them (a looping source). Live: clock-driven.
    ``emitted`` counts frames written; ``wait_emitted(n)`` blocks until ``n`` were.
    """

    Config = ScriptedSourceConfig
    config: ScriptedSourceConfig

    def __init__(self) -> None:
        self.emitted = 0
        self._cond = threading.Condition()
        c = self.config
        self._block_ns = c.block_size * 1_000_000_000 // c.sample_rate

    def ports(self) -> dict[str, Port[Any]]:
        return {"out": Output(_FRAME_TYPES[self.config.frame_kind])}

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    @property
    def period_ns(self) -> int | None:  # type: ignore[override]
        if not self.config.live:
            return None
        return self.config.period_ns or self._block_ns

    def make_frame(self, seq: int, timestamp_ns: int) -> Frame:
        c = self.config
        if c.frame_kind == "audio":
            return AudioFrame(
                np.full((c.block_size, c.channels), seq, np.float32), c.sample_rate, timestamp_ns, seq
            )
        if c.frame_kind == "video":
            pixels = np.full((c.height, c.width, 3), seq % 256, np.uint8)
            return VideoFrame(pixels, "rgb24", timestamp_ns, seq)
        return DataFrame(seq, timestamp_ns, seq)

    def process(self) -> ProcessorStatus | None:
        c = self.config
        seq = self.emitted
        if c.num_frames is not None and seq >= c.num_frames:
            return ProcessorStatus.END_OF_STREAM
        # live: the block ending at this tick began one period before it
        timestamp = self.tick_ns - (self.period_ns or 0) if c.live else seq * self._block_ns
        self.outputs["out"].write(self.make_frame(seq, timestamp))
        with self._cond:
            self.emitted = seq + 1
            self._cond.notify_all()
        if c.num_frames is not None and self.emitted >= c.num_frames:
            return ProcessorStatus.END_OF_STREAM
        return None

    def wait_emitted(self, n: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.emitted >= n, timeout)


# --- sinks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectingSinkConfig(ProcessorConfig):
    """Args:
    frame_kind: the input's frame type.
    live: stands in for a device sink (display, speaker).
    keep_frames: keep every frame object (else only sequence numbers).
    """

    frame_kind: FrameKind = "audio"
    live: bool = False
    keep_frames: bool = True


class CollectingSink(Processor):
    """Collects what arrives on port ``in``: ``frames``, ``sequences``; ``ended`` is set
    at end of stream. ``hold()`` makes ``process()`` block until ``release()`` (a
    deterministic slow consumer). The lists are appended under a condition, which the
    ``wait_*`` methods wait on (safe to read from a test thread)."""

    Config = CollectingSinkConfig
    config: CollectingSinkConfig

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.sequences: list[int] = []
        self.ended = threading.Event()
        self.in_process = threading.Event()
        self._cond = threading.Condition()
        self._open = threading.Event()
        self._open.set()
        self.shutdown_calls = 0
        self.setup_calls = 0

    def ports(self) -> dict[str, Port[Any]]:
        return {"in": Input(_FRAME_TYPES[self.config.frame_kind])}

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    def setup(self) -> None:
        self.setup_calls += 1

    def process(self) -> None:
        if not self._open.is_set():
            self.in_process.set()
            self._open.wait()
        frame = self.inputs["in"].read()
        if frame is None:
            return
        with self._cond:
            if self.config.keep_frames:
                self.frames.append(frame)
            self.sequences.append(frame.sequence)
            self._cond.notify_all()

    def on_end_of_stream(self) -> None:
        self.ended.set()
        with self._cond:
            self._cond.notify_all()

    def on_shutdown(self) -> None:
        self.shutdown_calls += 1

    def hold(self) -> None:
        """Block the next ``process()`` call until ``release()``."""
        self.in_process.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        """Block until ``n`` frames arrived (True) or ``timeout`` passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.sequences) >= n, timeout)

    def wait_until(self, predicate: Callable[[list[int]], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate(sequences)`` holds (True) or ``timeout`` passed."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.sequences), timeout)


# --- middle processors ----------------------------------------------------------------


@dataclass(frozen=True)
class PassThroughConfig(ProcessorConfig):
    frame_kind: FrameKind = "audio"


class PassThrough(Processor):
    """Forwards every frame from ``in`` to ``out`` unchanged. Declared lightweight."""

    Config = PassThroughConfig
    config: PassThroughConfig
    lightweight = True

    def ports(self) -> dict[str, Port[Any]]:
        frame_type = _FRAME_TYPES[self.config.frame_kind]
        return {"in": Input(frame_type), "out": Output(frame_type)}

    def setup(self) -> None:
        self._in = self.inputs["in"]
        self._out = self.outputs["out"]

    def process(self) -> None:
        frame = self._in.read()
        if frame is not None:
            self._out.write(frame)


class Worker(PassThrough):
    """A PassThrough that is not declared lightweight: it gets its own thread."""

    lightweight = False


@dataclass(frozen=True)
class ScaleConfig(ProcessorConfig):
    factor: float = 0.5


class Scale(Processor):
    """Multiplies audio by ``factor``: one numpy operation and a new frame. Lightweight."""

    Config = ScaleConfig
    config: ScaleConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is not None:
            self.audio_out.write(frame.with_samples(frame.samples * self.config.factor))


@dataclass(frozen=True)
class BusyWorkConfig(ProcessorConfig):
    """Args:
    busy_us: CPU time each frame costs (a busy loop on the thread CPU clock).
    frame_kind: port frame type.
    """

    busy_us: float = 0.0
    frame_kind: FrameKind = "audio"

    def validate(self) -> None:
        if not self.busy_us >= 0:
            raise self.invalid("busy_us", "must be >= 0")


class BusyWork(PassThrough):
    """A pass-through that burns ``busy_us`` of CPU per frame and is declared
    lightweight anyway: the measured cost rules must find it out."""

    Config = BusyWorkConfig  # type: ignore[assignment]
    config: BusyWorkConfig  # type: ignore[assignment]

    def process(self) -> None:
        frame = self._in.read()
        if frame is None:
            return
        until = time.thread_time_ns() + round(self.config.busy_us * 1e3)
        while time.thread_time_ns() < until:
            pass
        self._out.write(frame)


# --- faults -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultInjectorConfig(ProcessorConfig):
    """Args:
    fail_in: the hook that raises: "setup", "process", "on_end_of_stream" or
        "on_shutdown"; "never" to pass frames through.
    after: for "process": raise on the call after this many frames passed.
    lightweight: declare it lightweight (so it fuses) or not.
    frame_kind: port frame type.
    """

    fail_in: Literal["never", "setup", "process", "on_end_of_stream", "on_shutdown"] = "process"
    after: int = 0
    frame_kind: FrameKind = "audio"


class FaultInjector(PassThrough):
    """A pass-through that raises ``RuntimeError("injected fault")`` in one hook."""

    Config = FaultInjectorConfig  # type: ignore[assignment]
    config: FaultInjectorConfig  # type: ignore[assignment]

    def __init__(self) -> None:
        self.passed = 0

    def setup(self) -> None:
        super().setup()
        if self.config.fail_in == "setup":
            raise RuntimeError("injected fault in setup")

    def process(self) -> None:
        frame = self._in.read()
        if frame is None:
            return
        if self.config.fail_in == "process" and self.passed >= self.config.after:
            raise RuntimeError(f"injected fault after {self.passed} frames")
        self.passed += 1
        self._out.write(frame)

    def on_end_of_stream(self) -> None:
        if self.config.fail_in == "on_end_of_stream":
            raise RuntimeError("injected fault in on_end_of_stream")

    def on_shutdown(self) -> None:
        if self.config.fail_in == "on_shutdown":
            raise RuntimeError("injected fault in on_shutdown")
