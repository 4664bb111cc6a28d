"""``nndl`` entry point: parse, dispatch, and turn every error into one line on stderr."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from nndl import __version__
from nndl.cli import (
    classify,
    dashboard,
    data,
    predict,
    regression,
    reproduce,
    study,
    summary,
    tabular,
    train,
)
from nndl.errors import NNDLError

__all__ = ["build_parser", "describe_error", "main"]

COMMANDS = (
    train,
    predict,
    regression,
    classify,
    tabular,
    study,
    reproduce,
    dashboard,
    data,
    summary,
)
_MESSAGE_CHARS = 300


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (the full usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        flag = re.fullmatch(r"argument (--[\w-]+): expected one argument", message)
        if flag:  # argparse reads a value that starts with "-" (as "-0.1,0") as another flag
            message += f"; write {flag[1]}=VALUE when VALUE starts with '-'"
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
    _add_threads_flag(commands)
    return parser


def _add_threads_flag(commands: Any) -> None:
    """``--threads N`` on every command that runs something (the leaves of the parser tree)."""
    from nndl.cli._args import positive_int

    for sub in commands.choices.values():
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _add_threads_flag(nested[0])
            continue
        sub.add_argument(
            "--threads",
            type=positive_int,
            help="CPU threads per process (default: OMP_NUM_THREADS when set, else every core; "
            "give two processes on one machine their share)",
        )


def describe_error(exc: BaseException) -> str:
    """One short line for an error nndl did not phrase itself (Optuna, SQLAlchemy, torch, OS)."""
    if isinstance(exc, OSError) and exc.strerror:
        # a run's files are written in a hidden staging folder: name the folder the user gave
        filename = re.sub(r"\.([^/]+)\.staging-[^/]+", r"\1", str(exc.filename or ""))
        where = f"{filename}: " if filename else ""
        text = f"{where}{exc.strerror}"
    else:
        origin = type(exc).__module__.split(".")[0]
        source = {"optuna": "Optuna", "sqlalchemy": "the storage", "torch": "PyTorch"}.get(origin)
        text = f"{type(exc).__name__}: {exc}" if source is None else f"{source}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


class _Signals:
    """Whether a Ctrl-C or SIGTERM arrived during the command: an error it caused where it
    landed (inside a library's cleanup) is reported as the interruption it is."""

    received = False


def _interrupt(signum: int, frame: Any) -> None:
    _Signals.received = True
    raise KeyboardInterrupt  # SIGTERM ends a run the way Ctrl-C does


def _interrupted() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C: no traceback
    print(
        "nndl: interrupted; finished results are kept, a search resumes with the same command",
        file=sys.stderr,
    )
    _exit_past_lost_threads(130)
    return 130


LOST_THREAD_GRACE_SECONDS = 3.0


def _exit_past_lost_threads(status: int) -> None:
    """Exit now if a thread that is not a daemon outlives the interrupt by a few seconds.

    Optuna starts a heartbeat thread as each trial starts and stops it as the trial ends; a
    Ctrl-C that lands between the two loses the thread, which then beats forever and would
    keep the process from exiting (seen once in five suite runs: the one line printed, then
    a hang).
    """
    import threading
    import time

    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    deadline = time.monotonic() + LOST_THREAD_GRACE_SECONDS
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in others):
        import logging

        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(status)


def _quiet_libraries() -> None:
    """The CLI's log levels (set here, at the entry point, never when nndl is imported)."""
    import logging

    logging.getLogger("optuna").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (2: usage error, 1: failure, 130: interrupted).

    Errors never reach the user as a traceback; ``NNDL_TRACEBACK=1`` shows them for debugging.
    """
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    if getattr(args, "threads", None) or os.environ.get("OMP_NUM_THREADS"):
        from nndl.training.device import set_threads

        set_threads(getattr(args, "threads", None))
    _Signals.received = False
    previous = signal.signal(signal.SIGTERM, _interrupt)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:  # an ignored Ctrl-C stays ignored
        signal.signal(signal.SIGINT, _interrupt)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if _Signals.received:  # the interrupt landed inside a library and surfaced as this
            return _interrupted()
        if isinstance(exc, NNDLError):
            print(f"nndl: error: {exc}", file=sys.stderr)
            return exc.exit_code
        if os.environ.get("NNDL_TRACEBACK"):
            raise
        print(f"nndl: error: {describe_error(exc)}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def entry() -> NoReturn:
    """The ``nndl`` command: :func:`main`, then an exit that a late Ctrl-C cannot interrupt
    (the results are written by then; Python's shutdown would print its traceback)."""
    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)


if __name__ == "__main__":
    entry()
