"""AudioResamplerProcessor: streaming sample-rate conversion with libsoxr."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame, audio_frame
from ..graph import Input, Output, Processor, ProcessorConfig
from ._timeline import SampleTimeline

__all__ = ["AudioResamplerConfig", "AudioResamplerProcessor", "ResamplingQuality"]


class ResamplingQuality(enum.Enum):
    """libsoxr quality recipes."""

    LOW = "LQ"
    MEDIUM = "MQ"
    HIGH = "HQ"
    VERY_HIGH = "VHQ"


ResamplingQuality.__module__ = "streamlib.processors"

_MAX_RATE = 768_000


@dataclass(frozen=True)
class AudioResamplerConfig(ProcessorConfig):
    source_sample_rate: int = 24000
    target_sample_rate: int = 48000
    quality: ResamplingQuality = ResamplingQuality.HIGH

    def validate(self) -> None:
        for name in ("source_sample_rate", "target_sample_rate"):
            if not 1 <= getattr(self, name) <= _MAX_RATE:
                raise self.invalid(name, f"must be between 1 and {_MAX_RATE} Hz")


class AudioResamplerProcessor(Processor):
    """Resamples ``audio_in`` (at ``source_sample_rate``) to ``target_sample_rate`` on
    ``audio_out`` with libsoxr's streaming resampler: the output equals resampling the
    whole signal at once. libsoxr works in blocks, so output arrives in bursts (at
    high quality, 24 -> 48 kHz in 480-sample frames: nothing, then 1660 samples). The
    tail is flushed at end of stream. Output frames are stamped with the capture time
    of their first sample (soxr's output is aligned with its input: no delay to add).
    """

    _trusted_io = True  # (streamlib's own: one read per call, typed writes, see engine._ports)

    Config = AudioResamplerConfig
    config: AudioResamplerConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        c = self.config
        self._source_rate = c.source_sample_rate
        self._target_rate = c.target_sample_rate
        self._stream: Any = None
        self._channels = 0
        self._timeline = SampleTimeline()
        self._out_position = 0
        self._sequence = 0

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        samples = frame.samples
        stream = self._stream
        if frame.sample_rate != self._source_rate or samples.shape[1] != self._channels or stream is None:
            self._check(frame)
            stream = self._stream
        self._timeline.feed(frame)
        if stream is False:  # equal rates: nothing to do
            self._emit(samples)
            return
        out = stream.resample_chunk(np.ascontiguousarray(samples))
        if len(out):  # (libsoxr releases its output in bursts: mostly nothing)
            self._emit(out)

    def _check(self, frame: AudioFrame) -> None:
        """A frame unlike the stream's so far: the first one opens the stream; one at
        another rate, or (later) with other channels, is an error."""
        c = self.config
        if frame.sample_rate != c.source_sample_rate:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"frame {frame.sequence} is at {frame.sample_rate} Hz; this resampler is configured "
                f"for source_sample_rate={c.source_sample_rate}",
            )
        if self._stream is None:
            self._open(frame.channels)
        elif frame.channels != self._channels:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"frame {frame.sequence} has {frame.channels} channels, the stream started with "
                f"{self._channels}",
            )

    def on_end_of_stream(self) -> None:
        if self._stream:
            empty = np.zeros((0, self._channels), np.float32)
            self._emit(self._stream.resample_chunk(empty, last=True))

    def _open(self, channels: int) -> None:
        import soxr

        c = self.config
        self._channels = channels
        if c.source_sample_rate == c.target_sample_rate:
            self._stream = False
            return
        self._stream = soxr.ResampleStream(
            c.source_sample_rate, c.target_sample_rate, channels, dtype="float32", quality=c.quality.value
        )

    def _emit(self, samples: np.ndarray[Any, Any]) -> None:
        n = len(samples)
        if not n:
            return
        timestamp = self._timeline.time_at(self._out_position * self._source_rate // self._target_rate)
        if samples.ndim == 1:
            samples = samples[:, None]
        self.audio_out.write(audio_frame(samples, self._target_rate, timestamp, self._sequence))
        self._out_position += n
        self._sequence += 1
