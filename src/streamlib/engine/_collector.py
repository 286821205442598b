"""The cyclic garbage collector while live components run.

CPython's cyclic collector runs a full pass, over every tracked object and with the
interpreter lock held, whenever enough objects have survived into its oldest
generation: at a moment nobody chose. A running graph is mostly long-lived objects
(processors, their state, ports, queues), so the pass grows with the number of
pipelines: measured with the flagship chain, 35 ms at 140 live pipelines (~53 k
objects) and 60-70 ms at 240 (~72 k). Every real-time thread and pool worker waits
that long, so every source of every pipeline misses its tick.

While a live component runs, the engine moves the objects that exist once a plan
is in place into the collector's permanent generation (``gc.freeze()``; a constant-
time list splice), so full passes walk only what was made since. Frames, which live
for a tick, are freed by reference counting as before, and cycles made later are
still collected. Processors removed meanwhile are freed by reference counting; any
caught in a reference cycle wait in the permanent generation: once as many
processors were removed as the plan holds (at least ``CHURN_MIN``), the next plan
change unfreezes everything and runs one full collection (a pause at an edit, which
the user made, not at a random moment), then freezes again.

The collector is process-wide: freezing is reference-counted over engines, and when
the last engine that froze stops (or runs nothing live), ``gc.unfreeze()`` puts the
objects back where the collector expects them. The first freeze, each collection and
the unfreeze are logged at INFO (later freezes, one per edit, at DEBUG).
"""

from __future__ import annotations

import gc
import logging
import threading
import time

__all__ = ["CHURN_MIN", "Collector"]

log = logging.getLogger(__name__)

CHURN_MIN = 32
"""Removed processors (at least) before a plan change collects the frozen objects."""

_lock = threading.Lock()
_holders = 0
"""Engines that hold the permanent generation frozen (process-wide)."""


class Collector:
    """One engine's share of the process-wide policy (see the module doc)."""

    def __init__(self) -> None:
        self.holding = False
        self._frozen_ids: frozenset[str] = frozenset()
        """Every processor of the plans frozen since the last full collection."""

    def after_plan(self, processor_ids: frozenset[str], live: bool) -> None:
        """A plan is in place (start or re-plan): freeze while anything live runs."""
        global _holders
        if not live:
            self.release()
            return
        removed = len(self._frozen_ids - processor_ids)
        collected = False
        with _lock:
            if not self.holding:
                self.holding = True
                _holders += 1
            elif removed >= max(CHURN_MIN, len(processor_ids)):
                t0 = time.perf_counter()
                gc.unfreeze()
                found = gc.collect()
                log.info(
                    "garbage collector: %d processors removed since the last full collection; one "
                    "now (%d unreachable objects) took %.1f ms",
                    removed,
                    found,
                    (time.perf_counter() - t0) * 1000,
                )
                collected = True
            before = gc.get_freeze_count()
            gc.freeze()
            frozen = gc.get_freeze_count()
        self._frozen_ids = processor_ids if collected else self._frozen_ids | processor_ids
        log.log(
            logging.INFO if not before else logging.DEBUG,  # (every edit re-plans: quiet after the first)
            "garbage collector: %d long-lived objects moved out of its full passes "
            "(gc.freeze; %d in all) while live components run",
            frozen - before,
            frozen,
        )

    def release(self) -> None:
        """This engine no longer runs anything live (or stopped): the last one to let
        go unfreezes."""
        global _holders
        with _lock:
            if not self.holding:
                return
            self.holding = False
            _holders -= 1
            if _holders:
                return
            gc.unfreeze()
        self._frozen_ids = frozenset()
        log.info("garbage collector: unfrozen (no live component runs)")
