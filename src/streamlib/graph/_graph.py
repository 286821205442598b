"""The graph: what the user built. Pure data, no threads.

Every edit validates first and mutates only when every check passed, so a failed
call leaves the graph exactly as it was. The graph is not thread-safe by itself;
the runtime serializes edits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .._errors import (
    GraphCycleError,
    InvalidConnectionError,
    PortNotFoundError,
    PortTypeMismatchError,
    ProcessorNotFoundError,
)
from .._frames import Frame
from ._ports import PortSpec

__all__ = ["Connection", "Graph", "InputPortRef", "OutputPortRef", "ProcessorNode"]


@dataclass(frozen=True, slots=True)
class ProcessorNode:
    """What the optimizer may know about a processor: identity, declared flags and
    ports, and checksums. Never the processor object itself."""

    id: str
    type_name: str
    type_key: str
    """Module-qualified class name, used in structural checksums."""
    lightweight: bool
    live: bool
    clock_driven: bool
    inputs: tuple[PortSpec, ...]
    outputs: tuple[PortSpec, ...]
    config_checksum: int
    """Checksum over the type and the whole config."""
    structure_checksum: int
    """Checksum over what the optimizer reads: type, flags, ports, plan-relevant config."""

    @property
    def index(self) -> int:
        return int(self.id.rsplit("_", 1)[1])

    def input_spec(self, name: str) -> PortSpec | None:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        return None

    def output_spec(self, name: str) -> PortSpec | None:
        for spec in self.outputs:
            if spec.name == name:
                return spec
        return None


@dataclass(frozen=True, slots=True)
class OutputPortRef:
    """A reference to an output port, from ``handle.output_port(name)``."""

    processor_id: str
    port: str
    frame_type: type[Frame]
    graph: object = field(default=None, compare=False, repr=False)
    """The graph the port's processor belongs to (refs are not valid across runtimes)."""

    def __str__(self) -> str:
        return f"{self.processor_id}.{self.port}"


@dataclass(frozen=True, slots=True)
class InputPortRef:
    """A reference to an input port, from ``handle.input_port(name)``."""

    processor_id: str
    port: str
    frame_type: type[Frame]
    graph: object = field(default=None, compare=False, repr=False)
    """The graph the port's processor belongs to (refs are not valid across runtimes)."""

    def __str__(self) -> str:
        return f"{self.processor_id}.{self.port}"


@dataclass(frozen=True, slots=True)
class Connection:
    """One edge: an output port feeding an input port."""

    id: int
    source: str
    source_port: str
    sink: str
    sink_port: str
    frame_type: type[Frame]

    @property
    def source_ref(self) -> str:
        return f"{self.source}.{self.source_port}"

    @property
    def sink_ref(self) -> str:
        return f"{self.sink}.{self.sink_port}"

    def __str__(self) -> str:
        return f"{self.source_ref} -> {self.sink_ref}"


def _order(pid: str) -> int:
    return int(pid.rsplit("_", 1)[1])


class Graph:
    """Processors and connections, with the checks of API.md on every edit."""

    def __init__(self) -> None:
        self._nodes: dict[str, ProcessorNode] = {}
        self._connections: dict[int, Connection] = {}
        self._out: dict[str, dict[int, Connection]] = {}
        self._in: dict[str, dict[int, Connection]] = {}
        self._input_taken: dict[tuple[str, str], int] = {}
        self._next_connection_id = 0
        self.token = object()
        """Identity of this graph: handles and port references carry it."""

    # --- queries ----------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, ProcessorNode]:
        return MappingProxyType(self._nodes)

    @property
    def connections(self) -> Mapping[int, Connection]:
        return MappingProxyType(self._connections)

    def node(self, processor_id: str) -> ProcessorNode:
        node = self._nodes.get(processor_id)
        if node is None:
            raise ProcessorNotFoundError(f"no processor {processor_id!r} in the graph (removed?)")
        return node

    def in_connections(self, processor_id: str) -> Mapping[int, Connection]:
        return MappingProxyType(self._in[processor_id])

    def out_connections(self, processor_id: str) -> Mapping[int, Connection]:
        return MappingProxyType(self._out[processor_id])

    def __contains__(self, processor_id: object) -> bool:
        return processor_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[ProcessorNode]:
        return iter(self._nodes.values())

    # --- edits ------------------------------------------------------------------------

    def add(self, node: ProcessorNode) -> None:
        if node.id in self._nodes:
            raise ValueError(f"processor id {node.id} already in the graph")  # internal invariant
        self._nodes[node.id] = node
        self._out[node.id] = {}
        self._in[node.id] = {}

    def check_connect(self, output_ref: object, input_ref: object) -> Connection:
        """Validate a connection and return it (with the id it would get), changing
        nothing."""
        if isinstance(output_ref, InputPortRef) and isinstance(input_ref, OutputPortRef):
            raise InvalidConnectionError(
                f"cannot connect input {output_ref} to output {input_ref}: the output and "
                f"input are swapped; call connect({input_ref} output, {output_ref} input)"
            )
        if not isinstance(output_ref, OutputPortRef):
            raise InvalidConnectionError(
                f"connect() takes an output port reference first (handle.output_port(name)), "
                f"got {output_ref!r}"
            )
        if not isinstance(input_ref, InputPortRef):
            raise InvalidConnectionError(
                f"connect() takes an input port reference second (handle.input_port(name)), got {input_ref!r}"
            )
        for ref in (output_ref, input_ref):
            if ref.graph is not self.token:
                raise ProcessorNotFoundError(f"cannot connect {ref}: it belongs to another runtime's graph")
        source = self._nodes.get(output_ref.processor_id)
        if source is None:
            raise ProcessorNotFoundError(
                f"cannot connect {output_ref}: processor {output_ref.processor_id} is not in "
                "the graph (removed?)"
            )
        sink = self._nodes.get(input_ref.processor_id)
        if sink is None:
            raise ProcessorNotFoundError(
                f"cannot connect to {input_ref}: processor {input_ref.processor_id} is not in "
                "the graph (removed?)"
            )
        out_spec = source.output_spec(output_ref.port)
        if out_spec is None:
            raise PortNotFoundError(
                f"{source.type_name} ({source.id}) has no output port {output_ref.port!r}"
            )
        in_spec = sink.input_spec(input_ref.port)
        if in_spec is None:
            raise PortNotFoundError(f"{sink.type_name} ({sink.id}) has no input port {input_ref.port!r}")
        if source.id == sink.id:
            raise InvalidConnectionError(
                f"cannot connect {output_ref} to {input_ref}: a processor cannot feed itself"
            )
        if out_spec.frame_type is not in_spec.frame_type:
            raise PortTypeMismatchError(
                f"cannot connect {output_ref} ({out_spec.type_name}) to {input_ref} ({in_spec.type_name})"
            )
        taken = self._input_taken.get((sink.id, in_spec.name))
        if taken is not None:
            raise InvalidConnectionError(
                f"cannot connect {output_ref} to {input_ref}: the input is already connected "
                f"({self._connections[taken]}, connection {taken})"
            )
        path = self._path(sink.id, source.id)
        if path is not None:
            cycle = " -> ".join([*path, sink.id])
            raise GraphCycleError(
                f"cannot connect {output_ref} to {input_ref}: it would close the cycle {cycle}"
            )
        return Connection(
            self._next_connection_id,
            source.id,
            out_spec.name,
            sink.id,
            in_spec.name,
            out_spec.frame_type,
        )

    def connect(self, output_ref: object, input_ref: object) -> Connection:
        connection = self.check_connect(output_ref, input_ref)
        self._next_connection_id += 1
        self._insert(connection)
        return connection

    def _insert(self, connection: Connection) -> None:
        self._connections[connection.id] = connection
        self._out[connection.source][connection.id] = connection
        self._in[connection.sink][connection.id] = connection
        self._input_taken[(connection.sink, connection.sink_port)] = connection.id

    def restore(self, connection: Connection) -> None:
        """Put back a connection removed by an edit that is being rolled back."""
        self._insert(connection)

    def unconnect(self, connection_id: int) -> None:
        """Undo the latest ``connect()`` as if it never happened (its id is given out
        again): an edit that could not be put in force is rolled back."""
        assert connection_id == self._next_connection_id - 1
        self.disconnect(connection_id)
        self._next_connection_id -= 1

    def disconnect(self, connection_id: int) -> Connection:
        connection = self._connections.get(connection_id) if type(connection_id) is int else None
        if connection is None:
            raise ProcessorNotFoundError(f"no connection {connection_id!r} in the graph")
        del self._connections[connection_id]
        del self._out[connection.source][connection_id]
        del self._in[connection.sink][connection_id]
        del self._input_taken[(connection.sink, connection.sink_port)]
        return connection

    def remove(self, processor_id: str) -> tuple[ProcessorNode, list[Connection]]:
        node = self.node(processor_id)
        removed = [
            self.disconnect(cid) for cid in sorted({*self._in[processor_id], *self._out[processor_id]})
        ]
        del self._nodes[processor_id]
        del self._in[processor_id]
        del self._out[processor_id]
        return node, removed

    # --- helpers ----------------------------------------------------------------------

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path of processors from ``start`` to ``goal`` along connections, if any."""
        if start == goal:
            return [start]
        parent: dict[str, str] = {}
        stack = [start]
        seen = {start}
        while stack:
            current = stack.pop()
            for connection in self._out[current].values():
                nxt = connection.sink
                if nxt in seen:
                    continue
                parent[nxt] = current
                if nxt == goal:
                    path = [goal]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                seen.add(nxt)
                stack.append(nxt)
        return None

    def sorted_ids(self) -> list[str]:
        return sorted(self._nodes, key=_order)
