"""Persistent Optuna studies: storage, resuming, worker processes, a cap on completed trials.

A search lives in a storage (a SQLite file in the output folder by default, a journal file
when several local workers share it, or any Optuna storage URL), so running the same
command again resumes it. Resuming checks that the study was made with the same settings.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import random
import signal
import sys
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState

from nndl.errors import ConfigError, DataError, NNDLError
from nndl.search.resources import cpu_cores, shown_url

__all__ = [
    "CompletionLock",
    "SearchJob",
    "StudySpec",
    "TrainingDiverged",
    "open_study",
    "resolve_storage",
    "run_study",
]

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


class TrainingDiverged(NNDLError):
    """A trial whose loss became NaN or infinite: recorded as failed, the search goes on."""


class SearchJob(Protocol):
    """What a worker process needs to rebuild the objective (must be picklable)."""

    def make_objective(self) -> Callable[[optuna.Trial], float]: ...


@dataclass(frozen=True)
class StudySpec:
    """Where a study lives and how far to take it.

    Args:
        name: study name inside the storage.
        out: output folder (default storage files go there).
        trials: completed (not pruned, not failed) trials to reach, across all workers.
        settings: what must match for a run to resume this study (data, space, budgets).
        sampler: ``random`` or ``tpe``.
        storage: an Optuna storage URL; default a file in ``out``.
        workers: local worker processes.
        seed: sampler seed (each worker and each resume draws its own stream from it).
        max_trials: stop after this many trials of any state (default 20 x ``trials``).
        threads: torch threads per worker (default: the cores shared out among the workers).
        progress: one self-rewriting line per trial on a terminal (completed, best so far).
        pruner: ``none``, or ``median``: a trial whose reported learning curve is worse than
            the median of the completed trials at the same step is stopped there (Optuna's
            ``MedianPruner``, after 5 completed trials and 5 steps of warm-up).
    """

    name: str
    out: Path
    trials: int
    settings: dict[str, Any]
    sampler: str = "random"
    storage: str | None = None
    workers: int = 1
    seed: int = 0
    max_trials: int | None = None
    threads: int | None = field(default=None)
    progress: bool = False
    pruner: str = "none"

    def __post_init__(self) -> None:
        if self.pruner not in PRUNERS:
            raise ConfigError(
                "search", [f"pruner {self.pruner!r}: must be one of {', '.join(PRUNERS)}"]
            )


PRUNERS = ("none", "median")
HEARTBEAT_SECONDS, GRACE_SECONDS = 2, 8


def _rdb(url: str) -> Any:
    """An RDB storage with a heartbeat: a trial whose process died is failed and retried once."""
    import inspect

    from optuna import storages

    retry = (
        getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
        or storages.RetryFailedTrialCallback
    )
    params = inspect.signature(storages.RDBStorage.__init__).parameters
    key = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    callback: dict[str, Any] = {key: retry(max_retry=1)}
    return storages.RDBStorage(
        url,
        engine_kwargs=engine,
        heartbeat_interval=HEARTBEAT_SECONDS,
        grace_period=GRACE_SECONDS,
        **callback,
    )


def resolve_storage(spec: StudySpec) -> tuple[Any, str]:
    """The storage and a description: the URL, an existing file, or a new default file.

    One local worker: SQLite in the output folder; several: Optuna's journal file (which
    Optuna recommends for concurrent local processes). RDB URLs get a heartbeat.
    """
    if spec.storage:
        is_rdb = spec.storage.split(":", 1)[0].split("+")[0] in ("sqlite", "postgresql", "mysql")
        return (_rdb(spec.storage) if is_rdb else spec.storage), spec.storage
    journal, sqlite = spec.out / "study.journal", spec.out / "study.db"
    spec.out.mkdir(parents=True, exist_ok=True)
    if journal.exists() or (spec.workers > 1 and not sqlite.exists()):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(str(journal))), str(journal)
    return _rdb(f"sqlite:///{sqlite}"), str(sqlite)


def _sampler(spec: StudySpec, stream: int) -> optuna.samplers.BaseSampler:
    seed = spec.seed + 7919 * stream
    if spec.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def _pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    return optuna.pruners.NopPruner()


def _create(spec: StudySpec, stream: int) -> tuple[optuna.Study, str]:
    """Create or load; retried because processes starting together race to create the schema."""
    where, attempts = shown_url(spec.storage) if spec.storage else str(spec.out / "study.db"), 3
    for attempt in range(attempts):
        try:
            storage, where = resolve_storage(spec)
            where = shown_url(where) if spec.storage else where
            study = optuna.create_study(
                study_name=spec.name,
                storage=storage,
                load_if_exists=True,
                sampler=_sampler(spec, stream),
                pruner=_pruner(spec),
                direction="minimize",
            )
            return study, where
        except Exception as exc:  # optuna/sqlalchemy raise many types for a bad URL
            if attempt == attempts - 1 or isinstance(exc, (ImportError, ValueError)):
                reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
                raise DataError(
                    f"storage {where}: cannot open the study ({type(exc).__name__}: {reason})"
                ) from None
            time.sleep(0.1 * (attempt + 1) + 0.2 * random.random())
    raise AssertionError("unreachable")


def open_study(spec: StudySpec, stream: int = 0) -> optuna.Study:
    """Create or load the study; a study made with other settings is a clear error."""
    study, where = _create(spec, stream)
    _check_settings(study, spec.settings, where)
    study.sampler = _sampler(spec, stream + len(study.trials))
    return study


SETTINGS_ADDED_LATER = {"seed": 0, "data": "official"}
"""Settings keys newer than some stored studies, with the value those studies were made with."""


def _check_settings(study: optuna.Study, settings: dict[str, Any], where: str) -> None:
    stored = study.user_attrs.get("nndl_settings")
    if stored is None:
        study.set_user_attr("nndl_settings", settings)
        return
    stored = {**SETTINGS_ADDED_LATER, **stored}
    diff = [k for k in sorted(set(stored) | set(settings)) if stored.get(k) != settings.get(k)]
    if diff:
        shown = "; ".join(
            f"{k}: study has {stored.get(k)!r}, this run {settings.get(k)!r}" for k in diff[:3]
        )
        raise ConfigError(
            f"study in {where}",
            [
                f"it was made with other settings ({shown}); use another --out/--storage, or the same settings"
            ],
        )


def count(study: optuna.Study, *states: TrialState) -> int:
    """Trials of the study in ``states``."""
    return len(study.get_trials(deepcopy=False, states=states))


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
    try:
        _worker(spec, job, index, logs)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(130)


class _QuietInterrupts(logging.Filter):
    """Optuna's warnings in one line each: no traceback; none once Ctrl-C or SIGTERM ended a
    trial (nndl says it in one line)."""

    interrupted = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is KeyboardInterrupt:
            self.interrupted = True
        record.exc_info, record.exc_text = None, None
        return not self.interrupted


def _worker(spec: StudySpec, job: SearchJob, index: int, logs: list[Path] | None = None) -> None:
    import torch

    from nndl._timing import log_to_file

    with contextlib.ExitStack() as stack:
        for path in logs or []:  # a spawned worker logs to its parent's files
            stack.enter_context(log_to_file(path))
        optuna_log, quiet = logging.getLogger("optuna.study._optimize"), _QuietInterrupts()
        optuna_log.addFilter(quiet)
        stack.callback(optuna_log.removeFilter, quiet)
        stack.callback(torch.set_num_threads, torch.get_num_threads())
        torch.set_num_threads(spec.threads or max(1, cpu_cores() // spec.workers))
        study = open_study(spec, stream=index)
        lock = stack.enter_context(CompletionLock(spec))
        objective = capped(job.make_objective(), spec.trials, lock)
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
        progress.close()


class TrialProgress:
    """Optuna callback: logs each finished trial; a progress line on a terminal (``terminal``).

    Shows both ends of the search: completed trials out of ``target`` and, when ``limit``
    is given, trials of any state out of ``limit`` (whichever is reached first stops it).
    """

    def __init__(
        self,
        target: int,
        name: str = "search",
        stream: TextIO | None = None,
        terminal: bool = True,
        limit: int | None = None,
    ) -> None:
        self.target, self.name, self.limit = target, name, limit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = terminal and self.stream.isatty()

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
        if not self.enabled:
            return
        self.stream.write(
            f"\r[{self.name}] trial {trial.number} {trial.state.name.lower():8s} "
            f"{counts}, best {best}   "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


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

    Workers that share ``out`` take an ``flock`` on ``out/study.lock``; with a PostgreSQL
    storage each acquisition also takes a session advisory lock on a fresh connection, so
    workers on other machines take part (the connection is closed on release, and a killed
    worker's session ends with it). Other storage URLs (MySQL, a SQLite file reached from
    several output folders): exact only among the workers that share ``out``.
    """

    def __init__(self, spec: StudySpec) -> None:
        spec.out.mkdir(parents=True, exist_ok=True)
        self._file = (spec.out / "study.lock").open("a")
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
        import fcntl

        fcntl.flock(self._file, fcntl.LOCK_EX)
        self.held = True
        if self._engine is not None:
            import sqlalchemy

            self._db = self._engine.connect()
            self._db.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self._key})

    def release(self) -> None:
        """Release if held (a callback calls it after every trial)."""
        import fcntl

        if not self.held:
            return
        self.held = False
        try:
            if self._db is not None:
                db, self._db = self._db, None
                db.close()  # ends the session, and with it the advisory lock
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def __enter__(self) -> CompletionLock:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.release()
        finally:
            self._file.close()


def summarize(study: optuna.Study, seconds: float) -> dict[str, Any]:
    """Counts by state, this run's wall time, and the best trial."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    summary: dict[str, Any] = {
        "completed": len(complete),
        "pruned": count(study, TrialState.PRUNED),
        "failed": count(study, TrialState.FAIL),
        "seconds": seconds,
        "trial_seconds": sum(t.duration.total_seconds() for t in study.trials if t.duration),
    }
    if complete:
        best = min(complete, key=lambda t: t.value if t.value is not None else float("inf"))
        summary.update(best_value=best.value, best_params=best.params, best_trial=best.number)
    return summary
