"""Frames: the immutable values that flow along connections.

Frames carry their time (``timestamp_ns``, the runtime clock's capture time of the
first sample or of the picture) and their ``sequence`` (a per-source counter). They
move between processors by reference; the runtime never copies them. Their arrays
are marked read-only on construction, so a frame fanned out to several consumers
cannot be changed under any of them.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["AudioFrame", "DataFrame", "Frame", "VideoFrame", "PIXEL_FORMAT_CHANNELS"]

_F32 = np.dtype(np.float32)
_U8 = np.dtype(np.uint8)

#: Channels per pixel of every supported pixel format.
PIXEL_FORMAT_CHANNELS: dict[str, int] = {"rgb24": 3, "bgr24": 3, "rgba": 4, "bgra": 4, "gray": 1}


def _freeze(array: np.ndarray[Any, Any]) -> None:
    if array.flags.writeable:
        array.flags.writeable = False


class Frame:
    """Base class of all frames. Subclasses are immutable: public attributes are
    read-only properties over private slots."""

    __slots__ = ("_timestamp_ns", "_sequence")
    _timestamp_ns: int
    _sequence: int

    timestamp_ns: int = property(attrgetter("_timestamp_ns"))  # type: ignore[assignment]
    """Capture time on the runtime clock, in nanoseconds."""
    sequence: int = property(attrgetter("_sequence"))  # type: ignore[assignment]
    """Per-source frame counter."""

    @property
    def end_ns(self) -> int:
        """Capture time of the frame's last sample: ``timestamp_ns`` plus the frame's
        duration for audio, ``timestamp_ns`` otherwise. Sinks measure end-to-end
        latency against it."""
        return self._timestamp_ns


class AudioFrame(Frame):
    """A block of audio samples.

    Args:
        samples: float32 array of shape ``(frames, channels)``.
        sample_rate: samples per second per channel.
        timestamp_ns: capture time of the first sample, on the runtime clock.
        sequence: per-source counter.

    Example:
        >>> import numpy as np
        >>> f = AudioFrame(np.zeros((512, 2), np.float32), 48000, timestamp_ns=0, sequence=0)
        >>> f.channels, f.num_frames, f.duration_ns
        (2, 512, 10666666)
    """

    __slots__ = ("_samples", "_sample_rate")

    samples: npt.NDArray[np.float32] = property(attrgetter("_samples"))  # type: ignore[assignment]
    sample_rate: int = property(attrgetter("_sample_rate"))  # type: ignore[assignment]

    def __init__(
        self,
        samples: npt.NDArray[np.float32],
        sample_rate: int,
        timestamp_ns: int = 0,
        sequence: int = 0,
    ) -> None:
        if samples.__class__ is not np.ndarray or samples.ndim != 2 or samples.dtype is not _F32:
            _reject_samples(samples)
        if sample_rate <= 0:
            raise ValueError(f"AudioFrame sample_rate must be positive, got {sample_rate!r}")
        samples.setflags(write=False)  # (one call: reading ``flags`` first costs more)
        self._samples = samples
        self._sample_rate = sample_rate
        self._timestamp_ns = timestamp_ns
        self._sequence = sequence

    @property
    def channels(self) -> int:
        return int(self._samples.shape[1])

    @property
    def num_frames(self) -> int:
        """Samples per channel."""
        return len(self._samples)

    @property
    def duration_ns(self) -> int:
        return len(self._samples) * 1_000_000_000 // self._sample_rate

    @property
    def end_ns(self) -> int:
        return self._timestamp_ns + len(self._samples) * 1_000_000_000 // self._sample_rate

    def with_samples(
        self,
        samples: npt.NDArray[np.float32],
        *,
        sample_rate: int | None = None,
        timestamp_ns: int | None = None,
    ) -> AudioFrame:
        """A new frame with other samples and the same time and sequence."""
        return AudioFrame(
            samples,
            self._sample_rate if sample_rate is None else sample_rate,
            self._timestamp_ns if timestamp_ns is None else timestamp_ns,
            self._sequence,
        )

    def __repr__(self) -> str:
        return (
            f"AudioFrame(frames={self.num_frames}, channels={self.channels}, "
            f"sample_rate={self._sample_rate}, timestamp_ns={self._timestamp_ns}, "
            f"sequence={self._sequence})"
        )


_new_frame = object.__new__


def audio_frame(
    samples: npt.NDArray[np.float32], sample_rate: int, timestamp_ns: int, sequence: int
) -> AudioFrame:
    """An ``AudioFrame`` from samples its caller vouches for (a float32 ndarray of shape
    (frames, channels), a positive rate): streamlib's own processors, which make
    several frames per block. It skips the checks but not the freeze (the array is
    read-only all the same)."""
    frame: AudioFrame = _new_frame(AudioFrame)
    samples.setflags(write=False)
    frame._samples = samples
    frame._sample_rate = sample_rate
    frame._timestamp_ns = timestamp_ns
    frame._sequence = sequence
    return frame


def _reject_samples(samples: object) -> None:
    if not isinstance(samples, np.ndarray):
        raise TypeError(f"AudioFrame samples must be a numpy array, got {type(samples).__name__}")
    if samples.ndim != 2:
        raise ValueError(f"AudioFrame samples must have shape (frames, channels), got shape {samples.shape}")
    if samples.dtype != _F32:
        raise TypeError(f"AudioFrame samples must be float32, got {samples.dtype}")


class VideoFrame(Frame):
    """A picture.

    Args:
        pixels: uint8 array of shape ``(height, width, channels)``.
        pixel_format: one of ``"rgb24"``, ``"bgr24"``, ``"rgba"``, ``"bgra"``, ``"gray"``;
            its channel count must match the array's.
        timestamp_ns: capture time on the runtime clock.
        sequence: per-source counter.
    """

    __slots__ = ("_pixels", "_pixel_format")

    pixels: npt.NDArray[np.uint8] = property(attrgetter("_pixels"))  # type: ignore[assignment]
    pixel_format: str = property(attrgetter("_pixel_format"))  # type: ignore[assignment]

    def __init__(
        self,
        pixels: npt.NDArray[np.uint8],
        pixel_format: str,
        timestamp_ns: int = 0,
        sequence: int = 0,
    ) -> None:
        if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.dtype != _U8:
            raise ValueError(
                "VideoFrame pixels must be a uint8 array of shape (height, width, channels), "
                f"got {getattr(pixels, 'dtype', type(pixels).__name__)} "
                f"{getattr(pixels, 'shape', '')}"
            )
        channels = PIXEL_FORMAT_CHANNELS.get(pixel_format)
        if channels is None:
            raise ValueError(
                f"unknown pixel_format {pixel_format!r}; expected one of {', '.join(PIXEL_FORMAT_CHANNELS)}"
            )
        if pixels.shape[2] != channels:
            raise ValueError(
                f"pixel_format {pixel_format!r} has {channels} channel(s), pixels have {pixels.shape[2]}"
            )
        _freeze(pixels)
        self._pixels = pixels
        self._pixel_format = pixel_format
        self._timestamp_ns = timestamp_ns
        self._sequence = sequence

    @property
    def width(self) -> int:
        return int(self._pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self._pixels.shape[0])

    def with_pixels(self, pixels: npt.NDArray[np.uint8], pixel_format: str | None = None) -> VideoFrame:
        """A new frame with other pixels and the same time and sequence."""
        return VideoFrame(
            pixels,
            self._pixel_format if pixel_format is None else pixel_format,
            self._timestamp_ns,
            self._sequence,
        )

    def __repr__(self) -> str:
        return (
            f"VideoFrame({self.width}x{self.height} {self._pixel_format}, "
            f"timestamp_ns={self._timestamp_ns}, sequence={self._sequence})"
        )


class DataFrame(Frame):
    """Any Python object, with time and sequence."""

    __slots__ = ("_payload",)

    payload: Any = property(attrgetter("_payload"))

    def __init__(self, payload: Any, timestamp_ns: int = 0, sequence: int = 0) -> None:
        self._payload = payload
        self._timestamp_ns = timestamp_ns
        self._sequence = sequence

    def __repr__(self) -> str:
        return f"DataFrame({self._payload!r}, timestamp_ns={self._timestamp_ns}, sequence={self._sequence})"


for _cls in (Frame, AudioFrame, VideoFrame, DataFrame):
    _cls.__module__ = "streamlib"
