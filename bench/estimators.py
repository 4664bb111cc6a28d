"""nndl's NetClassifier vs skorch's NeuralNetClassifier: fit time, test accuracy, lines of code.

Both sides train the same net (an MLP with ReLU after each hidden layer and a linear output
layer of one logit per class, cross-entropy) on the same float32 arrays, for the same epochs,
batch size and optimizer (Adam, lr 1e-3, no weight decay; nndl takes torch's fused Adam,
skorch torch's default), on one torch thread (``OMP_NUM_THREADS=1``, ``set_num_threads(1)``).
Neither side holds out rows or stops early (nndl ``val_fraction=0, patience=0``; skorch
``train_split=None``), both shuffle the rows every epoch, and both standardize the inputs per
column on the training rows: nndl inside ``fit`` (``standardize=True``, its default), skorch
as a user would, with a ``StandardScaler`` in a ``Pipeline``; that step is in both fit times.

Datasets: scikit-learn's breast-cancer and wine tables (a stratified 80/20 split, seed 0; MLP
64-32, nndl's ``mlp`` default, batch 32, 100 epochs) and MNIST as 784 pixel columns (the
60,000 training and 10,000 test images; MLP 128-16, batch 256 as the report's FCN, 5 epochs).
Each round fits a fresh estimator on each side, the order alternating; seed ``i`` in round
``i`` builds the net and orders the batches. Fit time: the median of the rounds, after one
untimed warm-up fit per side. Accuracy: mean and spread over the rounds' seeds.

Lines of user code: the snippets below, minimal and idiomatic for each library, each doing
the same job (a standardized 64-32 ReLU MLP, Adam lr 1e-3, 20 epochs, shuffled batches);
their non-blank lines are counted, and every snippet is run on 150 rows of breast-cancer so
the counts are of code that works. Both search with scikit-learn's GridSearchCV over the
same grid (the same work; nndl's own ``NetSearchCV`` runs Optuna trials instead). skorch
saves with joblib (pickle), which keeps the Pipeline's scaler with the net.

Targets (issue 21): skorch / nndl fit time >= 1.3 on every dataset, test accuracy within
noise, nndl's lines <= skorch's for every task.
Needs the ``bench`` extra (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import statistics
import sys
import tempfile
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import nndl
from _common import machine, record

SPEED_TARGET, LR = 1.3, 1e-3
SEARCH = "scikit-learn's GridSearchCV, the same 2 x 2 grid, on both sides"


@dataclass(frozen=True)
class Case:
    """One dataset and the training both sides do on it."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    hidden: tuple[int, ...]
    epochs: int
    batch: int

    @property
    def n_classes(self) -> int:
        return len(np.unique(self.y_train))


def tabular(name: str, loader: Any) -> Case:
    x, y = loader(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x.astype(np.float32), y.astype(np.int64), test_size=0.2, stratify=y, random_state=0
    )
    return Case(name, x_train, y_train, x_test, y_test, (64, 32), epochs=100, batch=32)


def mnist(n_train: int, epochs: int) -> Case:
    data = nndl.load_mnist()
    x_train = data.train_images[:n_train].reshape(-1, 784).astype(np.float32)
    x_test = data.test_images.reshape(-1, 784).astype(np.float32)
    y_train, y_test = data.train_labels[:n_train], data.test_labels
    return Case(f"MNIST ({len(x_train):,} train, {len(x_test):,} test)", x_train,
                y_train.astype(np.int64), x_test, y_test.astype(np.int64), (128, 16), epochs, 256)  # fmt: skip


def nndl_model(case: Case, seed: int) -> Any:
    return nndl.NetClassifier(
        "mlp", arch_options={"hidden_sizes": case.hidden, "activation": "relu"},
        max_epochs=case.epochs, patience=0, lr=LR, weight_decay=0.0, batch_size=case.batch,
        optimizer="adam", val_fraction=0.0, standardize=True, random_state=seed,
    )  # fmt: skip


def mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width_in, width_out in itertools.pairwise(sizes[:-1]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def skorch_model(case: Case, seed: int) -> Pipeline:
    from skorch import NeuralNetClassifier

    torch.manual_seed(seed)  # skorch's weights and batch order come from torch's generator
    module = mlp((case.x_train.shape[1], *case.hidden, case.n_classes))
    net = NeuralNetClassifier(
        module, criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=LR,
        max_epochs=case.epochs, batch_size=case.batch, train_split=None,
        iterator_train__shuffle=True, device="cpu", verbose=0,
    )  # fmt: skip
    return make_pipeline(StandardScaler(), net)


MODELS = {"nndl": nndl_model, "skorch": skorch_model}


def compare(case: Case, rounds: int) -> dict[str, Any]:
    """Fit times and test accuracies of both sides over ``rounds`` seeds."""
    for make in MODELS.values():  # warm-up: lazy imports, first allocations
        make(case, 0).fit(case.x_train[:64], case.y_train[:64])
    seconds: dict[str, list[float]] = {name: [] for name in MODELS}
    accuracy: dict[str, list[float]] = {name: [] for name in MODELS}
    for seed in range(rounds):
        order = list(MODELS) if seed % 2 == 0 else list(reversed(MODELS))
        for name in order:
            model = MODELS[name](case, seed)
            start = time.perf_counter()
            model.fit(case.x_train, case.y_train)
            seconds[name].append(time.perf_counter() - start)
            accuracy[name].append(float(model.score(case.x_test, case.y_test)))
    fit = {name: statistics.median(values) for name, values in seconds.items()}
    return {
        "fit_seconds": fit,
        "fit_seconds_all": seconds,
        "ratio": fit["skorch"] / fit["nndl"],
        "accuracy": {name: spread(values) for name, values in accuracy.items()},
        "accuracy_within_noise": within_noise(accuracy, len(case.y_test)),
        "settings": {"train_rows": len(case.y_train), "test_rows": len(case.y_test),
                     "hidden_sizes": case.hidden, "epochs": case.epochs,
                     "batch_size": case.batch, "rounds": rounds},
    }  # fmt: skip


def spread(values: list[float]) -> dict[str, Any]:
    return {"mean": statistics.mean(values), "std": statistics.stdev(values), "values": values}


def within_noise(accuracy: dict[str, list[float]], n_test: int) -> bool:
    """Means apart by at most two standard errors of their difference, or one test row."""
    a, b = accuracy["nndl"], accuracy["skorch"]
    error = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
    return abs(statistics.mean(a) - statistics.mean(b)) <= max(2 * error, 1 / n_test)


# --- lines of user code: given arrays X, y (breast-cancer) and X_new ---------------------

_SKORCH_HEAD = """
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from torch import nn
"""
_SKORCH_NET = """
module = nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2))
net = NeuralNetClassifier(
    module,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=20,
    iterator_train__shuffle=True,
)
"""
SNIPPETS = {
    "train on arrays, predict": (
        """
from nndl import NetClassifier

clf = NetClassifier(max_epochs=20).fit(X, y)
pred = clf.predict(X_new)
""",
        _SKORCH_HEAD
        + _SKORCH_NET
        + """
pipe = make_pipeline(StandardScaler(), net).fit(X.astype("float32"), y)
pred = pipe.predict(X_new.astype("float32"))
""",
    ),
    "cross-validate": (
        """
from sklearn.model_selection import cross_val_score

from nndl import NetClassifier

scores = cross_val_score(NetClassifier(max_epochs=20), X, y, cv=5)
""",
        "\nfrom sklearn.model_selection import cross_val_score"
        + _SKORCH_HEAD
        + _SKORCH_NET
        + """
scores = cross_val_score(make_pipeline(StandardScaler(), net), X.astype("float32"), y, cv=5)
""",
    ),
    "grid search": (
        """
from sklearn.model_selection import GridSearchCV

from nndl import NetClassifier

grid = {"lr": [1e-3, 1e-2], "arch__hidden_sizes": [(32, 32), (64, 32)]}
search = GridSearchCV(NetClassifier(max_epochs=20), grid, cv=3).fit(X, y)
best = search.best_params_
""",
        "\nfrom sklearn.model_selection import GridSearchCV"
        + _SKORCH_HEAD
        + """

class MLP(nn.Module):
    def __init__(self, h1=64, h2=32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(30, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 2)
        )

    def forward(self, x):
        return self.layers(x)


net = NeuralNetClassifier(
    MLP,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=20,
    iterator_train__shuffle=True,
)
grid = {"neuralnetclassifier__lr": [1e-3, 1e-2], "neuralnetclassifier__module__h1": [32, 64]}
search = GridSearchCV(make_pipeline(StandardScaler(), net), grid, cv=3)
search.fit(X.astype("float32"), y)
best = search.best_params_
""",
    ),
    "save, load, predict": (
        """
from nndl import NetClassifier, load

clf = NetClassifier(max_epochs=20).fit(X, y)
clf.save("model.pt")
clf = load("model.pt")
pred = clf.predict(X_new)
""",
        "\nimport joblib"
        + _SKORCH_HEAD
        + _SKORCH_NET
        + """
pipe = make_pipeline(StandardScaler(), net).fit(X.astype("float32"), y)
joblib.dump(pipe, "model.joblib")
pipe = joblib.load("model.joblib")
pred = pipe.predict(X_new.astype("float32"))
""",
    ),
}


def code_lines(code: str) -> int:
    return sum(1 for line in code.splitlines() if line.strip() and not line.strip().startswith("#"))


def run_snippet(code: str, x: np.ndarray, y: np.ndarray) -> None:
    """Run ``code`` on ``X``, ``y``, ``X_new`` in a scratch folder; it must leave a result."""
    scope: dict[str, Any] = {"X": x, "y": y, "X_new": x[:5]}
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.chdir(tmp)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(textwrap.dedent(code), scope)
        finally:
            os.chdir(cwd)
    if not any(name in scope for name in ("pred", "scores", "best")):
        raise RuntimeError(f"snippet left no result:\n{code}")


def count_lines() -> dict[str, dict[str, int]]:
    x, y = load_breast_cancer(return_X_y=True)
    x, y = x[::3][:150], y[::3][:150]  # both classes, 150 rows
    lines = {}
    for task, (ours, theirs) in SNIPPETS.items():
        for code in (ours, theirs):
            run_snippet(code, x, y)
        lines[task] = {"nndl": code_lines(ours), "skorch": code_lines(theirs)}
    return lines


# --- report ----------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    import sklearn
    import skorch

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "avx512f": "avx512f" in flags,
            "torch": torch.__version__, "skorch": skorch.__version__,
            "sklearn": sklearn.__version__, "nndl": nndl.__version__,
            "torch_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}  # fmt: skip


def print_tables(results: dict[str, Any], lines: dict[str, Any], env: dict[str, Any]) -> None:
    print(f"date {env['date']}; avx512f: {'avx512f' if env['avx512f'] else '(none)'}; torch "
          f"{env['torch']}, skorch {env['skorch']}, scikit-learn {env['sklearn']}; "
          f"{env['torch_threads']} torch thread, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}")  # fmt: skip
    print(f"machine: {machine()}\n")
    print("| dataset | nndl fit s | skorch fit s | skorch / nndl | nndl acc | skorch acc |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        acc = {k: f"{v['mean']:.4f} ± {v['std']:.4f}" for k, v in r["accuracy"].items()}
        print(f"| {name} | {r['fit_seconds']['nndl']:.3f} | {r['fit_seconds']['skorch']:.3f} | "
              f"{r['ratio']:.2f}x | {acc['nndl']} | {acc['skorch']} |")  # fmt: skip
    print("\nfit s: median of the rounds; acc: mean ± std over the rounds' seeds (test set)")
    for name, r in results.items():
        s = r["settings"]
        print(f"- {name}: MLP {'-'.join(map(str, s['hidden_sizes']))}, {s['epochs']} epochs, "
              f"batch {s['batch_size']}, {s['rounds']} rounds; accuracy within noise: "
              f"{'yes' if r['accuracy_within_noise'] else 'NO'}")  # fmt: skip
    print("\n| task | nndl lines | skorch lines |\n|---|---|---|")
    for task, n in lines.items():
        print(f"| {task} | {n['nndl']} | {n['skorch']} |")
    print(f"\nsearch: {SEARCH}; every snippet ran; skorch saves with joblib (pickle).")


def main() -> None:
    if os.environ.get("OMP_NUM_THREADS") != "1":  # before torch starts its thread pool
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="fits per side, tabular data")
    parser.add_argument("--mnist-rounds", type=int, default=5, help="fits per side, MNIST")
    parser.add_argument("--mnist-train", type=int, default=60000, help="MNIST training images")
    parser.add_argument("--mnist-epochs", type=int, default=5, help="MNIST epochs")
    args = parser.parse_args()
    lines = count_lines()
    cases = [tabular("breast-cancer", load_breast_cancer), tabular("wine", load_wine)]
    results = {case.name: compare(case, args.rounds) for case in cases}
    case = mnist(args.mnist_train, args.mnist_epochs)
    results[case.name] = compare(case, args.mnist_rounds)
    env = environment()
    met = (
        all(r["ratio"] >= SPEED_TARGET and r["accuracy_within_noise"] for r in results.values())
        and all(n["nndl"] <= n["skorch"] for n in lines.values())
    )  # fmt: skip
    record("estimators", {"per_dataset": results, "ratio": {k: r["ratio"] for k, r in results.items()},
                          "lines": lines, "search": SEARCH, "environment": env, "met": met,
                          "targets": {"speed": f"skorch / nndl >= {SPEED_TARGET}x each dataset",
                                      "accuracy": "within noise", "lines": "nndl <= skorch each task"}})  # fmt: skip
    print_tables(results, lines, env)
    print(f"targets: >= {SPEED_TARGET}x, accuracy within noise, nndl lines <= skorch lines: "
          f"{'met' if met else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
