"""``nndl tabular search`` through the real CLI: a searched classifier for a CSV table."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from user_data import iris_csvs

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
