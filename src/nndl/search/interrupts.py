"""Signals during a search: where a Ctrl-C or SIGTERM may land, and what Optuna logs of it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import optuna

__all__ = ["InterruptsInsideTrials", "QuietInterrupts"]


class QuietInterrupts(logging.Filter):
    """Optuna's warnings in one line each: no traceback; none once Ctrl-C or SIGTERM ended a
    trial (nndl says it in one line)."""

    interrupted = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is KeyboardInterrupt:
            self.interrupted = True
        record.exc_info, record.exc_text = None, None
        return not self.interrupted


class InterruptsInsideTrials:
    """Ctrl-C and SIGTERM land inside a trial's objective only, where Optuna records the trial
    as failed; one that arrives while Optuna creates or records a trial waits until that is
    done (it would leave the trial RUNNING forever: seen once in a CI run). A signal whose
    exception is lost (its handler ran inside a finalizer, such as SQLAlchemy's, whose
    exceptions Python drops: seen in 1 of ~20 test runs) is raised again when the trial ends.

    The handlers in place before (the CLI's, or Python's Ctrl-C) are the ones finally called;
    off the main thread, where handlers cannot be set, nothing changes.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._inside = False
        self._pending: tuple[int, Any] | None = None

    def __enter__(self) -> InterruptsInsideTrials:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                handler = signal.getsignal(signum)
                if callable(handler):  # an ignored or default signal keeps its behaviour
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if kind is not KeyboardInterrupt:  # one that came after the last trial: handled now
            self.deliver()

    def _handle(self, signum: int, frame: Any) -> None:
        self._pending = (signum, frame)
        if self._inside:
            self.deliver()

    def deliver(self) -> None:
        """Call the handler of a signal not yet handled (the CLI's and Python's raise); it stays
        pending until a handler returns, since a raise inside a finalizer is lost."""
        if self._pending is not None:
            signum, frame = self._pending
            self._previous[signum](signum, frame)
            self._pending = None  # (the frame, and its locals, let go)

    def wrap(self, objective: Callable[[optuna.Trial], float]) -> Callable[[optuna.Trial], float]:
        def objective_inside(trial: optuna.Trial) -> float:
            try:
                self._inside = True
                self.deliver()
                return objective(trial)
            finally:
                self._inside = False

        return objective_inside
