"""Pooled execution: a few workers run many clock-driven groups, earliest deadline
first (the seed's "Pooled" strategy; GStreamer's threadshare elements do the same).

A hundred threads that each wake every 20 ms convoy on the interpreter lock long
before they run out of CPU. The pool has about one worker per core
(``streamlib:pool-<k>``, real-time priority like the sources it runs); each pooled
group is a ``PooledRunner``: the same mailbox and commands as a dedicated runner
(start, call, pause, resume, halt, stop), so re-planning treats both alike, but no
thread of its own. A worker takes the runner that is ready (mail, or more work) or
whose deadline is the earliest and due, runs one step (its mail, then one pass),
and re-arms it at the absolute deadline the group asks for (no drift). A worker
that has just run a tick runs the next one without sleeping when it is due within
``early_ns()`` (a quarter of its period, at most 5 ms: every wake-up costs). A
second worker joins only when ticks queue up behind the first (``HELP_AFTER_NS``),
and only where two workers stepping at once are measured to get more done than one
(``HelpMeter``: under the interpreter lock they often do not).
Nothing spins: with nothing due, workers block on their own queue with a timeout to
the earliest deadline (or none).

Synchronization: the pool's lock guards its queues, its idle workers and every
runner's scheduling state; a runner is in at most one of (idle, ready, timed, running), so
two workers never run one group at once. Mail is posted to the runner's mailbox
first, then the runner is submitted.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns as perf_ns
from typing import TYPE_CHECKING, Any

from .._clock import Clock
from ._group import DONE, MORE, WAIT_DEADLINE, ThreadGroup
from ._runner import (
    _END_SOURCE,
    _HALT,
    DedicatedRunner,
    RunnerHost,
    _Call,
    _local,
    _Pause,
    _Resume,
    _Stop,
)

if TYPE_CHECKING:
    pass

__all__ = ["PooledRunner", "WorkerPool", "early_ns"]

log = logging.getLogger(__name__)

_IDLE, _READY, _TIMED, _RUNNING, _EXITED = range(5)
"""A pooled runner's scheduling state."""
HELP_AFTER_NS = 1_000_000
"""A worker that takes a due runner wakes an idle one to help only when the next is
already this late (and a second worker pays, see ``HelpMeter``). Threads that run
Python at the same time take turns on the interpreter lock, and each turn costs (a
hand-over wakes a thread on the other core). So one worker runs the ticks while it
keeps up; others join when ticks queue up behind it, and leave what is due but not
late to it again."""
EARLY_NS = 5_000_000
"""A worker that has just run a tick also runs the next one whose deadline is at most
this far ahead, and at most a quarter of that group's period (``early_ns()``), when
no other worker is stepping, instead of sleeping until it is due. On this VM class a
thread that sleeps between ticks pays for every wake-up: the sleep itself (~25 us of
CPU), and then the tick after it runs on cold caches and a slower core (``bench
wake``: the flagship chain's DSP, one tick after a 1 ms sleep 135-155 us of CPU,
against ~60 us back to back; the first of 20 ticks run after a 20 ms sleep 310-400
us, the other 19 ~95 us). A run of ticks taken together pays about once. The tick's data
is its deadline's (``tick_ns``, timestamps), only delivered up to this much sooner
(a sink's latency, measured from a frame's end, can read below zero). A worker that
wakes from a sleep, or steps a group for its mail, runs only what is due. Measured
with live flagship pipelines (20 ms period, so 5 ms early), against 0.3 ms before,
alternated:
- CPU per audio second (6 s windows in one process, five runs each): at 20
  pipelines 11.8 -> 7.6 ms (median; context switches 1,170 -> 240 per second); at
  100, three runs each, 6.7 -> 5.9 ms (processing latency p99 1.0-2.1 -> 0.5-0.7 ms);
- ``bench peers`` (three runs each): at 20 pipelines 9.9 -> 8.8 ms (median), at 100
  6.6 -> 6.2 ms; chain as one processor 10.0 -> 7.0 and 5.3 -> 4.9 ms;
- ``bench pooltrace`` (15 s probes): probes without a late tick at 120 pipelines 3
  of 3 against none of 3, at 135 2 of 3 against 1 of 3."""
STUCK_NS = 10_000_000
"""A step that has run this long (real time) is stuck: a processor that blocks, or a
worker that the kernel or the hypervisor does not run. An idle worker then runs the
due ticks as if the stuck worker were not there, whatever ``HelpMeter`` says, so one
group's stall does not hold up every other group of the pool (measured, 20 pooled
pipelines, one processor blocking 30 ms once: the other pipelines' ticks ran up to
30 ms late before this rule, at most 10 ms with it). A pooled tick normally takes a
fraction of a millisecond, but a step that waits for the interpreter lock held by a
busy thread elsewhere waits up to one switch interval (5 ms) at each of its native
calls: twice that is not mistaken for stuck."""
HELP_GAIN = 1.2
"""A second worker pays when two workers stepping at once get through at least this
many times the steps one gets through alone (from their measured wall time per step)."""
PROBE_STEPS = 32
"""Steps run with another worker stepping at the same time that the meter averages
before it judges; while it has fewer, help is allowed (that is how it measures)."""
RETRY_NS = 10_000_000_000
"""After a verdict against help, how long the pool runs on one worker before it lets
helpers join again to measure afresh (the work mix may have changed)."""
_ALONE_SAMPLE = 7
"""Steps run alone that the meter averages: one in ``_ALONE_SAMPLE + 1`` (its mean
moves by 1/64 per step; the others would cost a call per tick for nothing)."""
_AGAIN = -1
"""``PooledRunner.step()``: it has more to do right away."""
_EXIT = -2
"""``PooledRunner.step()``: it stopped."""


def early_ns(group: ThreadGroup) -> int:
    """How far ahead of its deadline a busy worker may run ``group``'s tick: at most
    ``EARLY_NS``, and a quarter of its period, so its ticks stay at least three
    quarters of a period apart (0 for a group that is not clock-driven)."""
    quarter: int = group.period_ns >> 2
    return quarter if quarter < EARLY_NS else EARLY_NS


class _Seat:
    """Stands in for a pooled runner's thread (the engine joins and checks runners
    by their thread): alive from ``start_thread()`` until the runner exits."""

    def __init__(self) -> None:
        self.started = False
        self.exited = threading.Event()

    def start(self) -> None:
        self.started = True

    def is_alive(self) -> bool:
        return self.started and not self.exited.is_set()

    def join(self, timeout: float | None = None) -> None:
        if self.started:
            self.exited.wait(timeout)


class PooledRunner(DedicatedRunner):
    """Runs one thread group on the shared pool (see the module doc). Its commands
    are a dedicated runner's; each also submits the runner to the pool."""

    def __init__(self, group: ThreadGroup, host: RunnerHost, clock: Clock, pool: WorkerPool) -> None:
        self.pool = pool
        self._parked = False
        self.worker: threading.Thread | None = None
        """The worker running it now (for ``where_stuck``)."""
        # the pool's bookkeeping, under the pool's lock
        self.state = _IDLE
        self.again = False
        self.early = 0
        """How far ahead of its deadline the worker taking it may run its tick (ns), set
        as it is taken (see ``EARLY_NS``); -1: taken for mail or more work, not for
        its deadline."""
        self.generation = 0
        self._seat = _Seat()
        super().__init__(group, host, clock)

    def _thread_name(self, group: ThreadGroup) -> str:
        return "streamlib:pool"

    def _new_thread(self) -> _Seat:
        return self._seat

    def _running_ident(self) -> int | None:
        worker = self.worker
        return worker.ident if worker is not None else None

    # --- control (any thread) --------------------------------------------------------------

    def start_thread(self) -> None:
        self._seat.start()
        self.pool.add(self)
        self.up.set()

    def wake(self) -> None:
        self.pool.submit(self)

    def call(self, fn: Callable[[], Any]) -> _Call:
        command = super().call(fn)
        self.pool.submit(self)
        return command

    def start_group(self, *, activate: bool = True) -> threading.Event:
        started = super().start_group(activate=activate)
        self.pool.submit(self)
        return started

    def end_source(self) -> None:
        super().end_source()
        self.pool.submit(self)

    def halt(self) -> None:
        super().halt()
        self.pool.submit(self)

    def pause(self) -> _Pause:
        command = super().pause()
        self.pool.submit(self)
        return command

    def resume(self, *, activate: bool = False) -> None:
        super().resume(activate=activate)
        self.pool.submit(self)

    def stop(self, *, shutdown: bool) -> None:
        super().stop(shutdown=shutdown)
        self.pool.submit(self)

    # --- a worker's step -------------------------------------------------------------------

    def step(self) -> int | None:
        """Carry out the mail, then run one pass. Returns when to run again: a
        deadline (ns), ``_AGAIN`` (at once), or None (when mail or a wake-up comes);
        ``_EXIT`` after a stop."""
        mailbox = self._mailbox
        while not mailbox.empty():  # (an empty check is cheaper than a raised Empty per tick)
            item = mailbox.get_nowait()  # only this worker takes from it: never empty here
            if item is None:
                continue
            if self._parked:  # parked by a re-plan: serve calls until resumed or stopped
                if isinstance(item, _Resume):
                    self._parked = False
                    if item.activate:
                        self.group.activate(self.host.tick_origin)
                    self._active = not self.group.ended and not self._halted
                elif (isinstance(item, (_Call, _Stop)) or item in (_HALT, _END_SOURCE)) and self._handle(
                    item
                ):
                    return self._exit()
                continue
            if isinstance(item, _Pause):
                self._parked = True
                item.paused.set()
                continue
            if self._handle(item):
                return self._exit()
        if self._parked or not self._active:
            return None
        group = self.group
        try:
            early = self.early
            need = group.run_pass(early if early > 0 else 0)
        except BaseException as exc:  # the processor's failure, reported, never swallowed
            self._active = False
            self.host.group_failed(self, group.current, group.hook, exc)
            return None
        if group.end_requested:
            group.end_requested = False
            self.host.end_component(group.current.processor_id)
        if need == MORE:
            return _AGAIN
        if need == DONE:
            self._active = False
            self.host.group_done(self)
            return None
        if need == WAIT_DEADLINE:
            return group.deadline_ns
        return None

    def _exit(self) -> int:
        self._seat.exited.set()
        return _EXIT


class HelpMeter:
    """Whether a second worker adds throughput, measured: the wall time per step of
    steps run alone and of steps that overlapped another worker's. Two workers pay
    when ``2 / overlapped >= HELP_GAIN / alone``. Whether they do depends on the work:
    groups that spend their ticks in native code that releases the interpreter lock
    (an encoder, a large FFT) run side by side nearly as fast as alone; groups of
    short native calls between Python (the flagship audio chain) hand the lock over
    at every call, and there, measured at 165 live flagship pipelines, a step
    overlapping another took ~310 us of wall time (~200 us of CPU) against ~100 us
    alone: two workers got through fewer ticks than one, so a pool that fell 1 ms
    behind (a cost check, a stall) stayed behind until sources were shed.

    Until ``PROBE_STEPS`` overlapped steps are measured, help is allowed; a verdict
    against it holds for ``RETRY_NS``, then the meter measures afresh.

    Known bias: long steps are likelier to overlap another than short ones, so with
    steps of very mixed lengths the overlapped mean is high even where nothing slows
    down (a 10 / 150 us mix: ~140 us against ~80 us), and the meter leans against
    help. A rule on the outcome instead (does the backlog shrink while two step?) is
    free of it; not done yet.
    Synchronization: the pool's lock."""

    __slots__ = ("alone_ns", "overlapped_ns", "overlapped", "against_until", "verdict")

    def __init__(self) -> None:
        self.alone_ns = 0.0
        """Mean wall time of a step run alone (moving average; 0: none yet)."""
        self.overlapped_ns = 0.0
        """Mean wall time of a step that overlapped another worker's."""
        self.overlapped = 0
        """Overlapped steps measured since the meter last started afresh."""
        self.against_until = 0
        """perf-counter ns: help is not allowed until then (0: no verdict against)."""
        self.verdict: bool | None = None
        """The last verdict (None: none yet); a change is logged."""

    def note(self, wall_ns: int, overlapped: bool) -> None:
        if overlapped:
            self.overlapped += 1
            self.overlapped_ns += (wall_ns - self.overlapped_ns) / min(self.overlapped, 16)
        elif self.alone_ns:
            self.alone_ns += (wall_ns - self.alone_ns) / 64
        else:
            self.alone_ns = float(wall_ns)

    def pays(self, now_ns: int) -> bool:
        """Whether a worker may help another that is behind (``now_ns``: perf counter)."""
        if self.against_until:
            if now_ns < self.against_until:
                return False
            self.against_until = 0
            self.overlapped = 0  # measure afresh
            return True
        if self.overlapped < PROBE_STEPS or not self.alone_ns:
            return True
        pays = 2 * self.alone_ns >= HELP_GAIN * self.overlapped_ns
        if pays != self.verdict:
            self.verdict = pays
            log.info(
                "pool: %s (a step overlapping another's took %.0f us of wall time, one alone %.0f us)",
                "workers help each other" if pays else "one worker at a time, others do not help",
                self.overlapped_ns / 1000,
                self.alone_ns / 1000,
            )
        if not pays:
            self.against_until = now_ns + RETRY_NS
        return pays


class _Worker:
    """A pool worker's thread and the box it blocks on when idle (a C-level queue:
    cheaper to block on and to wake than a condition)."""

    __slots__ = ("thread", "box", "since")

    def __init__(self, name: str, main: Callable[[_Worker], None]) -> None:
        self.box: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.since: int | None = None
        """Perf-counter time its current step began (None: not stepping)."""
        self.thread = threading.Thread(target=main, args=(self,), name=name, daemon=True)


class WorkerPool:
    """The shared workers (see the module doc).

    Waiting: one idle worker at a time is the *timekeeper*, blocked with a timeout to
    the earliest deadline; the other idle workers block without one. So a deadline
    wakes one worker, not all of them. A worker takes what is due unless another is
    stepping and it is not yet ``HELP_AFTER_NS`` late (that one takes it next); a
    worker that takes a due runner wakes an idle one to help when the next is already
    that late and ``meter`` finds that two workers get more done than one. So one
    worker runs everything while it keeps up (see ``HELP_AFTER_NS``), and helpers go
    back to sleep once it does again. A runner made ready (mail, a wake-up) wakes the
    idle worker that ran last; a new earliest deadline wakes the timekeeper to shorten
    its wait.

    Stuck steps: while groups are timed, an idle worker besides the timekeeper, the
    *watcher*, waits with a timeout: until a stepping worker's step would have run
    ``STUCK_NS``, or, when none steps, until ``STUCK_NS`` after the earliest deadline
    (no tick's step begins before it). If every stepping worker is stuck when a tick
    is due, the watcher runs what is due as if alone (however late a tick is, it would
    wait for them). A worker that re-arms a group while no idle worker watches and
    other groups are timed wakes one to watch.
    """

    def __init__(self, clock: Clock, size: int, on_start: Callable[[threading.Thread], None]) -> None:
        self.clock = clock
        self.size = size
        self._on_start = on_start
        self._lock = threading.Lock()
        self._ready: deque[PooledRunner] = deque()
        self._timed: list[tuple[int, int, int, PooledRunner]] = []
        self._order = itertools.count()
        self._runners: set[PooledRunner] = set()
        self._stopping = False
        self._idle: list[_Worker] = []
        self._busy = 0
        """Workers stepping a runner now."""
        self._starts = 0
        """Steps begun so far (to tell which steps overlapped another)."""
        self.meter = HelpMeter()
        self._keeper: _Worker | None = None
        self._watcher: _Worker | None = None
        self._crew: list[_Worker] = []
        self.workers: list[threading.Thread] = []
        self.applied: dict[int, str] = {}
        """Worker native id -> the priority the kernel granted."""

    @property
    def running(self) -> bool:
        return bool(self.workers) and not self._stopping

    def add(self, runner: PooledRunner) -> None:
        with self._lock:
            self._runners.add(runner)
            if not self.workers:
                self._stopping = False
                self._crew = [_Worker(f"streamlib:pool-{k}", self._main) for k in range(self.size)]
                self.workers = [w.thread for w in self._crew]
                starting = list(self.workers)
                self.clock.add_listener(self._clock_jumped)
            else:
                starting = []
        for thread in starting:
            thread.start()

    def runners(self) -> list[PooledRunner]:
        with self._lock:
            return [r for r in self._runners if r.state != _EXITED]

    def submit(self, runner: PooledRunner) -> None:
        """Run ``runner`` soon (it has mail, or a wake-up)."""
        with self._lock:
            state = runner.state
            if state == _RUNNING:
                runner.again = True
                return
            if state in (_READY, _EXITED):
                return
            if state == _TIMED:
                runner.generation += 1  # its entry in the deadline heap is void now
            runner.state = _READY
            self._ready.append(runner)
            self._wake_one()

    def stop(self, timeout: float | None) -> list[threading.Thread]:
        """Stop the workers once their runners have exited; returns workers still
        running after ``timeout`` (stuck inside a processor)."""
        with self._lock:
            self._stopping = True
            for worker in self._crew:
                worker.box.put(None)
            workers, self.workers, self._crew = self.workers, [], []
            self._idle = []
            self._keeper = self._watcher = None
            self._runners = {r for r in self._runners if r.state != _EXITED}
        self.clock.remove_listener(self._clock_jumped)
        for thread in workers:
            if thread is not threading.current_thread():
                thread.join(timeout)
        return [w for w in workers if w.is_alive()]

    # --- waking (lock held) ----------------------------------------------------------------

    def _wake_one(self) -> None:
        """Wake the idle worker that ran last (its caches are the warmest; it may be the
        timekeeper, which looks at the deadlines again once it has stepped)."""
        if self._idle:
            self._idle.pop().box.put(None)

    def _clock_jumped(self) -> None:
        """The clock jumped (a fake clock in tests): the timekeeper's wait is void.
        One worker looks at the deadlines again and wakes others if it is behind."""
        with self._lock:
            keeper = self._keeper
            if keeper is not None and keeper in self._idle:
                self._idle.remove(keeper)
                keeper.box.put(None)
            elif len(self._idle) == len(self._crew):  # (a running worker looks when it is done)
                self._wake_one()

    def _help_wanted(self, due_ns: int, now_ns: int) -> bool:
        """Whether a tick due at ``due_ns`` is for a second worker while one steps: it is
        ``HELP_AFTER_NS`` late, and two workers pay (``meter``)."""
        return now_ns - due_ns >= HELP_AFTER_NS and self.meter.pays(perf_ns())

    # --- the workers -----------------------------------------------------------------------

    def _next(self, me: _Worker, warm: bool = False) -> PooledRunner | None:
        """The next runner to step (None: stopping). Blocks, without spinning, until
        one is ready or due (``warm``: this worker has just run a tick, and may take
        one due within its ``early_ns()`` while no other worker steps). Called and
        returns with the lock held."""
        lock, ready, timed, clock = self._lock, self._ready, self._timed, self.clock
        while not self._stopping:
            if ready:
                if self._keeper is me:  # (the timekeeper is an idle worker)
                    self._keeper = None
                runner = ready.popleft()
                runner.early = -1  # (a step for mail runs no tick early, nor one after it)
                return runner
            while timed:
                due, _, generation, first = timed[0]
                if first.generation == generation and first.state == _TIMED:
                    break
                heapq.heappop(timed)  # a void entry
            timeout: float | None = None
            if timed:
                now = clock.now_ns()
                early = due - now
                if early <= 0 or (warm and not self._busy and early <= early_ns(first.group)):
                    # due, or soon and this worker is the only one awake
                    if self._keeper is me:
                        self._keeper = None
                    if not self._busy or self._help_wanted(due, now):
                        heapq.heappop(timed)
                        first.early = early if early > 0 else 0
                        late = now - timed[0][0] if timed else 0  # (_help_wanted, inlined)
                        if late >= HELP_AFTER_NS and self.meter.pays(perf_ns()):
                            self._wake_one()  # the next one is behind as well: a second hand
                        return first
                    # not late, and another worker is stepping: it takes this one when
                    # it is done (and wakes a hand if it falls behind), unless that
                    # step is stuck: then this one runs what is due as if alone
                    until_stuck = self._stuck_at(me) - perf_ns()
                    if until_stuck <= 0:
                        heapq.heappop(timed)
                        first.early = 0
                        return first
                    timeout = until_stuck / 1e9
                    self._watcher = me
                elif self._keeper is None and self._busy:
                    # another worker is stepping and looks at the deadlines when it is
                    # done: this one only makes sure that it is not stuck by then
                    until_due = clock.timeout_s(due) or 0.0
                    timeout = max(until_due, (self._stuck_at(me) - perf_ns()) / 1e9)
                    self._watcher = me
                elif self._keeper is None or self._keeper is me:
                    self._keeper = me
                    timeout = clock.timeout_s(due)
                if timeout is None and self._keeper is not me and self._watcher in (None, me):
                    # (else the timekeeper watches the clock) no step can begin before
                    # the earliest deadline but one that mail starts (which wakes a worker)
                    self._watcher = me
                    timeout = (clock.timeout_s(due) or 0.0) + STUCK_NS / 1e9
            warm = False
            self._idle.append(me)
            lock.release()
            try:
                me.box.get(timeout=timeout)
            except queue.Empty:
                pass
            finally:
                lock.acquire()
            if me in self._idle:
                self._idle.remove(me)
            if self._keeper is me and timeout is None:
                self._keeper = None
            if self._watcher is me:
                self._watcher = None
        return None

    def _wake_watcher(self, keeper: _Worker | None) -> None:
        """Wake an idle worker other than the timekeeper to watch for stuck steps."""
        for worker in reversed(self._idle):
            if worker is not keeper:
                self._idle.remove(worker)
                worker.box.put(None)
                return

    def _stuck_at(self, me: _Worker) -> int:
        """Perf-counter time from which every other worker stepping now is stuck."""
        latest = 0
        for worker in self._crew:
            since = worker.since
            if since is not None and worker is not me and since + STUCK_NS > latest:
                latest = since + STUCK_NS
        return latest

    @staticmethod
    def _step_failed(runner: PooledRunner, exc: Exception) -> None:
        """A step raised outside its processors: streamlib's own code failed (a command,
        a report to the engine). The group stops as if it had failed, reported, and the
        worker goes on serving the others (a worker that died here would leave its
        runner neither running nor stoppable)."""
        log.error("pool: streamlib failed running %s's group", runner.group.head_id, exc_info=exc)
        runner._active = False
        try:
            runner.host.group_failed(runner, runner.group.current, "streamlib", exc)
        except Exception:  # reporting is what failed: logged, the worker goes on
            log.exception("pool: reporting the failure of %s's group failed", runner.group.head_id)

    def _main(self, me: _Worker) -> None:
        _local.engine = True
        try:
            self._on_start(me.thread)
        except Exception:  # a priority that cannot be applied must not lose the worker
            log.exception("%s: applying its priority failed", me.thread.name)
        lock = self._lock
        lock.acquire()
        try:
            # (one hold of the lock from a step's bookkeeping through picking the next
            # runner: no other worker sees this one neither stepping nor idle)
            runner = self._next(me)
            while runner is not None:
                runner.state = _RUNNING
                runner.again = False
                self._busy += 1
                self._starts += 1
                overlapped = self._busy > 1
                starts = self._starts
                me.since = began = perf_ns()
                lock.release()
                runner.worker = me.thread
                try:
                    when = runner.step()
                except Exception as exc:  # (a processor's failure is reported inside step())
                    self._step_failed(runner, exc)
                    when = None  # idle until a command (a stop) comes
                wall = perf_ns() - began
                lock.acquire()
                me.since = None
                self._busy -= 1
                overlapped = overlapped or self._busy > 0 or self._starts != starts
                if overlapped or not starts & _ALONE_SAMPLE:  # (steps alone: one in 8 is plenty)
                    self.meter.note(wall, overlapped)
                if when == _EXIT:
                    runner.state = _EXITED
                    self._runners.discard(runner)
                elif when == _AGAIN or runner.again or not runner._mailbox.empty():
                    runner.state = _READY
                    self._ready.append(runner)
                elif when is not None:
                    runner.state = _TIMED
                    timed = self._timed
                    first = not timed or when < timed[0][0]
                    heapq.heappush(timed, (when, next(self._order), runner.generation, runner))
                    keeper = self._keeper
                    if first and keeper is not None and keeper in self._idle:
                        self._idle.remove(keeper)  # due before what it waits for: re-arm
                        keeper.box.put(None)
                    if self._watcher is None and len(timed) > 1:  # (others to run if this sticks)
                        self._wake_watcher(keeper)
                else:
                    runner.state = _IDLE
                runner = self._next(me, warm=runner.early >= 0)  # (after a tick: warm)
        finally:
            lock.release()
