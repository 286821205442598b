"""Graph-building helpers for the tests."""

from __future__ import annotations

from typing import Any

from streamlib import ProcessorHandle, StreamRuntime
from streamlib.testing import CollectingSink, PassThrough, ScriptedSource, Worker


def chain(
    rt: StreamRuntime,
    *,
    frames: int | None = 100,
    middles: tuple[type, ...] = (PassThrough,),
    live: bool = False,
    kind: str = "audio",
    sink_live: bool | None = None,
    **source_fields: Any,
) -> tuple[ProcessorHandle, list[ProcessorHandle], ProcessorHandle]:
    """source -> middles... -> sink, connected; returns (source, middles, sink)."""
    src = rt.add_processor(ScriptedSource, num_frames=frames, live=live, frame_kind=kind, **source_fields)
    mids = [rt.add_processor(cls, frame_kind=kind) for cls in middles]
    sink = rt.add_processor(CollectingSink, frame_kind=kind, live=live if sink_live is None else sink_live)
    previous = src.output_port("out")
    for mid in mids:
        rt.connect(previous, mid.input_port("in"))
        previous = mid.output_port("out")
    rt.connect(previous, sink.input_port("in"))
    return src, mids, sink


__all__ = ["PassThrough", "Worker", "chain"]
