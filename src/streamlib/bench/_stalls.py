"""Stalls of the machine itself, seen from outside the process being measured.

A density probe fails on a single late tick, and on this machine class a virtual CPU
now and then stops for tens of milliseconds (the hypervisor runs something else on
it): every pipeline whose work was on it is late once, in every variant alike (a
probe of N pipelines run by one worker counts about N misses). ``MachineWatch`` tells
those apart from a variant running out of time: one child process per CPU (pinned to
it, no shared interpreter lock, no share of the measured process's work, at the top
real-time priority where it may, so busy real-time threads do not delay it) sleeps
``TICK_S`` at a time and records every wake-up that came more than ``STALL_MS``
late, while the kernel's count of stolen CPU time (``/proc/stat``) is read before
and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STALL_MS", "MachineWatch", "Stalls"]

TICK_S = 0.005
STALL_MS = 20.0
"""A wake-up this late (one period of the flagship chain's source) is a stall: a source
tick that late is a miss."""

_CHILD = f"""
import json, os, sys, threading, time
os.sched_setaffinity(0, {{int(sys.argv[1])}})
try:  # above every thread it watches (real-time workers too)
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(os.sched_get_priority_max(os.SCHED_FIFO)))
    above = True
except OSError:
    above = False
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
late = []
longest = 0.0
print("watching", flush=True)
while not stop.is_set():
    t0 = time.monotonic()
    time.sleep({TICK_S})
    over = (time.monotonic() - t0 - {TICK_S}) * 1000
    longest = max(longest, over)
    if over > {STALL_MS}:
        late.append(round(over, 1))
print(json.dumps({{"stalls_ms": late, "longest_ms": round(longest, 1), "above": above}}), flush=True)
"""


def _steal_ms() -> float:
    """CPU time stolen from this VM so far, all CPUs (0 where the kernel does not say)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) * 1000 / 100  # (USER_HZ: 100 on Linux)
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Stalls:
    stalls_ms: dict[int, list[float]]
    """Per CPU, each wake-up of its watcher more than ``STALL_MS`` late: how late (ms)."""
    longest_ms: float
    """The latest wake-up of any watcher (ms)."""
    steal_ms: float
    """CPU time the hypervisor took from the VM meanwhile (ms, all CPUs; the kernel
    counts it in 10 ms steps)."""
    above: bool
    """Whether the watchers ran at the top real-time priority (as root): then a stall
    is the machine's, not threads of the measured process that kept a CPU busy."""

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.stalls_ms.values())

    def __str__(self) -> str:
        per_cpu = ", ".join(f"cpu{cpu} {v}" for cpu, v in self.stalls_ms.items() if v) or "none"
        above = "" if self.above else ", watchers not above real-time threads"
        return (
            f"machine stalls > {STALL_MS:.0f} ms: {per_cpu} (longest wake-up {self.longest_ms:.1f} ms "
            f"late{above}), {self.steal_ms:.0f} ms stolen"
        )


class MachineWatch:
    """``with MachineWatch() as watch: ...`` then ``watch.result``."""

    def __init__(self) -> None:
        self.result: Stalls | None = None
        self.children: dict[int, subprocess.Popen[str]] = {}
        """The watcher of each CPU."""
        self._steal = 0.0

    def __enter__(self) -> MachineWatch:
        self._steal = _steal_ms()
        for cpu in sorted(os.sched_getaffinity(0)):
            self.children[cpu] = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(cpu)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        for child in self.children.values():
            assert child.stdout is not None
            child.stdout.readline()  # (it watches from now on)
        return self

    def __exit__(self, *exc: object) -> None:
        found = {cpu: json.loads(c.communicate(input="", timeout=30)[0]) for cpu, c in self.children.items()}
        self.result = Stalls(
            {cpu: f["stalls_ms"] for cpu, f in found.items()},
            max(f["longest_ms"] for f in found.values()),
            _steal_ms() - self._steal,
            all(f["above"] for f in found.values()),
        )
