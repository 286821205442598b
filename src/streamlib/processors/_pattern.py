"""TestPatternProcessor: a moving test picture, paced by the runtime clock when live."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._frames import PIXEL_FORMAT_CHANNELS, VideoFrame
from ..graph import Output, Processor, ProcessorConfig, ProcessorStatus
from ._timeline import TickBlocks

__all__ = ["TestPatternConfig", "TestPatternProcessor", "pattern_offset"]

_BARS = np.array(
    [
        [235, 235, 235],
        [235, 235, 16],
        [16, 235, 235],
        [16, 235, 16],
        [235, 16, 235],
        [235, 16, 16],
        [16, 16, 235],
    ],
    np.uint8,
)  # SMPTE-style bars, as RGB
_SPEED = 8
"""Pixels the bars move per frame (so a frame's sequence can be read back from it)."""


def pattern_offset(sequence: int, width: int) -> int:
    """How far (pixels) the bars have moved in frame ``sequence``."""
    return (sequence * _SPEED) % width


@dataclass(frozen=True)
class TestPatternConfig(ProcessorConfig):
    """Args:
    width, height: picture size in pixels.
    fps: frames per second (the tick rate when live, the time stamps either way).
    pixel_format: "rgb24", "bgr24", "rgba" or "gray".
    live: paced by the runtime clock at ``fps`` (absolute deadlines); otherwise as
        fast as the graph takes it.
    num_frames: end of stream after this many frames; None: endless.
    """

    __test__ = False  # not a pytest test class, whatever its name

    width: int = 1280
    height: int = 720
    fps: int = 30
    pixel_format: str = "rgb24"
    live: bool = True
    num_frames: int | None = None

    def validate(self) -> None:
        for name in ("width", "height"):
            if not 2 <= getattr(self, name) <= 16384:
                raise self.invalid(name, "must be between 2 and 16384")
        if not 1 <= self.fps <= 1000:
            raise self.invalid("fps", "must be between 1 and 1000")
        if self.pixel_format not in PIXEL_FORMAT_CHANNELS:
            raise self.invalid("pixel_format", f"must be one of {', '.join(PIXEL_FORMAT_CHANNELS)}")
        if self.num_frames is not None and self.num_frames < 0:
            raise self.invalid("num_frames", "must be >= 0 or None")


class TestPatternProcessor(Processor):
    """Color bars moving right by 8 pixels per frame, and a white square moving down:
    every frame differs from the last, so tests can see motion and order.

    Each frame is a new buffer (rolled from a pattern made once in ``setup()``),
    stamped with its capture time: the tick's deadline when live, ``sequence / fps``
    otherwise.
    """

    __test__ = False

    Config = TestPatternConfig
    config: TestPatternConfig
    video = Output(VideoFrame)

    def __init__(self) -> None:
        self._period = Fraction(1_000_000_000, self.config.fps)

    @property
    def live(self) -> bool:  # type: ignore[override]
        return self.config.live

    @property
    def period_ns(self) -> Fraction | None:  # type: ignore[override]
        return self._period if self.config.live else None

    def setup(self) -> None:
        c = self.config
        columns = (np.arange(c.width) * len(_BARS)) // c.width
        rgb = np.ascontiguousarray(np.broadcast_to(_BARS[columns], (c.height, c.width, 3)))
        self._base = _convert(rgb, c.pixel_format)
        self._sequence = 0
        self._blocks = TickBlocks(self._period)

    def process(self) -> ProcessorStatus | None:
        c = self.config
        timestamp = 0
        if c.live:  # frame k was captured from start + k * period (exactly)
            # a tick the runtime skipped to (shedding load) is a later frame
            self._sequence, timestamp = self._blocks.at(self.tick_ns)
        seq = self._sequence
        if c.num_frames is not None and seq >= c.num_frames:
            return ProcessorStatus.END_OF_STREAM
        pixels = np.roll(self._base, pattern_offset(seq, c.width), axis=1)
        side = max(2, min(c.width, c.height) // 8)
        top = (seq * 4) % max(1, c.height - side)
        pixels[top : top + side, :side] = 255
        if not c.live:
            timestamp = seq * self._period.numerator // self._period.denominator
        self.video.write(VideoFrame(pixels, c.pixel_format, timestamp, seq))
        self._sequence = seq + 1
        if c.num_frames is not None and self._sequence >= c.num_frames:
            return ProcessorStatus.END_OF_STREAM
        return None


def _convert(rgb: np.ndarray[Any, Any], pixel_format: str) -> np.ndarray[Any, Any]:
    if pixel_format == "rgb24":
        return rgb
    if pixel_format == "bgr24":
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if pixel_format == "rgba":
        alpha = np.full((*rgb.shape[:2], 1), 255, np.uint8)
        return np.concatenate([rgb, alpha], axis=2)
    gray: np.ndarray[Any, Any] = (rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    return np.ascontiguousarray(gray[:, :, None])
