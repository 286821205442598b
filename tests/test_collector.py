"""The garbage collector while live components run (engine/_collector.py): long-lived
objects are frozen out of the collector's full passes once a plan is in place, the
process's collector is restored when the last live runtime stops, and processors
removed while frozen are collected after enough churn."""

from __future__ import annotations

import gc
import weakref

import pytest

from streamlib import StreamRuntime
from streamlib.engine import _collector
from streamlib.testing import FakeClock, PassThrough, instance

from .helpers import chain


class Cyclic(PassThrough):
    """A pass-through whose setup() ties it into a reference cycle (its state points
    back at it): reference counting alone never frees it."""

    def setup(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _unfrozen() -> None:
    assert gc.get_freeze_count() == 0, "an earlier test left the collector frozen"


def test_a_running_live_component_freezes_and_the_last_stop_unfreezes() -> None:
    first = StreamRuntime(clock=FakeClock())
    chain(first, frames=None, live=True)
    first.start()
    assert gc.get_freeze_count() > 0
    # a full pass now walks only what was made since: the graph is not in it
    tracked = len(gc.get_objects())
    assert tracked < gc.get_freeze_count()
    second = StreamRuntime(clock=FakeClock())
    chain(second, frames=None, live=True)
    second.start()
    first.stop()
    assert gc.get_freeze_count() > 0  # the second still runs live
    second.stop()
    assert gc.get_freeze_count() == 0
    assert not first.errors and not second.errors


def test_nothing_live_leaves_the_collector_alone() -> None:
    with StreamRuntime() as rt:
        _, _, sink = chain(rt, frames=50)
        rt.start()
        assert gc.get_freeze_count() == 0
        assert rt.run(timeout=10)
        assert len(instance(rt, sink).frames) == 50


def test_processors_removed_while_frozen_are_collected_after_enough_churn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_collector, "CHURN_MIN", 1)
    with StreamRuntime(clock=FakeClock()) as rt:
        kept = chain(rt, frames=None, live=True)
        gone = chain(rt, frames=None, live=True, middles=(Cyclic,))
        rt.start()
        assert gc.get_freeze_count() > 0
        cyclic = weakref.ref(instance(rt, gone[1][0]))
        rt.remove_processor(gone[2])
        rt.remove_processor(gone[1][0])  # unreachable now, but for its own cycle
        gc.collect()
        assert cyclic() is not None  # frozen: no pass looks at it
        # the third removal makes as many removed as the plan still holds: the re-plan
        # unfreezes and collects once (a pause the edit pays for), then freezes again
        rt.remove_processor(gone[0])
        assert cyclic() is None
        assert gc.get_freeze_count() > 0  # and the rest is frozen again
        assert not rt.errors
        del kept
    assert gc.get_freeze_count() == 0


def test_without_churn_a_removed_cyclic_processor_waits_for_the_stop() -> None:
    with StreamRuntime(clock=FakeClock()) as rt:
        chain(rt, frames=None, live=True)
        chain(rt, frames=None, live=True)
        gone = chain(rt, frames=None, live=True, middles=(Cyclic,))
        rt.start()
        cyclic = weakref.ref(instance(rt, gone[1][0]))
        for handle in (gone[2], gone[1][0], gone[0]):  # 3 of 9: below the churn rule
            rt.remove_processor(handle)
        gc.collect()
        assert cyclic() is not None  # frozen: no pass looks at it yet
    gc.collect()
    assert cyclic() is None  # unfrozen at the stop: an ordinary collection frees it
