"""Regression data: one scalar input and one scalar label per point.

Files are CSV with the header ``input,label`` and one ``input,label`` row per point, as in the
original homework. Without files, :func:`default_data` builds a train/test pair of the same shape:
100 noisy training points with two gaps and 100 cleaner test points that fill them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndl._inputs import MAX_TABLE_BYTES, check_readable_file, parse_float, read_bytes
from nndl._io import write_text
from nndl.errors import DataError, UsageError

__all__ = [
    "DOMAIN",
    "HEADER",
    "MIN_ROWS",
    "TRAIN_GAPS",
    "RegressionData",
    "check_csv_pair",
    "default_data",
    "load_csv",
    "target_function",
    "write_csv",
]

HEADER = "input,label"
# Ten rows is the least that still leaves two points in each of five cross-validation folds.
MIN_ROWS = 10
DOMAIN = (-5.0, 5.0)
TRAIN_GAPS = ((-3.0, -1.0), (2.0, 4.0))
_N_POINTS = 100
_TRAIN_NOISE = 0.4
_TEST_NOISE = 0.2
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SHOWN_CHARS = 40
_EXPECTED = f"expected a CSV file with header '{HEADER}' and one 'input,label' row per point"


@dataclass(frozen=True, eq=False)
class RegressionData:
    """Points ``(x[i], y[i])`` of a scalar function, with where they came from.

    Attributes:
        x: Inputs, float32, shape ``(n,)``.
        y: Labels, float32, shape ``(n,)``.
        source: The file path, or ``"default(seed=..., split=train|test)"``.
    """

    x: np.ndarray
    y: np.ndarray
    source: str

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=np.float32).reshape(-1)
        y = np.asarray(self.y, dtype=np.float32).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"x has {x.size} values but y has {y.size}; they must match")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    def __len__(self) -> int:
        return int(self.x.size)


def check_csv_pair(train_csv: str | Path | None, test_csv: str | Path | None) -> None:
    """Both files or neither, each a readable regular file; checked before any work.

    One alone is a UsageError rather than a silent switch to the built-in data.
    """
    if (train_csv is None) != (test_csv is None):
        raise UsageError("give both --train-csv and --test-csv, or neither (built-in data)")
    for flag, path in (("--train-csv", train_csv), ("--test-csv", test_csv)):
        if path is not None:
            check_readable_file(path, flag, MAX_TABLE_BYTES)


def load_csv(path: str | Path, min_rows: int = MIN_ROWS) -> RegressionData:
    """Read an ``input,label`` CSV file.

    The header may carry surrounding whitespace, a UTF-8 byte order mark and CRLF line ends;
    trailing empty lines are ignored. Fields are plain numbers (no quoting).

    Args:
        path: The CSV file.
        min_rows: The fewest data rows accepted.

    Returns:
        The points, with ``source`` set to ``str(path)``.

    Raises:
        DataError: For any problem with the file; the message names the file, the line and
            the offending value, and says what would be valid.
    """
    name = str(path)
    lines = _content_lines(_read_text(path), name)
    _check_header(lines[0], name)
    rows = [_parse_row(line, number, name) for number, line in enumerate(lines[1:], start=2)]
    _check_row_count(len(rows), min_rows, name)
    table = np.asarray(rows, dtype=np.float32)
    return RegressionData(x=table[:, 0].copy(), y=table[:, 1].copy(), source=name)


def write_csv(path: str | Path, data: RegressionData) -> None:
    """Write ``data`` atomically as an ``input,label`` CSV file that :func:`load_csv` reads back.

    Args:
        path: Destination file; parent folders are created.
        data: The points to write.
    """
    rows = [f"{x!s},{y!s}" for x, y in zip(data.x, data.y, strict=True)]
    write_text(path, "\n".join([HEADER, *rows]) + "\n")


def target_function(x: np.ndarray) -> np.ndarray:
    """The noiseless function behind :func:`default_data`.

    ``f(x) = 2.5 sin(1.2 x) + 0.2 x² (x + 1) exp(-x² / 10)``: a sine plus a damped cubic.
    On [-5, 5] it has four turning points (near -3.9, -1.5, 1.7 and 4.0, two of them inside
    the training gaps) and values in about [-2.6, 3.4].

    Args:
        x: Inputs, any shape.

    Returns:
        ``f(x)`` with the shape and float dtype of ``x``.
    """
    x = np.asarray(x)
    x = x.astype(np.result_type(x.dtype, np.float32), copy=False)
    y: np.ndarray = 2.5 * np.sin(1.2 * x) + 0.2 * x**2 * (x + 1) * np.exp(-(x**2) / 10)
    return y


def default_data(seed: int = 0) -> tuple[RegressionData, RegressionData]:
    """The built-in dataset used when no files are given.

    Training: 100 inputs uniform on [-5, 5] outside the gaps (-3, -1) and (2, 4), labels with
    Gaussian noise of std 0.4. Test: 100 inputs covering all of [-5, 5], one uniform draw in
    each of 100 equal bins so both gaps are filled, labels with noise of std 0.2.

    Args:
        seed: Seed of ``numpy.random.default_rng``; the same seed gives the same data.

    Returns:
        ``(train, test)``.
    """
    rng = np.random.default_rng(seed)
    train_x = _uniform_outside_gaps(rng, _N_POINTS)
    test_x = _stratified_uniform(rng, _N_POINTS)
    return (
        _noisy_points(rng, train_x, _TRAIN_NOISE, f"default(seed={seed}, split=train)"),
        _noisy_points(rng, test_x, _TEST_NOISE, f"default(seed={seed}, split=test)"),
    )


def _uniform_outside_gaps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` inputs uniformly from ``DOMAIN`` with ``TRAIN_GAPS`` cut out."""
    (low, high), ((a, b), (c, d)) = DOMAIN, TRAIN_GAPS
    starts = np.array([low, b, d])
    lengths = np.array([a - low, c - b, high - d])
    u = rng.uniform(0.0, lengths.sum(), size=n)
    ends = np.cumsum(lengths)
    piece = np.searchsorted(ends, u, side="right")
    x: np.ndarray = starts[piece] + (u - (ends[piece] - lengths[piece]))
    return x


def _stratified_uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw one input uniformly from each of ``n`` equal bins of ``DOMAIN``."""
    low, high = DOMAIN
    width = (high - low) / n
    return low + width * (np.arange(n) + rng.uniform(0.0, 1.0, size=n))


def _noisy_points(
    rng: np.random.Generator, x: np.ndarray, noise: float, source: str
) -> RegressionData:
    """Label ``x`` with ``target_function`` plus Gaussian noise of std ``noise``."""
    y = target_function(x) + rng.normal(0.0, noise, size=x.shape)
    return RegressionData(x=np.clip(x, *DOMAIN), y=y, source=source)


def _read_text(path: str | Path) -> str:
    """Return the file's text decoded as UTF-8 (a byte order mark is dropped)."""
    try:
        raw = read_bytes(path, "CSV file", MAX_TABLE_BYTES)
    except DataError as error:
        raise DataError(f"{error}; {_EXPECTED}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 4]
        raise DataError(
            f"{path}: not UTF-8 text (byte {error.start} is {bad!r}); {_EXPECTED}"
        ) from error


def _content_lines(text: str, name: str) -> list[str]:
    """Split ``text`` into lines without their CR/LF ends, dropping trailing blank lines."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(f"{name}: the file is empty; {_EXPECTED}")
    return lines


def _check_header(line: str, name: str) -> None:
    """Raise unless ``line`` is ``input,label`` up to whitespace around each name."""
    if _cells(line) != HEADER.split(","):
        raise DataError(
            f"{name}, line 1: header is {_show(line)}, expected '{HEADER}' "
            "(one column 'input', one column 'label')"
        )


def _parse_row(line: str, number: int, name: str) -> tuple[float, float]:
    """Parse data line ``number`` into ``(input, label)``."""
    cells = _cells(line)
    where = f"{name}, line {number}"
    if cells == HEADER.split(","):
        raise DataError(f"{where}: the header '{HEADER}' appears again; it belongs on line 1 only")
    if len(cells) != 2:
        raise DataError(
            f"{where}: {len(cells)} column(s) in {_show(line)}, expected 2 ('input,label', "
            "no empty lines between rows)"
        )
    return _parse_number(cells[0], "input", where), _parse_number(cells[1], "label", where)


def _parse_number(cell: str, column: str, where: str) -> float:
    """Parse one cell as a finite ASCII decimal that float32 can hold."""
    try:
        value = parse_float(cell)
    except ValueError:
        raise DataError(
            f"{where}: {column} {_show(cell)} is not a number; expected e.g. -1.5 or 2e-3"
        ) from None
    if not (math.isfinite(value) and abs(value) <= _FLOAT32_MAX):
        raise DataError(
            f"{where}: {column} {_show(cell)} is not finite or too large; "
            f"expected a finite number of magnitude at most {_FLOAT32_MAX:.3g}"
        )
    return value


def _check_row_count(count: int, min_rows: int, name: str) -> None:
    """Raise unless there are at least ``min_rows`` data rows (and at least one)."""
    if count == 0:
        raise DataError(f"{name}: only the header, no data rows; {_EXPECTED}")
    if count < min_rows:
        raise DataError(f"{name}: {count} data row(s), expected at least {min_rows}")


def _cells(line: str) -> list[str]:
    """Split a CSV line on commas and strip whitespace around each field."""
    return [cell.strip() for cell in line.split(",")]


def _show(text: str) -> str:
    """Quote ``text`` for an error message, shortened if long."""
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return repr(text)
