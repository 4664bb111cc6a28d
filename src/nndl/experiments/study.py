"""Studies as registered classes: stages driven by a task, a search space and a budget.

A kind of study is a frozen dataclass that subclasses :class:`Study` and is registered under
its ``name`` with :func:`register_study`. The name is the study's section in a study file
(``[regression]``), its folder in a run and its key in ``results.json``; nothing else in nndl
knows the kinds by name. The built-in kinds: ``regression``, ``classify`` (images:
MNIST, a user's IDX set or image folder) and ``tabular`` (a classification CSV). A user's kind lives in a
file of their own and is named in the study file as ``[study] kind = "FILE.py:Class"``.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from nndl.errors import UsageError
from nndl.training.config import check_seeds

__all__ = [
    "STUDIES",
    "Study",
    "budget_settings",
    "load_study_kind",
    "register_study",
    "report_sections",
    "studies",
]

STUDIES: dict[str, type[Study]] = {}
BUILT_IN = (
    "nndl.experiments.regression",
    "nndl.experiments.classify",
    "nndl.experiments.tabular",
)
S = TypeVar("S", bound="type[Study]")


@dataclass(frozen=True)
class Study:
    """The stages every study has, with a few hooks per kind.

    A subclass is a frozen dataclass; its own fields are the options its study-file section
    takes. The fields every kind has come from here, keyword-only after ``out``: ``device``,
    ``budget`` (None: the kind's ``default`` budget), ``seed`` (the splits, folds and weights;
    a study resumes only with the same one), ``sampler_seed`` (default ``seed``: only the
    search's sampler; give each machine its own), ``quiet`` and ``store_dir``.

    Hooks:
        name: the section, folder and results key.
        budgets: the kind's budget for each budget name (``default``, ``report``, ``quick``).
        check(): the data and the search space, before any work (one clear error).
        run(timings): every stage; writes its folder ``out`` and returns its results.
        report_section(doc, results, budget): the kind's part of the report (default:
            none); ``budget`` is the run's budget name.
    """

    name: ClassVar[str]
    budgets: ClassVar[Mapping[str, Any]]
    out: Path
    _: KW_ONLY
    device: str = "cpu"
    budget: Any = None
    seed: int = 0
    sampler_seed: int | None = None
    quiet: bool = False
    store_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            object.__setattr__(self, "budget", self.budgets["default"])
        check_seeds("study settings", seed=self.seed, sampler_seed=self.sampler_seed)

    @property
    def home(self) -> Path:
        """Where the search's storage, lock and log live (``out`` may be a staging folder)."""
        return self.store_dir or self.out

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    @classmethod
    def options(cls) -> set[str]:
        """The keys its study-file section takes."""
        common = {f.name for f in dataclasses.fields(Study)} - {"sampler_seed"}
        return {f.name for f in dataclasses.fields(cls)} - common

    @classmethod
    def create(
        cls, out: Path, *, budget: str, common: dict[str, Any], options: dict[str, Any]
    ) -> Any:
        """The study of budget ``budget`` with ``common`` settings (device, seed, quiet,
        store_dir) and the section's ``options``."""
        from nndl.experiments.budgets import budget_name

        return cls(out, budget=cls.budgets[budget_name(budget)], **common, **options)

    def check(self) -> None:
        """The data and the search space, before any work."""

    def run(self, timings: dict[str, float]) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__}.run")

    @staticmethod
    def report_section(doc: Any, results: dict[str, Any], budget: str) -> None:
        """Add the kind's part of the report to ``doc`` (default: nothing)."""


def register_study(cls: S) -> S:
    """Class decorator: register a kind of study under its ``name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise UsageError(f"study {cls.__name__}: name must be a word, not {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Study) and dataclasses.is_dataclass(cls)):
        raise UsageError(f"study {name!r}: must be a dataclass subclass of nndl Study")
    STUDIES[name] = cls
    return cls


def studies() -> dict[str, type[Study]]:
    """Every registered kind, the built-in ones first."""
    for module in BUILT_IN:  # by name: this module imports none of the kinds it registers
        importlib.import_module(module)
    return STUDIES


def load_study_kind(reference: str, where: str) -> type[Study]:
    """The study class a ``FILE.py:Class`` reference names, registered."""
    from nndl.plugins import load_object

    cls = load_object(reference, where)
    if not (isinstance(cls, type) and issubclass(cls, Study)):
        raise UsageError(f"{where} {reference!r}: not a subclass of nndl's Study")
    studies()
    return register_study(cls)


def report_sections() -> dict[str, Callable[[Any, dict[str, Any], str], None]]:
    """Each kind's report section, in registry order (for :func:`nndl.report.build.write_report`)."""
    return {name: cls.report_section for name, cls in studies().items()}


def budget_settings(ran: Any) -> dict[str, Any]:
    """The settings of the budget each study in ``ran`` ran with (for results.json)."""
    return {study.name: dataclasses.asdict(study.budget) for study in ran}
