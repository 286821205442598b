"""The plan cache and the incremental optimizer: structural checksums, hits mapped
onto new ids, only changed components looked at, bounded."""

from __future__ import annotations

import contextlib
import logging
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamlib import StreamError, StreamRuntime
from streamlib.plan import GraphPlan, optimize
from streamlib.processors import WavFileSinkProcessor
from streamlib.testing import CollectingSink, PassThrough, Scale, ScriptedSource, Worker

from .helpers import chain


def fresh(rt: StreamRuntime) -> GraphPlan:
    """The plan computed from scratch for the runtime's current graph."""
    return optimize(rt._graph, fuse=rt._optimizer.fuse)


def renamed(plan: GraphPlan, mapping: dict[str, str]) -> dict[str, Any]:
    """The plan's per-processor decisions with processor ids renamed."""

    def r(pid: str | None) -> str | None:
        return None if pid is None else mapping.get(pid, pid)

    return {
        r(pid): (p.threading, r(p.fused_into), p.priority, p.scheduled, p.live)
        for pid, p in plan.processors.items()
    }


def cache(rt: StreamRuntime) -> dict[str, Any]:
    stats: dict[str, Any] = rt.stats()["optimizer"]
    return stats


def test_removed_and_readded_processor_comes_from_the_cache_and_equals_the_original() -> None:
    rt = StreamRuntime()
    src, (mid,), sink = chain(rt, frames=10, middles=(PassThrough,), live=True)
    original = rt.plan
    hits = cache(rt)["cache_hits"]
    rt.remove_processor(mid)
    again = rt.add_processor(PassThrough)  # identical, under a new id
    rt.connect(src.output_port("out"), again.input_port("in"))
    rt.connect(again.output_port("out"), sink.input_port("in"))
    assert again.id != mid.id
    assert cache(rt)["cache_hits"] > hits  # the component's plan came from the cache
    assert rt.plan.checksum == original.checksum
    assert renamed(rt.plan, {again.id: mid.id}) == renamed(original, {})
    assert rt.plan == fresh(rt)


def test_a_second_identical_pipeline_hits_the_cache() -> None:
    rt = StreamRuntime()
    chain(rt, frames=10, middles=(PassThrough, Worker), live=True)
    before = cache(rt)
    chain(rt, frames=10, middles=(PassThrough, Worker), live=True)
    after = cache(rt)
    assert after["cache_hits"] > before["cache_hits"]
    assert after["cache_entries"] == before["cache_entries"] + (
        after["cache_misses"] - before["cache_misses"]
    )
    assert rt.plan == fresh(rt)


def test_fields_that_cannot_change_a_plan_share_one_cache_entry(tmp_path: Any) -> None:
    rt = StreamRuntime()
    for name in ("a", "b"):
        src = rt.add_processor(ScriptedSource, num_frames=1)
        sink = rt.add_processor(WavFileSinkProcessor, path=tmp_path / f"{name}.wav")
        misses = cache(rt)["cache_misses"]
        rt.connect(src.output_port("out"), sink.input_port("audio"))
        if name == "b":  # differs only in the path: the structure is the same
            assert cache(rt)["cache_misses"] == misses
    assert rt.plan == fresh(rt)


def test_symmetric_branches_map_onto_the_right_processors() -> None:
    rt = StreamRuntime()
    src = rt.add_processor(ScriptedSource, num_frames=1)
    branches = []
    for _ in range(3):  # three identical light branches, each ending in a sink
        light = rt.add_processor(PassThrough)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), light.input_port("in"))
        rt.connect(light.output_port("out"), sink.input_port("in"))
        branches.append((light, sink))
    assert rt.plan == fresh(rt)
    # remove one branch's light processor and put an identical one back: the cached
    # plan must fuse the new processor into the source and queue to *its* sink
    light, sink = branches[1]
    rt.remove_processor(light)
    hits = cache(rt)["cache_hits"]
    again = rt.add_processor(PassThrough)
    rt.connect(src.output_port("out"), again.input_port("in"))
    rt.connect(again.output_port("out"), sink.input_port("in"))
    assert cache(rt)["cache_hits"] > hits
    assert rt.plan == fresh(rt)
    assert rt.plan.processors[again.id].fused_into == src.id


def test_lru_is_bounded_when_thousands_of_configs_cycle_through() -> None:
    rt = StreamRuntime()
    src = rt.add_processor(ScriptedSource, num_frames=1)
    sink = rt.add_processor(CollectingSink)
    for i in range(3000):
        scale = rt.add_processor(Scale, factor=1.0 + i / 1000)
        a = rt.connect(src.output_port("out"), scale.input_port("audio_in"))
        b = rt.connect(scale.output_port("audio_out"), sink.input_port("in"))
        assert cache(rt)["cache_entries"] <= 1024
        rt.disconnect(a)
        rt.disconnect(b)
        rt.remove_processor(scale)
    stats = cache(rt)
    assert stats["cache_entries"] == 1024
    assert stats["cache_misses"] >= 3000


def test_every_plan_relevant_config_field_changes_the_structure_checksum() -> None:
    def checksum(**fields: Any) -> int:
        rt = StreamRuntime()
        src = rt.add_processor(ScriptedSource, **fields)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), sink.input_port("in"))
        return rt.plan.checksum

    base = checksum()
    for field, value in [
        ("num_frames", 7),
        ("block_size", 256),
        ("channels", 1),
        ("sample_rate", 44100),
        ("width", 1),
        ("height", 1),
        ("period_ns", 5),
    ]:
        assert checksum(**{field: value}) != base, field
    assert checksum(live=True) != base  # changes the plan too


def test_debug_log_names_each_hit_and_miss_with_the_checksum(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="streamlib.plan")
    rt = StreamRuntime()
    chain(rt, frames=1)
    assert rt.plan.thread_count == 2  # before start, reading the plan brings it up to date
    chain(rt, frames=1)
    assert rt.plan.thread_count == 4
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("streamlib.plan")]
    assert any(m.startswith("plan cache miss for component ") for m in messages)
    hit = next(m for m in messages if m.startswith("plan cache hit for component "))
    assert len(hit.split()[5]) == 16  # the checksum, in hex


# --- properties ---------------------------------------------------------------------------

_KINDS = [ScriptedSource, PassThrough, Worker, CollectingSink]


@st.composite
def edit_scripts(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    n = draw(st.integers(4, 18))
    return [
        (
            draw(st.sampled_from(["add", "add", "connect", "connect", "connect", "disconnect", "remove"])),
            draw(st.integers(0, 10_000)),
            draw(st.integers(0, 10_000)),
        )
        for _ in range(n)
    ]


def _apply(rt: StreamRuntime, script: list[tuple[str, int, int]], seed: int) -> None:
    rng = random.Random(seed)
    handles: list[Any] = []
    for op, a, b in script:
        if op == "add" or not handles:
            kind = _KINDS[a % len(_KINDS)]
            fields = {"live": bool(b % 2)} if kind in (ScriptedSource, CollectingSink) else {}
            handles.append(rt.add_processor(kind, **fields))
        elif op == "connect":
            outs = [h for h in handles if h._node.outputs]
            ins = [h for h in handles if h._node.inputs]
            if outs and ins:
                src, dst = outs[a % len(outs)], ins[b % len(ins)]
                with contextlib.suppress(StreamError):  # cycles, taken inputs: refused, unchanged
                    rt.connect(src.output_port("out"), dst.input_port("in"))
        elif op == "disconnect" and rt.plan.connections:
            rt.disconnect(rng.choice(sorted(rt.plan.connections)))
        elif op == "remove":
            rt.remove_processor(handles.pop(a % len(handles)))
        assert rt.plan == fresh(rt)  # after every edit, incremental == from scratch


@settings(max_examples=120, deadline=None)
@given(edit_scripts(), st.integers(0, 2**16))
def test_incremental_cached_plan_equals_a_fresh_one_after_every_edit(script: list, seed: int) -> None:
    _apply(StreamRuntime(), script, seed)


@settings(max_examples=60, deadline=None)
@given(edit_scripts(), st.integers(0, 2**16))
def test_the_baseline_is_incremental_too(script: list, seed: int) -> None:
    _apply(StreamRuntime(optimize=False), script, seed)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**16))
def test_a_warm_cache_serves_relabelled_graphs_exactly(copies: int, seed: int) -> None:
    # the same pipeline shape built again and again in random order under new ids:
    # every plan served from the cache must equal the fresh plan
    rng = random.Random(seed)
    rt = StreamRuntime()
    for _ in range(copies):
        kinds = [PassThrough, Worker, PassThrough][: rng.randint(1, 3)]
        rng.shuffle(kinds)
        src = rt.add_processor(ScriptedSource, num_frames=1, live=rng.random() < 0.5)
        mids = [rt.add_processor(k) for k in kinds]
        sinks = [rt.add_processor(CollectingSink) for _ in range(rng.randint(1, 2))]
        ports = [src.output_port("out")] + [m.output_port("out") for m in mids]
        edges = [(ports[i], mids[i].input_port("in")) for i in range(len(mids))]
        edges += [(ports[-1], s.input_port("in")) for s in sinks]
        rng.shuffle(edges)
        for out, inp in edges:
            rt.connect(out, inp)
        assert rt.plan == fresh(rt)


def test_a_second_identical_pipeline_next_to_a_running_one_hits_the_cache() -> None:
    from streamlib.testing import FakeClock

    with StreamRuntime(clock=FakeClock()) as rt:
        chain(rt, frames=None, middles=(PassThrough, Worker), live=True)
        rt.start()
        before = cache(rt)
        chain(rt, frames=None, middles=(PassThrough, Worker), live=True)
        assert cache(rt)["cache_hits"] > before["cache_hits"]
        assert rt.plan == fresh(rt)
        assert rt.plan.thread_count == 6
