"""k-fold cross-validation: a fresh net per fold, per-fold results, an abort hook."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nndl.data.split import kfold_indices, stratified_kfold_indices
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.training._rng import forked, seed
from nndl.training.callbacks import Callback, StopReason
from nndl.training.config import TrainConfig
from nndl.training.device import resolve_device
from nndl.training.evolver import Evolver, History

__all__ = ["CVResult", "FoldHook", "FoldResult", "KFoldCrossValidator"]


@dataclass
class FoldResult:
    """One fold: its losses at the restored epoch, how it stopped, and the trained net."""

    fold: int
    train_loss: float
    val_loss: float
    epochs: int
    stop_reason: StopReason
    seconds: float
    history: History
    model: nn.Module
    val_accuracy: float | None = None


@dataclass
class CVResult:
    """The folds that ran; ``aborted`` when the hook skipped the remaining ones."""

    folds: list[FoldResult] = field(default_factory=list)
    aborted: bool = False

    @property
    def mean_val_loss(self) -> float:
        return statistics.fmean(f.val_loss for f in self.folds)

    @property
    def std_val_loss(self) -> float:
        return statistics.pstdev(f.val_loss for f in self.folds)

    @property
    def mean_train_loss(self) -> float:
        return statistics.fmean(f.train_loss for f in self.folds)

    @property
    def mean_minutes(self) -> float:
        return statistics.fmean(f.seconds for f in self.folds) / 60

    def best(self) -> FoldResult:
        """The fold with the lowest validation loss."""
        return min(self.folds, key=lambda f: f.val_loss)


FoldHook = Callable[[FoldResult], bool]
"""Called after each fold; return ``False`` to skip the remaining folds."""


class KFoldCrossValidator:
    """Train one configuration on ``k`` folds (optionally only the first ``n_folds``).

    Class labels (integer targets) are cut into stratified folds, numbers into plain shuffled
    folds, unless ``cv`` gives another splitter.

    Args:
        build_model: returns a fresh, untrained net (called once per fold, after seeding).
        config: training settings; fold ``i`` trains with seed ``config.seed + i``.
        k: number of folds the data is cut into.
        n_folds: how many of them to run (the report runs 2 of 5); default all.
        split_seed: seeds the shuffle that assigns rows to folds.
        callbacks: extra callbacks for each fold's Evolver, made fresh per fold.
        cv: any splitter with scikit-learn's ``split(X, y, groups)`` (``GroupKFold``,
            ``TimeSeriesSplit``, ...); its folds replace the ``k`` above.
        transform: a scikit-learn transformer (``StandardScaler()``) fitted on each
            training fold's inputs only and applied to both parts of the fold, so no
            validation row leaks into the preprocessing.
        batch_transform: made per fold from its seed and device (a task's
            ``batch_transform``: augmentation, an extra class); changes each training batch.
    """

    def __init__(
        self,
        build_model: Callable[[], nn.Module],
        config: TrainConfig,
        k: int = 5,
        *,
        n_folds: int | None = None,
        split_seed: int = 0,
        callbacks: Callable[[], Iterable[Callback]] = tuple,
        cv: Any = None,
        transform: Any = None,
        batch_transform: Callable[[int, Any], Any] | None = None,
    ) -> None:
        if cv is not None:
            if not hasattr(cv, "split"):
                raise ConfigError("k-fold", [f"cv = {cv!r}: needs a split(X, y, groups) method"])
            try:  # LeaveOneOut and the like know their folds only from the data
                k = int(cv.get_n_splits())
            except (AttributeError, TypeError, ValueError):
                k = n_folds or k
        if n_folds is not None and not 1 <= n_folds <= k:
            raise ConfigError("k-fold", [f"n_folds = {n_folds}: must be in [1, {k}]"])
        self.build_model, self.config, self.k = build_model, config, k
        self.n_folds = n_folds or k
        self.split_seed = split_seed
        self.callbacks = callbacks
        self.cv, self.transform = cv, transform
        self.batch_transform = batch_transform

    def folds(self, data: TensorData, groups: Any = None) -> list[tuple[Any, Any]]:
        """The (train, validation) row indices of the folds that run."""
        if self.cv is not None:
            x = data.x.reshape(len(data), -1).cpu().numpy()
            folds = list(self.cv.split(x, data.y.cpu().numpy(), groups))
        elif data.y.is_floating_point():
            folds = kfold_indices(len(data), self.k, self.split_seed)
        else:
            folds = stratified_kfold_indices(data.y.cpu().numpy(), self.k, self.split_seed)
        return folds[: self.n_folds]

    def run(
        self, data: TensorData, on_fold_end: FoldHook | None = None, groups: Any = None
    ) -> CVResult:
        """Train the folds in order; stop early when ``on_fold_end`` returns ``False``.
        ``groups`` go to a ``cv`` splitter that takes them."""
        result = CVResult()
        folds = self.folds(data, groups)
        for i, (train_idx, val_idx) in enumerate(folds):
            train, val = self._preprocess(data.subset(train_idx), data.subset(val_idx))
            fold = self.run_fold(i, train, val)
            result.folds.append(fold)
            if on_fold_end is not None and not on_fold_end(fold) and i + 1 < len(folds):
                result.aborted = True
                break
        return result

    def _preprocess(self, train: TensorData, val: TensorData) -> tuple[TensorData, TensorData]:
        if self.transform is None:
            return train, val
        from sklearn.base import clone

        transform = clone(self.transform)
        shape = train.x.shape[1:]
        fit = transform.fit_transform(train.x.reshape(len(train), -1).cpu().numpy())
        applied = transform.transform(val.x.reshape(len(val), -1).cpu().numpy())
        return (
            TensorData(torch.as_tensor(fit).reshape(len(train), *shape), train.y),
            TensorData(torch.as_tensor(applied).reshape(len(val), *shape), val.y),
        )

    def run_fold(self, i: int, train: TensorData, val: TensorData) -> FoldResult:
        """Train a fresh net on one fold."""
        config = dataclasses.replace(self.config, seed=self.config.seed + i)
        with forked(device := resolve_device(config.device)):
            seed(config.seed, device)  # the fold's initial weights
            model = self.build_model()
        changes = self.batch_transform(config.seed, device) if self.batch_transform else None
        evolver = Evolver(model, config, self.callbacks(), batch_transform=changes)
        start = time.perf_counter()
        history = evolver.fit(train, val)
        best = history.best_row()
        return FoldResult(
            fold=i,
            train_loss=best["train_loss"],
            val_loss=best["val_loss"],
            epochs=history.epochs,
            stop_reason=history.stop_reason or StopReason.MAX_EPOCHS,
            seconds=time.perf_counter() - start,
            history=history,
            model=evolver.model,
            val_accuracy=best.get("val_accuracy"),
        )
