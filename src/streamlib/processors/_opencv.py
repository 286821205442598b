"""ResizeProcessor and ColorConvertProcessor: OpenCV, lightweight, fusable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import ProcessorError
from .._frames import PIXEL_FORMAT_CHANNELS, VideoFrame
from ..graph import Input, Output, Processor, ProcessorConfig

__all__ = ["ColorConvertConfig", "ColorConvertProcessor", "ResizeConfig", "ResizeProcessor"]


def _cv2(processor: Processor) -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ProcessorError(
            processor.processor_id, type(processor).__name__, f"OpenCV is not installed ({exc})"
        ) from exc
    return cv2


@dataclass(frozen=True)
class ResizeConfig(ProcessorConfig):
    width: int = 640
    height: int = 360

    def validate(self) -> None:
        for name in ("width", "height"):
            if not 1 <= getattr(self, name) <= 16384:
                raise self.invalid(name, "must be between 1 and 16384")


class ResizeProcessor(Processor):
    """Scales ``video_in`` to ``width`` x ``height`` on ``video_out`` (area averaging
    when shrinking, bilinear when growing); a frame already that size passes as it
    is. OpenCV releases the GIL while it works."""

    Config = ResizeConfig
    config: ResizeConfig
    lightweight = True
    video_in = Input(VideoFrame)
    video_out = Output(VideoFrame)

    def setup(self) -> None:
        self._cv2 = _cv2(self)

    def process(self) -> None:
        frame = self.video_in.read()
        if frame is None:
            return
        c = self.config
        if (frame.width, frame.height) == (c.width, c.height):
            self.video_out.write(frame)
            return
        cv2 = self._cv2
        shrink = c.width * c.height < frame.width * frame.height
        resized = cv2.resize(
            frame.pixels, (c.width, c.height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
        if resized.ndim == 2:  # OpenCV drops a single channel's axis
            resized = resized[:, :, None]
        self.video_out.write(frame.with_pixels(resized))


# (from, to) -> OpenCV conversion code name
_CODES = {
    ("rgb24", "bgr24"): "COLOR_RGB2BGR",
    ("bgr24", "rgb24"): "COLOR_BGR2RGB",
    ("rgb24", "rgba"): "COLOR_RGB2RGBA",
    ("bgr24", "rgba"): "COLOR_BGR2RGBA",
    ("rgba", "rgb24"): "COLOR_RGBA2RGB",
    ("rgba", "bgr24"): "COLOR_RGBA2BGR",
    ("rgb24", "gray"): "COLOR_RGB2GRAY",
    ("bgr24", "gray"): "COLOR_BGR2GRAY",
    ("rgba", "gray"): "COLOR_RGBA2GRAY",
    ("gray", "rgb24"): "COLOR_GRAY2RGB",
    ("gray", "bgr24"): "COLOR_GRAY2BGR",
    ("gray", "rgba"): "COLOR_GRAY2RGBA",
    ("bgra", "rgba"): "COLOR_BGRA2RGBA",
    ("rgba", "bgra"): "COLOR_RGBA2BGRA",
    ("bgra", "rgb24"): "COLOR_BGRA2RGB",
    ("bgra", "bgr24"): "COLOR_BGRA2BGR",
    ("bgra", "gray"): "COLOR_BGRA2GRAY",
    ("rgb24", "bgra"): "COLOR_RGB2BGRA",
    ("bgr24", "bgra"): "COLOR_BGR2BGRA",
    ("gray", "bgra"): "COLOR_GRAY2BGRA",
}


@dataclass(frozen=True)
class ColorConvertConfig(ProcessorConfig):
    pixel_format: str = "bgr24"
    """The target pixel format."""

    def validate(self) -> None:
        if self.pixel_format not in PIXEL_FORMAT_CHANNELS:
            raise self.invalid("pixel_format", f"must be one of {', '.join(PIXEL_FORMAT_CHANNELS)}")


class ColorConvertProcessor(Processor):
    """Converts ``video_in`` to ``pixel_format`` on ``video_out`` (rgb24, bgr24, rgba,
    bgra, gray); a frame already in that format passes as it is, not copied."""

    Config = ColorConvertConfig
    config: ColorConvertConfig
    lightweight = True
    video_in = Input(VideoFrame)
    video_out = Output(VideoFrame)

    def setup(self) -> None:
        self._cv2 = _cv2(self)

    def process(self) -> None:
        frame = self.video_in.read()
        if frame is None:
            return
        target = self.config.pixel_format
        if frame.pixel_format == target:
            self.video_out.write(frame)
            return
        code = _CODES.get((frame.pixel_format, target))
        if code is None:  # pragma: no cover - every pair of supported formats is listed
            raise ProcessorError(
                self.processor_id, type(self).__name__, f"no conversion from {frame.pixel_format} to {target}"
            )
        converted = self._cv2.cvtColor(frame.pixels, getattr(self._cv2, code))
        if converted.ndim == 2:
            converted = converted[:, :, None]
        self.video_out.write(frame.with_pixels(converted, target))
