"""Runtime stage: the user's facade (StreamRuntime)."""

from ._runtime import StreamRuntime

__all__ = ["StreamRuntime"]
