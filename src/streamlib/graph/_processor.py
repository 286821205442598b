"""The processor author's contract: a small base class with one required method."""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from ._config import ProcessorConfig
from ._ports import Port

if TYPE_CHECKING:
    from .._clock import Clock

__all__ = ["Processor", "ProcessorStatus"]


class ProcessorStatus(enum.Enum):
    """What ``process()`` returns. ``None`` means ``CONTINUE``."""

    CONTINUE = "continue"
    END_OF_STREAM = "end_of_stream"


class Processor(abc.ABC):
    """Base class of every processor.

    Declare typed ports as class attributes, optionally a ``Config`` dataclass, and
    implement ``process()``. The runtime constructs the processor when it is added
    (``self.config`` is set before ``__init__`` runs, so an ``__init__`` without
    arguments may read it; no ``super()`` call is needed) and opens nothing then:
    devices and files are opened in ``setup()``.

    Class attributes read by the optimizer:
        lightweight: declared by the author: cheap, never blocks, eligible for fusion.
        live: timing set by a clock outside the graph (a device or the wall clock); may
            be a property reading ``self.config``.
        period_ns: for a clock-driven source, the tick period in nanoseconds, an
            ``int`` or an exact ``fractions.Fraction`` (512 samples at 48 kHz is
            ``Fraction(512 * 10**9, 48000)``; deadlines are then exact, no drift);
            ``None`` otherwise. It may be a property; its value is read when the
            source starts, after ``setup()``. The runtime calls ``process()`` once per
            tick at absolute deadlines, and ``process()`` never sleeps.

    Example:
        >>> from dataclasses import dataclass
        >>> from streamlib import AudioFrame, Input, Output
        >>> @dataclass(frozen=True)
        ... class GainConfig(ProcessorConfig):
        ...     gain: float = 1.0
        >>> class GainProcessor(Processor):
        ...     Config = GainConfig
        ...     lightweight = True
        ...     audio_in = Input(AudioFrame)
        ...     audio_out = Output(AudioFrame)
        ...     def process(self):
        ...         frame = self.audio_in.read()
        ...         if frame is not None:
        ...             self.audio_out.write(frame.with_samples(frame.samples * self.config.gain))
    """

    Config: ClassVar[type[ProcessorConfig]] = ProcessorConfig
    lightweight: ClassVar[bool] = False
    live: bool = False
    period_ns: int | Fraction | None = None

    config: Any
    """The processor's config (an instance of ``Config``)."""
    clock: Clock
    """The runtime's clock; read the time with ``self.clock.now_ns()``."""
    processor_id: str
    """The id the runtime gave this processor (``"processor_3"``)."""
    tick_ns: int = 0
    """For a clock-driven source, inside ``process()``: the deadline of the tick being
    run, on the runtime clock (the end of the period the tick covers). Stamp frames
    from it, not from ``clock.now_ns()``, so a late tick keeps its place in time.
    It can jump by more than one period: a source far behind (over 100 ms) skips
    to its latest due tick, the skipped ones counted as ``ticks_skipped`` in stats;
    a source that stamps from ``tick_ns``, not from a count of its own calls, stays
    right (``streamlib.processors`` sources derive their block index from it)."""
    inputs: Mapping[str, Any]
    """Bound input ports by name (while the processor is in a runtime)."""
    outputs: Mapping[str, Any]
    """Bound output ports by name (while the processor is in a runtime)."""

    def ports(self) -> dict[str, Port[Any]]:
        """The declared ports by name. The default collects the class's ``Input`` and
        ``Output`` attributes; a processor whose ports depend on its config (a mixer's
        ``input_0`` .. ``input_{n-1}``) returns more, built from ``self.config``."""
        found: dict[str, Port[Any]] = {}
        for klass in reversed(type(self).__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Port):
                    found[name] = value
        return found

    def setup(self) -> None:
        """Open devices and files. Runs on the processor's own thread before the
        first ``process()``."""

    @abc.abstractmethod
    def process(self) -> ProcessorStatus | None:
        """Do one step of work: read what the inputs hold, write results.

        Sources return ``ProcessorStatus.END_OF_STREAM`` when done; ``None`` means
        continue."""

    def on_end_of_stream(self) -> None:
        """Called once when every input has ended and drained; may ``write()`` what
        the processor still holds before end of stream moves on."""

    def on_shutdown(self) -> None:
        """Release what ``setup()`` opened. Called exactly once for every processor
        whose ``setup()`` completed."""

    def metrics(self) -> dict[str, Any]:
        """Processor-specific counters (JSON-serializable), merged into this
        processor's entry in ``StreamRuntime.stats()``, e.g. ``{"underruns": 3}``.
        Called from any thread: return a snapshot."""
        return {}

    def __repr__(self) -> str:
        pid = getattr(self, "processor_id", "?")
        return f"<{type(self).__name__} {pid}>"


Processor.__module__ = "streamlib"
ProcessorStatus.__module__ = "streamlib"
