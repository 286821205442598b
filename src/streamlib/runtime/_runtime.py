"""StreamRuntime: the user's facade. Every edit goes graph -> optimize -> engine."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

from .._clock import Clock, MonotonicClock
from .._errors import ProcessorError, ProcessorNotFoundError, RuntimeStateError
from ..engine import Engine, is_engine_thread
from ..graph import Graph, InputPortRef, OutputPortRef, Processor, ProcessorConfig, ProcessorHandle
from ..graph._build import build_processor, make_config
from ..plan import CostClass, GraphPlan, Optimizer, classify_cost, diff
from ..plan._format import describe_changes
from ._costs import CostMonitor, CostSource, MeasuredCosts

__all__ = ["StreamRuntime"]

log = logging.getLogger("streamlib")

P = TypeVar("P", bound=Processor)


class _State(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"


class StreamRuntime:
    """Builds and runs a processor graph, optimizing how it runs with zero configuration.

    Thread safety: every method may be called from any thread except a processor's
    own (edits from inside a processor raise RuntimeStateError). Edits, start and
    stop are serialized by one re-entrant edit lock, under which the graph, the
    optimizer and its cache, and the engine's structures change; each edit is
    atomic. Recorded errors and the waiters of ``run()`` share a condition.

    Args:
        clock: the runtime's clock (monotonic nanoseconds). Tests pass
            ``streamlib.testing.FakeClock()``; it is a testing seam, not a tuning knob.
        optimize: ``False`` runs the unoptimized baseline (a dedicated NORMAL thread per
            processor, per-frame-type queue capacities) for A/B measurement.

    Example:
        >>> from streamlib.testing import ScriptedSource, CollectingSink
        >>> with StreamRuntime() as rt:
        ...     src = rt.add_processor(ScriptedSource, num_frames=3)
        ...     sink = rt.add_processor(CollectingSink)
        ...     _ = rt.connect(src.output_port("out"), sink.input_port("in"))
        ...     rt.start()
        ...     rt.run(timeout=10)
        True
    """

    def __init__(self, *, clock: Clock | None = None, optimize: bool = True) -> None:
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._graph = Graph()
        self._optimizer = Optimizer(fuse=optimize)
        self._plan: GraphPlan = self._optimizer.plan
        self._dirty: set[str] = set()
        """Processors touched by edits before start() that the plan does not reflect
        yet: before start the plan is brought up to date when it is read, so building
        a large component edit by edit costs O(n), not O(n^2)."""
        self._state = _State.CREATED
        self._edit_lock = threading.RLock()
        self._cond = threading.Condition()
        self._errors: list[ProcessorError] = []
        self._raised = 0
        self._next_id = 0
        self._engine = Engine(
            self._clock,
            report=self._record_error,
            notify=self._wake_waiters,
            component_of=self._optimizer.component_of,
        )
        self._costs: CostSource = MeasuredCosts(
            self._engine, self._clock, running=lambda: self._state is _State.RUNNING
        )
        self._monitor = CostMonitor(self._check_costs) if optimize else None

    # --- graph edits -----------------------------------------------------------------

    def add_processor(
        self, cls: type[P], config: ProcessorConfig | None = None, /, **fields: Any
    ) -> ProcessorHandle:
        """Add a processor of class ``cls``.

        Args:
            cls: a Processor subclass.
            config: an instance of ``cls.Config``; or give its fields as keywords.
                Neither means the config's defaults.

        While running, the processor's ``setup()`` runs at once (on the calling
        thread: the processor has no thread until it is connected and scheduled).

        Raises:
            ConfigError: both a config and keywords, an unknown field, an invalid value,
                or a value that cannot be checksummed stably. Names the field.
            ProcessorError: while running, its ``setup()`` failed (a missing device or
                file); nothing was added.
        """
        with self._editing("add_processor"):
            config_obj = make_config(cls, config, fields)
            pid = f"processor_{self._next_id}"
            processor, node = build_processor(pid, cls, config_obj, self._clock)
            running = self._state is _State.RUNNING
            if running:
                self._engine.add_live(processor, node)
            else:
                self._engine.add(processor, node)
            self._next_id += 1
            self._graph.add(node)

            def undo() -> None:
                self._graph.remove(pid)
                self._engine.discard(pid)

            self._commit((pid,), undo)
            return ProcessorHandle(node, self._graph.token)

    def add_processor_with_config(self, cls: type[P], config: ProcessorConfig) -> ProcessorHandle:
        """``add_processor(cls, config)``, named as in the seed."""
        return self.add_processor(cls, config)

    def connect(self, output: OutputPortRef, input: InputPortRef) -> int:  # noqa: A002 - the API's name
        """Connect an output port to an input port; returns the connection id.

        Raises:
            PortTypeMismatchError: the ports carry different frame types.
            InvalidConnectionError: the input is already connected, output and input are
                swapped, or a processor would feed itself.
            GraphCycleError: the connection would close a cycle.
            ProcessorNotFoundError: a port of a removed processor.
        """
        with self._editing("connect"):
            connection = self._graph.connect(output, input)
            self._commit((connection.source, connection.sink), lambda: self._graph.unconnect(connection.id))
            return connection.id

    def disconnect(self, connection_id: int) -> None:
        """Remove a connection. Raises ProcessorNotFoundError for an unknown id."""
        with self._editing("disconnect"):
            connection = self._graph.disconnect(connection_id)
            self._commit((connection.source, connection.sink), lambda: self._graph.restore(connection))

    def remove_processor(self, handle: ProcessorHandle) -> None:
        """Remove a processor and its connections.

        Raises:
            ProcessorNotFoundError: the handle's processor is not in the graph.
        """
        with self._editing("remove_processor"):
            if not isinstance(handle, ProcessorHandle):
                raise ProcessorNotFoundError(
                    "remove_processor() takes the ProcessorHandle that add_processor() returned, "
                    f"got {handle!r} ({type(handle).__name__})"
                )
            if handle._graph is not self._graph.token:
                raise ProcessorNotFoundError(f"{handle.id} belongs to another runtime")
            if handle.id not in self._graph:
                raise ProcessorNotFoundError(f"no processor {handle.id} in the graph (removed?)")
            pid = handle.id
            node, removed = self._graph.remove(pid)

            def undo() -> None:
                self._graph.add(node)
                for connection in removed:
                    self._graph.restore(connection)

            self._commit({pid, *(c.source for c in removed), *(c.sink for c in removed)}, undo)
            if self._state is _State.CREATED:
                self._engine.forget(pid)

    def _editing(self, what: str) -> _EditGuard:
        return _EditGuard(self, what)

    def _commit(self, touched: Iterable[str], undo: Callable[[], None]) -> None:
        """Re-plan after a graph edit and, while running, put the new plan in force.
        If that fails, the graph edit is undone and the old plan stays."""
        if self._state is not _State.RUNNING:
            self._dirty.update(touched)
            return
        touched = set(touched)
        old = self._plan
        new = self._optimizer.update(self._graph, touched)
        changes = diff(old, new, self._optimizer.last_scope)
        try:
            self._engine.apply(new, self._graph, changes)
        except BaseException:
            undo()
            self._plan = self._optimizer.update(self._graph, touched)
            raise
        if not changes.empty and log.isEnabledFor(logging.INFO):
            log.info("%s", describe_changes(changes))
        self._plan = new
        self._poke_monitor()

    # --- measured costs (issue #9) ---------------------------------------------------------

    def _poke_monitor(self) -> None:
        if self._monitor is not None and any(g.live and g.scheduled for g in self._plan.groups.values()):
            self._monitor.poke()

    def _check_costs(self) -> tuple[bool, bool]:
        """Classify fresh measurements and re-plan the components whose processors
        changed class, one component at a time (each pauses only its own threads,
        for about a millisecond; one re-plan of hundreds of pipelines at once would
        hold all of them past their deadlines). Returns whether any live component
        runs (the monitor sleeps otherwise) and whether anything changed."""
        with self._edit_lock:
            idle = self._state is not _State.RUNNING or not self._optimizer.fuse
            costs = self._costs
        if idle:  # (the baseline, optimize=False, reads no measurements)
            return False, False
        samples = costs.sample()  # paced, a few hundred ms at hundreds of pipelines: unlocked
        trusted = not costs.contended
        measured_bursts = costs.bursts()
        with self._edit_lock:
            if self._state is not _State.RUNNING:  # stopped meanwhile
                return False, False
            optimizer = self._optimizer
            batches: dict[object, tuple[dict[str, CostClass], dict[str, dict[str, int]]]] = {}
            reasons = []
            for pid, sample in samples.items():
                plan = self._plan.processors.get(pid)
                if plan is None or not plan.live:
                    continue
                current = optimizer.costs.get(pid, CostClass.UNMEASURED)
                cost = classify_cost(sample, current, wall_trusted=trusted)
                if cost is not current:
                    batches.setdefault(optimizer.component_of(pid), ({}, {}))[0][pid] = cost
                    reasons.append(f"{plan.processor_type} ({pid}) {cost.value}: {sample.describe()}")
            for pid, ports in measured_bursts.items():
                plan = self._plan.processors.get(pid)
                if plan is None or optimizer.bursts.get(pid) == ports:
                    continue
                batches.setdefault(optimizer.component_of(pid), ({}, {}))[1][pid] = ports
                reasons.append(
                    f"{plan.processor_type} ({pid}) writes up to "
                    + ", ".join(f"{n} frames per pass to {port}" for port, n in sorted(ports.items()))
                )
            if reasons:
                contention = (
                    ""
                    if trusted
                    else " (contended: sources of several components fell behind, wall time not used)"
                )
                log.info("measured costs changed%s: %s", contention, "; ".join(reasons))
        for changed, bursts in batches.values():
            with self._edit_lock:
                if not self.running:  # stopped meanwhile
                    break
                changed = {pid: c for pid, c in changed.items() if pid in self._graph}
                bursts = {pid: b for pid, b in bursts.items() if pid in self._graph}
                previous = {pid: optimizer.costs.get(pid, CostClass.UNMEASURED) for pid in changed}
                previous_bursts = {pid: dict(optimizer.bursts.get(pid, {})) for pid in bursts}
                touched = optimizer.observe(changed, bursts)
                if touched:

                    def undo(
                        previous: dict[str, CostClass] = previous,
                        was: dict[str, dict[str, int]] = previous_bursts,
                    ) -> None:
                        optimizer.observe(previous, was)

                    self._commit(touched, undo)
            time.sleep(0)  # the interpreter to the runners between two components
        with self._edit_lock:
            live = any(g.live and g.scheduled for g in self._plan.groups.values())
        return live, bool(batches)

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Set up every scheduled processor (on its own thread), then run.

        Atomic: if a ``setup()`` fails, the processors already set up get
        ``on_shutdown()``, no thread is left, the runtime stays un-started, and the
        ProcessorError is raised.

        Raises:
            RuntimeStateError: already started, or stopped.
            ProcessorError: a ``setup()`` failed.
        """
        with self._edit_lock:
            self._check_not_engine_thread("start")
            if self._state is _State.RUNNING:
                raise RuntimeStateError("start(): the runtime is already running")
            if self._state is _State.STOPPED:
                raise RuntimeStateError(
                    "start(): the runtime was stopped; stop() is final, create a new StreamRuntime"
                )
            try:
                self._flush()
                self._engine.start(self._plan, self._graph)
            except ProcessorError as error:
                with self._cond:
                    self._errors.append(error)
                    self._raised = len(self._errors)
                raise
            self._state = _State.RUNNING
            self._optimizer.start_learning(self._graph)
            log.info("%s", self._plan)
            held = [pid for pid, p in self._plan.processors.items() if not p.scheduled]
            if held:  # (a source feeding one waits for it: run() would not return)
                log.warning(
                    "start(): not scheduled until a port side is connected: %s",
                    ", ".join(f"{pid} ({self._graph.nodes[pid].type_name})" for pid in held),
                )
            if self._monitor is not None:
                self._monitor.start()
                self._poke_monitor()

    def run(self, timeout: float | None = None) -> bool:
        """Block until every source has ended and every frame it produced reached its
        sinks (True), the timeout passed (False), or ``stop()`` was called (False).

        Returns at once for a graph with nothing to run. Raises the oldest
        ProcessorError not yet raised, as soon as it is recorded. Ctrl+C stops the
        runtime and returns False.
        """
        if self._state is _State.CREATED:
            raise RuntimeStateError("run(): call start() first")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self._cond:
                while True:
                    if self._raised < len(self._errors):
                        error = self._errors[self._raised]
                        self._raised += 1
                        raise error
                    if self._state is _State.STOPPED:
                        return False
                    if self._engine.idle():
                        return True
                    if deadline is None:
                        self._cond.wait()
                    else:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return False
                        self._cond.wait(remaining)
        except KeyboardInterrupt:
            log.info("interrupted: stopping")
            self.stop()
            return False

    def stop(self, timeout: float = 5.0) -> None:
        """Stop for good: every processor gets ``on_shutdown()`` on its own thread,
        every thread is joined. Idempotent.

        ``timeout`` bounds the whole call. A thread that does not return in time is
        stuck inside a processor's code (a blocking call that never returns). Python
        cannot kill a thread, so it is abandoned: it is a daemon thread (it does not
        keep the process alive), its processors get no ``on_shutdown()`` (they are
        still running) and are reported in ``errors`` as a ProcessorError naming the
        stuck processor ("did not stop"). It holds nothing the runtime needs: no lock
        of the runtime or the engine is held while a processor's code runs, its queues
        are closed (writes are dropped and counted), and if it ever returns it exits
        without calling anything else.
        """
        with self._edit_lock:
            self._check_not_engine_thread("stop")
            if self._state is _State.STOPPED:
                return
            was_running = self._state is _State.RUNNING
            self._state = _State.STOPPED
        if was_running and self._monitor is not None:
            self._monitor.stop()
        if was_running:
            for error in self._engine.stop(timeout):
                self._record_error(error)
        self._wake_waiters()

    def __enter__(self) -> StreamRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- observation -----------------------------------------------------------------

    def _handle(self, processor_id: str) -> ProcessorHandle:
        """A handle for a processor of this runtime, by id (tools and benchmarks)."""
        return ProcessorHandle(self._graph.node(processor_id), self._graph.token)

    @property
    def plan(self) -> GraphPlan:
        """The plan in force (before ``start()``: the plan the graph will start with)."""
        if self._dirty:
            with self._edit_lock:
                self._flush()
        return self._plan

    def _flush(self) -> None:
        if self._dirty:
            self._plan = self._optimizer.update(self._graph, self._dirty)
            self._dirty = set()
            log.debug("%s", self._plan)

    @property
    def errors(self) -> list[ProcessorError]:
        """Every ProcessorError seen so far, oldest first (a copy)."""
        with self._cond:
            return list(self._errors)

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def running(self) -> bool:
        return self._state is _State.RUNNING

    def stats(self) -> dict[str, Any]:
        """A JSON-serializable snapshot of metrics (see API.md, "Stats")."""
        stats = self._engine.stats(self.plan)
        optimizer = self._optimizer.statistics()
        stats["optimizer"] = {
            "cache_hits": optimizer.cache_hits,
            "cache_misses": optimizer.cache_misses,
            "cache_entries": optimizer.cache_entries,
            "last_analysis_us": round(optimizer.last_analysis_us, 1),
            "components": optimizer.components,
        }
        return stats

    # --- engine callbacks ------------------------------------------------------------

    def _record_error(self, error: ProcessorError) -> None:
        with self._cond:
            self._errors.append(error)
            self._cond.notify_all()

    def _wake_waiters(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _check_not_engine_thread(self, what: str) -> None:
        if is_engine_thread():
            raise RuntimeStateError(
                f"{what}() cannot be called from inside a processor (process(), setup(), "
                "on_end_of_stream(), on_shutdown()); make edits from another thread"
            )

    def __repr__(self) -> str:
        return (
            f"<StreamRuntime {self._state.value}: {len(self._graph)} processors, "
            f"{len(self._graph.connections)} connections, {self.plan.thread_count} threads>"
        )


class _EditGuard:
    """Serializes an edit, refuses edits from processor threads and after stop."""

    __slots__ = ("_rt", "_what")

    def __init__(self, rt: StreamRuntime, what: str) -> None:
        self._rt = rt
        self._what = what

    def __enter__(self) -> None:
        rt = self._rt
        rt._check_not_engine_thread(self._what)
        rt._edit_lock.acquire()
        if rt._state is _State.STOPPED:
            rt._edit_lock.release()
            raise RuntimeStateError(f"{self._what}(): the runtime was stopped (stop() is final)")

    def __exit__(self, *exc: object) -> None:
        self._rt._edit_lock.release()


StreamRuntime.__module__ = "streamlib"
