"""ThreadGroup: what one thread group runs, separate from which OS thread runs it.

A group is data (its processors in pass order, their endpoints) plus ``run_pass()``,
which does one pass and says what it needs next: more work now, a clock deadline,
or input. A runner (a dedicated thread today, a pool worker later) drives it.

Within a pass the head runs once (a tick for a clock-driven source, one call for a
looping source, one call when an input holds a frame otherwise), then every fused
processor in topological order is called while its fused input holds a frame, so a
frame crosses the whole fused chain in the pass that produced it.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING

from .._clock import Clock
from ..graph import ProcessorStatus
from ._slot import ProcessorSlot, SlotState

if TYPE_CHECKING:
    from ..plan import ThreadPriority

__all__ = ["DONE", "MORE", "WAIT_DEADLINE", "WAIT_INPUT", "GroupKind", "ThreadGroup"]

MORE = 0
"""Call run_pass() again now."""
WAIT_INPUT = 1
"""Nothing to do until an input endpoint receives a frame or end of stream."""
WAIT_DEADLINE = 2
"""Nothing to do until ``deadline_ns`` on the clock."""
DONE = 3
"""Every processor of the group has ended."""


class GroupKind:
    CLOCK = 0
    """Head is a clock-driven source: one tick per period at absolute deadlines."""
    LOOP = 1
    """Head is a source that is called in a loop (it may block inside process())."""
    INPUT = 2
    """Head runs when one of its inputs holds a frame."""


_EOS = ProcessorStatus.END_OF_STREAM


class ThreadGroup:
    """A head processor and the processors fused into it.

    Attributes read by runners: ``kind``, ``deadline_ns`` (valid after
    ``WAIT_DEADLINE``), ``current`` and ``hook`` (what was running when a pass
    raised).
    """

    __slots__ = (
        "head",
        "fused",
        "members",
        "clock",
        "priority",
        "live",
        "kind",
        "period_ns",
        "deadline_ns",
        "ticks",
        "ticks_late",
        "current",
        "hook",
    )

    def __init__(
        self, members: list[ProcessorSlot], clock: Clock, priority: ThreadPriority, live: bool
    ) -> None:
        self.members = tuple(members)
        self.head = members[0]
        self.fused = tuple(members[1:])
        self.clock = clock
        self.priority = priority
        self.live = live
        self.period_ns = 0
        self.deadline_ns = 0
        self.ticks = 0
        self.ticks_late = 0
        self.current: ProcessorSlot = self.head
        self.hook = "process"
        self.kind = GroupKind.INPUT
        self.refresh()

    @property
    def head_id(self) -> str:
        return self.head.processor_id

    def refresh(self) -> None:
        """Recompute what the group's shape implies (after wiring changed)."""
        for slot in self.members:
            slot.refresh_endpoints()
        head = self.head
        if head.in_endpoints:
            self.kind = GroupKind.INPUT
        elif head.node.clock_driven:
            self.kind = GroupKind.CLOCK
            period = head.processor.period_ns
            assert period is not None
            self.period_ns = period
        else:
            self.kind = GroupKind.LOOP

    def activate(self) -> None:
        """Called by the runner when the group starts running (first tick one period
        from now, so a source emits one buffer per elapsed period)."""
        if self.kind == GroupKind.CLOCK:
            self.deadline_ns = self.clock.now_ns() + self.period_ns
        for slot in self.members:
            if slot.state is SlotState.READY:
                slot.state = SlotState.RUNNING

    @property
    def ended(self) -> bool:
        return all(slot.ended for slot in self.members)

    # --- the pass --------------------------------------------------------------------

    def _call(self, slot: ProcessorSlot) -> ProcessorStatus | None:
        self.current = slot
        t0 = perf_counter_ns()
        status = slot.process()
        elapsed = perf_counter_ns() - t0
        slot.calls += 1
        slot.time_ns += elapsed
        if elapsed > slot.max_ns:
            slot.max_ns = elapsed
        return status

    def _end(self, slot: ProcessorSlot) -> None:
        """End of stream for ``slot``: flush (on_end_of_stream for processors with
        inputs), then pass end of stream on behind its last frame."""
        self.current = slot
        if slot.in_endpoints:
            self.hook = "on_end_of_stream"
            slot.processor.on_end_of_stream()
            self.hook = "process"
            for endpoint in slot.in_endpoints:  # frames it never read: dropped, counted
                endpoint.discard()
        slot.ended = True
        slot.state = SlotState.ENDED
        for port in slot.outputs.values():
            for target in port._targets:
                target.push_eos()

    def run_pass(self) -> int:
        head = self.head
        kind = self.kind
        if not head.ended:
            if kind == GroupKind.INPUT:
                for endpoint in head.in_endpoints:
                    if endpoint._items:
                        if self._call(head) is _EOS:
                            self._end(head)
                        break
                else:
                    if all(endpoint.at_eos() for endpoint in head.in_endpoints):
                        self._end(head)
            elif kind == GroupKind.LOOP:
                if self._call(head) is _EOS:
                    self._end(head)
            else:
                now = self.clock.now_ns()
                deadline = self.deadline_ns
                if now >= deadline:
                    self.ticks += 1
                    if now - deadline >= self.period_ns:
                        self.ticks_late += 1
                    self.deadline_ns = deadline + self.period_ns
                    if self._call(head) is _EOS:
                        self._end(head)
        for slot in self.fused:
            if slot.ended:
                continue
            endpoint = slot.in_endpoints[0]
            items = endpoint._items
            while items:
                before = slot.frames_in
                if self._call(slot) is _EOS:
                    self._end(slot)
                    break
                if slot.frames_in == before:
                    break  # no progress: it is waiting for something else
            if endpoint._eos and not slot.ended and (not items or head.ended):
                self._end(slot)
        return self._next(head, kind)

    def _next(self, head: ProcessorSlot, kind: int) -> int:
        if head.ended:
            for slot in self.fused:
                if not slot.ended:
                    return WAIT_INPUT
            return DONE
        if kind == GroupKind.INPUT:
            return MORE if self._input_ready(head) else WAIT_INPUT
        if kind == GroupKind.LOOP:
            return MORE
        return MORE if self.clock.now_ns() >= self.deadline_ns else WAIT_DEADLINE

    @staticmethod
    def _input_ready(head: ProcessorSlot) -> bool:
        endpoints = head.in_endpoints
        for endpoint in endpoints:
            if endpoint._items:
                return True
        return bool(endpoints) and all(endpoint.at_eos() for endpoint in endpoints)

    def ready(self) -> bool:
        """Whether a pass now would do work (re-checked before a runner sleeps)."""
        head = self.head
        if head.ended:
            return False
        kind = self.kind
        if kind == GroupKind.INPUT:
            return self._input_ready(head)
        if kind == GroupKind.LOOP:
            return True
        return self.clock.now_ns() >= self.deadline_ns
