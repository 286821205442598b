"""Priorities: from a processor's role and whether its component is live.

Sources and sinks of a live component get REAL_TIME (they sit on a device or wall
clock); in a component with nothing live everything is NORMAL (a file source runs
flat out, and a real-time thread that never blocks would starve the machine).
Every other processor gets NORMAL.
"""

from __future__ import annotations

from ._topology import Topology
from ._types import ThreadPriority

__all__ = ["role_priority"]


def role_priority(topology: Topology, pid: str, *, live: bool) -> ThreadPriority:
    if live and (topology.is_source(pid) or topology.is_sink(pid)):
        return ThreadPriority.REAL_TIME
    return ThreadPriority.NORMAL
