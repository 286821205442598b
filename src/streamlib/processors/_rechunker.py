"""BufferRechunkerProcessor: exact re-blocking of an audio stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame, audio_frame
from ..graph import Input, Output, Processor, ProcessorConfig

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

    _trusted_io = True  # (streamlib's own: one read per call, typed writes, see engine._ports)

    Config = BufferRechunkerConfig
    config: BufferRechunkerConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        self._size = self.config.target_buffer_size
        self._rest: np.ndarray[Any, Any] | None = None
        """Samples not emitted yet (fewer than a block), or None."""
        self._rest_ns = 0
        """Capture time of the first sample of ``_rest``."""
        self._sequence = 0
        self._rate = 0
        self._channels = 0
        """The stream's format, set by its first frame."""

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        samples = frame.samples
        rate = frame.sample_rate
        if rate != self._rate or samples.shape[1] != self._channels:
            self._first_format(frame)
        size = self._size
        n = len(samples)
        start = 0
        rest = self._rest
        if rest is not None:  # the next block begins with what earlier frames left
            start = size - len(rest)
            if n < start:
                self._rest = np.concatenate((rest, samples))
                return
            self._write(np.concatenate((rest, samples[:start])), rate, self._rest_ns)
        base = frame.timestamp_ns
        if n - start >= size:  # whole blocks inside this frame: views, no copy
            write = self.audio_out.write
            sequence = self._sequence
            while n - start >= size:
                write(
                    audio_frame(
                        samples[start : start + size], rate, base + start * 1_000_000_000 // rate, sequence
                    )
                )
                start += size
                sequence += 1
            self._sequence = sequence
        if start < n:
            self._rest = samples[start:]
            self._rest_ns = base + start * 1_000_000_000 // rate
        else:
            self._rest = None

    def _first_format(self, frame: AudioFrame) -> None:
        """The stream's first frame sets its format; a later change is an error."""
        rate, channels = frame.sample_rate, frame.channels
        if self._rate:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"frame {frame.sequence} is {rate} Hz x {channels} channels; the stream started "
                f"as {self._rate} Hz x {self._channels}",
            )
        self._rate, self._channels = rate, channels

    def on_end_of_stream(self) -> None:
        if self._rest is not None:
            rest, self._rest = self._rest, None
            self._write(rest, self._rate, self._rest_ns)

    def _write(self, block: np.ndarray[Any, Any], rate: int, timestamp: int) -> None:
        self.audio_out.write(audio_frame(block, rate, timestamp, self._sequence))
        self._sequence += 1
