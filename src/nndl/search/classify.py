"""The report's MNIST architecture search: TPE, 2 of 5 folds, a time penalty, invalid nets pruned.

objective = mean validation loss + 1e-5 x mean training minutes per fold. An invalid
architecture is pruned before any training, with the validation's reason kept on the trial
(``prune_reason``, and ``invalid_layer`` for counting the kinds); any other error fails the
trial, never silently counted as pruned.

Every epoch's validation loss is reported to the trial at step ``fold * max_epochs + epoch``,
so the study's pruner (``StudySpec.pruner``) can stop a net whose learning curve lags the
completed trials' (reason kept in ``prune_reason``).

Each trial records its net's parameters and multiply-adds per image (``params``, ``macs``,
counted on the ``meta`` device before any training, :mod:`nndl.models.summary`); with
``max_macs`` a net above it is pruned before training as too slow for the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.search.limits import DCNN_MACS
from nndl.search.spaces import get_space
from nndl.search.study import fold_diverged, record_folds
from nndl.training.callbacks import Callback
from nndl.training.kfold import FoldResult

__all__ = ["DCNN_MACS", "TIME_PENALTY", "ClassifySearchJob", "classify_settings", "net_cost"]

TIME_PENALTY = 1e-5


def net_cost(config: Any, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """``(parameters, multiply-adds per sample)`` of the net ``config`` builds, counted on the
    ``meta`` device: no memory, no weights."""
    import torch

    from nndl.models.nets import build_model
    from nndl.models.summary import summarize

    with torch.device("meta"):
        summary = summarize(build_model(config), input_shape)
    return summary.params, summary.macs


def classify_settings(
    job: ClassifySearchJob, data_size: int, pruner: str = "median"
) -> dict[str, Any]:
    """What must match to resume an MNIST search.

    ``data``: ``official`` for the hash-verified MNIST, else a hash of the ``--data-dir`` images.
    """
    settings = {
        "kind": "classify-search",
        "space": job.space,
        "ranges": get_space(job.space, "classify").describe(),
        "k": job.k,
        "n_folds": job.n_folds,
        "max_epochs": job.max_epochs,
        "patience": job.patience,
        "batch_size": job.batch_size,
        "train_rows": data_size,
        "seed": job.seed,
        "data": "official" if job.data_dir is None else job.data().fingerprint(),
    }
    if job.max_macs is not None:  # absent before the cost limit, so older studies resume
        settings["max_macs"] = job.max_macs
    if job.fold_gate:
        settings["fold_gate"] = True
    if job.task_options.get("augment"):
        settings["augment"] = list(job.task_options["augment"])
    if pruner != "median":  # absent for the median pruner, so older studies resume
        settings["pruner"] = pruner
    return settings


@dataclass(frozen=True)
class ClassifySearchJob:
    """A picklable description of the objective, rebuilt in each worker process."""

    data_dir: str | None = None
    space: str = "report"
    max_epochs: int = 100
    patience: int = 10
    k: int = 5
    n_folds: int = 2
    batch_size: int = 256
    seed: int = 0
    device: str = "cpu"
    train_limit: int | None = None
    class_names: str | None = None
    max_macs: int | None = None  # multiply-adds per image above which a net is "too slow"
    fold_gate: bool = False  # the second fold only for a net whose first is at most the median
    task_options: dict[str, Any] = field(default_factory=dict)  # the image folder's, augment

    @property
    def task(self) -> Any:
        """The image task searched on (MNIST unless ``data_dir`` says otherwise)."""
        from nndl.tasks.base import make_task

        name = "mnist" if self.data_dir is None and self.class_names is None else "images"
        return make_task(
            name, data_dir=self.data_dir, class_names_file=self.class_names, **self.task_options
        )

    def data(self) -> TensorData:
        """The training images (the folds split them)."""
        return self.task.points(self.train_limit)[0]

    def make_objective(self) -> Callable[[optuna.Trial], float]:
        task = self.task
        data, shapes = task.points(self.train_limit)[0], task.shapes()

        def objective(trial: optuna.Trial) -> float:
            return self._evaluate(trial, data, shapes, task=task)

        return objective

    def _suggest(self, trial: optuna.Trial, shapes: tuple[Any, int]) -> Any:
        """The space's run, sized for the task; an invalid net is pruned with its reason."""
        try:
            run = get_space(self.space, "classify").suggest(trial)
            config = run.model.for_task(*shapes) if hasattr(run.model, "for_task") else run.model
        except ConfigError as exc:
            trial.set_user_attr("prune_reason", f"invalid architecture: {exc.problems[0]}")
            trial.set_user_attr("invalid_layer", exc.problems[0].split(":")[0])
            raise optuna.TrialPruned(exc.problems[0]) from None
        self._check_cost(trial, config, tuple(shapes[0]))
        return run, config

    def _check_cost(self, trial: optuna.Trial, config: Any, input_shape: tuple[int, ...]) -> None:
        """Record the net's size; prune it before training when it is above ``max_macs``."""
        params, macs = net_cost(config, input_shape)
        trial.set_user_attr("params", params)
        trial.set_user_attr("macs", macs)
        if self.max_macs is not None and macs > self.max_macs:
            reason = (
                f"too slow for this budget: {macs:,} multiply-adds per image > {self.max_macs:,} "
                f"({macs / DCNN_MACS:.1f} x the report's DCNN)"
            )
            trial.set_user_attr("prune_reason", reason)
            raise optuna.TrialPruned(reason)

    def _evaluate(
        self,
        trial: optuna.Trial,
        data: TensorData,
        shapes: tuple[Any, int] = ((1, 28, 28), 10),
        *,
        task: Any = None,
    ) -> float:
        from nndl.models.nets import build_model
        from nndl.training.config import TrainConfig
        from nndl.training.kfold import KFoldCrossValidator

        run, config = self._suggest(trial, shapes)
        settings = {"batch_size": self.batch_size, "patience": self.patience, **run.train}
        settings["monitor"] = "val_loss"  # the objective: each fold at its lowest validation loss
        train = TrainConfig(
            **settings, max_epochs=self.max_epochs, seed=self.seed, device=self.device
        )
        folds_started = iter(range(self.n_folds))

        def callbacks() -> list[Callback]:  # made once per fold, in fold order
            return [EpochReport(trial, next(folds_started), self.max_epochs)]

        cv = KFoldCrossValidator(
            lambda: build_model(config),
            train,
            self.k,
            n_folds=self.n_folds,
            split_seed=self.seed,
            callbacks=callbacks,
            batch_transform=_batch_changes(task, run.task),
        )
        result = cv.run(data, on_fold_end=lambda fold: self._fold_end(trial, fold))
        return _recorded(trial, result)

    def _fold_end(self, trial: optuna.Trial, fold: FoldResult) -> bool:
        """Go on to the next fold? Not after a diverged fold; with ``fold_gate``, not after a
        first fold worse than the median first fold of the trials before (pruned, reason kept)."""
        if fold_diverged(trial, fold):
            return False
        if fold.fold == 0:
            trial.set_user_attr("first_fold_val_loss", fold.val_loss)
            if self.fold_gate and self.n_folds > 1:
                _first_fold_gate(trial, fold.val_loss)
        return True


def _recorded(trial: optuna.Trial, result: Any) -> float:
    """The objective of a cross-validated trial, its losses and times kept on the trial."""
    trial.set_user_attr("train_time_min", result.mean_minutes)
    record_folds(trial, result)
    return float(result.mean_val_loss + TIME_PENALTY * result.mean_minutes)


def _batch_changes(task: Any, options: dict[str, Any]) -> Any:
    """The task's ``batch_transform`` with the options the trial chose (its augmentation)."""
    if task is None:
        return None
    return (task.with_options(**options) if options else task).batch_transform


class EpochReport(Callback):
    """Reports each epoch's validation loss to the trial; prunes when the study's pruner says so."""

    def __init__(self, trial: optuna.Trial, fold: int, max_epochs: int) -> None:
        self.trial, self.fold, self.max_epochs = trial, fold, max_epochs

    def on_epoch_end(self, evolver: Any, log: dict[str, float]) -> None:
        epoch, loss = int(log["epoch"]), float(log["val_loss"])
        step = self.fold * self.max_epochs + epoch
        self.trial.report(loss, step=step)
        if self.trial.should_prune():
            reason = (
                f"learning curve: fold {self.fold} validation loss {loss:.4f} at epoch {epoch} "
                "lags the other trials' at that step (the study's pruner)"
            )
            self.trial.set_user_attr("prune_reason", reason)
            self.trial.set_user_attr("pruned_at_step", step)
            raise optuna.TrialPruned(reason)


FOLD_GATE_STARTUP = 4
"""First folds seen before the gate closes on any net."""


def _first_fold_gate(trial: optuna.Trial, loss: float) -> None:
    """Prune ``trial`` when its first fold's validation loss is above the median of the first
    folds of the trials before it (once ``FOLD_GATE_STARTUP`` of them have one)."""
    import statistics

    before = [
        t.user_attrs["first_fold_val_loss"]
        for t in trial.study.get_trials(deepcopy=False)
        if t.number != trial.number and "first_fold_val_loss" in t.user_attrs
    ]
    if len(before) < FOLD_GATE_STARTUP:
        return
    median = statistics.median(before)
    if loss > median:
        reason = (
            f"first fold not promising: validation loss {loss:.4f} > {median:.4f}, the median "
            f"first fold of {len(before)} trials before it (the second fold was not run)"
        )
        trial.set_user_attr("prune_reason", reason)
        raise optuna.TrialPruned(reason)
