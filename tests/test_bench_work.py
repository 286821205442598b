"""``python -m streamlib.bench work``: interpreter steps per tick, counted (deterministic)."""

from __future__ import annotations

from streamlib.bench._work import median_work


def test_the_library_chain_costs_at_most_1_95_times_the_one_processor_form() -> None:
    """The flagship chain built from the library's six processors against the same DSP
    calls as one processor, both pooled and fused as at density: Python opcodes per
    tick on the pool's workers, a count (the median of three runs: within 0.5 % from
    run to run, now and then 8 % more where the pool's waits went otherwise), so a
    regression in the per-frame path (a check per frame, a call per hop) fails here
    rather than hiding in timing noise. Measured: 2580 / 1095 (2.36) before the
    per-frame path was trimmed, 2196 / 1095 (2.01) after; with the fused hops of
    streamlib's own processors through the links' deques (and the benchmark's sink
    recording raw entries) ~1700 / ~970 (1.72-1.76)."""
    library = median_work("library", ticks=60, warmup=12)
    one = median_work("one", ticks=60, warmup=12)
    assert one.per_tick > 500  # (counted: the pool and the DSP calls' Python alone are more)
    names = dict(library.top(100))
    assert any(name.endswith(":_drain") for name in names)  # fused: the hops run in the pass
    assert library.per_tick / one.per_tick <= 1.95, (library.per_tick, one.per_tick, library.top(12))
