"""Graph stage: what the user built (processors, typed ports, connections)."""

from ._config import ProcessorConfig, config_checksum
from ._graph import Connection, Graph, InputPortRef, OutputPortRef, ProcessorNode
from ._handle import ProcessorHandle
from ._ports import Direction, Input, Output, Port, PortSpec
from ._processor import Processor, ProcessorStatus

__all__ = [
    "Connection",
    "Direction",
    "Graph",
    "Input",
    "InputPortRef",
    "Output",
    "OutputPortRef",
    "Port",
    "PortSpec",
    "Processor",
    "ProcessorConfig",
    "ProcessorHandle",
    "ProcessorNode",
    "ProcessorStatus",
    "config_checksum",
]
