"""Study files: a study is a TOML file that ``nndl study run`` reads, with overrides on top.

``[study]`` holds the budget (``default``, ``report`` or ``quick``), seed and device, and
``kind``: a user's kind of study (``"my_studies.py:MyStudy"``, or a list of them). Every
other section is named after a kind of study (:mod:`nndl.experiments.study`: ``regression``,
``classify``, ``tabular`` or a user's) and holds its options; a kind without a section
is skipped. Every run writes the resolved file as ``study.toml`` next to its results, so
``nndl study run OUT/study.toml --out NEW`` reruns it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from nndl.errors import UsageError
from nndl.experiments.budgets import BUDGET_NAMES
from nndl.experiments.settings import dumps_toml, read_toml
from nndl.experiments.study import load_study_kind, studies

__all__ = ["SHIPPED", "load_study_file", "resolved_toml", "shipped_study"]

SHIPPED = ("report",)
_STUDY_KEYS = ("budget", "seed", "device", "kind")


def shipped_study(name: str = "report") -> Path:
    """The path of a study file that ships with nndl."""
    return Path(str(resources.files("nndl.studies") / f"{name}.toml"))


def load_study_file(
    path: str | Path, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The study file's sections with ``overrides`` on top, every key checked."""
    data = read_toml(path, "study file")
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    study = data.setdefault("study", {})
    _check_keys(path, "study", study, valid=set(_STUDY_KEYS))
    study.setdefault("seed", 0)
    study.setdefault("device", "cpu")
    if study.setdefault("budget", "default") not in BUDGET_NAMES:
        valid = ", ".join(BUDGET_NAMES)
        raise UsageError(f"{path}: [study] budget = {study['budget']!r}; valid: {valid}")
    kinds = _kinds(path, study.get("kind"))
    unknown = sorted(set(data) - {"study", *kinds})
    if unknown:
        raise UsageError(f"{path}: unknown section(s) {unknown}; valid: study, {', '.join(kinds)}")
    for section in kinds:
        if section in data:
            _check_keys(path, section, data[section], valid=kinds[section].options())
    if set(data) == {"study"}:
        raise UsageError(f"{path}: no study section ({', '.join(kinds)}): nothing to run")
    return data


def _kinds(path: str | Path, kind: Any) -> dict[str, Any]:
    """The registered kinds of study, with the user's ``[study] kind`` loaded first."""
    references = [kind] if isinstance(kind, str) else kind or []
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise UsageError(f'{path}: [study] kind must be "FILE.py:Class" or a list of them')
    for reference in references:
        load_study_kind(reference, f"{path}: [study] kind")
    return studies()


def _check_keys(path: str | Path, section: str, values: Any, *, valid: set[str]) -> None:
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
            if key in ("space", "kind") and isinstance(value, str) and ".py:" in value:
                file, _, name = value.rpartition(":")
                values[key] = f"{Path(file).resolve()}:{name}"
    return dumps_toml(resolved, "The study as it ran. Rerun it: nndl study run THIS_FILE --out NEW")
