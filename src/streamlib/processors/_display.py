"""DisplayProcessor: a real window (SDL2 through pygame)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import ProcessorError
from .._frames import VideoFrame
from ..graph import Input, Processor, ProcessorConfig, ProcessorStatus

__all__ = ["DisplayConfig", "DisplayProcessor"]

_ONE_WINDOW = threading.Lock()
"""pygame drives one display window per process."""

_SURFACE_FORMATS = {"rgb24": "RGB", "bgr24": "BGR", "rgba": "RGBA", "bgra": "BGRA"}


@dataclass(frozen=True)
class DisplayConfig(ProcessorConfig):
    """Args:
    width, height: the window's size; frames are scaled to it.
    title: the window's title (default: "streamlib").
    """

    width: int = 1280
    height: int = 720
    title: str | None = field(default=None, metadata={"plan": False})

    def validate(self) -> None:
        for name in ("width", "height"):
            if not 1 <= getattr(self, name) <= 16384:
                raise self.invalid(name, "must be between 1 and 16384")


class DisplayProcessor(Processor):
    """A live sink: shows each frame of ``video`` in a window, scaled to the window.

    The window is opened by the display's own thread, on its first frame (SDL wants a
    window used by the thread that made it). Closing the window ends the display,
    and with it the sources of its component: they reach end of stream and ``run()``
    returns. One display window per process (pygame's limit): a second is a
    ProcessorError.
    """

    Config = DisplayConfig
    config: DisplayConfig
    live = True
    video = Input(VideoFrame)

    def __init__(self) -> None:
        self._screen: Any = None
        self._owns_window = False
        self.frames_shown = 0
        self.last_shown: VideoFrame | None = None
        self.closed = False

    def setup(self) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise self._error(f"pygame is not installed ({exc})") from exc
        if not _ONE_WINDOW.acquire(blocking=False):
            raise self._error(
                "another DisplayProcessor already has this process's window (pygame allows one)"
            )
        self._owns_window = True
        try:
            pygame.display.init()
        except pygame.error as exc:
            self._owns_window = False  # setup failed: no on_shutdown() will release it
            _ONE_WINDOW.release()
            raise self._error(
                f"no display to open a window on ({exc}; DISPLAY={os.environ.get('DISPLAY')!r})"
            ) from exc
        self._pygame = pygame

    def _error(self, message: str) -> ProcessorError:
        return ProcessorError(self.processor_id, type(self).__name__, message)

    def _open(self) -> None:
        pygame = self._pygame
        size = (self.config.width, self.config.height)
        self._screen = pygame.display.set_mode(size)
        pygame.display.set_caption(self.config.title or "streamlib")

    def process(self) -> ProcessorStatus | None:
        frame = self.video.read()
        if frame is None:
            return None
        pygame = self._pygame
        if self._screen is None:
            self._open()
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.closed = True
                return ProcessorStatus.END_OF_STREAM
        pixels = frame.pixels
        if frame.pixel_format == "gray":
            pixels = np.repeat(pixels, 3, axis=2)
            surface_format = "RGB"
        else:
            surface_format = _SURFACE_FORMATS[frame.pixel_format]
        pixels = np.ascontiguousarray(pixels)  # a view's rows are not one buffer
        surface = pygame.image.frombuffer(pixels, (frame.width, frame.height), surface_format)
        size = self._screen.get_size()
        if surface.get_size() != size:
            surface = pygame.transform.smoothscale(surface.convert(), size)
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self.last_shown = frame
        self.frames_shown += 1
        return None

    def on_shutdown(self) -> None:
        if self._screen is not None:
            self._pygame.display.quit()
            self._screen = None
        if self._owns_window:
            self._owns_window = False
            _ONE_WINDOW.release()

    def metrics(self) -> dict[str, Any]:
        return {"frames_shown": self.frames_shown, "window_closed": self.closed}
