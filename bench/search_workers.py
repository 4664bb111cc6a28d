"""Regression search throughput: ``--workers 2`` vs ``--workers 1`` on one study.

Each run is a fresh study of the report's random search (full budget per trial: 5 folds,
up to 10^4 epochs) until ``--trials`` completed; completed trials per minute are compared.
Each worker gets its share of the CPU threads. Target: at least 1.7x on 2 cores.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from _common import machine, record

TARGET = 1.7


def trials_per_minute(workers: int, trials: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "nndl", "regression", "search", "--trials", str(trials), "--workers",
               str(workers), "--out", out, "--quiet"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return trials / ((time.perf_counter() - start) / 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    rates = {
        "workers_1": trials_per_minute(1, args.trials),
        "workers_2": trials_per_minute(2, args.trials),
    }
    ratio = rates["workers_2"] / rates["workers_1"]
    record("search_workers_2_vs_1", {"completed_per_minute": rates, "ratio": ratio, "target": f">= {TARGET}",
                                     "met": ratio >= TARGET})  # fmt: skip
    print(f"machine: {machine()}")
    print("| benchmark | nndl | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| regression search, completed trials/min: 2 workers vs 1 | {rates['workers_2']:.1f} | "
          f"{rates['workers_1']:.1f} | {ratio:.2f}x | >= {TARGET}x |")  # fmt: skip


if __name__ == "__main__":
    main()
