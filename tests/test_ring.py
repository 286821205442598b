"""The engine's endpoints: bounded ring buffer and fused link."""

from __future__ import annotations

import threading

import pytest

from streamlib.engine import FusedLink, RingBuffer


def test_fifo_and_counts() -> None:
    ring = RingBuffer(4, drop_oldest=False)
    for i in range(3):
        ring.push(i)
    assert [ring.pop(), ring.pop()] == [0, 1]
    s = ring.statistics()
    assert (s.capacity, s.occupancy, s.frames, s.popped, s.dropped, s.peak) == (4, 1, 3, 2, 0, 3)
    assert ring.pop() == 2
    assert ring.pop() is None


def test_drop_oldest_keeps_newest_and_counts_exactly() -> None:
    ring = RingBuffer(3, drop_oldest=True)
    for i in range(10):
        ring.push(i)
    assert [ring.pop() for _ in range(3)] == [7, 8, 9]
    s = ring.statistics()
    assert s.dropped == 7
    assert s.frames == s.popped + s.dropped + s.occupancy


def test_blocking_writer_waits_for_room_and_loses_nothing() -> None:
    ring = RingBuffer(2, drop_oldest=False)
    ring.push(0)
    ring.push(1)
    pushed = threading.Event()

    def writer() -> None:
        ring.push(2)
        pushed.set()

    t = threading.Thread(target=writer)
    t.start()
    assert not pushed.wait(0.05)  # full: the writer waits
    assert ring.pop() == 0
    # a per-frame ring releases the writer on the first pop
    assert pushed.wait(5)
    t.join()
    assert [ring.pop(), ring.pop()] == [1, 2]
    assert ring.statistics().dropped == 0


def test_batched_ring_releases_writer_when_consumer_emptied_it() -> None:
    ring = RingBuffer(2, drop_oldest=False, batched=True)
    woken = threading.Event()
    ring.set_wake(woken.set)
    ring.push(0)
    ring.push(1)
    assert not woken.is_set()  # batched: no wake per frame
    pushed = threading.Event()
    t = threading.Thread(target=lambda: (ring.push(2), pushed.set()))
    t.start()
    assert woken.wait(5)  # the writer wakes the consumer before it waits
    assert ring.pop() == 0
    assert ring.pop() == 1
    assert not pushed.is_set()
    ring.release_writer()  # the consumer's end of pass
    assert pushed.wait(5)
    t.join()
    assert ring.pop() == 2


def test_close_releases_blocked_writer_and_counts_the_frame_dropped() -> None:
    ring = RingBuffer(1, drop_oldest=False)
    ring.push("a")
    done = threading.Event()
    t = threading.Thread(target=lambda: (ring.push("b"), done.set()))
    t.start()
    assert not done.wait(0.05)
    ring.close()
    assert done.wait(5)
    t.join()
    s = ring.statistics()
    assert s.dropped == 1
    assert s.frames == s.popped + s.dropped + s.occupancy


def test_switching_to_dropping_releases_blocked_writer() -> None:
    ring = RingBuffer(1, drop_oldest=False)
    ring.push("a")
    done = threading.Event()
    t = threading.Thread(target=lambda: (ring.push("b"), done.set()))
    t.start()
    assert not done.wait(0.05)
    ring.configure(drop_oldest=True)
    assert done.wait(5)
    t.join()
    assert ring.pop() == "b"
    assert ring.statistics().dropped == 1


@pytest.mark.parametrize("drop_oldest", [True, False])
def test_resize_keeps_contents(drop_oldest: bool) -> None:
    ring = RingBuffer(4, drop_oldest=drop_oldest)
    for i in range(4):
        ring.push(i)
    ring.configure(capacity=8)
    for i in range(4, 8):
        ring.push(i)
    assert [ring.pop() for _ in range(8)] == list(range(8))


def test_shrink_below_occupancy_drops_oldest_when_dropping() -> None:
    ring = RingBuffer(6, drop_oldest=True)
    for i in range(6):
        ring.push(i)
    assert ring.configure(capacity=2) == 4
    assert [ring.pop(), ring.pop(), ring.pop()] == [4, 5, None]
    assert ring.statistics().dropped == 4


def test_shrink_below_occupancy_keeps_frames_when_blocking() -> None:
    ring = RingBuffer(6, drop_oldest=False)
    for i in range(6):
        ring.push(i)
    assert ring.configure(capacity=2) == 0
    assert [ring.pop() for _ in range(6)] == list(range(6))


def test_end_of_stream_travels_behind_the_last_frame_and_survives_drain() -> None:
    ring = RingBuffer(4, drop_oldest=False)
    ring.push(1)
    ring.push_eos()
    assert not ring.at_eos()
    items, eos = ring.drain()
    assert (items, eos) == ([1], True)
    replacement = FusedLink()
    for item in items:
        replacement.push(item)
    if eos:
        replacement.push_eos()
    assert not replacement.at_eos()
    assert replacement.pop() == 1
    assert replacement.at_eos()


def test_wake_called_when_a_per_frame_ring_becomes_non_empty() -> None:
    calls: list[int] = []
    ring = RingBuffer(4, drop_oldest=True, wake=lambda: calls.append(1))
    ring.push(0)
    ring.push(1)
    assert calls == [1]
    ring.pop()
    ring.pop()
    ring.push(2)
    assert calls == [1, 1]


def test_spsc_threads_deliver_everything_in_order() -> None:
    ring = RingBuffer(8, drop_oldest=False)
    n = 20_000
    got: list[int] = []
    ready = threading.Event()
    ring.set_wake(ready.set)

    def consumer() -> None:
        while len(got) < n:
            item = ring.pop()
            if item is None:
                ready.wait(0.01)
                ready.clear()
                continue
            got.append(item)

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(n):
        ring.push(i)
    t.join(30)
    assert got == list(range(n))


def test_invalid_capacity() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RingBuffer(0, drop_oldest=True)
