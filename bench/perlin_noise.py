"""Perlin noise and the PDCNN: nndl's batched torch noise vs the original's per-pixel
``noise.pnoise2`` (per image), and a PDCNN epoch vs a DCNN epoch on MNIST.

Targets: noise at least 50x faster per image; a PDCNN epoch at most 1.15x a DCNN epoch.
Needs the ``bench`` extra (``pip install -e '.[bench]'`` brings ``noise``).
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

import numpy as np
import torch

from _common import alternate, machine, record
from nndl.data.perlin import NotADigit, PerlinNoise
from nndl.experiments.datasets import mnist_task_data
from nndl.models import create_model
from nndl.training import Evolver, TrainConfig

NOISE_TARGET, EPOCH_TARGET = 50.0, 1.15


def pnoise_images(n: int, rng: np.random.Generator) -> np.ndarray:
    """The original's way: pnoise2 called for every pixel, then sigmoid(20 x)."""
    import noise

    out = np.empty((n, 28, 28), dtype=np.float32)
    for k in range(n):
        ox, oy = rng.uniform(0, 1024, size=2)
        for i in range(28):
            for j in range(28):
                v = noise.pnoise2(j / 28 + ox, i / 28 + oy, octaves=8, persistence=0.5, lacunarity=2.0,
                                  repeatx=1024, repeaty=1024)  # fmt: skip
                out[k, i, j] = 1 / (1 + np.exp(-20 * v))
    return out


def noise_speed(repeats: int) -> dict[str, Any]:
    """Per image: training's windows (field rebuilds included), independent images, pnoise2."""
    ours, rng = PerlinNoise(seed=0), np.random.default_rng(0)
    n_windows, n_ours, n_theirs = ours.field_uses // 23 * 23, 256, 16
    medians = alternate({
        "nndl_windows": lambda: [ours.windows(23) for _ in range(n_windows // 23)],
        "nndl_sample": lambda: ours.sample(n_ours),
        "pnoise2": lambda: pnoise_images(n_theirs, rng),
    }, repeats)  # fmt: skip
    per_image = {"nndl_windows": medians["nndl_windows"] / n_windows,
                 "nndl_sample": medians["nndl_sample"] / n_ours, "pnoise2": medians["pnoise2"] / n_theirs}  # fmt: skip
    return {"seconds_per_image": per_image, "speedup": per_image["pnoise2"] / per_image["nndl_windows"],
            "speedup_independent_images": per_image["pnoise2"] / per_image["nndl_sample"]}  # fmt: skip


def epoch_ratio(repeats: int) -> dict[str, Any]:
    data = mnist_task_data()
    config = TrainConfig(lr=1e-3, weight_decay=1e-4, batch_size=256, max_epochs=1, patience=None)
    torch.manual_seed(0)
    dcnn, pdcnn = create_model("dcnn"), create_model("pdcnn")
    noisy = NotADigit(PerlinNoise(seed=0), 0.09, label=10, seed=0)
    ev_d = Evolver(copy.deepcopy(dcnn), config)
    ev_p = Evolver(copy.deepcopy(pdcnn), config, batch_transform=noisy)
    medians = alternate({"dcnn": lambda: ev_d.fit(data.train, data.val),
                         "pdcnn": lambda: ev_p.fit(data.train, data.val)}, repeats)  # fmt: skip
    return {"seconds_per_epoch": medians, "ratio": medians["pdcnn"] / medians["dcnn"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    speed, epochs = noise_speed(args.repeats), epoch_ratio(args.repeats)
    record(
        "perlin_noise_vs_pnoise2",
        {**speed, "target": f">= {NOISE_TARGET}x", "met": speed["speedup"] >= NOISE_TARGET},
    )
    record(
        "pdcnn_vs_dcnn_epoch",
        {**epochs, "target": f"<= {EPOCH_TARGET}", "met": epochs["ratio"] <= EPOCH_TARGET},
    )
    print(f"machine: {machine()}")
    print("| benchmark | nndl | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    s, e = speed["seconds_per_image"], epochs["seconds_per_epoch"]
    print(f"| Perlin noise for training (windows), s/image vs per-pixel pnoise2 | {s['nndl_windows']:.2e} | "
          f"{s['pnoise2']:.2e} | {speed['speedup']:.0f}x faster | >= {NOISE_TARGET:.0f}x |")  # fmt: skip
    print(f"| Perlin noise, independent images, s/image vs pnoise2 | {s['nndl_sample']:.2e} | {s['pnoise2']:.2e} | "
          f"{speed['speedup_independent_images']:.0f}x faster | (no target) |")  # fmt: skip
    print(
        f"| PDCNN vs DCNN, s/epoch | {e['pdcnn']:.3f} | {e['dcnn']:.3f} | {epochs['ratio']:.3f} | <= {EPOCH_TARGET} |"
    )


if __name__ == "__main__":
    main()
