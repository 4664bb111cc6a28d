"""nndl's in-memory batches vs a per-sample pipeline, and the peak memory of a DCNN run.

1. Per-sample pipeline: a map-style Dataset whose ``__getitem__`` turns one uint8 image into
   a PIL image and then a tensor (what torchvision's MNIST with ``ToTensor`` does, and how the
   original study fed MNIST), through a ``DataLoader``; same DCNN, Adam, batch 256. One
   training epoch each, alternating; medians. Target: nndl at least 2x faster.
2. Peak RSS of ``nndl classify train --arch dcnn`` (3 epochs, a child process). Target: <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import copy
import resource
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from _common import alternate, machine, record
from nndl.data.mnist import load_mnist
from nndl.data.tensors import TensorData, images_to_tensor
from nndl.models import create_model
from nndl.training import Evolver, TrainConfig

SPEED_TARGET, RSS_TARGET_MB = 2.0, 1536


class PerSampleMNIST(Dataset[tuple[torch.Tensor, int]]):
    """One image at a time: uint8 -> PIL -> float tensor in [0, 1], as ToTensor does."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = Image.fromarray(self.images[i], mode="L")
        x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).float().div(255).unsqueeze(0)
        return x, int(self.labels[i])


def per_sample_epoch(
    model: torch.nn.Module, opt: torch.optim.Optimizer, loader: DataLoader
) -> None:
    model.train()
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def speed(repeats: int) -> dict[str, object]:
    mnist = load_mnist()
    images, labels = mnist.train_images[:48000], mnist.train_labels[:48000]
    train = TensorData(images_to_tensor(images), torch.from_numpy(labels).long())
    torch.manual_seed(0)
    base = create_model("dcnn")
    evolver = Evolver(
        copy.deepcopy(base), TrainConfig(lr=1e-3, weight_decay=1e-4, max_epochs=1, patience=None)
    )
    theirs = copy.deepcopy(base)
    opt = torch.optim.Adam(theirs.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = DataLoader(PerSampleMNIST(images, labels), batch_size=256, shuffle=True)
    medians = alternate({"nndl": lambda: evolver.fit(train), "per_sample": lambda: per_sample_epoch(theirs, opt, loader)},
                        repeats)  # fmt: skip
    return {"seconds_per_epoch": medians, "speedup": medians["per_sample"] / medians["nndl"]}


def peak_rss_mb() -> float:
    cmd = [sys.executable, "-m", "nndl", "classify", "train", "--arch", "dcnn", "--epochs", "3", "--quiet",
           "--out", "/tmp/nndl-bench-rss"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    s, rss = speed(args.repeats), peak_rss_mb()
    record(
        "in_memory_vs_per_sample_pipeline",
        {**s, "target": f">= {SPEED_TARGET}x", "met": s["speedup"] >= SPEED_TARGET},
    )
    record(
        "peak_rss_classify_train_dcnn",
        {"mb": rss, "target": f"<= {RSS_TARGET_MB} MB", "met": rss <= RSS_TARGET_MB},
    )
    e = s["seconds_per_epoch"]
    print(f"machine: {machine()}")
    print("| benchmark | nndl | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| DCNN epoch: in-memory batches vs per-sample PIL Dataset + DataLoader, s | {e['nndl']:.2f} | "  # type: ignore[index]
          f"{e['per_sample']:.2f} | {s['speedup']:.1f}x faster | >= {SPEED_TARGET}x |")  # type: ignore[index]  # fmt: skip
    print(
        f"| peak RSS of `nndl classify train --arch dcnn`, MB | {rss:.0f} | - | - | <= {RSS_TARGET_MB} |"
    )


if __name__ == "__main__":
    main()
