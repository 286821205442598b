"""The exception tree of streamlib.

Every error the library raises on purpose derives from :class:`StreamError`::

    StreamError
    ├── ConfigError              (also ValueError) a config field is unknown or invalid
    ├── PortNotFoundError        (also LookupError) a processor declares no such port
    ├── PortTypeMismatchError    (also TypeError) frame types of two ports, or of a
    │                            written frame and its port, differ
    ├── InvalidConnectionError   (also ValueError) input already connected, output and
    │   │                        input swapped, self-loop
    │   └── GraphCycleError      the connection would close a cycle
    ├── ProcessorNotFoundError   (also LookupError) a stale handle, port or connection id
    ├── RuntimeStateError        (also RuntimeError) an operation the runtime's lifecycle
    │                            state does not allow (start twice, edit after stop,
    │                            edit from inside ``process()``)
    └── ProcessorError           a processor's own code failed (``setup``, ``process``,
                                 ``on_end_of_stream``, ``on_shutdown``), or a processor
                                 did not stop in time; the original exception is
                                 ``__cause__``

Graph-building errors are raised synchronously by the call that caused them and leave
the graph unchanged. ``ProcessorError`` is raised where the failure happened on the
caller's thread (``start()``), and otherwise recorded in ``StreamRuntime.errors`` and
raised by ``StreamRuntime.run()``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GraphCycleError",
    "InvalidConnectionError",
    "PortNotFoundError",
    "PortTypeMismatchError",
    "ProcessorError",
    "ProcessorNotFoundError",
    "RuntimeStateError",
    "StreamError",
]


class StreamError(Exception):
    """Base class of every error streamlib raises on purpose."""


class ConfigError(StreamError, ValueError):
    """A processor config is invalid: an unknown field, a value of the wrong type or
    out of range, both a config object and keyword fields, or a value that cannot be
    encoded stably for the config checksum. The message names the field."""


class PortNotFoundError(StreamError, LookupError):
    """A processor declares no port of that name in that direction."""


class PortTypeMismatchError(StreamError, TypeError):
    """The frame types of two ports differ (at ``connect``), a port is asked for with
    a frame type other than its declared one, or a frame of the wrong type is written
    to a port (inside ``process()``, reported as the ``__cause__`` of a
    :class:`ProcessorError`)."""


class InvalidConnectionError(StreamError, ValueError):
    """A connection the graph cannot hold: the input is already connected, the output
    and input were passed the wrong way round, or a processor is connected to itself."""


class GraphCycleError(InvalidConnectionError):
    """The connection would close a cycle; the message names the processors on it."""


class ProcessorNotFoundError(StreamError, LookupError):
    """A handle, port reference or connection id refers to something no longer (or
    never) in the graph."""


class RuntimeStateError(StreamError, RuntimeError):
    """The runtime's lifecycle state does not allow the operation."""


class ProcessorError(StreamError):
    """A processor failed, or did not stop in time.

    Attributes:
        processor_id: the id of the processor that failed (``"processor_3"``).
        processor_type: its class name.
    """

    def __init__(self, processor_id: str, processor_type: str, message: str) -> None:
        super().__init__(f"{processor_id} ({processor_type}): {message}")
        self.processor_id = processor_id
        self.processor_type = processor_type

    def __reduce__(self) -> tuple[object, ...]:
        text = str(self)
        prefix = f"{self.processor_id} ({self.processor_type}): "
        return (type(self), (self.processor_id, self.processor_type, text.removeprefix(prefix)))


for _cls in (
    StreamError,
    ConfigError,
    PortNotFoundError,
    PortTypeMismatchError,
    InvalidConnectionError,
    GraphCycleError,
    ProcessorNotFoundError,
    RuntimeStateError,
    ProcessorError,
):
    _cls.__module__ = "streamlib"
