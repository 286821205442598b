"""AudioChannelConverterProcessor: mono to stereo and back."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame, audio_frame
from ..graph import Input, Output, Processor, ProcessorConfig

__all__ = ["AudioChannelConverterConfig", "AudioChannelConverterProcessor", "ChannelConversionMode"]


class ChannelConversionMode(enum.Enum):
    DUPLICATE = "duplicate"
    """Mono in, stereo out: the channel copied to left and right."""
    DOWNMIX = "downmix"
    """Any channel count in, mono out: the mean of the channels."""


ChannelConversionMode.__module__ = "streamlib.processors"


@dataclass(frozen=True)
class AudioChannelConverterConfig(ProcessorConfig):
    mode: ChannelConversionMode = ChannelConversionMode.DUPLICATE


class AudioChannelConverterProcessor(Processor):
    """Converts the channel layout of ``audio_in`` to ``audio_out`` (time and sequence
    kept). DUPLICATE takes mono only; a multi-channel input is a ProcessorError
    naming the channel count (duplicating it would silently drop channels)."""

    _trusted_io = True  # (streamlib's own: one read per call, typed writes, see engine._ports)

    Config = AudioChannelConverterConfig
    config: AudioChannelConverterConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        self._duplicate = self.config.mode is ChannelConversionMode.DUPLICATE

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        samples = frame.samples
        channels = samples.shape[1]
        if self._duplicate:
            if channels != 1:
                raise ProcessorError(
                    self.processor_id,
                    type(self).__name__,
                    f"DUPLICATE turns mono into stereo; frame {frame.sequence} has {channels} channels",
                )
            out = samples.repeat(2, 1)  # (the method: np.repeat adds a Python layer per frame)
        elif channels == 1:
            out = samples
        else:
            out = samples.mean(axis=1, keepdims=True, dtype=np.float32)
        self.audio_out.write(audio_frame(out, frame.sample_rate, frame.timestamp_ns, frame.sequence))
