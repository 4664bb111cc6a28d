"""Study files: a study is a TOML file that ``nndl study run`` reads, with overrides on top.

``[study]`` holds the budget (``default``, ``report`` or ``quick``), seed and device, and
``kind``: a user's kind of study (``"my_studies.py:MyStudy"``, or a list of them). Every
other section is named after a kind of study (:mod:`nndl.experiments.study`: ``regression``,
``classify``, ``tabular`` or a user's) and holds its options; a kind without a section
is skipped. Every run writes the resolved file as ``study.toml`` next to its results, so
``nndl study run OUT/study.toml --out NEW`` reruns it.
"""

from __future__ import annotations

import types
import typing
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
    _check_types(path, "study", study, hints={"seed": int, "device": str})
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
            _check_types(path, section, data[section], hints=_hints(kinds[section]))
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


_AT_LEAST = {  # the least value of the counts the built-in kinds take
    **dict.fromkeys(("trials", "max_trials", "refit_members", "refit_configs", "workers"), 1),
    **dict.fromkeys(("seed", "finalists"), 0),
}
_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _hints(kind: type) -> dict[str, Any]:
    """The types of a kind's options (none where its annotations do not resolve)."""
    try:
        return typing.get_type_hints(kind)
    except Exception:  # a user's kind with annotations this module cannot name
        return {}


def _check_types(path: str | Path, section: str, values: dict[str, Any], *, hints: Any) -> None:
    """Each option's value against its field's type, and counts against their least value."""
    for key, value in values.items():
        want = _plain_type(hints.get(key))
        if want is None or value is None:
            continue
        words = "a list of strings" if want is tuple else _WORDS[want]
        if not _fits(value, want):
            raise UsageError(f"{path}: [{section}] {key} = {value!r}: must be {words}")
        if want in (int, float) and value < _AT_LEAST.get(key, value):
            raise UsageError(f"{path}: [{section}] {key} = {value!r}: must be >= {_AT_LEAST[key]}")


def _fits(value: Any, want: type) -> bool:
    if want is tuple:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if want is bool or isinstance(value, bool):
        return want is bool and isinstance(value, bool)
    return isinstance(value, (int, float) if want is float else want)


def _plain_type(hint: Any) -> Any:
    """bool, int, float, str or tuple (of strings) for a field's type, ``X | None`` included;
    None for any other, a tuple of numbers too (not checked here: the kind checks it)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    if typing.get_origin(hint) is tuple:
        return tuple if typing.get_args(hint)[:1] == (str,) else None
    return hint if hint in _WORDS else None


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
