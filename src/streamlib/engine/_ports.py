"""Bound ports: the objects behind ``self.audio_in`` / ``self.audio_out`` while a
processor runs. They read from and write to endpoints the engine owns, so a fused
hand-off and a ring buffer can be swapped under a processor without it noticing.

The hot path is specialized by class (the engine picks it when it wires a port):
an input fed by a fused link pops the link's deque directly; an output with one
target calls that target's push (a C-level ``deque.append`` for a fused link).

streamlib's own processors go one step further on fused links (``trusted``): their
``self.audio_in.read`` *is* the link's ``deque.popleft`` and their
``self.audio_out.write`` the link's ``deque.append`` (C calls, no Python frame per
hop), through a small stand-in the processor sees instead of the port. Their class
vouches for what that skips: each ``process()`` call reads its one input exactly once
(it is only called with a frame waiting), writes only frames of the port's type, and
returns None. The port itself stays the engine's: its ``count`` is then derived (from
the processor's calls, or from the link), so stats read the same numbers.
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


_IN_COUNT: Any = InputPort.__dict__["count"]
"""The stored count of an input port (the slot, under the derived ``count`` below)."""


class _CallCountedInputPort(InputPort):
    """A trusted processor's input fed by a fused link: the processor reads through a
    ``_Reader`` (the link's popleft), one frame per call, so the frames read are its
    calls since binding plus what was counted before."""

    __slots__ = ()

    @property
    def count(self) -> int:  # type: ignore[override]
        return int(_IN_COUNT.__get__(self)) + self._slot.calls

    def read(self) -> Any:  # (the stand-in's read; its call counts it)
        items = self._items
        return items.popleft() if items else None


class _Reader:
    """What a trusted processor's ``self.<input>`` is while its input is a fused link."""

    __slots__ = ("read",)

    def __init__(self, read: Any) -> None:
        self.read = read


class _Writer:
    """What a trusted processor's ``self.<output>`` is while it feeds one fused link."""

    __slots__ = ("write",)

    def __init__(self, write: Any) -> None:
        self.write = write


def trusted(processor: object) -> bool:
    """Whether ``processor``'s own class (not a parent's: a subclass's code is not
    vouched for) declares ``_trusted_io = True`` (see the module doc)."""
    return type(processor).__dict__.get("_trusted_io") is True


def _expose(port: InputPort | OutputPort, stand_in: object) -> None:
    """What a trusted processor sees as ``self.<port name>``: the port, or a stand-in
    (other processors always see the port, set once by their slot)."""
    vars(port._slot.processor)[port.name] = stand_in


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
    if type(port) is _CallCountedInputPort:
        _IN_COUNT.__set__(port, port.count)  # the count so far, stored again
    port._endpoint = UNCONNECTED if endpoint is None else endpoint
    port._items = endpoint._items if isinstance(endpoint, FusedLink) else ()
    port._latency = latency
    vouched = trusted(port._slot.processor)
    if vouched:
        _expose(port, port)  # (until a stand-in replaces it below)
    if vouched and latency is None and isinstance(endpoint, FusedLink):
        port.__class__ = _CallCountedInputPort
        _IN_COUNT.__set__(port, _IN_COUNT.__get__(port) - port._slot.calls)
        _expose(port, _Reader(endpoint._items.popleft))
    elif latency is not None:
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


_OUT_COUNT: Any = OutputPort.__dict__["count"]


class _LinkCountedOutputPort(OutputPort):
    """A trusted processor's output feeding one fused link: the processor writes through
    a ``_Writer`` (the link's append), so the frames written are the link's since
    binding plus what was counted before."""

    __slots__ = ()

    @property
    def count(self) -> int:  # type: ignore[override]
        return int(_OUT_COUNT.__get__(self)) + int(self._targets[0].written)

    def write(self, frame: Any) -> None:  # (the stand-in's write, checked; the link counts it)
        if frame.__class__ is not self.frame_type and not isinstance(frame, self.frame_type):
            self._mismatch(frame)
        self._push(frame)


def _push_of(target: Any) -> Any:
    if isinstance(target, FusedLink):
        items: deque[Any] = target._items
        return items.append
    return target.push


def bind_outputs(port: OutputPort, targets: tuple[Any, ...]) -> None:
    """Point ``port`` at ``targets`` and pick its write path."""
    if type(port) is _LinkCountedOutputPort:
        _OUT_COUNT.__set__(port, port.count)  # the count so far, stored again
    port._targets = targets
    vouched = trusted(port._slot.processor)
    if vouched:
        _expose(port, port)  # (until a stand-in replaces it below)
    if vouched and len(targets) == 1 and isinstance(targets[0], FusedLink):
        link = targets[0]
        port._push = link._items.append
        port.__class__ = _LinkCountedOutputPort
        _OUT_COUNT.__set__(port, _OUT_COUNT.__get__(port) - link.written)
        _expose(port, _Writer(port._push))
    elif len(targets) == 1:
        port._push = _push_of(targets[0])
        port.__class__ = _SingleOutputPort
    else:
        port._push = None
        port.__class__ = OutputPort
