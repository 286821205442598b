"""Processor configs: frozen dataclasses, validated when built, with a stable checksum.

A config's fields are checked against their annotations when the config is built
(``int``, ``float``, ``bool``, ``str``, ``Path``, enums, ``X | None``, tuples,
``Literal``); a processor adds value checks in ``validate()``. Every failure is a
:class:`~streamlib.ConfigError` naming the field.

The config checksum is a 64-bit integer over the processor type and a canonical
encoding of the config. It never uses Python's ``hash()``, so it is the same across
processes, machines and ``PYTHONHASHSEED`` values. A field whose value cannot be
encoded stably is a ``ConfigError`` when the processor is added.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import math
import struct
import sys
import types
import typing
from pathlib import PurePath
from typing import Any

from .._errors import ConfigError

__all__ = ["ProcessorConfig", "config_checksum", "encode_value", "plan_fields"]


@dataclasses.dataclass(frozen=True)
class ProcessorConfig:
    """Base class of processor configs: an empty frozen dataclass.

    Subclass it with ``@dataclass(frozen=True)``; fields need annotations and defaults
    where the processor has sensible ones. Override :meth:`validate` for value checks
    (raise :class:`~streamlib.ConfigError` via :meth:`invalid`). A field that cannot
    change a plan (a path, a device id, a window title) is marked
    ``field(metadata={"plan": False})``.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class GainConfig(ProcessorConfig):
        ...     gain: float = 1.0
        ...     def validate(self) -> None:
        ...         if not self.gain >= 0:
        ...             raise self.invalid("gain", "must be >= 0")
        >>> GainConfig(gain=2).gain
        2.0
    """

    def __post_init__(self) -> None:
        _check_fields(self)
        self.validate()

    def validate(self) -> None:
        """Check values; raise ``self.invalid(field, why)`` on a bad one."""

    def invalid(self, field: str, why: str) -> ConfigError:
        """A ConfigError naming ``<ConfigClass>.<field>``, the value and the reason."""
        value = getattr(self, field, None)
        return ConfigError(f"{type(self).__name__}.{field} = {value!r}: {why}")


ProcessorConfig.__module__ = "streamlib"


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field annotations of a config class (cached per class).

    An annotation that cannot be resolved is the config author's bug: it is raised
    (as TypeError) instead of silently turning every check off."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = {}
        for field in dataclasses.fields(cls):
            annotation = field.type
            while isinstance(annotation, str):  # a quoted annotation under postponed evaluation
                namespace = vars(sys.modules[field_owner(cls, field.name).__module__])
                try:  # annotations are code: evaluate them as get_type_hints() does
                    annotation = eval(annotation, dict(namespace))
                except Exception as exc:
                    raise TypeError(
                        f"{cls.__name__}.{field.name}: cannot resolve its annotation {field.type!r}: {exc}"
                    ) from exc
            hints[field.name] = annotation
        _HINTS[cls] = hints
    return hints


def field_owner(cls: type, name: str) -> type:
    """The class in ``cls``'s MRO whose body declares field ``name``."""
    for klass in cls.__mro__:
        if name in vars(klass).get("__annotations__", {}):
            return klass
    return cls


class _Mismatch(Exception):
    pass


def _check_fields(config: ProcessorConfig) -> None:
    cls = type(config)
    hints = _hints(cls)
    for field in dataclasses.fields(config):
        annotation = hints.get(field.name)
        if annotation is None:
            continue
        value = getattr(config, field.name)
        try:
            coerced = _coerce(value, annotation)
        except _Mismatch:
            raise ConfigError(
                f"{cls.__name__}.{field.name} = {value!r}: expected {_describe(annotation)}, "
                f"got {type(value).__name__}"
            ) from None
        if coerced is not value:
            object.__setattr__(config, field.name, coerced)


def _describe(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _coerce(value: Any, annotation: Any) -> Any:
    """Return ``value`` (or a canonical equivalent) if it fits ``annotation``."""
    if annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        for option in typing.get_args(annotation):
            try:
                return _coerce(value, option)
            except _Mismatch:
                continue
        raise _Mismatch
    if origin is typing.Literal:
        if value in typing.get_args(annotation):
            return value
        raise _Mismatch
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            raise _Mismatch
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            items = tuple(_coerce(v, args[0]) for v in value)
        else:
            if len(args) != len(value):
                raise _Mismatch
            items = tuple(_coerce(v, a) for v, a in zip(value, args, strict=True))
        return items
    if annotation is type(None):
        if value is None:
            return value
        raise _Mismatch
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if annotation is float:
        if isinstance(value, float):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch
    if annotation is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if isinstance(value, annotation):
            return value
        if isinstance(value, str) and value in annotation.__members__:
            return annotation[value]
        raise _Mismatch
    if isinstance(annotation, type) and issubclass(annotation, PurePath):
        if isinstance(value, annotation):
            return value
        if isinstance(value, (str, PurePath)):
            return annotation(value)
        raise _Mismatch
    if isinstance(annotation, type):
        if isinstance(value, annotation):
            return value
        raise _Mismatch
    return value  # an annotation we do not check (generics, protocols)


def plan_fields(config: ProcessorConfig) -> tuple[dataclasses.Field[Any], ...]:
    """The fields that can change a plan (those not marked ``metadata={"plan": False}``)."""
    return tuple(f for f in dataclasses.fields(config) if f.metadata.get("plan", True))


# --- canonical encoding -------------------------------------------------------------

_NAN = struct.pack(">d", math.nan)


def encode_value(value: Any, out: bytearray, where: str) -> None:
    """Append a canonical, type-tagged encoding of ``value`` to ``out``.

    Equal values encode equally (``0.0 == -0.0``, so both encode as ``0.0``; every NaN
    encodes as one canonical NaN); values of different types never collide. ``where``
    names the field for the error raised on a value that cannot be encoded stably.
    """
    if value is None:
        out += b"N"
    elif value is True or value is False:
        out += b"T" if value else b"F"
    elif isinstance(value, enum.Enum):
        enum_cls = type(value)
        _encode_str(f"{enum_cls.__module__}.{enum_cls.__qualname__}.{value.name}", out, b"E")
    elif isinstance(value, int):
        text = str(int(value)).encode()
        out += b"I" + len(text).to_bytes(4, "big") + text
    elif isinstance(value, float):
        if math.isnan(value):
            out += b"D" + _NAN
        else:
            out += b"D" + struct.pack(">d", value + 0.0)  # -0.0 + 0.0 == 0.0
    elif isinstance(value, str):
        _encode_str(value, out, b"S")
    elif isinstance(value, bytes):
        out += b"B" + len(value).to_bytes(4, "big") + value
    elif isinstance(value, PurePath):
        _encode_str(value.as_posix(), out, b"P")
    elif isinstance(value, (tuple, list)):
        out += b"L" + len(value).to_bytes(4, "big")
        for i, item in enumerate(value):
            encode_value(item, out, f"{where}[{i}]")
    elif isinstance(value, frozenset):
        encoded: list[bytes] = []
        for item in value:
            buffer = bytearray()
            encode_value(item, buffer, f"{where}{{...}}")
            encoded.append(bytes(buffer))
        out += b"U" + len(encoded).to_bytes(4, "big")
        for chunk in sorted(encoded):
            out += chunk
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        klass = type(value)
        _encode_str(f"{klass.__module__}.{klass.__qualname__}", out, b"C")
        for f in dataclasses.fields(value):
            _encode_str(f.name, out, b"K")
            encode_value(getattr(value, f.name), out, f"{where}.{f.name}")
    else:
        raise ConfigError(
            f"{where} = {value!r}: a {type(value).__name__} cannot be encoded stably for the "
            "config checksum (use numbers, strings, bools, enums, paths, tuples or "
            "frozen dataclasses of those)"
        )


def _encode_str(text: str, out: bytearray, tag: bytes) -> None:
    data = text.encode("utf-8", "surrogatepass")
    out += tag + len(data).to_bytes(4, "big") + data


def checksum_of(data: bytes) -> int:
    """A 64-bit unsigned checksum of ``data`` (BLAKE2b)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def config_checksum(type_key: str, config: ProcessorConfig, *, plan_only: bool = False) -> int:
    """Checksum of a processor type and its config (only plan-relevant fields when
    ``plan_only``). Raises ConfigError for a field that cannot be encoded stably."""
    out = bytearray()
    _encode_str(type_key, out, b"Y")
    cls = type(config)
    _encode_str(f"{cls.__module__}.{cls.__qualname__}", out, b"C")
    fields = plan_fields(config) if plan_only else dataclasses.fields(config)
    for f in fields:
        _encode_str(f.name, out, b"K")
        encode_value(getattr(config, f.name), out, f"{cls.__name__}.{f.name}")
    return checksum_of(bytes(out))
