"""Fusion: which processors run inline on an upstream processor's thread.

The rule (API.md): a processor with exactly one input connection and exactly one
output connection that is declared lightweight is fused into the thread of its
upstream processor, transitively. Every other processor heads its own thread group.
"""

from __future__ import annotations

from ._topology import Topology

__all__ = ["assign_heads"]


def fusable(topology: Topology, pid: str) -> bool:
    node = topology.nodes[pid]
    return node.lightweight and len(topology.inputs[pid]) == 1 and len(topology.outputs[pid]) == 1


def assign_heads(topology: Topology, *, fuse: bool = True) -> dict[str, str]:
    """The head of every processor's thread group (itself when dedicated)."""
    head: dict[str, str] = {}
    for pid in topology.order:  # upstream heads are known before their children
        if fuse and fusable(topology, pid):
            upstream = topology.inputs[pid][0].source
            head[pid] = head[upstream]
        else:
            head[pid] = pid
    return head
