"""Turning ``add_processor(cls, config, **fields)`` into a processor and its node."""

from __future__ import annotations

import dataclasses
from typing import Any

from .._clock import Clock
from .._errors import ConfigError, ProcessorError
from ._config import ProcessorConfig, _encode_str, checksum_of, config_checksum, encode_value
from ._graph import ProcessorNode
from ._ports import Direction, Port, PortSpec
from ._processor import Processor

__all__ = ["build_processor", "make_config"]

# Names a port may not take: they would shadow the processor's own attributes.
_RESERVED = frozenset(name for name in dir(Processor) if not name.startswith("__")) | {
    "config",
    "clock",
    "processor_id",
    "inputs",
    "outputs",
}


def make_config(cls: type[Processor], config: object, fields: dict[str, Any]) -> ProcessorConfig:
    """The config for ``cls``: ``config``, or one built from ``fields``, or defaults."""
    if not (isinstance(cls, type) and issubclass(cls, Processor)):
        raise TypeError(f"add_processor() takes a Processor subclass, got {cls!r}")
    config_cls = cls.Config
    if config is not None and fields:
        raise ConfigError(
            f"{cls.__name__}: give either a {config_cls.__name__} or keyword fields, not both "
            f"(got a config and {', '.join(sorted(fields))})"
        )
    if config is not None:
        if not isinstance(config, config_cls):
            raise ConfigError(f"{cls.__name__} takes a {config_cls.__name__}, got {type(config).__name__}")
        return config
    known = {f.name for f in dataclasses.fields(config_cls) if f.init}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ConfigError(
            f"{config_cls.__name__} has no field {unknown[0]!r}"
            f" (its fields: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        return config_cls(**fields)
    except ConfigError:
        raise
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{config_cls.__name__}: {exc}") from exc


def build_processor(
    processor_id: str, cls: type[Processor], config: ProcessorConfig, clock: Clock
) -> tuple[Processor, ProcessorNode]:
    """Construct the processor (opening nothing) and describe it for the optimizer."""
    if not (isinstance(cls, type) and issubclass(cls, Processor)):
        raise TypeError(f"add_processor() takes a Processor subclass, got {cls!r}")
    type_key = f"{cls.__module__}.{cls.__qualname__}"
    checksum = config_checksum(type_key, config)
    plan_checksum = config_checksum(type_key, config, plan_only=True)

    try:
        processor = object.__new__(cls)
    except TypeError as exc:  # abstract: no process()
        raise TypeError(f"{cls.__name__} cannot be used: {exc}") from exc
    processor.config = config
    processor.clock = clock
    processor.processor_id = processor_id
    try:
        processor.__init__()  # type: ignore[misc]
        ports = processor.ports()
        live = bool(processor.live)
        period = processor.period_ns
        lightweight = bool(cls.lightweight)
    except ConfigError:
        raise
    except Exception as exc:
        raise ProcessorError(
            processor_id, cls.__name__, f"could not be constructed: {type(exc).__name__}: {exc}"
        ) from exc
    # period_ns is only checked for None here: a source may learn its period in
    # setup() (a file's sample rate); the engine validates it when the source starts.

    inputs: list[PortSpec] = []
    outputs: list[PortSpec] = []
    for name, port in ports.items():
        if not isinstance(port, Port):
            raise TypeError(f"{cls.__name__}.ports()[{name!r}] is not an Input or Output: {port!r}")
        if not name.isidentifier() or name in _RESERVED:
            raise TypeError(f"{cls.__name__}: {name!r} cannot be a port name")
        spec = port.spec(name)
        (inputs if spec.direction is Direction.INPUT else outputs).append(spec)

    out = bytearray()
    _encode_str(type_key, out, b"Y")
    encode_value((lightweight, live, period is not None), out, "flags")
    for spec in (*inputs, *outputs):
        _encode_str(f"{spec.direction.value}:{spec.name}:{spec.type_name}", out, b"O")
    out += plan_checksum.to_bytes(8, "big")
    node = ProcessorNode(
        id=processor_id,
        type_name=cls.__name__,
        type_key=type_key,
        lightweight=lightweight,
        live=live,
        clock_driven=period is not None,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        config_checksum=checksum,
        structure_checksum=checksum_of(bytes(out)),
    )
    return processor, node
