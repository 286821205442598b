"""BufferRechunkerProcessor: exact re-blocking of an audio stream."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame
from ..graph import Input, Output, Processor, ProcessorConfig
from ._timeline import SampleTimeline

__all__ = ["BufferRechunkerConfig", "BufferRechunkerProcessor"]


@dataclass(frozen=True)
class BufferRechunkerConfig(ProcessorConfig):
    target_buffer_size: int = 512

    def validate(self) -> None:
        if self.target_buffer_size < 1:
            raise self.invalid("target_buffer_size", "must be >= 1")


class BufferRechunkerProcessor(Processor):
    """Re-blocks ``audio_in`` into frames of exactly ``target_buffer_size`` samples on
    ``audio_out``; the remainder is flushed (shorter) at end of stream. Every sample
    is kept, bit for bit, in order; each frame is stamped with the capture time of
    its first sample."""

    Config = BufferRechunkerConfig
    config: BufferRechunkerConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        self._pieces: deque[np.ndarray[Any, Any]] = deque()
        self._buffered = 0
        self._timeline = SampleTimeline()
        self._out_position = 0
        self._sequence = 0
        self._format: tuple[int, int] | None = None

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        shape = (frame.sample_rate, frame.channels)
        if self._format is None:
            self._format = shape
        elif shape != self._format:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"frame {frame.sequence} is {frame.sample_rate} Hz x {frame.channels} channels; the stream "
                f"started as {self._format[0]} Hz x {self._format[1]}",
            )
        self._timeline.feed(frame)
        self._pieces.append(frame.samples)
        self._buffered += frame.num_frames
        size = self.config.target_buffer_size
        while self._buffered >= size:
            self._emit(size)

    def on_end_of_stream(self) -> None:
        if self._buffered:
            self._emit(self._buffered)

    def _emit(self, n: int) -> None:
        parts = []
        needed = n
        pieces = self._pieces
        while needed:
            piece = pieces[0]
            if len(piece) <= needed:
                parts.append(piece)
                pieces.popleft()
                needed -= len(piece)
            else:
                parts.append(piece[:needed])
                pieces[0] = piece[needed:]
                needed = 0
        block = parts[0] if len(parts) == 1 else np.concatenate(parts)  # one part: no copy
        assert self._format is not None
        timestamp = self._timeline.time_at(self._out_position)
        self.audio_out.write(AudioFrame(block, self._format[0], timestamp, self._sequence))
        self._buffered -= n
        self._out_position += n
        self._sequence += 1
