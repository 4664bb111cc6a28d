"""The tabular study through the real CLI: ``nndl tabular search`` and a study file's
``[tabular]`` section; a user's kind of study from a file of their own."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from nndl import Study
from user_data import diabetes_csvs, iris_csvs

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}  # one thread each (conftest)
    command = [sys.executable, "-m", "nndl", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_a_table_is_searched_refit_scored_and_its_net_predicts(tmp_path: Path) -> None:
    train, test = iris_csvs(tmp_path)
    out = tmp_path / "search"
    flags = ["--trials", "4", "--folds", "3", "--epochs", "30", "--quiet"]
    result = nndl_cli(
        "tabular",
        "search",
        "--train-csv",
        str(train),
        "--test-csv",
        str(test),
        *flags,
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no Optuna log lines, no warnings
    metrics = json.loads(result.stdout)
    assert metrics["trials"] == 4 and metrics["completed"] + metrics["pruned"] == 4
    assert metrics["test_accuracy"] > 0.8 and metrics["folds"] == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "best_params.json",
        "confusion_matrix.png",
        "loss_curves.png",
        "metrics.json",
        "model.pt",
        "search.csv",
    ]
    rows = list(csv.DictReader((out / "search.csv").open()))
    assert len(rows) == 4 and rows[0]["rank_test_score"] == "1"
    assert float(rows[0]["mean_test_score"]) == metrics["cv_accuracy"]
    assert json.loads((out / "best_params.json").read_text()) == metrics["best_params"]
    preds = tmp_path / "preds.csv"
    predicted = nndl_cli("predict", str(out), "--input", str(test), "--out", str(preds))
    assert predicted.returncode == 0, predicted.stderr
    labels = [r["label"] for r in csv.DictReader(preds.open())]
    truth = [r["species"] for r in csv.DictReader(test.open())]
    accuracy = sum(a == b for a, b in zip(labels, truth, strict=True)) / len(truth)
    assert accuracy == metrics["test_accuracy"]


def test_a_wrong_column_is_one_line_and_no_folder(tmp_path: Path) -> None:
    train, test = iris_csvs(tmp_path)
    out = tmp_path / "search"
    result = nndl_cli(
        "tabular",
        "search",
        "--train-csv",
        str(train),
        "--test-csv",
        str(test),
        "--target",
        "kind",
        "--out",
        str(out),
    )
    assert result.returncode == 1 and not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no column 'kind' (--target)" in lines[0]


def test_a_study_file_runs_the_tabular_study_and_reports_it(tmp_path: Path) -> None:
    train, test = iris_csvs(tmp_path)
    study = tmp_path / "iris.toml"
    study.write_text(
        f'[study]\nbudget = "quick"\n\n[tabular]\ntrain_csv = "{train}"\ntest_csv = "{test}"\n'
        'target = "species"\n',
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = nndl_cli("study", "run", str(study), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results) >= {"tabular", "budget_settings"} and "regression" not in results
    tabular = results["tabular"]
    assert tabular["completed"] + tabular["pruned"] == 4 and tabular["folds"] == 3  # quick
    assert tabular["test_accuracy"] > 0.6 and tabular["classes"] == sorted(tabular["classes"])
    assert sum(map(sum, tabular["confusion_matrix"])) == 30  # every test row counted once
    assert results["budget_settings"]["tabular"]["trials"] == 4
    assert 1 <= tabular["best_epoch"] <= tabular["epochs"] <= 10  # the quick budget's epochs
    report = (out / "report.md").read_text()
    assert "Tabular classification" in report
    for figure in ("confusion_matrix.png", "loss_curves.png"):
        assert f"tabular/{figure}" in report and (out / "tabular" / figure).is_file()
    assert (out / "tabular" / "model.pt").is_file()


def test_a_users_kind_of_study_runs_from_their_own_file(tmp_path: Path) -> None:
    train, test = diabetes_csvs(tmp_path)
    study = tmp_path / "curve.toml"
    kind = Path(__file__).resolve().parents[1] / "examples" / "my_studies.py"
    study.write_text(
        f'[study]\nbudget = "quick"\nkind = "{kind}:LearningCurve"\n\n'
        f'[curve]\ntrain_csv = "{train}"\ntest_csv = "{test}"\ntarget = "progression"\n',
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = nndl_cli("study", "run", str(study), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    points = json.loads((out / "results.json").read_text())["curve"]["points"]
    assert len(points) == 2 and all(-1 < p["test_r2"] <= 1 for p in points)
    assert points[0]["rows"] < points[-1]["rows"]  # the quick budget's half, then all rows
    report = (out / "report.md").read_text()
    assert "Learning curve" in report and report.startswith("# nndl: a study of your data")
    rerun = nndl_cli("study", "run", str(out / "study.toml"), "--out", str(tmp_path / "again"))
    assert rerun.returncode == 0, rerun.stderr  # the resolved file names the kind's file


def test_a_kind_declares_only_its_options_and_gets_the_common_fields() -> None:
    @dataclass(frozen=True)
    class Tiny(Study):
        rows: int = 3

        name = "tiny"
        budgets: ClassVar[dict[str, str]] = {"default": "small", "quick": "smaller"}

    study = Tiny(Path("o"), rows=5, seed=2)
    assert (study.rows, study.budget, study.seed, study.device) == (5, "small", 2, "cpu")
    assert Tiny(Path("o"), budget="smaller").budget == "smaller"
    assert Tiny.options() == {"rows", "sampler_seed"}  # the section's keys


def test_a_section_no_kind_registers_is_one_line_naming_the_kinds(tmp_path: Path) -> None:
    study = tmp_path / "bad.toml"
    study.write_text('[study]\nbudget = "quick"\n\n[curve]\nrows = 3\n', encoding="utf-8")
    result = nndl_cli("study", "run", str(study), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "unknown section(s) ['curve']; valid: study, regression, classify, tabular" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('refit_members = "five"', "[regression] refit_members = 'five': must be an integer"),
        ('standardize = "yes"', "[regression] standardize = 'yes': must be true or false"),
        ('inputs = "age"', "[regression] inputs = 'age': must be a list of strings"),
        ("trials = -1", "[regression] trials = -1: must be >= 1"),
    ],
)
def test_a_wrong_type_or_count_in_a_study_file_stops_before_any_work(
    tmp_path: Path, line: str, says: str
) -> None:
    study = tmp_path / "bad.toml"
    study.write_text(f'[study]\nbudget = "quick"\n\n[regression]\n{line}\n', encoding="utf-8")
    result = nndl_cli("study", "run", str(study), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and result.stderr.strip() == f"nndl: error: {study}: {says}"
    assert not (tmp_path / "run").exists()
