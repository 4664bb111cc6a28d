"""Training curves: train and validation loss per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["LossCurves", "loss_curves", "plot_loss_curves"]


@dataclass(frozen=True)
class LossCurves:
    """Per-epoch losses, and the epoch whose weights were kept (``None``: the last)."""

    epochs: list[int]
    train: list[float]
    val: list[float]
    best_epoch: int | None


def loss_curves(rows: Sequence[dict[str, float]], best_epoch: int | None = None) -> LossCurves:
    """Collect the curves from a history's rows."""
    return LossCurves(
        epochs=[int(r["epoch"]) for r in rows],
        train=[r["train_loss"] for r in rows],
        val=[r.get("val_loss", float("nan")) for r in rows],
        best_epoch=best_epoch,
    )


def plot_loss_curves(curves: LossCurves, title: str = "", ax: Any = None) -> Any:
    """Draw the curves on a log scale; returns the Figure."""
    from nndl.viz._mpl import subplots

    if ax is None:
        _, ax = subplots(figsize=(6, 4))
    ax.plot(curves.epochs, curves.train, label="train")
    ax.plot(curves.epochs, curves.val, label="validation")
    if curves.best_epoch is not None:
        ax.axvline(
            curves.best_epoch, color="gray", ls="--", lw=1, label=f"best epoch {curves.best_epoch}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    return ax.figure
