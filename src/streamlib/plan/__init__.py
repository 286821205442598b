"""Plan stage: how the graph should run. Pure functions over graph data."""

from ._capacity import CAPACITY, baseline_capacity, classify
from ._diff import PlanDiff, diff
from ._optimize import optimize
from ._types import (
    EMPTY_PLAN,
    ConnectionPlan,
    ConnectionType,
    GraphPlan,
    OverflowPolicy,
    ProcessorPlan,
    ThreadGroupPlan,
    ThreadingStrategy,
    ThreadPriority,
)

__all__ = [
    "CAPACITY",
    "EMPTY_PLAN",
    "ConnectionPlan",
    "ConnectionType",
    "GraphPlan",
    "OverflowPolicy",
    "PlanDiff",
    "ProcessorPlan",
    "ThreadGroupPlan",
    "ThreadPriority",
    "ThreadingStrategy",
    "baseline_capacity",
    "classify",
    "diff",
    "optimize",
]
