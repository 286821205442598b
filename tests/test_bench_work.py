"""``python -m streamlib.bench work``: interpreter steps per tick, counted (deterministic)."""

from __future__ import annotations

from streamlib.bench._work import measure


def test_the_library_chain_costs_at_most_2_2_times_the_one_processor_form() -> None:
    """The flagship chain built from the library's six processors against the same DSP
    calls as one processor, both pooled and fused as at density: Python opcodes per
    tick on the pool's workers, a count (within 1-2 % from run to run: the pool's waits
    depend on thread timing), so a regression in the per-frame path (a check per frame,
    a call per hop) fails here rather than hiding in timing noise. Measured: 2580 / 1095
    (2.36) before the per-frame path was trimmed, 2203 / 1095 (2.01) after."""
    library = measure("library", ticks=60, warmup=12)
    one = measure("one", ticks=60, warmup=12)
    assert one.per_tick > 500  # (counted: the pool and the DSP calls' Python alone are more)
    names = dict(library.top(100))
    assert any(name.endswith(":_drain") for name in names)  # fused: the hops run in the pass
    assert library.per_tick / one.per_tick <= 2.2, (library.per_tick, one.per_tick, library.top(12))
