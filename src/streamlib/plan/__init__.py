"""Plan stage: how the graph should run. Pure functions over graph data."""

from ._cache import PlanCache
from ._capacity import CAPACITY, baseline_capacity, classify
from ._costs import CostSample, classify_cost
from ._diff import DiffScope, PlanDiff, diff
from ._optimize import Optimizer, OptimizerStatistics, optimize
from ._types import (
    EMPTY_PLAN,
    POOL_WORKERS,
    ComponentPlan,
    ConnectionPlan,
    ConnectionType,
    CostClass,
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
    "POOL_WORKERS",
    "ComponentPlan",
    "ConnectionPlan",
    "Optimizer",
    "OptimizerStatistics",
    "PlanCache",
    "ConnectionType",
    "CostClass",
    "CostSample",
    "DiffScope",
    "GraphPlan",
    "OverflowPolicy",
    "PlanDiff",
    "ProcessorPlan",
    "ThreadGroupPlan",
    "ThreadPriority",
    "ThreadingStrategy",
    "baseline_capacity",
    "classify",
    "classify_cost",
    "diff",
    "optimize",
]
