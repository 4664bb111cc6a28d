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
            prepared=study.search_space,
            threshold=study.prune_at["threshold"],
            folds=study.folds,
        ),
        sampler=study.budget.sampler,
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
        space_state=dict(vars(study.search_space)),  # a copy: the job is frozen
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
    """``random_search.csv``: one row per trial with the search space's columns."""
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


def _ranked_trials(study: RegressionStudy, best: Run) -> list[Any]:
    """The search's completed trials by validation loss; none when ``best`` is not the
    search's best (parameters from a file: the answer is theirs alone)."""
    from nndl.search.study import open_study

    trials = open_study(_study_spec(study, study.task.points()[0])).trials
    done = sorted(
        (t for t in trials if t.state.name == "COMPLETE"), key=lambda t: float(t.value or 0)
    )
    first = study.search_space.run(dict(done[0].params)).to_dict() if done else None
    return done if first == best.to_dict() else []


def runner_ups(study: RegressionStudy, best: Run, count: int) -> list[tuple[Run, int]]:
    """The search's next ``count`` configurations after ``best`` by validation loss, each with
    the median of its folds' restored best epochs (none when ``best`` is not the search's)."""
    from nndl.search.regression import median_epoch

    if count < 1:
        return []
    space = study.search_space
    return [
        (space.run(dict(t.params)), median_epoch(epochs))
        for t in _ranked_trials(study, best)[1 : count + 1]
        if (epochs := t.user_attrs.get("fold_best_epochs"))
    ]


def second_ranking(
    study: RegressionStudy, best: Run, *, folds: str | None = None, alone: bool = False
) -> list[tuple[float, Run, list[int]]]:
    """The search's best ``study.answer_finalists`` cross-validated again on k folds cut with
    another seed and ranked by their mean validation loss over both cuts (2k fold nets, as
    ``--folds repeated`` ranks every trial), best first: each one's loss (the data's units),
    parameters, and 2k folds' restored best epochs. Empty when ``best`` is not the search's
    best. ``folds``: the second cut's kind (the study's when None); ``alone``: ranked by the
    second cut's loss alone (bench/regression_answers.py measures both)."""
    from nndl.search.regression import cross_validate, fold_epochs

    data, units = study.task.points()[0], study.task.loss_scale
    options = {**study.fold_options(), "seed": study.seed + 1}
    if folds:
        options["folds"] = folds
    scored = []
    for trial in _ranked_trials(study, best)[: study.answer_finalists]:
        run = study.search_space.run(dict(trial.params))
        result = cross_validate(run, data, study.budget.max_epochs, **options)
        cut = result.mean_val_loss * units
        loss = cut if alone else (float(trial.value) + cut) / 2
        epochs = [*trial.user_attrs["fold_best_epochs"]]
        epochs += fold_epochs(result.folds)
        scored.append((loss, run, epochs))
    scored.sort(key=lambda s: s[0])
    return scored
