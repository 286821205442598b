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
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .._clock import Clock
from .._errors import ProcessorError, RuntimeStateError
from ..graph import Connection, Graph, Processor, ProcessorNode
from ..plan import ConnectionPlan, GraphPlan, OverflowPolicy, PlanDiff, ThreadPriority
from ._group import GroupKind, ThreadGroup
from ._latency import LatencyRecorder
from ._ports import bind_input, bind_outputs
from ._priority import PriorityPolicy
from ._ring import FusedLink, RingBuffer
from ._runner import DedicatedRunner
from ._slot import ProcessorSlot, SlotState

__all__ = ["Engine"]

log = logging.getLogger(__name__)

PAUSE_TIMEOUT_S = 5.0
"""How long a re-plan waits for a thread to reach a frame boundary."""

Endpoint = RingBuffer | FusedLink


def _describe_exc(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _failure(slot: ProcessorSlot, hook: str, exc: BaseException) -> ProcessorError:
    """The ProcessorError for ``exc`` raised by ``slot``'s ``hook``: a ProcessorError
    the processor raised about itself is kept as it is (no second prefix)."""
    if isinstance(exc, ProcessorError) and exc.processor_id == slot.processor_id:
        return exc
    error = ProcessorError(slot.processor_id, slot.type_name, f"{hook}() failed: {_describe_exc(exc)}")
    error.__cause__ = exc
    return error


def _rings_fed_by(group: ThreadGroup) -> list[RingBuffer]:
    return [
        target
        for slot in group.members
        for port in slot.outputs.values()
        for target in port._targets
        if isinstance(target, RingBuffer)
    ]


def _rank(pid: str, graph: Graph, memo: dict[str, int]) -> int:
    """The longest path from a source to ``pid`` (upstream first); only ``pid``'s
    ancestors are visited."""
    if pid in memo:
        return memo[pid]
    if pid not in graph:  # being removed: after its upstream, whose writes it may hold up
        return 1 << 30
    stack = [(pid, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        sources = [c.source for c in graph.in_connections(node).values()]
        if ready:
            memo[node] = 1 + max((memo[s] for s in sources), default=-1)
            continue
        stack.append((node, True))
        stack.extend((s, False) for s in sources if s not in memo)
    return memo[pid]


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
        self._stopped = False
        self._removed_drops: dict[str, int] = {}

    @property
    def running(self) -> bool:
        return self.plan is not None

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
                    self.runners[head] = DedicatedRunner(self.groups[head], self, self.clock)
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

    # --- live re-planning --------------------------------------------------------------

    def apply(self, new: GraphPlan, graph: Graph, changes: PlanDiff) -> None:
        """Move the running engine from its plan to ``new``.

        Only the thread groups that hold a processor whose wiring or group changed are
        paused, at a frame boundary, upstream first; they are rewired and resumed.
        Every other thread runs on untouched. Queued frames move with their
        connection when its kind or capacity changes; a connection that disappears
        drops (and counts) what it still held; processors are never re-created.

        Raises:
            RuntimeStateError: a thread did not reach a frame boundary in time (it is
                stuck inside ``process()``); nothing was changed.
        """
        old = self.plan
        assert old is not None
        touched = self._touched(old, new, graph, changes)
        pause_heads = {old.processors[p].head for p in touched if p in old.processors}
        paused = self._pause([h for h in pause_heads if h in self.runners], graph)
        removed = [p for p in changes.processors_removed if p in self.slots]
        try:
            self._shutdown_removed(removed, old)
            with self._lock:
                groups, wakes = self._rewire(old, new, graph, changes, touched)
        except BaseException:
            for runner in paused:
                runner.resume()
            raise
        self._restart(old, new, groups, wakes, paused)

    def _touched(self, old: GraphPlan, new: GraphPlan, graph: Graph, changes: PlanDiff) -> set[str]:
        """Processors whose ports or thread group change."""
        touched = set(changes.processors_added) | set(changes.processors_removed)
        for cid in (*changes.connections_added, *changes.connections_changed):
            c = graph.connections[cid]
            touched.update((c.source, c.sink))
        for cid in changes.connections_removed:
            c = self.connections[cid]
            touched.update((c.source, c.sink))
        for head in (*changes.groups_changed, *changes.groups_removed):
            touched.update(old.groups[head].members)
        for head in (*changes.groups_changed, *changes.groups_added):
            touched.update(new.groups[head].members)
        return touched

    def _pause(self, heads: list[str], graph: Graph) -> list[DedicatedRunner]:
        """Park these groups' runners at a frame boundary, upstream first: a producer
        blocked on a full queue then finishes its write while its consumer still
        runs."""
        with self._lock:
            runners = [self.runners[h] for h in heads]
        runners = [r for r in runners if r.thread.is_alive()]
        ranks: dict[str, int] = {}
        runners.sort(key=lambda r: _rank(r.group.head_id, graph, ranks))
        parked: list[DedicatedRunner] = []
        yielding = [ring for r in runners for ring in _rings_fed_by(r.group)]
        for ring in yielding:  # a producer blocked on a full queue must reach its boundary
            ring.set_yield(True)
        try:
            for runner in runners:
                pause = runner.pause()
                if not pause.paused.wait(PAUSE_TIMEOUT_S):
                    for other in parked:
                        other.resume()
                    runner.resume()  # withdraws the request once it gets there
                    current, hook = runner.where_stuck()
                    raise RuntimeStateError(
                        f"cannot re-plan: {current.describe()} did not reach a frame boundary within "
                        f"{PAUSE_TIMEOUT_S:g} s (still inside {hook}()); nothing was changed"
                    )
                parked.append(runner)
        finally:
            for ring in yielding:
                ring.set_yield(False)
        return parked

    def _shutdown_removed(self, removed: list[str], old: GraphPlan) -> None:
        """``on_shutdown()`` for removed processors, on their own (parked) thread."""
        for pid in removed:
            slot = self.slots[pid]
            if not slot.set_up:
                continue
            runner = self.runners.get(old.processors[pid].head)
            if runner is not None and runner.thread.is_alive():
                call = runner.call(lambda slot=slot: self._shutdown(slot))  # type: ignore[misc]
                call.done.wait()
            else:
                self._shutdown(slot)

    def _shutdown(self, slot: ProcessorSlot) -> None:
        slot.set_up = False
        try:
            slot.processor.on_shutdown()
        except BaseException as exc:
            self.hook_failed(slot, "on_shutdown", exc)
        slot.state = SlotState.STOPPED

    def _rewire(
        self, old: GraphPlan, new: GraphPlan, graph: Graph, changes: PlanDiff, touched: set[str]
    ) -> tuple[dict[str, ThreadGroup], set[int]]:
        """Swap endpoints and rebind ports (paused threads only); returns the new
        groups to run and the queues whose consumer may have moved."""
        for cid in changes.connections_removed:
            endpoint = self.endpoints.pop(cid)
            connection = self.connections.pop(cid)
            dropped = endpoint.discard() if len(endpoint) else 0
            if dropped:
                log.info(
                    "connection %s (%s) removed with %d frames queued: dropped", cid, connection, dropped
                )
                for pid in (connection.source, connection.sink):
                    self._removed_drops[pid] = self._removed_drops.get(pid, 0) + dropped
        for cid in changes.connections_changed:
            self._reconfigure(cid, old.connections[cid], new.connections[cid], graph.connections[cid])
        for cid in changes.connections_added:
            self._connect(cid, new.connections[cid], graph.connections[cid])
        for pid in changes.processors_removed:
            slot = self.slots.pop(pid, None)
            if slot is not None:
                for port in slot.inputs.values():
                    bind_input(port, None)
                for out in slot.outputs.values():
                    bind_outputs(out, ())
        for pid in touched:
            if pid in new.processors:
                self._bind(pid, new, graph)
        heads = {new.processors[p].head for p in touched if p in new.processors}
        groups = {head: self._build_group(head, new) for head in heads}
        for head, group in groups.items():
            previous = self.groups.get(head)
            if previous is not None:
                group.adopt(previous)
        for head in {old.processors[p].head for p in touched if p in old.processors} - set(groups):
            self.groups.pop(head, None)
        self.groups.update(groups)
        self.plan = new
        wakes = {cid for pid in touched if pid in graph for cid in graph.in_connections(pid)}
        return groups, wakes

    def _reconfigure(
        self, cid: int, was: ConnectionPlan, now: ConnectionPlan, connection: Connection
    ) -> None:
        """A connection changed kind, capacity or policy: keep what it holds, in order."""
        endpoint = self.endpoints[cid]
        if not was.fused and not now.fused:
            assert isinstance(endpoint, RingBuffer)
            assert now.capacity is not None
            endpoint.configure(
                capacity=now.capacity,
                drop_oldest=now.policy is OverflowPolicy.DROP_OLDEST,
                batched=now.batched,
            )
            self.connections[cid] = connection
            return
        items, eos = endpoint.drain()
        replacement = self._connect(cid, now, connection)
        # handed over first, ahead of anything written from now on
        dropped = replacement.load(items, eos)
        if dropped:
            log.info("connection %s: %d queued frames dropped moving to a smaller live queue", cid, dropped)

    def _restart(
        self,
        old: GraphPlan,
        new: GraphPlan,
        groups: dict[str, ThreadGroup],
        wakes: set[int],
        paused: list[DedicatedRunner],
    ) -> None:
        """Stop threads whose group is gone, start threads for new groups, resume the
        paused ones on their (possibly new) group."""
        paused_by_head = {r.group.head_id: r for r in paused}
        starting: list[DedicatedRunner] = []
        with self._lock:
            for head in {r.group.head_id for r in paused} | set(groups):
                runner = self.runners.get(head)
                gplan = new.groups.get(head)
                if runner is not None and (gplan is None or not gplan.scheduled):
                    del self.runners[head]
                    paused_by_head.pop(head, None)
                    runner.stop(shutdown=False)  # its processors live on elsewhere (or were removed)
            for head, group in groups.items():
                gplan = new.groups[head]
                if not gplan.scheduled:
                    continue
                runner = self.runners.get(head)
                if runner is None:
                    runner = DedicatedRunner(group, self, self.clock)
                    self.runners[head] = runner
                    starting.append(runner)
                else:
                    runner.adopt(group)
            self._set_wakes(wakes, new)
        for head, runner in paused_by_head.items():
            if runner.thread.is_alive() and self.runners.get(head) is runner:
                old_gplan = old.groups.get(runner.group.head_id)
                if old_gplan is not None and old_gplan.priority is not runner.priority:
                    self.apply_priority(runner)
                runner.resume(activate=old_gplan is None or not old_gplan.scheduled)
        for runner in starting:
            runner.start_thread()
        for runner in starting:
            runner.up.wait()
        for runner in starting:
            call = runner.call(self._setup_members(runner.group))
            call.done.wait()
            if call.error is not None:
                raise call.error
        for started in [runner.start_group() for runner in starting]:
            started.wait()
        self._notify()

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
        """No scheduled group is still running: every one has ended or was halted by a
        failure in its component (read from the groups themselves, so a re-plan that
        moves processors between groups cannot leave a stale count)."""
        with self._lock:
            if self._stopped:
                return True
            return all(r.group.ended or r.halted for r in self.runners.values())

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

    def stats(self, plan: GraphPlan | None = None) -> dict[str, Any]:
        with self._lock:
            plan = self.plan or plan
            processors: dict[str, Any] = {}
            for pid, slot in self.slots.items():
                pplan = plan.processors.get(pid) if plan else None
                runner = self.runners.get(pplan.head) if pplan else None
                state = slot.state.value
                if (
                    pplan is not None
                    and not pplan.scheduled
                    and slot.state in (SlotState.ADDED, SlotState.READY)
                ):
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
                    "thread": runner.name if runner is not None else None,
                    "state": state,
                }
                if pid in self._removed_drops:
                    entry["dropped_on_disconnect"] = self._removed_drops[pid]
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
                connection = self.connections[cid]
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
                }
                for r in self.runners.values()
                if r.applied is not None and r.thread.is_alive()
            ]
        return {"processors": processors, "connections": connections, "threads": threads}
