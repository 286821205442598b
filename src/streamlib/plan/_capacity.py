"""Queue capacities: from the priorities of the threads at a connection's two ends.

RT->RT 3 frames (minimal latency on a device-to-device path), RT->Normal 6
(headroom for variable processing), Normal->RT 4 (the device never starves),
Normal->Normal 12 (throughput, absorb jitter). The unoptimized baseline uses the
seed's per-frame-type defaults instead.
"""

from __future__ import annotations

from .._frames import AudioFrame, Frame, VideoFrame
from ._types import ConnectionType, ThreadPriority

__all__ = ["BASELINE_CAPACITY", "CAPACITY", "baseline_capacity", "classify"]

CAPACITY: dict[ConnectionType, int] = {
    ConnectionType.REAL_TIME_TO_REAL_TIME: 3,
    ConnectionType.REAL_TIME_TO_NORMAL: 6,
    ConnectionType.NORMAL_TO_REAL_TIME: 4,
    ConnectionType.NORMAL_TO_NORMAL: 12,
}

BASELINE_CAPACITY: dict[type[Frame], int] = {VideoFrame: 3, AudioFrame: 32}
_BASELINE_OTHER = 16  # DataFrame and any other frame type


def classify(source: ThreadPriority, sink: ThreadPriority) -> ConnectionType:
    rt_source = source is ThreadPriority.REAL_TIME
    rt_sink = sink is ThreadPriority.REAL_TIME
    if rt_source:
        return ConnectionType.REAL_TIME_TO_REAL_TIME if rt_sink else ConnectionType.REAL_TIME_TO_NORMAL
    return ConnectionType.NORMAL_TO_REAL_TIME if rt_sink else ConnectionType.NORMAL_TO_NORMAL


def baseline_capacity(frame_type: type[Frame]) -> int:
    for klass in frame_type.__mro__:
        if klass in BASELINE_CAPACITY:
            return BASELINE_CAPACITY[klass]
    return _BASELINE_OTHER
