"""``python -m streamlib.bench optimizer``: what planning costs, and where the plan
cache pays.

For graphs of 6, 50, 500 and 5,000 processors, built as many small components
(the seed's 6-processor pipeline; 10-processor pipelines beyond 6) and as one big
component (a source fanning out into the same pipelines), measured in one run:

- analysis: ``optimize(graph)`` from scratch (every component analyzed);
- cache hit: the same plan from a warm cache (checksum, lookup, verification and
  mapping of every component), next to the analysis it replaces;
- edit: adding a processor and connecting it to a running graph of that size (the
  graph runs on a fake clock, so its threads exist but sit idle), median of 20.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from ..plan import Optimizer, optimize
from ..plan._analysis import analyze_component
from ..plan._canonical import canonical_form, canonical_order, component_checksum, label
from ..plan._optimize import _topology
from ..plan._topology import components
from ..runtime import StreamRuntime
from ..testing import CollectingSink, FakeClock, PassThrough, ScriptedSource, Worker


def _pipeline(rt: StreamRuntime, size: int, source: Any = None) -> Any:
    """A live pipeline of ``size`` processors (fed by ``source`` if given): source,
    light processors with a heavy one every fourth, a live sink."""
    if source is None:
        source = rt.add_processor(ScriptedSource, live=True, num_frames=None)
        size -= 1
    previous = source.output_port("out")
    for i in range(size - 1):
        middle = rt.add_processor(Worker if i % 4 == 3 else PassThrough)
        rt.connect(previous, middle.input_port("in"))
        previous = middle.output_port("out")
    sink = rt.add_processor(CollectingSink, live=True, keep_frames=False)
    rt.connect(previous, sink.input_port("in"))
    return source


def build(rt: StreamRuntime, total: int, shape: str) -> None:
    if shape == "components":
        size = 6 if total == 6 else 10
        for _ in range(total // size):
            _pipeline(rt, size)
    else:  # one component: a source fanning out into pipelines
        source = rt.add_processor(ScriptedSource, live=True, num_frames=None)
        remaining = total - 1
        while remaining > 0:
            size = min(remaining, 5 if total == 6 else 10)
            _pipeline(rt, size, source)
            remaining -= size


def _median_us(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e3


def measure(total: int, shape: str, repeats: int) -> dict[str, float]:
    rt = StreamRuntime(clock=FakeClock())
    build(rt, total, shape)
    graph = rt._graph
    analysis = _median_us(lambda: optimize(graph), repeats)
    tops = [_topology(graph, members) for members in components(graph.nodes, graph.connections.values())]

    def analyze_all() -> None:
        for t in tops:
            analyze_component(t, fuse=True)

    def checksum_all() -> None:
        for t in tops:
            component_checksum(label(t.order, t.nodes, t.inputs, t.outputs), t.outputs)

    warm = Optimizer()
    warm.update(graph, graph.nodes)

    def hit_all() -> None:
        for t in tops:
            warm._plan_component(t)

    def canonical_all() -> None:
        for t in tops:
            labels = label(t.order, t.nodes, t.inputs, t.outputs)
            canonical_form(canonical_order(t.order, t.nodes, t.inputs, t.outputs, labels), t.nodes, t.outputs)

    rules = _median_us(analyze_all, repeats)
    checksum = _median_us(checksum_all, repeats)
    hit = _median_us(hit_all, repeats)
    canonical = _median_us(canonical_all, repeats)
    assert warm.cache.hits > 0
    rt.start()
    try:
        edits = []
        source = next(iter(graph.nodes))
        for _ in range(20):
            t0 = time.perf_counter_ns()
            extra = rt.add_processor(CollectingSink, live=True, keep_frames=False)
            rt.connect(rt._handle(source).output_port("out"), extra.input_port("in"))
            edits.append(time.perf_counter_ns() - t0)
            rt.remove_processor(extra)
        edit = statistics.median(edits) / 1e3
    finally:
        rt.stop()
    return {
        "analysis_us": analysis,
        "rules_us": rules,
        "checksum_us": checksum,
        "hit_us": hit,
        "canonical_us": canonical,
        "edit_us": edit,
        "components": len(tops),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streamlib.bench optimizer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sizes", default="6,50,500,5000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("optimizer benchmark (µs, median of the repeats; all components of the graph):")
    print(
        f"{'graph':<27}{'comps':>6}{'analysis':>10}{'checksum':>10}{'rules':>9}{'hit':>9}"
        f"{'hit/rules':>10}{'edit':>8}"
    )
    print(f"{'':<27}{'':>6}{'(full)':>10}{'(labels)':>10}{'':>9}{'(w/o':>9}{'':>10}{'(live)':>8}")
    print(f"{'':<27}{'':>6}{'':>10}{'':>10}{'':>9}{'checksum)':>9}{'':>10}{'':>8}")
    results: dict[tuple[int, str], dict[str, float]] = {}
    for shape in ("components", "one"):
        for total in sizes:
            r = measure(total, shape, args.repeats if total < 5000 else max(3, args.repeats // 5))
            results[(total, shape)] = r
            name = f"{total} processors, " + ("many comps" if shape == "components" else "one comp")
            hit = r["hit_us"] - r["checksum_us"]
            print(
                f"{name:<27}{int(r['components']):>6}{r['analysis_us']:>10.0f}{r['checksum_us']:>10.0f}"
                f"{r['rules_us']:>9.0f}{hit:>9.0f}{hit / max(r['rules_us'], 1e-9):>10.2f}{r['edit_us']:>8.0f}"
            )
    seed = results[(6, "components")]
    print()
    print(f"seed graph (6 processors): full analysis {seed['analysis_us']:.0f} µs (target <= 150)")
    if (5000, "components") in results:
        big = results[(5000, "components")]
        print(
            f"edit on 5,000 processors in {int(big['components'])} components: {big['edit_us']:.0f} µs vs "
            f"{seed['edit_us']:.0f} µs on 6: ratio {big['edit_us'] / seed['edit_us']:.2f} (target <= 2)"
        )
    per = [results[(t, "components")]["analysis_us"] / t for t in sizes if (t, "components") in results]
    print("analysis per processor (µs), many components: " + ", ".join(f"{p:.1f}" for p in per))
    per = [results[(t, "one")]["analysis_us"] / t for t in sizes if (t, "one") in results]
    print("analysis per processor (µs), one component:   " + ", ".join(f"{p:.1f}" for p in per))
    print(
        "analysis = checksum (structural labels, needed for plan.checksum either way) + rules\n"
        "(fusion, priorities, capacities). A cache hit replaces the rules with verifying the\n"
        "canonical form and mapping the stored plan onto the component's ids: the cache pays\n"
        "where hit/rules < 1."
    )
    return 0
