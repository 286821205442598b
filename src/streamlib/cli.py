"""The ``streamlib`` command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    del argv
    print("streamlib: nothing here yet", file=sys.stderr)
    return 2
