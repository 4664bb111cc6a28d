"""Regression from a CSV file with a header: any number of numeric input columns, one target.

Without files: the built-in 1-D data of the report's kind. The report's ``input,label`` files
are read by :func:`nndl.data.regression.load_csv` exactly as before; any other header by the
general table reader, with ``inputs`` (default: every column but the target) and ``target``
(default: ``label`` when there is one, else the last column).

``standardize`` (default: on for any table but the report's ``input,label`` format and the
built-in data, which keep the report's protocol exactly) scales inputs and target by the
training rows' mean and standard deviation; losses are then in units of the target's variance
(1.0 = predicting the mean), and the scaling is kept in the run's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from nndl.data.regression import HEADER, check_csv_pair, default_data, load_csv
from nndl.data.table import Table, read_table
from nndl.errors import UsageError
from nndl.tasks.base import Task, register_task

__all__ = ["RegressionTask", "table_columns"]


@register_task
@dataclass(frozen=True)
class RegressionTask(Task):
    """Regression on numeric columns; MSE loss, models selected by validation MSE."""

    name: ClassVar[str] = "regression"
    family: ClassVar[str] = "regression"
    loss: ClassVar[str] = "mse"
    metrics: ClassVar[tuple[str, ...]] = ("loss",)
    val_fraction: ClassVar[float] = 0.1
    default_arch: ClassVar[str] = "reg-basic"
    figures: ClassVar[tuple[str, ...]] = ("loss_curves", "fit")

    train_csv: str | None = None
    test_csv: str | None = None
    inputs: tuple[str, ...] | None = None
    target: str | None = None
    standardize: bool | None = None

    def check(self) -> None:
        check_csv_pair(self.train_csv, self.test_csv)
        if self.train_csv is None and (self.inputs or self.target):
            raise UsageError("--inputs/--target name columns of --train-csv/--test-csv files")
        self.arrays  # noqa: B018 (reads and checks both files)

    def shapes(self) -> tuple[tuple[int, ...], int]:
        return (self.arrays[0].shape[1],), 1

    @property
    def input_names(self) -> tuple[str, ...]:
        """The input columns' names (``input`` for the report's files and the built-in data)."""
        return self.arrays[4]

    @property
    def dataset(self) -> str:
        return "built-in 1-D data" if self.train_csv is None else str(self.train_csv)

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], str]:
        """train x ``(n, d)``, train y ``(n, 1)``, test x, test y, input names, target name."""
        if self.train_csv is None or self.test_csv is None:
            check_csv_pair(self.train_csv, self.test_csv)
            train, test = default_data()
            pairs = [(d.x.reshape(-1, 1), d.y.reshape(-1, 1)) for d in (train, test)]
            return (*pairs[0], *pairs[1], ("input",), "label")
        if self.report_format:
            train, test = load_csv(self.train_csv), load_csv(self.test_csv)
            pairs = [(d.x.reshape(-1, 1), d.y.reshape(-1, 1)) for d in (train, test)]
            return (*pairs[0], *pairs[1], ("input",), "label")
        tx, ty, sx, sy, inputs, target = self._table
        if self.standardize is False:
            return tx, ty, sx, sy, inputs, target
        (tx, sx), (ty, sy) = _standardized(tx, sx), _standardized(ty, sy)
        return tx, ty, sx, sy, inputs, target

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], str]:
        """The two CSV files' chosen columns as they are (read once)."""
        tables = (
            read_table(str(self.train_csv), "--train-csv"),
            read_table(str(self.test_csv), "--test-csv"),
        )
        inputs, target = table_columns(tables[0], self.inputs, self.target)
        (tx, ty), (sx, sy) = [
            (t.numbers(inputs, "--inputs"), t.numbers((target,), "--target")) for t in tables
        ]
        return tx, ty, sx, sy, inputs, target

    @property
    def scaling(self) -> dict[str, Any] | None:
        """Mean and standard deviation of inputs and target on the training rows, when scaled."""
        if not self._scaled:
            return None
        x, y = self._table[:2]
        return {
            "input_mean": x.mean(0).tolist(),
            "input_std": _std(x).tolist(),
            "target_mean": float(y.mean()),
            "target_std": float(_std(y)[0]),
        }

    @cached_property
    def report_format(self) -> bool:
        """The built-in data or the report's ``input,label`` files, taken as they are."""
        if self.train_csv is None:
            return True
        plain = self.inputs is None and self.target is None and not self.standardize
        return plain and _header(self.train_csv) == HEADER

    @property
    def _scaled(self) -> bool:
        return not self.report_format and self.standardize is not False

    def points(self, limit: int | None = None) -> tuple[Any, Any]:
        import torch

        from nndl.data.tensors import TensorData

        tx, ty, sx, sy = (torch.from_numpy(np.ascontiguousarray(a)) for a in self.arrays[:4])
        return TensorData(tx[:limit], ty[:limit]), TensorData(sx, sy)

    def info(self) -> dict[str, Any]:
        train, test = default_data() if self.train_csv is None else (None, None)
        info: dict[str, Any] = {  # the keys results.json has always had
            "train_csv": train.source if train else str(self.train_csv),
            "test_csv": test.source if test else str(self.test_csv),
        }
        if self.input_names != ("input",):
            info.update(inputs=list(self.input_names), target=self.arrays[5])
        if self._scaled:
            info["standardized"] = self.scaling
        return info


def _std(a: np.ndarray) -> np.ndarray:
    std = a.std(0)
    std[std == 0] = 1.0
    return std


def _standardized(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both scaled by the training rows' mean and standard deviation (per column)."""
    mean, std = train.mean(0), _std(train)
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def table_columns(
    table: Table, inputs: tuple[str, ...] | None, target: str | None
) -> tuple[tuple[str, ...], str]:
    """The input and target columns: given, or every column but the target (``label`` or the last)."""
    target = target or ("label" if "label" in table.header else table.header[-1])
    table.column_index(target, "--target")
    chosen = inputs or tuple(c for c in table.header if c != target)
    for name in chosen:
        table.column_index(name, "--inputs")
    if target in chosen:
        raise UsageError(f"--inputs: the target column {target!r} cannot also be an input")
    return chosen, target


def _header(path: str) -> str:
    """The first line of ``path`` without spaces, BOM and line end (the full checks come later)."""
    from nndl._inputs import MAX_TABLE_BYTES, check_readable_file

    check_readable_file(path, "--train-csv", MAX_TABLE_BYTES)
    with open(path, "rb") as f:  # its first line only, not the whole file
        first = f.read(4096).decode("utf-8-sig", "replace")
    return ",".join(c.strip() for c in first.splitlines()[0].split(",")) if first.strip() else ""
