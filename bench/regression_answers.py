"""What the regression study's answer could be, measured on bench/regression_quality.py's
datasets: the chosen configuration refit with more members or other epochs, or an ensemble of
the top-k configurations of the same search.

Each dataset runs the study once (the smooth space, 20 completed trials,
seed 0 or ``--seed``); the variants then retrain from the same search, so they differ only in
the answer (the study's own is ``again-6 top-3 m5``: docs/regression_choices.md):

- ``refit m5``: the best configuration, 5 seeds, the median of its
  folds' restored best epochs;
- ``refit m20``: 20 seeds; ``epochs x0.5`` / ``x2``: 5 seeds for half / twice the epochs;
- ``top-k m5``: the k best configurations by cross-validation, 5 seeds each, each for its own
  folds' median epoch, their mean with equal weights;
- ``top-k m5 w``: the same nets, each configuration's mean weighted by the inverse of its
  cross-validation loss;
- ``top-10 m2``: the ten best configurations, 2 seeds each (20 nets, as ``refit m20``);
- ``again-F top-3 m5``: the search's F best configurations cross-validated again on 5 folds
  cut with another seed, the 3 best by the mean of both cuts (``second_ranking``), 5 seeds each;
  ``top-6``: all six, ``m10``: 10 seeds each; ``snap``: each seed kept at the 25th, 50th and
  75th percentile of its configuration's 10 folds' best epochs (3 nets per seed); ``steps``:
  each refit for as many optimizer steps as its fold nets took (fewer epochs: a fold trains
  on 4/5 of the rows), ``x1.25`` for 1.25 times the epochs;
- ``again-6 short top-3 m5``: the second ranking on short blocks (``--folds short``: 4
  stretches of 5 rows per fold) instead of random folds, mean with the search's loss;
  ``short only``: ranked by the short blocks alone;
- ``again-6 greedy m5``: the search's 6 best configurations cross-validated again (5 random
  folds cut with seed + 1); greedy ensemble selection with replacement (Caruana et al. 2004,
  10 rounds) on their out-of-fold predictions gives each configuration a weight; those with
  one are refit as 5 seeds for the median of both cuts' epochs, their means weighted;
  ``short``: out-of-fold predictions of short blocks instead, ``both``: of both cuts;
- ``protocol +s``: the report's protocol (the search's best configuration's best fold net)
  with its 5 folds cut with seed + s; ``+0`` is the study's own row.

``--variants`` picks some (the table then also shows the report's protocol, and counts the
datasets where each variant beats it).
"""

from __future__ import annotations

import argparse
import functools
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
    *("again-6 top-3 m5", "again-10 top-3 m5"),
    *("again-6 top-3 m10", "again-6 top-6 m5", "again-6 top-3 m5 snap", "again-6 top-3 m10 snap"),
    *("again-6 top-6 m10", *(f"protocol +{s}" for s in range(5))),
    *("again-6 top-3 m5 steps", "again-6 top-3 m5 x1.25", "again-6 top-6 m5 steps"),
    *("again-6 short top-3 m5", "again-6 short only top-3 m5"),
    *("again-6 greedy m5", "again-6 greedy short m5", "again-6 greedy both m5"),
)


def top_runs(study: RegressionStudy, k: int) -> list[tuple[Any, int, float]]:
    """The ``k`` best completed trials' runs, their folds' median best epoch, their loss."""
    from nndl.experiments.regression_search import _study_spec
    from nndl.search.regression import median_epoch
    from nndl.search.study import open_study

    data = study.task.points()[0]
    trials = [t for t in open_study(_study_spec(study, data)).trials if t.value is not None]
    trials = [t for t in trials if t.state.name == "COMPLETE"]
    trials.sort(key=lambda t: t.value)
    space = study.search_space
    out = []
    for t in trials[:k]:
        epochs = median_epoch(t.user_attrs["fold_best_epochs"])
        out.append((space.run(dict(t.params)), epochs, float(t.value)))
    return out


def answers(
    study: RegressionStudy, refit_epochs: int, variants: tuple[str, ...]
) -> dict[str, float]:
    """Test MSE (data units) of each of ``variants``."""
    from dataclasses import replace

    from nndl.experiments.regression_answer import scaled
    from nndl.experiments.regression_search import second_ranking
    from nndl.search.regression import cross_validate, refit

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

    def top(k: int, members: int = 5) -> list[list[Any]]:
        return [fit(run, epochs, members) for run, epochs, _ in runs[:k]]

    ranked: dict[tuple[int, str, bool], list[Any]] = {}

    def again(
        finalists: int,
        *,
        k: int = 3,
        members: int = 5,
        snap: bool = False,
        scale: Any = 1.0,
        folds: str = "",
        alone: bool = False,
    ) -> float:
        key = (finalists, folds, alone)
        if key not in ranked:
            chosen = replace(study, budget=replace(study.budget, finalists=finalists))
            ranked[key] = second_ranking(chosen, best, folds=folds or None, alone=alone)
        options = {"members": members, "snap": snap, "seed": study.seed, "scale": scale}
        return mse([m for _, run, e in ranked[key][:k] for m in _members(run, data, e, **options)])

    def protocol(shift: int) -> float:
        options = {**study.fold_options(), "seed": study.seed + shift}
        return mse([cross_validate(best, data, study.budget.max_epochs, **options).best().model])

    @functools.cache
    def out_of_fold(folds: str) -> list[tuple[Any, list[int], np.ndarray]]:
        """Each of the 6 finalists: its run, both cuts' epochs, its out-of-fold predictions."""
        return [_out_of_fold(study, trial, folds) for trial in finalists(study, 6)]

    def greedy(kinds: tuple[str, ...]) -> float:
        mean = _greedy_mean(study, [out_of_fold(kind) for kind in kinds], test.x.numpy())
        return float(np.mean((mean - test.y.numpy().reshape(-1)) ** 2))

    best, losses = runs[0][0], [loss for _, _, loss in runs]
    measure = {
        "refit m5": lambda: mse(fit(best, refit_epochs, 5)),
        "refit m20": lambda: mse(fit(best, refit_epochs, 20)),
        "epochs x0.5": lambda: mse(fit(best, max(1, refit_epochs // 2), 5)),
        "epochs x2": lambda: mse(fit(best, 2 * refit_epochs, 5)),
        "top-3 m5": lambda: mse([m for group in top(3) for m in group]),
        "top-5 m5": lambda: mse([m for group in top(5) for m in group]),
        "top-3 m5 w": lambda: weighted_mse(top(3), losses[:3]),
        "top-5 m5 w": lambda: weighted_mse(top(5), losses[:5]),
        "top-10 m2": lambda: mse([m for group in top(10, 2) for m in group]),
        "again-6 top-3 m5": lambda: again(6),
        "again-10 top-3 m5": lambda: again(10),
        "again-6 top-3 m10": lambda: again(6, members=10),
        "again-6 top-6 m5": lambda: again(6, k=6),
        "again-6 top-6 m10": lambda: again(6, k=6, members=10),
        "again-6 top-3 m5 snap": lambda: again(6, snap=True),
        "again-6 top-3 m10 snap": lambda: again(6, members=10, snap=True),
        "again-6 top-3 m5 steps": lambda: again(6, scale="steps"),
        "again-6 top-3 m5 x1.25": lambda: again(6, scale=1.25),
        "again-6 top-6 m5 steps": lambda: again(6, k=6, scale="steps"),
        "again-6 short top-3 m5": lambda: again(6, folds="short"),
        "again-6 short only top-3 m5": lambda: again(6, folds="short", alone=True),
        "again-6 greedy m5": lambda: greedy(("random",)),
        "again-6 greedy short m5": lambda: greedy(("short",)),
        "again-6 greedy both m5": lambda: greedy(("random", "short")),
        **{f"protocol +{s}": lambda s=s: protocol(s) for s in range(5)},
    }
    return {v: measure[v]() for v in variants}


def finalists(study: RegressionStudy, count: int) -> list[Any]:
    """The search's ``count`` best completed trials."""
    from nndl.experiments.regression_search import _ranked_trials

    return _ranked_trials(study, top_runs(study, 1)[0][0])[:count]


def _out_of_fold(study: RegressionStudy, trial: Any, folds: str) -> tuple[Any, list[int], Any]:
    """``trial``'s run cross-validated on 5 ``folds`` cut with the study's seed + 1: the run,
    the search's and this cut's restored best epochs, and each row's prediction by the fold
    net that did not train on it (the data's standardized units)."""
    import torch

    from nndl.data.split import kfold_indices
    from nndl.search.regression import cross_validate, fold_epochs, splitter

    data = study.task.points()[0]
    run = study.search_space.run(dict(trial.params))
    options = {**study.fold_options(), "seed": study.seed + 1, "folds": folds}
    result = cross_validate(run, data, study.budget.max_epochs, **options)
    cv = splitter(folds, 5, study.seed + 1)
    x = data.x.reshape(len(data), -1).numpy()
    cut = kfold_indices(len(data), 5, study.seed + 1) if cv is None else list(cv.split(x))
    oof = np.zeros(len(data))
    for fold in result.folds:
        val = cut[fold.fold][1]
        fold.model.eval()
        with torch.no_grad():
            oof[val] = fold.model(data.x[val]).reshape(-1).numpy()
    epochs = [*trial.user_attrs["fold_best_epochs"], *fold_epochs(result.folds)]
    return run, epochs, oof


def _greedy_mean(study: RegressionStudy, found: list[list[Any]], x: Any) -> Any:
    """The prediction at ``x`` (data units) of the finalists ``found`` on each cut, weighted
    by greedy selection on their out-of-fold predictions over all cuts, 5 refit seeds each."""
    from nndl.experiments.regression_answer import scaled

    data = study.task.points()[0]
    target = np.concatenate([data.y.numpy().reshape(-1)] * len(found))
    preds = np.stack([np.concatenate([f[i][2] for f in found]) for i in range(len(found[0]))])
    counts = _greedy_counts(preds, target, rounds=10)
    options = {"members": 5, "snap": False, "seed": study.seed, "scale": 1.0}
    mean = 0.0
    for (run, epochs, _), count in zip(found[0], counts, strict=True):
        if count:
            mean += count * scaled(study, _members(run, data, epochs, **options)).predict(x)
    return mean / sum(counts)


def _greedy_counts(preds: Any, target: Any, *, rounds: int) -> list[int]:
    """How often greedy selection with replacement picks each row of ``preds`` (models x
    points) in ``rounds`` steps, each step adding the model that most lowers the MSE of the
    picked models' mean against ``target``."""
    counts, total = [0] * len(preds), np.zeros_like(target)
    for step in range(1, rounds + 1):
        errors = [np.mean(((total + p) / step - target) ** 2) for p in preds]
        pick = int(np.argmin(errors))
        counts[pick] += 1
        total = total + preds[pick]
    return counts


def _members(
    run: Any, data: Any, epochs: list[int], *, members: int, snap: bool, seed: int, scale: Any
) -> list[Any]:
    """``members`` seeds of ``run`` refit for the median of ``epochs`` (the refit's rule) times
    ``scale``, or with ``snap`` kept at each of their quartiles (3 x members nets). ``scale``
    "steps": as many optimizer steps as a fold net's (a fold trains on 4/5 of the rows)."""
    import math

    from nndl.search.regression import refit

    if scale == "steps":
        size = run.train["batch_size"]
        scale = math.ceil((len(data) - len(data) // 5) / size) / math.ceil(len(data) / size)
    if not snap:
        median = max(1, round(statistics.median(epochs) * scale))
        return refit(run, data, median, members=members, seed=seed, batch_folds=True)
    cuts = sorted({max(1, round(q)) for q in np.percentile(epochs, [25, 50, 75])})
    return snapshots(run, data, cuts, members=members, seed=seed)


def snapshots(run: Any, data: Any, cuts: list[int], *, members: int, seed: int) -> list[Any]:
    """``members`` seeds of ``run`` trained on all of ``data`` as the refit trains them (one
    stacked net), each kept at every epoch of ``cuts``: members x len(cuts) nets."""
    import torch

    from nndl.search.regression import _configs
    from nndl.training._rng import forked
    from nndl.training.ensemble import _stacked_epochs

    config, train = _configs(run, data, max(cuts), seed=seed, device="cpu")
    kept = []
    with forked(torch.device("cpu")):
        trained = _stacked_epochs(config, train, data, members=members, epochs=max(cuts))
        for epoch, model in enumerate(trained):
            if epoch in cuts:
                with forked(torch.device("cpu")):  # a member's copy draws initial weights
                    kept += [model.member(k) for k in range(members)]
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=15)
    parser.add_argument("--variants", help="comma-separated; default: all of them")
    parser.add_argument(
        "--seed", type=int, default=0, help="the studies' seed (folds, weights, sampler)"
    )
    args = parser.parse_args()
    variants = tuple(args.variants.split(",")) if args.variants else VARIANTS
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variants {sorted(unknown)}; valid: {', '.join(VARIANTS)}")
    quiet_optuna()
    print("| dataset | " + " | ".join(variants) + " | report's protocol | GP | s |")
    print("|---|" + "---|" * (len(variants) + 3))
    rows: dict[str, dict[str, float]] = {}
    budget = RegressionBudget(trials=20)
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.datasets):
            start = time.perf_counter()
            result, study = studied(Path(tmp) / f"d{seed}", seed, budget, study_seed=args.seed)
            epochs = _refit_epochs(study)
            row = {**answers(study, epochs, variants), "gp": result["gp"]}
            row.update(study=result["refit"], report=result["report"])
            rows[f"d{seed}"] = row
            cells = " | ".join(f"{row[v]:.4f}" for v in (*variants, "report"))
            print(
                f"| d{seed} | {cells} | {row['gp']:.4f} | {time.perf_counter() - start:.0f} |",
                flush=True,
            )
    mean = {v: statistics.fmean(r[v] for r in rows.values()) for v in (*variants, "gp")}
    print("mean test MSE: " + ", ".join(f"{v} {mean[v]:.4f}" for v in mean))
    print("mean / GP: " + ", ".join(f"{v} {mean[v] / mean['gp']:.3f}" for v in variants))
    first = list(rows.values())[:10]
    wins = {
        v: sum(r[v] < r["refit m5"] for r in rows.values())
        for v in variants
        if "refit m5" in variants and v != "refit m5"
    }
    print(f"datasets where a variant beats refit m5: {wins}")
    beats = {v: sum(r[v] < r["report"] for r in first) for v in variants}
    print(f"of the first {len(first)}, where a variant beats the report's protocol: {beats}")
    record(
        "regression_answers",
        {
            "seed": args.seed,
            "rows": rows,
            "mean": mean,
            "wins_over_refit_m5": wins,
            "beats_report": beats,
        },
    )
    print(machine())


def studied(
    folder: Path, seed: int, budget: RegressionBudget, *, study_seed: int = 0
) -> tuple[dict[str, Any], RegressionStudy]:
    """Dataset ``seed``'s study run in ``folder`` (the smooth space, ``study_seed`` for its
    folds, weights and sampler): its rows and the study."""
    train, test, info = dataset(seed)
    choices = {"space": "smooth", "seed": study_seed}
    result = run_one(folder, train, test, budget, info["gaps"], choices)
    study = RegressionStudy(
        out=folder / "run",
        train_csv=str(folder / "train.csv"),
        test_csv=str(folder / "test.csv"),
        quiet=True,
        space="smooth",
        budget=budget,
        seed=study_seed,
    )
    return result, study


def _refit_epochs(study: RegressionStudy) -> int:
    import json

    return int(json.loads((study.out / "refit" / "metrics.json").read_text())["epochs"])


if __name__ == "__main__":
    main()
