"""ChordGeneratorProcessor: a sine chord, paced by the runtime clock when live."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from itertools import repeat

import numpy as np

from .._frames import AudioFrame, audio_frame
from ..graph import Output, Processor, ProcessorConfig, ProcessorStatus
from ._timeline import TickBlocks

__all__ = ["ChordGeneratorConfig", "ChordGeneratorProcessor"]

_TAU = 2 * math.pi
_ONES = repeat(1.0)


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

    _trusted_io = True  # (streamlib's own: one read per call, typed writes, see engine._ports)

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
        increments = [f / c.sample_rate for f in c.frequencies]  # cycles per sample
        ramp = 2 * np.pi * np.outer(increments, np.arange(c.buffer_size, dtype=np.float64))
        gain = c.amplitude / len(c.frequencies)
        # sin(a + b) = sin a cos b + cos a sin b: a block is one small matrix-vector
        # product of each note's (sin a, cos a) at its exact phase accumulator with this
        # table of the notes' cos b / sin b over a block (gain folded in, float32 out):
        # a handful of calls per block, however many notes, and no sine per sample
        self._table = np.ascontiguousarray(np.vstack([np.cos(ramp), np.sin(ramp)]) * gain, np.float32)
        self._increments = increments
        self._phases = [0.0] * len(increments)
        self._steps = [step * c.buffer_size for step in increments]
        """Each note's phase advance over a whole block, in cycles."""
        self._position = 0
        self._sequence = 0
        self._blocks = TickBlocks(self._period)
        self._live = c.live
        self._size = c.buffer_size
        self._rate = c.sample_rate

    def process(self) -> ProcessorStatus | None:
        if self._live:  # block k was captured from start + k * period (exactly)
            block, timestamp = self._blocks.at(self.tick_ns)
            if block != self._sequence:  # the runtime skipped ticks (shedding load)
                self._skip(block - self._sequence)
        else:
            timestamp = self._position * 1_000_000_000 // self._rate
        n = self._size
        steps = self._steps
        if self._total is not None:
            n = min(n, self._total - self._position)
            if n <= 0:
                return ProcessorStatus.END_OF_STREAM
            if n < self._size:
                steps = [step * n for step in self._increments]
        # (map over C functions: no Python loop per note)
        turns = list(map(_TAU.__mul__, self._phases))
        weights = np.array([*map(math.sin, turns), *map(math.cos, turns)], np.float32)
        table = self._table if n == self._size else self._table[:, :n]
        samples = (weights @ table)[:, None]
        # phases stay in [0, 1) (fmod equals % for these positive values)
        self._phases = list(map(math.fmod, map(operator.add, self._phases, steps), _ONES))
        channels = self.config.channels
        if channels > 1:
            samples = samples.repeat(channels, 1)
        self.audio.write(audio_frame(samples, self._rate, timestamp, self._sequence))
        self._position += n
        self._sequence += 1
        if self._total is not None and self._position >= self._total:
            return ProcessorStatus.END_OF_STREAM
        return None

    def _skip(self, blocks: int) -> None:
        """Blocks never made (their ticks were skipped): the chord moves on in time,
        its phase where it would have been."""
        samples = blocks * self.config.buffer_size
        if self._total is not None:
            samples = min(samples, max(self._total - self._position, 0))
        for k, step in enumerate(self._increments):
            self._phases[k] = (self._phases[k] + step * samples) % 1.0
        self._position += samples
        self._sequence += blocks
