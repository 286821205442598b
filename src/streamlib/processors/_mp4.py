"""MP4WriterProcessor: H.264 (libx264, low-latency settings) in MP4, through PyAV."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .._errors import ProcessorError
from .._frames import VideoFrame
from ..graph import Input, Processor, ProcessorConfig

__all__ = ["MP4WriterConfig", "MP4WriterProcessor"]

_TIME_BASE = Fraction(1, 90_000)
"""MPEG's 90 kHz clock: frame times are kept to 11 us."""


@dataclass(frozen=True)
class MP4WriterConfig(ProcessorConfig):
    """Args:
    path: the MP4 file to write; replaced if it exists.
    fps: the stream's nominal frame rate (the container's hint; each frame's time
        comes from its own timestamp).
    """

    path: Path = field(metadata={"plan": False})
    fps: int = 30

    def validate(self) -> None:
        if not 1 <= self.fps <= 1000:
            raise self.invalid("fps", "must be between 1 and 1000")


class MP4WriterProcessor(Processor):
    """Encodes ``video`` into an MP4 file: H.264 through libx264 with ``ultrafast`` /
    ``zerolatency`` (the default settings hold ~40 frames back), or MPEG-4 part 2
    where libx264 is missing. Each frame's presentation time is its timestamp
    relative to the first frame's. The encoder is flushed and the file finalized at
    end of stream and on stop. Sizes must be even (4:2:0 chroma)."""

    Config = MP4WriterConfig
    config: MP4WriterConfig
    video = Input(VideoFrame)

    def __init__(self) -> None:
        self._container: Any = None
        self.frames_written = 0
        self.codec = ""

    def setup(self) -> None:
        import av  # noqa: F401 - fail here, at start, if PyAV is missing

        path = Path(self.config.path)
        directory = path.parent if str(path.parent) else Path(".")
        if not directory.is_dir():
            raise self._error(f"cannot write {str(path)!r}: directory {str(directory)!r} does not exist")
        if not os.access(directory, os.W_OK):
            raise self._error(f"cannot write {str(path)!r}: permission denied")
        self._stream: Any = None
        self._first_ns: int | None = None
        self._last_pts = -1

    def _error(self, message: str) -> ProcessorError:
        return ProcessorError(self.processor_id, type(self).__name__, message)

    def _open(self, frame: VideoFrame) -> None:
        import av

        if frame.width % 2 or frame.height % 2:
            raise self._error(
                f"H.264 4:2:0 needs even sizes; frame {frame.sequence} is {frame.width}x{frame.height}"
            )
        self._container = av.open(str(self.config.path), "w")
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = self._container.add_stream(codec, rate=self.config.fps)
        stream.width, stream.height = frame.width, frame.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = _TIME_BASE
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        self._stream, self.codec = stream, codec
        self._size = (frame.width, frame.height)

    def process(self) -> None:
        frame = self.video.read()
        if frame is None:
            return
        import av

        if self._container is None:
            self._open(frame)
            self._first_ns = frame.timestamp_ns
        elif (frame.width, frame.height) != self._size:
            raise self._error(
                f"frame {frame.sequence} is {frame.width}x{frame.height}; the file was started at "
                f"{self._size[0]}x{self._size[1]}"
            )
        assert self._first_ns is not None
        pts = (frame.timestamp_ns - self._first_ns) * _TIME_BASE.denominator // 1_000_000_000
        pts = max(pts, self._last_pts + 1)  # strictly increasing, even for equal stamps
        self._last_pts = pts
        fmt = "gray" if frame.pixel_format == "gray" else frame.pixel_format
        pixels = frame.pixels[:, :, 0] if fmt == "gray" else frame.pixels
        out = av.VideoFrame.from_ndarray(pixels, format=fmt)
        out.pts = pts
        out.time_base = _TIME_BASE
        for packet in self._stream.encode(out):
            self._container.mux(packet)
        self.frames_written += 1

    def on_end_of_stream(self) -> None:
        self._finish()

    def on_shutdown(self) -> None:
        self._finish()

    def _finish(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode():  # flush what the encoder holds
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def metrics(self) -> dict[str, Any]:
        return {"path": str(self.config.path), "frames_written": self.frames_written, "codec": self.codec}
