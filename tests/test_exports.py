"""The import surface of API.md ("Import surface") and what importing does."""

import enum
import importlib
import inspect
import json
import pickle
import subprocess
import sys
import textwrap

import pytest

import streamlib
import streamlib.testing

# The names of `from streamlib import (...)` in API.md, "Import surface", written out.
API_NAMES = [
    "StreamRuntime",
    "ProcessorHandle",
    "Processor",
    "ProcessorConfig",
    "ProcessorStatus",
    "Input",
    "Output",
    "AudioFrame",
    "VideoFrame",
    "DataFrame",
    "GraphPlan",
    "ThreadingStrategy",
    "ThreadPriority",
    "ConnectionType",
    "StreamError",
    "PortNotFoundError",
    "PortTypeMismatchError",
    "GraphCycleError",
    "ProcessorNotFoundError",
    "InvalidConnectionError",
    "ConfigError",
    "RuntimeStateError",
    "ProcessorError",
]

TESTING_NAMES = ["FakeClock", "ScriptedSource", "CollectingSink", "PassThrough", "Worker", "instance"]


def test_the_api_list_is_written_out_once() -> None:
    assert len(API_NAMES) == len(set(API_NAMES)) == 23


@pytest.mark.parametrize("name", API_NAMES)
def test_api_name_is_in_all_and_importable(name: str) -> None:
    assert name in streamlib.__all__
    namespace: dict[str, object] = {}
    exec(f"from streamlib import {name}", namespace)
    assert namespace[name] is getattr(streamlib, name)


def test_the_whole_import_block_of_api_md_works() -> None:
    namespace: dict[str, object] = {}
    exec(f"from streamlib import ({', '.join(API_NAMES)})", namespace)
    assert all(name in namespace for name in API_NAMES)


def test_all_has_no_duplicates_and_every_entry_exists() -> None:
    assert len(streamlib.__all__) == len(set(streamlib.__all__))
    for name in streamlib.__all__:
        assert hasattr(streamlib, name), name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from streamlib import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == set(streamlib.__all__)


@pytest.mark.parametrize("name", streamlib.__all__)
def test_public_classes_live_in_streamlib(name: str) -> None:
    obj = getattr(streamlib, name)
    if inspect.isclass(obj):
        assert obj.__module__ == "streamlib", f"{name}.__module__ == {obj.__module__!r}"
        assert obj.__qualname__ == name
        if not isinstance(obj, enum.EnumMeta):  # enums print as <enum 'X'>
            assert repr(obj) == f"<class 'streamlib.{name}'>"


@pytest.mark.parametrize("name", ["ProcessorStatus", "ThreadingStrategy", "ThreadPriority", "ConnectionType"])
def test_public_enum_members_pickle_by_their_streamlib_name(name: str) -> None:
    for member in getattr(streamlib, name):
        assert pickle.loads(pickle.dumps(member)) is member


@pytest.mark.parametrize("name", [n for n in API_NAMES if inspect.isclass(getattr(streamlib, n, None))])
def test_api_classes_live_in_streamlib(name: str) -> None:
    assert getattr(streamlib, name).__module__ == "streamlib"


def test_every_api_name_is_a_class() -> None:
    for name in API_NAMES:
        assert inspect.isclass(getattr(streamlib, name)), name


@pytest.mark.parametrize("name", TESTING_NAMES)
def test_streamlib_testing_exports(name: str) -> None:
    assert name in streamlib.testing.__all__
    namespace: dict[str, object] = {}
    exec(f"from streamlib.testing import {name}", namespace)
    assert namespace[name] is getattr(streamlib.testing, name)


def test_streamlib_testing_all_has_no_duplicates_and_every_entry_exists() -> None:
    assert len(streamlib.testing.__all__) == len(set(streamlib.testing.__all__))
    for name in streamlib.testing.__all__:
        assert hasattr(streamlib.testing, name), name
    assert callable(streamlib.testing.instance)


def test_streamlib_processors_is_importable() -> None:
    module = importlib.import_module("streamlib.processors")
    assert isinstance(module.__all__, list)
    for name in module.__all__:
        assert hasattr(module, name), name


# --- what importing does ---------------------------------------------------------------

_IMPORT_PROBE = textwrap.dedent(
    """
    import json, logging, sys, threading

    before_threads = {t.ident for t in threading.enumerate()}
    root_handlers = list(logging.root.handlers)
    root_level = logging.root.level

    import MODULE

    loggers = {}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.handlers:
            loggers[name] = [type(h).__name__ for h in logger.handlers]
    streamlib_logger = logging.getLogger("streamlib")
    report = {
        "new_threads": sorted(t.name for t in threading.enumerate() if t.ident not in before_threads),
        "thread_count": threading.active_count(),
        "root_handlers_changed": logging.root.handlers != root_handlers,
        "root_level_changed": logging.root.level != root_level,
        "loggers_with_handlers": loggers,
        "streamlib_level": streamlib_logger.level,
        "streamlib_propagate": streamlib_logger.propagate,
    }
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module", params=["streamlib", "streamlib.testing", "streamlib.processors"])
def import_report(request: pytest.FixtureRequest) -> dict[str, object]:
    """What a fresh interpreter sees after importing the module (streamlib is already
    imported in this process, so the probe runs in a subprocess)."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.replace("MODULE", request.param)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_import_starts_no_threads(import_report: dict[str, object]) -> None:
    assert import_report["new_threads"] == []
    assert import_report["thread_count"] == 1


def test_import_configures_only_a_null_handler_on_the_streamlib_logger(
    import_report: dict[str, object],
) -> None:
    assert import_report["root_handlers_changed"] is False
    assert import_report["root_level_changed"] is False
    assert import_report["loggers_with_handlers"] == {"streamlib": ["NullHandler"]}
    # The level is left to the application (NOTSET), and records propagate.
    assert import_report["streamlib_level"] == 0
    assert import_report["streamlib_propagate"] is True
