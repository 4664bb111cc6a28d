"""k-fold cross-validation of a fully connected net with all folds trained at once.

The k fold nets are one :class:`StackedFCN`: one batched matrix product per layer and one
optimizer step per batch for all of them. Each member keeps its own data fold, its own
seeded batch order (the same as the sequential :class:`KFoldCrossValidator` draws), its own
early stopping state, best-weights copy and stop epoch; a stopped member is no longer
updated, and the run ends when all have stopped. For tiny nets a step costs about the same
for 1 or 5 members, so k folds take about the time of the longest one.

Without dropout the folds come out as the sequential run's (tested). Dropout masks are drawn
for the whole stack from the global random stream, so with dropout the numbers differ from
the sequential run's as another seed's would; ``on_fold_end`` sees folds as they stop.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from nndl.data.split import kfold_indices
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.models.configs import FCNConfig
from nndl.models.nets import FCN
from nndl.training._rng import forked, seed
from nndl.training.callbacks import StopReason
from nndl.training.config import TrainConfig
from nndl.training.device import resolve_device
from nndl.training.evolver import History
from nndl.training.kfold import CVResult, FoldHook, FoldResult
from nndl.training.stacked import STACKED_OPTIMIZERS, StackedFCN, stacked_optimizer
from nndl.training.stopping import Plateau, diverged

__all__ = ["BatchedKFoldCrossValidator"]


@dataclass
class _Member:
    """Early-stopping state of one fold."""

    train_idx: torch.Tensor
    generator: torch.Generator
    rule: Plateau
    stop: StopReason | None = None
    seconds: float = 0.0
    rows: list[dict[str, float]] = field(default_factory=list)


class BatchedKFoldCrossValidator:
    """Same contract as :class:`KFoldCrossValidator`, for an FCN trained with Adam or AdamW and
    the squared error."""

    def __init__(
        self,
        config: FCNConfig,
        train_config: TrainConfig,
        k: int = 5,
        *,
        n_folds: int | None = None,
        split_seed: int = 0,
        cv: Any = None,
    ) -> None:
        problems = []
        if train_config.optimizer not in STACKED_OPTIMIZERS:
            problems.append(
                f"batched folds train with Adam or AdamW, not {train_config.optimizer!r}; "
                "use sequential folds"
            )
        if train_config.loss not in ("mse", "auto"):
            problems.append("batched folds train regression (mse); use sequential folds")
        if n_folds is not None and not 1 <= n_folds <= k:
            problems.append(f"n_folds = {n_folds}: must be in [1, {k}]")
        if problems:
            raise ConfigError("batched k-fold", problems)
        self.config, self.train_config, self.k = config, train_config, k
        self.n_folds = n_folds or k
        self.split_seed = split_seed
        self.cv = cv

    def folds(self, data: TensorData) -> list[tuple[Any, Any]]:
        """The (train, validation) row indices of the folds that run (``cv``'s, if given)."""
        if self.cv is not None:
            x = data.x.reshape(len(data), -1).cpu().numpy()
            return list(self.cv.split(x, data.y.cpu().numpy()))[: self.n_folds]
        return kfold_indices(len(data), self.k, self.split_seed)[: self.n_folds]

    def run(self, data: TensorData, on_fold_end: FoldHook | None = None) -> CVResult:
        """Train every fold at once; ``on_fold_end`` is called as each fold stops."""
        with forked(resolve_device(self.train_config.device)):
            run = _Run(self, data)
            return run.train(on_fold_end)


@dataclass(frozen=True)
class _Schedule:
    """Batch layout of the running folds: padded width, rows and row weights per step, members per step."""

    width: int  # steps * batch size: the padded slots of each fold's epoch order
    rows: list[torch.Tensor]  # per step, (folds,) rows in the batch (at least 1, for the division)
    weights: list[torch.Tensor]  # per step, (folds, batch size): 1 / rows where a slot holds a row
    active: list[list[int]]  # per step, the stack positions that have rows
    sizes: torch.Tensor  # (folds,) training rows

    @classmethod
    def of(cls, lengths: list[int], size: int, device: torch.device) -> _Schedule:
        steps = max(math.ceil(n / size) for n in lengths)
        mask = torch.zeros(len(lengths), steps * size)
        for pos, n in enumerate(lengths):
            mask[pos, :n] = 1.0
        rows = [
            mask[:, s * size : (s + 1) * size].sum(1).clamp(min=1).to(device) for s in range(steps)
        ]
        active = [[pos for pos, n in enumerate(lengths) if s * size < n] for s in range(steps)]
        mask = mask.to(device)
        weights = [mask[:, s * size : (s + 1) * size] / rows[s].unsqueeze(1) for s in range(steps)]
        lengths_t = torch.tensor(lengths, dtype=torch.float32, device=device)
        return cls(steps * size, rows, weights, active, lengths_t)


class _Run:
    """One batched cross-validation: the stacked net of the running folds, and every fold's state.

    ``alive`` maps stack positions to fold numbers; a fold that stops leaves the stack.
    """

    def __init__(self, cv: BatchedKFoldCrossValidator, data: TensorData) -> None:
        cfg = cv.train_config
        self.cfg, self.device = cfg, resolve_device(cfg.device)
        folds = cv.folds(data)
        nets = []
        for i in range(len(folds)):
            seed(cfg.seed + i, self.device)
            nets.append(FCN(cv.config))
        seed(cfg.seed, self.device)
        self.model = StackedFCN(cv.config, nets, self.device)
        self.opt = stacked_optimizer(self.model, cfg)
        self.best = [p.detach().clone() for p in self.model.parameters()]
        self.members = [
            _Member(
                torch.as_tensor(t, device=self.device),
                torch.Generator().manual_seed(cfg.seed + i),
                Plateau(cfg.patience, cfg.min_delta),
            )
            for i, (t, _) in enumerate(folds)
        ]
        self.alive = list(range(len(folds)))
        self._cached_schedule: _Schedule | None = None
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
            train_loss, val_loss = self._train_epoch().tolist(), self._validate().tolist()
            stopped = self._stop_check(
                epoch, train_loss, val_loss, seconds=time.perf_counter() - t0
            )
            folds = [self._fold_result(pos, time.perf_counter() - start) for pos in stopped]
            self._leave(stopped)
            for fold in sorted(folds, key=lambda f: f.fold):
                result.folds.append(fold)
                if on_fold_end is not None and not on_fold_end(fold) and self.alive:
                    result.aborted = True
                    return result
            if not self.alive:
                break
        return result

    def _schedule(self) -> _Schedule:
        """The running folds' batch layout; the same every epoch until a fold leaves."""
        if self._cached_schedule is None:
            lengths = [len(self.members[k].train_idx) for k in self.alive]
            self._cached_schedule = _Schedule.of(lengths, self.cfg.batch_size, self.device)
        return self._cached_schedule

    def _epoch_order(self, width: int) -> torch.Tensor:
        """Per running fold a fresh permutation of its rows, zero-padded to ``width``."""
        idx = torch.zeros(len(self.alive), width, dtype=torch.long, device=self.device)
        for pos, k in enumerate(self.alive):
            m = self.members[k]
            perm = torch.randperm(len(m.train_idx), generator=m.generator).to(self.device)
            idx[pos, : len(perm)] = m.train_idx[perm]
        return idx

    def _train_epoch(self) -> torch.Tensor:
        self.model.train()
        plan, size = self._schedule(), self.cfg.batch_size
        idx, total = (
            self._epoch_order(plan.width),
            torch.zeros(len(self.alive), device=self.device),
        )
        for s, active in enumerate(plan.active):
            bi = idx[:, s * size : (s + 1) * size]
            per_member = self.model.mse_step(self.x[bi], self.y[bi], plan.weights[s])
            self.opt.step(active)
            total += per_member * plan.rows[s]
        return (total / plan.sizes).cpu()

    @torch.inference_mode()
    def _validate(self) -> torch.Tensor:
        self.model.eval()
        err = (self.model(self.x[self.val_idx]) - self.y[self.val_idx]).pow(2).mean(-1)
        return ((err * self.val_mask).sum(1) / self.val_mask.sum(1)).cpu()

    def _stop_check(
        self, epoch: int, train: list[float], val: list[float], *, seconds: float
    ) -> list[int]:
        """Early stopping for each running fold; returns the stack positions that stopped."""
        improved, stopped = [], []
        for pos, k in enumerate(self.alive):
            m = self.members[k]
            m.rows.append(
                {"epoch": epoch, "train_loss": train[pos], "val_loss": val[pos], "seconds": seconds}
            )
            if diverged(train[pos], val[pos]):  # the rules the Evolver and its callbacks use
                m.stop = StopReason.DIVERGED
            elif m.rule.update(epoch, val[pos]):
                improved.append(pos)
            elif m.rule.exhausted:
                m.stop = StopReason.PATIENCE
            if m.stop is None and epoch == self.cfg.max_epochs:
                m.stop = StopReason.MAX_EPOCHS
            if m.stop is not None:
                stopped.append(pos)
        self._keep_best(improved)
        return stopped

    @torch.no_grad()
    def _keep_best(self, improved: list[int]) -> None:
        if improved:
            idx = torch.tensor(improved, device=self.device)
            for best, p in zip(self.best, self.model.parameters(), strict=True):
                best[idx] = p[idx]

    def _leave(self, stopped: list[int]) -> None:
        """Take the stopped folds out of the stack, its optimizer state and the validation rows."""
        if not stopped:
            return
        keep = [pos for pos in range(len(self.alive)) if pos not in stopped]
        self.alive = [self.alive[pos] for pos in keep]
        self._cached_schedule = None
        if not keep:
            return
        self.model.keep(keep)
        self.opt.keep(keep)
        idx = torch.tensor(keep, device=self.device)
        self.best = [b[idx].contiguous() for b in self.best]
        self.val_idx, self.val_mask = self.val_idx[idx], self.val_mask[idx]

    def _fold_result(self, pos: int, seconds: float) -> FoldResult:
        m = self.members[self.alive[pos]]
        m.seconds = seconds
        with torch.no_grad():
            if m.rule.best_epoch is not None:
                for best, p in zip(self.best, self.model.parameters(), strict=True):
                    p[pos] = best[pos]
        history = History(m.rows, m.stop, m.rule.best_epoch)
        row = history.best_row()
        return FoldResult(
            fold=self.alive[pos],
            train_loss=row["train_loss"],
            val_loss=row["val_loss"],
            epochs=history.epochs,
            stop_reason=m.stop or StopReason.MAX_EPOCHS,
            seconds=m.seconds,
            history=history,
            model=self.model.member(pos),
        )
