"""NetSearchCV's trials: the objective that runs one trial's folds and records their scores,
and the trials as scikit-learn's ``cv_results_`` table (what ``pandas.DataFrame`` of a
``GridSearchCV``'s results shows), pruned trials included."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
import optuna
from sklearn.metrics import check_scoring
from sklearn.utils import _safe_indexing

__all__ = ["Objective", "cv_results"]


class Objective:
    """One trial: every fold in order, each fold's running mean reported to the pruner."""

    def __init__(self, search: Any, data: tuple[Any, Any], splits: list[Any]) -> None:
        self.search, (self.X, y), self.splits = search, data, splits
        self.scorer = check_scoring(search.estimator, scoring=search.scoring)
        self.y = None if y is None else np.asarray(y)
        self.records: dict[int, dict[str, list[float]]] = {}

    def __call__(self, trial: optuna.Trial) -> float:
        record: dict[str, list[float]] = {"scores": [], "fit_time": [], "score_time": []}
        self.records[trial.number] = record
        for fold, (train, test) in enumerate(self.splits):
            estimator = self.search._candidate(trial)
            start = time.perf_counter()
            y_train, y_test = (None, None) if self.y is None else (self.y[train], self.y[test])
            estimator.fit(_safe_indexing(self.X, train), y_train)
            fitted = time.perf_counter()
            score = self.scorer(estimator, _safe_indexing(self.X, test), y_test)
            record["fit_time"].append(fitted - start)
            record["score_time"].append(time.perf_counter() - fitted)
            record["scores"].append(float(score))
            trial.report(statistics.fmean(record["scores"]), step=fold)
            if fold + 1 < len(self.splits) and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {fold + 1}")
        trial.set_user_attr("split_scores", record["scores"])
        return statistics.fmean(record["scores"])


def cv_results(
    trials: list[optuna.trial.FrozenTrial],
    params: list[dict[str, Any]],
    records: dict[int, dict[str, list[float]]],
    *,
    n_splits: int,
) -> dict[str, Any]:
    """scikit-learn's ``cv_results_`` columns; a pruned trial's folds that did not run are NaN
    and so is its mean (it is ranked after every completed trial)."""
    rows = [records[t.number] for t in trials]
    results: dict[str, Any] = {}
    for name in ("fit_time", "score_time"):
        results[f"mean_{name}"] = np.array([np.mean(r[name]) for r in rows])
        results[f"std_{name}"] = np.array([np.std(r[name]) for r in rows])
    results.update(_param_columns(params))
    scores = np.full((len(trials), n_splits), np.nan)
    for i, r in enumerate(rows):
        scores[i, : len(r["scores"])] = r["scores"]
    results.update({f"split{k}_test_score": scores[:, k] for k in range(n_splits)})
    complete = np.array([t.state == optuna.trial.TrialState.COMPLETE for t in trials])
    full = np.where(complete[:, None], scores, 0.0)
    results["mean_test_score"] = np.where(complete, full.mean(1), np.nan)
    results["std_test_score"] = np.where(complete, full.std(1), np.nan)
    order = np.argsort(np.where(complete, -results["mean_test_score"], np.inf), kind="stable")
    results["rank_test_score"] = np.empty(len(trials), dtype=np.int32)
    results["rank_test_score"][order] = np.arange(1, len(trials) + 1)
    results["state"] = np.array([t.state.name for t in trials])
    return results


def _param_columns(params: list[dict[str, Any]]) -> dict[str, Any]:
    """``param_NAME`` masked arrays (masked where a trial has no such parameter) and ``params``."""
    columns: dict[str, Any] = {}
    for name in sorted({k for p in params for k in p}):
        column = np.ma.MaskedArray(np.empty(len(params), dtype=object), mask=True)
        for i, p in enumerate(params):
            if name in p:
                column[i] = p[name]
        columns[f"param_{name}"] = column
    return {**columns, "params": params}
