"""The regression study's random search: its spec, ``random_search.csv``, and the parameters
of the best trial or of a ``--params`` file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nndl._inputs import read_json_object
from nndl._io import write_json
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError
from nndl.experiments.datasets import regression_points
from nndl.search.regression_space import SPACE, RegressionParams

if TYPE_CHECKING:
    from nndl.experiments.regression import RegressionStudy

__all__ = ["CSV_COLUMNS", "best_params", "export_search_csv", "run_search"]


def _study_spec(study: RegressionStudy, data: TensorData) -> Any:
    from nndl.search.regression import regression_settings
    from nndl.search.study import StudySpec

    return StudySpec(
        name="nndl-regression-random-search",
        out=study.home,
        trials=study.trials or study.budget.trials,
        settings=regression_settings(data, study.budget.max_epochs, 5, study.seed),
        sampler="random",
        storage=study.storage,
        workers=study.workers,
        seed=study.seed if study.sampler_seed is None else study.sampler_seed,
        progress=not study.quiet,
        max_trials=study.max_trials,
    )


def run_search(study: RegressionStudy) -> dict[str, Any]:
    """Report 2.2: random search, 5 folds per trial, pruning; exports ``random_search.csv``."""
    from nndl.search.regression import RegressionSearchJob
    from nndl.search.workers import run_study

    data = regression_points(study.train_csv, study.test_csv)[0]
    spec = _study_spec(study, data)
    job = RegressionSearchJob(
        study.train_csv,
        study.test_csv,
        study.budget.max_epochs,
        5,
        study.seed,
        study.device,
        study.batch_folds,
    )
    summary = run_study(spec, job)
    summary["csv_rows"] = export_search_csv(study, data)
    write_json(study.out / "search" / "summary.json", summary)
    return summary


CSV_COLUMNS = [
    "Nh1",
    "Nh2",
    "Nh3",
    "Nh4",
    "activation_function",
    "dropout_prob_1",
    "dropout_prob_2",
    "dropout_prob_3",
    "dropout_prob_4",
    "lr",
    "weight_decay",
    "train_batch_size",
    "patience",
    "avg_train_loss",
    "avg_val_loss",
    "train_time [min]",
]


def export_search_csv(study: RegressionStudy, data: TensorData) -> int:
    """``random_search.csv``: one row per trial with the report's columns."""
    from nndl.search.export import export_trials_csv
    from nndl.search.study import open_study

    def row(trial: Any) -> dict[str, Any]:
        attrs = trial.user_attrs
        return {
            **trial.params,
            "dropout_prob_1": 0.0,
            "dropout_prob_4": 0.0,
            "avg_train_loss": attrs.get("avg_train_loss", ""),
            "avg_val_loss": attrs.get("avg_val_loss", ""),
            "train_time [min]": attrs.get("train_time_min", ""),
        }

    return export_trials_csv(
        open_study(_study_spec(study, data)), study.out / "random_search.csv", CSV_COLUMNS, row
    )


def best_params(study: RegressionStudy, params_file: str | None) -> RegressionParams:
    """Parameters from a JSON file, else the best completed trial of the study."""
    if params_file is not None:
        return RegressionParams.from_dict(
            read_json_object(params_file, "--params"), f"--params {params_file}"
        )
    from nndl.search.study import open_study, summarize

    data = regression_points(study.train_csv, study.test_csv)[0]
    summary = summarize(open_study(_study_spec(study, data)), 0.0)
    if not summary["completed"]:
        raise ConfigError(
            "best",
            [
                f"no completed trial in the study of {study.home}; run `nndl regression "
                "search` first or give --params FILE"
            ],
        )
    return RegressionParams(**{k: summary["best_params"][k] for k in SPACE})
