"""Headless matplotlib and atomic PNG saving."""

from __future__ import annotations

import os
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from nndl._io import atomic_path

__all__ = ["plt", "save_figure"]


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Save ``fig`` as PNG atomically and close it."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
