"""The MNIST study of the report (section 3, appendices A-B): four nets, the architecture
search, the best net, every figure, and how the PDCNN tells noise from digits."""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nndl._inputs import read_json_object
from nndl._io import write_json
from nndl.errors import ConfigError
from nndl.experiments._study import StudyFolders

__all__ = [
    "FULL",
    "NETS",
    "QUICK",
    "ClassifyBudget",
    "ClassifyStudy",
    "run_all",
    "run_best",
    "run_nets",
    "run_search",
]

NETS = ("fcn", "cnn", "dcnn", "pdcnn")


@dataclass(frozen=True)
class ClassifyBudget:
    """How much to train: the report's budget, or a quick one that still runs every stage."""

    max_epochs: int = 100
    trials: int = 50
    max_trials: int | None = 50  # the report's 50 trials, invalid nets included
    search_max_epochs: int = 100
    train_limit: int | None = None
    actmax_steps: int = 200
    ood_images: int = 2000


FULL = ClassifyBudget()
QUICK = ClassifyBudget(
    max_epochs=3, trials=3, search_max_epochs=1, train_limit=12000, actmax_steps=30, ood_images=300
)


@dataclass(frozen=True)
class ClassifyStudy(StudyFolders):
    """Where MNIST is, where results go, and how to run.

    ``seed`` seeds the splits, folds and weights (a study resumes only with the same one);
    ``sampler_seed`` (default ``seed``) only the search's sampler: give each machine its own.
    """

    out: Path
    data_dir: str | None = None
    device: str = "cpu"
    budget: ClassifyBudget = field(default_factory=ClassifyBudget)
    seed: int = 0
    sampler_seed: int | None = None
    workers: int = 1
    storage: str | None = None
    trials: int | None = None
    max_trials: int | None = None
    space: str = "report"
    quiet: bool = False
    pruner: str = "median"
    store_dir: Path | None = None


def train_net(
    study: ClassifyStudy, arch: str, name: str | None = None, model: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], nn.Module]:  # fmt: skip
    """Train one net on the 80/20 split with the report's settings; its Table 2 row and the net."""
    from nndl.experiments.train import TrainJob, run_train, train_config_for
    from nndl.training.checkpoint import load_checkpoint

    settings = {
        "max_epochs": study.budget.max_epochs,
        "seed": study.seed,
        "device": study.device,
        **(train or {}),
    }
    job = TrainJob("mnist", arch, train_config_for("mnist", arch, **settings), study.out / "nets" / (name or arch),
                   model or {}, study.data_dir, quiet=study.quiet, limit=study.budget.train_limit)  # fmt: skip
    metrics = run_train(job)
    keys = (
        "train_loss",
        "val_loss",
        "test_accuracy",
        "test_loss",
        "epochs",
        "stop_reason",
        "seconds_per_epoch",
    )
    return {k: metrics[k] for k in keys}, load_checkpoint(job.out / "model.pt").model


def run_nets(study: ClassifyStudy) -> tuple[dict[str, Any], dict[str, nn.Module]]:
    """Table 2's first four rows: FCN, CNN, DCNN and PDCNN on the same split."""
    rows, models = {}, {}
    for arch in NETS:
        rows[arch], models[arch] = train_net(study, arch)
    return rows, models


def _search_job(study: ClassifyStudy) -> Any:
    from nndl.search.cnn import CNNSearchJob

    return CNNSearchJob(study.data_dir, study.space, study.budget.search_max_epochs, seed=study.seed,
                        device=study.device, train_limit=study.budget.train_limit)  # fmt: skip


def _study_spec(study: ClassifyStudy) -> Any:
    from nndl.search.cnn import cnn_settings
    from nndl.search.study import StudySpec

    job = _search_job(study)
    rows = study.budget.train_limit or 60_000
    return StudySpec(name=f"nndl-mnist-search-{study.space}", out=study.home, trials=study.trials or study.budget.trials,
                     settings=cnn_settings(job, rows), sampler="tpe", storage=study.storage,
                     workers=study.workers, seed=study.seed if study.sampler_seed is None else study.sampler_seed, progress=not study.quiet,
                     max_trials=study.max_trials or study.budget.max_trials, pruner=study.pruner)  # fmt: skip


def run_search(study: ClassifyStudy) -> dict[str, Any]:
    """Report 3.1-3.2: the Optuna search; ``optuna_search.csv`` and Figure 6."""
    from nndl.search.study import open_study, run_study

    summary = run_study(_study_spec(study), _search_job(study))
    optuna_study = open_study(_study_spec(study))
    summary.update(_prune_counts(optuna_study))
    summary["csv_rows"] = export_search_csv(optuna_study, study.out / "optuna_search.csv")
    _search_figures(optuna_study, study.figures)
    write_json(study.out / "search" / "summary.json", summary)
    return summary


def _prune_counts(optuna_study: Any) -> dict[str, Any]:
    from optuna.trial import TrialState

    pruned = optuna_study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    invalid = [t.user_attrs["invalid_layer"] for t in pruned if "invalid_layer" in t.user_attrs]
    curve = sum(
        str(t.user_attrs.get("prune_reason", "")).startswith("learning curve") for t in pruned
    )
    return {"pruned_invalid": len(invalid), "pruned_learning_curve": curve,
            "pruned": len(pruned) - len(invalid) - curve,
            "invalid_by_layer": dict(sorted(collections.Counter(invalid).items()))}  # fmt: skip


CSV_COLUMNS = ["channels", "kernel_sizes", "strides", "paddings", "dropouts_probabilities", "Nhs", "lr",
               "weight_decay", "avg_train_loss", "avg_val_loss", "train_time [min]"]  # fmt: skip


def _csv_row(trial: Any) -> dict[str, Any]:
    p, a = trial.params, trial.user_attrs
    n = int(p.get("ncl", 0))

    def layers(key: str) -> list[Any]:
        return [p.get(f"{key}{j}") for j in range(1, n + 1)]

    return {"channels": layers("ch"), "kernel_sizes": layers("ks"), "strides": layers("stride"),
            "paddings": layers("pad"), "dropouts_probabilities": [p.get("p1"), p.get("p2")],
            "Nhs": [p.get("Nh1"), p.get("Nh2")], "lr": p.get("lr"), "weight_decay": p.get("weight_decay"),
            "avg_train_loss": a.get("avg_train_loss", ""), "avg_val_loss": a.get("avg_val_loss", ""),
            "train_time [min]": a.get("train_time_min", "")}  # fmt: skip


def export_search_csv(optuna_study: Any, path: Path) -> int:
    """``optuna_search.csv``: the report's columns, plus trial, state and prune reason."""
    from nndl.search.export import export_trials_csv

    return export_trials_csv(optuna_study, path, CSV_COLUMNS, _csv_row)


FIGURE_6 = {"channels": ["ch1", "ch2"], "linear": ["Nh1", "Nh2"], "lr_wd": ["lr", "weight_decay"]}


def _search_figures(optuna_study: Any, figures: Path) -> None:
    """Figure 6: contour plots and hyperparameter importances (Optuna's matplotlib backend)."""
    import warnings

    from optuna.visualization.matplotlib import plot_contour, plot_param_importances

    from nndl.viz._mpl import save_figure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, params in FIGURE_6.items():
            axes: Any = plot_contour(optuna_study, params=params)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            save_figure(figure, figures / f"figure_6_contour_{name}.png")
        save_figure(
            plot_param_importances(optuna_study).figure, figures / "figure_6_importances.png"
        )


def best_params(study: ClassifyStudy, params_file: str | None) -> dict[str, Any]:
    """Parameters from a JSON file, else the best completed trial of the search."""
    if params_file is not None:
        return _checked_params(read_json_object(params_file, "--params"), params_file)
    from nndl.search.study import open_study, summarize

    summary = summarize(open_study(_study_spec(study)), 0.0)
    if not summary["completed"]:
        raise ConfigError("best", [f"no completed trial in the search of {study.home}; run `nndl classify search` "
                                   "first or give --params FILE"])  # fmt: skip
    return dict(summary["best_params"])


def _checked_params(params: dict[str, Any], source: str) -> dict[str, Any]:
    from nndl.search.cnn_space import cnn_config

    n: Any = params.get("ncl")
    if "ncl" not in params:
        raise ConfigError(f"--params {source}", ["missing key 'ncl' (the number of conv layers)"])
    if not _is_int(n):
        raise ConfigError(
            f"--params {source}", [f"ncl = {n!r}: must be an integer number of conv layers"]
        )
    layer_keys = [f"{k}{j}" for j in range(1, int(n) + 1) for k in ("ch", "ks", "stride", "pad")]
    needed = ["ncl", *layer_keys, "p1", "p2", "Nh1", "Nh2", "lr", "weight_decay"]
    problems = [f"missing key {k!r}" for k in needed if k not in params]
    problems += [f"unknown key {k!r}" for k in params if k not in needed]
    if problems:
        raise ConfigError(f"--params {source}", [*problems, f"expected keys: {', '.join(needed)}"])
    reals = ("p1", "p2", "lr", "weight_decay")
    problems = [
        f"{k} = {params[k]!r}: must be an integer"
        for k in needed
        if k not in reals and not _is_int(params[k])
    ]
    problems += [
        f"{k} = {params[k]!r}: must be a finite number" for k in reals if not _is_real(params[k])
    ]
    if problems:
        raise ConfigError(f"--params {source}", problems)
    cnn_config(params)
    return params


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def run_best(study: ClassifyStudy, params: dict[str, Any]) -> tuple[dict[str, Any], nn.Module]:
    """Retrain the best configuration on the 80/20 split: Table 2's "best" row."""
    from nndl.search.cnn_space import cnn_config

    config = cnn_config(params)
    fields = {"channels": config.channels, "kernel_sizes": config.kernel_sizes, "strides": config.strides,
              "paddings": config.paddings, "linear_sizes": config.linear_sizes, "dropout": config.dropout}  # fmt: skip
    train = {"lr": float(params["lr"]), "weight_decay": float(params["weight_decay"])}
    row, model = train_net(study, "dcnn", "best", fields, train)
    row["params"] = params
    return row, model


def run_figures(study: ClassifyStudy, models: dict[str, nn.Module]) -> dict[str, Any]:
    """Figures 4, 5, 7, 8, the best net's confusion matrix, and the not-a-digit measures."""
    from nndl.data.perlin import PerlinNoise
    from nndl.evaluation.ood import confusion_matrix, not_a_digit_measures
    from nndl.experiments.datasets import mnist_task_data
    from nndl.viz import actmax
    from nndl.viz import classification as cls
    from nndl.viz._mpl import save_figure

    data = mnist_task_data(study.data_dir, 0.2, study.seed, study.budget.train_limit)
    test_x, test_y = data.test.x, data.test.y
    noise = PerlinNoise(seed=study.seed + 1).sample(study.budget.ood_images)
    fig = study.figures
    probe = torch.cat([test_x[:1], noise[:2]])
    captions = [f"MNIST test digit {int(test_y[0])}", "Perlin noise", "Perlin noise"]
    save_figure(
        cls.plot_class_probabilities(cls.class_probabilities(models, probe, captions)),
        fig / "figure_4_probabilities.png",
    )
    config = replace(actmax.ActMaxConfig(), steps=study.budget.actmax_steps)
    save_figure(
        actmax.plot_activation_grid(actmax.activation_grid(models, config)),
        fig / "figure_5_activation_maximization.png",
    )
    save_figure(
        cls.plot_feature_maps(cls.feature_maps(models["cnn"], test_x[0])),
        fig / "figure_7_feature_maps.png",
    )
    emb = cls.embedding(models["cnn"], test_x[:2000], test_y[:2000])
    save_figure(
        cls.plot_embedding(emb, "CNN penultimate features (PCA)"), fig / "figure_7_embedding.png"
    )
    save_figure(
        cls.plot_first_layer_weights(cls.first_layer_weights(models["fcn"])),
        fig / "figure_8_fcn_weights.png",
    )
    best = models.get("best", models["dcnn"])
    cm = confusion_matrix(best, test_x, test_y, 10)
    save_figure(
        cls.plot_confusion_matrix(cm, [str(i) for i in range(10)]), fig / "confusion_matrix.png"
    )
    digits = test_x[: study.budget.ood_images * 5]
    return not_a_digit_measures(models["pdcnn"], digits, noise, label=10)


def run_all(
    study: ClassifyStudy, params_file: str | None = None, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """The four nets, the search, the best net and the figures; writes ``results.json``."""
    from nndl._timing import timed

    with timed(timings, "mnist nets"):
        rows, models = run_nets(study)
    with timed(timings, "mnist search"):
        search = run_search(study)
    with timed(timings, "mnist best"):
        best_row, models["best"] = run_best(study, best_params(study, params_file))
    with timed(timings, "mnist figures"):
        ood = run_figures(study, models)
    table = {
        k: {m: r[m] for m in ("train_loss", "val_loss", "test_accuracy")} for k, r in rows.items()
    }
    table["best"] = {m: best_row[m] for m in ("train_loss", "val_loss", "test_accuracy")}
    keys = (
        "completed",
        "pruned_invalid",
        "pruned_learning_curve",
        "pruned",
        "failed",
        "seconds",
        "trials_before",
        "best_params",
        "best_value",
        "invalid_by_layer",
    )
    results = {
        "nets": table,
        "search": {k: search.get(k) for k in keys},
        "ood": ood,
        "space": study.space,
        "pruner": study.pruner,
    }
    write_json(study.out / "results.json", results)
    return results
