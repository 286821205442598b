"""ProcessorHandle: the user's reference to a processor in a runtime."""

from __future__ import annotations

from .._errors import PortNotFoundError, PortTypeMismatchError
from .._frames import Frame
from ._graph import InputPortRef, OutputPortRef, ProcessorNode
from ._ports import PortSpec

__all__ = ["ProcessorHandle"]


class ProcessorHandle:
    """Returned by ``add_processor``; names a processor and its ports.

    Attributes:
        id: ``"processor_0"``, ``"processor_1"``, ... in creation order, never reused.
        processor_type: the class name, e.g. ``"AudioResamplerProcessor"``.
        config_checksum: 64-bit checksum of the type and config, stable across
            processes and machines.
    """

    __slots__ = ("_node", "_graph")

    def __init__(self, node: ProcessorNode, graph: object = None) -> None:
        self._node = node
        self._graph = graph

    @property
    def id(self) -> str:
        return self._node.id

    @property
    def processor_type(self) -> str:
        return self._node.type_name

    @property
    def config_checksum(self) -> int:
        return self._node.config_checksum

    def output_port(self, name: str, frame_type: type[Frame] | None = None) -> OutputPortRef:
        """A reference to the output port ``name``, for ``connect()``.

        Raises:
            PortNotFoundError: the processor declares no output of that name.
            PortTypeMismatchError: ``frame_type`` is given and is not the port's type.
        """
        spec = self._node.output_spec(name)
        if spec is None:
            raise PortNotFoundError(self._missing(name, "output", self._node.outputs, self._node.inputs))
        self._check_type(spec, frame_type)
        return OutputPortRef(self._node.id, name, spec.frame_type, self._graph)

    def input_port(self, name: str, frame_type: type[Frame] | None = None) -> InputPortRef:
        """A reference to the input port ``name``, for ``connect()``.

        Raises:
            PortNotFoundError: the processor declares no input of that name.
            PortTypeMismatchError: ``frame_type`` is given and is not the port's type.
        """
        spec = self._node.input_spec(name)
        if spec is None:
            raise PortNotFoundError(self._missing(name, "input", self._node.inputs, self._node.outputs))
        self._check_type(spec, frame_type)
        return InputPortRef(self._node.id, name, spec.frame_type, self._graph)

    def _missing(
        self, name: str, direction: str, same: tuple[PortSpec, ...], other: tuple[PortSpec, ...]
    ) -> str:
        node = self._node
        names = ", ".join(repr(s.name) for s in same) or "none"
        hint = ""
        if any(s.name == name for s in other):
            opposite = "input" if direction == "output" else "output"
            hint = f" ({name!r} is an {opposite} port)"
        return (
            f"{node.type_name} ({node.id}) has no {direction} port {name!r}{hint}; "
            f"its {direction} ports: {names}"
        )

    def _check_type(self, spec: PortSpec, frame_type: type[Frame] | None) -> None:
        if frame_type is not None and frame_type is not spec.frame_type:
            got = getattr(frame_type, "__name__", repr(frame_type))
            raise PortTypeMismatchError(f"{self._node.id}.{spec.name} carries {spec.type_name}, not {got}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ProcessorHandle)
            and other._node.id == self._node.id
            and other._graph is self._graph
        )

    def __hash__(self) -> int:
        return hash(self._node.id)

    def __repr__(self) -> str:
        return f"ProcessorHandle({self._node.id}, {self._node.type_name})"


ProcessorHandle.__module__ = "streamlib"
