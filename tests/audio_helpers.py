"""Processors that feed a known signal into a graph and collect what comes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamlib import AudioFrame, Output, Processor, ProcessorConfig, ProcessorStatus, StreamRuntime

# The signal to emit is handed over through a registry: configs must be checksummable
# values, and a numpy array is not one.
SIGNALS: dict[str, np.ndarray[Any, Any]] = {}


@dataclass(frozen=True)
class ArraySourceConfig(ProcessorConfig):
    signal: str = ""
    sample_rate: int = 48000
    block_sizes: tuple[int, ...] = (512,)
    """Emitted in this (repeating) pattern of block sizes."""
    start_ns: int = 0
    gap_every: int = 0
    """Every this many blocks, the stream's stamps jump ``gap_ns`` ahead (as if frames
    were dropped upstream); 0: no gaps."""
    gap_ns: int = 0
    meta: str = field(default="", metadata={"plan": False})


class ArraySource(Processor):
    """Emits SIGNALS[config.signal] (frames, channels) in blocks, non-live, stamped by
    sample position from ``start_ns``."""

    Config = ArraySourceConfig
    config: ArraySourceConfig
    audio = Output(AudioFrame)

    def setup(self) -> None:
        self._data = SIGNALS[self.config.signal]
        self._position = 0
        self._index = 0

    def process(self) -> ProcessorStatus | None:
        c = self.config
        if self._position >= len(self._data):
            return ProcessorStatus.END_OF_STREAM
        n = c.block_sizes[self._index % len(c.block_sizes)]
        block = np.ascontiguousarray(self._data[self._position : self._position + n], np.float32)
        ts = c.start_ns + self._position * 1_000_000_000 // c.sample_rate
        if c.gap_every:
            ts += self._index // c.gap_every * c.gap_ns
        self.audio.write(AudioFrame(block, c.sample_rate, ts, self._index))
        self._position += len(block)
        self._index += 1
        return None


def run_chain(
    signal: np.ndarray[Any, Any],
    middles: list[tuple[type[Processor], dict[str, Any]]],
    *,
    sample_rate: int = 48000,
    block_sizes: tuple[int, ...] = (512,),
    optimize: bool = True,
    **source_fields: Any,
) -> list[AudioFrame]:
    """signal -> middles... -> collecting sink; returns the frames that arrived."""
    from streamlib.testing import CollectingSink, instance

    key = f"sig{id(signal)}"
    SIGNALS[key] = signal
    try:
        with StreamRuntime(optimize=optimize) as rt:
            src = rt.add_processor(
                ArraySource, signal=key, sample_rate=sample_rate, block_sizes=block_sizes, **source_fields
            )
            previous = src.output_port("audio")
            for cls, fields in middles:
                handle = rt.add_processor(cls, **fields)
                rt.connect(previous, handle.input_port("audio_in"))
                previous = handle.output_port("audio_out")
            sink = rt.add_processor(CollectingSink)
            rt.connect(previous, sink.input_port("in"))
            rt.start()
            assert rt.run(timeout=60)
            assert rt.errors == []
            frames: list[AudioFrame] = instance(rt, sink).frames
            return frames
    finally:
        del SIGNALS[key]


def joined(frames: list[AudioFrame]) -> np.ndarray[Any, Any]:
    return np.concatenate([f.samples for f in frames]) if frames else np.zeros((0, 1), np.float32)


def snr_db(reference: np.ndarray[Any, Any], test: np.ndarray[Any, Any]) -> float:
    noise = np.sum((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    power = np.sum(reference.astype(np.float64) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(power / noise)
