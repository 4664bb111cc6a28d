"""A kind of study of your own, in your own file: a learning curve of a regression net.

A study file names it and gives it a section of its name:

    [study]
    kind = "examples/my_studies.py:LearningCurve"

    [curve]
    train_csv = "train.csv"
    test_csv = "test.csv"

nndl study run curve.toml --out runs/curve
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nndl import NetRegressor, Study, register_study
from nndl.data.table import read_table


@dataclass(frozen=True)
class CurveBudget:
    """What the study trains: fractions of the training rows, epochs per net."""

    name: str = "default"
    fractions: tuple[float, ...] = (0.25, 0.5, 1.0)
    max_epochs: int = 200


@register_study
@dataclass(frozen=True)
class LearningCurve(Study):
    """Test R^2 of a net trained on growing fractions of the training rows."""

    train_csv: str | None = None
    test_csv: str | None = None
    target: str = "label"

    name = "curve"
    budgets: ClassVar[dict[str, CurveBudget]] = {
        "default": CurveBudget(),
        "report": CurveBudget("report"),
        "quick": CurveBudget("quick", (0.5, 1.0), 20),
    }

    def rows(self, path: str | None, flag: str) -> tuple[np.ndarray, np.ndarray]:
        table = read_table(str(path), flag)
        inputs = tuple(c for c in table.header if c != self.target)
        return table.numbers(inputs, flag), table.numbers((self.target,), flag)[:, 0]

    def check(self) -> None:
        self.rows(self.train_csv, "[curve] train_csv")
        self.rows(self.test_csv, "[curve] test_csv")

    def run(self, timings: dict[str, float]) -> dict[str, Any]:
        (x, y), (tx, ty) = self.rows(self.train_csv, "train"), self.rows(self.test_csv, "test")
        order = np.random.default_rng(self.seed).permutation(len(x))
        points = []
        for fraction in self.budget.fractions:
            rows = order[: max(10, int(fraction * len(x)))]
            net = NetRegressor(max_epochs=self.budget.max_epochs, random_state=self.seed)
            net.fit(x[rows], y[rows])
            points.append({"rows": len(rows), "test_r2": float(net.score(tx, ty))})
        return {"points": points}

    @staticmethod
    def report_section(doc: Any, results: dict[str, Any], budget: str) -> None:
        from nndl.report.document import Heading, Table

        rows = [[str(p["rows"]), f"{p['test_r2']:.3f}"] for p in results["points"]]
        doc.add(
            Heading("Learning curve"), Table(["training rows", "test R^2"], rows, "A net per size.")
        )
