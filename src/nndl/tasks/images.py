"""Image classification: MNIST by default (verified against the official hashes), any other
IDX image set such as Fashion-MNIST with its own classes and names, or a folder of images in
one subfolder per class (:mod:`nndl.data.folders`: PNG, JPEG, ...; colour or grey; any size).

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


BATCH_OPTIONS = frozenset({"augment", "noise_class_rate"})
"""Options that change training batches only, never the images read."""


@register_task
@dataclass(frozen=True)
class ImageTask(Task):
    """Classification of ``(1, h, h)`` images scaled to [0, 1]; cross-entropy, accuracy."""

    name: ClassVar[str] = "images"
    family: ClassVar[str] = "images"
    loss: ClassVar[str] = "cross_entropy"
    metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy")
    val_fraction: ClassVar[float] = 0.2
    default_arch: ClassVar[str] = "dcnn"
    figures: ClassVar[tuple[str, ...]] = ("loss_curves", "confusion_matrix", "probabilities")

    data_dir: str | None = None
    class_names_file: str | None = None
    noise_class_rate: float = 0.0
    color_mode: str = "auto"  # image folders: auto (from the files), rgb or grayscale
    image_size: int | None = None  # image folders: the side; default the most common size
    test_fraction: float = 0.2  # image folders without train/ and test/: held out, seed 0
    cache: bool = True  # image folders: keep the decoded arrays in the cache
    augment: tuple[str, ...] = ()  # training batches: crop, flip, erase (nndl.data.augment)

    def __post_init__(self) -> None:
        if not 0.0 <= self.noise_class_rate < 1.0:
            raise UsageError(f"noise_class_rate = {self.noise_class_rate}: must be in [0, 1)")
        from nndl.data.augment import AUGMENTATIONS

        object.__setattr__(self, "augment", tuple(self.augment))
        unknown = [a for a in self.augment if a not in AUGMENTATIONS]
        if unknown:
            raise UsageError(f"augment {unknown[0]!r}: valid: {', '.join(AUGMENTATIONS)}")

    @property
    def is_folder(self) -> bool:
        """Whether ``data_dir`` holds class folders of images (else IDX files)."""
        from nndl.data.folders import is_image_folder

        return self.data_dir is not None and is_image_folder(self.data_dir)

    def with_options(self, **options: Any) -> Task:
        """This task with some options changed; options that leave the images as they are
        (the augmentation, the noise class) share the images already read."""
        task = super().with_options(**options)
        if set(options) <= BATCH_OPTIONS and "image_set" in self.__dict__:
            task.__dict__["image_set"] = self.image_set  # functools.cached_property's slot
        return task

    @cached_property
    def image_set(self) -> Any:
        """The four arrays (:class:`nndl.data.mnist.MNIST` or :class:`nndl.data.folders.ImageSet`)."""
        from nndl.data.mnist import load_mnist

        if self.is_folder:
            from nndl.data.folders import FolderOptions, load_image_folder

            options = FolderOptions(
                self.color_mode, self.image_size, self.test_fraction, cache=self.cache
            )
            return load_image_folder(str(self.data_dir), options)
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
        return bool(self.image_set.verified)

    @cached_property
    def data_classes(self) -> tuple[str, ...]:
        """Names of the data's own classes: the names file, digits for MNIST, else class N."""
        if self.is_folder:
            return tuple(self.image_set.classes)
        count = int(self.image_set.train_labels.max()) + 1
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
        images = self.image_set.train_images  # (n, h, w) from IDX files, (n, c, h, w) folders
        shape = images.shape[1:] if images.ndim == 4 else (1, *images.shape[1:])
        return tuple(int(v) for v in shape), len(self.class_names)

    def checkpoint_extra(self) -> dict[str, Any]:
        """Raw images ``(n, h, w)`` of uint8 values, divided by 255 as :meth:`points` does."""
        from nndl.data.scaling import Scaling

        channels, side, width = self.shapes()[0]
        shape = [side, width] if self.image_set.train_images.ndim == 3 else [channels, side, width]
        return {
            **super().checkpoint_extra(),
            "input_shape": shape,
            "scaling": Scaling((0.0,), (255.0,), 0.0, 1.0).to_dict(),
        }

    def check(self) -> None:
        if self.class_names_file is not None:
            check_readable_file(self.class_names_file, "--class-names", 1 << 20)
        self.shapes()

    def points(self, limit: int | None = None) -> tuple[Any, Any]:
        import torch

        from nndl.data.tensors import TensorData, images_to_tensor

        m = self.image_set
        full = TensorData(
            images_to_tensor(m.train_images[:limit]),
            torch.from_numpy(m.train_labels[:limit]).long(),
        )
        test = TensorData(images_to_tensor(m.test_images), torch.from_numpy(m.test_labels).long())
        return full, test

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "source": self.image_set.source,
            "verified": self.image_set.verified,
        }
        if not self.is_mnist:  # MNIST's record stays as it always was
            info.update(task=self.name, dataset=self.dataset, classes=list(self.class_names))
        if getattr(self.image_set, "held_out", False):
            info["held_out_test"] = {"fraction": self.test_fraction, "seed": 0, "stratified": True}
        if self.is_folder:
            info["input_shape"] = list(self.shapes()[0])
        return info

    def batch_transform(self, seed: int, device: Any) -> Any:
        """What changes each training batch: the augmentations (``augment``), then the extra
        class (Perlin noise images labelled as the last class, at the task's rate)."""
        steps = [self._augment(seed), self._noise_class(seed, device)]
        chosen = [step for step in steps if step is not None]
        if len(chosen) < 2:
            return chosen[0] if chosen else None

        def both(x: Any, y: Any) -> tuple[Any, Any]:
            return chosen[1](*chosen[0](x, y))

        return both

    def _augment(self, seed: int) -> Any:
        if not self.augment:
            return None
        from nndl.data.augment import Augment

        side = self.shapes()[0][1]
        return Augment(tuple(self.augment), seed=seed, padding=max(1, side // 8))

    def _noise_class(self, seed: int, device: Any) -> Any:
        if not self.noise_class_rate:
            return None
        from nndl.data.perlin import NotADigit, PerlinNoise

        noise = PerlinNoise(seed=seed, device=device, size=self.shapes()[0][1])
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
