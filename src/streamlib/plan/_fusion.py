"""Fusion: which processors run inline on an upstream processor's thread.

The rule (API.md): a processor with exactly one input connection and exactly one
output connection that is declared lightweight is fused into the thread of its
upstream processor, transitively. Every other processor heads its own thread group.

Measured costs refine it (issue #9; they exist only while running): a one-in/one-out
processor measured CHEAP is fused whether or not it declares itself lightweight; a
sink with one input that no device drives (not ``live``) and is measured CHEAP joins
its upstream processor's group; a processor measured SLOW is never fused, declared
lightweight or not.
"""

from __future__ import annotations

from ._topology import Topology
from ._types import CostClass

__all__ = ["assign_heads", "fusable"]


def fusable(topology: Topology, pid: str) -> bool:
    if len(topology.inputs[pid]) != 1:
        return False
    cost = topology.cost(pid)
    if cost is CostClass.SLOW:
        return False
    node = topology.nodes[pid]
    outputs = len(topology.outputs[pid])
    if outputs == 1:
        return node.lightweight or cost is CostClass.CHEAP
    return outputs == 0 and cost is CostClass.CHEAP and not node.live and not node.outputs


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
