"""Structural checksums and canonical forms of components: independent of ids and
insertion order.

A processor's label starts from its structure checksum (module-qualified type,
declared flags and ports, plan-relevant config) and absorbs the labels of its
ancestors (a pass in topological order), of its descendants (a pass in reverse
order), and then of its neighbours, along port-labelled connections. Linear in the
component's size. A component's checksum is the multiset of labels and labelled
connections.

Processors that end up with equal labels occupy equivalent positions (two
identical branches). A canonical order breaks such ties by individualizing them and
relabelling, until every label is unique; the canonical form (structure
checksums and connections, in canonical positions) is what a cached plan is
stored and verified against, so a cache hit is only ever used for an identical
structure, whatever the checksum says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from ..graph import Connection, ProcessorNode

__all__ = ["CanonicalForm", "canonical_order", "combine", "component_checksum", "label", "with_cost"]

_MASK = (1 << 64) - 1

CanonicalForm = tuple[tuple[int, ...], tuple[tuple[int, str, int, str], ...]]
"""(structure checksum per canonical position, sorted connections between positions)."""


def _h(*parts: bytes) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(part)
    return int.from_bytes(digest.digest(), "big")


def _b(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _edge(c: Connection, other: int, tag: bytes) -> bytes:
    return _b(_h(tag, c.source_port.encode(), b"\0", c.sink_port.encode(), _b(other)))


def label(
    order: Sequence[str],
    nodes: Mapping[str, ProcessorNode],
    inputs: Mapping[str, Iterable[Connection]],
    outputs: Mapping[str, Iterable[Connection]],
    base: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Structural labels of a component's processors. ``order`` is a topological
    order of the component; ``base`` overrides starting labels (individualization)."""
    start = {pid: nodes[pid].structure_checksum for pid in order}
    if base:
        start.update(base)
    up: dict[str, int] = {}
    for pid in order:
        parts = sorted(_edge(c, up[c.source], b"u") for c in inputs[pid])
        up[pid] = _h(_b(start[pid]), *parts)
    down: dict[str, int] = {}
    for pid in reversed(order):
        parts = sorted(_edge(c, down[c.sink], b"d") for c in outputs[pid])
        down[pid] = _h(_b(start[pid]), *parts)
    both = {pid: _h(_b(up[pid]), _b(down[pid])) for pid in order}
    final: dict[str, int] = {}
    for pid in order:
        ins = sorted(_edge(c, both[c.source], b"i") for c in inputs[pid])
        outs = sorted(_edge(c, both[c.sink], b"o") for c in outputs[pid])
        final[pid] = _h(_b(both[pid]), *ins, b"|", *outs)
    return final


def component_checksum(labels: Mapping[str, int], outputs: Mapping[str, Iterable[Connection]]) -> int:
    """The checksum of a component from its labels: the multiset of processor labels
    and of labelled connections."""
    node_part = sorted(labels.values())
    edge_part = sorted(
        _h(_b(labels[c.source]), c.source_port.encode(), b"\0", c.sink_port.encode(), _b(labels[c.sink]))
        for pid in labels
        for c in outputs[pid]
    )
    return _h(b"component", *map(_b, node_part), b"|", *map(_b, edge_part))


def canonical_order(
    order: Sequence[str],
    nodes: Mapping[str, ProcessorNode],
    inputs: Mapping[str, Iterable[Connection]],
    outputs: Mapping[str, Iterable[Connection]],
    labels: Mapping[str, int],
) -> list[str]:
    """The component's processors in canonical positions: sorted by label; ties are
    broken by individualizing every tied processor at once (numbered within its
    class) and relabelling, until every label is unique. Interchangeable processors
    (identical branches) give the same canonical form whichever way they are
    numbered; for the rare ties that are not interchangeable the form may differ
    between two copies of a structure, which costs a cache miss, never a wrong plan
    (hits are verified against the form)."""
    current = dict(labels)
    individualized: dict[str, int] = {}
    for _ in range(len(order)):
        classes: dict[int, list[str]] = {}
        for pid in order:
            classes.setdefault(current[pid], []).append(pid)
        tied = [members for members in classes.values() if len(members) > 1]
        if not tied:
            break
        for members in tied:
            for rank, pid in enumerate(members):
                individualized[pid] = _h(b"individual", _b(current[pid]), _b(rank))
        current = label(order, nodes, inputs, outputs, individualized)
    return sorted(order, key=current.__getitem__)


def canonical_form(
    positions: Sequence[str],
    nodes: Mapping[str, ProcessorNode],
    outputs: Mapping[str, Iterable[Connection]],
) -> CanonicalForm:
    index = {pid: i for i, pid in enumerate(positions)}
    structures = tuple(nodes[pid].structure_checksum for pid in positions)
    edges = tuple(
        sorted(
            (index[c.source], c.source_port, index[c.sink], c.sink_port)
            for pid in positions
            for c in outputs[pid]
        )
    )
    return structures, edges


def with_cost(structure_checksum: int, cost: str) -> int:
    """A processor's structure checksum with its measured cost class folded in: the
    cost class is part of the plan cache key (and of the verified canonical form)."""
    return _h(b"cost", _b(structure_checksum), cost.encode())


def combine(total: int, count: int, *, optimized: bool) -> int:
    """The graph checksum from the sum (mod 2**64) and count of its components'
    checksums: an order-independent multiset hash that an edit updates in O(1)."""
    return _h(b"graph" if optimized else b"baseline", _b(total & _MASK), _b(count))
