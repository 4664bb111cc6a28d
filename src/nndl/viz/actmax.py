"""Activation maximization: the input image that most excites an output neuron (Figure 5).

As in the report, the raw image starts at 0, passes through a sigmoid (0.5 gray, and pixels
stay in [0, 1]) and Adam with weight decay minimizes minus the chosen logit. All classes are
optimized at once as one batch: Adam and the penalties act pixel by pixel and image by
image, so this equals one run per class, only faster. The model's weights never get a
gradient.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nndl.errors import ConfigError
from nndl.evaluation.ood import predict_logits

__all__ = [
    "ActMaxConfig",
    "ActMaxGrid",
    "activation_grid",
    "maximize_class",
    "maximize_classes",
    "plot_activation_grid",
]


@dataclass(frozen=True)
class ActMaxConfig:
    """Settings of the optimization.

    Args:
        steps: Adam steps.
        lr, weight_decay: Adam's, on the raw (pre-sigmoid) image.
        jitter: each step the image is rolled by up to this many pixels (0: never).
        tv_weight: weight of the total variation penalty (mean absolute neighbour difference).
        l2_weight: weight of the mean squared pixel value (of the image in [0, 1]).
        others_weight: weight of the mean of the other output logits (pushes them down).
        seed: seeds the jitter.
    """

    steps: int = 200
    lr: float = 0.1
    weight_decay: float = 0.01
    jitter: int = 0
    tv_weight: float = 0.0
    l2_weight: float = 0.0
    others_weight: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        problems = [f"steps = {self.steps}: must be >= 0"] if self.steps < 0 else []
        problems += [f"lr = {self.lr}: must be > 0"] if self.lr <= 0 else []
        problems += [f"jitter = {self.jitter}: must be >= 0"] if self.jitter < 0 else []
        names = ("weight_decay", "tv_weight", "l2_weight", "others_weight")
        problems += [
            f"{n} = {getattr(self, n)}: must be >= 0" for n in names if getattr(self, n) < 0
        ]
        if problems:
            raise ConfigError("ActMaxConfig", problems)


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of vertical plus horizontal neighbours, per image."""
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    return dy + dx


def _jitter(x: torch.Tensor, jitter: int, generator: torch.Generator) -> torch.Tensor:
    if jitter == 0:
        return x
    dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def _objective(
    model: nn.Module,
    image: torch.Tensor,
    targets: torch.Tensor,
    *,
    config: ActMaxConfig,
    generator: torch.Generator,
) -> torch.Tensor:
    """Sum over images of minus the target logit (of the jittered image), plus the penalties."""
    logits = model(_jitter(image, config.jitter, generator))
    chosen = logits.gather(1, targets[:, None]).squeeze(1)
    loss = -chosen
    if config.others_weight:
        others = (logits.sum(1) - chosen) / (logits.shape[1] - 1)
        loss = loss + config.others_weight * others
    if config.tv_weight:
        loss = loss + config.tv_weight * _total_variation(image)
    if config.l2_weight:
        loss = loss + config.l2_weight * image.pow(2).flatten(1).mean(1)
    return loss.sum()


def maximize_classes(
    model: nn.Module,
    classes: Iterable[int] = range(10),
    config: ActMaxConfig | None = None,
    *,
    shape: tuple[int, ...] = (1, 28, 28),
) -> torch.Tensor:
    """One image per class in ``classes`` maximizing that output logit, all in one batch.

    Args:
        model: a classifier; used in eval mode, its mode is restored, its weights untouched.
        classes: the output neurons to maximize, one image each.
        config: the optimization settings (default :class:`ActMaxConfig`).
        shape: the shape of one input image.

    Returns:
        ``(len(classes), *shape)`` images in [0, 1] on the CPU.
    """
    config = ActMaxConfig() if config is None else config
    device = _device(model)
    targets = torch.as_tensor(list(classes), dtype=torch.long, device=device)
    raw = torch.zeros((len(targets), *shape), device=device, requires_grad=True)
    optimizer = torch.optim.Adam([raw], lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    was_training = model.training
    model.eval()
    try:
        for _ in range(config.steps):
            images = torch.sigmoid(raw)
            loss = _objective(model, images, targets, config=config, generator=generator)
            (raw.grad,) = torch.autograd.grad(loss, raw)
            optimizer.step()
    finally:
        model.train(was_training)
    return torch.sigmoid(raw.detach()).cpu()


def maximize_class(
    model: nn.Module,
    target: int,
    config: ActMaxConfig | None = None,
    *,
    shape: tuple[int, ...] = (1, 28, 28),
) -> torch.Tensor:
    """The image ``shape`` in [0, 1] that maximizes output ``target`` (see ``maximize_classes``)."""
    return maximize_classes(model, [target], config, shape=shape)[0]


@dataclass(frozen=True)
class ActMaxGrid:
    """Maximizing images of several nets: ``images[i, c]`` excites net ``names[i]``'s class c."""

    names: list[str]
    classes: list[int]
    images: np.ndarray  # (nets, classes, h, w), or (nets, classes, h, w, 3) in colour
    logits: np.ndarray  # (nets, classes): the target logit of the final image


def _target_logits(model: nn.Module, images: torch.Tensor, classes: list[int]) -> np.ndarray:
    logits = predict_logits(model, images)
    return logits[torch.arange(len(classes)), torch.tensor(classes)].numpy()


def activation_grid(
    models: dict[str, nn.Module],
    config: ActMaxConfig | None = None,
    classes: Iterable[int] = range(10),
    *,
    shape: tuple[int, ...] = (1, 28, 28),
) -> ActMaxGrid:
    """Maximize each of ``classes`` for every net (one row per net, one column per class) on
    images of ``shape`` ``(c, h, w)``."""
    from nndl.viz._mpl import as_pictures

    wanted = list(classes)
    images, logits = [], []
    for model in models.values():
        found = maximize_classes(model, wanted, config, shape=shape)
        images.append(as_pictures(found))
        logits.append(_target_logits(model, found, wanted))
    return ActMaxGrid(list(models), wanted, np.stack(images), np.stack(logits))


def plot_activation_grid(grid: ActMaxGrid, class_names: Sequence[str] = ()) -> Any:
    """One row per net, one column per class: gray images, the target logit under each."""
    from nndl.viz._mpl import subplots

    rows, cols = grid.images.shape[:2]
    fig, axes = subplots(rows, cols, figsize=(1.3 * cols, 1.5 * rows), squeeze=False)
    for i, name in enumerate(grid.names):
        for j, cls in enumerate(grid.classes):
            ax = axes[i, j]
            ax.imshow(grid.images[i, j], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"{grid.logits[i, j]:.1f}", fontsize=7)
            if i == 0:
                title = class_names[cls] if cls < len(class_names) else str(cls)
                ax.set_title(title, fontsize=10 if len(title) <= 2 else 6)
        axes[i, 0].set_ylabel(name, fontsize=10)
    fig.suptitle("Inputs maximizing each output neuron (logit below)")
    fig.tight_layout()
    return fig
