"""CameraProcessor: a real camera through OpenCV (V4L2 on Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .._errors import ProcessorError
from .._frames import VideoFrame
from ..graph import Output, Processor, ProcessorConfig, ProcessorStatus

__all__ = ["CameraConfig", "CameraProcessor"]


@dataclass(frozen=True)
class CameraConfig(ProcessorConfig):
    """Args:
    device_id: None for the first camera (/dev/video0), an index, or a device path.
    width, height, fps: what to ask the camera for (it may pick the nearest mode).
    """

    device_id: int | str | None = field(default=None, metadata={"plan": False})
    width: int = 1280
    height: int = 720
    fps: int = 30


class CameraProcessor(Processor):
    """A live source: frames from a camera, in bgr24, stamped on the runtime clock
    when OpenCV hands them over. The camera is opened at start; no camera there is a
    ProcessorError naming the device (never a hang: the device node is checked
    before OpenCV is asked to open it)."""

    Config = CameraConfig
    config: CameraConfig
    live = True
    video = Output(VideoFrame)

    def __init__(self) -> None:
        self._capture: Any = None

    def _device(self) -> tuple[Any, str]:
        device = self.config.device_id
        if device is None:
            device = 0
        if isinstance(device, int):
            return device, f"/dev/video{device}"
        return device, str(device)

    def setup(self) -> None:
        import cv2

        device, path = self._device()
        if path.startswith("/dev/") and not os.path.exists(path):
            raise ProcessorError(self.processor_id, type(self).__name__, f"no camera at {path}")
        capture = (
            cv2.VideoCapture(device, cv2.CAP_V4L2) if isinstance(device, int) else cv2.VideoCapture(device)
        )
        if not capture.isOpened():
            raise ProcessorError(self.processor_id, type(self).__name__, f"cannot open the camera at {path}")
        c = self.config
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, c.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, c.height)
        capture.set(cv2.CAP_PROP_FPS, c.fps)
        self._capture = capture
        self._path = path
        self._sequence = 0

    def process(self) -> ProcessorStatus | None:
        ok, pixels = self._capture.read()  # blocks until the camera delivers (device-paced)
        if not ok:
            raise ProcessorError(
                self.processor_id,
                type(self).__name__,
                f"the camera at {self._path} stopped delivering frames",
            )
        self.video.write(VideoFrame(pixels, "bgr24", self.clock.now_ns(), self._sequence))
        self._sequence += 1
        return None

    def on_shutdown(self) -> None:
        if self._capture is not None:
            self._capture.release()
