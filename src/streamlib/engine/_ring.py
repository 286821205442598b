"""Endpoints: where ports write and read. A bounded ring buffer between thread
groups, and a fused link inside one group's pass.

Both carry end of stream in-band (behind the last frame), so it survives a swap of
one endpoint for another, and both can hand their contents to a replacement
(``drain()``), which is how live re-planning moves queued frames without loss.

Synchronization: a RingBuffer is shared by a producer thread and a consumer thread;
every mutation happens under its own lock (no reliance on the GIL). The wake
callback runs outside the lock. A FusedLink is touched only by the one thread
running its group's pass, so it has no lock.
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
    ended: bool


def _nothing() -> None:
    """The wake callback of an endpoint whose consumer is not running."""


class RingBuffer:
    """A bounded FIFO between two thread groups.

    Args:
        capacity: frames it holds.
        drop_oldest: when full, drop (and count) the oldest frame (live components);
            otherwise the writer waits for room (non-live components).
        wake: called (outside the lock) when a push makes the buffer non-empty, so
            the consumer's runner can wake. It must be cheap and must not block.
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
        "_wake",
        "frames",
        "popped",
        "dropped",
        "peak",
    )

    def __init__(self, capacity: int, *, drop_oldest: bool, wake: Callable[[], None] | None = None) -> None:
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
        self._wake = wake or _nothing
        self.frames = 0
        self.popped = 0
        self.dropped = 0
        self.peak = 0

    # --- producer side -----------------------------------------------------------------

    def push(self, frame: Any) -> None:
        with self._lock:
            items = self._items
            if len(items) >= self._capacity and not self._drop_oldest and not self._closed:
                self._wait_for_room()
            if self._closed:
                self.frames += 1
                self.dropped += 1
                return
            n = len(items)
            if n >= self._capacity:  # drop-oldest policy (or a live shrink): never block
                items.popleft()
                self.dropped += 1
                n -= 1
            items.append(frame)
            self.frames += 1
            if n >= self.peak:
                self.peak = n + 1
        if n == 0:
            self._wake()

    def _wait_for_room(self) -> None:
        """Block (lock held by the caller) until there is room, the policy switched to
        dropping, or the ring was closed."""
        self._waiting_writers += 1
        try:
            while len(self._items) >= self._capacity and not self._drop_oldest and not self._closed:
                self._not_full.wait()
        finally:
            self._waiting_writers -= 1

    def push_eos(self) -> None:
        with self._lock:
            self._eos = True
            was_empty = not self._items
        if was_empty:
            self._wake()

    # --- consumer side -----------------------------------------------------------------

    def pop(self) -> Any:
        """The oldest frame, or None when empty. Never blocks."""
        with self._lock:
            if not self._items:
                return None
            frame = self._items.popleft()
            self.popped += 1
            if self._waiting_writers:
                self._not_full.notify()
            return frame

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

    def set_wake(self, wake: Callable[[], None] | None) -> None:
        self._wake = wake or _nothing

    def configure(self, *, capacity: int | None = None, drop_oldest: bool | None = None) -> int:
        """Change capacity and/or policy, keeping the contents. A shrink below the
        occupancy drops (and counts) the oldest frames when dropping, and otherwise
        keeps them (writers wait until the consumer made room). Returns the number of
        frames dropped."""
        with self._lock:
            if drop_oldest is not None:
                self._drop_oldest = drop_oldest
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
                ended=self._eos,
            )


class FusedLink:
    """A hand-off inside one thread group's pass: holds what one ``process()`` call
    wrote, drained in the same pass. No lock: one thread touches it."""

    __slots__ = ("_items", "_eos", "frames", "popped", "dropped")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._eos = False
        self.frames = 0
        self.popped = 0
        self.dropped = 0

    def push(self, frame: Any) -> None:
        self._items.append(frame)
        self.frames += 1

    def push_eos(self) -> None:
        self._eos = True

    def pop(self) -> Any:
        if self._items:
            self.popped += 1
            return self._items.popleft()
        return None

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
        self.popped += len(items)
        return items, self._eos

    def discard(self) -> int:
        n = len(self._items)
        self._items.clear()
        self.dropped += n
        return n
