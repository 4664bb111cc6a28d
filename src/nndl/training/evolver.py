"""The Evolver trains and validates a net, one end-of-epoch stop check at a time.

The data lives in memory as tensors on the training device; each batch is gathered by
index from a seeded permutation, so an epoch costs what its arithmetic costs: no per-sample
Python, no DataLoader workers, and one host synchronisation per epoch.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from nndl.data.split import train_val_split
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.training._components import Loss, make_loss, make_optimizer, make_schedule
from nndl.training._rng import forked, seed
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


class Evolver:
    """Train ``model`` with ``config``; callbacks decide when to stop.

    Early stopping comes from ``config.patience`` (an :class:`EarlyStopping` callback is
    added unless one is given); it watches the validation data given to ``fit``, else the
    ``config.val_fraction`` of the training rows held out. The loss follows the targets
    unless ``config.loss`` names one (see :class:`TrainConfig`). ``batch_transform`` may
    rewrite each training batch on the device (the PDCNN's noise images use it).

    ``fit`` leaves torch's global random generator as it found it: the batch order comes
    from the Evolver's own generator, dropout masks from a forked one, both seeded from
    ``config.seed``.

    Example:
        >>> history = Evolver(model, TrainConfig(max_epochs=5)).fit(train, val)
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        callbacks: Iterable[Callback] = (),
        *,
        batch_transform: BatchTransform | None = None,
    ) -> None:
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.optimizer = make_optimizer(self.model.parameters(), config, self.device)
        self.callbacks = list(callbacks)
        self._auto_stop: EarlyStopping | None = None
        if config.patience is not None and not any(
            isinstance(c, EarlyStopping) for c in self.callbacks
        ):
            self._auto_stop = EarlyStopping(
                config.patience, config.min_delta, monitor=config.monitor
            )
            self.callbacks.insert(0, self._auto_stop)
        self.batch_transform = batch_transform
        self.history = History()
        self.should_stop = False
        self.loss: Loss | None = None
        self._active: list[Callback] = []

    def stop(self, reason: StopReason) -> None:
        """Ask the loop to end after this epoch (callbacks call this)."""
        self.should_stop = True
        self.history.stop_reason = reason

    def fit(self, train: TensorData, val: TensorData | None = None) -> History:
        """Train until a callback stops the run or ``max_epochs`` is reached.

        Without ``val``, ``config.val_fraction`` of ``train`` is held out for validation
        (seeded by ``config.seed``); with ``val_fraction=0`` every row trains, there is no
        validation and the run goes to ``max_epochs``.
        """
        train, val = self._split(train, val)
        self._active = self._callbacks_for(val)
        train = self._layout(train.to(self.device))
        val = self._layout(val.to(self.device)) if val is not None else None
        self.loss = self._check_loss(train)
        train, val = self._targets(train), self._targets(val) if val is not None else None
        generator = torch.Generator().manual_seed(self.config.seed)
        schedule = make_schedule(self.optimizer, self.config)
        self.history, self.should_stop = History(), False
        with forked(self.device):
            seed(self.config.seed, self.device)  # dropout masks
            self._call("on_train_begin")
            for epoch in range(1, self.config.max_epochs + 1):
                self._run_epoch(epoch, train, val, generator=generator)
                if schedule is not None and not self.should_stop:
                    schedule(self.history.rows[-1])
                if self.should_stop:
                    break
        if self.history.stop_reason is None:
            self.history.stop_reason = StopReason.MAX_EPOCHS
        self._call("on_train_end")
        self.history.best_epoch = self._best_epoch()
        return self.history

    def _split(
        self, train: TensorData, val: TensorData | None
    ) -> tuple[TensorData, TensorData | None]:
        if val is not None or self.config.val_fraction == 0:
            return train, val
        train_idx, val_idx = train_val_split(len(train), self.config.val_fraction, self.config.seed)
        return train.subset(train_idx), train.subset(val_idx)

    def _callbacks_for(self, val: TensorData | None) -> list[Callback]:
        """The callbacks of this fit: early stopping only where there is validation data."""
        if val is not None:
            return list(self.callbacks)
        others = [c for c in self.callbacks if c is not self._auto_stop]
        watching = [c for c in others if str(getattr(c, "monitor", "")).startswith("val_")]
        if watching:
            names = ", ".join(
                f"{type(c).__name__}(monitor={getattr(c, 'monitor', '')!r})" for c in watching
            )
            raise ConfigError(
                "callbacks",
                [f"{names} needs validation data: pass val to fit() or set val_fraction > 0"],
            )
        if self._auto_stop is not None:
            warnings.warn(
                f"no validation data (val_fraction=0 and no val): early stopping (patience="
                f"{self.config.patience}) is off, training runs to max_epochs="
                f"{self.config.max_epochs}",
                stacklevel=3,
            )
        return others

    @torch.no_grad()
    def _check_loss(self, train: TensorData) -> Loss:
        """The loss, checked on the net's outputs for two rows (eval mode: no randomness)
        and on every target."""
        was_training = self.model.training
        self.model.eval()
        outputs = self.model(train.x[:2])
        self.model.train(was_training)
        return make_loss(self.config, outputs, train.y)  # every label checked against outputs

    def _targets(self, data: TensorData) -> TensorData:
        """Integer targets as one column of numbers where the loss takes them so."""
        if self.loss is None or not self.loss.numeric_labels or data.y.is_floating_point():
            return data
        return TensorData(data.x, data.y.float().reshape(-1, 1))

    def _layout(self, data: TensorData) -> TensorData:
        """Images and weights in channels-last layout on the CPU (see ``TrainConfig``)."""
        if not (self.config.channels_last and self.device.type == "cpu" and data.x.dim() == 4):
            return data
        self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        return TensorData(data.x.contiguous(memory_format=torch.channels_last), data.y)

    def _run_epoch(
        self, epoch: int, train: TensorData, val: TensorData | None, *, generator: torch.Generator
    ) -> None:
        start = time.perf_counter()
        log: dict[str, float] = {"epoch": epoch, "train_loss": self._train_epoch(train, generator)}
        if val is not None:
            log.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
        if self.config.lr_schedule != "constant":
            log["lr"] = float(self.optimizer.param_groups[0]["lr"])
        log["seconds"] = time.perf_counter() - start
        self.history.rows.append(log)
        if diverged(*(log[k] for k in ("train_loss", "val_loss") if k in log)):
            self.stop(StopReason.DIVERGED)
            return
        for callback in self._active:
            callback.on_epoch_end(self, log)

    def _train_epoch(self, data: TensorData, generator: torch.Generator) -> float:
        assert self.loss is not None
        self.model.train()
        n, size = len(data), self.config.batch_size
        order = torch.randperm(n, generator=generator).to(self.device)
        total = torch.zeros((), device=self.device)
        for start in range(0, n, size):
            idx = order[start : start + size]
            x, y = data.x[idx], data.y[idx]
            if self.batch_transform is not None:
                x, y = self.batch_transform(x, y)
            loss = self.loss.mean(self.model(x), y)
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
        if self.loss is None:
            self.loss = self._check_loss(data)
        data = self._targets(data)
        classification = self.loss.classification
        loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for start in range(0, len(data), self.config.eval_batch_size):
            x = data.x[start : start + self.config.eval_batch_size]
            y = data.y[start : start + self.config.eval_batch_size]
            out = self.model(x)
            loss += self.loss.sum(out, y)
            if classification:
                correct += (out.argmax(1) == y).sum()
        metrics = {"loss": float(loss.item()) / len(data)}
        if classification:
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
        for callback in self._active:
            getattr(callback, hook)(self, *args)

    def _best_epoch(self) -> int | None:
        for callback in self._active:
            if isinstance(callback, EarlyStopping) and callback.best_epoch is not None:
                return callback.best_epoch
        return None
