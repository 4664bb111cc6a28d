"""Classification figures: class probabilities per image (Figure 4), the CNN's feature maps
and feature space (Figure 7), the FCN's first-layer weights (Figure 8), confusion matrices."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nndl.evaluation.ood import predict_logits
from nndl.viz.probabilities import (
    ClassProbs,
    class_name,
    class_probabilities,
    plot_class_probabilities,
)

__all__ = [
    "ClassProbs",
    "Embedding",
    "class_probabilities",
    "embedding",
    "feature_maps",
    "first_layer_weights",
    "penultimate_features",
    "plot_class_probabilities",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_feature_maps",
    "plot_first_layer_weights",
]


@torch.inference_mode()
def feature_maps(cnn: nn.Module, image: torch.Tensor) -> list[np.ndarray]:
    """The activation after each conv layer of any net, for one image (found by forward hooks
    on the module that follows each ``nn.Conv2d``, so no attribute names are assumed).

    Args:
        cnn: a net with ``nn.Conv2d`` layers.
        image: one image, ``(1, h, w)`` or ``(1, 1, h, w)``.

    Returns:
        One ``(channels, h, w)`` array per conv layer.
    """
    modules = list(cnn.modules())
    targets = [
        modules[i + 1] if i + 1 < len(modules) and _is_activation(modules[i + 1]) else m
        for i, m in enumerate(modules)
        if isinstance(m, nn.Conv2d)
    ]
    maps: list[np.ndarray] = []
    hooks = [
        t.register_forward_hook(lambda _m, _i, out: maps.append(out[0].float().cpu().numpy()))
        for t in targets
    ]
    was_training = cnn.training
    cnn.eval()
    try:
        cnn(image.reshape(1, *image.shape[-3:]).to(next(cnn.parameters()).device))
    finally:
        cnn.train(was_training)
        for hook in hooks:
            hook.remove()
    return maps


def _is_activation(module: nn.Module) -> bool:
    """A layer without parameters or children (ReLU, Tanh, ...) right after a conv."""
    return not list(module.children()) and not list(module.parameters())


def plot_feature_maps(maps: list[np.ndarray], max_channels: int = 16) -> Any:
    """One row per conv layer, its first ``max_channels`` channels side by side."""
    from nndl.viz._mpl import subplots

    cols = min(max_channels, max(len(m) for m in maps))
    fig, axes = subplots(len(maps), cols, figsize=(1.1 * cols, 1.3 * len(maps)), squeeze=False)
    for i, layer in enumerate(maps):
        for j, ax in enumerate(axes[i]):
            ax.axis("off")
            if j < min(len(layer), cols):
                ax.imshow(layer[j], cmap="viridis")
        axes[i, 0].set_title(
            f"conv {i + 1}: {layer.shape[0]} x {layer.shape[1]}x{layer.shape[2]}",
            fontsize=8,
            loc="left",
        )
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Embedding:
    """2-D coordinates of each image's penultimate features, with its label."""

    points: np.ndarray  # (n, 2)
    labels: np.ndarray  # (n,)
    method: str
    explained_variance_ratio: np.ndarray | None = None  # PCA only


class _Penultimate(nn.Module):
    """What enters ``model``'s last linear layer (its head), caught by a hook: any net works."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self._head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1:]
        if not self._head:
            raise ValueError(f"{type(model).__name__} has no linear layer to take features before")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seen: list[torch.Tensor] = []
        hook = self._head[0].register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
        try:
            self.model(x)
        finally:
            hook.remove()
        return seen[-1].flatten(1)


def penultimate_features(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The input of the net's last linear layer (for nndl's nets: ``body(features(x))``)."""
    return predict_logits(_Penultimate(model), images)


def _pca(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Projection on the first two principal axes and their shares of the variance, padded
    with zeros for a 1-feature net (scikit-learn signs each axis: from 1.5 on, so that its
    largest loading is positive)."""
    from sklearn.decomposition import PCA

    x = features.double().numpy()
    pca = PCA(min(2, *x.shape), svd_solver="full")
    with np.errstate(invalid="ignore"):  # constant features: no variance to share
        points = pca.fit_transform(x)
    ratio = np.nan_to_num(pca.explained_variance_ratio_)
    pad = 2 - points.shape[1]
    return np.pad(points, ((0, 0), (0, pad))), np.pad(ratio, (0, pad))


def _tsne(features: torch.Tensor) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(30.0, max(1.0, (len(features) - 1) / 3))
    tsne = TSNE(2, init="pca", random_state=0, perplexity=perplexity)
    return np.asarray(tsne.fit_transform(features.double().numpy()))


def embedding(
    cnn: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, method: str = "pca"
) -> Embedding:
    """Penultimate features of ``images`` projected to 2-D by scikit-learn's ``pca`` or ``tsne``.

    The PCA is deterministic (scikit-learn fixes the sign of each axis).
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"unknown embedding method {method!r}: use 'pca' or 'tsne'")
    if len(images) < 2:
        raise ValueError("embedding needs at least 2 images")
    features = penultimate_features(cnn, images)
    label_array = labels.reshape(-1).cpu().numpy()
    if method == "tsne":
        return Embedding(_tsne(features), label_array, method)
    points, ratio = _pca(features)
    return Embedding(points, label_array, method, ratio)


def plot_embedding(emb: Embedding, title: str = "") -> Any:
    """Scatter of the 2-D features, one colour per class, with a legend."""
    from nndl.viz._mpl import colormap, subplots

    fig, ax = subplots(figsize=(6.5, 5.5))
    cmap = colormap("tab10" if emb.labels.max(initial=0) < 10 else "tab20")
    for c in np.unique(emb.labels):
        pts = emb.points[emb.labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, color=cmap(int(c)), label=class_name(int(c)))
    ax.set_xlabel(_axis_label(emb, 0))
    ax.set_ylabel(_axis_label(emb, 1))
    ax.set_title(title or f"Penultimate features ({emb.method.upper()})")
    ax.legend(markerscale=3, fontsize=8, title="class")
    fig.tight_layout()
    return fig


def _axis_label(emb: Embedding, i: int) -> str:
    if emb.explained_variance_ratio is None:
        return f"{emb.method} {i + 1}"
    return f"PC {i + 1} ({100 * emb.explained_variance_ratio[i]:.0f}% of variance)"


def first_layer_weights(fcn: nn.Module, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The first linear layer's weights as images ``(hidden, h, w)`` (28x28 for MNIST): for
    inputs of ``shape`` ``(c, h, w)`` (default: one square channel), averaged over channels."""
    linear = next(m for m in fcn.modules() if isinstance(m, nn.Linear))
    weights = linear.weight.detach().float().cpu().numpy()
    if shape is None:
        side = math.isqrt(weights.shape[1])
        shape = (1, side, side)
    if math.prod(shape) != weights.shape[1]:
        raise ValueError(f"first layer has {weights.shape[1]} inputs, not images of {shape}")
    return weights.reshape(-1, *shape).mean(axis=1)


def plot_first_layer_weights(w: np.ndarray, max_units: int = 128) -> Any:
    """A grid of the first ``max_units`` units' weight images, one colour scale centred on 0."""
    from nndl.viz._mpl import subplots

    units = w[:max_units]
    cols = min(16, len(units))
    rows = math.ceil(len(units) / cols)
    limit = float(np.abs(units).max()) or 1.0
    fig, axes = subplots(
        rows, cols, figsize=(0.9 * cols + 1, 0.9 * rows + 0.6), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, unit in zip(axes.flat, units, strict=False):
        image = ax.imshow(unit, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    fig.suptitle(f"First-layer weights of {len(units)} hidden units")
    return fig


def plot_confusion_matrix(
    cm: torch.Tensor, class_names: Sequence[str] | None = None, normalize: bool = True
) -> Any:
    """Counts annotated in each cell; colours are row shares (``normalize``) or counts."""
    from nndl.viz._mpl import subplots

    counts = cm.detach().cpu().numpy()
    n = len(counts)
    names = list(class_names) if class_names is not None else [class_name(c) for c in range(n)]
    rows = counts.sum(axis=1, keepdims=True)
    colours = counts / np.maximum(rows, 1) if normalize else counts
    fig, ax = subplots(figsize=(0.6 * n + 2, 0.6 * n + 1.5))
    image = ax.imshow(colours, cmap="Blues")
    threshold = colours.max() / 2
    style = {"ha": "center", "va": "center", "fontsize": 7}
    for (i, j), count in np.ndenumerate(counts):
        colour = "white" if colours[i, j] > threshold else "black"
        ax.text(j, i, str(count), color=colour, **style)
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="share of the true class" if normalize else "count")
    fig.tight_layout()
    return fig
