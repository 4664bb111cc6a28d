"""The tasks' data as tensors: train / validation / test, with where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nndl.data.split import train_val_split
from nndl.data.tensors import TensorData, images_to_tensor

__all__ = [
    "TaskData",
    "mnist_task_data",
    "mnist_training_set",
    "regression_points",
    "regression_task_data",
]


@dataclass
class TaskData:
    """A task's three parts as in-memory tensors, and a description of their sources."""

    train: TensorData
    val: TensorData
    test: TensorData
    info: dict[str, Any] = field(default_factory=dict)


def mnist_training_set(data_dir: str | Path | None = None, limit: int | None = None) -> TensorData:
    """The MNIST training images ``(n, 1, 28, 28)`` in [0, 1] with their labels (the first ``limit``)."""
    from nndl.data.mnist import load_mnist

    mnist = load_mnist(data_dir)
    images, labels = mnist.train_images[:limit], mnist.train_labels[:limit]
    return TensorData(images_to_tensor(images), torch.from_numpy(labels).long())


def mnist_task_data(
    data_dir: str | Path | None = None,
    val_fraction: float = 0.2,
    split_seed: int = 0,
    *,
    limit: int | None = None,
) -> TaskData:
    """MNIST scaled to [0, 1], shape ``(n, 1, 28, 28)``; a seeded validation split.

    ``limit`` keeps only the first training images (for smoke runs); the test set is whole.
    """
    from nndl.data.mnist import load_mnist

    mnist = load_mnist(data_dir)
    full = TensorData(
        images_to_tensor(mnist.train_images[:limit]),
        torch.from_numpy(mnist.train_labels[:limit]).long(),
    )
    test = TensorData(
        images_to_tensor(mnist.test_images), torch.from_numpy(mnist.test_labels).long()
    )
    train_idx, val_idx = train_val_split(len(full), val_fraction, split_seed)
    info = {"source": mnist.source, "verified": mnist.verified, "split_seed": split_seed}
    return TaskData(full.subset(train_idx), full.subset(val_idx), test, info)


def regression_points(
    train_csv: str | Path | None = None, test_csv: str | Path | None = None
) -> tuple[TensorData, TensorData, dict[str, Any]]:
    """All training points and the test points as ``(n, 1)`` float tensors, and their sources.

    Both files or neither: without them, the built-in default data.
    """
    from nndl.data.regression import RegressionData, check_csv_pair, default_data, load_csv

    check_csv_pair(train_csv, test_csv)
    if train_csv is not None and test_csv is not None:
        train, test = load_csv(train_csv), load_csv(test_csv)
    else:
        train, test = default_data()

    def tensors(d: RegressionData) -> TensorData:
        return TensorData(
            torch.from_numpy(d.x).reshape(-1, 1), torch.from_numpy(d.y).reshape(-1, 1)
        )

    return tensors(train), tensors(test), {"train_csv": train.source, "test_csv": test.source}


def regression_task_data(
    train_csv: str | Path | None = None,
    test_csv: str | Path | None = None,
    val_fraction: float = 0.1,
    *,
    split_seed: int = 0,
) -> TaskData:
    """The training points split into train/validation by a seeded fraction, and the test points."""
    full, test, info = regression_points(train_csv, test_csv)
    train_idx, val_idx = train_val_split(len(full), val_fraction, split_seed)
    return TaskData(
        full.subset(train_idx), full.subset(val_idx), test, {**info, "split_seed": split_seed}
    )
