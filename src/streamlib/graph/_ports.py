"""Port descriptors: how a processor declares its typed inputs and outputs.

``Input(AudioFrame)`` and ``Output(AudioFrame)`` are class attributes; the attribute
name is the port's name. While the processor runs, the engine binds a live port
object under the same name on the instance, so ``self.audio_in.read()`` inside
``process()`` reads the connected endpoint with a plain attribute lookup.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from .._errors import RuntimeStateError
from .._frames import Frame

__all__ = ["Direction", "Input", "Output", "Port", "PortSpec"]

F = TypeVar("F", bound=Frame)


class Direction(enum.Enum):
    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A declared port: name, direction and frame type (graph data, no behaviour)."""

    name: str
    direction: Direction
    frame_type: type[Frame]

    @property
    def type_name(self) -> str:
        return self.frame_type.__name__


class Port(Generic[F]):
    """Base of the :class:`Input` and :class:`Output` descriptors."""

    direction: Direction

    def __init__(self, frame_type: type[F]) -> None:
        if not (isinstance(frame_type, type) and issubclass(frame_type, Frame)):
            raise TypeError(f"a port's frame type must be a Frame subclass, got {frame_type!r}")
        self.frame_type = frame_type
        self.name: str | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def spec(self, name: str | None = None) -> PortSpec:
        port_name = name or self.name
        if port_name is None:
            raise TypeError("a port declared outside a class body needs a name")
        return PortSpec(port_name, self.direction, self.frame_type)

    @overload
    def __get__(self, instance: None, owner: type) -> Port[F]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Any: ...
    def __get__(self, instance: object | None, owner: type) -> Any:
        # Only reached while the engine has not bound a live port on the instance
        # (bound ports live in the instance __dict__ and shadow this descriptor).
        return self

    # Reached only on an unbound port: say why instead of failing obscurely.
    def read(self) -> Any:
        raise RuntimeStateError(
            f"port {self.name!r} is not bound: read() works inside process() of a running processor"
        )

    def write(self, frame: Any) -> None:
        raise RuntimeStateError(
            f"port {self.name!r} is not bound: write() works inside process() of a running processor"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.frame_type.__name__}, name={self.name!r})"


class Input(Port[F]):
    """An input port descriptor: ``audio_in = Input(AudioFrame)``.

    Bound, it offers ``read() -> frame | None`` (never blocks) and ``ended``.
    """

    direction = Direction.INPUT


class Output(Port[F]):
    """An output port descriptor: ``audio_out = Output(AudioFrame)``.

    Bound, it offers ``write(frame)``: to every connected input, by reference.
    """

    direction = Direction.OUTPUT


for _cls in (Port, Input, Output):
    _cls.__module__ = "streamlib"
