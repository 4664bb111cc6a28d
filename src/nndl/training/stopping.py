"""The one definition of early stopping and divergence, shared by the Evolver's
:class:`~nndl.training.callbacks.EarlyStopping` and the batched folds (which train many nets
at once and so cannot run one callback per net)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Plateau", "diverged"]


def diverged(*losses: float) -> bool:
    """A loss is NaN or infinite: training has diverged."""
    return not all(math.isfinite(v) for v in losses)


@dataclass
class Plateau:
    """A new minimum must beat the best so far by more than ``min_delta``; ``patience`` epochs
    without one exhaust it (``patience=None``: never, the best is still tracked)."""

    patience: int | None
    min_delta: float = 0.0
    best: float = math.inf
    best_epoch: int | None = None
    wait: int = 0

    def update(self, epoch: int, value: float) -> bool:
        """Record one epoch's monitored value; True when it is a new minimum."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return True
        self.wait += 1
        return False

    @property
    def exhausted(self) -> bool:
        """``patience`` epochs have passed without a new minimum."""
        return self.patience is not None and self.wait >= self.patience
