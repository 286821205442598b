"""Bound ports: the objects behind ``self.audio_in`` / ``self.audio_out`` while a
processor runs. They read from and write to endpoints the engine owns, so a fused
hand-off and a ring buffer can be swapped under a processor without it noticing.

The hot path is specialized by class (the engine picks it when it wires a port):
an input fed by a fused link pops the link's deque directly; an output with one
target calls that target's push (a C-level ``deque.append`` for a fused link).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from .._errors import PortTypeMismatchError
from .._frames import Frame
from ._ring import FusedLink

if TYPE_CHECKING:
    from ._latency import LatencyRecorder
    from ._slot import ProcessorSlot

__all__ = ["InputPort", "OutputPort", "bind_input", "bind_outputs"]


class _Unconnected:
    """The endpoint of an unconnected input: always empty, never ended."""

    __slots__ = ()
    _items: tuple[()] = ()

    def pop(self) -> None:
        return None

    def at_eos(self) -> bool:
        return False

    def has_frame(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0


UNCONNECTED = _Unconnected()


class InputPort:
    """A bound input port. ``read()`` returns the next frame or None, never blocks.

    Synchronization: one consumer thread reads (the group's runner, or a device
    callback thread for a device-driven sink); a ring endpoint locks itself.
    """

    __slots__ = ("name", "frame_type", "_endpoint", "_items", "_slot", "_latency", "count")

    def __init__(self, name: str, frame_type: type[Frame], slot: ProcessorSlot) -> None:
        self.name = name
        self.frame_type = frame_type
        self._endpoint: Any = UNCONNECTED
        self._items: Any = ()
        self._slot = slot
        self._latency: LatencyRecorder | None = None
        self.count = 0
        """Frames read through this port."""

    def read(self) -> Any:
        frame = self._endpoint.pop()
        if frame is not None:
            self.count += 1
        return frame

    @property
    def connected(self) -> bool:
        return self._endpoint is not UNCONNECTED

    @property
    def ended(self) -> bool:
        """End of stream arrived and every frame before it was read."""
        return bool(self._endpoint.at_eos())

    def has_frame(self) -> bool:
        return bool(self._endpoint.has_frame())

    def __len__(self) -> int:
        return len(self._endpoint)

    def __repr__(self) -> str:
        return f"<InputPort {self._slot.processor_id}.{self.name} ({self.frame_type.__name__})>"


class _FusedInputPort(InputPort):
    """Fed by a fused link: pops the link's deque (one thread, no lock)."""

    __slots__ = ()

    def read(self) -> Any:
        items = self._items
        if items:
            self.count += 1
            return items.popleft()
        return None


class _LatencyInputPort(InputPort):
    """A sink's input in a live component: records each frame's end-to-end latency."""

    __slots__ = ()

    def read(self) -> Any:
        frame = self._endpoint.pop()
        if frame is not None:
            self.count += 1
            latency = self._latency
            if latency is not None:
                latency.record(frame)
        return frame


class _FusedLatencyInputPort(InputPort):
    """A sink's input fed by a fused link, in a live component (both of the above)."""

    __slots__ = ()

    def read(self) -> Any:
        items = self._items
        if items:
            self.count += 1
            frame = items.popleft()
            self._latency.record(frame)  # type: ignore[union-attr]
            return frame
        return None


def bind_input(port: InputPort, endpoint: Any, latency: LatencyRecorder | None = None) -> None:
    """Point ``port`` at ``endpoint`` (None: unconnected) and pick its read path."""
    port._endpoint = UNCONNECTED if endpoint is None else endpoint
    port._items = endpoint._items if isinstance(endpoint, FusedLink) else ()
    port._latency = latency
    if latency is not None:
        port.__class__ = _FusedLatencyInputPort if isinstance(endpoint, FusedLink) else _LatencyInputPort
    elif isinstance(endpoint, FusedLink):
        port.__class__ = _FusedInputPort
    else:
        port.__class__ = InputPort


class OutputPort:
    """A bound output port. ``write(frame)`` hands the frame, by reference, to every
    connected input. In a live component it never blocks (a full queue drops its
    oldest frame, counted); otherwise it waits for room.

    Synchronization: written from the one thread running the processor; its targets
    are replaced only while that thread is parked (a re-plan)."""

    __slots__ = ("name", "frame_type", "_targets", "_push", "_slot", "count", "burst")

    def __init__(self, name: str, frame_type: type[Frame], slot: ProcessorSlot) -> None:
        self.name = name
        self.frame_type = frame_type
        self._targets: tuple[Any, ...] = ()
        self._push: Any = None
        self._slot = slot
        self.count = 0
        """Frames written to this port (once per write, also on fan-out)."""
        self.burst = 0
        """The most frames written to it in one pass of its thread group (measured in
        the timed passes of live groups, for ports that feed a queue)."""

    def write(self, frame: Any) -> None:
        frame_type = self.frame_type
        if frame.__class__ is not frame_type and not isinstance(frame, frame_type):
            self._mismatch(frame)
        self.count += 1
        for target in self._targets:
            target.push(frame)

    def _mismatch(self, frame: Any) -> None:
        raise PortTypeMismatchError(
            f"{self._slot.processor_id}.{self.name} carries {self.frame_type.__name__}, "
            f"got a {type(frame).__name__}"
        )

    @property
    def connected(self) -> bool:
        return bool(self._targets)

    def __repr__(self) -> str:
        return f"<OutputPort {self._slot.processor_id}.{self.name} ({self.frame_type.__name__})>"


class _SingleOutputPort(OutputPort):
    """Exactly one target: call its push directly."""

    __slots__ = ()

    def write(self, frame: Any) -> None:
        if frame.__class__ is not self.frame_type and not isinstance(frame, self.frame_type):
            self._mismatch(frame)
        self.count += 1
        self._push(frame)


def _push_of(target: Any) -> Any:
    if isinstance(target, FusedLink):
        items: deque[Any] = target._items
        return items.append
    return target.push


def bind_outputs(port: OutputPort, targets: tuple[Any, ...]) -> None:
    """Point ``port`` at ``targets`` and pick its write path."""
    port._targets = targets
    if len(targets) == 1:
        port._push = _push_of(targets[0])
        port.__class__ = _SingleOutputPort
    else:
        port._push = None
        port.__class__ = OutputPort
