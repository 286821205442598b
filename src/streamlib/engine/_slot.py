"""ProcessorSlot: the engine's record of one processor. It outlives re-plans: moving a
processor to another thread group moves its slot, never re-creates the processor."""

from __future__ import annotations

import enum
from typing import Any

from ..graph import Processor, ProcessorNode
from ._ports import InputPort, OutputPort

__all__ = ["COST_WINDOW", "ProcessorSlot", "SlotState"]

COST_WINDOW = 64
"""Timed calls kept per processor (a power of two)."""
_WINDOW_MASK = COST_WINDOW - 1


class SlotState(enum.Enum):
    ADDED = "added"
    """Known to the engine, ``setup()`` not run (not scheduled yet, or not started)."""
    READY = "ready"
    """``setup()`` completed."""
    RUNNING = "running"
    ENDED = "ended"
    """End of stream passed through it."""
    FAILED = "failed"
    HALTED = "halted"
    """Its component was stopped by a failure elsewhere in it."""
    STOPPED = "stopped"
    """``on_shutdown()`` ran."""
    STUCK = "did not stop"


class ProcessorSlot:
    """A processor, its bound ports and its counters.

    Counters are written only by the thread running the processor and read (as a
    snapshot, possibly a pass behind) by ``stats()`` and the cost monitor.
    ``process()`` time is sampled: the calls of one pass in ``TIMING_SAMPLE`` are
    timed (timing every call would cost more than a fused hop), so ``time_ns / timed_calls`` is the mean per
    call. The last ``COST_WINDOW`` timed calls are kept (wall and, in a live
    component, thread CPU time) for percentiles and the measured cost rules. A call's
    CPU time runs from the end of the pass's previous timed call (or the pass's
    start), so it includes the runtime's bookkeeping between the two (about a
    microsecond): the CPU clock is a system call, read once per call.
    """

    __slots__ = (
        "processor",
        "node",
        "processor_id",
        "inputs",
        "outputs",
        "in_endpoints",
        "process",
        "state",
        "ended",
        "set_up",
        "calls",
        "timed_calls",
        "time_ns",
        "max_ns",
        "wall_window",
        "cpu_window",
        "latency",
    )

    def __init__(self, processor: Processor, node: ProcessorNode) -> None:
        self.processor = processor
        self.node = node
        self.processor_id = node.id
        self.inputs: dict[str, InputPort] = {}
        self.outputs: dict[str, OutputPort] = {}
        for spec in node.inputs:
            self.inputs[spec.name] = InputPort(spec.name, spec.frame_type, self)
        for spec in node.outputs:
            self.outputs[spec.name] = OutputPort(spec.name, spec.frame_type, self)
        self.in_endpoints: tuple[Any, ...] = ()
        self.process = processor.process
        self.state = SlotState.ADDED
        self.ended = False
        self.set_up = False
        self.calls = 0
        self.timed_calls = 0
        self.time_ns = 0
        self.max_ns = 0
        self.wall_window = [0] * COST_WINDOW
        self.cpu_window = [-1] * COST_WINDOW
        """Wall / thread CPU ns of the last timed calls, ring-indexed by
        ``timed_calls``; CPU is -1 where it was not measured."""
        self.latency: Any = None
        self._bind()

    def note(self, wall_ns: int, cpu_ns: int) -> None:
        """Record one timed ``process()`` call (cpu_ns -1: not measured)."""
        i = self.timed_calls & _WINDOW_MASK
        self.timed_calls += 1
        self.time_ns += wall_ns
        if wall_ns > self.max_ns:
            self.max_ns = wall_ns
        self.wall_window[i] = wall_ns
        self.cpu_window[i] = cpu_ns

    def window(self) -> tuple[list[int], list[int]]:
        """The recent timed calls (wall, CPU), in no particular order; a snapshot
        taken from another thread may mix in one call being recorded."""
        n = min(self.timed_calls, COST_WINDOW)
        return self.wall_window[:n], self.cpu_window[:n]

    def _bind(self) -> None:
        # Bound ports shadow the class's Input/Output descriptors (non-data
        # descriptors), so ``self.audio_in`` inside process() is a dict lookup.
        attrs = vars(self.processor)
        for name, port in (*self.inputs.items(), *self.outputs.items()):
            attrs[name] = port
        attrs["inputs"] = dict(self.inputs)
        attrs["outputs"] = dict(self.outputs)

    def refresh_endpoints(self) -> None:
        """Recompute the cached tuple of connected input endpoints (after rewiring)."""
        self.in_endpoints = tuple(p._endpoint for p in self.inputs.values() if p.connected)

    @property
    def frames_in(self) -> int:
        return sum(p.count for p in self.inputs.values())

    @property
    def frames_out(self) -> int:
        return sum(p.count for p in self.outputs.values())

    @property
    def type_name(self) -> str:
        return self.node.type_name

    def describe(self) -> str:
        return f"{self.processor_id} ({self.node.type_name})"
