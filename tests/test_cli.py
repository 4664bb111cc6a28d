"""The real CLI in a subprocess: outputs of a run, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


COMMANDS = (
    *(
        "train",
        "predict",
        "regression",
        "classify",
        "tabular",
        "study",
        "reproduce",
        "report",
        "dashboard",
    ),
    "data",
    "summary",
)


def test_help_lists_commands() -> None:
    result = nndl("--help")
    assert result.returncode == 0
    indented_4 = [
        line for line in result.stdout.splitlines() if len(line) - len(line.lstrip()) == 4
    ]
    assert tuple(line.split()[0] for line in indented_4) == COMMANDS


def test_the_installed_console_script_runs() -> None:
    """`make setup` installs the `nndl` command that the README and `make demo` use."""
    script = Path(sys.executable).parent / "nndl"
    if not script.exists():
        pytest.skip(f"nndl is not installed beside {sys.executable}")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("nndl ")


def test_regression_run_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = nndl(
        "train", "--task", "regression", "--epochs", "20", "--patience", "5", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "history.csv",
        "loss.png",
        "metrics.json",
        "model.pt",
        "settings.toml",
        "summary.md",
    ]
    assert "| total | | | 16,897 | 16,640 |" in (out / "summary.md").read_text()  # 1-128-128-1
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {
        "train_loss",
        "val_loss",
        "test_loss",
        "epochs",
        "stop_reason",
        "seconds_per_epoch",
    }
    config = json.loads((out / "config.json").read_text())
    assert config["model_size"] == {"params": 16_897, "macs": 16_640}
    assert config["arch"] == "reg-basic" and config["train"]["max_epochs"] == 20
    assert config["train"]["patience"] == 5 and config["model"]["hidden_sizes"] == [128, 128]
    assert config["data"]["train"] == 90 and config["data"]["val"] == 10
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,train_loss,val_loss") and len(rows) == metrics["epochs"] + 1
    assert json.loads(result.stdout)["out"] == str(out)


def test_any_torch_optimizer_loss_and_lr_schedule_by_name(tmp_path: Path) -> None:
    out = tmp_path / "run"
    flags = ["--optimizer", "adamw", "--loss", "huber", "--lr-schedule", "step", "--lr-step", "2"]
    result = nndl("train", "--task", "regression", "--epochs", "5", *flags, "--out", str(out))
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())["train"]
    assert (config["optimizer"], config["loss"], config["lr_schedule"]) == (
        "adamw",
        "huber",
        "step",
    )
    rows = (out / "history.csv").read_text().splitlines()
    lrs = [float(r.split(",")[rows[0].split(",").index("lr")]) for r in rows[1:]]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5])
    bad = nndl("train", "--task", "regression", "--optimizer", "nesterov", "--out", str(out))
    assert bad.returncode == 2 and "optimizer 'nesterov'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_run_without_validation_trains_on_every_row_with_its_rate_milestones(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    flags = ["--val-fraction", "0", "--lr-schedule", "multistep", "--lr-milestones", "2,4"]
    result = nndl("train", "--task", "regression", "--epochs", "5", *flags, "--out", str(out))
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert (config["data"]["train"], config["data"]["val"]) == (100, 0)
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "epoch,train_loss,lr,seconds"
    assert [float(r.split(",")[2]) for r in rows[1:]] == pytest.approx(
        [1e-3, 1e-3, 1e-4, 1e-4, 1e-5]
    )
    again = nndl("train", "--settings", str(out / "settings.toml"), "--out", str(tmp_path / "b"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "b" / "history.csv").read_text().count("0.0001,") == 2
    bad = nndl("train", "--task", "regression", "--lr-milestones", "4,2", "--out", str(out))
    assert bad.returncode == 2 and "lr_milestones" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_monitoring_accuracy_on_numbers_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    flags = ["--patience", "5", "--monitor", "val_accuracy"]
    bad = nndl("train", "--task", "regression", *flags, "--out", str(out))
    assert bad.returncode == 2 and "class labels only; monitor val_loss" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (out / "model.pt").exists()


def test_regression_run_on_user_csv_files(tmp_path: Path) -> None:
    lines = ["input,label"] + [f"{x / 10},{(x / 10) ** 2}" for x in range(-30, 30)]
    (tmp_path / "train.csv").write_text("\n".join(lines))
    (tmp_path / "test.csv").write_text("\n".join(lines[:20]))
    result = nndl(
        "train",
        "--task",
        "regression",
        "--epochs",
        "3",
        "--train-csv",
        str(tmp_path / "train.csv"),
        "--test-csv",
        str(tmp_path / "test.csv"),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["train_csv"].endswith("train.csv") and config["data"]["train"] == 54


def good_csv(tmp_path: Path) -> str:
    path = tmp_path / "good.csv"
    path.write_text("input,label\n" + "\n".join(f"{i},{i}" for i in range(20)))
    return str(path)


BAD_INPUTS = {
    "missing csv": (
        ["--task", "regression", "--train-csv", "nope.csv", "--test-csv", "GOOD"],
        1,
        "nope.csv",
    ),
    "test file lacks a column": (  # x,y training columns; the test file has input,label
        ["--task", "regression", "--train-csv", "XY", "--test-csv", "GOOD"],
        1,
        "no column 'x' (--inputs); its columns: input, label",
    ),
    "one csv only": (["--task", "regression", "--train-csv", "GOOD"], 2, "both"),
    "unknown arch": (["--arch", "resnet"], 2, "known: cnn, dcnn, fcn, mlp, pdcnn, reg-basic"),
    "arch of other task": (["--task", "regression", "--arch", "dcnn"], 2, "net for images tasks"),
    "no pixel left": (["--arch", "cnn", "--strides", "4,4,4"], 2, "conv layer 3"),
    "dropout 1": (["--arch", "dcnn", "--dropout", "1.0,0.5"], 2, "dropout[0] = 1.0"),
    "zero size": (["--arch", "fcn", "--hidden", "128,0"], 2, "hidden_sizes[1] = 0"),
    "unknown activation": (["--arch", "fcn", "--activation", "swish"], 2, "activation 'swish'"),
    "negative fourier": (["--arch", "fcn", "--fourier", "-1"], 2, "fourier = -1.0: must be"),
    "fourier on a cnn": (["--arch", "cnn", "--fourier", "1"], 2, "--fourier applies to fcn"),
    "cnn flag on fcn": (["--arch", "fcn", "--channels", "8,16"], 2, "--channels applies to cnn"),
    "lr zero": (["--task", "regression", "--lr", "0"], 2, "lr = 0.0"),
    "batch too big": (["--task", "regression", "--batch-size", "1000"], 2, "batch_size = 1000"),
    "no gpu": (["--task", "regression", "--device", "cuda"], 2, "device 'cuda': no CUDA GPU"),
    "bad list": (["--arch", "cnn", "--channels", "8,x"], 2, "comma-separated list of integers"),
}


GOOD_ROWS = "\n".join(f"{i},{i}" for i in range(20))
BAD_FILES = {  # content of --train-csv -> a substring of the one-line error
    "missing header": (GOOD_ROWS.encode(), "expected 'input,label'"),
    "wrong columns": (b"input,label\n1,2,3\n" + GOOD_ROWS.encode(), "line 2"),
    "non-numeric": (b"input,label\n1,abc\n" + GOOD_ROWS.encode(), "abc"),
    "nan": (b"input,label\n1,nan\n" + GOOD_ROWS.encode(), "line 2"),
    "inf": (b"input,label\ninf,1\n" + GOOD_ROWS.encode(), "line 2"),
    "empty": (b"", "empty"),
    "one row": (b"input,label\n1,2\n", "row"),
    "duplicated header": (b"input,label\ninput,label\n" + GOOD_ROWS.encode(), "header"),
    "binary garbage": (bytes(range(256)) * 4, "UTF-8"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_data_file_is_one_line_without_traceback(tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    (tmp_path / "bad.csv").write_bytes(content)
    result = nndl(
        "train",
        "--task",
        "regression",
        "--train-csv",
        str(tmp_path / "bad.csv"),
        "--test-csv",
        good_csv(tmp_path),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "bad.csv" in result.stderr and expected in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    result = nndl(
        "train",
        "--task",
        "regression",
        "--train-csv",
        str(tmp_path),
        "--test-csv",
        good_csv(tmp_path),
    )
    assert (
        result.returncode == 1
        and "Traceback" not in result.stderr
        and str(tmp_path) in result.stderr
    )


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_without_traceback(tmp_path: Path, name: str) -> None:
    if name == "no gpu":
        pytest.importorskip("torch").cuda.is_available() and pytest.skip("a GPU is present")
    args, code, expected = BAD_INPUTS[name]
    xy = tmp_path / "xy.csv"
    xy.write_text("x,y\n" + "\n".join(f"{i},{i}" for i in range(20)))
    args = [{"GOOD": good_csv(tmp_path), "XY": str(xy)}.get(a, a) for a in args]
    result = nndl("train", *args, "--epochs", "1", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_failed_run_leaves_earlier_results_untouched(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert nndl("train", "--task", "regression", "--epochs", "2", "--out", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = nndl("train", "--task", "regression", "--epochs", "2", "--lr", "-1", "--out", str(out))
    assert result.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.slow
def test_mnist_run_on_real_data(tmp_path: Path) -> None:
    out = tmp_path / "mnist"
    result = nndl(
        "train", "--task", "mnist", "--arch", "fcn", "--epochs", "1", "--out", str(out), "--quiet"
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["train"] == 48000 and config["data"]["val"] == 12000
    assert config["data"]["test"] == 10000 and config["data"]["verified"] is True


@pytest.mark.slow
def test_data_mnist_prints_one_json_line() -> None:
    result = nndl("data", "mnist")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["train"] == 60000 and info["test"] == 10000 and info["verified"] is True
    assert info["train_counts"][1] == 6742 and info["test_counts"][9] == 1009


def test_training_flags_reach_the_run_and_its_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = nndl(
        "train",
        "--task",
        "regression",
        "--hidden",
        "16,8",
        "--activation",
        "tanh",
        "--fourier",
        "0.5",
        "--optimizer",
        "sgd",
        "--lr",
        "0.01",
        "--momentum",
        "0.9",
        "--patience",
        "0",
        "--epochs",
        "3",
        "--val-fraction",
        "0.25",
        "--split-seed",
        "3",
        "--seed",
        "7",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden_sizes"] == [16, 8] and config["model"]["activation"] == "tanh"
    assert config["model"]["fourier"] == 0.5
    train = config["train"]
    assert (
        train["optimizer"],
        train["lr"],
        train["momentum"],
        train["patience"],
        train["seed"],
    ) == ("sgd", 0.01, 0.9, None, 7)
    assert config["data"]["val"] == 25 and config["data"]["split_seed"] == 3  # 25% of 100 points
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["stop_reason"] == "max_epochs"  # --patience 0: off
    from nndl import load_checkpoint

    loaded = load_checkpoint(out / "model.pt")
    assert loaded.model.config.hidden_sizes == (16, 8) and loaded.train_config.optimizer == "sgd"  # type: ignore[union-attr]
    assert loaded.model.fourier_features.frequencies.shape == (1, 32)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "command", [["regression", "basic"], ["classify", "search"], ["reproduce"]], ids=" ".join
)
def test_unknown_device_name_is_one_line_in_every_study_command(
    tmp_path: Path, command: list[str]
) -> None:
    result = nndl(*command, "--quick", "--device", "gpu", "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "device 'gpu'" in result.stderr and "cpu, cuda, cuda:N, mps or auto" in result.stderr


def test_summary_shows_a_nets_layers_and_refuses_an_unknown_one() -> None:
    result = nndl("summary", "--arch", "dcnn", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["params"] == 45_114 and summary["macs"] == 151_104
    assert summary["layers"][-1]["output_shape"] == [10]
    wide = nndl("summary", "--arch", "cnn", "--input-shape", "1,32,32")
    assert wide.returncode == 0 and "| total |" in wide.stdout
    unknown = nndl("summary", "--arch", "nope")
    assert (
        unknown.returncode == 2 and "nope" in unknown.stderr and "Traceback" not in unknown.stderr
    )


def test_threads_come_from_the_flag_else_omp_num_threads(tmp_path: Path) -> None:
    def threads(*flags: str, omp: str | None) -> int:
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        env.update({"PYTHONPATH": SRC, **({"OMP_NUM_THREADS": omp} if omp else {})})
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        args = ["train", "--task", "regression", "--epochs", "1", "--out", str(out), "--quiet"]
        command = [sys.executable, "-m", "nndl", *args, *flags]
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        return int(json.loads((out / "config.json").read_text())["threads"])

    assert threads(omp="1") == 1
    assert threads("--threads", "2", omp="1") == 2  # the flag wins
    assert threads("--threads", "1", omp=None) == 1
    bad = nndl("train", "--threads", "0", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--threads" in bad.stderr
