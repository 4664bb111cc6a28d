"""``nndl reproduce``: the regression study and the MNIST study end to end, then the report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nndl._io import write_json
from nndl._timing import machine_info, timed
from nndl.experiments import classification as cls
from nndl.experiments import regression as reg

__all__ = ["ReproduceJob", "reproduce"]


@dataclass(frozen=True)
class ReproduceJob:
    """Where to write, which budget, which data."""

    out: Path
    quick: bool = False
    device: str = "cpu"
    seed: int = 0
    quiet: bool = False
    data_dir: str | None = None
    train_csv: str | None = None
    test_csv: str | None = None
    store_dir: Path | None = None

    def __post_init__(self) -> None:
        from nndl.training.config import check_seeds

        check_seeds("study settings", seed=self.seed)

    @property
    def home(self) -> Path:
        """Where the searches' storages and logs live (``out`` may be a staging folder)."""
        return self.store_dir or self.out


def _regression(job: ReproduceJob, timings: dict[str, float]) -> dict[str, Any]:
    study = reg.RegressionStudy(
        job.out / "regression",
        job.train_csv,
        job.test_csv,
        job.device,
        reg.QUICK if job.quick else reg.FULL,
        job.seed,
        quiet=job.quiet,
        store_dir=job.home / "regression",
    )
    return reg.run_all(study, timings=timings)


def _classification(job: ReproduceJob, timings: dict[str, float]) -> dict[str, Any]:
    study = cls.ClassifyStudy(
        job.out / "classification",
        job.data_dir,
        job.device,
        cls.QUICK if job.quick else cls.FULL,
        job.seed,
        quiet=job.quiet,
        store_dir=job.home / "classification",
    )
    return cls.run_all(study, timings=timings)


def reproduce(job: ReproduceJob) -> dict[str, Any]:
    """Run both studies, write ``results.json``, ``report.md`` and ``report.html``; returns the results."""
    from nndl.report.build import write_report

    timings: dict[str, float] = {}
    with timed(timings, "total"):
        regression = _regression(job, timings)
        classification = _classification(job, timings)
    results = {
        "regression": regression,
        "classification": classification,
        "timings": timings,
        "machine": machine_info(job.device),
        "budget": "quick" if job.quick else "full (the report's)",
    }
    write_json(job.out / "results.json", results)
    write_report(job.out)
    return results
