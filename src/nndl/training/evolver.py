"""The Evolver trains and validates a net, one end-of-epoch stop check at a time.

The data lives in memory as tensors on the training device; each batch is gathered by
index from a seeded permutation, so an epoch costs what its arithmetic costs: no per-sample
Python, no DataLoader workers, and one host synchronisation per epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nndl.data.tensors import TensorData
from nndl.training.callbacks import Callback, EarlyStopping, StopReason
from nndl.training.config import TrainConfig
from nndl.training.device import resolve_device
from nndl.training.stopping import diverged

__all__ = ["BatchTransform", "Evolver", "History"]

BatchTransform = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class History:
    """Per-epoch rows (``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``, ``seconds``)."""

    rows: list[dict[str, float]] = field(default_factory=list)
    stop_reason: StopReason | None = None
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Epochs trained."""
        return len(self.rows)

    def best_row(self) -> dict[str, float]:
        """The row of the epoch whose weights the net holds (the last when nothing restored)."""
        if self.best_epoch is None:
            return self.rows[-1]
        return self.rows[self.best_epoch - 1]

    def scaled(self, factor: float) -> History:
        """The same history with its losses times ``factor`` (e.g. into the data's units)."""
        if factor == 1.0:
            return self
        rows = [
            {k: v * factor if k in ("train_loss", "val_loss") else v for k, v in r.items()}
            for r in self.rows
        ]
        return History(rows, self.stop_reason, self.best_epoch)

    def seconds_per_epoch(self) -> float:
        """Mean wall seconds of one epoch, validation included."""
        return sum(r["seconds"] for r in self.rows) / max(1, len(self.rows))


def _make_optimizer(
    params: Iterable[nn.Parameter], config: TrainConfig, device: torch.device
) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    # The fused kernel: one call per step for all tensors (6% faster DCNN epochs, 17% FCN, here).
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def _make_loss(name: str, reduction: str = "mean") -> nn.Module:
    return (
        nn.MSELoss(reduction=reduction)
        if name == "mse"
        else nn.CrossEntropyLoss(reduction=reduction)
    )


class Evolver:
    """Train ``model`` with ``config``; callbacks decide when to stop.

    Early stopping comes from ``config.patience`` (an :class:`EarlyStopping` callback is
    added unless one is given). ``batch_transform`` may rewrite each training batch on the
    device (the PDCNN's noise images use it).

    Example:
        >>> history = Evolver(model, TrainConfig(max_epochs=5)).fit(train, val)
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        callbacks: Iterable[Callback] = (),
        batch_transform: BatchTransform | None = None,
    ) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.optimizer = _make_optimizer(self.model.parameters(), config, self.device)
        self.loss_fn = _make_loss(config.loss)
        self._sum_loss = _make_loss(config.loss, "sum")
        self.callbacks = list(callbacks)
        if config.patience is not None and not any(
            isinstance(c, EarlyStopping) for c in self.callbacks
        ):
            self.callbacks.insert(0, EarlyStopping(config.patience, config.min_delta))
        self.batch_transform = batch_transform
        self.history = History()
        self.should_stop = False

    def stop(self, reason: StopReason) -> None:
        """Ask the loop to end after this epoch (callbacks call this)."""
        self.should_stop = True
        self.history.stop_reason = reason

    def fit(self, train: TensorData, val: TensorData | None = None) -> History:
        """Train until a callback stops the run or ``max_epochs`` is reached."""
        train = self._layout(train.to(self.device))
        val = self._layout(val.to(self.device)) if val is not None else None
        generator = torch.Generator().manual_seed(self.config.seed)
        torch.manual_seed(self.config.seed)  # dropout masks
        self.history, self.should_stop = History(), False
        self._call("on_train_begin")
        for epoch in range(1, self.config.max_epochs + 1):
            self._run_epoch(epoch, train, val, generator)
            if self.should_stop:
                break
        if self.history.stop_reason is None:
            self.history.stop_reason = StopReason.MAX_EPOCHS
        self._call("on_train_end")
        self.history.best_epoch = self._best_epoch()
        return self.history

    def _layout(self, data: TensorData) -> TensorData:
        """Images and weights in channels-last layout on the CPU (see ``TrainConfig``)."""
        if not (self.config.channels_last and self.device.type == "cpu" and data.x.dim() == 4):
            return data
        self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return TensorData(data.x.contiguous(memory_format=torch.channels_last), data.y)

    def _run_epoch(
        self, epoch: int, train: TensorData, val: TensorData | None, generator: torch.Generator
    ) -> None:
        start = time.perf_counter()
        log: dict[str, float] = {"epoch": epoch, "train_loss": self._train_epoch(train, generator)}
        if val is not None:
            log.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
        log["seconds"] = time.perf_counter() - start
        self.history.rows.append(log)
        if diverged(*(log[k] for k in ("train_loss", "val_loss") if k in log)):
            self.stop(StopReason.DIVERGED)
            return
        for callback in self.callbacks:
            callback.on_epoch_end(self, log)

    def _train_epoch(self, data: TensorData, generator: torch.Generator) -> float:
        self.model.train()
        n, size = len(data), self.config.batch_size
        order = torch.randperm(n, generator=generator).to(self.device)
        total = torch.zeros((), device=self.device)
        for start in range(0, n, size):
            idx = order[start : start + size]
            x, y = data.x[idx], data.y[idx]
            if self.batch_transform is not None:
                x, y = self.batch_transform(x, y)
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * idx.numel()
        return float(total.item()) / n

    @torch.inference_mode()
    def evaluate(self, data: TensorData) -> dict[str, float]:
        """Mean loss (and accuracy for classification) of the net in eval mode."""
        self.model.eval()
        data = data.to(self.device)
        loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for start in range(0, len(data), self.config.eval_batch_size):
            x = data.x[start : start + self.config.eval_batch_size]
            y = data.y[start : start + self.config.eval_batch_size]
            out = self.model(x)
            loss += self._sum_loss(out, y)
            if self.config.loss == "cross_entropy":
                correct += (out.argmax(1) == y).sum()
        metrics = {"loss": float(loss.item()) / len(data)}
        if self.config.loss == "cross_entropy":
            metrics["accuracy"] = float(correct.item()) / len(data)
        return metrics

    @torch.inference_mode()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The net's outputs for ``x`` (eval mode), on the CPU."""
        self.model.eval()
        size = self.config.eval_batch_size
        outs = [self.model(x[i : i + size].to(self.device)).cpu() for i in range(0, len(x), size)]
        return torch.cat(outs)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _best_epoch(self) -> int | None:
        for callback in self.callbacks:
            if isinstance(callback, EarlyStopping) and callback.best_epoch is not None:
                return callback.best_epoch
        return None
