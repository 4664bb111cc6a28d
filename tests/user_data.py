"""Real tabular data a new user would bring, written as CSV files (scikit-learn's bundled
tables: no download)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
# CI installs the package and sets NNDL_REQUIRE_FASHION: there these tests must run
needs_fashion = pytest.mark.skipif(
    not FASHION_DIR.is_dir() and not os.environ.get("NNDL_REQUIRE_FASHION"),
    reason="Debian's dataset-fashion-mnist is not installed (CI installs it)",
)
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def diabetes_csvs(folder: Path) -> tuple[Path, Path]:
    """scikit-learn's diabetes table (10 input columns, target ``progression``): 342 + 100 rows."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes()
    header = [*bunch.feature_names, "progression"]
    rows = [[*x, y] for x, y in zip(bunch.data.tolist(), bunch.target.tolist(), strict=True)]
    order = np.random.default_rng(0).permutation(len(rows))
    rows = [rows[i] for i in order]
    return (
        _write(folder / "diabetes_train.csv", header, rows[:342]),
        _write(folder / "diabetes_test.csv", header, rows[342:]),
    )


def iris_csvs(folder: Path) -> tuple[Path, Path]:
    """scikit-learn's iris table with the species as strings: 120 + 30 rows."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    header = [*(n.replace(" (cm)", "").replace(" ", "_") for n in bunch.feature_names), "species"]
    names = bunch.target_names
    rows = [[*x, names[t]] for x, t in zip(bunch.data.tolist(), bunch.target, strict=True)]
    order = np.random.default_rng(0).permutation(len(rows))
    rows = [rows[i] for i in order]
    return (
        _write(folder / "iris_train.csv", header, rows[:120]),
        _write(folder / "iris_test.csv", header, rows[120:]),
    )


def fashion_names(folder: Path) -> Path:
    """Fashion-MNIST's class names, one per line."""
    path = folder / "fashion_classes.txt"
    path.write_text("\n".join(FASHION_CLASSES) + "\n")
    return path
