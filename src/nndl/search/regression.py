"""The report's regression search: 5 folds per trial, early stopping, scale-free pruning.

Each fold is reported to Optuna as a step, its loss in the data's units; if any of the first
three folds ends with a validation loss above ``PRUNE_FRACTION`` times the training labels'
variance, the remaining folds are skipped and the trial is pruned (``TrialPruned``). The
fraction is the report's rule made relative: its labels have a variance of about 3.8 and it
pruned above 0.4, so data with the report's variance keeps 0.4, and the same data with its
labels times 100 prunes the same trials. A fold whose loss diverges fails the trial, with the
reason kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from nndl.data.tensors import TensorData
from nndl.search.limits import FOLDS, PRUNE_FRACTION, REPORT_PRUNE_THRESHOLD, prune_threshold
from nndl.search.spaces import Run, get_space
from nndl.search.study import fold_diverged, record_folds
from nndl.training.config import TrainConfig
from nndl.training.kfold import CVResult, FoldResult

__all__ = [
    "PRUNE_FRACTION",
    "RegressionSearchJob",
    "cross_validate",
    "fold_epochs",
    "label_noise",
    "label_variance",
    "median_epoch",
    "prune_threshold",
    "refit",
    "refit_epochs",
    "regression_settings",
]

PRUNE_FOLDS = 3


def label_variance(task: Any) -> float:
    """The training labels' variance in the data's units."""
    y = task.points()[0].y.double()
    return float(y.var(unbiased=False)) * task.loss_scale


def label_noise(task: Any, seed: int = 0) -> float:
    """The training labels' noise variance in the data's units, as a Gaussian process on the
    training rows estimates it (:func:`nndl.evaluation.gp.noise_variance`)."""
    from nndl.evaluation.gp import noise_variance

    data = task.points()[0]
    return noise_variance(data.x.numpy(), data.y.numpy(), seed) * task.loss_scale


def cross_validate(
    run: Run,
    data: TensorData,
    max_epochs: int,
    *,
    k: int = 5,
    seed: int = 0,
    device: str = "cpu",
    batch_folds: bool = True,
    on_fold_end: Callable[[FoldResult], bool] | None = None,
    folds: str = "random",
) -> CVResult:
    """Train ``run`` on ``k`` folds, batched as one ensemble (nets that stack) or one after the
    other; the net is sized for the data's input columns. ``folds``: ``random`` (shuffled
    rows), ``blocked`` (contiguous stretches of the inputs, :class:`BlockedKFold`), ``short``
    (4 shorter stretches per fold) or ``repeated`` (``k`` shuffled folds cut twice: 2k fold
    nets)."""

    config, train = _configs(run, data, max_epochs, seed=seed, device=device)
    cv = splitter(folds, k, seed)
    validator = cross_validator(
        config,
        train,
        k if cv is None else cv.get_n_splits(),
        split_seed=seed,
        batched=None if batch_folds else False,
        cv=cv,
    )
    return validator.run(data, on_fold_end)


def splitter(folds: str, k: int, seed: int) -> Any:
    """The splitter ``folds`` names: None for nndl's shuffled folds, :class:`BlockedKFold`, or
    scikit-learn's ``RepeatedKFold`` (two repeats, to rank configurations on twice the fold
    nets: bench/regression_quality.py, docs/regression_choices.md)."""
    if folds not in FOLDS:
        from nndl.errors import ConfigError

        raise ConfigError("folds", [f"{folds!r}: must be one of {', '.join(FOLDS)}"])
    if folds == "random":
        return None
    if folds == "repeated":
        from sklearn.model_selection import RepeatedKFold

        return RepeatedKFold(n_splits=k, n_repeats=2, random_state=seed)
    from nndl.data.folds import BlockedKFold

    return BlockedKFold(k, blocks_per_fold=4 if folds == "short" else 1, random_state=seed)


def _configs(run: Run, data: TensorData, max_epochs: int, *, seed: int, device: str) -> Any:
    """The net sized for the data's columns, and its training settings (Adam, MSE)."""
    from nndl.training.config import TrainConfig

    config = run.model
    if hasattr(config, "for_task"):
        config = config.for_task(tuple(data.x.shape[1:]), int(data.y.shape[1]))
    settings = {"optimizer": "adam", **run.train}
    train = TrainConfig(**settings, loss="mse", max_epochs=max_epochs, seed=seed, device=device)
    return config, train


def fold_epochs(folds: list[FoldResult]) -> list[int]:
    """Each fold's restored best epoch (its last epoch where none was kept)."""
    return [f.history.best_epoch or f.epochs for f in folds]


def median_epoch(epochs: list[int]) -> int:
    """How long a refit trains: the median of folds' best epochs, rounded, at least 1."""
    import statistics

    return max(1, round(statistics.median(epochs)))


def refit_epochs(folds: list[FoldResult]) -> int:
    """The median of the folds' restored best epochs (their last epoch where none was kept)."""
    return median_epoch(fold_epochs(folds))


def refit(
    run: Run,
    data: TensorData,
    epochs: int,
    *,
    members: int = 5,
    seed: int = 0,
    device: str = "cpu",
    batch_folds: bool = True,
) -> list[Any]:
    """``run``'s net retrained on every row of ``data`` for ``epochs`` epochs as ``members``
    seeds (``seed``, ``seed + 1``, ...), trained at once where the nets stack."""
    from nndl.training.ensemble import train_ensemble

    config, train = _configs(run, data, epochs, seed=seed, device=device)
    return train_ensemble(
        config, train, data, members=members, epochs=epochs, batched=None if batch_folds else False
    )


def regression_settings(
    data: TensorData,
    max_epochs: int,
    k: int,
    *,
    seed: int,
    space: str = "report",
    prepared: Any = None,
    threshold: float = REPORT_PRUNE_THRESHOLD,
    folds: str = "random",
) -> dict[str, Any]:
    """What must match to resume a regression study (``seed``: folds and weights;
    ``prepared``: the space ``space`` names prepared for the data, its choices recorded)."""
    described = (prepared or get_space(space, "regression")).describe()
    if space == "report":  # the report's space is recorded as it always was
        described.pop("name")
    settings = {
        "kind": "regression-random-search",
        "space": described if space == "report" else {"space": space, **described},
        "k": k,
        "max_epochs": max_epochs,
        "seed": seed,
        "prune": [PRUNE_FOLDS, threshold],
        "data": data.fingerprint(),
    }
    return settings if folds == "random" else {**settings, "folds": folds}


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
    space_state: dict[str, Any] = field(default_factory=dict)  # the prepared space's attributes
    prune_at: float = REPORT_PRUNE_THRESHOLD  # the validation MSE, in the data's units
    folds: str = "random"

    def data(self) -> TensorData:
        """All training points (the folds split them)."""
        return self.task.points()[0]

    def make_objective(self) -> Callable[[optuna.Trial], float]:
        data, space = self.data(), get_space(self.space, "regression")
        vars(space).update(self.space_state)  # prepared once, in the parent, for all
        threshold, units = self.prune_at, self.task.loss_scale

        def objective(trial: optuna.Trial) -> float:
            run = space.suggest(trial)
            start = time.perf_counter()
            result = cross_validate(
                run,
                data,
                self.max_epochs,
                k=self.k,
                seed=self.seed,
                device=self.device,
                batch_folds=self.batch_folds,
                on_fold_end=lambda fold: _report_fold(trial, fold, threshold, units=units),
                folds=self.folds,
            )
            trial.set_user_attr("train_time_min", (time.perf_counter() - start) / 60)
            return _finish(trial, result, units)

        return objective


def _report_fold(
    trial: optuna.Trial,
    fold: FoldResult,
    threshold: float = REPORT_PRUNE_THRESHOLD,
    *,
    units: float = 1.0,
) -> bool:
    """Report the fold's loss in the data's units (``units`` times the nets' standardized MSE);
    ``False`` (skip the rest) when it diverged or must be pruned."""
    val_loss = fold.val_loss * units
    trial.report(val_loss, step=fold.fold)
    if fold_diverged(trial, fold):
        return False
    if fold.fold < PRUNE_FOLDS and val_loss > threshold:
        trial.set_user_attr(
            "prune_reason",
            f"fold {fold.fold} validation loss {val_loss:.4g} > {threshold:.4g} "
            "(the study's prune threshold)",
        )
        return False
    return True


def _finish(trial: optuna.Trial, result: CVResult, units: float = 1.0) -> float:
    ordered = sorted(result.folds, key=lambda f: f.fold)
    trial.set_user_attr("fold_best_epochs", fold_epochs(ordered))
    record_folds(trial, result, units=units)
    if "prune_reason" in trial.user_attrs:
        raise optuna.TrialPruned(trial.user_attrs["prune_reason"])
    return result.mean_val_loss * units


def cross_validator(
    config: Any,
    train: TrainConfig,
    k: int = 5,
    *,
    n_folds: int | None = None,
    split_seed: int = 0,
    batched: bool | None = None,
    cv: Any = None,
) -> Any:
    """A k-fold validator for the net ``config`` describes: the folds batched into one stacked
    ensemble where the nets stack (an FCN with Adam and MSE; ``batched=None`` chooses), else a
    :class:`KFoldCrossValidator`. Both have ``run(data, on_fold_end) -> CVResult`` and share
    the stopping rules of :mod:`nndl.training.stopping`."""
    from nndl.models.nets import build_model
    from nndl.training.batched_kfold import BatchedKFoldCrossValidator
    from nndl.training.kfold import KFoldCrossValidator
    from nndl.training.stacked import stacks

    if batched if batched is not None else stacks(config, train):
        return BatchedKFoldCrossValidator(
            config, train, k, n_folds=n_folds, split_seed=split_seed, cv=cv
        )
    return KFoldCrossValidator(
        lambda: build_model(config), train, k, n_folds=n_folds, split_seed=split_seed, cv=cv
    )
