"""Bound ports: the objects behind ``self.audio_in`` / ``self.audio_out`` while a
processor runs. They read from and write to endpoints the engine owns, so a fused
hand-off and a ring buffer can be swapped under a processor without it noticing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import PortTypeMismatchError
from .._frames import Frame

if TYPE_CHECKING:
    from ._latency import LatencyRecorder
    from ._slot import ProcessorSlot

__all__ = ["InputPort", "OutputPort"]


class InputPort:
    """A bound input port. ``read()`` returns the next frame or None, never blocks.

    Synchronization: one consumer thread reads (the group's runner, or a device
    callback thread for a device-driven sink); the endpoint locks itself.
    """

    __slots__ = ("name", "frame_type", "_endpoint", "_slot", "_latency")

    def __init__(self, name: str, frame_type: type[Frame], slot: ProcessorSlot) -> None:
        self.name = name
        self.frame_type = frame_type
        self._endpoint: Any = None
        self._slot = slot
        self._latency: LatencyRecorder | None = None

    def read(self) -> Any:
        endpoint = self._endpoint
        if endpoint is None:
            return None
        frame = endpoint.pop()
        if frame is not None:
            self._slot.frames_in += 1
            latency = self._latency
            if latency is not None:
                latency.record(frame)
        return frame

    @property
    def connected(self) -> bool:
        return self._endpoint is not None

    @property
    def ended(self) -> bool:
        """End of stream arrived and every frame before it was read."""
        endpoint = self._endpoint
        return endpoint is not None and endpoint.at_eos()

    def has_frame(self) -> bool:
        endpoint = self._endpoint
        return endpoint is not None and endpoint.has_frame()

    def __len__(self) -> int:
        endpoint = self._endpoint
        return 0 if endpoint is None else len(endpoint)

    def __repr__(self) -> str:
        return f"<InputPort {self._slot.processor_id}.{self.name} ({self.frame_type.__name__})>"


class OutputPort:
    """A bound output port. ``write(frame)`` hands the frame, by reference, to every
    connected input. In a live component it never blocks (a full queue drops its
    oldest frame, counted); otherwise it waits for room."""

    __slots__ = ("name", "frame_type", "_targets", "_slot")

    def __init__(self, name: str, frame_type: type[Frame], slot: ProcessorSlot) -> None:
        self.name = name
        self.frame_type = frame_type
        self._targets: tuple[Any, ...] = ()
        self._slot = slot

    def write(self, frame: Any) -> None:
        frame_type = self.frame_type
        if frame.__class__ is not frame_type and not isinstance(frame, frame_type):
            raise PortTypeMismatchError(
                f"{self._slot.processor_id}.{self.name} carries {frame_type.__name__}, "
                f"got a {type(frame).__name__}"
            )
        self._slot.frames_out += 1
        for target in self._targets:
            target.push(frame)

    @property
    def connected(self) -> bool:
        return bool(self._targets)

    def __repr__(self) -> str:
        return f"<OutputPort {self._slot.processor_id}.{self.name} ({self.frame_type.__name__})>"
