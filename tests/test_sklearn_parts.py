"""What nndl takes from scikit-learn and its one CSV reader and standardizer: the numbers as a
user sees them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nndl.data.regression import load_csv
from nndl.data.scaling import Scaling
from nndl.data.table import read_table
from nndl.errors import DataError
from nndl.evaluation import confusion_matrix
from nndl.tasks.tabular import TabularTask
from nndl.viz.classification import embedding


class _FirstPixel(nn.Module):
    """Predicts the class written in the first pixel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(x[:, 0, 0, 0].long(), 5).float()


def test_a_class_nobody_has_keeps_its_row_and_column() -> None:
    images = torch.tensor([0.0, 1.0, 1.0, 4.0]).reshape(-1, 1, 1, 1)
    cm = confusion_matrix(_FirstPixel(), images, torch.tensor([0, 1, 4, 4]), num_classes=5)
    assert cm.dtype == torch.int64 and cm.shape == (5, 5)
    assert cm[:, 2].sum() == cm[2].sum() == 0 and cm[4, 1] == 1 and cm.trace() == 3


def test_a_one_feature_net_gets_a_flat_second_axis() -> None:
    images, labels = torch.arange(6.0).reshape(-1, 1), torch.arange(6) % 2
    emb = embedding(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 2)), images, labels)
    assert emb.points.shape == (6, 2) and (emb.points[:, 1] == 0).all()
    assert emb.explained_variance_ratio is not None
    np.testing.assert_allclose(emb.explained_variance_ratio, [1.0, 0.0])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_any_table_and_the_reports_files_share_one_reader(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i / 4}\n" for i in range(12))
    data = load_csv(_write(tmp_path / "q.csv", f'"input",label\n{rows}\n\n'))
    np.testing.assert_array_equal(data.y, np.arange(12, dtype=np.float32) / 4)
    for text, expected in [
        (f"input,label\n1,2\n\n{rows}", "line 3: 0 column(s)"),
        (f"a,b\n{rows}a,b\n", "line 14: the header 'a,b' appears again"),
        ("a,b\n", "only the header, no data rows"),
    ]:
        with pytest.raises(DataError, match=re.escape(expected)):
            read_table(_write(tmp_path / "t.csv", text), "--train-csv")


def test_tabular_features_are_scaled_in_float32_and_recorded_as_a_scaling(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.lognormal(sigma=3, size=(40, 2)).astype(np.float32)  # float64 arithmetic differs
    lines = [f"{a!r},{b!r},{'ab'[i % 2]}" for i, (a, b) in enumerate(x.tolist())]
    train = _write(tmp_path / "train.csv", "\n".join(["f,g,y", *lines]))
    task = TabularTask(train_csv=str(train), test_csv=str(train))
    tx, _, _, _, classes, record = task.arrays
    mean, std = x.mean(0), x.std(0)
    assert tx.dtype == np.float32 and classes == ("a", "b")
    np.testing.assert_array_equal(tx, (x - mean) / std)
    assert Scaling.from_dict(record) == Scaling.fit_inputs(x)
    assert record["input_mean"] == mean.tolist() and record["inputs"] == ["f", "g"]
