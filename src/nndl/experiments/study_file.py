"""Study files: a study is a TOML file that ``nndl study run`` reads, with overrides on top.

``[study]`` holds the budget (``default``, ``report`` or ``quick``; ``full`` is ``report``), seed and device; ``[regression]`` and
``[classification]`` hold their study's options (data, search space, pruner, ...); a missing
section skips that study. Every run writes the resolved file as ``study.toml`` next to its
results, so ``nndl study run OUT/study.toml --out NEW`` reruns it.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path
from typing import Any

from nndl.errors import UsageError
from nndl.experiments.budgets import ALIASES, BUDGET_NAMES
from nndl.experiments.settings import dumps_toml, read_toml

__all__ = ["SHIPPED", "load_study_file", "resolved_toml", "shipped_study"]

SHIPPED = ("report",)
_STUDY_KEYS = ("budget", "seed", "device")
_BUDGETS = (*BUDGET_NAMES, *ALIASES)
_NOT_OPTIONS = {"out", "device", "budget", "seed", "quiet", "store_dir"}


def shipped_study(name: str = "report") -> Path:
    """The path of a study file that ships with nndl."""
    return Path(str(resources.files("nndl.studies") / f"{name}.toml"))


def _options(section: str) -> set[str]:
    from nndl.experiments.classification import ClassifyStudy
    from nndl.experiments.regression import RegressionStudy

    cls = RegressionStudy if section == "regression" else ClassifyStudy
    return {f.name for f in dataclasses.fields(cls)} - _NOT_OPTIONS


def load_study_file(
    path: str | Path, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The study file's sections with ``overrides`` on top, every key checked."""
    data = read_toml(path, "study file")
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    unknown = sorted(set(data) - {"study", "regression", "classification"})
    if unknown:
        raise UsageError(
            f"{path}: unknown section(s) {unknown}; valid: study, regression, classification"
        )
    study = data.setdefault("study", {})
    _check_keys(path, "study", study, set(_STUDY_KEYS))
    study.setdefault("seed", 0)
    study.setdefault("device", "cpu")
    if study.setdefault("budget", "default") not in _BUDGETS:
        valid = ", ".join(BUDGET_NAMES)
        raise UsageError(f"{path}: [study] budget = {study['budget']!r}; valid: {valid}")
    for section in ("regression", "classification"):
        if section in data:
            _check_keys(path, section, data[section], _options(section))
    if "regression" not in data and "classification" not in data:
        raise UsageError(f"{path}: no [regression] or [classification] section: nothing to run")
    return data


def _check_keys(path: str | Path, section: str, values: Any, valid: set[str]) -> None:
    if not isinstance(values, dict):
        raise UsageError(f"{path}: {section} must be a [{section}] table")
    unknown = sorted(set(values) - valid)
    if unknown:
        raise UsageError(
            f"{path}: [{section}] unknown key(s) {unknown}; valid: {', '.join(sorted(valid))}"
        )


def resolved_toml(data: dict[str, Any]) -> str:
    """The study as it ran: every path absolute (a rerun may start in another folder)."""
    resolved = {section: dict(values) for section, values in data.items()}
    for values in resolved.values():
        for key, value in values.items():
            if isinstance(value, str) and key.endswith(("_csv", "_dir", "names")):
                values[key] = str(Path(value).expanduser().resolve())
            if key == "space" and isinstance(value, str) and ".py:" in value:
                file, _, name = value.rpartition(":")
                values[key] = f"{Path(file).resolve()}:{name}"
    return dumps_toml(resolved, "The study as it ran. Rerun it: nndl study run THIS_FILE --out NEW")
