"""Image data: what augmentation costs per epoch, and image folders against IDX files.

- Augmentation: one epoch of the report's DCNN on Fashion-MNIST's 60,000 training images
  (batch 256, no validation), without augmentation and with crop, flip and erase, alternated
  (goal: at most 1.15x).
- Folders: Fashion-MNIST's 70,000 images written as PNG class folders, decoded the first time
  and read from the cache the second (seconds); one epoch from the folder's arrays against one
  from the IDX files' (goal: at most 1.05x).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from _common import alternate, machine, record
from nndl.data.tensors import TensorData, images_to_tensor
from nndl.training.config import TrainConfig
from nndl.training.evolver import Evolver

FASHION = "/usr/share/datasets/fashion-mnist"


def epoch(data: TensorData, transform: Any = None) -> None:
    """One epoch of the DCNN on ``data`` (no validation)."""
    from nndl.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("dcnn")
    config = TrainConfig(max_epochs=1, batch_size=256, val_fraction=0.0, seed=0)
    Evolver(model, config, batch_transform=transform).fit(data)


def write_png_folders(root: Path) -> None:
    from PIL import Image

    from nndl.data.mnist import load_mnist

    data = load_mnist(FASHION)
    for split, images, labels in (
        ("train", data.train_images, data.train_labels),
        ("test", data.test_images, data.test_labels),
    ):
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / f"class{label}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:05d}.png")


def folders(repeats: int) -> dict[str, float]:
    """Decode (first run), cache (second run), and an epoch from each source."""
    import os

    from nndl.data.folders import FolderOptions, load_image_folder
    from nndl.data.mnist import load_mnist

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NNDL_DATA"] = tmp
        write_png_folders(Path(tmp) / "fashion")
        for name in ("decode_first_run_s", "cached_run_s"):
            start = time.perf_counter()
            images = load_image_folder(Path(tmp) / "fashion", FolderOptions())
            out[name] = time.perf_counter() - start
    idx = load_mnist(FASHION)
    sources = {
        "idx": TensorData(
            images_to_tensor(idx.train_images), torch.from_numpy(idx.train_labels).long()
        ),
        "folder": TensorData(
            images_to_tensor(images.train_images), torch.from_numpy(images.train_labels)
        ),
    }
    times = alternate({k: (lambda d=d: epoch(d)) for k, d in sources.items()}, repeats)
    out.update({f"epoch_{k}_s": v for k, v in times.items()})
    out["folder_over_idx"] = times["folder"] / times["idx"]
    return out


def augmentation(repeats: int) -> dict[str, float]:
    from nndl.data.augment import Augment
    from nndl.data.mnist import load_mnist

    idx = load_mnist(FASHION)
    data = TensorData(images_to_tensor(idx.train_images), torch.from_numpy(idx.train_labels).long())
    runs = {
        "plain": lambda: epoch(data),
        "augmented": lambda: epoch(data, Augment(("crop", "flip", "erase"), seed=0, padding=3)),
    }
    times = alternate(runs, repeats)
    return {
        **{f"epoch_{k}_s": v for k, v in times.items()},
        "ratio": times["augmented"] / times["plain"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--part", choices=("augment", "folders", "both"), default="both")
    args = parser.parse_args()
    entry: dict[str, Any] = {}
    if args.part in ("augment", "both"):
        entry["augmentation"] = augmentation(args.repeats)
        print("augmentation:", entry["augmentation"], flush=True)
    if args.part in ("folders", "both"):
        entry["folders"] = folders(args.repeats)
        print("folders:", entry["folders"], flush=True)
    record("image_data", entry)
    print(machine())


if __name__ == "__main__":
    main()
