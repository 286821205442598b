"""Engine stage: runs one plan (endpoints, thread groups, runners, priorities)."""

from ._engine import Engine
from ._group import ThreadGroup
from ._priority import RULES, PriorityPolicy, read_thread_sched
from ._ring import FusedLink, RingBuffer, RingStatistics
from ._runner import DedicatedRunner, is_engine_thread
from ._slot import ProcessorSlot, SlotState

__all__ = [
    "RULES",
    "DedicatedRunner",
    "Engine",
    "FusedLink",
    "PriorityPolicy",
    "ProcessorSlot",
    "RingBuffer",
    "RingStatistics",
    "SlotState",
    "ThreadGroup",
    "is_engine_thread",
    "read_thread_sched",
]
