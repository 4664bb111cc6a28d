"""What a user hands nndl, checked before any work: files to read, folders to write, numbers.

Files are read only when they are regular files of bounded size (a FIFO, a device or a
folder is refused at once instead of hanging or reading without end); output folders are
checked for being writable and not the folder a user stands in; numbers typed on the command
line or in a CSV are plain ASCII decimals (Python's ``int``/``float`` also take ``1_000``,
Arabic-Indic and full-width digits).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from nndl.errors import DataError, UsageError

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_TABLE_BYTES",
    "check_output_dir",
    "check_readable_file",
    "parse_float",
    "parse_int",
    "read_bytes",
    "read_json_object",
    "shorten",
]

MAX_TABLE_BYTES = 1 << 30
"""The largest CSV nndl reads (1 GiB): a table that size holds tens of millions of numbers."""
MAX_JSON_BYTES = 64 << 20
"""The largest JSON file nndl reads (parameters, results): 64 MiB."""

_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_SHOWN = 40
# Names nndl writes into its output folders; a non-empty folder holding none of them is not ours.
_OUR_NAMES = (
    "study.lock",
    "history.csv",
    "loss.png",
    "report.md",
    "random_search.csv",
    "optuna_search.csv",
    "regression",
    "classify",
    "tabular",
    "nndl.log",
    "config.json",
    "metrics.json",
    "model.pt",
    "results.json",
    "study.db",
    "study.journal",
    "report.html",
    "basic",
    "best",
    "nets",
    "search",
    "figures",
)


def shorten(text: str, limit: int = _SHOWN) -> str:
    """``repr`` of ``text``, cut to ``limit`` characters with ``...`` (keeps messages one short line)."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_int(text: str) -> int:
    """An integer written in plain ASCII digits; ``ValueError`` naming the text otherwise."""
    if not _INT.fullmatch(text.strip()):
        raise ValueError(f"{shorten(text)} is not an integer (plain digits, e.g. 42)")
    return int(text)


def parse_float(text: str) -> float:
    """A number written as an ASCII decimal (``-1.5``, ``2e-3``); no ``nan``, ``inf``, ``1_000``."""
    if not _FLOAT.fullmatch(text.strip()):
        raise ValueError(f"{shorten(text)} is not a number (a decimal such as -1.5 or 2e-3)")
    return float(text)


def check_readable_file(path: str | os.PathLike[str], what: str, max_bytes: int) -> int:
    """Raise unless ``path`` is a regular file of at most ``max_bytes``; returns its size."""
    if str(path) == "":
        raise UsageError(f"{what}: the file name is empty; give the path of a file")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise DataError(f"{what} {path}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise DataError(f"{what} {path}: {kind}; give a regular file")
    if info.st_size > max_bytes:
        raise DataError(
            f"{what} {path}: {info.st_size:,} bytes, more than the {max_bytes:,} nndl reads"
        )
    return info.st_size


def read_bytes(path: str | os.PathLike[str], what: str, max_bytes: int) -> bytes:
    """The content of a regular file of at most ``max_bytes`` (see :func:`check_readable_file`)."""
    check_readable_file(path, what, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DataError(f"{what} {path}: cannot read the file ({exc.strerror})") from None
    if len(data) > max_bytes:  # it grew since the check
        raise DataError(f"{what} {path}: more than the {max_bytes:,} bytes nndl reads")
    return data


def read_json_object(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """A JSON object from ``path``; anything else is a DataError naming ``what`` and the file."""
    raw = read_bytes(path, what, MAX_JSON_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:80]
        raise DataError(f"{what} {path}: not a readable JSON file ({reason})") from None
    if not isinstance(data, dict):
        raise DataError(f"{what} {path}: expected a JSON object, found a {type(data).__name__}")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_output_dir(path: str | os.PathLike[str], flag: str = "--out", named: bool = True) -> Path:
    """Refuse an output folder before any work; returns it as a Path.

    Refused: an empty name; the current folder or one that holds it; an existing file; an
    existing non-empty folder that nndl did not write; a place that cannot be written; and,
    when the user did not name it (``named`` False), any folder inside an nndl run folder.
    """
    if str(path).strip() == "":
        raise UsageError(f"{flag} is empty; give a folder for the results, e.g. {flag} runs/x")
    if not named and _ours(Path.cwd()):
        raise UsageError(
            f"the current folder is an nndl output folder; give {flag} to say where the results go"
        )
    folder = Path(path)
    resolved, here = folder.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise UsageError(
            f"{flag} {path} is the current folder or holds it; give a new folder, e.g. {flag} runs/x"
        )
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a folder; give a folder")
    if folder.is_dir() and _foreign(folder):
        raise UsageError(
            f"{flag} {path}: a folder with files nndl did not write; give a new or empty folder"
        )
    _check_writable(folder, flag)
    return folder


def _names(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir()}
    except OSError:
        return set()  # _check_writable says why


def _foreign(folder: Path) -> bool:
    names = _names(folder)
    return bool(names) and not names.intersection(_OUR_NAMES)


def _ours(folder: Path) -> bool:
    """A folder an nndl run or study wrote (not merely one that holds ``runs/``)."""
    names = _names(folder)
    return {"config.json", "model.pt"} <= names or bool(
        names & {"results.json", "study.db", "nndl.log"}
    )


def _check_writable(folder: Path, flag: str) -> None:
    """Create and remove a temporary folder where the run stages its files and where they land."""
    existing = folder.absolute().parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {folder}: {existing} is a file, not a folder")
    for place in [existing, folder] if folder.is_dir() else [existing]:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".nndl-check-", dir=place))
        except OSError as exc:
            raise UsageError(f"{flag} {folder}: cannot write in {place} ({exc.strerror})") from None
