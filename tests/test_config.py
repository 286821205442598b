"""Processor configs at ``add_processor`` (API.md, "Building and running a graph",
"Writing a processor" and the Checksums paragraph): validation, coercion, frozen
dataclasses, and ``ProcessorHandle.config_checksum``."""

import dataclasses
import enum
import json
import math
import os
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from streamlib import (
    AudioFrame,
    ConfigError,
    Input,
    Output,
    Processor,
    ProcessorConfig,
    ProcessorHandle,
    StreamRuntime,
)
from streamlib.testing import (
    CollectingSink,
    CollectingSinkConfig,
    PassThrough,
    Scale,
    ScaleConfig,
    ScriptedSource,
    ScriptedSourceConfig,
    Worker,
    instance,
)

# --- processors used here (module level, so their annotations resolve) -----------------


class Quality(enum.Enum):
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True)
class KitchenSinkConfig(ProcessorConfig):
    """One field of every kind the config checker documents."""

    gain: float = 1.0
    count: int = 2
    enabled: bool = True
    name: str = "x"
    path: Path = Path("in.wav")
    quality: Quality = Quality.HIGH
    limit: float | None = None
    freqs: tuple[float, ...] = (1.0, 2.0)
    mode: Literal["a", "b"] = "a"
    pair: tuple[int, int] = (1, 2)
    title: str | None = field(default=None, metadata={"plan": False})
    out_path: Path = field(default=Path("out.wav"), metadata={"plan": False})

    def validate(self) -> None:
        if not isinstance(self.gain, float):
            raise self.invalid("gain", "validate() saw an uncoerced value")
        if self.count > 100:
            raise self.invalid("count", "must be <= 100")
        if self.gain < 0:
            raise self.invalid("gain", "must be >= 0")


class KitchenSink(Processor):
    Config = KitchenSinkConfig
    lightweight = True
    audio_in = Input(AudioFrame)
    audio_out = Output(AudioFrame)

    def process(self) -> None:
        return None


@dataclass(frozen=True)
class OpaqueConfig(ProcessorConfig):
    """Fields that accept any value; only some values can be checksummed stably."""

    thing: object = None
    callback: Any = None
    items: tuple[object, ...] = ()
    hidden: object = field(default=None, metadata={"plan": False})


class Opaque(Processor):
    Config = OpaqueConfig
    out = Output(AudioFrame)

    def process(self) -> None:
        return None


@dataclass(frozen=True)
class RequiredConfig(ProcessorConfig):
    path: Path
    buffer_size: int = 512


class Required(Processor):
    Config = RequiredConfig
    out = Output(AudioFrame)

    def process(self) -> None:
        return None


def add(cls: type[Processor], config: ProcessorConfig | None = None, /, **fields: Any) -> ProcessorHandle:
    """Add one processor to a fresh runtime; its handle (the runtime is stopped)."""
    with StreamRuntime() as rt:
        return rt.add_processor(cls, config, **fields)


def checksum(cls: type[Processor], config: ProcessorConfig | None = None, /, **fields: Any) -> int:
    return add(cls, config, **fields).config_checksum


def config_of(cls: type[Processor], config: ProcessorConfig | None = None, /, **fields: Any) -> Any:
    with StreamRuntime() as rt:
        return instance(rt, rt.add_processor(cls, config, **fields)).config


def expect_config_error(call: Callable[[StreamRuntime], object], *fragments: str) -> ConfigError:
    """``call`` raises ConfigError naming every fragment and leaves the graph as it was."""
    with StreamRuntime() as rt:
        first = rt.add_processor(ScriptedSource)
        plan = rt.plan
        with pytest.raises(ConfigError) as info:
            call(rt)
        for fragment in fragments:
            assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"
        assert isinstance(info.value, ValueError)
        assert rt.plan == plan
        assert len(rt.plan.connections) == 0
        # No id was consumed.
        sink = rt.add_processor(CollectingSink)
        assert sink.id == "processor_1"
        rt.connect(first.output_port("out"), sink.input_port("in"))
        return info.value


# --- how the config is given ------------------------------------------------------------


def test_keyword_fields_build_the_config() -> None:
    config = config_of(ScriptedSource, num_frames=5, frame_kind="data", block_size=256)
    assert isinstance(config, ScriptedSourceConfig)
    assert config == ScriptedSourceConfig(num_frames=5, frame_kind="data", block_size=256)
    assert (config.num_frames, config.frame_kind, config.block_size) == (5, "data", 256)


def test_a_config_object_is_used() -> None:
    given = ScriptedSourceConfig(num_frames=7, channels=1)
    assert config_of(ScriptedSource, given) == given


def test_add_processor_with_config_is_the_same_call() -> None:
    given = ScriptedSourceConfig(num_frames=7, channels=1)
    with StreamRuntime() as rt:
        handle = rt.add_processor_with_config(ScriptedSource, given)
        assert handle.id == "processor_0"
        assert handle.processor_type == "ScriptedSource"
        assert instance(rt, handle).config == given
        assert handle.config_checksum == checksum(ScriptedSource, given)
        assert handle.config_checksum == checksum(ScriptedSource, num_frames=7, channels=1)


def test_defaults_when_nothing_is_given() -> None:
    assert config_of(ScriptedSource) == ScriptedSourceConfig()
    assert config_of(Scale) == ScaleConfig()
    config = config_of(KitchenSink)
    assert config == KitchenSinkConfig()
    for f in dataclasses.fields(KitchenSinkConfig):
        assert getattr(config, f.name) == f.default, f.name


def test_a_processor_without_a_config_class_gets_the_empty_processor_config() -> None:
    class NoConfig(Processor):
        out = Output(AudioFrame)

        def process(self) -> None:
            return None

    config = config_of(NoConfig)
    assert type(config) is ProcessorConfig
    assert dataclasses.fields(config) == ()
    expect_config_error(lambda rt: rt.add_processor(NoConfig, anything=1), "anything")


def test_both_a_config_and_keywords_raise_config_error() -> None:
    expect_config_error(
        lambda rt: rt.add_processor(ScriptedSource, ScriptedSourceConfig(), num_frames=3), "num_frames"
    )


def test_both_a_config_and_keywords_raise_even_when_they_agree() -> None:
    expect_config_error(
        lambda rt: rt.add_processor(ScriptedSource, ScriptedSourceConfig(num_frames=3), num_frames=3),
        "num_frames",
    )


@pytest.mark.parametrize("name", ["bogus", "numFrames", "Config", "config"])
def test_unknown_field_raises_config_error_naming_it(name: str) -> None:
    expect_config_error(lambda rt: rt.add_processor(ScriptedSource, **{name: 1}), repr(name))


def test_missing_required_field_raises_config_error_naming_it() -> None:
    expect_config_error(lambda rt: rt.add_processor(Required), "path")
    assert config_of(Required, path=Path("a.wav")).path == Path("a.wav")


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param(CollectingSinkConfig(), id="another-processors-config"),
        pytest.param(ProcessorConfig(), id="the-base-config"),
        pytest.param(ScriptedSourceConfig, id="the-config-class-itself"),
        pytest.param({"num_frames": 3}, id="a-dict"),
        pytest.param(3, id="an-int"),
    ],
)
def test_wrong_config_passed_positionally_raises_config_error(wrong: object) -> None:
    expect_config_error(lambda rt: rt.add_processor(ScriptedSource, wrong), "ScriptedSourceConfig")  # type: ignore[arg-type]
    expect_config_error(
        lambda rt: rt.add_processor_with_config(ScriptedSource, wrong),  # type: ignore[arg-type]
        "ScriptedSourceConfig",
    )


# --- type checks and coercion -----------------------------------------------------------

WRONG_TYPES = [
    # (processor, field, value)
    (ScriptedSource, "num_frames", "5"),
    (ScriptedSource, "num_frames", 5.0),
    (ScriptedSource, "block_size", 1.5),
    (ScriptedSource, "block_size", True),  # bool is not an int here
    (ScriptedSource, "sample_rate", "48000"),
    (ScriptedSource, "live", "yes"),
    (ScriptedSource, "live", 1),
    (ScriptedSource, "frame_kind", "sound"),  # Literal
    (ScriptedSource, "frame_kind", 1),
    (ScriptedSource, "period_ns", 1.5),  # int | None
    (Scale, "factor", "0.5"),
    (Scale, "factor", None),
    (Scale, "factor", True),
    (KitchenSink, "count", 2.0),
    (KitchenSink, "name", 1),
    (KitchenSink, "name", None),
    (KitchenSink, "path", 3),
    (KitchenSink, "quality", "MEDIUM"),
    (KitchenSink, "quality", 1),
    (KitchenSink, "quality", 1.5),
    (KitchenSink, "limit", "x"),
    (KitchenSink, "freqs", 1.0),
    (KitchenSink, "freqs", (1.0, "a")),
    (KitchenSink, "freqs", (True,)),
    (KitchenSink, "freqs", "12"),
    (KitchenSink, "mode", "c"),
    (KitchenSink, "mode", None),
    (KitchenSink, "pair", (1, 2, 3)),
    (KitchenSink, "pair", (1,)),
    (KitchenSink, "pair", (1, 2.0)),
    (KitchenSink, "title", 3),
    (KitchenSink, "out_path", 3),
]


@pytest.mark.parametrize(
    ("cls", "name", "value"), WRONG_TYPES, ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in WRONG_TYPES]
)
def test_wrong_type_raises_config_error_naming_config_and_field(
    cls: type[Processor], name: str, value: object
) -> None:
    qualified = f"{cls.Config.__name__}.{name}"
    expect_config_error(lambda rt: rt.add_processor(cls, **{name: value}), qualified)
    # The same check runs when the config object is built.
    with pytest.raises(ConfigError, match=qualified.replace(".", r"\.")):
        cls.Config(**{name: value})


def test_int_is_accepted_for_a_float_field_and_converted() -> None:
    config = config_of(Scale, factor=2)
    assert config.factor == 2.0
    assert type(config.factor) is float
    assert type(ScaleConfig(factor=3).factor) is float
    assert type(config_of(KitchenSink, gain=2).gain) is float  # validate() sees the float
    limit = config_of(KitchenSink, limit=3).limit  # float | None
    assert limit == 3.0
    assert type(limit) is float


def test_float_fields_keep_floats() -> None:
    config = config_of(Scale, factor=2.5)
    assert config.factor == 2.5
    assert type(config.factor) is float


@pytest.mark.parametrize("name", ["num_frames", "block_size", "channels", "sample_rate", "period_ns"])
def test_bool_is_rejected_for_int_fields(name: str) -> None:
    expect_config_error(
        lambda rt: rt.add_processor(ScriptedSource, **{name: True}), f"ScriptedSourceConfig.{name}"
    )


def test_bool_fields_accept_bools() -> None:
    assert config_of(ScriptedSource, live=True).live is True
    assert config_of(KitchenSink, enabled=False).enabled is False


def test_enum_fields_accept_members() -> None:
    assert config_of(KitchenSink, quality=Quality.LOW).quality is Quality.LOW
    assert config_of(KitchenSink, quality=Quality.HIGH).quality is Quality.HIGH


def test_enum_fields_accept_member_names() -> None:
    assert config_of(KitchenSink, quality="LOW").quality is Quality.LOW
    assert config_of(KitchenSink, quality="HIGH").quality is Quality.HIGH
    assert checksum(KitchenSink, quality="LOW") == checksum(KitchenSink, quality=Quality.LOW)
    assert KitchenSinkConfig(quality="LOW").quality is Quality.LOW  # type: ignore[arg-type]


def test_path_fields_accept_str() -> None:
    config = config_of(KitchenSink, path="a/b.wav", out_path="c.wav")
    assert isinstance(config.path, Path)
    assert config.path == Path("a/b.wav")
    assert config.out_path == Path("c.wav")
    assert checksum(KitchenSink, path="a/b.wav") == checksum(KitchenSink, path=Path("a/b.wav"))


def test_optional_fields_accept_none_and_the_type() -> None:
    assert config_of(KitchenSink, limit=None).limit is None
    assert config_of(KitchenSink, limit=2.5).limit == 2.5
    assert config_of(KitchenSink, title="window").title == "window"
    assert config_of(ScriptedSource, num_frames=None).num_frames is None
    assert config_of(ScriptedSource, period_ns=1000).period_ns == 1000


def test_variadic_float_tuples_accept_floats_of_any_length() -> None:
    assert config_of(KitchenSink, freqs=(1.5, 2.5, 3.5)).freqs == (1.5, 2.5, 3.5)
    assert config_of(KitchenSink, freqs=(4.0,)).freqs == (4.0,)
    assert config_of(KitchenSink, freqs=()).freqs == ()


def test_variadic_float_tuples_coerce_their_items() -> None:
    freqs = config_of(KitchenSink, freqs=(1, 2.5, 3)).freqs
    assert freqs == (1.0, 2.5, 3.0)
    assert isinstance(freqs, tuple)
    assert all(type(f) is float for f in freqs)
    assert checksum(KitchenSink, freqs=(1, 2)) == checksum(KitchenSink, freqs=(1.0, 2.0))


def test_literal_fields_accept_their_values() -> None:
    assert config_of(KitchenSink, mode="b").mode == "b"
    for kind in ("audio", "video", "data"):
        assert config_of(ScriptedSource, frame_kind=kind).frame_kind == kind


def test_fixed_tuples_are_checked_item_by_item() -> None:
    assert config_of(KitchenSink, pair=(3, 4)).pair == (3, 4)


# --- the processor's own validate() -------------------------------------------------------


def test_validate_raising_invalid_is_a_config_error_naming_the_field() -> None:
    error = expect_config_error(
        lambda rt: rt.add_processor(KitchenSink, count=101), "KitchenSinkConfig.count", "must be <= 100"
    )
    assert "101" in str(error)
    expect_config_error(lambda rt: rt.add_processor(KitchenSink, gain=-1.0), "KitchenSinkConfig.gain", ">= 0")
    expect_config_error(
        lambda rt: rt.add_processor(ScriptedSource, num_frames=-1), "ScriptedSourceConfig.num_frames"
    )
    expect_config_error(
        lambda rt: rt.add_processor(ScriptedSource, channels=0), "ScriptedSourceConfig.channels"
    )


def test_validate_runs_when_the_config_object_is_built() -> None:
    with pytest.raises(ConfigError, match=r"KitchenSinkConfig\.count"):
        KitchenSinkConfig(count=101)


def test_invalid_returns_a_config_error() -> None:
    error = KitchenSinkConfig().invalid("count", "why not")
    assert isinstance(error, ConfigError)
    assert "KitchenSinkConfig.count" in str(error)
    assert "why not" in str(error)


# --- frozen ---------------------------------------------------------------------------------


def test_configs_are_frozen_dataclasses() -> None:
    for config in (ScriptedSourceConfig(), KitchenSinkConfig(), ProcessorConfig()):
        assert dataclasses.is_dataclass(config)
        assert type(config).__dataclass_params__.frozen  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ScriptedSourceConfig().num_frames = 3  # type: ignore[misc]
    with StreamRuntime() as rt:
        handle = rt.add_processor(KitchenSink, gain=2.0)
        config = instance(rt, handle).config
        before = handle.config_checksum
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.gain = 3.0
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.new_field = 1
        assert config.gain == 2.0
        assert handle.config_checksum == before


# --- config_checksum ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ScriptedSource, Scale, CollectingSink, PassThrough, KitchenSink, Opaque])
def test_config_checksum_is_a_64_bit_unsigned_int(cls: type[Processor]) -> None:
    value = checksum(cls)
    assert type(value) is int
    assert 0 <= value < 2**64


def test_equal_configs_give_equal_checksums() -> None:
    expected = checksum(ScriptedSource, num_frames=5, frame_kind="video")
    assert checksum(ScriptedSource, ScriptedSourceConfig(num_frames=5, frame_kind="video")) == expected
    with StreamRuntime() as rt:
        a = rt.add_processor(ScriptedSource, num_frames=5, frame_kind="video")
        b = rt.add_processor(ScriptedSource, ScriptedSourceConfig(frame_kind="video", num_frames=5))
        assert a.id != b.id
        assert a.config_checksum == b.config_checksum == expected
    # Explicit defaults are the defaults.
    assert checksum(ScriptedSource) == checksum(ScriptedSource, num_frames=100, frame_kind="audio")
    assert checksum(KitchenSink) == checksum(KitchenSink, KitchenSinkConfig())


# Every field of each config, with a second valid value.
CHANGES: dict[type[Processor], dict[str, object]] = {
    ScriptedSource: {
        "num_frames": 101,
        "frame_kind": "video",
        "block_size": 256,
        "channels": 1,
        "sample_rate": 44100,
        "width": 65,
        "height": 49,
        "live": True,
        "period_ns": 1_000_000,
    },
    CollectingSink: {"frame_kind": "data", "live": True, "keep_frames": False},
    Scale: {"factor": 0.25},
    KitchenSink: {
        "gain": 1.5,
        "count": 3,
        "enabled": False,
        "name": "y",
        "path": Path("in2.wav"),
        "quality": Quality.LOW,
        "limit": 1.0,
        "freqs": (1.0, 2.0, 3.0),
        "mode": "b",
        "pair": (2, 1),
        "title": "window",
        "out_path": Path("other.wav"),
    },
    Opaque: {"thing": 1, "callback": "f", "items": (None,), "hidden": 0},
}
CHANGE_PARAMS = [
    pytest.param(cls, name, value, id=f"{cls.__name__}.{name}")
    for cls, changes in CHANGES.items()
    for name, value in changes.items()
]


@pytest.mark.parametrize("cls", list(CHANGES), ids=lambda c: c.__name__)
def test_change_parametrization_covers_every_field(cls: type[Processor]) -> None:
    assert set(CHANGES[cls]) == {f.name for f in dataclasses.fields(cls.Config)}


@pytest.mark.parametrize(("cls", "name", "value"), CHANGE_PARAMS)
def test_any_change_of_any_field_changes_the_config_checksum(
    cls: type[Processor], name: str, value: object
) -> None:
    assert getattr(cls.Config(), name) != value
    assert checksum(cls, **{name: value}) != checksum(cls)


def test_changes_of_different_fields_give_different_checksums() -> None:
    seen = {checksum(KitchenSink)}
    for name, value in CHANGES[KitchenSink].items():
        seen.add(checksum(KitchenSink, **{name: value}))
    assert len(seen) == 1 + len(CHANGES[KitchenSink])


def test_swapping_values_between_fields_changes_the_checksum() -> None:
    assert checksum(ScriptedSource, width=48, height=64) != checksum(ScriptedSource, width=64, height=48)
    assert checksum(KitchenSink, name="a", title="b") != checksum(KitchenSink, name="b", title="a")


def test_opaque_field_values_of_different_types_give_different_checksums() -> None:
    values: list[object] = [None, 0, 1, 1.0, True, "1", b"1", (1,), Path("1"), frozenset({1}), Quality.LOW]
    sums = [checksum(Opaque, thing=v) for v in values]
    assert len(set(sums)) == len(values)


def test_zero_and_negative_zero_give_the_same_checksum() -> None:
    assert checksum(Scale, factor=0.0) == checksum(Scale, factor=-0.0)
    assert checksum(KitchenSink, limit=-0.0) == checksum(KitchenSink, limit=0.0)
    assert checksum(KitchenSink, freqs=(-0.0, 1.0)) == checksum(KitchenSink, freqs=(0.0, 1.0))
    assert checksum(Scale, factor=0.0) != checksum(Scale, factor=5e-324)


NANS = [
    pytest.param(float("nan"), id="float-nan"),
    pytest.param(-float("nan"), id="negative-nan"),
    pytest.param(math.nan, id="math-nan"),
    pytest.param(float("inf") - float("inf"), id="inf-minus-inf"),
    pytest.param(struct.unpack(">d", bytes.fromhex("7ff8000000000001"))[0], id="quiet-nan-payload"),
    pytest.param(struct.unpack(">d", bytes.fromhex("fff0000000000123"))[0], id="signalling-negative-nan"),
    pytest.param(np.float64("nan"), id="numpy-nan"),
]


@pytest.mark.parametrize("nan", NANS)
def test_every_nan_gives_the_same_checksum(nan: float) -> None:
    assert math.isnan(nan)
    reference = checksum(Scale, factor=float("nan"))
    assert checksum(Scale, factor=nan) == reference
    assert checksum(Scale, factor=nan) != checksum(Scale, factor=float("inf"))
    assert checksum(KitchenSink, freqs=(nan,)) == checksum(KitchenSink, freqs=(math.nan,))
    assert checksum(KitchenSink, limit=nan) == checksum(KitchenSink, limit=math.nan)


def test_int_and_float_for_a_float_field_give_the_same_checksum() -> None:
    assert checksum(Scale, factor=0) == checksum(Scale, factor=-0.0)
    assert checksum(Scale, factor=1) == checksum(Scale, factor=1.0)
    assert checksum(Scale, ScaleConfig(factor=1)) == checksum(Scale, factor=1.0)
    assert checksum(KitchenSink, gain=2, limit=3) == checksum(KitchenSink, gain=2.0, limit=3.0)


def test_the_config_checksum_covers_the_processor_type() -> None:
    # PassThrough and Worker share PassThroughConfig; they are different processors.
    assert checksum(PassThrough) != checksum(Worker)


# --- stable across processes and hash seeds ----------------------------------------------

TESTING_CASES = textwrap.dedent(
    """
    import json, sys
    from streamlib import StreamRuntime
    from streamlib.testing import CollectingSink, ScriptedSource, Scale

    CASES = [
        (ScriptedSource, {}),
        (ScriptedSource, {"num_frames": 5, "frame_kind": "video", "width": 640, "height": 480}),
        (ScriptedSource, {"frame_kind": "data", "live": True, "period_ns": 1000, "num_frames": None}),
        (CollectingSink, {"frame_kind": "data", "keep_frames": False}),
        (Scale, {"factor": -0.0}),
        (Scale, {"factor": 2}),
        (Scale, {"factor": float("nan")}),
    ]

    def checksums():
        with StreamRuntime() as rt:
            return [rt.add_processor(cls, **fields).config_checksum for cls, fields in CASES]
    """
)


def _run_with_seed(seed: str, script: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _in_process_testing_checksums() -> list[int]:
    namespace: dict[str, Any] = {}
    exec(TESTING_CASES, namespace)
    return namespace["checksums"]()


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_config_checksum_is_the_same_across_processes_and_hash_seeds(seed: str) -> None:
    script = TESTING_CASES + textwrap.dedent(
        """
        print(json.dumps({"hash": hash("streamlib"), "checksums": checksums()}))
        """
    )
    other = _run_with_seed(seed, script)
    # The subprocess really hashed differently from this process (unless by chance).
    assert other["hash"] != hash("streamlib") or os.environ.get("PYTHONHASHSEED") == seed
    assert other["checksums"] == _in_process_testing_checksums()


def test_config_checksum_of_custom_configs_is_the_same_across_hash_seeds() -> None:
    """Enums, paths, tuples and frozensets of strings (whose iteration order depends on
    the hash seed) in a processor defined in this module, loaded under its own name."""
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location({__name__!r}, {__file__!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules[{__name__!r}] = module
        spec.loader.exec_module(module)
        print(json.dumps({{"hash": hash("streamlib"), "checksums": module.custom_checksums()}}))
        """
    )
    runs = [_run_with_seed(seed, script) for seed in ("0", "12345")]
    assert runs[0]["hash"] != runs[1]["hash"]
    assert runs[0]["checksums"] == runs[1]["checksums"] == custom_checksums()


def custom_checksums() -> list[int]:
    words = frozenset(f"word{i}" for i in range(32))
    with StreamRuntime() as rt:
        return [
            rt.add_processor(KitchenSink).config_checksum,
            rt.add_processor(
                KitchenSink, quality="LOW", path="a/b.wav", freqs=(1, 2.5), title="t", limit=-0.0
            ).config_checksum,
            rt.add_processor(Opaque, thing=words).config_checksum,
            rt.add_processor(Opaque, thing=frozenset({words, frozenset({"a", "b"})})).config_checksum,
            rt.add_processor(Opaque, items=("x", 1, 2.0, None, b"y")).config_checksum,
        ]


# --- values that cannot be checksummed stably ---------------------------------------------


UNENCODABLE = [
    pytest.param("thing", object(), id="object"),
    pytest.param("callback", lambda: 0, id="lambda"),
    pytest.param("callback", print, id="builtin-function"),
    pytest.param("thing", {"a": 1}, id="dict"),
    pytest.param("thing", {1, 2}, id="set"),
    pytest.param("thing", bytearray(b"x"), id="bytearray"),
    pytest.param("thing", Quality, id="a-class"),
    pytest.param("items", (1, object()), id="object-inside-a-tuple"),
    pytest.param("thing", frozenset({object()}), id="object-inside-a-frozenset"),
    pytest.param("hidden", object(), id="object-in-a-plan-false-field"),
]


@pytest.mark.parametrize(("name", "value"), UNENCODABLE)
def test_a_value_that_cannot_be_encoded_stably_raises_config_error_at_add_processor(
    name: str, value: object
) -> None:
    expect_config_error(lambda rt: rt.add_processor(Opaque, **{name: value}), f"OpaqueConfig.{name}")
    config = OpaqueConfig(**{name: value})  # building the config alone is fine
    expect_config_error(lambda rt: rt.add_processor(Opaque, config), f"OpaqueConfig.{name}")


# --- plan-irrelevant fields ---------------------------------------------------------------


def plan_checksum(**fields: Any) -> int:
    """rt.plan.checksum of source -> KitchenSink(**fields) -> sink."""
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource)
        mid = rt.add_processor(KitchenSink, **fields)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), mid.input_port("audio_in"))
        rt.connect(mid.output_port("audio_out"), sink.input_port("in"))
        return rt.plan.checksum


PLAN_FALSE = {f.name for f in dataclasses.fields(KitchenSinkConfig) if f.metadata.get("plan") is False}


def test_the_kitchen_sink_has_plan_false_fields() -> None:
    assert {"title", "out_path"} == PLAN_FALSE


@pytest.mark.parametrize(
    ("name", "value"),
    [pytest.param(n, v, id=n) for n, v in CHANGES[KitchenSink].items() if n in PLAN_FALSE],
)
def test_plan_false_fields_change_the_config_checksum_but_not_the_plan_checksum(
    name: str, value: object
) -> None:
    assert checksum(KitchenSink, **{name: value}) != checksum(KitchenSink)
    assert plan_checksum(**{name: value}) == plan_checksum()


@pytest.mark.parametrize(
    ("name", "value"),
    [pytest.param(n, v, id=n) for n, v in CHANGES[KitchenSink].items() if n not in PLAN_FALSE],
)
def test_other_fields_change_the_plan_checksum(name: str, value: object) -> None:
    assert plan_checksum(**{name: value}) != plan_checksum()


def test_plan_false_fields_share_a_plan_checksum_for_a_lone_processor() -> None:
    with StreamRuntime() as a, StreamRuntime() as b:
        a.add_processor(KitchenSink, title="one", out_path="1.wav")
        b.add_processor(KitchenSink, title="two", out_path="2.wav")
        assert a.plan.checksum == b.plan.checksum
