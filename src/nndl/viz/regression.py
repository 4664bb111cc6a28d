"""Regression figures: the fit with its data points (and the fold ensemble's spread), the
weight histograms and the hidden activations of a net (the report's Figures 1-3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from nndl.data.tensors import TensorData
from nndl.viz.curves import LossCurves, plot_loss_curves

__all__ = [
    "FitData",
    "LayerView",
    "ParityData",
    "fit_data",
    "parity_data",
    "plot_fit",
    "plot_parity",
    "plot_run",
    "plot_weights_activations",
    "weights_and_activations",
]


@dataclass(frozen=True)
class FitData:
    """Predictions of one or more nets on a grid, and the points they were judged on."""

    grid: np.ndarray
    predictions: np.ndarray  # (nets, grid)
    best: int | None  # the net drawn as "net"; None: the nets' mean is the answer drawn
    points: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    references: dict[str, np.ndarray] = field(default_factory=dict)  # name -> grid predictions
    nets: str = "fold nets"  # what the band's nets are

    @property
    def mean(self) -> np.ndarray:
        return self.predictions.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        return self.predictions.std(axis=0)


@torch.inference_mode()
def _predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    out = model(torch.as_tensor(x, dtype=torch.float32, device=device).reshape(-1, 1))
    return out.reshape(-1).cpu().numpy()


def fit_data(
    models: list[nn.Module],
    points: dict[str, TensorData],
    best: int | None = 0,
    *,
    n: int = 400,
    references: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    nets: str = "fold nets",
) -> FitData:
    """Evaluate ``models`` (and each reference: grid -> predictions) on a grid spanning all
    ``points`` (named e.g. train/val/test)."""
    xs = np.concatenate([p.x.reshape(-1).numpy() for p in points.values()])
    margin = 0.05 * (xs.max() - xs.min())
    grid = np.linspace(xs.min() - margin, xs.max() + margin, n, dtype=np.float32)
    preds = np.stack([_predict(m, grid) for m in models])
    named = {k: (p.x.reshape(-1).numpy(), p.y.reshape(-1).numpy()) for k, p in points.items()}
    lines = {k: np.asarray(f(grid)).reshape(-1) for k, f in (references or {}).items()}
    return FitData(grid, preds, best, named, lines, nets)


_REFERENCE_STYLES = ({"color": "tab:purple", "ls": ":"}, {"color": "tab:brown", "ls": "-."})
_STYLE = {"train": ("tab:blue", "o"), "val": ("tab:green", "s"), "test": ("tab:red", "x")}


def plot_fit(fit: FitData, ax: Any, title: str = "") -> Any:
    """Data points, the chosen net, and (for several nets) their mean and a ±2 std band."""
    for name, (x, y) in fit.points.items():
        color, marker = _STYLE.get(name, ("gray", "."))
        ax.scatter(x, y, s=14, c=color, marker=marker, label=name, alpha=0.8)
    if len(fit.predictions) > 1:
        ax.fill_between(
            fit.grid,
            fit.mean - 2 * fit.std,
            fit.mean + 2 * fit.std,
            color="orange",
            alpha=0.25,
            label=f"{len(fit.predictions)} {fit.nets}: mean ± 2 std",
        )
    if fit.best is None:
        ax.plot(fit.grid, fit.mean, color="black", lw=2, label=f"mean of the {fit.nets}")
    else:
        if len(fit.predictions) > 1:
            ax.plot(fit.grid, fit.mean, color="orange", lw=1, ls="--")
        ax.plot(fit.grid, fit.predictions[fit.best], color="black", lw=2, label="net")
    for (name, line), style in zip(fit.references.items(), _REFERENCE_STYLES, strict=False):
        ax.plot(fit.grid, line, lw=1.2, label=name, **style)
    ax.set_xlabel("input")
    ax.set_ylabel("label")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


@dataclass(frozen=True)
class ParityData:
    """For data with several inputs: each part's true values and the chosen net's predictions."""

    points: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (true, predicted)


@torch.inference_mode()
def parity_data(
    models: list[nn.Module], points: dict[str, TensorData], best: int | None = 0
) -> ParityData:
    """Predictions of ``models[best]`` (``None``: the first, an ensemble) against the true
    values of every part of ``points``."""
    model = models[best or 0].eval()
    device = next(model.parameters()).device
    return ParityData(
        {
            name: (p.y.reshape(-1).numpy(), model(p.x.to(device)).reshape(-1).cpu().numpy())
            for name, p in points.items()
        }
    )


def plot_parity(parity: ParityData, ax: Any, title: str = "") -> Any:
    """Predicted against true values, with the diagonal where they would be equal."""
    for name, (true, pred) in parity.points.items():
        color, marker = _STYLE.get(name, ("gray", "."))
        ax.scatter(true, pred, s=14, c=color, marker=marker, label=name, alpha=0.8)
    values = np.concatenate([np.concatenate(v) for v in parity.points.values()])
    low, high = float(values.min()), float(values.max())
    ax.plot([low, high], [low, high], color="black", lw=1, ls="--", label="predicted = true")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_run(
    curves: LossCurves, fit: FitData | ParityData, title: str, *, fit_title: str | None = None
) -> Any:
    """(a) train and validation loss per epoch of ``title``, (b) the fit (1-D data) or predicted
    against true values (several inputs) of ``fit_title`` (default the same): Figures 1 and 2."""
    from nndl.viz._mpl import subplots

    fig, (ax_loss, ax_fit) = subplots(1, 2, figsize=(12, 4.5))
    plot_loss_curves(curves, title=f"(a) {title}: loss", ax=ax_loss)
    shown = fit_title or title
    if isinstance(fit, ParityData):
        plot_parity(fit, ax_fit, title=f"(b) {shown}: predicted vs true")
    else:
        plot_fit(fit, ax_fit, title=f"(b) {shown}: output")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class LayerView:
    """One linear layer's weights and, per probe input, the activations after it."""

    name: str
    weights: np.ndarray
    activations: dict[float, np.ndarray]


@torch.inference_mode()
def weights_and_activations(
    model: nn.Module, inputs: tuple[float, ...] = (-4.0, 2.0)
) -> list[LayerView]:
    """Per linear layer: its weights, and the activations it leads to for each input."""
    model.eval()
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    captured: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(linears))}
    hooks = [_capture_after(model, lin, captured[i]) for i, lin in enumerate(linears)]
    device = next(model.parameters()).device
    try:
        for x in inputs:
            model(torch.tensor([[x]], dtype=torch.float32, device=device))
    finally:
        for h in hooks:
            h.remove()
    return [
        LayerView(
            f"layer {i + 1}",
            lin.weight.detach().cpu().numpy().ravel(),
            {x: captured[i][j].reshape(-1).cpu().numpy() for j, x in enumerate(inputs)},
        )
        for i, lin in enumerate(linears)
    ]


def _capture_after(model: nn.Module, linear: nn.Linear, store: list[torch.Tensor]) -> Any:
    """Hook the module after ``linear`` in its Sequential (the activation), else the layer."""
    modules = list(model.modules())
    index = modules.index(linear)
    target = (
        modules[index + 1]
        if index + 1 < len(modules) and not isinstance(modules[index + 1], nn.Linear)
        else linear
    )
    return target.register_forward_hook(lambda _m, _i, out: store.append(out.detach()))


def plot_weights_activations(layers: list[LayerView]) -> Any:
    """Top row: weight histograms per layer; below: activations per probe input (Figure 3)."""
    from nndl.viz._mpl import subplots

    inputs = list(layers[0].activations)
    fig, axes = subplots(
        1 + len(inputs),
        len(layers),
        figsize=(3 * len(layers), 2.4 * (1 + len(inputs))),
        squeeze=False,
    )
    for j, layer in enumerate(layers):
        axes[0, j].hist(layer.weights, bins=40, color="tab:blue")
        axes[0, j].set_title(f"{layer.name} weights")
        for i, x in enumerate(inputs):
            act = layer.activations[x]
            axes[i + 1, j].bar(np.arange(len(act)), act, width=1.0, color="tab:orange")
            axes[i + 1, j].set_title(f"{layer.name}, x = {x:g}", fontsize=9)
    fig.tight_layout()
    return fig
