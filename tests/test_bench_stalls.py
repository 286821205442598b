"""The density probes' machine watch: a child process that notes its late wake-ups."""

from __future__ import annotations

import os
import signal
import time

from streamlib.bench._stalls import STALL_MS, MachineWatch


def test_a_stopped_machine_shows_as_a_stall_of_the_watcher() -> None:
    with MachineWatch() as watch:
        cpu, child = next(iter(watch.children.items()))
        os.kill(child.pid, signal.SIGSTOP)  # what a stalled virtual CPU does to what runs on it
        time.sleep(0.1)  # (the stall's length, not a wait for something)
        os.kill(child.pid, signal.SIGCONT)
    stalls = watch.result
    assert stalls is not None
    assert set(stalls.stalls_ms) == os.sched_getaffinity(0)  # a watcher per CPU
    assert stalls.count >= 1 and max(stalls.stalls_ms[cpu]) >= 90
    assert stalls.longest_ms == max(stalls.stalls_ms[cpu]) and stalls.steal_ms >= 0
    assert f"> {STALL_MS:.0f} ms: cpu{cpu} [" in str(stalls)


def test_an_undisturbed_watch_reports_its_longest_wake_up() -> None:
    with MachineWatch() as watch:
        pass
    stalls = watch.result
    assert stalls is not None and stalls.longest_ms >= 0
    assert all(late > STALL_MS for v in stalls.stalls_ms.values() for late in v)
