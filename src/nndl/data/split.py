"""Seeded index splits: a train/validation split by fraction and k folds."""

from __future__ import annotations

import numpy as np

from nndl.errors import ConfigError

__all__ = ["kfold_indices", "stratified_kfold_indices", "train_val_split"]


def train_val_split(n: int, val_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed``; the last ``round(n * val_fraction)`` are validation.

    Raises:
        ConfigError: when either part would be empty.
    """
    n_val = round(n * val_fraction)
    if n_val < 1 or n - n_val < 1:
        raise ConfigError(
            "split",
            [
                f"val_fraction {val_fraction} of {n} rows leaves {n - n_val} for training and "
                f"{n_val} for validation; both need at least 1 row"
            ],
        )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[: n - n_val]), np.sort(perm[n - n_val :])


def kfold_indices(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, validation) index pairs; validation parts are disjoint and cover ``range(n)``.

    The same partition as scikit-learn's ``KFold(k, shuffle=True)`` up to which rows are
    drawn: kept because the regression study's published numbers come from these folds.

    Raises:
        ConfigError: when ``k < 2`` or there are fewer rows than folds.
    """
    if k < 2 or n < k:
        raise ConfigError("k-fold", [f"k = {k} folds of {n} rows: need 2 <= k <= {n}"])
    perm = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(perm, k)
    return [
        (np.sort(np.concatenate(parts[:i] + parts[i + 1 :])), np.sort(part))
        for i, part in enumerate(parts)
    ]


def stratified_kfold_indices(
    labels: np.ndarray, k: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, validation) index pairs with every class in each fold in its share
    (scikit-learn's ``StratifiedKFold``, shuffled with ``seed``).

    Raises:
        ConfigError: when ``k < 2`` or there are fewer rows than folds.
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if k < 2 or len(labels) < k:
        raise ConfigError(
            "k-fold", [f"k = {k} folds of {len(labels)} rows: need 2 <= k <= {len(labels)}"]
        )
    folds = StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels)
    return [(np.sort(t), np.sort(v)) for t, v in folds]
