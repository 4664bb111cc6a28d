"""The MNIST study's architecture search: its spec, the exported CSV, Figure 6, and the
parameters of the best trial or of a ``--params`` file."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nndl._io import write_json
from nndl.errors import ConfigError
from nndl.search.spaces import Run

if TYPE_CHECKING:
    from nndl.experiments.classify import ClassifyStudy

__all__ = ["best_params", "export_search_csv", "run_search"]


def _search_job(study: ClassifyStudy) -> Any:
    from nndl.search.classify import ClassifySearchJob

    return ClassifySearchJob(
        study.data_dir,
        study.space,
        study.budget.search_max_epochs,
        seed=study.seed,
        device=study.device,
        train_limit=study.budget.search_rows or study.budget.train_limit,
        class_names=study.class_names,
        max_macs=study.max_macs or study.budget.search_max_macs,
        fold_gate=study.budget.fold_gate,
        task_options=study.task_options,
    )


def _study_spec(study: ClassifyStudy) -> Any:
    from nndl.search.classify import classify_settings
    from nndl.search.study import StudySpec

    job = _search_job(study)
    rows = job.train_limit or 60_000
    return StudySpec(
        name=f"nndl-classify-search-{study.space}",
        out=study.home,
        trials=study.trials or study.budget.trials,
        settings=classify_settings(job, rows, study.pruner),
        sampler="tpe",
        storage=study.storage,
        workers=study.workers,
        seed=study.seed if study.sampler_seed is None else study.sampler_seed,
        progress=not study.quiet,
        max_trials=study.max_trials or study.budget.max_trials,
        pruner=study.pruner,
    )


def run_search(study: ClassifyStudy) -> dict[str, Any]:
    """Report 3.1-3.2: the Optuna search; ``optuna_search.csv`` and Figure 6."""
    from nndl.search.study import check_completed, open_study
    from nndl.search.workers import run_study

    spec = _study_spec(study)
    summary = run_study(spec, _search_job(study))
    optuna_study = open_study(spec)
    summary.update(_prune_counts(optuna_study))
    summary["csv_rows"] = export_search_csv(study)
    write_json(study.out / "search" / "summary.json", summary)
    check_completed(summary, spec, hint="more --max-trials, another --space, or --params FILE")
    _search_figures(optuna_study, study.figures, study.search_space.contours)
    return summary


def _prune_counts(optuna_study: Any) -> dict[str, Any]:
    from optuna.trial import TrialState

    pruned = optuna_study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    invalid = [t.user_attrs["invalid_layer"] for t in pruned if "invalid_layer" in t.user_attrs]
    reasons = [str(t.user_attrs.get("prune_reason", "")) for t in pruned]
    curve = sum(reason.startswith("learning curve") for reason in reasons)
    slow = sum(reason.startswith("too slow") for reason in reasons)
    gate = sum(reason.startswith("first fold") for reason in reasons)
    return {
        "pruned_invalid": len(invalid),
        "pruned_learning_curve": curve,
        "pruned_too_slow": slow,
        "pruned_first_fold": gate,
        "pruned": len(pruned) - len(invalid) - curve - slow - gate,
        "invalid_by_layer": dict(sorted(collections.Counter(invalid).items())),
    }


CSV_COLUMNS = [
    "channels",
    "kernel_sizes",
    "strides",
    "paddings",
    "dropouts_probabilities",
    "Nhs",
    "lr",
    "weight_decay",
    "avg_train_loss",
    "avg_val_loss",
    "train_time [min]",
]


def _csv_row(trial: Any) -> dict[str, Any]:
    p, a = trial.params, trial.user_attrs
    n = int(p.get("ncl", 0))

    def layers(key: str) -> list[Any]:
        return [p.get(f"{key}{j}") for j in range(1, n + 1)]

    return {
        "channels": layers("ch"),
        "kernel_sizes": layers("ks"),
        "strides": layers("stride"),
        "paddings": layers("pad"),
        "dropouts_probabilities": [p.get("p1"), p.get("p2")],
        "Nhs": [p.get("Nh1"), p.get("Nh2")],
        "lr": p.get("lr"),
        "weight_decay": p.get("weight_decay"),
        "avg_train_loss": a.get("avg_train_loss", ""),
        "avg_val_loss": a.get("avg_val_loss", ""),
        "train_time [min]": a.get("train_time_min", ""),
    }


def export_search_csv(study: ClassifyStudy) -> int:
    """``optuna_search.csv``: the report's columns for its spaces (a user space: its own), then
    the losses, trial, state and prune reason."""
    from nndl.search.classify_space import CNNSpace
    from nndl.search.export import export_space_csv, export_trials_csv
    from nndl.search.study import open_study

    optuna_study, path = open_study(_study_spec(study)), study.out / "optuna_search.csv"
    if isinstance(study.search_space, CNNSpace):
        return export_trials_csv(optuna_study, path, CSV_COLUMNS, row=_csv_row)
    return export_space_csv(optuna_study, path, study.search_space)


def _search_figures(optuna_study: Any, figures: Path, contours: dict[str, list[str]]) -> None:
    """Figure 6: contour plots and hyperparameter importances (Optuna's matplotlib backend)."""
    import warnings

    from optuna.visualization.matplotlib import plot_contour, plot_param_importances

    from nndl.viz._mpl import save_figure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, params in contours.items():
            axes: Any = plot_contour(optuna_study, params=params)
            figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
            save_figure(figure, figures / f"figure_6_contour_{name}.png")
        save_figure(
            plot_param_importances(optuna_study).figure, figures / "figure_6_importances.png"
        )


def _check_searched(study: ClassifyStudy) -> None:
    """A search of another space (another budget) in the storage: say so instead of opening
    (and so creating) an empty study of this one."""
    import warnings

    import optuna

    from nndl.search.study import resolve_storage

    spec = _study_spec(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        names = [s.study_name for s in optuna.get_all_study_summaries(resolve_storage(spec)[0])]
    if names and spec.name not in names:
        prefix = spec.name.removesuffix(study.space)
        found = ", ".join(n.removeprefix(prefix) for n in names if n.startswith(prefix))
        if not found:
            raise ConfigError(
                "best",
                [
                    f"{study.home} holds another study's search ({', '.join(names)}); give another --out"
                ],
            )
        raise ConfigError(
            "best",
            [
                f"{study.home} holds a search of the space {found}, not {study.space} (this "
                f"budget's, {study.budget.name}); give the search's --budget or --space"
            ],
        )


def best_params(study: ClassifyStudy, params_file: str | None) -> Run:
    """Parameters from a JSON file, else the best completed trial of the search."""
    from nndl.search.study import open_study

    def search() -> Any:
        _check_searched(study)
        return open_study(_study_spec(study))

    return study.search_space.chosen(
        params_file, search, where=str(study.home), command="nndl classify search"
    )
