"""Image classification from IDX files: MNIST by default (verified against the official
hashes), or any other IDX image set such as Fashion-MNIST with its own classes and names.

An option adds an extra "none of these" class: a share ``noise_class_rate`` of the training
images is replaced by Perlin noise labelled as the last class (the report's PDCNN, p = 0.09).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nndl._inputs import check_readable_file, read_bytes
from nndl.errors import DataError, UsageError
from nndl.tasks.base import Task, register_task

__all__ = ["ImageTask", "MNISTTask"]

NOISE_CLASS = "none of these"
MNIST_NOISE_CLASS = "not a digit"


@register_task
@dataclass(frozen=True)
class ImageTask(Task):
    """Classification of ``(1, h, h)`` images scaled to [0, 1]; cross-entropy, accuracy."""

    name: ClassVar[str] = "images"
    family: ClassVar[str] = "mnist"
    loss: ClassVar[str] = "cross_entropy"
    metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy")
    val_fraction: ClassVar[float] = 0.2
    default_arch: ClassVar[str] = "dcnn"
    figures: ClassVar[tuple[str, ...]] = ("loss_curves", "confusion_matrix", "probabilities")

    data_dir: str | None = None
    class_names_file: str | None = None
    noise_class_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.noise_class_rate < 1.0:
            raise UsageError(f"noise_class_rate = {self.noise_class_rate}: must be in [0, 1)")

    @cached_property
    def mnist(self) -> Any:
        """The four arrays (:class:`nndl.data.mnist.MNIST`)."""
        from nndl.data.mnist import load_mnist

        data = load_mnist(self.data_dir)
        classes = int(data.train_labels.max()) + 1
        empty = np.setdiff1d(np.arange(classes), data.train_labels)
        if empty.size:
            raise DataError(
                f"{self.data_dir}: the training labels run 0-{classes - 1} but {empty.size} of "
                f"those classes have no image ({', '.join(map(str, empty[:5]))}"
                f"{', ...' if empty.size > 5 else ''}); labels must be 0 to K-1, each present"
            )
        if data.test_labels.size and int(data.test_labels.max()) >= classes:
            raise DataError(
                f"{self.data_dir}: test label {int(data.test_labels.max())} never occurs in the "
                f"training labels (0-{classes - 1})"
            )
        return data

    @property
    def is_mnist(self) -> bool:
        """Whether the data is the official MNIST."""
        return bool(self.mnist.verified)

    @cached_property
    def data_classes(self) -> tuple[str, ...]:
        """Names of the data's own classes: the names file, digits for MNIST, else class N."""
        count = int(self.mnist.train_labels.max()) + 1
        if self.class_names_file is not None:
            return _read_names(self.class_names_file, count)
        if self.is_mnist or self.name == "mnist":
            return tuple(str(i) for i in range(10))
        return tuple(f"class {i}" for i in range(count))

    @property
    def class_names(self) -> tuple[str, ...]:
        if not self.noise_class_rate:
            return self.data_classes
        return (*self.data_classes, MNIST_NOISE_CLASS if self.is_mnist else NOISE_CLASS)

    @property
    def dataset(self) -> str:
        return "MNIST" if self.is_mnist else Path(str(self.data_dir)).name or str(self.data_dir)

    def shapes(self) -> tuple[tuple[int, ...], int]:
        side = int(self.mnist.train_images.shape[1])
        return (1, side, side), len(self.class_names)

    def checkpoint_extra(self) -> dict[str, Any]:
        """Raw images ``(n, h, w)`` of uint8 values, divided by 255 as :meth:`points` does."""
        from nndl.data.scaling import Scaling

        _, side, width = self.shapes()[0]
        return {
            **super().checkpoint_extra(),
            "input_shape": [side, width],
            "scaling": Scaling((0.0,), (255.0,), 0.0, 1.0).to_dict(),
        }

    def check(self) -> None:
        if self.class_names_file is not None:
            check_readable_file(self.class_names_file, "--class-names", 1 << 20)
        self.shapes()

    def points(self, limit: int | None = None) -> tuple[Any, Any]:
        import torch

        from nndl.data.tensors import TensorData, images_to_tensor

        m = self.mnist
        full = TensorData(
            images_to_tensor(m.train_images[:limit]),
            torch.from_numpy(m.train_labels[:limit]).long(),
        )
        test = TensorData(images_to_tensor(m.test_images), torch.from_numpy(m.test_labels).long())
        return full, test

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"source": self.mnist.source, "verified": self.mnist.verified}
        if not self.is_mnist:  # MNIST's record stays as it always was
            info.update(task=self.name, dataset=self.dataset, classes=list(self.class_names))
        return info

    def batch_transform(self, seed: int, device: Any) -> Any:
        """The extra class: Perlin noise images labelled as the last class, at the task's rate."""
        if not self.noise_class_rate:
            return None
        from nndl.data.perlin import NotADigit, PerlinNoise

        noise = PerlinNoise(seed=seed, device=device)
        label = len(self.class_names) - 1
        return NotADigit(noise, self.noise_class_rate, label=label, seed=seed)


@register_task
@dataclass(frozen=True)
class MNISTTask(ImageTask):
    """MNIST (the default image data): ``--task mnist``."""

    name: ClassVar[str] = "mnist"


def _read_names(path: str, count: int) -> tuple[str, ...]:
    """One class name per line (blank lines ignored); exactly ``count`` of them."""
    try:
        text = read_bytes(path, "--class-names", 1 << 20).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"--class-names {path}: not UTF-8 text") from None
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != count or len(set(names)) != count:
        raise DataError(
            f"--class-names {path}: {len(names)} distinct name(s), expected {count} (one per "
            "line, one per label of the data)"
        )
    return names
