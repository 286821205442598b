"""Runners drive thread groups. Today: one dedicated, named thread per group.

A runner owns a mailbox (a ``queue.SimpleQueue``) that carries both wake-ups and
control commands (start, halt, call a function at a frame boundary, pause, stop),
so a group is controlled only between passes. It never busy-waits: with nothing to
do it blocks on the mailbox, with a timeout when the group waits for a clock
deadline.

Wake protocol (correct without the GIL): before blocking, the runner sets
``_sleeping`` under its lock, then re-checks ``group.ready()``. A producer that makes
an endpoint non-empty calls ``wake()``, which under the same lock posts a token only
if the runner is sleeping. Either the re-check sees the frame or the token arrives.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

from .._clock import Clock
from ._group import DONE, MORE, WAIT_DEADLINE, GroupKind, ThreadGroup

if TYPE_CHECKING:
    from ._placement import Pack
    from ._slot import ProcessorSlot

__all__ = ["DedicatedRunner", "RunnerHost", "is_engine_thread"]

log = logging.getLogger(__name__)

_local = threading.local()


def is_engine_thread() -> bool:
    """True on a thread the engine runs processors on (edits are refused there)."""
    return getattr(_local, "engine", False)


class RunnerHost(Protocol):
    """What a runner reports to the engine that owns it."""

    def apply_priority(self, runner: DedicatedRunner) -> None: ...
    def group_failed(
        self, runner: DedicatedRunner, slot: ProcessorSlot, hook: str, exc: BaseException
    ) -> None: ...
    def group_done(self, runner: DedicatedRunner) -> None: ...
    def end_component(self, processor_id: str) -> None: ...
    def hook_failed(self, slot: ProcessorSlot, hook: str, exc: BaseException) -> None: ...
    def tick_origin(self, period: Fraction, now: int) -> int: ...
    def check_placement(self, runner: DedicatedRunner) -> None: ...


class _Call:
    __slots__ = ("fn", "done", "result", "error")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class _Pause:
    __slots__ = ("paused",)

    def __init__(self) -> None:
        self.paused = threading.Event()


class _Resume:
    __slots__ = ("activate",)

    def __init__(self, activate: bool) -> None:
        self.activate = activate


class _Stop:
    __slots__ = ("shutdown",)

    def __init__(self, shutdown: bool) -> None:
        self.shutdown = shutdown


class _Start:
    __slots__ = ("started", "activate")

    def __init__(self, started: threading.Event, activate: bool) -> None:
        self.started = started
        self.activate = activate


_HALT = object()
_END_SOURCE = object()

# A looping source on an elevated thread that keeps the CPU this busy for this long
# is spinning (it should block in process() or be clock-driven): it is demoted.
_SPIN_CHECK_PASSES = 256
_SPIN_WINDOW_NS = 250_000_000
_SPIN_SHARE = 0.9


class RunnerThread(Protocol):
    """What the engine uses of a runner's thread (a pooled runner's stands in)."""

    def start(self) -> None: ...
    def is_alive(self) -> bool: ...
    def join(self, timeout: float | None = None) -> None: ...


class DedicatedRunner:
    """Runs one thread group on its own thread named ``streamlib:<head id>``."""

    def __init__(self, group: ThreadGroup, host: RunnerHost, clock: Clock) -> None:
        self.group = group
        self.host = host
        self.clock = clock
        self.name = self._thread_name(group)
        self.native_id: int | None = None
        self.applied: str | None = None
        self.priority = group.priority
        self.stopping = False
        self.abandoned = False
        """Set by stop() when the thread did not return in time: if it ever gets out of
        the processor's code, it exits without calling anything (its processors got
        no on_shutdown(), as reported)."""
        self._mailbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._sleeping = False
        self._active = False
        self._halted = False
        self.halted = False
        """Set (by the engine) once the group's component was halted by a failure."""
        self.up = threading.Event()
        self.pack: Pack | None = None
        """The CPU this thread shares with the rest of its component, if it does (see
        ``_placement``; set by the engine)."""
        self.thread: RunnerThread = self._new_thread()
        group.no_mail = self._mailbox.empty

    def _thread_name(self, group: ThreadGroup) -> str:
        return f"streamlib:{group.head_id}"

    def _new_thread(self) -> RunnerThread:
        return threading.Thread(target=self._main, name=self.name, daemon=True)

    def _running_ident(self) -> int | None:
        """The identity of the thread running the group now (for ``where_stuck``)."""
        assert isinstance(self.thread, threading.Thread)
        return self.thread.ident

    # --- control (any thread) --------------------------------------------------------------

    def start_thread(self) -> None:
        self.thread.start()

    def wake(self) -> None:
        with self._lock:
            if self._sleeping:
                self._sleeping = False
                self._mailbox.put(None)

    def call(self, fn: Callable[[], Any]) -> _Call:
        """Run ``fn`` on the runner's thread at a frame boundary; wait on ``.done``."""
        command = _Call(fn)
        self._mailbox.put(command)
        return command

    def start_group(self, *, activate: bool = True) -> threading.Event:
        """Let the group run; the returned event is set once it is active (its clock
        deadlines count from then). ``activate=False``: the group continues a schedule
        it adopted (a re-plan moved it here from another runner)."""
        started = threading.Event()
        self._mailbox.put(_Start(started, activate))
        return started

    def end_source(self) -> None:
        """End the group's source at a frame boundary (its component is ending)."""
        self._mailbox.put(_END_SOURCE)

    def halt(self) -> None:
        """Stop running the group (its component failed); the thread stays until
        stop()."""
        self.halted = True
        self._mailbox.put(_HALT)

    def pause(self) -> _Pause:
        """Park the runner at a frame boundary; wait on ``.paused``. While parked it
        runs ``call()``s (so a re-plan can set up or shut down processors on their own
        thread) until ``resume()`` or ``stop()``. Its group may be replaced meanwhile."""
        command = _Pause()
        self._mailbox.put(command)
        return command

    def adopt(self, group: ThreadGroup) -> None:
        """Run ``group`` from now on (while parked: a re-plan changed this thread's
        group). The thread, its name and its native id stay."""
        group.no_mail = self._mailbox.empty
        self.group = group
        self.priority = group.priority

    def resume(self, *, activate: bool = False) -> None:
        """End a pause; with ``activate`` the (new) group starts its clock first."""
        self._mailbox.put(_Resume(activate))

    def stop(self, *, shutdown: bool) -> None:
        self.stopping = True
        self._mailbox.put(_Stop(shutdown))

    # --- the thread ------------------------------------------------------------------

    def _main(self) -> None:
        _local.engine = True
        self.native_id = threading.get_native_id()
        self.clock.add_listener(self.wake)
        try:
            self.host.apply_priority(self)
        finally:
            self.up.set()
        try:
            self._loop()
        finally:
            self.clock.remove_listener(self.wake)

    def _loop(self) -> None:
        mailbox = self._mailbox
        passes = 0
        spin_cpu = spin_wall = 0
        while True:
            if not mailbox.empty():
                if self._handle(mailbox.get_nowait()):
                    return
                continue
            group = self.group
            if not self._active:
                if self._handle(mailbox.get()):
                    return
                continue
            try:
                need = group.run_pass()
            except BaseException as exc:  # the processor's failure, reported, never swallowed
                self._active = False
                self.host.group_failed(self, group.current, group.hook, exc)
                continue
            if group.end_requested:
                group.end_requested = False
                self.host.end_component(group.current.processor_id)
            if self.pack is not None and time.monotonic_ns() >= self.pack.due_ns:
                self.host.check_placement(self)
            if need == MORE:
                if group.kind == GroupKind.LOOP:
                    passes += 1
                    if passes % _SPIN_CHECK_PASSES == 0:
                        spin_cpu, spin_wall = self._spin_guard(spin_cpu, spin_wall)
                continue
            if need == DONE:
                self._active = False
                self.host.group_done(self)
                continue
            passes = 0
            with self._lock:
                self._sleeping = True
            if group.ready():
                with self._lock:
                    self._sleeping = False
                continue
            timeout = self.clock.timeout_s(group.deadline_ns) if need == WAIT_DEADLINE else None
            try:
                item = mailbox.get(timeout=timeout) if timeout != 0.0 else None
            except queue.Empty:
                item = None
            with self._lock:
                self._sleeping = False
            if item is not None and self._handle(item):
                return

    def _handle(self, item: Any) -> bool:
        """Carry out a command; True when the runner must exit."""
        if item is None:
            return False
        if isinstance(item, _Start):
            try:
                if item.activate:
                    self.group.activate(self.host.tick_origin)
                self._active = not self.group.ended
            except BaseException as exc:  # e.g. a source's period is invalid
                self.host.group_failed(self, self.group.head, "start", exc)
            finally:
                item.started.set()
            return False
        if item is _HALT:
            self._active = False
            self._halted = True
            return False
        if item is _END_SOURCE:
            try:
                self.group.end_source()
            except BaseException as exc:
                self.host.group_failed(self, self.group.current, self.group.hook, exc)
            return False
        if isinstance(item, _Call):
            try:
                item.result = item.fn()
            except BaseException as exc:
                item.error = exc
            item.done.set()
            return False
        if isinstance(item, _Pause):
            item.paused.set()
            while True:  # parked: serve calls until resumed or stopped
                command = self._mailbox.get()
                if isinstance(command, _Resume):
                    if command.activate:
                        self.group.activate(self.host.tick_origin)
                    self._active = not self.group.ended and not self._halted
                    return False
                # (wake-ups while parked mean nothing: the group re-checks after resuming)
                if (isinstance(command, (_Call, _Stop)) or command in (_HALT, _END_SOURCE)) and self._handle(
                    command
                ):
                    return True
        if isinstance(item, _Stop):
            if item.shutdown and not self.abandoned:
                self.shutdown_members()
            return True
        raise AssertionError(f"unknown runner command {item!r}")

    def where_stuck(self) -> tuple[ProcessorSlot, str]:
        """Which member the thread is inside, and in which hook, read from the
        thread's Python stack (costs nothing on the hot path, which does not track
        the current processor)."""
        frame = sys._current_frames().get(self._running_ident() or -1)
        by_object = {id(slot.processor): slot for slot in self.group.members}
        found: tuple[ProcessorSlot, str] | None = None
        while frame is not None:
            owner = frame.f_locals.get("self")
            if owner is not None and id(owner) in by_object:
                found = (by_object[id(owner)], frame.f_code.co_name)  # keep the outermost
            frame = frame.f_back
        return found or (self.group.current, self.group.hook)

    def shutdown_members(self) -> None:
        """``on_shutdown()`` for every member whose ``setup()`` completed, on this thread."""
        from ._slot import SlotState

        for slot in self.group.members:
            if slot.set_up:
                slot.set_up = False
                try:
                    slot.processor.on_shutdown()
                except BaseException as exc:
                    self.host.hook_failed(slot, "on_shutdown", exc)
                if slot.state not in (SlotState.FAILED, SlotState.STUCK):
                    slot.state = SlotState.STOPPED

    def _spin_guard(self, cpu0: int, wall0: int) -> tuple[int, int]:
        from ..plan import ThreadPriority

        cpu, wall = time.thread_time_ns(), time.monotonic_ns()
        if not wall0 or self.priority is ThreadPriority.NORMAL:
            return cpu, wall
        if wall - wall0 < _SPIN_WINDOW_NS:
            return cpu0, wall0
        if (cpu - cpu0) >= _SPIN_SHARE * (wall - wall0):
            log.warning(
                "%s is a source on a %s thread that never blocks (%.0f%% CPU): demoted to "
                "NORMAL so it cannot starve the machine; a live source must be clock-driven "
                "(period_ns) or block in process()",
                self.name,
                self.priority.name,
                100 * (cpu - cpu0) / (wall - wall0),
            )
            self.priority = ThreadPriority.NORMAL
            self.host.apply_priority(self)  # re-applies the (now NORMAL) priority
            if self.applied is not None:
                self.applied += " (demoted: spinning)"
        return cpu, wall
