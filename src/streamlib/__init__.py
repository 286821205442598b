"""streamlib: real-time audio and video processing graphs whose runtime optimizes itself.

Add processors, connect their typed ports, start: the runtime decides which
processors share a thread (fusion), which threads get real-time priority and how
large each queue is, with zero configuration.
"""

import logging

from ._errors import (
    ConfigError,
    GraphCycleError,
    InvalidConnectionError,
    PortNotFoundError,
    PortTypeMismatchError,
    ProcessorError,
    ProcessorNotFoundError,
    RuntimeStateError,
    StreamError,
)
from ._frames import AudioFrame, DataFrame, Frame, VideoFrame
from .graph import Input, Output, Processor, ProcessorConfig, ProcessorHandle, ProcessorStatus
from .plan import ConnectionType, GraphPlan, ThreadingStrategy, ThreadPriority
from .runtime import StreamRuntime

__all__ = [
    "AudioFrame",
    "ConfigError",
    "ConnectionType",
    "DataFrame",
    "Frame",
    "GraphCycleError",
    "GraphPlan",
    "Input",
    "InvalidConnectionError",
    "Output",
    "PortNotFoundError",
    "PortTypeMismatchError",
    "Processor",
    "ProcessorConfig",
    "ProcessorError",
    "ProcessorHandle",
    "ProcessorNotFoundError",
    "ProcessorStatus",
    "RuntimeStateError",
    "StreamError",
    "StreamRuntime",
    "ThreadPriority",
    "ThreadingStrategy",
    "VideoFrame",
]

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
