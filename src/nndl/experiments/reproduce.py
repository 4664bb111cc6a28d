"""A whole study: each kind of study its section names, in registry order, then the report.

``nndl reproduce`` runs the shipped study file (the report's regression and MNIST studies);
``nndl study run`` runs any study file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndl._io import write_json
from nndl._timing import machine_info, timed
from nndl.experiments.budgets import budget_name
from nndl.experiments.study import budget_settings, report_sections, studies

__all__ = ["ReproduceJob", "reproduce"]


@dataclass(frozen=True)
class ReproduceJob:
    """Where to write, which budget, and each study's options by its kind's name (a kind that
    is not there is skipped)."""

    out: Path
    budget: str = "default"  # default, report or quick (nndl.experiments.budgets)
    device: str = "cpu"
    seed: int = 0
    quiet: bool = False
    store_dir: Path | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    study_toml: str | None = None  # the resolved study file, written next to the results

    def __post_init__(self) -> None:
        from nndl.training.config import check_seeds

        check_seeds("study settings", seed=self.seed)

    @property
    def home(self) -> Path:
        """Where the searches' storages and logs live (``out`` may be a staging folder)."""
        return self.store_dir or self.out

    def studies(self) -> list[Any]:
        """The studies to run, in registry order."""
        common = {"device": self.device, "seed": self.seed, "quiet": self.quiet}
        return [
            kind.create(
                self.out / name,
                budget=self.budget,
                common={**common, "store_dir": self.home / name},
                options=self.options[name],
            )
            for name, kind in studies().items()
            if name in self.options
        ]


def reproduce(job: ReproduceJob) -> dict[str, Any]:
    """Run the job's studies, write ``results.json``, ``report.md`` and ``report.html``; returns
    the results."""
    from nndl.report.build import write_report

    timings: dict[str, float] = {}
    parts: dict[str, Any] = {}
    ran = job.studies()
    with timed(timings, "total"):
        for study in ran:
            parts[study.name] = study.run(timings)
    results = {
        **parts,
        "timings": timings,
        "machine": machine_info(job.device),
        "budget": budget_name(job.budget),
        "budget_settings": budget_settings(ran),
    }
    write_json(job.out / "results.json", results)
    if job.study_toml is not None:
        from nndl._io import write_text

        write_text(job.out / "study.toml", job.study_toml)
    write_report(job.out, sections=report_sections())
    return results
