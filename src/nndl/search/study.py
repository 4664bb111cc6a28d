"""Persistent Optuna studies: storage, resuming, settings checks, summaries.

Worker processes and the cap on completed trials are in :mod:`nndl.search.workers`.

A search lives in a storage (a SQLite file in the output folder by default, a journal file
when several local workers share it, or any Optuna storage URL), so running the same
command again resumes it. Resuming checks that the study was made with the same settings.
"""

from __future__ import annotations

import os
import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import optuna
from optuna.trial import TrialState

from nndl.errors import ConfigError, DataError, NNDLError, SearchFailed
from nndl.search.resources import shown_url

__all__ = [
    "SearchJob",
    "StudySpec",
    "TrainingDiverged",
    "count",
    "open_study",
    "quiet_optuna",
    "resolve_storage",
    "summarize",
]


def quiet_optuna() -> None:
    """Optuna logs warnings only: called by nndl's own entry points (the CLI, search workers),
    never at import, so a user's process keeps its own log levels."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)


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
            ``MedianPruner``, after 5 completed trials and 5 steps of warm-up); ``hyperband``:
            Optuna's ``HyperbandPruner`` (successive halving brackets over the steps, from 1
            step, reduction factor 3): most nets stop after a few epochs, the promising
            ones go on to more epochs and the next fold.
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
        if not isinstance(self.out, (str, os.PathLike)):
            raise ConfigError(
                "search",
                [
                    f"out = {self.out!r}: must be a folder for the study's files (a search in "
                    "memory is nndl.NetSearchCV)"
                ],
            )
        object.__setattr__(self, "out", Path(self.out))
        choices = (("pruner", self.pruner, PRUNERS), ("sampler", self.sampler, SAMPLERS))
        problems = [
            f"{k} {v!r}: must be one of {', '.join(c)}" for k, v, c in choices if v not in c
        ]
        if problems:
            raise ConfigError("search", problems)


PRUNERS = ("none", "median", "hyperband")
SAMPLERS = ("random", "tpe")
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
    if spec.pruner == "hyperband":  # successive halving over the reported steps (epochs)
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
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
    with warnings.catch_warnings():  # the heartbeat and journal storages are "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
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
    stored, settings = {**SETTINGS_ADDED_LATER, **stored}, {**SETTINGS_ADDED_LATER, **settings}
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


def check_completed(summary: dict[str, Any], spec: StudySpec, *, hint: str) -> None:
    """A search whose every trial was pruned or failed has nothing to choose: one line, with
    an example of the trials' reasons and ``hint`` (what to change)."""
    if summary.get("completed"):
        return
    attrs = [t.user_attrs for t in open_study(spec).trials]
    reasons = [a.get("prune_reason") or a.get("fail_reason") for a in attrs]
    example = next((f"; e.g. {r}" for r in reasons if r), "")
    raise SearchFailed(
        f"the search in {spec.out} completed no trial ({summary.get('pruned', 0)} pruned, "
        f"{summary.get('failed', 0)} failed{example}): nothing to choose from; {hint}"
    )


def fold_diverged(trial: optuna.Trial, fold: Any) -> bool:
    """Whether the fold's loss became NaN or infinite; if so the trial is marked failed (its
    ``fail_reason``) and :func:`record_folds` raises :class:`TrainingDiverged`."""
    from nndl.training.callbacks import StopReason

    if fold.stop_reason is not StopReason.DIVERGED:
        return False
    trial.set_user_attr("fail_reason", f"fold {fold.fold} diverged at epoch {fold.epochs}")
    return True


def record_folds(trial: optuna.Trial, result: Any, *, units: float = 1.0) -> None:
    """Keep a cross-validated trial's mean losses (times ``units``: the data's units) and each
    fold's epochs on the trial; a trial with a diverged fold fails."""
    trial.set_user_attr("avg_train_loss", result.mean_train_loss * units)
    trial.set_user_attr("avg_val_loss", result.mean_val_loss * units)
    trial.set_user_attr("fold_epochs", [f.epochs for f in sorted(result.folds, key=_fold_number)])
    if "fail_reason" in trial.user_attrs:
        raise TrainingDiverged(trial.user_attrs["fail_reason"])


def _fold_number(fold: Any) -> int:
    return int(fold.fold)
