"""Regression choices (issue 22): which folds rank configurations, whether top-k ensembles
beat the single best configuration, and which activations win, on regression_quality's
datasets (1-D, 100 noisy training points with two gaps, 100 test points over [-5, 5]).

Per dataset, ``--configs`` seeded configurations (activation, hidden sizes, lr, weight decay,
dropout) are each scored by random 5-fold CV (KFold, shuffled, seed 0) and blocked 5-fold CV
(contiguous blocks of x; "inner" scores only the 3 interior blocks, the outer two being
extrapolation, which the test set over the training range never asks for); each fold net
early-stops on 10% of its fold's training rows (seed 100, none of the refits' seeds). Each configuration is then refitted on all
100 rows three times (seeds 0, 1, 2) for the median best epoch of its blocked folds; its test
MSE is the mean of the three nets' MSEs. Ensembles average the refits' predictions: the top k
configurations by each CV scheme, m nets each. The reference is the regression study's
Gaussian process (fitted on standardized rows, as ``run_gp``).

    OMP_NUM_THREADS=1 .venv/bin/python bench/regression_choices.py [--datasets 10] [--configs 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import machine
from regression_quality import dataset

ACTIVATIONS = ("relu", "tanh", "silu", "gelu", "softplus")
HIDDEN = ((32, 32), (64, 64), (128, 128), (64, 64, 64), (32, 32, 32, 32))
SCHEMES = ("random", "blocked", "inner")  # inner: the 3 interior blocks' MSE (no extrapolation)
SMOOTH = ("tanh", "silu", "gelu", "softplus")
TOP_K, MEMBERS, REFITS = (1, 3, 5), (1, 3), 3
FOLD_SEED = 100  # not a refit's seed: the folds must not select a lucky refit initialisation
FIT = {"batch_size": 16, "max_epochs": 500, "patience": 50}


@dataclass(frozen=True)
class Config:
    activation: str
    hidden: tuple[int, ...]
    lr: float
    weight_decay: float
    dropout: float

    def estimator(self, **settings: Any) -> Any:
        from nndl import NetRegressor

        dropout = (self.dropout,) * len(self.hidden) if self.dropout else ()
        options = {"hidden_sizes": self.hidden, "activation": self.activation, "dropout": dropout}
        return NetRegressor(
            "mlp", arch_options=options, lr=self.lr, weight_decay=self.weight_decay, **settings
        )

    @property
    def label(self) -> str:
        sizes = "x".join(map(str, self.hidden))
        return f"{self.activation} {sizes} lr {self.lr:.1e} wd {self.weight_decay:.0e} p {self.dropout}"


@dataclass
class Scored:
    """One configuration on one dataset: CV MSE per scheme, refit test predictions."""

    config: Config
    cv: dict[str, float]
    epochs: dict[str, list[int]]
    predictions: np.ndarray  # (REFITS, test rows)
    test_mse: float  # the mean of the refits' single-net test MSEs


def sample_configs(n: int, seed: int) -> list[Config]:
    rng = np.random.default_rng(seed)
    return [
        Config(
            str(rng.choice(ACTIVATIONS)),
            HIDDEN[rng.integers(len(HIDDEN))],
            float(np.exp(rng.uniform(np.log(3e-4), np.log(1e-2)))),
            float(np.exp(rng.uniform(np.log(1e-6), np.log(1e-2)))),
            float(rng.choice((0.0, 0.1))),
        )
        for _ in range(n)
    ]


def folds(x: np.ndarray, scheme: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random folds, or contiguous blocks of sorted x mapped back to row indices."""
    from sklearn.model_selection import KFold

    if scheme == "random":
        return list(KFold(5, shuffle=True, random_state=0).split(x))
    order = np.argsort(x)
    return [(order[a], order[b]) for a, b in KFold(5).split(order)]


def cross_validate(config: Config, x: np.ndarray, y: np.ndarray, splits: Any) -> tuple[list, list]:
    """Each fold's validation MSE and its net's best epoch."""
    errors, epochs = [], []
    for fit_rows, val_rows in splits:
        net = config.estimator(**FIT, val_fraction=0.1, random_state=FOLD_SEED)
        net.fit(x[fit_rows, None], y[fit_rows])
        errors.append(float(((net.predict(x[val_rows, None]) - y[val_rows]) ** 2).mean()))
        epochs.append(int(net.best_epoch_ or FIT["max_epochs"]))
    return errors, epochs


def refit(config: Config, x: np.ndarray, y: np.ndarray, epochs: int, sx: np.ndarray) -> np.ndarray:
    """Test predictions of REFITS nets trained on every row for ``epochs`` epochs."""
    settings = {**FIT, "max_epochs": max(1, epochs), "patience": 0, "val_fraction": 0.0}
    return np.stack(
        [
            config.estimator(**settings, random_state=seed).fit(x[:, None], y).predict(sx[:, None])
            for seed in range(REFITS)
        ]
    )


def score(config: Config, train: Any, test: Any) -> Scored:
    x, y, sx, sy = (np.asarray(a, np.float64) for a in (train.x, train.y, test.x, test.y))
    cv, epochs = {}, {}
    for scheme in ("random", "blocked"):
        errors, epochs[scheme] = cross_validate(config, x, y, folds(x, scheme))
        cv[scheme] = float(np.mean(errors))  # folds of 20 rows: the pooled MSE
        if scheme == "blocked":
            cv["inner"] = float(np.mean(errors[1:4]))
    predictions = refit(config, x, y, int(np.median(epochs["blocked"])), sx)
    test_mse = float(((predictions - sy) ** 2).mean())
    return Scored(config, cv, epochs, predictions, test_mse)


def gp_predictions(train: Any, test: Any) -> np.ndarray:
    """The regression study's GP: fitted on standardized rows, predictions in data units."""
    from nndl.data.scaling import Scaling
    from nndl.evaluation.gp import GaussianProcess

    tx, ty = np.asarray(train.x).reshape(-1, 1), np.asarray(train.y).reshape(-1, 1)
    s = Scaling.fit(tx, ty)
    gp = GaussianProcess.fit(s.inputs(tx), s.targets(ty), seed=0)
    return s.to_data(gp.predict(s.inputs(np.asarray(test.x).reshape(-1, 1))))


def ensembles(scored: list[Scored]) -> dict[str, np.ndarray]:
    """Predictions of the top k configurations by each CV scheme, m refits each."""
    out = {}
    for scheme in SCHEMES:
        ranked = sorted(scored, key=lambda s: s.cv[scheme])
        for k in TOP_K:
            for m in MEMBERS:
                stack = np.concatenate([s.predictions[:m] for s in ranked[:k]])
                out[f"{scheme} top-{k} m={m}"] = stack.mean(0)
    oracle = min(scored, key=lambda s: s.test_mse)
    out["oracle (best by test) m=3"] = oracle.predictions.mean(0)
    return out


def gap_mask(x: np.ndarray, holes: list[list[float]]) -> np.ndarray:
    return np.any([(x > lo) & (x < hi) for lo, hi in holes], axis=0)


def run_dataset(seed: int, n_configs: int) -> dict[str, Any]:
    from scipy.stats import spearmanr

    train, test, info = dataset(seed)
    sx, sy = np.asarray(test.x, np.float64), np.asarray(test.y, np.float64)
    scored = []
    for config in sample_configs(n_configs, seed):
        start = time.perf_counter()
        scored.append(score(config, train, test))
        if seed == 0 and len(scored) == 1:
            print(f"first configuration: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    test_mse = [s.test_mse for s in scored]
    rho = {k: float(spearmanr([s.cv[k] for s in scored], test_mse)[0]) for k in SCHEMES}
    gap = gap_mask(sx, info["gaps"])
    predictions = {**ensembles(scored), "GP": gp_predictions(train, test)}
    mse = {k: float(((p - sy) ** 2).mean()) for k, p in predictions.items()}
    regions = {
        k: (float(((p - sy)[gap] ** 2).mean()), float(((p - sy)[~gap] ** 2).mean()))
        for k, p in predictions.items()
    }
    top5 = sorted(scored, key=lambda s: s.cv["blocked"])[:5]
    return {"rho": rho, "mse": mse, "regions": regions, "scored": scored, "top5": top5}


def print_datasets(rows: list[dict[str, Any]]) -> None:
    shown = ("random top-1 m=1", "random top-1 m=3", "blocked top-1 m=3", "blocked top-5 m=3")
    rho = " | ".join(f"rho {k}" for k in SCHEMES)
    print(f"| dataset | {rho} | " + " | ".join(shown) + " | GP |")
    print("|---" * (len(shown) + len(SCHEMES) + 2) + "|")
    for i, r in enumerate(rows):
        rho = " | ".join(f"{r['rho'][k]:.2f}" for k in SCHEMES)
        cells = " | ".join(f"{r['mse'][k]:.4f}" for k in (*shown, "GP"))
        print(f"| d{i} | {rho} | {cells} |")
    print("| mean | " + " | ".join(f"{mean_rho(rows, k):.2f}" for k in SCHEMES) + " |")


def mean_rho(rows: list[dict[str, Any]], scheme: str) -> float:
    return statistics.fmean(r["rho"][scheme] for r in rows)


def ratio(rows: list[dict[str, Any]], variant: str) -> float:
    """Mean of the per-dataset ratios of the variant's test MSE to the GP's."""
    return statistics.fmean(r["mse"][variant] / r["mse"]["GP"] for r in rows)


def print_variants(rows: list[dict[str, Any]]) -> str:
    """The variants' table; returns the best variant by mean of ratios."""
    gp = statistics.fmean(r["mse"]["GP"] for r in rows)
    ratios = {k: ratio(rows, k) for k in rows[0]["mse"]}
    base = "random top-1 m=1"
    print(
        "\n| variant | mean test MSE | / GP (of means) | / GP (mean of ratios) | beats random top-1 m=1 |"
    )
    print("|---|---|---|---|---|")
    for k in sorted(ratios, key=ratios.get):
        mean = statistics.fmean(r["mse"][k] for r in rows)
        wins = sum(r["mse"][k] < r["mse"][base] for r in rows)
        print(f"| {k} | {mean:.4f} | {mean / gp:.2f} | {ratios[k]:.2f} | {wins}/{len(rows)} |")
    methods = [k for k in ratios if k != "GP" and not k.startswith("oracle")]
    return min(methods, key=ratios.get)


def print_regions(rows: list[dict[str, Any]], best: str) -> None:
    print("\n| model | test MSE in gaps | elsewhere |")
    print("|---|---|---|")
    for k in dict.fromkeys((best, "random top-1 m=1", "random top-1 m=3", "GP")):
        inside, outside = (statistics.fmean(r["regions"][k][i] for r in rows) for i in (0, 1))
        print(f"| {k} | {inside:.4f} | {outside:.4f} |")


def print_activations(rows: list[dict[str, Any]]) -> None:
    sampled = Counter(s.config.activation for r in rows for s in r["scored"])
    top5 = Counter(s.config.activation for r in rows for s in r["top5"])
    best = Counter(min(r["scored"], key=lambda s: s.test_mse).config.activation for r in rows)
    ratios = activation_ratios(rows)
    print(
        "\n| activation | sampled | in top-5 by blocked CV | best by test | median test MSE / GP |"
    )
    print("|---|---|---|---|---|")
    for a in ACTIVATIONS:
        print(f"| {a} | {sampled[a]} | {top5[a]} | {best[a]} | {median(ratios[a]):.2f} |")


def activation_ratios(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Every configuration's test MSE over its dataset's GP MSE, by activation."""
    ratios: dict[str, list[float]] = {a: [] for a in ACTIVATIONS}
    for r in rows:
        for s in r["scored"]:
            ratios[s.config.activation].append(s.test_mse / r["mse"]["GP"])
    return ratios


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_summary(rows: list[dict[str, Any]], best: str) -> None:
    n = len(rows)
    beats = sum(r["rho"]["blocked"] > r["rho"]["random"] for r in rows)
    inner = sum(r["rho"]["inner"] > r["rho"]["random"] for r in rows)
    print(f"\n(a) mean Spearman(CV MSE, test MSE): random {mean_rho(rows, 'random'):.2f}, "
          f"blocked {mean_rho(rows, 'blocked'):.2f} (higher than random on {beats}/{n}), "
          f"inner blocks {mean_rho(rows, 'inner'):.2f} (higher on {inner}/{n})")  # fmt: skip
    for scheme in SCHEMES:
        single, three = ratio(rows, f"{scheme} top-1 m=1"), ratio(rows, f"{scheme} top-1 m=3")
        top = min(
            (f"{scheme} top-{k} m={m}" for k in TOP_K for m in MEMBERS),
            key=lambda v: ratio(rows, v),
        )
        print(f"(b) {scheme}: best config 1 net {single:.2f} x GP, 3 nets {three:.2f}; "
              f"best top-k: {top} {ratio(rows, top):.2f}")  # fmt: skip
    ratios = activation_ratios(rows)
    smooth = [v for a in SMOOTH for v in ratios[a]]
    top5 = [s.config.activation in SMOOTH for r in rows for s in r["top5"]]
    sampled = [s.config.activation in SMOOTH for r in rows for s in r["scored"]]
    print(f"(c) median config test MSE / GP: smooth {median(smooth):.2f}, "
          f"relu {median(ratios['relu']):.2f}; smooth share: {np.mean(top5):.0%} of the "
          f"blocked top-5 vs {np.mean(sampled):.0%} of those sampled")  # fmt: skip
    print(f"best variant by mean of ratios: {best} ({ratio(rows, best):.2f} x GP)")


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=10)
    parser.add_argument("--configs", type=int, default=16, help="configurations per dataset")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start, rows = time.perf_counter(), []
    for seed in range(args.datasets):
        rows.append(run_dataset(seed, args.configs))
        print(f"d{seed} done, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    print(f"{time.strftime('%Y-%m-%d')}; avx512f: {'avx512f' if ' avx512f' in flags else '-'}; "
          f"command: OMP_NUM_THREADS=1 .venv/bin/python bench/regression_choices.py "
          f"--datasets {args.datasets} --configs {args.configs}; {machine()}\n")  # fmt: skip
    print_datasets(rows)
    best = print_variants(rows)
    print_regions(rows, best)
    print_activations(rows)
    print_summary(rows, best)
    print(f"wall {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
