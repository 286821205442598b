"""The engine runs one plan: endpoints between thread groups, a runner per scheduled
group, OS priorities, faults contained to their component, metrics.

Synchronization: the engine's structures (slots, endpoints, groups, runners) are
changed only under ``_lock`` by the thread applying a plan or stopping; runners
touch only their own group's processors and endpoints. Callbacks from runners
(``group_failed``, ``group_done``) take ``_lock`` briefly and never wait on a runner.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .._clock import Clock
from .._errors import ProcessorError
from ..graph import Graph, Processor, ProcessorNode
from ..plan import GraphPlan, OverflowPolicy, ThreadPriority
from ..plan._topology import components
from ._group import GroupKind, ThreadGroup
from ._latency import LatencyRecorder
from ._ports import bind_input, bind_outputs
from ._priority import PriorityPolicy
from ._ring import FusedLink, RingBuffer
from ._runner import DedicatedRunner
from ._slot import ProcessorSlot, SlotState

__all__ = ["Engine"]

log = logging.getLogger(__name__)


def _describe_exc(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Engine:
    """Runs a plan.

    Args:
        clock: the runtime's clock.
        report: receives every ProcessorError (the runtime appends it to ``errors``).
        notify: called when a group ended or halted, or an error was reported (wakes
            ``run()``).
    """

    def __init__(
        self,
        clock: Clock,
        *,
        report: Callable[[ProcessorError], None],
        notify: Callable[[], None],
    ) -> None:
        self.clock = clock
        self._report = report
        self._notify = notify
        self._lock = threading.RLock()
        self.slots: dict[str, ProcessorSlot] = {}
        self.endpoints: dict[int, RingBuffer | FusedLink] = {}
        self.groups: dict[str, ThreadGroup] = {}
        self.runners: dict[str, DedicatedRunner] = {}
        self.plan: GraphPlan | None = None
        self.priorities = PriorityPolicy()
        self._active: set[str] = set()
        self._component_of: dict[str, int] = {}
        self._connection_info: dict[int, tuple[str, str]] = {}

    # --- processors ------------------------------------------------------------------

    def add(self, processor: Processor, node: ProcessorNode) -> ProcessorSlot:
        with self._lock:
            slot = ProcessorSlot(processor, node)
            self.slots[node.id] = slot
            return slot

    def forget(self, processor_id: str) -> None:
        """Drop a processor that never ran (removed before start)."""
        with self._lock:
            self.slots.pop(processor_id, None)

    # --- start -------------------------------------------------------------------------

    def start(self, plan: GraphPlan, graph: Graph) -> None:
        """Wire ``plan``, set every scheduled processor up on its own thread, then let
        the groups run. Atomic: on a setup failure the processors already set up get
        ``on_shutdown()``, every thread is joined, and the ProcessorError is raised.

        The engine lock is never held while waiting on a runner: runners call back
        into the engine (priorities, faults)."""
        with self._lock:
            self._wire(plan, graph)
            runners = list(self.runners.values())
        for runner in runners:
            runner.start_thread()
        for runner in runners:
            runner.up.wait()
        calls = [runner.call(self._setup_members(runner.group)) for runner in runners]
        failures: list[ProcessorError] = []
        for call in calls:
            call.done.wait()
            if isinstance(call.error, ProcessorError):
                failures.append(call.error)
            elif call.error is not None:  # a bug in the engine itself: never hide it
                raise call.error
        if failures:
            for runner in runners:
                runner.stop(shutdown=True)
            for runner in runners:
                runner.thread.join()
            with self._lock:
                self._reset()
            raise failures[0]
        with self._lock:
            self.plan = plan
            for runner in runners:
                self._active.add(runner.group.head_id)
        for started in [runner.start_group() for runner in runners]:
            started.wait()

    def _setup_members(self, group: ThreadGroup) -> Callable[[], None]:
        def setup() -> None:
            for slot in group.members:
                if slot.set_up:
                    continue
                try:
                    slot.processor.setup()
                except BaseException as exc:
                    slot.state = SlotState.FAILED
                    raise ProcessorError(
                        slot.processor_id, slot.type_name, f"setup() failed: {_describe_exc(exc)}"
                    ) from exc
                slot.set_up = True
                slot.state = SlotState.READY

        return setup

    def _wire(self, plan: GraphPlan, graph: Graph) -> None:
        clock = self.clock
        slots = self.slots
        targets: dict[tuple[str, str], list[RingBuffer | FusedLink]] = {}
        inputs: dict[tuple[str, str], RingBuffer | FusedLink] = {}
        for cid, cplan in plan.connections.items():
            connection = graph.connections[cid]
            endpoint: RingBuffer | FusedLink
            if cplan.fused:
                endpoint = FusedLink()
            else:
                assert cplan.capacity is not None
                endpoint = RingBuffer(
                    cplan.capacity,
                    drop_oldest=cplan.policy is OverflowPolicy.DROP_OLDEST,
                    batched=cplan.batched,
                )
            self.endpoints[cid] = endpoint
            self._connection_info[cid] = (connection.source_ref, connection.sink_ref)
            targets.setdefault((connection.source, connection.source_port), []).append(endpoint)
            inputs[(connection.sink, connection.sink_port)] = endpoint
        for pid, slot in slots.items():
            pplan = plan.processors.get(pid)
            if pplan is None:
                continue
            is_live_sink = pplan.live and bool(slot.node.inputs) and not graph.out_connections(pid)
            slot.latency = LatencyRecorder(clock) if is_live_sink else None
            for name, port in slot.inputs.items():
                feed = inputs.get((pid, name))
                bind_input(port, feed, slot.latency if feed is not None else None)
                if isinstance(feed, FusedLink):
                    feed.attach_reader(port)
            for name, out in slot.outputs.items():
                bind_outputs(out, tuple(targets.get((pid, name), ())))
        for head, gplan in plan.groups.items():
            group = ThreadGroup([slots[m] for m in gplan.members], clock, gplan.priority, gplan.live)
            self.groups[head] = group
            if gplan.scheduled:
                self.runners[head] = DedicatedRunner(group, self, clock)
        for cid, cplan in plan.connections.items():
            if not cplan.fused:
                sink_head = plan.processors[graph.connections[cid].sink].head
                runner = self.runners.get(sink_head)
                endpoint = self.endpoints[cid]
                assert isinstance(endpoint, RingBuffer)
                endpoint.set_wake(runner.wake if runner is not None else None)
        for index, members in enumerate(components(graph.nodes, graph.connections.values())):
            for pid in members:
                self._component_of[pid] = index

    def _reset(self) -> None:
        for slot in self.slots.values():
            for port in slot.inputs.values():
                bind_input(port, None)
            for out in slot.outputs.values():
                bind_outputs(out, ())
            slot.refresh_endpoints()
            slot.latency = None
            if slot.state is not SlotState.FAILED:
                slot.state = SlotState.ADDED
        self.endpoints.clear()
        self.groups.clear()
        self.runners.clear()
        self._active.clear()
        self._component_of.clear()
        self._connection_info.clear()

    # --- runner host -----------------------------------------------------------------

    def apply_priority(self, runner: DedicatedRunner) -> None:
        assert runner.native_id is not None
        applied, newly_refused = self.priorities.apply(runner.native_id, runner.priority)
        runner.applied = applied
        if newly_refused:
            with self._lock:
                others = [
                    r
                    for r in self.runners.values()
                    if r is not runner and r.priority is ThreadPriority.NORMAL and r.native_id
                ]
            for other in others:
                assert other.native_id is not None
                with contextlib.suppress(OSError):  # the thread exited meanwhile
                    other.applied, _ = self.priorities.apply(other.native_id, ThreadPriority.NORMAL)

    def group_failed(
        self, runner: DedicatedRunner, slot: ProcessorSlot, hook: str, exc: BaseException
    ) -> None:
        slot.state = SlotState.FAILED
        error = ProcessorError(slot.processor_id, slot.type_name, f"{hook}() failed: {_describe_exc(exc)}")
        error.__cause__ = exc
        log.error("%s; stopping its component", error)
        self._report(error)  # recorded before its component counts as ended
        self._halt_component(slot.processor_id)
        self._notify()

    def hook_failed(self, slot: ProcessorSlot, hook: str, exc: BaseException) -> None:
        error = ProcessorError(slot.processor_id, slot.type_name, f"{hook}() failed: {_describe_exc(exc)}")
        error.__cause__ = exc
        log.error("%s", error)
        self._report(error)
        self._notify()

    def group_done(self, runner: DedicatedRunner) -> None:
        with self._lock:
            self._active.discard(runner.group.head_id)
        self._notify()

    def _halt_component(self, processor_id: str) -> None:
        with self._lock:
            component = self._component_of.get(processor_id)
            for head, group in self.groups.items():
                if self._component_of.get(head) != component:
                    continue
                for member in group.members:
                    if member.state in (SlotState.RUNNING, SlotState.READY):
                        member.state = SlotState.HALTED
                runner = self.runners.get(head)
                if runner is not None:
                    runner.halt()
                self._active.discard(head)
            for cid, endpoint in self.endpoints.items():
                if isinstance(endpoint, RingBuffer):
                    source = self._connection_info[cid][0].rsplit(".", 1)[0]
                    if self._component_of.get(source) == component:
                        endpoint.close()  # release writers blocked on the halted part

    # --- waiting and stopping --------------------------------------------------------

    def idle(self) -> bool:
        """No scheduled group is still running (all ended or halted)."""
        with self._lock:
            return not self._active

    def stop(self, timeout: float) -> list[ProcessorError]:
        """Stop every runner: ``on_shutdown()`` on each processor's own thread, join
        with ``timeout`` for the whole call. Returns errors for threads that did not
        stop (abandoned daemon threads, still inside ``process()``)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            runners = list(self.runners.values())
            for endpoint in self.endpoints.values():
                if isinstance(endpoint, RingBuffer):
                    endpoint.close()
            self._active.clear()
        for runner in runners:
            runner.stop(shutdown=True)
        stuck: list[ProcessorError] = []
        for runner in runners:
            runner.thread.join(max(0.0, deadline - time.monotonic()))
        for runner in runners:
            if runner.thread.is_alive():
                group = runner.group
                current, hook = runner.where_stuck()
                current.state = SlotState.STUCK
                others = [m.processor_id for m in group.members if m is not current]
                stuck.append(
                    ProcessorError(
                        current.processor_id,
                        current.type_name,
                        f"did not stop within {timeout:g} s: still inside {hook}(); "
                        f"thread {runner.name} (native id {runner.native_id}) was abandoned as "
                        "a daemon thread and its processors "
                        f"({', '.join([current.processor_id, *others])}) get no on_shutdown()",
                    )
                )
        for error in stuck:
            log.error("%s", error)
        return stuck

    # --- stats -----------------------------------------------------------------------

    def thread_names(self) -> list[str]:
        with self._lock:
            return [r.name for r in self.runners.values()]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            plan = self.plan
            processors: dict[str, Any] = {}
            for pid, slot in self.slots.items():
                head = plan.processors[pid].head if plan and pid in plan.processors else None
                runner = self.runners.get(head) if head else None
                entry: dict[str, Any] = {
                    "type": slot.type_name,
                    "frames_in": slot.frames_in,
                    "frames_out": slot.frames_out,
                    "process_calls": slot.calls,
                    "process_time_us_mean": round(slot.time_ns / slot.timed_calls / 1e3, 3)
                    if slot.timed_calls
                    else 0.0,
                    "process_time_us_max": round(slot.max_ns / 1e3, 3),
                    "thread": runner.name if runner is not None else None,
                    "state": slot.state.value
                    if plan is None
                    or plan.processors.get(pid, None) is None
                    or plan.processors[pid].scheduled
                    or slot.state is not SlotState.ADDED
                    else "not scheduled",
                }
                group = self.groups.get(pid)
                if group is not None and group.kind == GroupKind.CLOCK:
                    entry["ticks"] = group.ticks
                    entry["ticks_late"] = group.ticks_late
                if slot.latency is not None:
                    entry.update(slot.latency.summary())
                try:
                    entry.update(slot.processor.metrics())
                except Exception as exc:  # a broken metrics() must not break stats()
                    entry["metrics_error"] = f"{type(exc).__name__}: {exc}"
                processors[pid] = entry
            connections: dict[int, Any] = {}
            for cid, endpoint in self.endpoints.items():
                source, sink = self._connection_info[cid]
                if isinstance(endpoint, RingBuffer):
                    s = endpoint.statistics()
                    connections[cid] = {
                        "source": source,
                        "sink": sink,
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
                        "source": source,
                        "sink": sink,
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
                }
                for r in self.runners.values()
                if r.applied is not None and r.thread.is_alive()
            ]
        return {"processors": processors, "connections": connections, "threads": threads}
