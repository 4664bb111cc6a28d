"""Small objects that hook into the Evolver's loop: early stopping, checkpoints, progress.

A callback never raises to stop training: it calls ``evolver.stop(reason)``.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import torch

from nndl.errors import ConfigError
from nndl.training.stopping import Plateau, resolve_mode

if TYPE_CHECKING:
    from nndl.training.evolver import Evolver

__all__ = ["Callback", "Checkpoint", "EarlyStopping", "ProgressBar", "StopReason"]


class StopReason(str, enum.Enum):
    """Why a run ended."""

    MAX_EPOCHS = "max_epochs"
    PATIENCE = "patience"
    DIVERGED = "diverged"


class Callback:
    """Base class: every hook is a no-op. ``log`` is the epoch's row of the history."""

    def on_train_begin(self, evolver: Evolver) -> None:
        """Called once before the first epoch."""

    def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
        """Called after every epoch's training and validation."""

    def on_train_end(self, evolver: Evolver) -> None:
        """Called once after the last epoch, whatever the stop reason."""


def _monitored(callback: EarlyStopping | Checkpoint, log: dict[str, float]) -> float:
    """The value a callback watches; a clear error when the epoch has none (no validation set)."""
    if callback.monitor not in log:
        hint = (
            "accuracy is measured for class labels only; monitor val_loss"
            if callback.monitor == "val_accuracy" and "val_loss" in log
            else "give fit() a validation set, or train without it (patience=None)"
        )
        raise ConfigError(
            type(callback).__name__,
            [
                f"monitor {callback.monitor!r} is not measured: the epoch has {', '.join(log)}; {hint}"
            ],
        )
    return log[callback.monitor]


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without a new best of ``monitor``; restore the best.

    A copy of the weights is kept at every new best (the report's checkpoint), and put back
    into the net when training ends. ``mode`` is ``min``, ``max`` or ``auto`` (``max`` for
    an accuracy or score, ``min`` for a loss).
    """

    def __init__(
        self,
        patience: int,
        min_delta: float = 0.0,
        monitor: str = "val_loss",
        *,
        mode: str = "auto",
    ) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.rule = Plateau(patience, min_delta, mode=self.mode)
        self.best_state: dict[str, torch.Tensor] | None = None

    @property
    def best(self) -> float:
        return self.rule.best

    @property
    def best_epoch(self) -> int | None:
        return self.rule.best_epoch

    @property
    def wait(self) -> int:
        return self.rule.wait

    def on_train_begin(self, evolver: Evolver) -> None:
        self.rule, self.best_state = Plateau(self.patience, self.min_delta, mode=self.mode), None

    def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
        if self.rule.update(int(log["epoch"]), _monitored(self, log)):
            self.best_state = {k: v.detach().clone() for k, v in evolver.model.state_dict().items()}
        elif self.rule.exhausted:
            evolver.stop(StopReason.PATIENCE)

    def on_train_end(self, evolver: Evolver) -> None:
        if self.best_state is not None:
            evolver.model.load_state_dict(self.best_state)


class Checkpoint(Callback):
    """Write a self-describing checkpoint at every new best of ``monitor`` (atomically);
    ``mode`` as for :class:`EarlyStopping`."""

    def __init__(self, path: str | Path, monitor: str = "val_loss", mode: str = "auto") -> None:
        self.path = Path(path)
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.rule = Plateau(None, mode=self.mode)

    @property
    def best(self) -> float:
        return self.rule.best

    def on_train_begin(self, evolver: Evolver) -> None:
        self.rule = Plateau(None, mode=self.mode)

    def on_epoch_end(self, evolver: Evolver, log: dict[str, float]) -> None:
        from nndl.training.checkpoint import save_checkpoint

        if self.rule.update(int(log["epoch"]), _monitored(self, log)):
            save_checkpoint(self.path, evolver.model, evolver.config, extra={"epoch": log["epoch"]})


class ProgressBar(Callback):
    """A ``tqdm.auto`` bar per run: a line on a terminal, a widget in a notebook, silent when
    the output is neither (a log file, a pipe)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() or "ipykernel" in sys.modules
        self._bar: Any = None

    def on_train_begin(self, evolver: Evolver) -> None:
        if self.enabled:
            from tqdm.auto import tqdm

            total = evolver.config.max_epochs
            self._bar = tqdm(total=total, file=self.stream, unit="epoch", leave=False)

    def on_epoch_end(self, evolver: Evolver, log: dict[str, Any]) -> None:
        if self._bar is None:
            return
        losses = {"train": f"{log['train_loss']:.4f}"}
        if "val_loss" in log:
            losses["val"] = f"{log['val_loss']:.4f}"
        self._bar.set_postfix(losses, refresh=False)
        self._bar.update(1)

    def on_train_end(self, evolver: Evolver) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
