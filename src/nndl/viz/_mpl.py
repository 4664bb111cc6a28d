"""Figures as ``matplotlib.figure.Figure`` objects, saved atomically as PNG.

No backend is chosen and pyplot is not used, so importing nndl changes nothing in the process:
scripts and servers need no display, and a notebook still shows a returned figure inline
(matplotlib's own advice for libraries).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from nndl._io import atomic_path

__all__ = ["colormap", "save_figure", "subplots"]


def subplots(
    *args: Any, figsize: tuple[float, float] | None = None, layout: Any = None, **kwargs: Any
) -> Any:
    """``(figure, axes)`` as ``pyplot.subplots`` returns them, on a pyplot-free Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(*args, **kwargs)


def colormap(name: str) -> Any:
    """A registered colormap by name."""
    import matplotlib

    return matplotlib.colormaps[name]


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Save ``fig`` as PNG atomically (and close it if pyplot made it, as Optuna's plots do)."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:  # a no-op for a Figure that pyplot does not manage
            pyplot.close(fig)


def as_pictures(images: Any) -> Any:
    """Images ``(k, c, h, w)`` (a tensor or array in [0, 1]) as matplotlib shows them: ``(k, h,
    w)`` for one channel (drawn with a grey colormap), ``(k, h, w, 3)`` for colour."""
    import numpy as np

    array = np.asarray(images.detach().cpu().numpy() if hasattr(images, "detach") else images)
    return array[:, 0] if array.shape[1] == 1 else array.transpose(0, 2, 3, 1).clip(0.0, 1.0)
