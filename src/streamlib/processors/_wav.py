"""WAV files in and out, through libsndfile (soundfile)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .._errors import ProcessorError
from .._frames import AudioFrame
from ..graph import Input, Output, Processor, ProcessorConfig, ProcessorStatus
from ._timeline import TickBlocks

__all__ = [
    "WavFileSinkConfig",
    "WavFileSinkProcessor",
    "WavFileSourceConfig",
    "WavFileSourceProcessor",
]


@dataclass(frozen=True)
class WavFileSourceConfig(ProcessorConfig):
    """Args:
    path: the file to read (WAV, or anything libsndfile reads: FLAC, AIFF, OGG...).
    buffer_size: samples per frame (the last frame holds what is left).
    live: paced at the file's own sample rate, as if it were a device; otherwise as
        fast as the graph takes it.
    """

    path: Path = field(metadata={"plan": False})
    buffer_size: int = 512
    live: bool = False

    def validate(self) -> None:
        if self.buffer_size < 1:
            raise self.invalid("buffer_size", "must be >= 1")


class WavFileSourceProcessor(Processor):
    """Reads an audio file into float32 frames on port ``audio``: any sample rate,
    channel count and common subtype (PCM 8/16/24/32, float, double)."""

    Config = WavFileSourceConfig
    config: WavFileSourceConfig
    audio = Output(AudioFrame)

    def __init__(self) -> None:
        self._period = Fraction(0)  # known once the file is open (setup)
        self._file: Any = None

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    @property
    def period_ns(self) -> Fraction | None:  # type: ignore[override]
        return self._period if self.config.live else None

    def setup(self) -> None:
        import soundfile

        path = self.config.path
        try:
            self._file = soundfile.SoundFile(str(path))
        except Exception as exc:  # libsndfile's message says why (missing, unreadable, format)
            raise ProcessorError(
                self.processor_id, type(self).__name__, f"cannot read audio file {str(path)!r}: {exc}"
            ) from exc
        self._rate = int(self._file.samplerate)
        self._period = Fraction(self.config.buffer_size * 1_000_000_000, self._rate)
        self._position = 0
        self._sequence = 0
        self._blocks = TickBlocks(self._period)

    def process(self) -> ProcessorStatus | None:
        size = self.config.buffer_size
        if self.config.live:  # block k was captured from start + k * period (exactly)
            index, timestamp = self._blocks.at(self.tick_ns)
            if index != self._sequence:  # the runtime skipped ticks (shedding load): skip their audio
                self._file.seek(min(self._position + (index - self._sequence) * size, self._file.frames))
                self._position = self._file.tell()
                self._sequence = index
        block = self._file.read(size, dtype="float32", always_2d=True)
        if not len(block):
            return ProcessorStatus.END_OF_STREAM
        if not self.config.live:
            timestamp = self._position * 1_000_000_000 // self._rate
        self.audio.write(AudioFrame(block, self._rate, timestamp, self._sequence))
        self._position += len(block)
        self._sequence += 1
        return None

    def on_shutdown(self) -> None:
        if self._file is not None:
            self._file.close()

    def metrics(self) -> dict[str, Any]:
        return {"path": str(self.config.path)}


@dataclass(frozen=True)
class WavFileSinkConfig(ProcessorConfig):
    """Args:
    path: the WAV file to write (32-bit float); replaced if it exists.
    """

    path: Path = field(metadata={"plan": False})


class WavFileSinkProcessor(Processor):
    """Writes what arrives on port ``audio`` to a 32-bit float WAV file, with the
    sample rate and channel count of the first frame. The file is finalized at end of
    stream and on stop, so it is valid even when the runtime is stopped mid-stream."""

    Config = WavFileSinkConfig
    config: WavFileSinkConfig
    audio = Input(AudioFrame)

    def __init__(self) -> None:
        self._file: Any = None
        self.samples_written = 0

    def setup(self) -> None:
        path = Path(self.config.path)
        directory = path.parent if str(path.parent) else Path(".")
        if not directory.is_dir():
            raise self._error(f"cannot write {str(path)!r}: directory {str(directory)!r} does not exist")
        if not os.access(directory, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise self._error(f"cannot write {str(path)!r}: permission denied")
        self._format: tuple[int, int] | None = None

    def _error(self, message: str) -> ProcessorError:
        return ProcessorError(self.processor_id, type(self).__name__, message)

    def process(self) -> None:
        frame = self.audio.read()
        if frame is None:
            return
        shape = (frame.sample_rate, frame.channels)
        if self._file is None:
            import soundfile

            self._file = soundfile.SoundFile(
                str(self.config.path),
                "w",
                samplerate=frame.sample_rate,
                channels=frame.channels,
                subtype="FLOAT",
                format="WAV",
            )
            self._format = shape
        elif shape != self._format:
            raise self._error(
                f"frame {frame.sequence} has {frame.sample_rate} Hz x {frame.channels} channels; "
                f"{str(self.config.path)!r} was started at {self._format[0]} Hz x {self._format[1]}"
                if self._format
                else "format changed"
            )
        self._file.write(frame.samples)
        self.samples_written += frame.num_frames

    def on_end_of_stream(self) -> None:
        self._close()

    def on_shutdown(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()  # finalizes the WAV header
            self._file = None

    def metrics(self) -> dict[str, Any]:
        return {"path": str(self.config.path), "samples_written": self.samples_written}
