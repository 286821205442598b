"""BufferRechunkerProcessor: exact re-blocking of an audio stream."""

from __future__ import annotations

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
        self._rest: np.ndarray[Any, Any] | None = None
        """Samples not emitted yet (fewer than a block), or None."""
        self._timeline = SampleTimeline()
        self._out_position = 0
        self._sequence = 0
        self._format: tuple[int, int] | None = None

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        samples = frame.samples
        rate = frame.sample_rate
        shape = (rate, samples.shape[1])
        if shape != self._format:
            if self._format is not None:
                raise ProcessorError(
                    self.processor_id,
                    type(self).__name__,
                    f"frame {frame.sequence} is {rate} Hz x {shape[1]} channels; the stream started "
                    f"as {self._format[0]} Hz x {self._format[1]}",
                )
            self._format = shape
        self._timeline.feed(frame)
        size = self.config.target_buffer_size
        n = len(samples)
        start = 0
        rest = self._rest
        if rest is not None:  # the next block begins with what earlier frames left
            start = size - len(rest)
            if n < start:
                self._rest = np.concatenate((rest, samples))
                return
            self._write(np.concatenate((rest, samples[:start])), rate)
        if n - start >= size:  # whole blocks inside this frame: views, no copy
            self._timeline.forget_before(self._out_position)
            write = self.audio_out.write
            sequence = self._sequence
            base = frame.timestamp_ns  # (what the timeline answers for samples of this frame)
            first = start
            while n - start >= size:
                timestamp = base + start * 1_000_000_000 // rate
                write(AudioFrame(samples[start : start + size], rate, timestamp, sequence))
                start += size
                sequence += 1
            self._sequence = sequence
            self._out_position += start - first
        self._rest = samples[start:] if start < n else None

    def on_end_of_stream(self) -> None:
        if self._rest is not None and self._format is not None:
            rest, self._rest = self._rest, None
            self._write(rest, self._format[0])

    def _write(self, block: np.ndarray[Any, Any], rate: int) -> None:
        timestamp = self._timeline.time_at(self._out_position)
        self.audio_out.write(AudioFrame(block, rate, timestamp, self._sequence))
        self._out_position += len(block)
        self._sequence += 1
