"""CSV tables with a header: numeric feature columns, a numeric or string target column.

Read with the standard library's ``csv`` module (quoted fields work), checked once, with every
problem named in one line: the file, the line and column, and what would be valid. nndl's one
CSV reader: the report's ``input,label`` files are tables whose header must be exactly that
(:func:`nndl.data.regression.load_csv`).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nndl._inputs import MAX_TABLE_BYTES, parse_float, read_bytes, shorten
from nndl.errors import DataError

__all__ = ["Table", "read_table"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_CLASSES = 1000


@dataclass(frozen=True)
class Table:
    """A CSV file's header and its rows of text cells."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def column_index(self, name: str, flag: str) -> int:
        """The position of column ``name``; a DataError naming the columns there are."""
        if name not in self.header:
            raise DataError(
                f"{self.source}: no column {name!r} ({flag}); its columns: {', '.join(self.header)}"
            )
        return self.header.index(name)

    def numbers(self, names: tuple[str, ...], flag: str) -> np.ndarray:
        """Columns ``names`` as a float32 ``(rows, len(names))`` array."""
        index = [self.column_index(n, flag) for n in names]
        out = np.empty((len(self.rows), len(index)), dtype=np.float32)
        for r, row in enumerate(self.rows):
            for c, i in enumerate(index):
                out[r, c] = _number(row[i], self.header[i], f"{self.source}, line {r + 2}")
        return out

    def labels(self, name: str, classes: tuple[str, ...] | None = None) -> np.ndarray:
        """Column ``name`` as class indices into ``classes`` (default: its sorted values)."""
        i = self.column_index(name, "--target")
        values = [row[i] for row in self.rows]
        known = classes if classes is not None else sorted_classes(values)
        lookup = {c: k for k, c in enumerate(known)}
        for r, value in enumerate(values):
            if value not in lookup:
                raise DataError(
                    f"{self.source}, line {r + 2}: label {shorten(value, 40)} is not one of the "
                    f"training labels ({', '.join(known[:10])}{', ...' if len(known) > 10 else ''})"
                )
        return np.asarray([lookup[v] for v in values], dtype=np.int64)


def sorted_classes(values: list[str]) -> tuple[str, ...]:
    """The distinct labels, integers in numeric order (``2`` before ``10``), others by text."""
    distinct = set(values)
    try:
        return tuple(sorted(distinct, key=lambda v: int(v)))
    except ValueError:
        return tuple(sorted(distinct))


def read_table(
    path: str | Path,
    flag: str,
    min_rows: int = 10,
    *,
    columns: tuple[str, ...] | None = None,
    min_columns: int = 2,
) -> Table:
    """Read a CSV file with a header row; every data row must have the header's width.

    Cells are stripped of surrounding whitespace; a UTF-8 byte order mark, CRLF line ends and
    trailing empty lines are fine, an empty line between rows is not.

    Args:
        path: The CSV file.
        flag: What the file is to the user (``--train-csv``), named when it cannot be read.
        min_rows: The fewest data rows accepted.
        columns: The header the file must have (``("input", "label")``); any header of
            distinct names when None.
        min_columns: The fewest columns accepted (inputs and a target: 2).

    Raises:
        DataError: For any problem with the file, in one line naming the file, the line and
            the offending value, and saying what would be valid.
    """
    name = str(path)
    expected = _expected(columns)
    header, *rows = _cells(_text(path, flag, expected), name, expected)
    _check_header(header, name, columns, min_columns=min_columns)
    for number, row in enumerate(rows, start=2):
        _check_row(row, header, f"{name}, line {number}")
    if len(rows) < max(min_rows, 1):  # a header alone is never a table
        found = f"{len(rows)} data row(s)" if rows else "only the header, no data rows"
        raise DataError(f"{name}: {found}, expected at least {min_rows}; {expected}")
    return Table(name, header, tuple(rows))


def _expected(columns: tuple[str, ...] | None) -> str:
    if columns is None:
        return "expected a CSV file with a header row of column names, then data rows"
    return f"expected a CSV file with the header {','.join(columns)!r}, then data rows"


def _text(path: str | Path, flag: str, expected: str) -> str:
    """The file's text decoded as UTF-8 (a byte order mark is dropped)."""
    try:
        raw = read_bytes(path, flag, MAX_TABLE_BYTES)
    except DataError as error:
        raise DataError(f"{error}; {expected}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 4]
        raise DataError(
            f"{path}: not UTF-8 text (byte {error.start} is {bad!r}); {expected}"
        ) from None


def _cells(text: str, name: str, expected: str) -> list[tuple[str, ...]]:
    """The stripped cells of each line, without the trailing empty lines."""
    try:
        lines = [tuple(c.strip() for c in row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as error:
        raise DataError(f"{name}: not a CSV file ({error}); {expected}") from None
    while lines and not any(lines[-1]):
        lines.pop()
    if not lines:
        raise DataError(f"{name}: the file is empty; {expected}")
    _check_separator(lines[0], name)
    return lines


def _check_separator(header: tuple[str, ...], name: str) -> None:
    """A one-cell header holding another separator: say so, not "one column"."""
    if len(header) != 1:
        return
    for separator, word in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
        if separator in header[0]:
            raise DataError(
                f"{name}, line 1: the columns are separated by {word}; nndl reads CSV separated "
                f"by commas: line 1 would read {shorten(header[0].replace(separator, ','), 40)}"
            )


def _check_header(
    header: tuple[str, ...], name: str, columns: tuple[str, ...] | None, *, min_columns: int
) -> None:
    if columns is not None:
        if header != columns:
            raise DataError(
                f"{name}, line 1: header is {shorten(','.join(header))}, expected "
                f"{','.join(columns)!r} (columns {', '.join(map(repr, columns))})"
            )
        return
    if len(header) < min_columns:
        raise DataError(
            f"{name}, line 1: expected a header with at least {min_columns} column name(s)"
        )
    if all(_is_number(c) for c in header):
        raise DataError(
            f"{name}, line 1: {', '.join(header[:4])} are numbers, not column names; expected 'input,label' "
            "or another header row first (e.g. 'x1,x2,y')"
        )
    blank = [i + 1 for i, c in enumerate(header) if not c]
    if blank:
        raise DataError(f"{name}, line 1: column {blank[0]} has no name")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise DataError(f"{name}, line 1: column {twice[0]!r} appears twice")


def _check_row(row: tuple[str, ...], header: tuple[str, ...], where: str) -> None:
    if row == header:
        raise DataError(
            f"{where}: the header {shorten(','.join(header))} appears again; it belongs on "
            "line 1 only"
        )
    if len(row) != len(header):
        raise DataError(
            f"{where}: {len(row)} column(s) in {shorten(','.join(row))}, expected {len(header)} "
            f"({', '.join(header[:6])}{', ...' if len(header) > 6 else ''}; no empty lines "
            "between rows)"
        )


def _is_number(cell: str) -> bool:
    try:
        parse_float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, column: str, where: str) -> float:
    try:
        value = parse_float(cell)
    except ValueError:
        raise DataError(
            f"{where}: {column} {shorten(cell, 40)} is not a number; expected e.g. -1.5 or 2e-3"
        ) from None
    if not (math.isfinite(value) and abs(value) <= _FLOAT32_MAX):
        raise DataError(
            f"{where}: {column} {shorten(cell, 40)} is not finite or too large; expected a "
            f"finite number of magnitude at most {_FLOAT32_MAX:.3g}"
        )
    return value
