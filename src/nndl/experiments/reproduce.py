"""``nndl reproduce``: the regression study and the MNIST study end to end, then the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndl._io import write_json
from nndl._timing import machine_info, timed
from nndl.experiments import classification as cls
from nndl.experiments import regression as reg
from nndl.experiments.budgets import (
    budget_name,
    budget_settings,
    classify_budget,
    regression_budget,
)

__all__ = ["ReproduceJob", "reproduce"]


@dataclass(frozen=True)
class ReproduceJob:
    """Where to write, which budget, which data."""

    out: Path
    budget: str = "default"  # default, report or quick (nndl.experiments.budgets)
    device: str = "cpu"
    seed: int = 0
    quiet: bool = False
    data_dir: str | None = None
    train_csv: str | None = None
    test_csv: str | None = None
    store_dir: Path | None = None
    regression_options: dict[str, Any] | None = field(default_factory=dict)  # None: skipped
    classification_options: dict[str, Any] | None = field(default_factory=dict)
    study_toml: str | None = None  # the resolved study file, written next to the results

    def __post_init__(self) -> None:
        from nndl.training.config import check_seeds

        check_seeds("study settings", seed=self.seed)

    @property
    def home(self) -> Path:
        """Where the searches' storages and logs live (``out`` may be a staging folder)."""
        return self.store_dir or self.out


def _regression(job: ReproduceJob, timings: dict[str, float]) -> dict[str, Any]:
    options = {
        "train_csv": job.train_csv,
        "test_csv": job.test_csv,
        **(job.regression_options or {}),
    }
    study = reg.RegressionStudy(
        job.out / "regression",
        device=job.device,
        budget=regression_budget(job.budget),
        seed=job.seed,
        quiet=job.quiet,
        store_dir=job.home / "regression",
        **options,
    )
    return reg.run_all(study, timings=timings)


def _classification(job: ReproduceJob, timings: dict[str, float]) -> dict[str, Any]:
    options = {"data_dir": job.data_dir, **(job.classification_options or {})}
    study = cls.ClassifyStudy(
        job.out / "classification",
        device=job.device,
        budget=classify_budget(job.budget),
        seed=job.seed,
        quiet=job.quiet,
        store_dir=job.home / "classification",
        **options,
    )
    return cls.run_all(study, timings=timings)


def reproduce(job: ReproduceJob) -> dict[str, Any]:
    """Run both studies, write ``results.json``, ``report.md`` and ``report.html``; returns the results."""
    from nndl.report.build import write_report

    timings: dict[str, float] = {}
    parts: dict[str, Any] = {}
    with timed(timings, "total"):
        if job.regression_options is not None:
            parts["regression"] = _regression(job, timings)
        if job.classification_options is not None:
            parts["classification"] = _classification(job, timings)
    results = {
        **parts,
        "timings": timings,
        "machine": machine_info(job.device),
        "budget": budget_name(job.budget),
        "budget_settings": budget_settings(job.budget, parts),
    }
    write_json(job.out / "results.json", results)
    if job.study_toml is not None:
        from nndl._io import write_text

        write_text(job.out / "study.toml", job.study_toml)
    write_report(job.out)
    return results
