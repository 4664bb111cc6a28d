"""The one definition of early stopping and divergence, shared by the Evolver's
:class:`~nndl.training.callbacks.EarlyStopping` and the batched folds (which train many nets
at once and so cannot run one callback per net)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MODES", "Plateau", "diverged", "resolve_mode"]


def diverged(*losses: float) -> bool:
    """A loss is NaN or infinite: training has diverged."""
    return not all(math.isfinite(v) for v in losses)


MODES = ("min", "max", "auto")
_HIGHER_IS_BETTER = ("accuracy", "acc", "auc", "score", "r2")


def resolve_mode(monitor: str, mode: str) -> str:
    """``min`` or ``max``; ``auto`` is ``max`` for an accuracy, AUC, score or R², else ``min``."""
    if mode not in MODES:
        from nndl.errors import ConfigError

        raise ConfigError("monitor", [f"mode {mode!r}: must be one of {', '.join(MODES)}"])
    if mode != "auto":
        return mode
    return "max" if monitor.lower().endswith(_HIGHER_IS_BETTER) else "min"


@dataclass
class Plateau:
    """A new best (a minimum, or a maximum with ``mode="max"``) must beat the best so far by
    more than ``min_delta``; ``patience`` epochs without one exhaust it (``patience=None``:
    never, the best is still tracked)."""

    patience: int | None
    min_delta: float = 0.0
    best: float = math.inf
    best_epoch: int | None = None
    wait: int = 0
    mode: str = "min"

    def __post_init__(self) -> None:
        if self.mode == "max" and self.best == math.inf:
            self.best = -math.inf

    def update(self, epoch: int, value: float) -> bool:
        """Record one epoch's monitored value; True when it is a new best."""
        better = (
            value > self.best + self.min_delta
            if self.mode == "max"
            else value < self.best - self.min_delta
        )
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return True
        self.wait += 1
        return False

    @property
    def exhausted(self) -> bool:
        """``patience`` epochs have passed without a new minimum."""
        return self.patience is not None and self.wait >= self.patience
