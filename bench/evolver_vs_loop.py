"""Evolver vs a minimal hand-written PyTorch loop: DCNN on MNIST, seconds per epoch.

Same tensors, same initial weights, same Adam settings, batch 256, one validation pass per
epoch in both. Epochs alternate between the two; the medians are compared. Target: <= 1.05.
"""

from __future__ import annotations

import argparse
import copy

import torch
import torch.nn.functional as F
from torch import nn

from _common import alternate, machine, record
from nndl.data.tensors import TensorData
from nndl.experiments.datasets import mnist_task_data
from nndl.models import create_model
from nndl.training import Evolver, TrainConfig

TARGET = 1.05


def hand_loop_epoch(
    model: nn.Module, opt: torch.optim.Optimizer, train: TensorData, val: TensorData
) -> None:
    """The loop a PyTorch user would write by hand."""
    model.train()
    order = torch.randperm(len(train))
    for start in range(0, len(train), 256):
        idx = order[start : start + 256]
        loss = F.cross_entropy(model(train.x[idx]), train.y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        total = sum(
            F.cross_entropy(model(val.x[i : i + 4096]), val.y[i : i + 4096], reduction="sum").item()
            for i in range(0, len(val), 4096)
        )
    assert total == total  # validation loss computed, as the Evolver does


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="epochs of each, alternating")
    args = parser.parse_args()
    data = mnist_task_data()
    torch.manual_seed(0)
    base = create_model("dcnn")
    config = TrainConfig(lr=1e-3, weight_decay=1e-4, batch_size=256, max_epochs=1, patience=None)
    evolver = Evolver(copy.deepcopy(base), config)
    hand = copy.deepcopy(base)
    hand_opt = torch.optim.Adam(hand.parameters(), lr=1e-3, weight_decay=1e-4)
    medians = alternate(
        {
            "evolver": lambda: evolver.fit(data.train, data.val),
            "hand_loop": lambda: hand_loop_epoch(hand, hand_opt, data.train, data.val),
        },
        args.repeats,
    )
    ratio = medians["evolver"] / medians["hand_loop"]
    entry = {
        "seconds_per_epoch": medians,
        "ratio": ratio,
        "target": f"<= {TARGET}",
        "met": ratio <= TARGET,
    }
    record("evolver_vs_hand_loop", entry)
    print(f"machine: {machine()}")
    print("| benchmark | nndl s/epoch | baseline s/epoch | ratio | target |")
    print("|---|---|---|---|---|")
    ok = "met" if entry["met"] else "MISSED"
    print(
        f"| Evolver vs hand-written loop (DCNN, MNIST) | {medians['evolver']:.3f} | "
        f"{medians['hand_loop']:.3f} | {ratio:.3f} | <= {TARGET} ({ok}) |"
    )


if __name__ == "__main__":
    main()
