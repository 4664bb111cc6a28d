"""Regression data: one scalar input and one scalar label per point.

Files are CSV with the header ``input,label`` and one ``input,label`` row per point, as in the
original homework. Without files, :func:`default_data` builds a train/test pair of the same shape:
100 noisy training points with two gaps and 100 cleaner test points that fill them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndl._inputs import MAX_TABLE_BYTES, check_readable_file
from nndl._io import write_text
from nndl.data.table import read_table
from nndl.errors import UsageError

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
    """Read an ``input,label`` CSV file: :func:`nndl.data.table.read_table` with that header.

    The header may carry surrounding whitespace, a UTF-8 byte order mark and CRLF line ends;
    trailing empty lines are ignored.

    Args:
        path: The CSV file.
        min_rows: The fewest data rows accepted.

    Returns:
        The points, with ``source`` set to ``str(path)``.

    Raises:
        DataError: For any problem with the file; the message names the file, the line and
            the offending value, and says what would be valid.
    """
    table = read_table(path, "CSV file", min_rows, columns=tuple(HEADER.split(",")))
    x, y = table.numbers(table.header, "CSV file").T.copy()
    return RegressionData(x=x, y=y, source=table.source)


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
        _noisy_points(rng, train_x, _TRAIN_NOISE, source=f"default(seed={seed}, split=train)"),
        _noisy_points(rng, test_x, _TEST_NOISE, source=f"default(seed={seed}, split=test)"),
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
    rng: np.random.Generator, x: np.ndarray, noise: float, *, source: str
) -> RegressionData:
    """Label ``x`` with ``target_function`` plus Gaussian noise of std ``noise``."""
    y = target_function(x) + rng.normal(0.0, noise, size=x.shape)
    return RegressionData(x=np.clip(x, *DOMAIN), y=y, source=source)
