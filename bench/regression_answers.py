"""What the regression study's answer could be, measured on bench/regression_quality.py's
datasets: the chosen configuration refit with more members or other epochs, or an ensemble of
the top-k configurations of the same search.

Each dataset runs the study once (the default budget's smooth space, 20 completed trials,
seed 0); the variants then retrain from the same search, so they differ only in the answer:

- ``refit m5`` (the study's answer): the best configuration, 5 seeds, the median of its
  folds' restored best epochs;
- ``refit m20``: 20 seeds; ``epochs x0.5`` / ``x2``: 5 seeds for half / twice the epochs;
- ``top-k m5``: the k best configurations by cross-validation, 5 seeds each, each for its own
  folds' median epoch, their mean with equal weights;
- ``top-k m5 w``: the same nets, each configuration's mean weighted by the inverse of its
  cross-validation loss;
- ``top-10 m2``: the ten best configurations, 2 seeds each (20 nets, as ``refit m20``).
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
from nndl.search.study import quiet_optuna
from regression_quality import dataset, run_one

VARIANTS = (
    *("refit m5", "refit m20", "epochs x0.5", "epochs x2"),
    *("top-3 m5", "top-5 m5", "top-3 m5 w", "top-5 m5 w", "top-10 m2"),
)


def top_runs(study: RegressionStudy, k: int) -> list[tuple[Any, int, float]]:
    """The ``k`` best completed trials' runs, their folds' median best epoch, their loss."""
    from nndl.experiments.regression_search import _study_spec
    from nndl.search.study import open_study

    data = study.task.points()[0]
    trials = [t for t in open_study(_study_spec(study, data)).trials if t.value is not None]
    trials = [t for t in trials if t.state.name == "COMPLETE"]
    trials.sort(key=lambda t: t.value)
    space = study.search_space
    out = []
    for t in trials[:k]:
        epochs = max(1, round(statistics.median(t.user_attrs["fold_best_epochs"])))
        out.append((space.run(dict(t.params)), epochs, float(t.value)))
    return out


def answers(study: RegressionStudy, refit_epochs: int) -> dict[str, float]:
    """Test MSE (data units) of each variant."""
    from nndl.experiments.regression_answer import scaled
    from nndl.search.regression import refit

    data = study.task.points()[0]
    test = study.task.points(data_units=True)[1]
    runs = top_runs(study, 10)

    def mse(models: list[Any]) -> float:
        mean = scaled(study, models).predict(test.x.numpy())
        return float(np.mean((mean - test.y.numpy().reshape(-1)) ** 2))

    def weighted_mse(groups: list[list[Any]], losses: list[float]) -> float:
        weights = np.array([1.0 / loss for loss in losses])
        means = np.stack([scaled(study, g).predict(test.x.numpy()) for g in groups])
        mean = (weights[:, None] * means).sum(0) / weights.sum()
        return float(np.mean((mean - test.y.numpy().reshape(-1)) ** 2))

    def fit(run: Any, epochs: int, members: int) -> list[Any]:
        return refit(run, data, epochs, members=members, seed=study.seed, batch_folds=True)

    best = runs[0][0]
    out = {
        "refit m5": mse(fit(best, refit_epochs, 5)),
        "refit m20": mse(fit(best, refit_epochs, 20)),
        "epochs x0.5": mse(fit(best, max(1, refit_epochs // 2), 5)),
        "epochs x2": mse(fit(best, 2 * refit_epochs, 5)),
    }
    nets = [fit(run, epochs, 5) for run, epochs, _ in runs[:5]]
    losses = [loss for _, _, loss in runs]
    out["top-3 m5"] = mse([m for group in nets[:3] for m in group])
    out["top-5 m5"] = mse([m for group in nets for m in group])
    out["top-3 m5 w"] = weighted_mse(nets[:3], losses[:3])
    out["top-5 m5 w"] = weighted_mse(nets, losses[:5])
    out["top-10 m2"] = mse([m for run, epochs, _ in runs for m in fit(run, epochs, 2)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=15)
    args = parser.parse_args()
    quiet_optuna()
    print("| dataset | " + " | ".join(VARIANTS) + " | GP | s |")
    print("|---|" + "---|" * (len(VARIANTS) + 2))
    rows: dict[str, dict[str, float]] = {}
    budget = RegressionBudget(trials=20)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.datasets):
            start = time.perf_counter()
            result, study = studied(Path(tmp) / f"d{seed}", seed, budget)
            epochs = _refit_epochs(study)
            row = {**answers(study, epochs), "gp": result["gp"], "study": result["refit"]}
            rows[f"d{seed}"] = row
            cells = " | ".join(f"{row[v]:.4f}" for v in VARIANTS)
            print(
                f"| d{seed} | {cells} | {row['gp']:.4f} | {time.perf_counter() - start:.0f} |",
                flush=True,
            )
    mean = {v: statistics.fmean(r[v] for r in rows.values()) for v in (*VARIANTS, "gp")}
    print("mean test MSE: " + ", ".join(f"{v} {mean[v]:.4f}" for v in mean))
    print("mean / GP: " + ", ".join(f"{v} {mean[v] / mean['gp']:.2f}" for v in VARIANTS))
    wins = {v: sum(r[v] < r["refit m5"] for r in rows.values()) for v in VARIANTS[1:]}
    print(f"datasets where a variant beats refit m5: {wins}")
    record("regression_answers", {"rows": rows, "mean": mean, "wins_over_refit_m5": wins})
    print(machine())


def studied(
    folder: Path, seed: int, budget: RegressionBudget
) -> tuple[dict[str, Any], RegressionStudy]:
    """Dataset ``seed``'s study run in ``folder`` (the smooth space): its rows and the study."""
    train, test, info = dataset(seed)
    result = run_one(folder, train, test, budget, info["gaps"], {"space": "smooth"})
    study = RegressionStudy(
        out=folder / "run",
        train_csv=str(folder / "train.csv"),
        test_csv=str(folder / "test.csv"),
        quiet=True,
        space="smooth",
        budget=budget,
    )
    return result, study


def _refit_epochs(study: RegressionStudy) -> int:
    import json

    return int(json.loads((study.out / "refit" / "metrics.json").read_text())["epochs"])


if __name__ == "__main__":
    main()
