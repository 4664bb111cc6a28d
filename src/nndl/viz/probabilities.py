"""Figure 4: each net's class probabilities for a few images, with the data's class names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nndl.evaluation.ood import predict_logits

__all__ = ["ClassProbs", "class_name", "class_probabilities", "plot_class_probabilities"]


def class_name(c: int) -> str:
    """Digits by their value; class 10 is "N", not a digit."""
    return "N" if c == 10 else str(c)


@dataclass(frozen=True)
class ClassProbs:
    """Softmax output of each net (``probs[name]``: ``(images, classes)``) for each image."""

    images: np.ndarray  # (k, h, w)
    captions: list[str]
    probs: dict[str, np.ndarray]
    class_names: tuple[str, ...] = ()  # empty: digits, class 10 "N"


def class_probabilities(
    models: dict[str, nn.Module],
    images: torch.Tensor,
    captions: Sequence[str],
    *,
    class_names: Sequence[str] = (),
) -> ClassProbs:
    """Each net's class probabilities for each of ``images`` ``(k, c, h, w)``."""
    if len(captions) != len(images):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    probs = {name: predict_logits(m, images).softmax(dim=1).numpy() for name, m in models.items()}
    from nndl.viz._mpl import as_pictures

    return ClassProbs(as_pictures(images), list(captions), probs, tuple(class_names))


def plot_class_probabilities(data: ClassProbs) -> Any:
    """One row per image: the image, then one bar chart of class probabilities per net."""
    from nndl.viz._mpl import subplots

    rows, cols = len(data.captions), 1 + len(data.probs)
    fig, axes = subplots(rows, cols, figsize=(2.2 + 3 * (cols - 1), 2.4 * rows), squeeze=False)
    for i, caption in enumerate(data.captions):
        axes[i, 0].imshow(data.images[i], cmap="gray", vmin=0.0, vmax=1.0)
        axes[i, 0].set_title(caption, fontsize=9)
        axes[i, 0].axis("off")
        for j, (name, probs) in enumerate(data.probs.items(), 1):
            _probability_bars(axes[i, j], probs[i], name, names=data.class_names)
    fig.tight_layout()
    return fig


def _probability_bars(ax: Any, probs: np.ndarray, title: str, *, names: Sequence[str] = ()) -> None:
    classes = np.arange(len(probs))
    extra = 10 if not names else len(names) - 1  # the extra "none of these" class, in orange
    colours = ["tab:orange" if c == extra and len(probs) > extra else "tab:blue" for c in classes]
    ax.bar(classes, probs, color=colours)
    if names and any(len(n) > 2 for n in names[: len(probs)]):
        ax.set_xticks(classes, list(names[: len(probs)]), rotation=90, fontsize=6)
    else:
        ax.set_xticks(classes, [names[int(c)] if names else class_name(int(c)) for c in classes])
    ax.set_ylim(0.0, 1.0)
    ax.set_title(title, fontsize=9)
