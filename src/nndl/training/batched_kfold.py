"""k-fold cross-validation of a fully connected net with all folds trained at once.

The k fold nets are one :class:`StackedFCN`: one batched matrix product per layer and one
optimizer step per batch for all of them. Each member keeps its own data fold, its own
seeded batch order (the same as the sequential :class:`KFoldCrossValidator` draws), its own
early stopping state, best-weights copy and stop epoch; a stopped member is no longer
updated, and the run ends when all have stopped. For tiny nets a step costs about the same
for 1 or 5 members, so k folds take about the time of the longest one.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import torch

from nndl.data.split import kfold_indices
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.models.configs import FCNConfig
from nndl.models.nets import FCN
from nndl.training.callbacks import StopReason
from nndl.training.config import TrainConfig
from nndl.training.device import resolve_device
from nndl.training.evolver import History
from nndl.training.kfold import CVResult, FoldHook, FoldResult
from nndl.training.stacked import StackedAdam, StackedFCN

__all__ = ["BatchedKFoldCrossValidator"]

# Each layer's gradient is a strided view of one (K, D) buffer, by design (see StackedFCN);
# torch notes once that such views are not "dense", which costs nothing here.
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")


@dataclass
class _Member:
    """Early-stopping state of one fold."""

    train_idx: torch.Tensor
    generator: torch.Generator
    best: float = math.inf
    best_epoch: int | None = None
    wait: int = 0
    stop: StopReason | None = None
    seconds: float = 0.0
    rows: list[dict[str, float]] = field(default_factory=list)


class BatchedKFoldCrossValidator:
    """Same contract as :class:`KFoldCrossValidator`, for an FCN trained with Adam and MSE."""

    def __init__(
        self,
        config: FCNConfig,
        train_config: TrainConfig,
        k: int = 5,
        n_folds: int | None = None,
        split_seed: int = 0,
    ) -> None:
        problems = []
        if train_config.optimizer != "adam":
            problems.append("batched folds train with Adam; use sequential folds for SGD")
        if train_config.loss != "mse":
            problems.append("batched folds train regression (mse); use sequential folds")
        if n_folds is not None and not 1 <= n_folds <= k:
            problems.append(f"n_folds = {n_folds}: must be in [1, {k}]")
        if problems:
            raise ConfigError("batched k-fold", problems)
        self.config, self.train_config, self.k = config, train_config, k
        self.n_folds = n_folds or k
        self.split_seed = split_seed

    def run(self, data: TensorData, on_fold_end: FoldHook | None = None) -> CVResult:
        """Train every fold at once; ``on_fold_end`` is called as each fold stops."""
        run = _Run(self, data)
        return run.train(on_fold_end)


class _Run:
    """One batched cross-validation: the stacked net, its optimizer and each member's state."""

    def __init__(self, cv: BatchedKFoldCrossValidator, data: TensorData) -> None:
        cfg = cv.train_config
        self.cfg, self.device = cfg, resolve_device(cfg.device)
        folds = kfold_indices(len(data), cv.k, cv.split_seed)[: cv.n_folds]
        nets = []
        for i in range(len(folds)):
            torch.manual_seed(cfg.seed + i)
            nets.append(FCN(cv.config))
        torch.manual_seed(cfg.seed)
        self.model = StackedFCN(cv.config, nets, self.device)
        self.opt = StackedAdam(self.model, cfg.lr, cfg.weight_decay)
        self.best_flat = self.model.flat.clone()
        self.members = [
            _Member(
                torch.as_tensor(t, device=self.device), torch.Generator().manual_seed(cfg.seed + i)
            )
            for i, (t, _) in enumerate(folds)
        ]
        self.x, self.y = data.x.to(self.device), data.y.to(self.device)
        self.val_idx, self.val_mask = self._padded([torch.as_tensor(v) for _, v in folds])

    def _padded(
        self, parts: list[torch.Tensor], length: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        length = length or max(len(p) for p in parts)
        idx = torch.zeros(len(parts), length, dtype=torch.long)
        mask = torch.zeros(len(parts), length)
        for k, part in enumerate(parts):
            idx[k, : len(part)], mask[k, : len(part)] = part.cpu(), 1.0
        return idx.to(self.device), mask.to(self.device)

    def train(self, on_fold_end: FoldHook | None) -> CVResult:
        result, start = CVResult(), time.perf_counter()
        for epoch in range(1, self.cfg.max_epochs + 1):
            t0 = time.perf_counter()
            train_loss = self._train_epoch()
            val_loss = self._validate()
            stopped = self._stop_check(
                epoch, train_loss.tolist(), val_loss.tolist(), time.perf_counter() - t0
            )
            for k in stopped:
                self.members[k].seconds = time.perf_counter() - start
                fold = self._fold_result(k)
                result.folds.append(fold)
                if on_fold_end is not None and not on_fold_end(fold) and self._running():
                    result.aborted = True
                    return result
            if not self._running():
                break
        return result

    def _running(self) -> list[int]:
        return [k for k, m in enumerate(self.members) if m.stop is None]

    def _epoch_batches(self) -> tuple[torch.Tensor, torch.Tensor, list[list[bool]]]:
        """Per member a fresh permutation of its fold (padded), and who has data at each step."""
        size, running = self.cfg.batch_size, self._running()
        parts = []
        for k, m in enumerate(self.members):
            if k in running:
                perm = torch.randperm(len(m.train_idx), generator=m.generator).to(self.device)
                parts.append(m.train_idx[perm])
            else:
                parts.append(torch.zeros(0, dtype=torch.long))
        steps = max(math.ceil(len(p) / size) for p in parts)
        idx, mask = self._padded(parts, steps * size)
        has_data = [[s * size < len(p) for p in parts] for s in range(steps)]
        return idx, mask, has_data

    def _train_epoch(self) -> torch.Tensor:
        self.model.train()
        idx, mask, has_data = self._epoch_batches()
        size, total = self.cfg.batch_size, torch.zeros(len(self.members), device=self.device)
        for s, active in enumerate(has_data):
            bi, bm = idx[:, s * size : (s + 1) * size], mask[:, s * size : (s + 1) * size]
            err = (self.model(self.x[bi]) - self.y[bi]).pow(2).mean(-1)
            count = bm.sum(1)
            per_member = (err * bm).sum(1) / count.clamp(min=1)
            self.opt.zero_grad()
            per_member.sum().backward()
            self.opt.step([k for k, has in enumerate(active) if has])
            total += per_member.detach() * count
        sizes = torch.tensor([len(m.train_idx) for m in self.members], device=self.device)
        return (total / sizes).cpu()

    @torch.inference_mode()
    def _validate(self) -> torch.Tensor:
        self.model.eval()
        err = (self.model(self.x[self.val_idx]) - self.y[self.val_idx]).pow(2).mean(-1)
        return ((err * self.val_mask).sum(1) / self.val_mask.sum(1)).cpu()

    def _stop_check(
        self, epoch: int, train: list[float], val: list[float], seconds: float
    ) -> list[int]:
        improved, stopped = [], []
        for k in self._running():
            m = self.members[k]
            m.rows.append(
                {"epoch": epoch, "train_loss": train[k], "val_loss": val[k], "seconds": seconds}
            )
            if not (math.isfinite(train[k]) and math.isfinite(val[k])):
                m.stop = StopReason.DIVERGED
            elif val[k] < m.best - self.cfg.min_delta:
                m.best, m.best_epoch, m.wait = val[k], epoch, 0
                improved.append(k)
            else:
                m.wait += 1
                if self.cfg.patience is not None and m.wait >= self.cfg.patience:
                    m.stop = StopReason.PATIENCE
            if m.stop is None and epoch == self.cfg.max_epochs:
                m.stop = StopReason.MAX_EPOCHS
            if m.stop is not None:
                stopped.append(k)
        self._keep_best(improved)
        return stopped

    @torch.no_grad()
    def _keep_best(self, improved: list[int]) -> None:
        if improved:
            idx = torch.tensor(improved, device=self.device)
            self.best_flat[idx] = self.model.flat[idx]

    def _fold_result(self, k: int) -> FoldResult:
        m = self.members[k]
        with torch.no_grad():
            if m.best_epoch is not None:
                self.model.flat[k] = self.best_flat[k]
        history = History(m.rows, m.stop, m.best_epoch)
        row = history.best_row()
        return FoldResult(
            fold=k,
            train_loss=row["train_loss"],
            val_loss=row["val_loss"],
            epochs=history.epochs,
            stop_reason=m.stop or StopReason.MAX_EPOCHS,
            seconds=m.seconds,
            history=history,
            model=self.model.member(k),
        )
