"""Budgets by name: the default (a multi-fidelity MNIST search), the report's protocol, quick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch

from nndl.errors import UsageError
from nndl.experiments import classify as cls
from nndl.experiments.budgets import BUDGET_NAMES, classify_budget, regression_budget
from nndl.experiments.classify_search import _search_job, _study_spec
from nndl.search.classify import ClassifySearchJob, classify_settings
from nndl.search.limits import DCNN_MACS
from nndl.training.callbacks import StopReason
from nndl.training.evolver import History
from nndl.training.kfold import FoldResult
from user_data import FASHION_DIR, needs_fashion

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_report_budget_is_the_reports_protocol() -> None:
    report = classify_budget("report")
    with pytest.raises(UsageError, match="budget 'full': valid: default, report, quick"):
        regression_budget("full")
    assert (report.max_epochs, report.trials, report.max_trials, report.search_max_epochs) == (
        100,
        50,
        50,
        100,
    )
    assert (report.space, report.pruner, report.search_max_macs, report.fold_gate) == (
        "report",
        "median",
        None,
        False,
    )
    study = cls.ClassifyStudy(Path("x"), budget=report)
    # the settings a report-budget search resumes by: the keys they had before budgets had names
    settings = classify_settings(_search_job(study), 60_000)
    assert set(settings) == {
        *("kind", "space", "ranges", "k", "n_folds", "max_epochs", "patience"),
        *("batch_size", "train_rows", "seed", "data"),
    }
    assert settings["space"] == "report" and settings["max_epochs"] == 100
    assert _study_spec(study).pruner == "median" and _study_spec(study).trials == 50


def test_default_budget_searches_multi_fidelity_and_trains_nets_like_the_report() -> None:
    study = cls.ClassifyStudy(Path("x"))  # no budget given: the default one
    assert study.budget.name == "default" and study.budget.max_epochs == 100
    assert (study.space, study.pruner) == ("feasible", "hyperband")
    job = _search_job(study)
    assert job.fold_gate and job.max_macs == 4 * DCNN_MACS and job.max_epochs == 12
    assert classify_settings(job, 60_000)["fold_gate"] is True
    assert _study_spec(study).settings["pruner"] == "hyperband"  # a resume with another refused
    assert isinstance(optuna.pruners.HyperbandPruner(), type(_pruner_of(study)))
    # a study's own space and pruner win over the budget's
    own = cls.ClassifyStudy(Path("x"), space="report", pruner="none")
    assert (own.space, own.pruner) == ("report", "none")
    # the regression study's default: the report's protocol, the fourier space, 20 trials, the
    # answer's configurations ranked again among six, the protocol's fold nets in the answer
    assert regression_budget("default") == replace(
        regression_budget("report"),
        name="default",
        space="fourier",
        trials=20,
        finalists=6,
        fold_nets=True,
    )


@needs_fashion
def test_default_budget_on_other_image_data_searches_pooled_nets_on_fewer_images() -> None:
    study = cls.ClassifyStudy(Path("x"), data_dir=str(FASHION_DIR))  # any image set but MNIST
    dataset = classify_budget("default").dataset
    assert dataset is not None and study.budget == replace(dataset, dataset=None)
    assert (study.space, study.pruner, study.budget.max_epochs) == ("pooled", "hyperband", 50)
    job = _search_job(study)
    assert (job.train_limit, job.max_epochs, job.max_macs) == (15_000, 10, 55 * DCNN_MACS)
    assert _study_spec(study).settings["train_rows"] == 15_000
    # MNIST and the other budgets keep one budget for every image set
    assert cls.ClassifyStudy(Path("x")).budget.search_rows is None
    quick = cls.ClassifyStudy(Path("x"), data_dir="f", budget=classify_budget("quick"))
    assert quick.budget == classify_budget("quick") and quick.space == "report"


def _pruner_of(study: cls.ClassifyStudy) -> optuna.pruners.BasePruner:
    from nndl.search.study import _pruner

    return _pruner(_study_spec(study))


def _fold(fold: int, val_loss: float) -> FoldResult:
    return FoldResult(
        fold, 0.1, val_loss, 3, StopReason.MAX_EPOCHS, 1.0, History(), torch.nn.Identity()
    )


def test_second_fold_runs_only_after_a_first_fold_at_most_the_median() -> None:
    study = optuna.create_study()
    job = ClassifySearchJob(fold_gate=True)
    for loss in (0.10, 0.20, 0.30):
        trial = study.ask()
        assert job._fold_end(trial, _fold(0, loss))  # fewer than 4 first folds: no gate yet
        study.tell(trial, loss)
    trial = study.ask()
    assert job._fold_end(trial, _fold(0, 0.9))  # the 4th: still open
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)  # a pruned trial's first fold counts
    trial = study.ask()
    assert job._fold_end(trial, _fold(0, 0.25))  # median of 0.1, 0.2, 0.3, 0.9 is 0.25
    assert job._fold_end(trial, _fold(1, 5.0))  # only the first fold is gated
    study.tell(trial, 0.3)
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned):
        job._fold_end(trial, _fold(0, 0.26))  # median of 0.1, 0.2, 0.25, 0.3, 0.9 is 0.25
    assert trial.user_attrs["prune_reason"] == (
        "first fold not promising: validation loss 0.2600 > 0.2500, the median first fold of "
        "5 trials before it (the second fold was not run)"
    )
    assert ClassifySearchJob(fold_gate=False)._fold_end(study.ask(), _fold(0, 9.0))


def test_budget_flags_and_study_file_budgets_are_checked(tmp_path: Path) -> None:
    both = nndl("classify", "search", "--quick", "--budget", "report", "--out", str(tmp_path / "a"))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    bad = nndl("reproduce", "--budget", "fast", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "invalid choice: 'fast'" in bad.stderr
    study = tmp_path / "s.toml"
    study.write_text('[study]\nbudget = "fast"\n[regression]\n')
    result = nndl("study", "run", str(study), "--out", str(tmp_path / "c"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("[study] budget = 'fast'; valid: default, report, quick")
    assert BUDGET_NAMES == ("default", "report", "quick")


def test_default_budget_search_through_the_cli_records_costs_and_reasons(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ("--train-rows", "1500", "--max-epochs", "2", "--trials", "8", "--max-trials", "8")
    result = nndl("classify", "search", "--out", str(out), "--quiet", *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "search" / "summary.json").read_text())
    states = ("completed", "pruned_learning_curve", "pruned_too_slow", "pruned_first_fold")
    assert sum(summary[k] for k in (*states, "pruned", "pruned_invalid")) == 8
    assert summary["pruned_invalid"] == 0  # the feasible space samples only valid nets
    storage = f"sqlite:///{out}/study.db"
    (name,) = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    assert name == "nndl-classify-search-feasible"
    trials = optuna.load_study(study_name=name, storage=storage).trials
    assert all(t.user_attrs["macs"] > 0 for t in trials)
    slow = [t for t in trials if t.user_attrs["macs"] > 4 * DCNN_MACS]
    assert all(t.user_attrs["prune_reason"].startswith("too slow") for t in slow)
    assert len(slow) == summary["pruned_too_slow"]


def test_best_of_a_search_under_another_budget_says_so_and_creates_no_study(tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert nndl("classify", "search", "--quick", "--out", str(out), "--quiet").returncode == 0
    best = nndl("classify", "best", "--out", str(out), "--quiet")  # the default budget: feasible
    assert best.returncode == 2 and "Traceback" not in best.stderr
    assert "holds a search of the space report, not feasible" in best.stderr
    assert "--budget" in best.stderr
    names = [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{out}/study.db")]
    assert names == ["nndl-classify-search-report"]
