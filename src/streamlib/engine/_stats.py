"""``stats()``: a JSON-serializable snapshot of an engine's metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..plan import GraphPlan
from ._group import GroupKind
from ._latency import nearest_rank
from ._ring import RingBuffer
from ._slot import SlotState

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["snapshot"]


def snapshot(engine: Engine, plan: GraphPlan | None = None) -> dict[str, Any]:
    """Per processor, per connection, per thread; counters are read without stopping
    anything (a snapshot may be a pass behind)."""
    with engine._lock:
        plan = engine.plan or plan
        processors: dict[str, Any] = {}
        for pid, slot in engine.slots.items():
            pplan = plan.processors.get(pid) if plan else None
            runner = engine.runners.get(pplan.head) if pplan else None
            state = slot.state.value
            if pplan is not None and not pplan.scheduled and slot.state in (SlotState.ADDED, SlotState.READY):
                state = "not scheduled"
            entry: dict[str, Any] = {
                "type": slot.type_name,
                "frames_in": slot.frames_in,
                "frames_out": slot.frames_out,
                "process_calls": slot.calls,
                "process_time_us_mean": round(slot.time_ns / slot.timed_calls / 1e3, 3)
                if slot.timed_calls
                else 0.0,
                "process_time_us_max": round(slot.max_ns / 1e3, 3),
                "process_time_us_p99": _p99_us(slot.window()[0]),
                "thread": runner.name if runner is not None else None,
                "state": state,
            }
            if pplan is not None and pplan.cost.value != "unmeasured":
                entry["cost"] = pplan.cost.value
            if pid in engine._removed_drops:
                entry["dropped_on_disconnect"] = engine._removed_drops[pid]
            group = engine.groups.get(pid)
            if group is not None and group.kind == GroupKind.CLOCK:
                entry["ticks"] = group.ticks
                entry["ticks_late"] = group.ticks_late
                entry["ticks_skipped"] = group.ticks_skipped
            if slot.latency is not None:
                entry.update(slot.latency.summary())
            try:
                entry.update(slot.processor.metrics())
            except Exception as exc:  # a broken metrics() must not break stats()
                entry["metrics_error"] = f"{type(exc).__name__}: {exc}"
            processors[pid] = entry
        connections: dict[int, Any] = {}
        for cid, endpoint in engine.endpoints.items():
            connection = engine.connections[cid]
            if isinstance(endpoint, RingBuffer):
                s = endpoint.statistics()
                connections[cid] = {
                    "source": connection.source_ref,
                    "sink": connection.sink_ref,
                    "fused": False,
                    "capacity": s.capacity,
                    "occupancy": s.occupancy,
                    "frames": s.frames,
                    "dropped": s.dropped,
                    "peak": s.peak,
                    "policy": "drop_oldest" if s.drop_oldest else "block",
                    "batched": s.batched,
                }
            else:
                connections[cid] = {
                    "source": connection.source_ref,
                    "sink": connection.sink_ref,
                    "fused": True,
                    "capacity": None,
                    "occupancy": len(endpoint),
                    "frames": endpoint.frames,
                    "dropped": endpoint.dropped,
                }
        threads = [
            {
                "name": r.name,
                "native_id": r.native_id,
                "processors": [m.processor_id for m in r.group.members],
                "priority": r.priority.name,
                "applied": r.applied,
                "cpus": engine.placement.cpus_of(r.native_id),
            }
            for r in engine.runners.values()
            if r.applied is not None and r.thread.is_alive()
        ]
        pool = engine.pool
        if pool is not None and pool.running:
            pooled = [m.processor_id for r in pool.runners() for m in r.group.members]
            threads += [
                {
                    "name": worker.name,
                    "native_id": worker.native_id,
                    "processors": pooled,
                    "priority": "REAL_TIME",
                    "applied": pool.applied.get(worker.native_id or -1),
                    "cpus": engine.placement.cpus_of(worker.native_id),
                }
                for worker in pool.workers
                if worker.native_id in pool.applied
            ]
    return {"processors": processors, "connections": connections, "threads": threads}


def _p99_us(window: list[int]) -> float:
    """p99 of the recent timed calls (the last ``COST_WINDOW``), in us."""
    if not window:
        return 0.0
    return round(nearest_rank(sorted(window), 0.99) / 1e3, 3)
