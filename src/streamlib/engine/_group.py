"""ThreadGroup: what one thread group runs, separate from which OS thread runs it.

A group is data (its processors in pass order, their endpoints) plus ``run_pass()``,
which does one pass and says what it needs next: more work now, a clock deadline,
or input. A runner (a dedicated thread today, a pool worker later) drives it.

Within a pass the head runs (a tick for a clock-driven source, a call for a
looping source, a call per queued input frame otherwise, up to a budget), and
after each head call every fused processor, in topological order, is called while
its fused input holds a frame, so a frame crosses the whole fused chain in the
pass that produced it.

This is the hottest code in streamlib: a fused hop costs a few hundred
nanoseconds, so the loops keep everything they touch in locals, time only one
pass in ``TIMING_SAMPLE``, and check end of stream only when one was raised.

Synchronization: a group (and its processors' counters, fused links and stall
state) is touched only by the one thread running it, or by a re-plan while that
thread is parked at a frame boundary (the runner's pause is the hand-over). Its
ring endpoints synchronize themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from time import perf_counter_ns, thread_time_ns
from typing import TYPE_CHECKING, Any

from .._clock import Clock
from ..graph import ProcessorStatus
from ._ports import trusted
from ._ring import FusedLink
from ._slot import ProcessorSlot, SlotState

if TYPE_CHECKING:
    from ..plan import ThreadPriority

__all__ = ["DONE", "MORE", "TIMING_SAMPLE", "WAIT_DEADLINE", "WAIT_INPUT", "GroupKind", "ThreadGroup"]

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


def _no_mail() -> bool:
    return True


def _period_of(slot: ProcessorSlot) -> Fraction:
    """A clock-driven source's period as an exact fraction of nanoseconds."""
    period: object = slot.processor.period_ns
    if isinstance(period, float):
        period = Fraction(period).limit_denominator(1_000_000)
    if isinstance(period, bool) or not isinstance(period, (int, Fraction)) or period <= 0:
        raise ValueError(f"{slot.describe()}: period_ns must be a positive int or Fraction, got {period!r}")
    return Fraction(period)


TIMING_SAMPLE = 8
"""One pass in this many times every ``process()`` call it makes (a power of two):
timing every call would cost more than a fused hop. In a live component a timed call
is also timed on the thread's CPU clock (a system call, ~0.4 us) for the measured
cost rules, which get a fresh window of 16 calls within 2-3 s."""
_SAMPLE_MASK = TIMING_SAMPLE - 1
SHED_BEHIND_NS = 100_000_000
"""A clock-driven source whose due tick is this far behind (and at least two periods)
sheds load: it runs its latest due tick and skips the ones before it, counted in
``ticks_skipped`` (frames never made). Catching up on every missed tick instead would
hand the sink seconds-old data and keep an overloaded runtime overloaded."""
_BUDGET = 32
"""Head calls per pass of an input-driven or looping group before the runner looks
at its mailbox again (bounds how long a pause or stop waits)."""


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
        "ticks_skipped",
        "_tick_start",
        "_tick_num",
        "_tick_den",
        "_stall_mark",
        "end_requested",
        "_head_outputs",
        "no_mail",
        "current",
        "hook",
        "_chain",
        "_lazy_out",
        "_lazy_in",
        "_passes",
        "_cpu_mark",
        "_queued_ports",
        "_eos_pending",
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
        self.ticks_skipped = 0
        self._tick_start = 0
        self._tick_num = 0
        self._tick_den = 1
        self._stall_mark = -1
        self.end_requested = False
        """Set when a processor with inputs ended itself while its inputs still run (a
        display whose window was closed): the runner asks the engine to end the
        component's sources, so everything upstream reaches end of stream."""
        self._head_outputs: tuple[Any, ...] = ()
        self.no_mail: Any = _no_mail
        """A zero-argument callable, false when the runner has commands waiting (the
        pass then returns early so pauses and stops are not delayed)."""
        self.current: ProcessorSlot = self.head
        self.hook = "process"
        self.kind = GroupKind.INPUT
        self._chain: tuple[tuple[ProcessorSlot, Any, Any, bool], ...] = ()
        self._lazy_out: tuple[Any, ...] = ()
        self._lazy_in: tuple[Any, ...] = ()
        self._passes = 0
        self._cpu_mark = 0
        """Thread CPU time (ns) at the end of the last timed call of a timed live pass
        (or at its start): each timed call's CPU time runs from there, so a timed pass
        reads the CPU clock once per call, not twice (a system call here, ~0.5 us warm
        and several us cold; the wall clock is cheap and read around each call)."""
        self._queued_ports: tuple[Any, ...] = ()
        self._eos_pending = False
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
        else:
            self.kind = GroupKind.LOOP
        self._stall_mark = -1
        self._head_outputs = tuple(head.outputs.values())
        self._rebuild_chain()
        self._eos_pending = any(s.in_endpoints[0].eos for s in self.fused if not s.ended)
        self._lazy_out = tuple(
            target
            for slot in self.members
            for port in slot.outputs.values()
            for target in port._targets
            if getattr(target, "_eager", True) is False
        )
        self._lazy_in = tuple(e for e in head.in_endpoints if getattr(e, "_eager", True) is False)
        self._queued_ports = tuple(
            port
            for slot in self.members
            for port in slot.outputs.values()
            if any(not isinstance(target, FusedLink) for target in port._targets)
        )

    def flush(self) -> None:
        """End of a pass: wake consumers of batching queues this group fed, and
        release producers blocked on batching queues this group emptied."""
        for ring in self._lazy_out:
            if ring._items:
                ring._wake()
        for ring in self._lazy_in:
            if ring._waiting_writers and not ring._items:
                ring.release_writer()

    def _rebuild_chain(self) -> None:
        self._chain = tuple(
            (slot, slot.in_endpoints[0]._items, slot.process, trusted(slot.processor))
            for slot in self.fused
            if not slot.ended
        )

    def activate(self, origin: Callable[[Fraction, int], int] | None = None) -> None:
        """Called by the runner when the group starts running, after ``setup()`` (a
        source may learn its period there, e.g. a file's sample rate). The first tick
        is one period after the tick origin, so a source emits one buffer per elapsed
        period. ``origin(period, now)`` picks the origin (at most one period before
        now: the runtime spreads the phases of sources with equal periods); default:
        now."""
        if self.kind == GroupKind.CLOCK:
            period = _period_of(self.head)
            self._tick_num, self._tick_den = period.numerator, period.denominator
            self.period_ns = int(period)
            now = self.clock.now_ns()
            self._tick_start = now if origin is None else origin(period, now)
            self.ticks = 0
            self.deadline_ns = self._deadline(1)
        for slot in self.members:
            if slot.state is SlotState.READY:
                slot.state = SlotState.RUNNING

    def adopt(self, old: ThreadGroup) -> None:
        """Continue where ``old`` (the previous group of the same head, replaced by a
        re-plan) left off: a clock-driven source keeps its tick schedule, so a
        re-plan never shifts its deadlines."""
        if self.kind == GroupKind.CLOCK and old.kind == GroupKind.CLOCK and old.head is self.head:
            self.period_ns = old.period_ns
            self.deadline_ns = old.deadline_ns
            self.ticks = old.ticks
            self.ticks_late = old.ticks_late
            self.ticks_skipped = old.ticks_skipped
            self._tick_start = old._tick_start
            self._tick_num = old._tick_num
            self._tick_den = old._tick_den
        self._passes = old._passes

    def _latest_due(self, now: int) -> int:
        """The last tick whose deadline is at or before ``now``."""
        tick = (now - self._tick_start) * self._tick_den // self._tick_num
        while self._deadline(tick + 1) <= now:
            tick += 1
        while tick > 1 and self._deadline(tick) > now:
            tick -= 1
        return tick

    def _deadline(self, tick: int) -> int:
        """Absolute deadline of tick ``tick`` (1-based): exact rational arithmetic, so
        a period of 512/48000 s does not drift by a nanosecond over hours."""
        return self._tick_start + tick * self._tick_num // self._tick_den

    @property
    def ended(self) -> bool:
        return all(slot.ended for slot in self.members)

    # --- the pass --------------------------------------------------------------------

    def run_pass(self, early_ns: int = 0) -> int:
        """One pass (see the module doc); says what the group needs next. A clock-driven
        head ticks when its deadline is at most ``early_ns`` ahead (a pool worker that is
        already awake runs it rather than sleeping that long; the tick is the
        deadline's all the same)."""
        self._passes = passes = self._passes + 1
        timed = not passes & _SAMPLE_MASK
        if timed and self.live:
            self._cpu_mark = thread_time_ns()
        head = self.head
        kind = self.kind
        if head.ended:
            if self._chain:
                self._drain(timed)
            if self._lazy_out:
                self.flush()
            return self._next(head, kind)
        # a timed pass of a live group also measures the bursts its queued output ports
        # write (the plan sizes those queues to hold one)
        marks = [port.count for port in self._queued_ports] if timed and self.live else None
        call = self._call_timed if timed else self._call
        if kind == GroupKind.INPUT:
            endpoints = head.in_endpoints
            outputs = self._head_outputs
            no_mail = self.no_mail
            for _ in range(_BUDGET):
                pending = 0
                progress = 0
                for endpoint in endpoints:
                    pending += len(endpoint._items)
                    progress -= endpoint.popped
                for port in outputs:
                    progress -= port.count
                if not pending:
                    if all(endpoint.at_eos() for endpoint in endpoints):
                        self._end(head)
                        if self._chain:
                            self._drain(timed)
                    break
                ended = call(head) is _EOS
                if ended:
                    self._end(head)
                if self._chain:
                    self._drain(timed)
                if ended:
                    break
                for endpoint in endpoints:
                    progress += endpoint.popped
                for port in outputs:
                    progress += port.count
                if not progress:  # it took nothing and wrote nothing: it waits for more input
                    self._stall_mark = self._arrivals(endpoints)
                    break
                if not no_mail():
                    break
        elif kind == GroupKind.LOOP:
            no_mail = self.no_mail
            for _ in range(_BUDGET):
                ended = call(head) is _EOS
                if ended:
                    self._end(head)
                if self._chain:
                    self._drain(timed)
                if ended or not no_mail():
                    break
        else:
            now = self.clock.now_ns()
            deadline = self.deadline_ns
            if now + early_ns >= deadline:
                tick = self.ticks + 1
                behind = now - deadline
                if behind >= self.period_ns:
                    if behind >= SHED_BEHIND_NS and behind >= 2 * self.period_ns:  # shed, counted
                        latest = self._latest_due(now)  # (due within the last period: on time)
                        self.ticks_skipped += latest - tick
                        tick = latest
                        deadline = self._deadline(tick)
                    else:
                        self.ticks_late += 1
                self.ticks = tick
                self.deadline_ns = self._tick_start + (tick + 1) * self._tick_num // self._tick_den
                head.processor.tick_ns = deadline
                if timed:
                    status = self._call_timed(head)
                else:  # (_call, inlined: this is every pooled tick)
                    self.current = head
                    head.calls += 1
                    status = head.process()
                if status is _EOS:
                    self._end(head)
                if self._chain:
                    self._drain(timed)
        if self._lazy_out or self._lazy_in:
            self.flush()
        if marks:
            for port, count in zip(self._queued_ports, marks, strict=True):
                if port.count - count > port.burst:
                    port.burst = port.count - count
        if kind == GroupKind.CLOCK and not head.ended:  # (_next, inlined)
            return MORE if self.clock.now_ns() >= self.deadline_ns else WAIT_DEADLINE
        return self._next(head, kind)

    def _call(self, slot: ProcessorSlot) -> ProcessorStatus | None:
        self.current = slot
        slot.calls += 1
        return slot.process()

    def _call_timed(self, slot: ProcessorSlot) -> ProcessorStatus | None:
        self.current = slot
        slot.calls += 1
        if self.live:
            t0 = perf_counter_ns()
            status = slot.process()
            elapsed = perf_counter_ns() - t0
            cpu = thread_time_ns()
            slot.note(elapsed, cpu - self._cpu_mark)
            self._cpu_mark = cpu
            return status
        t0 = perf_counter_ns()
        status = slot.process()
        slot.note(perf_counter_ns() - t0, -1)
        return status

    def _drain(self, timed: bool) -> None:
        """Call each fused processor while its fused input holds a frame and it makes
        progress, in topological order. The fused hop."""
        slot = None
        try:
            if timed:
                live = self.live
                for slot, items, process, _ in self._chain:
                    while items:
                        n = len(items)
                        slot.calls += 1
                        t0 = perf_counter_ns()
                        status = process()
                        elapsed = perf_counter_ns() - t0
                        if live:
                            cpu = thread_time_ns()
                            slot.note(elapsed, cpu - self._cpu_mark)
                            self._cpu_mark = cpu
                        else:
                            slot.note(elapsed, -1)
                        if status is _EOS:
                            self._end(slot)
                            break
                        if len(items) >= n:
                            break  # no progress: it waits for something else
            else:
                for slot, items, process, exact in self._chain:
                    if exact:  # one frame per call, never an end of stream (see _ports.trusted)
                        while items:
                            slot.calls += 1
                            process()
                        continue
                    while items:
                        n = len(items)
                        slot.calls += 1
                        if process() is _EOS:
                            self._end(slot)
                            break
                        if len(items) >= n:
                            break
        except BaseException:
            if slot is not None:
                self.current = slot
            raise
        if self._eos_pending:
            self._finish_fused()

    def _finish_fused(self) -> None:
        """End, in pass order, the fused processors whose input reached end of stream.
        Each first takes what its input still holds (an upstream processor may just
        have flushed into it); frames it declines to take are dropped and counted
        when it ends."""
        changed = False
        for slot in self.fused:
            if slot.ended:
                continue
            link = slot.in_endpoints[0]
            if not link._eos:
                continue
            items = link._items
            while items:
                n = len(items)
                slot.calls += 1
                self.current = slot
                if slot.process() is _EOS or len(items) >= n:
                    break
            if not slot.ended:
                self._end(slot)
            changed = True
        if changed:
            self._rebuild_chain()
            self._eos_pending = any(s.in_endpoints[0].eos for s in self.fused if not s.ended)

    def _end(self, slot: ProcessorSlot) -> None:
        """End of stream for ``slot``: flush (on_end_of_stream for processors with
        inputs), then pass end of stream on behind its last frame."""
        self.current = slot
        if slot.in_endpoints and not all(endpoint.at_eos() for endpoint in slot.in_endpoints):
            self.end_requested = True  # it ended itself: its upstream should end too
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
        if self.fused:
            self._eos_pending = True
            if slot is not self.head:
                self._rebuild_chain()

    def end_source(self) -> None:
        """End a source group's head now, as if it had returned END_OF_STREAM (its
        component is being ended from downstream)."""
        if not self.head.ended and not self.head.in_endpoints:
            self._end(self.head)
            if self._chain:
                self._drain(False)

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
    def _arrivals(endpoints: tuple[Any, ...]) -> int:
        """What ever arrived on these endpoints, frames and ends of stream: it changes
        whenever something arrives."""
        total = 0
        for endpoint in endpoints:
            total += endpoint.frames + endpoint._eos
        return total

    def _input_ready(self, head: ProcessorSlot) -> bool:
        """An input holds a frame the head has not already declined (a head that made
        no progress waits for a new arrival), or every input has ended."""
        endpoints = head.in_endpoints
        for endpoint in endpoints:
            if endpoint._items:
                if self._stall_mark < 0 or self._arrivals(endpoints) != self._stall_mark:
                    self._stall_mark = -1
                    return True
                break
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
