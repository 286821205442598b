"""ReverbProcessor: a streaming room reverb (pedalboard's Reverb, JUCE's Freeverb)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import AudioFrame, audio_frame
from ..graph import Input, Output, Processor, ProcessorConfig

__all__ = ["ReverbConfig", "ReverbProcessor"]

_MIN_FIRST = 64
"""Samples the plugin's first call holds at least (1.3 ms at 48 kHz): every later
call is split to the first call's size."""


@dataclass(frozen=True)
class ReverbConfig(ProcessorConfig):
    """pedalboard.Reverb's parameters, each in [0, 1]."""

    room_size: float = 0.5
    damping: float = 0.5
    wet_level: float = 0.33
    dry_level: float = 0.4
    width: float = 1.0

    def validate(self) -> None:
        for name in ("room_size", "damping", "wet_level", "dry_level", "width"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise self.invalid(name, "must be in [0, 1]")


class ReverbProcessor(Processor):
    """Adds reverb to ``audio_in`` (mono or stereo) on ``audio_out``.

    The plugin's state (the reverb tail) is kept across frames (``reset=False``), so
    streaming equals processing the whole signal at once, bit for bit, given two
    precautions measured against pedalboard 0.9: the plugin's output changes when a
    call is larger than its first one (it re-prepares), so calls are split to at most
    the first call's size, and the first call is at least ``_MIN_FIRST`` samples; and
    pedalboard guesses the channel axis from the array's shape, which is ambiguous
    for a block with no more samples than channels, so such blocks are joined to the
    next one. Not declared lightweight: it does real DSP (pedalboard releases the
    GIL for it).
    """

    _trusted_io = True  # (streamlib's own: one read per call, typed writes, see engine._ports)

    Config = ReverbConfig
    config: ReverbConfig
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def setup(self) -> None:
        import pedalboard

        c = self.config
        self._reverb = pedalboard.Reverb(
            room_size=c.room_size,
            damping=c.damping,
            wet_level=c.wet_level,
            dry_level=c.dry_level,
            width=c.width,
        )
        self._held: AudioFrame | None = None
        self._chunk = 0  # the plugin's call size, fixed by its first call

    def process(self) -> None:
        frame = self.audio_in.read()
        if frame is None:
            return
        samples = frame.samples
        n, channels = samples.shape
        if n > self._chunk or n <= channels or channels > 2 or self._held is not None:
            self._process_other(frame, samples)  # (the first call, and all that is not a plain block)
            return
        rate = frame.sample_rate
        out = self._reverb.process(samples, rate, reset=False)
        self.audio_out.write(audio_frame(out, rate, frame.timestamp_ns, frame.sequence))

    def _process_other(self, frame: AudioFrame, samples: np.ndarray[Any, Any]) -> None:
        n, channels = samples.shape
        if channels > 2:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"the reverb takes mono or stereo; frame {frame.sequence} has {channels} channels",
            )
        if self._held is not None:
            held, self._held = self._held, None
            samples = np.concatenate([held.samples, samples])
            frame = held.with_samples(samples)
            n = len(samples)
        if n <= channels or (not self._chunk and n < _MIN_FIRST):
            self._held = frame
            return
        self._run(frame, samples)

    def on_end_of_stream(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if held.num_frames > held.channels:
            self._run(held, held.samples)
        else:  # pad the ambiguous tail; keep only its own samples
            padded = np.concatenate([held.samples, np.zeros((held.channels + 1, held.channels), np.float32)])
            out = self._reverb.process(padded, held.sample_rate, reset=False)
            self.audio_out.write(held.with_samples(np.ascontiguousarray(out[: held.num_frames])))

    def _run(self, frame: AudioFrame, samples: np.ndarray[Any, Any]) -> None:
        """Process ``samples`` (``frame``'s) and write them with ``frame``'s stamp."""
        rate = frame.sample_rate
        if not self._chunk:
            self._chunk = len(samples)
        if len(samples) <= self._chunk:
            out: Any = self._reverb.process(samples, rate, reset=False)
        else:  # equal pieces, none larger than the first call, none ambiguous
            pieces = np.array_split(samples, -(-len(samples) // self._chunk))
            out = np.concatenate([self._reverb.process(p, rate, reset=False) for p in pieces])
        self.audio_out.write(audio_frame(out, rate, frame.timestamp_ns, frame.sequence))
