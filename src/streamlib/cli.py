"""streamlib: real-time audio and video graphs whose runtime optimizes itself.

Commands print what the runtime decided (the plan) and what it measured.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from . import __version__


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line (and never a traceback)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog.split()[0]} --help')\n")


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(args.seconds, Path(args.output), sys.stdout, use_devices=not args.no_devices)


def _demo_doc() -> str:
    from . import _demo

    return _demo.__doc__ or ""


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(
        prog="streamlib", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"streamlib {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    demo = commands.add_parser(
        "demo",
        help="run the seed's microphone -> reverb -> speaker graph on built-in defaults",
        description=_demo_doc(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--seconds", type=float, default=5.0, help="how long to run (default: 5)")
    demo.add_argument(
        "--output",
        default="streamlib-demo.wav",
        help="the WAV file the speaker writes to when there is no output device (default: %(default)s)",
    )
    demo.add_argument(
        "--no-devices",
        action="store_true",
        help="use the chord generator and a WAV file even where devices exist",
    )
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
