"""Real audio devices through PortAudio (the ``sounddevice`` package).

``AudioCaptureProcessor`` is a live source: PortAudio's callback copies each input
block into a small bounded queue, and ``process()`` (called in a loop on the source's
own thread) waits for the next block and writes it as an ``AudioFrame``.

``AudioOutputProcessor`` is a device-driven (pull) sink: once the first frame has
arrived it opens the output stream, and from then on PortAudio's callback takes
frames from the input port itself, playing silence (an underrun) when none is there.

``sounddevice`` is imported in ``setup()``, never at import time, so these classes
can be added to a graph and planned on a machine without PortAudio; starting them
there raises a ``ProcessorError`` that says what to install.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame
from ..graph import Input, Output, Processor, ProcessorConfig

__all__ = ["AudioCaptureConfig", "AudioCaptureProcessor", "AudioOutputConfig", "AudioOutputProcessor"]

log = logging.getLogger(__name__)

_WAIT_S = 0.1
"""Longest a capture ``process()`` call waits for a block (keeps ``stop()`` prompt)."""
_QUEUE_BLOCKS = 16
"""Captured blocks held for a consumer that fell behind; older ones are overruns."""
_DRAIN_MARGIN_S = 1.0
"""How much longer than the audio it still holds an output may take to play out."""

_PORTAUDIO = threading.RLock()
"""Serializes PortAudio's control calls (query, open, start, abort, close). PortAudio
is not thread-safe, and each device processor calls it from its own runner thread, so
two of them would otherwise call it at once (both ``setup()`` at ``start()``, both
``on_shutdown()`` at ``stop()``); with JACK, whose streams share one condition
variable, concurrent stops lose a wake-up and hang. Device callbacks never take it."""


def _error(processor: Processor, message: str) -> ProcessorError:
    return ProcessorError(processor.processor_id, type(processor).__name__, message)


def _import_sounddevice(processor: Processor) -> Any:
    """The ``sounddevice`` module, or a ProcessorError saying what to install."""
    try:
        return importlib.import_module("sounddevice")
    except OSError as exc:  # the package is there, the PortAudio library is not
        raise _error(
            processor,
            f"audio devices need the PortAudio library, which was not found ({exc}); "
            "install it with `apt-get install libportaudio2` (Debian/Ubuntu) or your system's "
            "portaudio package",
        ) from exc
    except ImportError as exc:
        raise _error(
            processor,
            f"audio devices need the sounddevice package and PortAudio ({exc}); install them with "
            "`pip install sounddevice` and `apt-get install libportaudio2` (Debian/Ubuntu)",
        ) from exc


def _resolve_device(processor: Processor, sd: Any, device_id: int | str | None, kind: str) -> tuple[int, str]:
    """(index, display name) of the ``kind`` ("input"/"output") device ``device_id``
    selects: None the default one, an int an index, a str a unique name substring."""
    try:
        info = sd.query_devices(device_id, kind=kind)
    except (ValueError, sd.PortAudioError) as exc:
        try:
            names = [f"[{d['index']}] {d['name']}" for d in sd.query_devices() if d[f"max_{kind}_channels"]]
        except sd.PortAudioError:
            names = []
        wanted = (
            f"device_id={device_id!r}" if device_id is not None else "the default device (device_id=None)"
        )
        raise _error(
            processor,
            f"no {kind} device for {wanted}: {exc}; available {kind} devices: {', '.join(names) or 'none'}",
        ) from exc
    hostapi = sd.query_hostapis(info["hostapi"])["name"]
    return int(info["index"]), f"{info['name']} ({hostapi})"


def _close(stream: Any) -> None:
    """Stop a stream at once (dropping what it holds) and release the device."""
    with _PORTAUDIO:
        try:
            stream.abort(ignore_errors=True)
        finally:
            stream.close(ignore_errors=True)


# --- capture ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioCaptureConfig(ProcessorConfig):
    """Args:
    device_id: None (the default input device), a device index, or a substring of
        a device name (it must match exactly one input device).
    sample_rate: samples per second the device is opened at.
    channels: input channels.
    buffer_size: samples per channel in each block (each frame).
    """

    device_id: int | str | None = field(default=None, metadata={"plan": False})
    sample_rate: int = 48000
    channels: int = 1
    buffer_size: int = 512

    def validate(self) -> None:
        for name in ("sample_rate", "channels", "buffer_size"):
            if getattr(self, name) <= 0:
                raise self.invalid(name, "must be positive")


class AudioCaptureProcessor(Processor):
    """Captures audio from an input device; writes one frame per device block on ``audio``.

    Each frame is stamped with the runtime-clock time of its first sample (PortAudio's
    ``inputBufferAdcTime`` when the host API reports it, else the callback's arrival
    time minus the block's duration). ``sequence`` counts device blocks, so a block
    dropped because the graph fell behind (an overrun) leaves a gap.

    Metrics: ``overruns`` (blocks dropped), ``device_overflows`` (input overflows
    PortAudio reported), ``device`` (the device's name and host API).
    """

    Config = AudioCaptureConfig
    config: AudioCaptureConfig
    live = True
    audio = Output(AudioFrame)

    def __init__(self) -> None:
        self._stream: Any = None
        self._started = False
        self._device_name: str | None = None
        self._blocks: deque[tuple[np.ndarray[Any, Any], int, int]] = deque()
        self._cond = threading.Condition()
        self._finished = False
        self._captured = 0
        self._overruns = 0
        self._device_overflows = 0

    def setup(self) -> None:
        sd = _import_sounddevice(self)
        with _PORTAUDIO:
            self._open(sd)

    def _open(self, sd: Any) -> None:
        """Open (not yet start) the input stream on the configured device."""
        c = self.config
        index, name = _resolve_device(self, sd, c.device_id, "input")
        try:
            self._stream = sd.InputStream(
                device=index,
                samplerate=c.sample_rate,
                channels=c.channels,
                blocksize=c.buffer_size,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._on_finished,
            )
        except (ValueError, sd.PortAudioError) as exc:
            raise _error(
                self,
                f"cannot open input device {name!r} at {c.sample_rate} Hz, {c.channels} channel(s): {exc}",
            ) from exc
        self._device_name = name

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        """PortAudio's thread: queue a copy of the block with its capture time."""
        now = self.clock.now_ns()
        adc, current = time.inputBufferAdcTime, time.currentTime
        if adc > 0 and 0 <= current - adc < 1.0:  # the device's time of the block's first sample
            stamp = now - round((current - adc) * 1e9)
        else:
            stamp = now - frames * 1_000_000_000 // self.config.sample_rate
        block = indata.copy()
        with self._cond:
            if status.input_overflow:
                self._device_overflows += 1
            if len(self._blocks) >= _QUEUE_BLOCKS:
                self._blocks.popleft()
                self._overruns += 1
            self._blocks.append((block, stamp, self._captured))
            self._captured += 1
            self._cond.notify()

    def _on_finished(self) -> None:
        with self._cond:
            self._finished = True
            self._cond.notify()

    def process(self) -> None:
        if not self._started:
            self._started = True
            with _PORTAUDIO:
                self._stream.start()
        with self._cond:
            if not self._blocks and not self._finished:
                self._cond.wait(_WAIT_S)
            item = self._blocks.popleft() if self._blocks else None
            finished = self._finished
        if item is not None:
            samples, stamp, sequence = item
            self.audio.write(AudioFrame(samples, self.config.sample_rate, stamp, sequence))
        elif finished:
            raise _error(self, f"input device {self._device_name!r} stopped delivering audio")

    def on_shutdown(self) -> None:
        if self._stream is not None:
            _close(self._stream)

    def metrics(self) -> dict[str, Any]:
        return {
            "overruns": self._overruns,
            "device_overflows": self._device_overflows,
            "device": self._device_name,
        }


# --- output -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioOutputConfig(ProcessorConfig):
    """Args:
    device_id: None (the default output device), a device index, or a substring of
        a device name (it must match exactly one output device).
    sample_rate: the rate the device is opened at; None: the first frame's.
    channels: output channels; None: the first frame's.
    Every frame must have the stream's rate and channel count (put an
    AudioResamplerProcessor or AudioChannelConverterProcessor in front otherwise).
    """

    device_id: int | str | None = field(default=None, metadata={"plan": False})
    sample_rate: int | None = None
    channels: int | None = None

    def validate(self) -> None:
        for name in ("sample_rate", "channels"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise self.invalid(name, "must be positive or None")


class AudioOutputProcessor(Processor):
    """Plays the frames arriving on ``audio`` on an output device, pulled by the device.

    The stream opens when the first frame arrives (on the runner thread). From then
    on PortAudio's callback reads the input port itself and fills exactly the block
    the device asks for, keeping the rest of a frame for the next block, so frames
    may be any size. With nothing to play it plays silence and counts an underrun.
    At end of stream it lets the device play what it holds, then stops.

    Metrics: ``underruns``, ``blocks_played`` (device blocks since the stream
    opened, silence included), ``device_underflows`` (output underflows PortAudio
    reported), ``device``.
    """

    Config = AudioOutputConfig
    config: AudioOutputConfig
    live = True
    audio = Input(AudioFrame)

    def __init__(self) -> None:
        self._sd: Any = None
        self._device: int | None = None
        self._device_name: str | None = None
        self._stream: Any = None
        self._port: Any = None
        self._rate = 0
        self._channels = 0
        self._pending: np.ndarray[Any, Any] | None = None
        self._pos = 0
        self._fault: str | None = None
        self._done = threading.Event()
        self._underruns = 0
        self._blocks_played = 0
        self._device_underflows = 0

    def setup(self) -> None:
        self._sd = _import_sounddevice(self)
        with _PORTAUDIO:
            self._device, self._device_name = _resolve_device(self, self._sd, self.config.device_id, "output")

    def process(self) -> None:
        if self._fault is not None:
            raise _error(self, self._fault)
        if self._stream is None:
            frame = self.audio.read()
            if frame is not None:
                with _PORTAUDIO:
                    self._open(frame)

    def _open(self, frame: AudioFrame) -> None:
        """Open and start the stream for ``frame``'s format (or the configured one)."""
        sd, c = self._sd, self.config
        self._rate = c.sample_rate or frame.sample_rate
        self._channels = c.channels or frame.channels
        mismatch = self._mismatch(frame)
        if mismatch is not None:
            raise _error(self, mismatch)
        self._pending, self._pos = frame.samples, 0
        self._port = self.audio
        try:
            stream = sd.OutputStream(
                device=self._device,
                samplerate=self._rate,
                channels=self._channels,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._done.set,
            )
        except (ValueError, sd.PortAudioError) as exc:
            raise _error(
                self,
                f"cannot open output device {self._device_name!r} at {self._rate} Hz, "
                f"{self._channels} channel(s): {exc}",
            ) from exc
        self._stream = stream
        stream.start()

    def _mismatch(self, frame: AudioFrame) -> str | None:
        """Why ``frame`` cannot be played on the stream (None when it can)."""
        if frame.sample_rate == self._rate and frame.channels == self._channels:
            return None
        return (
            f"a frame of {frame.sample_rate} Hz, {frame.channels} channel(s) reached an output "
            f"playing {self._rate} Hz, {self._channels} channel(s) on {self._device_name!r} (put an "
            "AudioResamplerProcessor or AudioChannelConverterProcessor in front of it)"
        )

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        """PortAudio's thread: fill exactly ``frames`` samples from the input port."""
        if status.output_underflow:
            self._device_underflows += 1
        self._blocks_played += 1
        try:
            filled = self._fill(outdata, frames)
        except Exception as exc:  # this thread cannot raise into the graph: process() reports it
            self._fault = f"the output callback failed: {type(exc).__name__}: {exc}"
            filled = 0
        if filled < frames:
            outdata[filled:] = 0
            if self._port.ended:  # all played: the device plays this last block, then finishes
                raise self._sd.CallbackStop
            if self._fault is None:
                self._underruns += 1

    def _fill(self, out: Any, frames: int) -> int:
        """Copy up to ``frames`` samples into ``out``; returns how many were there.

        After a fault it only drains the input: the next frame then arrives in an empty
        queue, which makes the engine call ``process()``, which raises the fault."""
        port = self._port
        if self._fault is not None:
            while port.read() is not None:
                pass
            return 0
        filled = 0
        while filled < frames:
            pending = self._pending
            if pending is None:
                frame = port.read()
                if frame is None:
                    break
                mismatch = self._mismatch(frame)
                if mismatch is not None:
                    self._fault = mismatch
                    break
                pending, self._pos = frame.samples, 0
            n = min(frames - filled, len(pending) - self._pos)
            out[filled : filled + n] = pending[self._pos : self._pos + n]
            filled += n
            self._pos += n
            self._pending = pending if self._pos < len(pending) else None
        return filled

    def on_end_of_stream(self) -> None:
        """Let the device play what it still holds (bounded wait)."""
        stream = self._stream
        if stream is None:
            return
        pending = self._pending
        held = 0 if pending is None else len(pending) - self._pos
        timeout = held / self._rate + stream.latency + _DRAIN_MARGIN_S
        if not self._done.wait(timeout):
            log.warning(
                "%s: %s did not finish playing within %.1f s", self.processor_id, self._device_name, timeout
            )

    def on_shutdown(self) -> None:
        if self._stream is not None:
            _close(self._stream)

    def metrics(self) -> dict[str, Any]:
        return {
            "underruns": self._underruns,
            "blocks_played": self._blocks_played,
            "device_underflows": self._device_underflows,
            "device": self._device_name,
        }
