"""The tabular study: a classifier for a CSV table, searched with NetSearchCV.

The training file's rows are cross-validated in stratified folds (cut once for the whole
search); each trial's folds go to Optuna's median pruner; the best parameters are refit on
every training row and scored on the test file. The folder holds the trials
(``search.csv``, scikit-learn's ``cv_results_`` by rank), ``best_params.json``,
``metrics.json``, the refit net (``model.pt``, which ``nndl predict`` applies to raw rows),
its confusion matrix on the test rows (``confusion_matrix.png``) and its training and
validation loss per epoch (``loss_curves.png``). ``nndl tabular search``
runs it alone; a study file's ``[tabular]`` section runs it as a study (:class:`TabularStudy`).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nndl._io import staged_folder, write_json, write_text
from nndl.experiments.budgets import TABULAR, TabularBudget
from nndl.experiments.study import Study, register_study
from nndl.tasks.tabular import TabularTask

__all__ = ["TabularStudy", "search_table", "tabular_space"]


@register_study
@dataclass(frozen=True, kw_only=True)
class TabularStudy(Study):
    """A classification CSV: the search with stratified folds, the best refit, its test
    accuracy and confusion matrix. ``trials`` and ``folds`` override the budget's."""

    train_csv: str | None = None
    test_csv: str | None = None
    inputs: tuple[str, ...] | None = None
    target: str | None = None
    budget: TabularBudget = field(default_factory=lambda: TABULAR["default"])
    storage: str | None = None
    trials: int | None = None
    folds: int | None = None

    name = "tabular"
    budgets = TABULAR

    @cached_property
    def task(self) -> TabularTask:
        inputs = tuple(self.inputs) if self.inputs is not None else None
        return TabularTask(self.train_csv, self.test_csv, inputs, self.target)

    def check(self) -> None:
        from nndl.errors import UsageError

        if self.train_csv is None or self.test_csv is None:
            raise UsageError("[tabular] needs train_csv and test_csv: the table's two files")
        if self.folds is not None and self.folds < 2:
            raise UsageError(f"[tabular] folds = {self.folds}: needs at least 2")
        self.task.check()

    def run(self, timings: dict[str, float]) -> dict[str, Any]:
        from nndl._timing import timed

        with timed(timings, "tabular search"):
            metrics = search_table(
                self.task,
                self.out,
                trials=self.trials or self.budget.trials,
                folds=self.folds or self.budget.folds,
                max_epochs=self.budget.max_epochs,
                seed=self.seed if self.sampler_seed is None else self.sampler_seed,
                storage=self.storage,
                progress=not self.quiet,
            )
        return {**metrics, "classes": list(self.task.class_names)}

    @staticmethod
    def report_section(doc: Any, results: dict[str, Any], budget: str) -> None:
        from nndl.report.sections import tabular_section

        tabular_section(doc, results, budget)


def tabular_space() -> dict[str, Any]:
    """The default space: learning rate and weight decay on log scales, the hidden layers,
    the batch size and the learning-rate schedule."""
    from optuna.distributions import FloatDistribution

    return {
        "lr": FloatDistribution(1e-4, 3e-2, log=True),
        "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
        "arch__hidden_sizes": [(32,), (64,), (64, 32), (128, 64)],
        "batch_size": [16, 32, 64],
        "lr_schedule": ["constant", "cosine"],
    }


def search_table(
    task: TabularTask,
    out: str | os.PathLike[str],
    *,
    trials: int = 20,
    folds: int = 5,
    max_epochs: int = 100,
    seed: int = 0,
    storage: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Search ``task``'s classifier; write the folder ``out`` (all new or as it was).

    Returns:
        the metrics written to ``metrics.json``.
    """
    tx, ty, sx, sy, classes, columns = task.raw
    names = np.asarray(classes, dtype=object)
    search = _search(trials=trials, folds=folds, max_epochs=max_epochs, seed=seed, storage=storage)
    search.set_params(verbose=int(progress)).fit(tx, names[ty])
    best = search.best_estimator_
    metrics = _metrics(search, float(best.score(sx, names[sy])))
    counts = _confusion(best, sx, names[sy], classes=classes)
    metrics["confusion_matrix"] = counts.tolist()
    metrics.update(epochs=len(best.history_), best_epoch=best.best_epoch_)
    best.feature_names_in_ = np.asarray(columns["inputs"], dtype=object)  # predict by column
    with staged_folder(out) as staging:
        write_text(staging / "search.csv", _trials_csv(search.cv_results_))
        write_json(staging / "best_params.json", _plain(search.best_params_))
        write_json(staging / "metrics.json", metrics)
        best.save(staging / "model.pt")
        _save_figures(best, counts, classes, folder=staging)
    return metrics


def _confusion(best: Any, x: np.ndarray, labels: np.ndarray, *, classes: Any) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(labels, best.predict(x), labels=np.asarray(classes, dtype=object))


def _save_figures(best: Any, counts: np.ndarray, classes: Any, *, folder: Path) -> None:
    """The best net's confusion matrix on the test rows and its refit's loss curves."""
    import torch

    from nndl.viz._mpl import save_figure
    from nndl.viz.classification import plot_confusion_matrix
    from nndl.viz.curves import loss_curves, plot_loss_curves

    matrix = plot_confusion_matrix(torch.from_numpy(counts), list(classes))
    save_figure(matrix, folder / "confusion_matrix.png")
    curves = loss_curves(best.history_, best.best_epoch_)
    title = f"best net on the training rows ({best.val_fraction:.0%} held out for validation)"
    save_figure(plot_loss_curves(curves, title), folder / "loss_curves.png")


def _search(*, trials: int, folds: int, max_epochs: int, seed: int, storage: str | None) -> Any:
    from nndl.estimators import NetClassifier, NetSearchCV

    return NetSearchCV(
        NetClassifier(max_epochs=max_epochs, patience=10, random_state=seed),
        tabular_space(),
        n_trials=trials,
        cv=folds,
        storage=storage,
        study_name="tabular" if storage else None,
        random_state=seed,
    )


def _metrics(search: Any, test_accuracy: float) -> dict[str, Any]:
    states = list(search.cv_results_["state"])
    return {
        "cv_accuracy": search.best_score_,
        "test_accuracy": test_accuracy,
        "trials": len(states),
        "completed": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "folds": search.n_splits_,
        "best_params": _plain(search.best_params_),
    }


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _trials_csv(results: dict[str, Any]) -> str:
    """One row per trial, best first: its state, parameters, fold scores and mean."""
    order = np.argsort(results["rank_test_score"], kind="stable")
    keys = ["rank_test_score", "state", *sorted(k for k in results if k.startswith("param_"))]
    folds = sum(k.startswith("split") for k in results)
    keys += [*(f"split{i}_test_score" for i in range(folds)), "mean_test_score"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([k.removeprefix("param_") for k in keys])
    for i in order:
        writer.writerow([_cell(results[k][i]) for k in keys])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is np.ma.masked:
        return ""
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return value
