"""Regression from a CSV file with a header: any number of numeric input columns, one target.

Without files: the built-in 1-D data of the report's kind. The report's ``input,label`` files
are read by :func:`nndl.data.regression.load_csv` exactly as before; any other header by the
general table reader, with ``inputs`` (default: every column but the target) and ``target``
(default: ``label`` when there is one, else the last column).

``standardize`` (default on; ``False`` trains on the numbers as they are) scales inputs and
target by the training rows' mean and standard deviation (:class:`nndl.data.scaling.Scaling`):
the nets train on standardized numbers, whatever the data's units, and the studies report
losses and predictions in the data's own units; the scaling is kept in the run's record and
in its checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from nndl.data.regression import HEADER, check_csv_pair, default_data, load_csv
from nndl.data.scaling import Scaling
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
    def raw(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], str]:
        """train x ``(n, d)``, train y ``(n, 1)``, test x, test y in the data's units, input
        names, target name."""
        if self.train_csv is None or self.test_csv is None:
            check_csv_pair(self.train_csv, self.test_csv)
            train, test = default_data()
        elif self.report_format:
            train, test = load_csv(self.train_csv), load_csv(self.test_csv)
        else:
            return self._table
        pairs = [(d.x.reshape(-1, 1), d.y.reshape(-1, 1)) for d in (train, test)]
        return (*pairs[0], *pairs[1], ("input",), "label")

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], str]:
        """As :attr:`raw`, standardized by :attr:`scaling` (what the nets see)."""
        tx, ty, sx, sy, inputs, target = self.raw
        s = self.scaling
        if s is None:
            return tx, ty, sx, sy, inputs, target
        return s.inputs(tx), s.targets(ty), s.inputs(sx), s.targets(sy), inputs, target

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

    @cached_property
    def scaling(self) -> Scaling | None:
        """Mean and std of inputs and target on the training rows; None with ``standardize=False``."""
        if self.standardize is False:
            return None
        return Scaling.fit(*self.raw[:2])

    def checkpoint_extra(self) -> dict[str, Any]:
        extra = {
            **super().checkpoint_extra(),
            "feature_names": list(self.input_names),
            "target": self.arrays[5],
        }
        if self.scaling is not None:  # the inputs' and the target's: load_regressor applies it
            extra["scaling"] = self.scaling.to_dict()
        return extra

    @property
    def loss_scale(self) -> float:
        """An MSE of the standardized numbers times this is the MSE in the data's units."""
        return 1.0 if self.scaling is None else self.scaling.loss_scale

    @cached_property
    def report_format(self) -> bool:
        """The built-in data or the report's ``input,label`` files (read as the report's)."""
        if self.train_csv is None:
            return True
        plain = self.inputs is None and self.target is None
        return plain and _header(self.train_csv) == HEADER

    def points(self, limit: int | None = None, data_units: bool = False) -> tuple[Any, Any]:
        """Standardized training and test rows (what the nets train on), or as the files have
        them with ``data_units``."""
        import torch

        from nndl.data.tensors import TensorData

        arrays = self.raw if data_units else self.arrays
        tx, ty, sx, sy = (
            torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in arrays[:4]
        )
        return TensorData(tx[:limit], ty[:limit]), TensorData(sx, sy)

    def info(self) -> dict[str, Any]:
        train, test = default_data() if self.train_csv is None else (None, None)
        info: dict[str, Any] = {  # the keys results.json has always had
            "train_csv": train.source if train else str(self.train_csv),
            "test_csv": test.source if test else str(self.test_csv),
        }
        if self.input_names != ("input",):
            info.update(inputs=list(self.input_names), target=self.arrays[5])
        if self.scaling is not None:
            info["standardized"] = self.scaling.to_dict()
        return info


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
