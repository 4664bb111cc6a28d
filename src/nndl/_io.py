"""Atomic writes: a result file is the old complete file or the new one, a run folder the old
complete set of files or the new one; and JSON that never holds NaN or Infinity."""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "NON_FINITE_KEY",
    "atomic_path",
    "dumps_json",
    "staged_folder",
    "write_json",
    "write_text",
]

NON_FINITE_KEY = "non_finite"
"""Top-level key of a JSON object that lists the values written as null because they were NaN/inf."""


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _settle(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging folder beside ``target``; move its files into ``target`` at the end.

    Everything a run writes goes to the staging folder; only when the block succeeds are its
    files renamed into ``target`` (replacing those of the same name, keeping the others, so
    the parts of a study can be run one by one into one folder). A failure at any point before
    that leaves ``target`` exactly as it was, and the staging folder is removed either way.
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))
    try:
        yield staging
        _commit(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _commit(staging: Path, final: Path) -> None:
    """Rename every file of ``staging`` to the same place under ``final``: folders first, then files."""
    entries = sorted(staging.rglob("*"))
    final.mkdir(exist_ok=True)
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            (final / entry.relative_to(staging)).mkdir(exist_ok=True)
    for entry in entries:
        if not entry.is_dir():
            os.replace(entry, final / entry.relative_to(staging))


@functools.cache
def _umask() -> int:
    umask = os.umask(0)  # the only way to read it; done once
    os.umask(umask)
    return umask


def _settle(tmp: str) -> None:
    """Give the file the mode a plain ``open`` would (mkstemp makes it 0600) and flush it to disk."""
    os.chmod(tmp, 0o666 & ~_umask())
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())


def _write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    with atomic_path(path) as tmp:
        write(tmp)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    _write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def dumps_json(data: Any, indent: int | None = None) -> str:
    """``data`` as strict JSON: NaN and infinities become null, listed under ``non_finite``.

    A JSON object gets the extra key ``non_finite`` (``{"path.to.value": "inf"}``) when any of
    its values was not finite, so a reader sees why a number is missing.
    """
    found: dict[str, str] = {}
    clean = _finite(data, "", found)
    if found and isinstance(clean, dict):
        clean[NON_FINITE_KEY] = found
    return json.dumps(clean, indent=indent, allow_nan=False, default=str)


def _finite(value: Any, where: str, found: dict[str, str]) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        found[where or "value"] = str(value)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{where}.{k}" if where else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented strict JSON (see :func:`dumps_json`) to ``path`` atomically."""
    write_text(path, dumps_json(data, indent=2) + "\n")
