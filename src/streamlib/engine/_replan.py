"""Live re-planning: moving a running engine from one plan to the next, touching only
what changed.

Only the thread groups that hold a processor whose wiring or group changes are
paused, at a frame boundary, upstream first; endpoints are swapped or reconfigured
with their contents; ports are rebound; threads whose group is gone stop, new
groups get threads, paused ones resume on their (possibly new) group. Every other
thread runs on untouched.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .._errors import RuntimeStateError
from ..graph import Connection, Graph
from ..plan import ConnectionPlan, GraphPlan, OverflowPolicy, PlanDiff
from ._group import ThreadGroup
from ._pool import PooledRunner
from ._ports import bind_input, bind_outputs
from ._ring import RingBuffer
from ._runner import DedicatedRunner

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Replanner"]

log = logging.getLogger(__name__)

PAUSE_TIMEOUT_S = 5.0
"""How long a re-plan waits for a thread to reach a frame boundary."""


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


class Replanner:
    """One re-plan of an engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        old = self.engine.plan
        assert old is not None
        touched = self._touched(old, new, graph, changes)
        pause_heads = {old.processors[p].head for p in touched if p in old.processors}
        paused = self._pause([h for h in pause_heads if h in self.engine.runners], graph)
        removed = [p for p in changes.processors_removed if p in self.engine.slots]
        try:
            self._shutdown_removed(removed, old)
            with self.engine._lock:
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
            c = self.engine.connections[cid]
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
        with self.engine._lock:
            runners = [self.engine.runners[h] for h in heads]
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
            slot = self.engine.slots[pid]
            if not slot.set_up:
                continue
            runner = self.engine.runners.get(old.processors[pid].head)
            if runner is not None and runner.thread.is_alive():
                call = runner.call(lambda slot=slot: self.engine._shutdown(slot))  # type: ignore[misc]
                call.done.wait()
            else:
                self.engine._shutdown(slot)

    def _rewire(
        self, old: GraphPlan, new: GraphPlan, graph: Graph, changes: PlanDiff, touched: set[str]
    ) -> tuple[dict[str, ThreadGroup], set[int]]:
        """Swap endpoints and rebind ports (paused threads only); returns the new
        groups to run and the queues whose consumer may have moved."""
        for cid in changes.connections_removed:
            endpoint = self.engine.endpoints.pop(cid)
            connection = self.engine.connections.pop(cid)
            dropped = endpoint.discard() if len(endpoint) else 0
            if dropped:
                log.info(
                    "connection %s (%s) removed with %d frames queued: dropped", cid, connection, dropped
                )
                for pid in (connection.source, connection.sink):
                    self.engine._removed_drops[pid] = self.engine._removed_drops.get(pid, 0) + dropped
        for cid in changes.connections_changed:
            self._reconfigure(cid, old.connections[cid], new.connections[cid], graph.connections[cid])
        for cid in changes.connections_added:
            self.engine._connect(cid, new.connections[cid], graph.connections[cid])
        for pid in changes.processors_removed:
            slot = self.engine.slots.pop(pid, None)
            if slot is not None:
                for port in slot.inputs.values():
                    bind_input(port, None)
                for out in slot.outputs.values():
                    bind_outputs(out, ())
        for pid in touched:
            if pid in new.processors:
                self.engine._bind(pid, new, graph)
        heads = {new.processors[p].head for p in touched if p in new.processors}
        groups = {head: self.engine._build_group(head, new) for head in heads}
        for head, group in groups.items():
            previous = self.engine.groups.get(head)
            if previous is not None:
                group.adopt(previous)
        for head in {old.processors[p].head for p in touched if p in old.processors} - set(groups):
            self.engine.groups.pop(head, None)
        self.engine.groups.update(groups)
        self.engine.plan = new
        wakes = {cid for pid in touched if pid in graph for cid in graph.in_connections(pid)}
        return groups, wakes

    def _reconfigure(
        self, cid: int, was: ConnectionPlan, now: ConnectionPlan, connection: Connection
    ) -> None:
        """A connection changed kind, capacity or policy: keep what it holds, in order."""
        endpoint = self.engine.endpoints[cid]
        if not was.fused and not now.fused:
            assert isinstance(endpoint, RingBuffer)
            assert now.capacity is not None
            endpoint.configure(
                capacity=now.capacity,
                drop_oldest=now.policy is OverflowPolicy.DROP_OLDEST,
                batched=now.batched,
            )
            self.engine.connections[cid] = connection
            return
        frames, lost = endpoint.frames, endpoint.dropped  # (its writer and reader are paused)
        items, eos = endpoint.drain()
        replacement = self.engine._connect(cid, now, connection)
        # handed over first, ahead of anything written from now on
        dropped = replacement.load(items, eos)
        replacement.carry(frames - len(items), lost)
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
        moved: set[str] = set()
        """Heads of groups that ran before and get a new runner (they moved into or
        out of the pool): they continue their schedule, no new activation."""
        retired: list[DedicatedRunner] = []
        with self.engine._lock:
            for head in {r.group.head_id for r in paused} | set(groups):
                runner = self.engine.runners.get(head)
                gplan = new.groups.get(head)
                if runner is not None and (
                    gplan is None or not gplan.scheduled or gplan.pooled != isinstance(runner, PooledRunner)
                ):
                    del self.engine.runners[head]
                    paused_by_head.pop(head, None)
                    runner.stop(shutdown=False)  # its processors live on elsewhere (or were removed)
                    retired.append(runner)
                    if gplan is not None and gplan.scheduled:
                        moved.add(head)
            for head, group in groups.items():
                gplan = new.groups[head]
                if not gplan.scheduled:
                    continue
                runner = self.engine.runners.get(head)
                if runner is None:
                    runner = self.engine.new_runner(group, gplan.pooled)
                    self.engine.runners[head] = runner
                    starting.append(runner)
                else:
                    runner.adopt(group)
            self.engine._set_wakes(wakes, new)
        for runner in retired:  # parked: they exit at once; none may run a pass any more
            runner.thread.join(PAUSE_TIMEOUT_S)
        for head, runner in paused_by_head.items():
            if runner.thread.is_alive() and self.engine.runners.get(head) is runner:
                old_gplan = old.groups.get(runner.group.head_id)
                if old_gplan is not None and old_gplan.priority is not runner.priority:
                    self.engine.apply_priority(runner)
                runner.resume(activate=old_gplan is None or not old_gplan.scheduled)
        for runner in starting:
            runner.start_thread()
        for runner in starting:
            runner.up.wait()
        for runner in starting:
            call = runner.call(self.engine._setup_members(runner.group))
            call.done.wait()
            if call.error is not None:
                raise call.error
        for started in [
            runner.start_group(activate=runner.group.head_id not in moved) for runner in starting
        ]:
            started.wait()
        self.engine.after_plan(new)
        self.engine.retire_idle_pool()
        self.engine._notify()
