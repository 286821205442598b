"""The engine runs a plan: endpoints between thread groups, a runner per scheduled
group, OS priorities, faults contained to their component, metrics; and it moves
from one plan to the next while running, touching only what changed.

Synchronization: the engine's structures (slots, endpoints, groups, runners) are
changed only under ``_lock``, by one thread at a time (the runtime serializes
edits); runners touch only their own group's processors and endpoints. The lock is
never held while waiting on a runner: runners call back into the engine
(priorities, faults, end of stream), and those callbacks take the lock briefly.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

from .._clock import Clock
from .._errors import ProcessorError
from ..graph import Connection, Graph, Processor, ProcessorNode
from ..plan import POOL_WORKERS, ConnectionPlan, GraphPlan, OverflowPolicy, PlanDiff, ThreadPriority
from ._collector import Collector
from ._group import GroupKind, ThreadGroup
from ._latency import LatencyRecorder
from ._placement import Placement
from ._pool import PooledRunner, WorkerPool
from ._ports import bind_input, bind_outputs
from ._priority import PriorityPolicy
from ._replan import Replanner
from ._ring import FusedLink, RingBuffer
from ._runner import DedicatedRunner
from ._slot import ProcessorSlot, SlotState
from ._stats import snapshot

__all__ = ["Engine"]

log = logging.getLogger(__name__)

Endpoint = RingBuffer | FusedLink


def _describe_exc(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _failure(slot: ProcessorSlot, hook: str, exc: BaseException) -> ProcessorError:
    """The ProcessorError for ``exc`` raised by ``slot``'s ``hook``: a ProcessorError
    the processor raised about itself is kept as it is (no second prefix)."""
    if isinstance(exc, ProcessorError) and exc.processor_id == slot.processor_id:
        return exc
    what = (
        "streamlib failed while running it (a bug in streamlib, not in the processor)"
        if hook == "streamlib"
        else f"{hook}() failed"
    )
    error = ProcessorError(slot.processor_id, slot.type_name, f"{what}: {_describe_exc(exc)}")
    error.__cause__ = exc
    return error


class Engine:
    """Runs a plan, and re-plans live.

    Args:
        clock: the runtime's clock.
        report: receives every ProcessorError (the runtime appends it to ``errors``).
        notify: called when a group ended or halted, or an error was reported (wakes
            ``run()``).
        component_of: the connected component of a processor (an opaque key), to
            stop a failed processor's component and nothing else.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        report: Callable[[ProcessorError], None],
        notify: Callable[[], None],
        component_of: Callable[[str], object],
    ) -> None:
        self.clock = clock
        self._report = report
        self._notify = notify
        self._component_of = component_of
        self._lock = threading.RLock()
        self.slots: dict[str, ProcessorSlot] = {}
        self.endpoints: dict[int, Endpoint] = {}
        self.connections: dict[int, Connection] = {}
        self.groups: dict[str, ThreadGroup] = {}
        self.runners: dict[str, DedicatedRunner] = {}
        self.plan: GraphPlan | None = None
        self.priorities = PriorityPolicy()
        self.placement = Placement()
        self.collector = Collector()
        self._stopped = False
        self._removed_drops: dict[str, int] = {}
        self.pool: WorkerPool | None = None
        """The shared workers of pooled groups (made when the first one is)."""
        self._phases: dict[Fraction, tuple[int, int]] = {}
        """Tick phases per period: (epoch, sources started so far)."""

    @property
    def running(self) -> bool:
        return self.plan is not None

    def tick_origin(self, period: Fraction, now: int) -> int:
        """Where a clock-driven source's ticks start (its tick 0): at most one period
        before ``now``, so its first tick comes within one period. Sources with equal
        periods get phases spread across the period (0, 1/2, 1/4, 3/4, 1/8, ... of it
        after the first one's: the van der Corput sequence, so any number of them
        stays evenly spread), so hundreds of them do not all wake at the same instant.
        A clock-driven source is paced by the runtime's clock, not by a device, so its
        phase is the runtime's to choose."""
        with self._lock:
            epoch, k = self._phases.get(period, (now, 0))
            self._phases[period] = (epoch, k + 1)
        phase = Fraction(0)
        step = Fraction(1, 2)
        while k:  # van der Corput: mirror k's bits around the binary point
            if k & 1:
                phase += step
            k >>= 1
            step /= 2
        base = epoch + phase * period
        return math.floor(base + ((now - base) // period) * period)

    def live_slots(self) -> list[ProcessorSlot]:
        """Every processor in a running live thread group (a snapshot of the list; the
        measured cost rules read their counters and windows, see
        ``streamlib.plan.classify_cost``)."""
        with self._lock:
            return [
                slot
                for group in self.groups.values()
                if group.live and group.head.processor_id in self.runners
                for slot in group.members
                if not slot.ended
            ]

    def late_ticks(self) -> dict[str, int]:
        """Deadlines missed so far by every running clock-driven source (by id): ticks
        run more than a period late plus ticks skipped to shed load."""
        with self._lock:
            return {head: group.ticks_late + group.ticks_skipped for head, group in self._clock_groups()}

    def tick_periods(self) -> dict[str, int]:
        """The tick period (ns) of every running clock-driven source (by id)."""
        with self._lock:
            return {head: group.period_ns for head, group in self._clock_groups() if group.period_ns}

    def _clock_groups(self) -> list[tuple[str, ThreadGroup]]:
        """The running groups headed by a clock-driven source (the engine's lock held)."""
        return [
            (head, group)
            for head, group in self.groups.items()
            if group.kind == GroupKind.CLOCK and head in self.runners
        ]

    # --- processors ------------------------------------------------------------------

    def add(self, processor: Processor, node: ProcessorNode) -> ProcessorSlot:
        with self._lock:
            slot = ProcessorSlot(processor, node)
            self.slots[node.id] = slot
            return slot

    def add_live(self, processor: Processor, node: ProcessorNode) -> ProcessorSlot:
        """Add a processor to a running engine: ``setup()`` runs now, on the caller's
        thread (the processor has no thread of its own yet), so a missing device or
        file is reported by ``add_processor()`` itself."""
        slot = ProcessorSlot(processor, node)
        try:
            processor.setup()
        except BaseException as exc:
            raise _failure(slot, "setup", exc)  # noqa: B904 - the cause is set inside
        slot.set_up = True
        slot.state = SlotState.READY
        with self._lock:
            self.slots[node.id] = slot
        return slot

    def forget(self, processor_id: str) -> None:
        """Drop a processor that never ran (removed before start)."""
        with self._lock:
            self.slots.pop(processor_id, None)

    def discard(self, processor_id: str) -> None:
        """Drop a processor whose adding is being rolled back (shut down if set up)."""
        with self._lock:
            slot = self.slots.pop(processor_id, None)
        if slot is not None and slot.set_up:
            self._shutdown(slot)

    # --- start -------------------------------------------------------------------------

    def start(self, plan: GraphPlan, graph: Graph) -> None:
        """Wire ``plan``, set every scheduled processor up on its own thread, then let
        the groups run. Atomic: on a setup failure the processors already set up get
        ``on_shutdown()``, every thread is joined, and the ProcessorError is raised."""
        with self._lock:
            for cid, cplan in plan.connections.items():
                self._connect(cid, cplan, graph.connections[cid])
            for pid in plan.processors:
                self._bind(pid, plan, graph)
            for head, gplan in plan.groups.items():
                self.groups[head] = self._build_group(head, plan)
                if gplan.scheduled:
                    self.runners[head] = self.new_runner(self.groups[head], gplan.pooled)
            self._set_wakes(plan.connections, plan)
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
        if not failures:  # processors without a thread yet (not scheduled): set up here
            threaded = {m.processor_id for r in runners for m in r.group.members}
            homeless = [s for pid, s in self.slots.items() if pid not in threaded and not s.set_up]
            try:
                self._setup_members_of(homeless)
            except ProcessorError as error:
                failures.append(error)
        if failures:
            for runner in runners:
                runner.stop(shutdown=True)
            for runner in runners:
                runner.thread.join()
            if self.pool is not None:
                self.pool.stop(None)
            for slot in self.slots.values():
                if slot.set_up:  # set up on the caller's thread: shut down here
                    self._shutdown(slot)
            with self._lock:
                self._reset()
            raise failures[0]
        with self._lock:
            self.plan = plan
        for started in [runner.start_group() for runner in runners]:
            started.wait()
        self.after_plan(plan)

    def _setup_members(self, group: ThreadGroup) -> Callable[[], None]:
        return lambda: self._setup_members_of(group.members)

    @staticmethod
    def _setup_members_of(slots: Iterable[ProcessorSlot]) -> None:
        for slot in slots:
            if slot.set_up:
                continue
            try:
                slot.processor.setup()
            except BaseException as exc:
                slot.state = SlotState.FAILED
                raise _failure(slot, "setup", exc)  # noqa: B904 - the cause is set inside
            slot.set_up = True
            slot.state = SlotState.READY

    def new_runner(self, group: ThreadGroup, pooled: bool) -> DedicatedRunner:
        """A runner for ``group``: a thread of its own, or a seat on the shared pool."""
        if not pooled:
            return DedicatedRunner(group, self, self.clock)
        if self.pool is None:
            self.pool = WorkerPool(self.clock, POOL_WORKERS, self._pool_worker_started)
        return PooledRunner(group, self, self.clock, self.pool)

    def _pool_worker_started(self, worker: threading.Thread) -> None:
        """On each pool worker as it starts: it runs live sources, so it gets their
        real-time priority (or what the kernel grants instead)."""
        native_id = threading.get_native_id()
        applied, _ = self.priorities.apply(native_id, ThreadPriority.REAL_TIME)
        assert self.pool is not None
        self.pool.applied[native_id] = applied

    def retire_idle_pool(self, timeout: float = 5.0) -> None:
        """Stop the pool's workers when no group is pooled any more (a re-plan moved
        the last one out): they are threads the plan no longer counts."""
        pool = self.pool
        if pool is not None and pool.running and not pool.runners():
            pool.stop(timeout)

    def after_plan(self, plan: GraphPlan) -> None:
        """Once ``plan`` runs (after start or a re-plan): place the dedicated threads
        on CPUs, and keep the garbage collector's full passes off the long-lived
        objects while anything live runs (see ``_collector``)."""
        self.place(plan)
        self.collector.after_plan(frozenset(plan.processors), any(p.live for p in plan.processors.values()))

    def place(self, plan: GraphPlan) -> None:
        """CPU placement of the dedicated threads (after a plan change; see
        ``_placement``): the threads of each non-live component of an optimized plan
        share a CPU, until measured to compete for it."""
        components: dict[object, list[DedicatedRunner]] = {}
        with self._lock:
            if plan.optimized:
                for runner in self.runners.values():
                    if isinstance(runner, PooledRunner) or runner.group.live or runner.halted:
                        continue
                    key = self._component_of(runner.group.head_id)
                    components.setdefault(key, []).append(runner)
            self.placement.arrange(components)

    def check_placement(self, runner: DedicatedRunner) -> None:
        self.placement.check(runner)

    def _reset(self) -> None:
        self.placement.clear()
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
        self.connections.clear()
        self.groups.clear()
        self.runners.clear()

    # --- wiring (lock held) ----------------------------------------------------------

    def _connect(self, cid: int, cplan: ConnectionPlan, connection: Connection) -> Endpoint:
        endpoint: Endpoint
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
        self.connections[cid] = connection
        source = self.slots.get(connection.source)
        if source is not None and source.ended:  # joined after its producer's end of stream
            endpoint.push_eos()
        return endpoint

    def _bind(self, pid: str, plan: GraphPlan, graph: Graph) -> None:
        """Point every port of ``pid`` at its connections' endpoints, and give a sink
        of a live component its latency recorder."""
        slot = self.slots[pid]
        ins = graph.in_connections(pid)
        outs = graph.out_connections(pid)
        live_sink = plan.processors[pid].live and bool(slot.node.inputs) and not outs
        if live_sink and slot.latency is None:
            slot.latency = LatencyRecorder(self.clock)
        elif not live_sink:
            slot.latency = None
        feeds = {c.sink_port: self.endpoints[cid] for cid, c in ins.items()}
        for name, port in slot.inputs.items():
            feed = feeds.get(name)
            if port._endpoint is not feed or port._latency is not (slot.latency if feed else None):
                bind_input(port, feed, slot.latency if feed is not None else None)
                if isinstance(feed, FusedLink):
                    feed.attach_reader(port)
        targets: dict[str, list[Endpoint]] = {}
        for cid, c in sorted(outs.items()):
            targets.setdefault(c.source_port, []).append(self.endpoints[cid])
        for name, out in slot.outputs.items():
            wanted = tuple(targets.get(name, ()))
            if out._targets != wanted:
                bind_outputs(out, wanted)

    def _build_group(self, head: str, plan: GraphPlan) -> ThreadGroup:
        gplan = plan.groups[head]
        return ThreadGroup([self.slots[m] for m in gplan.members], self.clock, gplan.priority, gplan.live)

    def _set_wakes(self, cids: Iterable[int], plan: GraphPlan) -> None:
        for cid in cids:
            endpoint = self.endpoints.get(cid)
            if isinstance(endpoint, RingBuffer):
                runner = self.runners.get(plan.processors[self.connections[cid].sink].head)
                endpoint.set_wake(runner.wake if runner is not None else None)

    def _shutdown(self, slot: ProcessorSlot) -> None:
        slot.set_up = False
        try:
            slot.processor.on_shutdown()
        except BaseException as exc:
            self.hook_failed(slot, "on_shutdown", exc)
        slot.state = SlotState.STOPPED

    # --- runner host -----------------------------------------------------------------

    def apply_priority(self, runner: DedicatedRunner) -> None:
        if isinstance(runner, PooledRunner):  # the pool's workers have theirs
            return
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
        error = _failure(slot, hook, exc)
        log.error("%s; stopping its component", error)
        self._report(error)  # recorded before its component counts as ended
        self._halt_component(slot.processor_id)
        self._notify()

    def hook_failed(self, slot: ProcessorSlot, hook: str, exc: BaseException) -> None:
        error = _failure(slot, hook, exc)
        log.error("%s", error)
        self._report(error)
        self._notify()

    def group_done(self, runner: DedicatedRunner) -> None:
        self._notify()

    def end_component(self, processor_id: str) -> None:
        """A processor ended itself while its inputs still ran (a display whose window
        was closed): end every source of its component, so end of stream reaches
        everything and ``run()`` returns."""
        with self._lock:
            component = self._component_of(processor_id)
            sources = [
                runner
                for head, runner in self.runners.items()
                if not self.groups[head].head.in_endpoints and self._component_of(head) == component
            ]
        log.info("%s ended itself: ending the sources of its component", processor_id)
        for runner in sources:
            runner.end_source()

    def _halt_component(self, processor_id: str) -> None:
        with self._lock:
            component = self._component_of(processor_id)
            for head, group in self.groups.items():
                if self._component_of(head) != component:
                    continue
                for member in group.members:
                    if member.state in (SlotState.RUNNING, SlotState.READY):
                        member.state = SlotState.HALTED
                runner = self.runners.get(head)
                if runner is not None:
                    runner.halt()
            for cid, endpoint in self.endpoints.items():
                if (
                    isinstance(endpoint, RingBuffer)
                    and self._component_of(self.connections[cid].source) == component
                ):
                    endpoint.close()  # release writers blocked on the halted part

    # --- waiting and stopping --------------------------------------------------------

    def idle(self) -> bool:
        """Nothing more can arrive: every scheduled group has ended or was halted by a
        failure in its component, or is waiting for input that no running source can
        send any more (its upstream is not scheduled). Read from the groups
        themselves, so a re-plan that moves processors between groups cannot leave a
        stale count."""
        with self._lock:
            if self._stopped:
                return True
            plan = self.plan
            pending = {h for h, r in self.runners.items() if not (r.group.ended or r.halted)}
            if not pending or plan is None:
                return not pending
            # every scheduled source group, ended or not: an ended one's end of stream
            # may still be on its way down
            frontier = [h for h in self.runners if not self.groups[h].head.in_endpoints]
            reached = set(frontier)
            downstream: dict[str, list[str]] = {}
            for c in self.connections.values():
                downstream.setdefault(plan.processors[c.source].head, []).append(plan.processors[c.sink].head)
            while frontier:
                head = frontier.pop()
                for nxt in downstream.get(head, ()):
                    if nxt not in reached:
                        reached.add(nxt)
                        frontier.append(nxt)
            return not (pending & reached)

    def stop(self, timeout: float) -> list[ProcessorError]:
        """Stop every runner: ``on_shutdown()`` on each processor's own thread, join
        with ``timeout`` for the whole call. Returns errors for threads that did not
        stop (abandoned daemon threads, still inside ``process()``). Processors that
        were set up but have no thread (not scheduled) are shut down here."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            runners = list(self.runners.values())
            for endpoint in self.endpoints.values():
                if isinstance(endpoint, RingBuffer):
                    endpoint.close()
            self._stopped = True
            threaded = {m.processor_id for r in runners for m in r.group.members}
            homeless = [s for pid, s in self.slots.items() if s.set_up and pid not in threaded]
        for slot in homeless:
            self._shutdown(slot)
        for runner in runners:
            runner.stop(shutdown=True)
        stuck: list[ProcessorError] = []
        for runner in runners:
            runner.thread.join(max(0.0, deadline - time.monotonic()))
        if self.pool is not None:
            self.pool.stop(max(0.0, deadline - time.monotonic()))
        for runner in runners:
            if runner.thread.is_alive():
                group = runner.group
                runner.abandoned = True
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
        self.placement.clear()
        self.collector.release()
        for error in stuck:
            log.error("%s", error)
        return stuck

    # --- stats -----------------------------------------------------------------------

    def thread_names(self) -> list[str]:
        with self._lock:
            return [r.name for r in self.runners.values()]

    def stats(self, plan: GraphPlan | None = None) -> dict[str, Any]:
        """A snapshot of the engine's metrics (see ``_stats.snapshot``)."""
        return snapshot(self, plan)

    # --- live re-planning ----------------------------------------------------------------

    def apply(self, new: GraphPlan, graph: Graph, changes: PlanDiff) -> None:
        """Move the running engine from its plan to ``new`` (see ``_replan``).

        Raises:
            RuntimeStateError: a thread did not reach a frame boundary in time (it is
                stuck inside ``process()``); nothing was changed.
        """
        Replanner(self).apply(new, graph, changes)
