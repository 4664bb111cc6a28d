"""Running a search: worker processes (local or on many machines), their progress, signals,
and the cap on completed trials that all workers share."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState

from nndl.errors import NNDLError
from nndl.search.interrupts import InterruptsInsideTrials, QuietInterrupts
from nndl.search.resources import cpu_cores
from nndl.search.study import SearchJob, StudySpec, TrainingDiverged, count, open_study, summarize
from nndl.training.device import env_threads

__all__ = ["CompletionLock", "TrialProgress", "capped", "run_study"]


def run_study(spec: StudySpec, job: SearchJob) -> dict[str, Any]:
    """Run workers until ``spec.trials`` trials completed; returns the summary.

    ``seconds`` is this run's wall time; ``trials_before`` the trials the study held when it
    started (a resumed search), so a reader can tell the two apart.
    """
    start = time.perf_counter()
    before = len(open_study(spec).trials)  # create it (and check settings) before workers race to
    if spec.workers == 1:
        _worker(spec, job, 0)
    else:
        _run_processes(spec, job)
    study = open_study(spec)
    return {**summarize(study, time.perf_counter() - start), "trials_before": before}


def _run_processes(spec: StudySpec, job: SearchJob) -> None:
    from nndl._timing import log_files

    ctx = multiprocessing.get_context("spawn")
    logs = log_files()  # spawned workers start without the parent's log handlers
    procs = [
        ctx.Process(target=_process_worker, args=(spec, job, i, logs)) for i in range(spec.workers)
    ]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:  # each worker records its trial in flight as failed, then exits
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join()
        raise
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise NNDLError(
            f"{len(failed)} of {spec.workers} search workers failed (exit codes {failed})"
        )


def _process_worker(spec: StudySpec, job: SearchJob, index: int, logs: list[Path]) -> None:
    """A spawned worker: SIGTERM and Ctrl-C end it quietly, its trial in flight recorded as failed."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    from nndl.search.study import quiet_optuna

    quiet_optuna()
    try:
        _worker(spec, job, index, logs)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(130)


def _worker(spec: StudySpec, job: SearchJob, index: int, logs: list[Path] | None = None) -> None:
    import torch

    from nndl._timing import log_to_file

    with contextlib.ExitStack() as stack:
        for path in logs or []:  # a spawned worker logs to its parent's files
            stack.enter_context(log_to_file(path))
        optuna_log, quiet = logging.getLogger("optuna.study._optimize"), QuietInterrupts()
        optuna_log.addFilter(quiet)
        stack.callback(optuna_log.removeFilter, quiet)
        stack.callback(torch.set_num_threads, torch.get_num_threads())
        torch.set_num_threads(spec.threads or env_threads() or max(1, cpu_cores() // spec.workers))
        study = open_study(spec, stream=index)
        lock = stack.enter_context(CompletionLock(spec))
        objective = capped(job.make_objective(), spec.trials, lock)  # data read: interruptible
        interrupts = stack.enter_context(InterruptsInsideTrials())
        objective = interrupts.wrap(objective)
        limit = spec.max_trials or 20 * spec.trials
        progress = TrialProgress(
            spec.trials,
            f"worker {index}" if spec.workers > 1 else "search",
            terminal=spec.progress,
            limit=limit,
        )
        callbacks: list[Callable[[optuna.Study, FrozenTrial], None]] = [
            lambda _study, _trial: lock.release(),
            progress,
        ]
        while count(study, TrialState.COMPLETE) < spec.trials and len(study.trials) < limit:
            study.optimize(objective, n_trials=1, catch=(TrainingDiverged,), callbacks=callbacks)
            interrupts.deliver()
        progress.close()


class TrialProgress:
    """Optuna callback: logs each finished trial; a ``tqdm.auto`` bar on a terminal or in a
    notebook (``terminal``).

    Shows both ends of the search: completed trials out of ``target`` and, when ``limit``
    is given, trials of any state out of ``limit`` (whichever is reached first stops it).
    """

    def __init__(
        self,
        target: int,
        name: str = "search",
        stream: TextIO | None = None,
        *,
        terminal: bool = True,
        limit: int | None = None,
    ) -> None:
        self.target, self.name, self.limit = target, name, limit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = terminal and (self.stream.isatty() or "ipykernel" in sys.modules)
        self._bar: Any = None
        if self.enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=target, desc=name, unit="trial", file=self.stream)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        done = count(study, TrialState.COMPLETE)
        best = f"{study.best_value:.4f}" if done else "-"
        seconds = trial.duration.total_seconds() if trial.duration else 0.0
        counts = f"completed {done}/{self.target}"
        if self.limit is not None:
            counts += f", trials {len(study.trials)}/{self.limit}"
        logging.getLogger("nndl").info(
            "%s: trial %d %s in %.1f s, %s, best %s",
            self.name,
            trial.number,
            trial.state.name,
            seconds,
            counts,
            best,
        )
        if self._bar is not None:
            self._bar.n = done
            self._bar.set_postfix_str(
                f"trial {trial.number} {trial.state.name.lower()}, {counts}, best {best}"
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def capped(
    objective: Callable[[optuna.Trial], float], cap: int, lock: CompletionLock
) -> Callable[[optuna.Trial], float]:
    """``objective``, but a trial that finishes once ``cap`` trials completed is pruned.

    The count and Optuna's recording of the result happen under ``lock``, so concurrent
    workers cannot both take the last place: the lock is taken here and released by the
    first callback, which Optuna calls after it stored the trial's state.
    """

    def objective_with_cap(trial: optuna.Trial) -> float:
        value = objective(trial)
        lock.acquire()
        if count(trial.study, TrialState.COMPLETE) >= cap:
            lock.release()
            trial.set_user_attr("prune_reason", "the trial cap was reached while this trial ran")
            raise optuna.TrialPruned("cap reached")
        return value

    return objective_with_cap


class CompletionLock:
    """A lock shared by every worker of a study, held from the cap check to the recorded result.

    Workers that share ``out`` take a ``filelock.FileLock`` on ``out/study.lock`` (flock on
    POSIX, msvcrt on Windows); with a PostgreSQL
    storage each acquisition also takes a session advisory lock on a fresh connection, so
    workers on other machines take part (the connection is closed on release, and a killed
    worker's session ends with it). Other storage URLs (MySQL, a SQLite file reached from
    several output folders): exact only among the workers that share ``out``.
    """

    def __init__(self, spec: StudySpec) -> None:
        spec.out.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        self._file = FileLock(spec.out / "study.lock")
        self._key = zlib.crc32(spec.name.encode())
        self._engine: Any = None
        if spec.storage and spec.storage.startswith("postgresql"):
            import sqlalchemy

            self._engine = sqlalchemy.create_engine(
                spec.storage, poolclass=sqlalchemy.pool.NullPool
            )
        self._db: Any = None
        self.held = False

    def acquire(self) -> None:
        self._file.acquire()
        self.held = True
        if self._engine is not None:
            import sqlalchemy

            self._db = self._engine.connect()
            self._db.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self._key})

    def release(self) -> None:
        """Release if held (a callback calls it after every trial)."""
        if not self.held:
            return
        self.held = False
        try:
            if self._db is not None:
                db, self._db = self._db, None
                db.close()  # ends the session, and with it the advisory lock
        finally:
            self._file.release()

    def __enter__(self) -> CompletionLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
