"""Public test helpers: a fake clock, scripted sources, collecting sinks, simple
processors to build graphs with, and fault injection. streamlib's own tests use
them; so can yours.

Example:
    >>> from streamlib import StreamRuntime
    >>> from streamlib.testing import ScriptedSource, PassThrough, CollectingSink, instance
    >>> with StreamRuntime() as rt:
    ...     src = rt.add_processor(ScriptedSource, num_frames=5)
    ...     mid = rt.add_processor(PassThrough)
    ...     sink = rt.add_processor(CollectingSink)
    ...     _ = rt.connect(src.output_port("out"), mid.input_port("in"))
    ...     _ = rt.connect(mid.output_port("out"), sink.input_port("in"))
    ...     rt.start()
    ...     rt.run(timeout=10)
    ...     instance(rt, sink).sequences
    True
    [0, 1, 2, 3, 4]
"""

from ._clock import FakeClock
from ._costs import FakeCosts, check_costs, use_costs
from ._processors import (
    BusyWork,
    BusyWorkConfig,
    CollectingSink,
    CollectingSinkConfig,
    FaultInjector,
    FaultInjectorConfig,
    FrameKind,
    PassThrough,
    PassThroughConfig,
    Scale,
    ScaleConfig,
    ScriptedSource,
    ScriptedSourceConfig,
    Worker,
    instance,
)

__all__ = [
    "BusyWork",
    "BusyWorkConfig",
    "FakeCosts",
    "check_costs",
    "use_costs",
    "CollectingSink",
    "CollectingSinkConfig",
    "FakeClock",
    "FaultInjector",
    "FaultInjectorConfig",
    "FrameKind",
    "PassThrough",
    "PassThroughConfig",
    "Scale",
    "ScaleConfig",
    "ScriptedSource",
    "ScriptedSourceConfig",
    "Worker",
    "instance",
]
