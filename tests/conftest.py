"""Shared fixtures: every test must leave no streamlib thread behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest


def streamlib_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("streamlib:")]


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    yield
    leaked = [t for t in threading.enumerate() if t.name.startswith("streamlib")]  # + streamlib-costs
    for thread in leaked:  # a thread may still be finishing its last instructions
        thread.join(timeout=5)
    still = [t.name for t in threading.enumerate() if t.name.startswith("streamlib")]
    assert not still, f"test left streamlib threads running: {still}"
