"""nndl vs PyTorch Lightning's Trainer and skorch's NeuralNetClassifier: seconds per epoch.

Same model (same initial weights), same 48,000/12,000 MNIST split already in memory as
float tensors, Adam (lr 1e-3, weight decay 1e-4), batch 256, one validation pass per epoch
in all three. Each tool is used the way its documentation shows:

- nndl: ``Evolver(model, TrainConfig(...)).fit(train, val)``.
- Lightning: a ``LightningModule`` with ``training_step``/``validation_step``, a
  ``DataLoader`` over a ``TensorDataset``, ``Trainer(accelerator="cpu")`` with the progress
  bar, logger, checkpointing, model summary and sanity check off.
- skorch: ``NeuralNetClassifier(module, criterion=CrossEntropyLoss, optimizer=Adam,
  train_split=predefined_split(val), verbose=0)`` on the tensors.

Each round trains a fresh copy of the model for ``--epochs`` epochs in each tool, one tool
after the other; the time of an epoch is the tool's own epoch timer (train + validation) of
the last epoch, so setup and first-epoch warm-up are left out. Medians over the rounds.
Targets: nndl at least 1.15x faster than Lightning and 1.3x faster than skorch (DCNN).
Needs the ``bench`` extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import time
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from _common import machine, record
from nndl.data.tensors import TensorData
from nndl.experiments.datasets import mnist_task_data
from nndl.models import create_model
from nndl.training import Evolver, TrainConfig

TARGETS = {"lightning": 1.15, "skorch": 1.3}
LR, WEIGHT_DECAY, BATCH = 1e-3, 1e-4, 256


def nndl_epoch(model: nn.Module, train: TensorData, val: TensorData, epochs: int) -> float:
    config = TrainConfig(lr=LR, weight_decay=WEIGHT_DECAY, batch_size=BATCH, max_epochs=epochs,
                         patience=None)  # fmt: skip
    history = Evolver(model, config).fit(train, val)
    return history.rows[-1]["seconds"]


def lightning_epoch(model: nn.Module, train: TensorData, val: TensorData, epochs: int) -> float:
    import lightning as L

    class Classifier(L.LightningModule):
        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net

        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
            x, y = batch
            return F.cross_entropy(self.net(x), y)

        def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
            x, y = batch
            self.log("val_loss", F.cross_entropy(self.net(x), y))

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)

    class EpochTimer(L.Callback):
        def __init__(self) -> None:
            self.seconds: list[float] = []

        def on_train_epoch_start(self, *_: Any) -> None:
            self.start = time.perf_counter()

        def on_train_epoch_end(self, *_: Any) -> None:  # after the epoch's validation
            self.seconds.append(time.perf_counter() - self.start)

    timer = EpochTimer()
    trainer = L.Trainer(
        accelerator="cpu", devices=1, max_epochs=epochs, callbacks=[timer], logger=False,
        enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
        num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(
        Classifier(model),
        DataLoader(TensorDataset(train.x, train.y), batch_size=BATCH, shuffle=True),
        DataLoader(TensorDataset(val.x, val.y), batch_size=BATCH),
    )
    return timer.seconds[-1]


def skorch_epoch(model: nn.Module, train: TensorData, val: TensorData, epochs: int) -> float:
    from skorch import NeuralNetClassifier
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    net = NeuralNetClassifier(
        model, criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=LR,
        optimizer__weight_decay=WEIGHT_DECAY, batch_size=BATCH, max_epochs=epochs,
        train_split=predefined_split(Dataset(val.x, val.y)), iterator_train__shuffle=True,
        device="cpu", verbose=0,
    )  # fmt: skip
    net.fit(train.x, train.y)
    return float(net.history[-1, "dur"])


RUNNERS = {"nndl": nndl_epoch, "lightning": lightning_epoch, "skorch": skorch_epoch}


def compare(
    arch: str, train: TensorData, val: TensorData, rounds: int, epochs: int
) -> dict[str, Any]:
    torch.manual_seed(0)
    base = create_model(arch)
    times: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for _ in range(rounds):
        for name, run in RUNNERS.items():
            times[name].append(run(copy.deepcopy(base), train, val, epochs))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "seconds_per_epoch": medians,
        "speedup": {name: medians[name] / medians["nndl"] for name in TARGETS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="fresh trainings per tool")
    parser.add_argument(
        "--epochs", type=int, default=2, help="epochs per training; the last is timed"
    )
    parser.add_argument("--arch", nargs="+", default=["dcnn", "fcn"], help="models to compare")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # Lightning's advice on num_workers and the like
    import lightning  # noqa: F401  (its loggers exist once it is imported)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    data = mnist_task_data()
    results = {
        arch: compare(arch, data.train, data.val, args.rounds, args.epochs) for arch in args.arch
    }
    met = (
        all(results["dcnn"]["speedup"][name] >= target for name, target in TARGETS.items())
        if "dcnn" in results
        else None
    )
    record("frameworks", {"per_arch": results, "targets": {k: f">= {v}x (dcnn)" for k, v in TARGETS.items()}, "met": met})  # fmt: skip
    print(f"machine: {machine()}")
    print(
        "| model | nndl s/epoch | Lightning s/epoch | skorch s/epoch | vs Lightning | vs skorch |"
    )
    print("|---|---|---|---|---|---|")
    for arch, entry in results.items():
        s, up = entry["seconds_per_epoch"], entry["speedup"]
        print(f"| {arch} | {s['nndl']:.3f} | {s['lightning']:.3f} | {s['skorch']:.3f} | "
              f"{up['lightning']:.2f}x | {up['skorch']:.2f}x |")  # fmt: skip
    if met is not None:
        print(f"targets (dcnn): >= {TARGETS['lightning']}x vs Lightning, >= {TARGETS['skorch']}x vs skorch: "
              f"{'met' if met else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
