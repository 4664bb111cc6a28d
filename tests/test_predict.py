"""``nndl predict`` through the real CLI: a run's net on raw rows, columns by name, the data's
units for regression, an estimator's saved file, and one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import nndl
from nndl.errors import DataError
from nndl.experiments.predict import predict_file
from user_data import diabetes_csvs, iris_csvs

SRC = str(Path(__file__).resolve().parents[1] / "src")
IRIS_INPUTS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def nndl_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}  # one thread each (conftest)
    command = [sys.executable, "-m", "nndl", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def ok(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nndl: error: "), result.stderr
    return lines[0]


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = list(csv.reader(path.open()))
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


@pytest.fixture(scope="module")
def tabular_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 3-epoch iris run and its test CSV."""
    folder = tmp_path_factory.mktemp("iris")
    train, test = iris_csvs(folder)
    run = folder / "run"
    ok(
        nndl_cli(
            *("train", "--task", "tabular", "--train-csv", str(train), "--test-csv", str(test)),
            *("--epochs", "3", "--out", str(run), "--quiet"),
        )
    )
    return run, test


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")  # x: an array
def test_a_tabular_run_predicts_on_raw_rows_taken_by_name(
    tabular_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run, test = tabular_run
    header, rows = read_csv(test)
    order = ["species", *reversed(IRIS_INPUTS)]  # other order, the target still there
    shuffled = write_csv(
        tmp_path / "new.csv", order, [[r[header.index(c)] for c in order] for r in rows]
    )
    out = tmp_path / "preds.csv"
    summary = ok(nndl_cli("predict", str(run), "--input", str(shuffled), "--out", str(out)))
    columns = ["label", "p_setosa", "p_versicolor", "p_virginica"]
    assert summary == {"out": str(out), "rows": 30, "columns": columns}
    got_header, got = read_csv(out)
    assert got_header == columns
    proba = np.array([[float(v) for v in row[1:]] for row in got])
    x = np.array([[float(r[header.index(c)]) for c in IRIS_INPUTS] for r in rows])
    assert np.allclose(proba, nndl.load(run).predict_proba(x), atol=1e-6)
    scaling = json.loads((run / "config.json").read_text())["data"]["scaling"]
    assert scaling["inputs"] == IRIS_INPUTS
    z = (x - scaling["input_mean"]) / scaling["input_std"]  # computed apart from nndl's code
    net = nndl.load_checkpoint(run / "model.pt").model.eval()
    expected = torch.softmax(net(torch.tensor(z, dtype=torch.float32)), 1).detach().numpy()
    assert np.allclose(proba, expected, atol=1e-5)
    classes = np.array(columns[1:])
    assert [row[0] for row in got] == [c[2:] for c in classes[expected.argmax(1)]]


def test_a_missing_column_is_one_line_naming_it(
    tabular_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run, test = tabular_run
    bad = tmp_path / "bad.csv"
    bad.write_text(test.read_text().replace("petal_width", "petal_w", 1))
    out = tmp_path / "preds.csv"
    line = one_line_error(nndl_cli("predict", str(run), "--input", str(bad), "--out", str(out)))
    assert "no column 'petal_width'" in line and ", ".join(IRIS_INPUTS) in line
    assert not out.exists()


def test_bad_model_and_input_files_are_one_line(
    tabular_run: tuple[Path, Path], tmp_path: Path
) -> None:
    run, test = tabular_run
    out = str(tmp_path / "preds.csv")
    line = one_line_error(
        nndl_cli("predict", str(tmp_path / "none"), "--input", str(test), "--out", out)
    )
    assert f"checkpoint {tmp_path / 'none'}: cannot read the file" in line
    with pytest.raises(DataError, match="not a readable nndl checkpoint"):
        predict_file(test, test, out)
    np.save(tmp_path / "x.npy", np.zeros((3, 5)))
    with pytest.raises(DataError, match=r"shape \(3, 5\); the net takes rows of 4 number"):
        predict_file(run, tmp_path / "x.npy", out)
    with pytest.raises(DataError, match="cannot read the file"):
        predict_file(run, tmp_path / "missing.csv", out)
    assert not Path(out).exists()


def test_load_regressor_refuses_a_classification_checkpoint(tabular_run: tuple[Path, Path]) -> None:
    run, _ = tabular_run
    with pytest.raises(DataError) as info:
        nndl.load_regressor(run / "model.pt")
    assert str(info.value) == (
        f"checkpoint {run / 'model.pt'} holds a tabular (classification) net, not a regression "
        "net: use nndl.load(path)"
    )


def test_a_regression_run_predicts_in_the_datas_units(tmp_path: Path) -> None:
    train, test = diabetes_csvs(tmp_path)
    run, out = tmp_path / "run", tmp_path / "preds.csv"
    ok(
        nndl_cli(
            *("train", "--task", "regression", "--train-csv", str(train), "--test-csv", str(test)),
            *("--target", "progression", "--epochs", "3", "--out", str(run), "--quiet"),
        )
    )
    ok(nndl_cli("predict", str(run), "--input", str(test), "--out", str(out)))
    header, rows = read_csv(out)
    assert header == ["progression"]  # one net: no std
    predicted = np.array([float(r[0]) for r in rows])
    test_header, test_rows = read_csv(test)
    inputs = test_header[:-1]
    x = np.array([[float(r[test_header.index(c)]) for c in inputs] for r in test_rows])
    assert np.allclose(predicted, nndl.load_regressor(run).predict(x), rtol=1e-5)
    s = json.loads((run / "config.json").read_text())["data"]["standardized"]
    net = nndl.load_checkpoint(run / "model.pt").model.eval()
    z = torch.tensor((x - s["input_mean"]) / s["input_std"], dtype=torch.float32)
    units = net(z).detach().numpy()[:, 0] * s["target_std"] + s["target_mean"]
    assert np.allclose(predicted, units, rtol=1e-5)
    assert abs(predicted.mean() - s["target_mean"]) < s["target_std"]  # not standardized numbers


def test_a_saved_estimator_predicts_through_the_cli(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)) * [1, 10, 100], columns=["a", "b", "c"])
    y = X["a"] * 50 + X["b"] + 7
    reg = nndl.NetRegressor(max_epochs=3, n_members=2, random_state=0).fit(X, y)
    reg.save(tmp_path / "reg.pt")
    rows = X.assign(noise=1.0)[["noise", "c", "a", "b"]]  # columns by name, extra ignored
    rows.to_csv(tmp_path / "x.csv", index=False)
    out = tmp_path / "preds.csv"
    ok(
        nndl_cli(
            "predict",
            str(tmp_path / "reg.pt"),
            "--input",
            str(tmp_path / "x.csv"),
            "--out",
            str(out),
        )
    )
    header, got = read_csv(out)
    assert header == ["prediction", "std"]  # fit on a Series: the target's name is not kept
    mean, std = reg.predict(X, return_std=True)
    assert np.allclose(np.array(got, dtype=float), np.column_stack([mean, std]), rtol=1e-5)


def test_an_estimator_fitted_on_an_array_takes_columns_in_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    clf = nndl.NetClassifier(max_epochs=3, random_state=0).fit(X, np.where(X[:, 0] > 0, "hi", "lo"))
    clf.save(tmp_path / "clf.pt")
    write_csv(tmp_path / "x.csv", ["u", "v"], X.tolist())
    predict_file(tmp_path / "clf.pt", tmp_path / "x.csv", tmp_path / "preds.csv")
    header, got = read_csv(tmp_path / "preds.csv")
    assert header == ["label", "p_hi", "p_lo"] and [r[0] for r in got] == list(clf.predict(X))
    write_csv(tmp_path / "x3.csv", ["u", "v", "w"], [[*r, 0] for r in X.tolist()])
    with pytest.raises(DataError, match=r"3 column\(s\), expected 2: .* columns in order"):
        predict_file(tmp_path / "clf.pt", tmp_path / "x3.csv", tmp_path / "preds.csv")


def test_an_image_run_predicts_on_raw_uint8_images(tmp_path: Path) -> None:
    from nndl.data._idx import write_idx
    from nndl.data.tensors import images_to_tensor

    rng = np.random.default_rng(0)
    data = tmp_path / "idx"
    data.mkdir()
    for prefix, n in (("train", 120), ("t10k", 20)):
        labels = rng.integers(0, 2, n).astype(np.uint8)
        images = rng.integers(0, 100, (n, 28, 28)).astype(np.uint8) + 150 * labels[:, None, None]
        write_idx(data / f"{prefix}-images-idx3-ubyte", images.astype(np.uint8))
        write_idx(data / f"{prefix}-labels-idx1-ubyte", labels)
    run = tmp_path / "run"
    ok(
        nndl_cli(
            *("train", "--task", "images", "--data-dir", str(data), "--arch", "fcn"),
            *("--epochs", "2", "--batch-size", "16", "--out", str(run), "--quiet"),
        )
    )
    predict_file(run, data / "t10k-images-idx3-ubyte", tmp_path / "preds.csv")
    header, got = read_csv(tmp_path / "preds.csv")
    assert header == ["label", "p_class 0", "p_class 1"]
    net = nndl.load_checkpoint(run / "model.pt").model.eval()
    expected = torch.softmax(net(images_to_tensor(images)), 1).detach().numpy()
    assert np.allclose(np.array([r[1:] for r in got], dtype=float), expected, atol=1e-6)
    np.save(tmp_path / "small.npy", images[:, :20, :20])
    with pytest.raises(DataError, match=r"shape \(20, 20, 20\); the net takes images of 28x28"):
        predict_file(run, tmp_path / "small.npy", tmp_path / "preds.csv")
