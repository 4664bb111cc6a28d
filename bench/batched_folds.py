"""Regression 5-fold cross-validation: the folds as one batched ensemble vs one after the other.

The report's best configuration (32-128-64-256 Tanh, dropout 0.5 after layer 2, Adam lr 1e-3,
batch 30, patience 400, at most 10^4 epochs) on the built-in data; runs alternate, medians
compared. Each path keeps its own early stopping, so epochs can differ (dropout draws differ);
the table also gives seconds per fold-epoch. Target: batched at least 2.5x faster.
"""

from __future__ import annotations

import argparse
import time

from _common import alternate, machine, record
from nndl.experiments.datasets import regression_points
from nndl.search.regression import cross_validate
from nndl.search.regression_space import RegressionParams

TARGET = 2.5
REPORT_BEST = {
    "Nh1": 32, "Nh2": 128, "Nh3": 64, "Nh4": 256, "activation_function": "Tanh",
    "dropout_prob_2": 0.5, "dropout_prob_3": 0.0, "lr": 0.001, "weight_decay": 0.0,
    "patience": 400, "train_batch_size": 30,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = regression_points()[0]
    params = RegressionParams.from_dict(REPORT_BEST)
    epochs: dict[str, list[int]] = {"batched": [], "sequential": []}

    def run(batch: bool) -> None:
        done = epochs["batched" if batch else "sequential"]
        # round r of both paths: seed r (the same folds and initial weights; dropout draws differ)
        result = cross_validate(
            params.as_run(), data, 10_000, k=5, seed=len(done), batch_folds=batch
        )
        done.append(sum(f.epochs for f in result.folds))

    start = time.perf_counter()
    medians = alternate(
        {"batched": lambda: run(True), "sequential": lambda: run(False)}, args.repeats
    )
    ratio = medians["sequential"] / medians["batched"]
    per_epoch = {k: medians[k] / (sum(epochs[k]) / len(epochs[k])) for k in medians}
    entry = {"seconds": medians, "fold_epochs": epochs, "seconds_per_fold_epoch": per_epoch,
             "speedup": ratio, "target": f">= {TARGET}", "met": ratio >= TARGET,
             "wall": time.perf_counter() - start}  # fmt: skip
    record("batched_vs_sequential_folds", entry)
    print(f"machine: {machine()}")
    print("| benchmark | batched s | sequential s | speedup | target |")
    print("|---|---|---|---|---|")
    ok = "met" if entry["met"] else "MISSED"
    print(f"| 5-fold CV, report's best regression net | {medians['batched']:.2f} | {medians['sequential']:.2f} "
          f"| {ratio:.2f}x | >= {TARGET}x ({ok}) |")  # fmt: skip
    print(f"fold-epochs per run: {epochs}; s per fold-epoch: {per_epoch}")


if __name__ == "__main__":
    main()
