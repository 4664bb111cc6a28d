"""The report's regression search: 5 folds per trial, early stopping, pruning at 0.4.

Each fold is reported to Optuna as a step; if any of the first three folds ends with a
validation loss above the threshold, the remaining folds are skipped and the trial is
pruned (``TrialPruned``). A fold whose loss diverges fails the trial, with the reason kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from nndl.data.tensors import TensorData
from nndl.search.spaces import Run, get_space
from nndl.search.study import TrainingDiverged
from nndl.training.callbacks import StopReason
from nndl.training.kfold import CVResult, FoldResult

__all__ = ["RegressionSearchJob", "cross_validate", "regression_settings"]

PRUNE_THRESHOLD = 0.4
PRUNE_FOLDS = 3


def prune_threshold(data: TensorData, report_format: bool = True) -> float:
    """The report's 0.4 on data of the report's format (its labels' scale); on a user's table,
    the training labels' variance: a fold no better than predicting their mean is pruned."""
    if report_format:
        return PRUNE_THRESHOLD
    return float(data.y.double().var(unbiased=False))


def cross_validate(
    run: Run,
    data: TensorData,
    max_epochs: int,
    k: int = 5,
    seed: int = 0,
    device: str = "cpu",
    batch_folds: bool = True,
    on_fold_end: Callable[[FoldResult], bool] | None = None,
) -> CVResult:
    """Train ``run`` on ``k`` folds, batched as one ensemble (nets that stack) or one after the
    other; the net is sized for the data's input columns."""
    from nndl.training.config import TrainConfig
    from nndl.training.kfold import cross_validator

    config = run.model
    if hasattr(config, "for_task"):
        config = config.for_task(tuple(data.x.shape[1:]), int(data.y.shape[1]))
    settings = {"optimizer": "adam", **run.train}
    train = TrainConfig(**settings, loss="mse", max_epochs=max_epochs, seed=seed, device=device)
    validator = cross_validator(
        config, train, k, split_seed=seed, batched=None if batch_folds else False
    )
    return validator.run(data, on_fold_end)


def regression_settings(
    data: TensorData,
    max_epochs: int,
    k: int,
    seed: int,
    space: str = "report",
    report_format: bool = True,
) -> dict[str, Any]:
    """What must match to resume a regression study (``seed``: folds and weights)."""
    described = get_space(space, "regression").describe()
    if space == "report":  # the report's space is recorded as it always was
        described.pop("name")
    return {
        "kind": "regression-random-search",
        "space": described if space == "report" else {"space": space, **described},
        "k": k,
        "max_epochs": max_epochs,
        "seed": seed,
        "prune": [PRUNE_FOLDS, prune_threshold(data, report_format)],
        "data": data.fingerprint(),
    }


@dataclass(frozen=True)
class RegressionSearchJob:
    """A picklable description of the objective, rebuilt in each worker process."""

    task: Any
    max_epochs: int
    k: int = 5
    seed: int = 0
    device: str = "cpu"
    batch_folds: bool = True
    space: str = "report"

    def data(self) -> TensorData:
        """All training points (the folds split them)."""
        return self.task.points()[0]

    def make_objective(self) -> Callable[[optuna.Trial], float]:
        data, space = self.data(), get_space(self.space, "regression")
        threshold = prune_threshold(data, self.task.report_format)

        def objective(trial: optuna.Trial) -> float:
            run = space.suggest(trial)
            start = time.perf_counter()
            result = cross_validate(
                run,
                data,
                self.max_epochs,
                self.k,
                self.seed,
                self.device,
                self.batch_folds,
                on_fold_end=lambda fold: _report_fold(trial, fold, threshold),
            )
            trial.set_user_attr("train_time_min", (time.perf_counter() - start) / 60)
            return _finish(trial, result)

        return objective


def _report_fold(trial: optuna.Trial, fold: FoldResult, threshold: float = PRUNE_THRESHOLD) -> bool:
    """Report the fold; ``False`` (skip the rest) when it diverged or must be pruned."""
    trial.report(fold.val_loss, step=fold.fold)
    if fold.stop_reason is StopReason.DIVERGED:
        trial.set_user_attr("fail_reason", f"fold {fold.fold} diverged at epoch {fold.epochs}")
        return False
    if fold.fold < PRUNE_FOLDS and fold.val_loss > threshold:
        trial.set_user_attr(
            "prune_reason",
            f"fold {fold.fold} validation loss {fold.val_loss:.4f} > {threshold:.4g}",
        )
        return False
    return True


def _finish(trial: optuna.Trial, result: CVResult) -> float:
    folds = result.folds
    trial.set_user_attr("avg_train_loss", result.mean_train_loss)
    trial.set_user_attr("avg_val_loss", result.mean_val_loss)
    trial.set_user_attr("fold_epochs", [f.epochs for f in sorted(folds, key=lambda f: f.fold)])
    if "fail_reason" in trial.user_attrs:
        raise TrainingDiverged(trial.user_attrs["fail_reason"])
    if "prune_reason" in trial.user_attrs:
        raise optuna.TrialPruned(trial.user_attrs["prune_reason"])
    return result.mean_val_loss
