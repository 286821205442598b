"""AudioMixerProcessor: sums several audio streams, aligned by sample count."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame
from ..graph import Input, Output, Port, Processor, ProcessorConfig
from ._timeline import SampleTimeline

__all__ = ["AudioMixerConfig", "AudioMixerProcessor"]


@dataclass(frozen=True)
class AudioMixerConfig(ProcessorConfig):
    """Args:
    num_inputs: inputs ``input_0`` .. ``input_{n-1}``.
    gains: one gain per input; None: 1.0 each.
    """

    num_inputs: int = 2
    gains: tuple[float, ...] | None = None

    def validate(self) -> None:
        if not 1 <= self.num_inputs <= 64:
            raise self.invalid("num_inputs", "must be between 1 and 64")
        if self.gains is not None and len(self.gains) != self.num_inputs:
            raise self.invalid("gains", f"needs one gain per input ({self.num_inputs})")


class _Lane:
    """One input's buffered samples."""

    __slots__ = ("pieces", "buffered", "timeline", "taken")

    def __init__(self) -> None:
        self.pieces: deque[np.ndarray[Any, Any]] = deque()
        self.buffered = 0
        self.timeline = SampleTimeline()
        self.taken = 0

    def take(self, n: int, channels: int) -> np.ndarray[Any, Any]:
        """The next ``n`` samples (zero-padded if fewer are buffered)."""
        out = np.zeros((n, channels), np.float32)
        filled = 0
        while filled < n and self.pieces:
            piece = self.pieces[0]
            k = min(len(piece), n - filled)
            out[filled : filled + k] = piece[:k]  # broadcasts mono to every channel
            if k == len(piece):
                self.pieces.popleft()
            else:
                self.pieces[0] = piece[k:]
            filled += k
        self.buffered -= filled
        self.taken += filled
        return out


class AudioMixerProcessor(Processor):
    """Sums ``input_0`` .. ``input_{n-1}`` with gains into ``audio_out``.

    Inputs are aligned by sample count: the k-th sample of every input is summed
    into the k-th sample out, whatever frame sizes they arrive in. The mixer waits
    for every connected input that has not ended; an input that is not connected,
    or has ended, is silence, not a stall. Mono inputs are spread over every channel
    of multi-channel ones. Output frames are stamped from the first input that
    contributes samples.
    """

    Config = AudioMixerConfig
    config: AudioMixerConfig
    audio_out = Output(AudioFrame)

    def ports(self) -> dict[str, Port[Any]]:
        ports = super().ports()
        for i in range(self.config.num_inputs):
            ports[f"input_{i}"] = Input(AudioFrame)
        return ports

    def setup(self) -> None:
        n = self.config.num_inputs
        self._gains = self.config.gains or (1.0,) * n
        self._lanes = [_Lane() for _ in range(n)]
        self._ports = [self.inputs[f"input_{i}"] for i in range(n)]
        self._rate: int | None = None
        self._channels = 1
        self._position = 0
        self._sequence = 0

    def process(self) -> None:
        for port, lane in zip(self._ports, self._lanes, strict=True):
            if not lane.buffered:
                frame = port.read()
                if frame is not None:
                    self._accept(port.name, frame, lane)
        waiting = [
            lane
            for port, lane in zip(self._ports, self._lanes, strict=True)
            if port.connected and not port.ended and not lane.buffered
        ]
        if waiting:
            return
        ready = [lane.buffered for lane in self._lanes if lane.buffered]
        if ready:
            self._emit(min(ready))

    def on_end_of_stream(self) -> None:
        longest = max((lane.buffered for lane in self._lanes), default=0)
        if longest:
            self._emit(longest)

    def _accept(self, name: str, frame: AudioFrame, lane: _Lane) -> None:
        if self._rate is None:
            self._rate = frame.sample_rate
        if frame.sample_rate != self._rate:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"{name} is at {frame.sample_rate} Hz, the mix at {self._rate} Hz",
            )
        if frame.channels != 1 and self._channels not in (1, frame.channels):
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"{name} has {frame.channels} channels, another input {self._channels}",
            )
        self._channels = max(self._channels, frame.channels)
        lane.timeline.feed(frame)
        lane.pieces.append(frame.samples)
        lane.buffered += frame.num_frames

    def _emit(self, n: int) -> None:
        assert self._rate is not None
        mix = np.zeros((n, self._channels), np.float32)
        timestamp = None
        for lane, gain in zip(self._lanes, self._gains, strict=True):
            if lane.buffered or lane.pieces:
                if timestamp is None:
                    timestamp = lane.timeline.time_at(lane.taken)
                block = lane.take(n, self._channels)
                if gain != 1.0:
                    block *= np.float32(gain)
                mix += block
        self.audio_out.write(AudioFrame(mix, self._rate, timestamp or 0, self._sequence))
        self._position += n
        self._sequence += 1
