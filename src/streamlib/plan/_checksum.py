"""Structural checksums: per connected component, independent of ids and order.

A component's checksum covers everything the optimizer reads: each processor's
structure checksum (module-qualified type, declared flags and ports, plan-relevant
config) and the port-level connections. Processor ids, connection ids and insertion
order never enter it. Labels are refined Weisfeiler-Lehman style: each round a
processor's label absorbs its neighbours' labels along the (port-labelled)
connections, until the partition stops splitting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from ..graph import Connection, ProcessorNode

__all__ = ["combine", "component_checksum", "refine_labels"]


def _h(*parts: bytes) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(len(part).to_bytes(4, "big"))
        digest.update(part)
    return int.from_bytes(digest.digest(), "big")


def _b(value: int) -> bytes:
    return value.to_bytes(8, "big")


def refine_labels(
    pids: Iterable[str],
    nodes: Mapping[str, ProcessorNode],
    inputs: Mapping[str, Iterable[Connection]],
    outputs: Mapping[str, Iterable[Connection]],
) -> dict[str, int]:
    """Stable labels per processor: equal labels mean structurally equivalent positions
    (up to the refinement's power)."""
    members = list(pids)
    labels = {pid: nodes[pid].structure_checksum for pid in members}
    classes = len(set(labels.values()))
    for _ in range(len(members)):
        new: dict[str, int] = {}
        for pid in members:
            outs = sorted(
                _h(b"o", c.source_port.encode(), c.sink_port.encode(), _b(labels[c.sink]))
                for c in outputs[pid]
            )
            ins = sorted(
                _h(b"i", c.source_port.encode(), c.sink_port.encode(), _b(labels[c.source]))
                for c in inputs[pid]
            )
            new[pid] = _h(_b(labels[pid]), *map(_b, outs), b"|", *map(_b, ins))
        new_classes = len(set(new.values()))
        labels = new
        if new_classes == classes:
            break
        classes = new_classes
    return labels


def component_checksum(
    pids: Iterable[str],
    nodes: Mapping[str, ProcessorNode],
    inputs: Mapping[str, Iterable[Connection]],
    outputs: Mapping[str, Iterable[Connection]],
) -> int:
    members = list(pids)
    labels = refine_labels(members, nodes, inputs, outputs)
    node_part = sorted(labels.values())
    edge_part = sorted(
        _h(_b(labels[c.source]), c.source_port.encode(), c.sink_port.encode(), _b(labels[c.sink]))
        for pid in members
        for c in outputs[pid]
    )
    return _h(b"component", *map(_b, node_part), b"|", *map(_b, edge_part))


def combine(component_checksums: Iterable[int], *, optimized: bool = True) -> int:
    """The graph checksum: the multiset of its components' checksums."""
    return _h(b"graph" if optimized else b"baseline", *map(_b, sorted(component_checksums)))
