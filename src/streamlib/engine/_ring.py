"""Endpoints: where ports write and read. A bounded ring buffer between thread
groups, and a fused link inside one group's pass.

Both carry end of stream in-band (behind the last frame), so it survives a swap of
one endpoint for another, and both can hand their contents to a replacement
(``drain()``), which is how live re-planning moves queued frames without loss.

Synchronization: a RingBuffer is single-producer, single-consumer. Its frames live
in a ``collections.deque``, whose ``append`` and ``popleft`` are atomic (under the
GIL, and under per-object locking in free-threaded builds), so the fast paths take
no lock; each counter is written by one side only (``frames``, ``dropped``, ``peak``
by the producer, ``popped`` by the consumer). The lock guards the slow paths: a
writer waiting for room (with the consumer's notify), closing, re-configuring,
draining. Wake-ups are correct without the GIL: the producer wakes the consumer
after its append made the ring non-empty, and the consumer re-checks the ring after
announcing it will sleep (see the runner). A FusedLink is touched only by the one
thread running its group's pass, so it has no lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FusedLink", "RingBuffer", "RingStatistics"]


@dataclass(frozen=True, slots=True)
class RingStatistics:
    capacity: int
    occupancy: int
    frames: int
    """Frames pushed in (including ones later dropped)."""
    popped: int
    dropped: int
    peak: int
    """Largest occupancy seen."""
    drop_oldest: bool
    batched: bool
    ended: bool


def _nothing() -> None:
    """The wake callback of an endpoint whose consumer is not running."""


class RingBuffer:
    """A bounded FIFO between two thread groups.

    Args:
        capacity: frames it holds.
        drop_oldest: when full, drop (and count) the oldest frame (live components);
            otherwise the writer waits for room (non-live components).
        batched: hand frames over per batch instead of per frame (see below).
        wake: called (outside the lock) to wake the consumer's runner. It must be
            cheap and must not block.

    Hand-offs. Per frame (the default, and what a live component needs): a push
    into an empty ring wakes the consumer, a pop from a full ring wakes a blocked
    producer. Batched (the plan's choice for a non-live queue, where only throughput
    counts): the consumer is woken when the producer must wait for room or flushes
    at the end of its pass, and the consumer releases a blocked producer at the end
    of a pass that emptied the ring. Under the GIL each hand-off between threads
    costs a thread wake-up and a migration of the interpreter's working set;
    batching turns one per frame into two per queue-full, and keeps a woken consumer
    from convoying on the producer's GIL releases (numpy releases the GIL inside
    every ufunc on more than a few hundred elements).
    """

    __slots__ = (
        "_lock",
        "_not_full",
        "_items",
        "_capacity",
        "_drop_oldest",
        "_eos",
        "_closed",
        "_waiting_writers",
        "_yield",
        "_wake",
        "_eager",
        "frames",
        "popped",
        "dropped",
        "peak",
    )

    def __init__(
        self,
        capacity: int,
        *,
        drop_oldest: bool,
        batched: bool = False,
        wake: Callable[[], None] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._items: deque[Any] = deque()
        self._capacity = capacity
        self._drop_oldest = drop_oldest
        self._eos = False
        self._closed = False
        self._waiting_writers = 0
        self._yield = False
        self._wake = wake or _nothing
        self._eager = not batched
        self.frames = 0
        self.popped = 0
        self.dropped = 0
        self.peak = 0

    # --- producer side -----------------------------------------------------------------

    def push(self, frame: Any) -> None:
        items = self._items
        if len(items) >= self._capacity:
            if not self._drop_oldest:
                self._push_blocking(frame)
                return
            try:  # the consumer may have taken it meanwhile: then nothing is dropped
                items.popleft()
                self.dropped += 1
            except IndexError:
                pass
        elif self._closed:
            self.frames += 1
            self.dropped += 1
            return
        items.append(frame)
        self.frames += 1
        n = len(items)
        if n > self.peak:
            self.peak = n
        if n == 1 and self._eager:
            self._wake()

    def _push_blocking(self, frame: Any) -> None:
        """The slow path of a blocking ring: wait (lock held) until there is room,
        the policy switched to dropping, the ring was closed, or a re-plan asks the
        writer to yield (then the frame goes in over capacity)."""
        with self._lock:
            items = self._items
            if len(items) >= self._capacity and not self._drop_oldest and not self._closed:
                self._wake()  # the consumer must run to make room
                self._waiting_writers += 1
                try:
                    while (
                        len(items) >= self._capacity
                        and not self._drop_oldest
                        and not self._closed
                        and not self._yield
                    ):
                        self._not_full.wait()
                finally:
                    self._waiting_writers -= 1
            self.frames += 1
            if self._closed:
                self.dropped += 1
                return
            if len(items) >= self._capacity and self._drop_oldest:  # switched to dropping
                items.popleft()
                self.dropped += 1
            items.append(frame)
            n = len(items)
            if n > self.peak:
                self.peak = n
        if n == 1 and self._eager:
            self._wake()

    def flush(self) -> None:
        """Wake the consumer if frames are waiting (a batching ring's producer calls
        this at the end of each pass)."""
        if self._items:
            self._wake()

    def push_eos(self) -> None:
        with self._lock:
            self._eos = True
        self._wake()

    # --- consumer side -----------------------------------------------------------------

    def pop(self) -> Any:
        """The oldest frame, or None when empty. Never blocks."""
        items = self._items
        if not items:
            return None
        try:
            frame = items.popleft()
        except IndexError:  # a dropping producer took the last one
            return None
        self.popped += 1
        if self._waiting_writers and self._eager:
            with self._lock:
                self._not_full.notify()
        if not items and self._eos:  # the last frame of the stream was taken: the
            self._wake()  # consumer's group must see end of stream (a device thread may read)
        return frame

    def release_writer(self) -> None:
        """Let a writer blocked on this (batching) ring re-check for room. The
        consumer's group calls it at the end of a pass that emptied the ring, so the
        writer wakes as the consumer goes idle instead of convoying on its GIL."""
        if self._waiting_writers:
            with self._lock:
                self._not_full.notify()

    def has_frame(self) -> bool:
        return bool(self._items)

    def at_eos(self) -> bool:
        """End of stream has arrived and every frame before it was read."""
        return self._eos and not self._items

    @property
    def eos(self) -> bool:
        return self._eos

    def __len__(self) -> int:
        return len(self._items)

    # --- control (engine) ----------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def drop_oldest(self) -> bool:
        return self._drop_oldest

    @property
    def batched(self) -> bool:
        return not self._eager

    def set_wake(self, wake: Callable[[], None] | None) -> None:
        self._wake = wake or _nothing

    def configure(
        self,
        *,
        capacity: int | None = None,
        drop_oldest: bool | None = None,
        batched: bool | None = None,
    ) -> int:
        """Change capacity and/or policy, keeping the contents. A shrink below the
        occupancy drops (and counts) the oldest frames when dropping, and otherwise
        keeps them (writers wait until the consumer made room). Returns the number of
        frames dropped."""
        with self._lock:
            if drop_oldest is not None:
                self._drop_oldest = drop_oldest
            if batched is not None:
                self._eager = not batched
            if capacity is not None:
                if capacity < 1:
                    raise ValueError(f"ring capacity must be >= 1, got {capacity}")
                self._capacity = capacity
            dropped = 0
            if self._drop_oldest:
                while len(self._items) > self._capacity:
                    self._items.popleft()
                    dropped += 1
                self.dropped += dropped
            self._not_full.notify_all()
        return dropped

    def set_yield(self, flag: bool) -> None:
        """While set, a writer does not wait for room: the frame it holds goes in over
        capacity. A re-plan sets it on the queues a thread writes to while it waits for
        that thread to reach a frame boundary, so a producer blocked on a full queue
        whose consumer is not running (or is being paused) can get there. Nothing is
        lost: what the queue holds moves with it."""
        with self._lock:
            self._yield = flag
            self._not_full.notify_all()

    def close(self) -> None:
        """Release blocked writers; later pushes are dropped and counted."""
        with self._lock:
            self._closed = True
            self._not_full.notify_all()

    def drain(self) -> tuple[list[Any], bool]:
        """Take every queued frame and the end-of-stream flag (for a replacement
        endpoint); the ring is left empty and closed."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self.popped += len(items)
            eos = self._eos
            self._closed = True
            self._not_full.notify_all()
            return items, eos

    def load(self, items: list[Any], eos: bool) -> int:
        """Take over what a replaced endpoint held (a re-plan), in order, never
        blocking: a dropping ring keeps the newest ``capacity`` frames (dropping and
        counting the rest), a blocking ring keeps them all (its writer then waits
        until the consumer brought it under capacity). Returns the frames dropped."""
        with self._lock:
            self._items.extend(items)
            self.frames += len(items)
            dropped = 0
            if self._drop_oldest:
                while len(self._items) > self._capacity:
                    self._items.popleft()
                    dropped += 1
                self.dropped += dropped
            self.peak = max(self.peak, len(self._items))
            if eos:
                self._eos = True
        if self._items or eos:
            self._wake()
        return dropped

    def carry(self, frames: int, dropped: int) -> None:
        """Count what the endpoint this one replaced (a re-plan) passed and dropped
        before it, so a connection's counts run on across the change."""
        with self._lock:
            self.frames += frames
            self.dropped += dropped

    def discard(self) -> int:
        """Drop (and count) everything queued; returns how many."""
        with self._lock:
            n = len(self._items)
            self._items.clear()
            self.dropped += n
            self._not_full.notify_all()
            return n

    def statistics(self) -> RingStatistics:
        with self._lock:
            return RingStatistics(
                capacity=self._capacity,
                occupancy=len(self._items),
                frames=self.frames,
                popped=self.popped,
                dropped=self.dropped,
                peak=self.peak,
                drop_oldest=self._drop_oldest,
                batched=not self._eager,
                ended=self._eos,
            )


class FusedLink:
    """A hand-off inside one thread group's pass: holds what one ``process()`` call
    wrote, drained in the same pass. No lock: one thread touches it.

    Writers append to ``_items`` directly (the producer's port holds the deque's
    bound ``append``); the frame count of a fused connection is derived from its
    consumer's reads (see ``frames``)."""

    __slots__ = ("_items", "_eos", "dropped", "_reader", "_base", "_moved", "_carried")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._eos = False
        self.dropped = 0
        self._reader: Any = None
        self._base = 0
        self._moved = 0
        self._carried = 0

    def attach_reader(self, port: Any) -> None:
        """Count frames through this link from ``port``'s reads from now on (the reads
        of an earlier reader still count)."""
        before = self._reader.count - self._base if self._reader is not None else 0
        self._reader = port
        self._base = port.count - before

    @property
    def frames(self) -> int:
        reads = self._reader.count - self._base if self._reader is not None else 0
        return reads + len(self._items) + self.dropped + self._carried

    def carry(self, frames: int, dropped: int) -> None:
        """Count what the endpoint this one replaced (a re-plan) passed and dropped
        before it, so a connection's counts run on across the change."""
        self.dropped += dropped
        self._carried += frames - dropped  # (``frames`` adds ``dropped`` in already)

    @property
    def written(self) -> int:
        """Frames written to it so far (read, held, dropped, or moved on by a re-plan)."""
        return self.frames + self._moved

    def push(self, frame: Any) -> None:
        self._items.append(frame)

    def push_eos(self) -> None:
        self._eos = True

    def pop(self) -> Any:
        items = self._items
        return items.popleft() if items else None

    def has_frame(self) -> bool:
        return bool(self._items)

    def at_eos(self) -> bool:
        return self._eos and not self._items

    @property
    def eos(self) -> bool:
        return self._eos

    def __len__(self) -> int:
        return len(self._items)

    def drain(self) -> tuple[list[Any], bool]:
        items = list(self._items)
        self._items.clear()
        self._moved += len(items)
        return items, self._eos

    def load(self, items: list[Any], eos: bool) -> int:
        """Take over what a replaced endpoint held (a re-plan), in order."""
        self._items.extend(items)
        if eos:
            self._eos = True
        return 0

    def discard(self) -> int:
        n = len(self._items)
        self._items.clear()
        self.dropped += n
        return n
