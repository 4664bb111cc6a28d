"""The regression study's random search: its spec, ``random_search.csv``, and the parameters
of the best trial or of a ``--params`` file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nndl._io import write_json
from nndl.data.tensors import TensorData
from nndl.search.spaces import Run

if TYPE_CHECKING:
    from nndl.experiments.regression import RegressionStudy

__all__ = ["best_params", "export_search_csv", "run_search"]


def _study_spec(study: RegressionStudy, data: TensorData) -> Any:
    from nndl.search.regression import regression_settings
    from nndl.search.study import StudySpec

    return StudySpec(
        name="nndl-regression-random-search",
        out=study.home,
        trials=study.trials or study.budget.trials,
        settings=regression_settings(
            data,
            study.budget.max_epochs,
            study.fold_options()["k"],
            seed=study.seed,
            space=study.space,
            threshold=study.prune_at["threshold"],
            folds=study.folds,
        ),
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
    from nndl.search.study import check_completed
    from nndl.search.workers import run_study

    data = study.task.points()[0]
    spec = _study_spec(study, data)
    job = RegressionSearchJob(
        task=study.task,
        max_epochs=study.budget.max_epochs,
        space=study.space,
        prune_at=study.prune_at["threshold"],
        **study.fold_options(),
    )
    summary = run_study(spec, job)
    summary["csv_rows"] = export_search_csv(study)
    summary["prune"] = study.prune_at
    write_json(study.out / "search" / "summary.json", summary)
    check_completed(summary, spec, hint=NOTHING_COMPLETED)
    return summary


NOTHING_COMPLETED = (
    "give it a larger --prune-fraction (1.0: prune only folds no better than the mean), more "
    "epochs, another --space, or --params FILE"
)


def export_search_csv(study: RegressionStudy) -> int:
    """``random_search.csv``: one row per trial with the report's columns."""
    from nndl.search.export import export_space_csv
    from nndl.search.study import open_study

    spec = _study_spec(study, study.task.points()[0])
    return export_space_csv(open_study(spec), study.out / "random_search.csv", study.search_space)


def best_params(study: RegressionStudy, params_file: str | None) -> Run:
    """Parameters from a JSON file, else the best completed trial of the study."""
    from nndl.search.study import open_study

    return study.search_space.chosen(
        params_file,
        lambda: open_study(_study_spec(study, study.task.points()[0])),
        where=str(study.home),
        command="nndl regression search",
    )


def runner_ups(study: RegressionStudy, best: Run, count: int) -> list[tuple[Run, int]]:
    """The search's next ``count`` configurations after ``best`` by validation loss, each with
    the median of its folds' restored best epochs (none when ``best`` is not the search's)."""
    import statistics

    from nndl.search.study import open_study

    if count < 1:
        return []
    trials = open_study(_study_spec(study, study.task.points()[0])).trials
    done = sorted(
        (t for t in trials if t.state.name == "COMPLETE"), key=lambda t: float(t.value or 0)
    )
    space = study.search_space
    runs = [(space.run(dict(t.params)), t.user_attrs.get("fold_best_epochs")) for t in done]
    if not runs or runs[0][0].to_dict() != best.to_dict():
        return []  # parameters from a file: the answer is theirs alone
    return [(run, max(1, round(statistics.median(e)))) for run, e in runs[1 : count + 1] if e]
