"""The ``cogattn`` command line: a thin layer that parses arguments and calls the library.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the parser
sets ``func(args) -> int`` for the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

# Modules providing sub-commands, in --help order.
_COMMAND_MODULES = (
    "cogattn.cli.brain",
    "cogattn.cli.data",
    "cogattn.cli.figure",
    "cogattn.cli.gaze",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all sub-commands)."""
    from cogattn import __version__

    parser = argparse.ArgumentParser(
        prog="cogattn",
        description="Neuroscience-inspired models of attention, compared with human data.",
    )
    parser.add_argument("--version", action="version", version=f"cogattn {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cogattn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from cogattn.data import DataError

    try:
        return int(args.func(args) or 0)
    except (DataError, FileNotFoundError, KeyError, ValueError) as err:
        print(f"cogattn: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
