"""Would the cross-validation fold nets improve the regression study's answer?

Each of bench/regression_quality.py's datasets runs the study once (the smooth space, 20
completed trials, seed 0); then its three best configurations are cross-validated again with
the study's fold options (the same fold nets the search trained) and refit as the study
does (5 seeds each). Test MSE, data units, of:

- ``answer``: the study's refit ensemble (3 configurations x 5 seeds);
- ``ans+best folds``: it and the best configuration's 5 fold nets (20 nets);
- ``ans+top3 folds``: it and the three configurations' 15 fold nets (30 nets);
- ``top3 folds``: the 15 fold nets alone; ``best folds``: the best configuration's 5;
- ``report``: the report's protocol (the best configuration's best fold net).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import machine, record
from nndl.experiments.budgets import RegressionBudget
from nndl.experiments.regression import RegressionStudy
from nndl.experiments.regression_answer import _refit_all, scaled
from nndl.experiments.regression_search import best_params, runner_ups
from nndl.search.regression import cross_validate, refit_epochs
from nndl.search.study import quiet_optuna
from regression_answers import studied

VARIANTS = ("answer", "ans+best folds", "ans+top3 folds", "top3 folds", "best folds")


def variants(study: RegressionStudy) -> dict[str, float]:
    """Test MSE (data units) of each variant for a study that has run."""
    data = study.task.points()[0]
    test = study.task.points(data_units=True)[1]
    best = best_params(study, None)
    options = study.fold_options()
    ups = runner_ups(study, best, 2)
    cvs = [
        cross_validate(run, data, study.budget.max_epochs, **options)
        for run in (best, *(r for r, _ in ups))
    ]
    refits = _refit_all(study, [(best, refit_epochs(cvs[0].folds)), *ups])
    folds = [[f.model.cpu() for f in cv.folds] for cv in cvs]

    def mse(models: list[Any]) -> float:
        mean = scaled(study, models).predict(test.x.numpy())
        return float(np.mean((mean - test.y.numpy().reshape(-1)) ** 2))

    every_fold = [m for group in folds for m in group]
    return {
        "answer": mse(refits),
        "ans+best folds": mse(refits + folds[0]),
        "ans+top3 folds": mse(refits + every_fold),
        "top3 folds": mse(every_fold),
        "best folds": mse(folds[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=15)
    args = parser.parse_args()
    quiet_optuna()
    columns = (*VARIANTS, "gp", "report")
    print("| dataset | " + " | ".join(columns) + " | s |")
    print("|---|" + "---|" * (len(columns) + 1))
    rows: dict[int, dict[str, float]] = {}
    budget = RegressionBudget(trials=20)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.datasets):
            start = time.perf_counter()
            result, study = studied(Path(tmp) / f"d{seed}", seed, budget)
            row = rows[seed] = {**variants(study), "gp": result["gp"], "report": result["report"]}
            cells = " | ".join(f"{row[v]:.4f}" for v in columns)
            print(f"| d{seed} | {cells} | {time.perf_counter() - start:.0f} |", flush=True)
    mean = {v: statistics.fmean(r[v] for r in rows.values()) for v in columns}
    print("mean test MSE:", {v: round(mean[v], 4) for v in columns})
    print("mean / GP:", {v: round(mean[v] / mean["gp"], 3) for v in columns})
    first = [r for seed, r in rows.items() if seed < 10]
    print(
        "beats the report's protocol on the first 10:",
        {v: sum(r[v] < r["report"] for r in first) for v in VARIANTS},
    )
    print(
        "beats the answer:", {v: sum(r[v] < r["answer"] for r in rows.values()) for v in VARIANTS}
    )
    record("regression_fold_nets", {"rows": rows, "mean": mean})
    print(machine())


if __name__ == "__main__":
    main()
