"""Classification from a CSV file: numeric feature columns and a label column (ints or strings).

The class names are the training file's distinct labels (integers in numeric order); the
features are standardized with the training file's mean and standard deviation
(:meth:`nndl.data.scaling.Scaling.fit_inputs`), kept in the run's record (``Scaling.to_dict``'s
fields, with the input and target columns) so the net can be applied to new rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from nndl._inputs import shorten
from nndl.data.regression import check_csv_pair
from nndl.data.scaling import Scaling
from nndl.data.table import MAX_CLASSES, read_table, sorted_classes
from nndl.errors import DataError, UsageError
from nndl.tasks.base import Task, register_task
from nndl.tasks.regression import table_columns

__all__ = ["TabularTask"]


@register_task
@dataclass(frozen=True)
class TabularTask(Task):
    """Classification of table rows; cross-entropy loss, accuracy on the test rows."""

    name: ClassVar[str] = "tabular"
    family: ClassVar[str] = "tabular"
    loss: ClassVar[str] = "cross_entropy"
    metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy")
    val_fraction: ClassVar[float] = 0.2
    default_arch: ClassVar[str] = "mlp"
    figures: ClassVar[tuple[str, ...]] = ("loss_curves", "confusion_matrix")

    train_csv: str | None = None
    test_csv: str | None = None
    inputs: tuple[str, ...] | None = None
    target: str | None = None

    def check(self) -> None:
        if self.train_csv is None or self.test_csv is None:
            raise UsageError(
                "--task tabular needs --train-csv and --test-csv (CSV files with a header)"
            )
        check_csv_pair(self.train_csv, self.test_csv)
        self.arrays  # noqa: B018 (reads and checks both files)

    def shapes(self) -> tuple[tuple[int, ...], int]:
        return (self.arrays[0].shape[1],), len(self.class_names)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.arrays[4]

    @property
    def dataset(self) -> str:
        return str(self.train_csv)

    @cached_property
    def raw(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], dict[str, Any]]:
        """train x, train labels, test x, test labels as the files have them (labels as class
        indices), class names, and the columns read (``inputs``, ``target``)."""
        self.check_files()
        train = read_table(str(self.train_csv), "--train-csv")
        test = read_table(str(self.test_csv), "--test-csv")
        inputs, target = table_columns(train, self.inputs, self.target)
        values = [row[train.column_index(target, "--target")] for row in train.rows]
        if (fraction := _fraction(values)) is not None:
            raise DataError(
                f"{self.train_csv}: --target {target!r} holds numbers such as {fraction}, not "
                "classes (--task regression learns numbers)"
            )
        classes = sorted_classes(values)
        if not 2 <= len(classes) <= MAX_CLASSES:
            raise DataError(
                f"{self.train_csv}: column {target!r} has {len(classes)} distinct label(s); "
                f"a classification needs 2 to {MAX_CLASSES} (a numeric target: --task regression)"
            )
        tx, sx = train.numbers(inputs, "--inputs"), test.numbers(inputs, "--inputs")
        ty, sy = train.labels(target, classes), test.labels(target, classes)
        return tx, ty, sx, sy, classes, {"inputs": list(inputs), "target": target}

    @cached_property
    def arrays(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], dict[str, Any]]:
        """train x, train labels, test x, test labels, class names, feature scaling record."""
        tx, ty, sx, sy, classes, columns = self.raw
        scaling = Scaling.fit_inputs(tx)
        record = {**columns, **scaling.to_dict()}
        return scaling.inputs_float32(tx), ty, scaling.inputs_float32(sx), sy, classes, record

    @property
    def scaling(self) -> Scaling:
        """The features' mean and std on the training rows (what the nets' inputs are scaled by)."""
        return Scaling.from_dict(self.arrays[5])

    def checkpoint_extra(self) -> dict[str, Any]:
        record = self.arrays[5]
        return {
            **super().checkpoint_extra(),
            "scaling": self.scaling.to_dict(),
            "feature_names": list(record["inputs"]),
            "target": record["target"],
        }

    def check_files(self) -> None:
        if self.train_csv is None or self.test_csv is None:
            raise UsageError(
                "--task tabular needs --train-csv and --test-csv (CSV files with a header)"
            )

    def points(self, limit: int | None = None) -> tuple[Any, Any]:
        import torch

        from nndl.data.tensors import TensorData

        tx, ty, sx, sy = (torch.from_numpy(np.ascontiguousarray(a)) for a in self.arrays[:4])
        return TensorData(tx[:limit], ty[:limit]), TensorData(sx, sy)

    def info(self) -> dict[str, Any]:
        return {
            "task": self.name,
            "train_csv": str(self.train_csv),
            "test_csv": str(self.test_csv),
            "classes": list(self.class_names),
            "scaling": self.arrays[5],
        }


def _fraction(values: list[str]) -> str | None:
    """A value with a fractional part when every value is a finite number (a regression target:
    scikit-learn's ``type_of_target`` says "continuous"), else None."""
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return None
    if not all(map(math.isfinite, numbers)):
        return None
    odd = [v for v, x in zip(values, numbers, strict=True) if x != int(x)]
    return shorten(odd[0], 40) if odd else None
