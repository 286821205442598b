"""A fake cost source: tests say what each processor costs, and when the runtime
looks (the measured cost rules of issue #9, without timing anything)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph import ProcessorHandle
from ..plan import CostClass, CostSample

if TYPE_CHECKING:
    from ..runtime import StreamRuntime

__all__ = ["FakeCosts", "check_costs", "use_costs"]


class FakeCosts:
    """Cost figures set by the test, reported as measurements.

    Example:
        >>> costs = FakeCosts()
        >>> costs.set("processor_4", cpu_us=21, period_ms=10.7)
        >>> costs.sample()["processor_4"].cpu_p99_ns
        21000
    """

    def __init__(self) -> None:
        self.contended = False
        """Report the runtime as contended (wall times not trusted)."""
        self._samples: dict[str, CostSample] = {}
        self._bursts: dict[str, dict[str, int]] = {}

    def set(
        self,
        processor: ProcessorHandle | str,
        *,
        cpu_us: float,
        period_ms: float | None,
        wall_us: float | None = None,
        calls: int = 64,
    ) -> None:
        """From now on, ``processor`` measures ``cpu_us`` per call at p99 (wall time,
        median and p99: ``wall_us``, default the same) with frames arriving every
        ``period_ms``."""
        pid = processor.id if isinstance(processor, ProcessorHandle) else processor
        wall = cpu_us if wall_us is None else wall_us
        self._samples[pid] = CostSample(
            processor_id=pid,
            timed_calls=calls,
            cpu_p99_ns=round(cpu_us * 1e3),
            cpu_mean_ns=cpu_us * 1e3,
            wall_p50_ns=round(wall * 1e3),
            wall_p99_ns=round(wall * 1e3),
            wall_max_ns=round(wall * 1e3),
            period_ns=None if period_ms is None else period_ms * 1e6,
        )

    def clear(self, processor: ProcessorHandle | str) -> None:
        """No fresh measurement of ``processor`` any more (its class stays)."""
        self._samples.pop(processor.id if isinstance(processor, ProcessorHandle) else processor, None)

    def set_burst(self, processor: ProcessorHandle | str, port: str, frames: int) -> None:
        """From now on, ``processor`` writes up to ``frames`` frames to ``port`` in one pass."""
        pid = processor.id if isinstance(processor, ProcessorHandle) else processor
        self._bursts.setdefault(pid, {})[port] = frames

    def sample(self) -> dict[str, CostSample]:
        return dict(self._samples)

    def bursts(self) -> dict[str, dict[str, int]]:
        return {pid: dict(ports) for pid, ports in self._bursts.items()}


def use_costs(rt: StreamRuntime, costs: FakeCosts | None = None) -> None:
    """Make ``rt`` read its measurements from ``costs`` (None: keep its real
    measurements); either way the runtime no longer checks them by itself: call
    ``check_costs(rt)``."""
    if costs is not None:
        rt._costs = costs
    if rt._monitor is not None:
        rt._monitor.manual = True


def check_costs(rt: StreamRuntime) -> dict[str, CostClass]:
    """Run one check of the measurements now (classify, re-plan what changed);
    returns the measured cost classes in force afterwards."""
    rt._check_costs()
    return dict(rt._optimizer.costs)
