"""ChordGeneratorProcessor: a sine chord, paced by the runtime clock when live."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._frames import AudioFrame
from ..graph import Output, Processor, ProcessorConfig, ProcessorStatus

__all__ = ["ChordGeneratorConfig", "ChordGeneratorProcessor"]


@dataclass(frozen=True)
class ChordGeneratorConfig(ProcessorConfig):
    """Args:
    sample_rate: samples per second.
    channels: the same chord on every channel.
    buffer_size: samples per frame.
    frequencies: the chord's notes in Hz (default C major: C4, E4, G4).
    amplitude: peak amplitude of the sum (each note gets amplitude / len(frequencies)).
    live: paced by the runtime clock (a frame per buffer period, absolute deadlines);
        otherwise as fast as the graph takes it.
    duration_s: end of stream after this much audio; None: endless.
    """

    sample_rate: int = 48000
    channels: int = 1
    buffer_size: int = 512
    frequencies: tuple[float, ...] = (261.63, 329.63, 392.0)
    amplitude: float = 0.2
    live: bool = True
    duration_s: float | None = None

    def validate(self) -> None:
        if not 1 <= self.sample_rate <= 768_000:
            raise self.invalid("sample_rate", "must be between 1 and 768000 Hz")
        if not 1 <= self.channels <= 64:
            raise self.invalid("channels", "must be between 1 and 64")
        if self.buffer_size < 1:
            raise self.invalid("buffer_size", "must be >= 1")
        if not self.frequencies:
            raise self.invalid("frequencies", "needs at least one frequency")
        nyquist = self.sample_rate / 2
        if any(not 0 < f < nyquist for f in self.frequencies):
            raise self.invalid("frequencies", f"each must be in (0, {nyquist:g}) Hz (Nyquist)")
        if not 0.0 <= self.amplitude <= 1.0:
            raise self.invalid("amplitude", "must be in [0, 1]")
        if self.duration_s is not None and not (self.duration_s >= 0 and math.isfinite(self.duration_s)):
            raise self.invalid("duration_s", "must be a finite number >= 0, or None")


class ChordGeneratorProcessor(Processor):
    """Generates a sine chord on port ``audio``.

    Live, it is a clock-driven source: the runtime ticks it once per buffer period at
    exact absolute deadlines, and each frame is stamped with the capture time of its
    first sample (the tick's deadline minus one period), so timestamps never drift.
    Phases are kept as per-note accumulators, so the waveform stays exact over hours.
    """

    Config = ChordGeneratorConfig
    config: ChordGeneratorConfig
    audio = Output(AudioFrame)

    def __init__(self) -> None:
        c = self.config
        self._total = None if c.duration_s is None else round(c.duration_s * c.sample_rate)
        self._period = Fraction(c.buffer_size * 1_000_000_000, c.sample_rate)

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    @property
    def period_ns(self) -> Fraction | None:  # type: ignore[override]
        return self._period if self.config.live else None

    def setup(self) -> None:
        c = self.config
        self._increments = np.array(c.frequencies, np.float64) / c.sample_rate  # cycles per sample
        ramp = np.arange(c.buffer_size, dtype=np.float64)
        # each note's rotation over a block from phase 0: a block is then one complex
        # rotation per note (from its exact phase accumulator) and a product with this
        # table, five times cheaper than a sine per sample, and the same numbers
        self._rotations = np.exp(2j * np.pi * self._increments[:, None] * ramp[None, :])
        self._phases = np.zeros(len(c.frequencies), np.float64)
        self._position = 0
        self._sequence = 0
        self._start: int | None = None

    def process(self) -> ProcessorStatus | None:
        c = self.config
        n = c.buffer_size
        if self._total is not None:
            n = min(n, self._total - self._position)
            if n <= 0:
                return ProcessorStatus.END_OF_STREAM
        start = np.exp(2j * np.pi * self._phases)
        mono = (start @ self._rotations[:, :n]).imag * (c.amplitude / len(c.frequencies))
        self._phases = (self._phases + self._increments * n) % 1.0
        samples = mono.astype(np.float32)[:, None]
        if c.channels > 1:
            samples = np.repeat(samples, c.channels, axis=1)
        if c.live:  # block k was captured from start + k * period (exactly)
            if self._start is None:
                self._start = self.tick_ns - int(self._period)  # the first tick ends block 0
            timestamp = self._start + self._sequence * self._period.numerator // self._period.denominator
        else:
            timestamp = self._position * 1_000_000_000 // c.sample_rate
        self.audio.write(AudioFrame(samples, c.sample_rate, timestamp, self._sequence))
        self._position += n
        self._sequence += 1
        if self._total is not None and self._position >= self._total:
            return ProcessorStatus.END_OF_STREAM
        return None
