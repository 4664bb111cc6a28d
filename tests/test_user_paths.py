"""The paths a new user takes, through the real CLI in a subprocess: their own CSV with many
columns, another IDX image set (Fashion-MNIST), a tabular CSV with string labels, their own net
and search space in their own file, and a rerun from a run's own settings file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from user_data import (
    FASHION_CLASSES,
    FASHION_DIR,
    diabetes_csvs,
    fashion_names,
    iris_csvs,
    needs_fashion,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def nndl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}  # one thread each (conftest)
    command = [sys.executable, "-m", "nndl", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def ok(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_csv_with_ten_input_columns_runs_the_regression_study_with_its_report(tmp_path):
    train, test = diabetes_csvs(tmp_path)
    study = tmp_path / "diabetes.toml"
    study.write_text(
        f'[study]\nbudget = "quick"\n[regression]\ntrain_csv = "{train}"\n'
        f'test_csv = "{test}"\ntarget = "progression"\n'
    )
    ok(nndl("study", "run", str(study), "--out", str(tmp_path / "run"), "--quiet"))
    run = tmp_path / "run"
    results = json.loads((run / "results.json").read_text())["regression"]
    assert results["data"]["inputs"] == [
        "age",
        "sex",
        "bmi",
        "bp",
        "s1",
        "s2",
        "s3",
        "s4",
        "s5",
        "s6",
    ]
    variance = results["data"]["standardized"]["target_std"] ** 2  # losses in the data's units
    for row in ("best", "refit", "gp"):
        assert 0.0 < results[row]["test_loss"] < variance  # better than predicting the mean
    figures = sorted(p.name for p in (run / "regression" / "figures").iterdir())
    assert figures == ["figure_1_basic.png", "figure_2_best.png"]  # no 1-D fit probes
    report = (run / "report.md").read_text()
    assert "predicted against true values" in report and "report train" not in report
    assert "Target progression from age, sex, bmi" in report
    assert (run / "study.toml").read_text().count("progression") == 1


@needs_fashion
def test_fashion_mnist_runs_the_image_study_with_its_class_names(tmp_path):
    names = fashion_names(tmp_path)
    study = tmp_path / "fashion.toml"
    study.write_text(
        f'[study]\nbudget = "quick"\n[classify]\ndata_dir = "{FASHION_DIR}"\n'
        f'class_names = "{names}"\n'
    )
    ok(nndl("study", "run", str(study), "--out", str(tmp_path / "run"), "--quiet"))
    results = json.loads((tmp_path / "run" / "results.json").read_text())["classify"]
    assert results["dataset"] == "fashion-mnist"
    assert results["classes"] == list(FASHION_CLASSES)
    assert results["nets"]["cnn"]["test_accuracy"] > 0.5  # 3 epochs on 12,000 images
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Image classification: fashion-mnist" in report and "Ankle boot" in report
    assert "digit" not in report.lower() and "MNIST" not in report.replace("fashion-mnist", "")


def test_a_tabular_csv_with_string_labels_trains_a_classifier(tmp_path):
    train, test = iris_csvs(tmp_path)
    out = tmp_path / "run"
    metrics = ok(
        nndl(
            "train",
            "--task",
            "tabular",
            "--train-csv",
            str(train),
            "--test-csv",
            str(test),
            "--out",
            str(out),
            "--quiet",
        )
    )
    assert metrics["test_accuracy"] >= 0.8
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert config["model"]["input_size"] == 4 and config["model"]["output_size"] == 3
    bad = nndl(
        "train",
        "--task",
        "tabular",
        "--train-csv",
        str(train),
        "--test-csv",
        str(test),
        "--target",
        "colour",
        "--out",
        str(tmp_path / "bad"),
    )
    assert bad.returncode == 1 and "no column 'colour'" in bad.stderr
    assert "species" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_a_users_net_and_space_train_search_checkpoint_and_reload(tmp_path):
    arch, space = f"{EXAMPLES}/my_nets.py:WideMLP", f"{EXAMPLES}/my_nets.py:WideSpace"
    out = tmp_path / "train"
    ok(
        nndl(
            "train",
            "--task",
            "regression",
            "--arch",
            arch,
            "--epochs",
            "20",
            "--out",
            str(out),
            "--quiet",
        )
    )
    study = tmp_path / "study"
    result = ok(
        nndl("regression", "all", "--quick", "--space", space, "--out", str(study), "--quiet")
    )
    assert set(result["best"]["params"]) == {"width", "lr"}
    header = (study / "random_search.csv").read_text().splitlines()[0]
    assert header.startswith("width,lr,avg_train_loss")
    reload = (
        "import sys, torch; from nndl.plugins import load_file; load_file(sys.argv[1]);"
        "from nndl.training.checkpoint import load_checkpoint as load;"
        "m = load(sys.argv[2]).model; print(type(m.config).__name__, m.config.width,"
        " float(m(torch.zeros(1, 1))))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    loaded = subprocess.run(
        [sys.executable, "-c", reload, f"{EXAMPLES}/my_nets.py", str(study / "best" / "model.pt")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert loaded.stdout.split()[:2] == ["WideMLP", str(result["best"]["params"]["width"])]
    without = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from nndl.training.checkpoint import load_checkpoint as l; l(sys.argv[1])",
            str(out / "model.pt"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert "my_nets.py; load it first" in without.stderr
    rows = tmp_path / "new.csv"
    rows.write_text("input\n0.5\n-1.0\n")
    flags = ("predict", str(out), "--input", str(rows), "--out", str(tmp_path / "p.csv"))
    refused = nndl(*flags)
    assert refused.returncode == 1 and "nndl predict --plugin FILE" in refused.stderr
    ok(nndl(*flags, "--plugin", f"{EXAMPLES}/my_nets.py"))
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 3  # a header and two rows


def test_a_users_task_in_a_file_trains(tmp_path):
    metrics = ok(
        nndl(
            "train",
            "--task",
            f"{EXAMPLES}/my_tasks.py:NoisySine",
            "--epochs",
            "30",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        )
    )
    assert metrics["test_loss"] < 0.3  # sin(x) on [-3, 3] has variance ~0.45


def test_a_rerun_from_the_runs_settings_file_gives_the_same_numbers(tmp_path):
    first = ok(
        nndl(
            "train",
            "--task",
            "regression",
            "--arch",
            f"{EXAMPLES}/my_nets.py:WideMLP",
            "--epochs",
            "15",
            "--lr",
            "0.01",
            "--out",
            str(tmp_path / "a"),
            "--quiet",
        )
    )
    settings = tmp_path / "a" / "settings.toml"
    again = ok(nndl("train", "--settings", str(settings), "--out", str(tmp_path / "b"), "--quiet"))
    for key in ("train_loss", "val_loss", "test_loss", "epochs", "best_epoch"):
        assert again[key] == first[key]
    assert (tmp_path / "b" / "settings.toml").read_text() == settings.read_text()
    mixed = nndl("train", "--settings", str(settings), "--lr", "0.1", "--out", str(tmp_path / "c"))
    assert mixed.returncode == 2 and "drop --lr" in mixed.stderr


def test_a_rerun_from_another_folder_reads_the_files_of_the_first_run(tmp_path):
    first, other = tmp_path / "first", tmp_path / "other"
    for folder, scale in ((first, 1.0), (other, 2.0)):  # same columns, other labels
        folder.mkdir()
        for name, shift in (("train.csv", 0.0), ("test.csv", 0.05)):
            rows = [f"{x / 10 + shift:.3f},{scale * (x % 7) / 7:.3f}" for x in range(-30, 30)]
            (folder / name).write_text("input,label\n" + "\n".join(rows) + "\n")
    flags = ["--task", "regression", "--arch", "reg-basic", "--epochs", "5", "--quiet"]
    csvs = ["--train-csv", "train.csv", "--test-csv", "test.csv"]
    once = ok(nndl("train", *flags, *csvs, "--out", "run", cwd=first))
    settings = first / "run" / "settings.toml"
    assert str(first / "train.csv") in settings.read_text()
    again = ok(nndl("train", "--settings", str(settings), "--out", "b", "--quiet", cwd=other))
    assert again["test_loss"] == once["test_loss"]
    mixed = nndl("train", "--settings", str(settings), "--epochs", "9", "--out", "c", cwd=other)
    assert mixed.returncode == 2 and "drop --epochs" in mixed.stderr
