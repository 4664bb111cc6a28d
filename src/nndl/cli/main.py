"""``nndl`` entry point: parse, dispatch, and turn nndl errors into one-line messages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from nndl import __version__
from nndl.cli import classify, dashboard, data, regression, reproduce, train
from nndl.errors import NNDLError

__all__ = ["build_parser", "main"]

COMMANDS = (train, regression, classify, reproduce, dashboard, data)


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (the full usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each command module adds its own subparser."""
    parser = Parser(
        prog="nndl",
        description="Supervised deep learning experiments: train, cross-validate, search, look inside.",
    )
    parser.add_argument("--version", action="version", version=f"nndl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (2: usage error, 1: failure)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except NNDLError as exc:
        print(f"nndl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nndl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
