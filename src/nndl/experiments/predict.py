"""``nndl predict``: a checkpoint's predictions for new inputs, written as a CSV file.

The model is any nndl checkpoint :func:`nndl.load` reads (a run's ``model.pt``, a run folder,
an estimator's ``save`` file); it takes raw inputs, as the data files have them, and applies
the scaling it was trained with. The inputs are one of:

- a CSV table with a header: its columns are taken by name (the training columns; others,
  such as the target, are ignored). A net fitted on arrays without column names takes the
  table's columns in order, exactly as many as it was fitted on.
- an IDX file (gzipped or not) or a ``.npy`` array: rows ``(n, features)``, or images
  ``(n, h, w)`` (also ``(n, 1, h, w)``) of raw pixel values (0-255, as in the IDX files).
- a folder of image files (PNG, JPEG, ...; its subfolders too) for a net trained on images:
  each is decoded and resized as the training images were; the output's first column,
  ``file``, names it.

The output has one row per input row: a classifier's ``label`` and one probability column
per class (``p_<class>``); a regressor's prediction in the target's units, in a column named
after the target (``prediction`` when the checkpoint names none), and for an ensemble the
members' spread, ``std``.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nndl._inputs import check_readable_file
from nndl._io import write_text
from nndl.data._idx import MAX_DATA_BYTES, read_idx
from nndl.data.table import read_table
from nndl.errors import DataError, UsageError
from nndl.estimators._persist import load_with_extra

__all__ = ["predict_file", "read_inputs"]

_NPY_MAGIC = b"\x93NUMPY"
_IDX_STARTS = (b"\x00\x00", b"\x1f\x8b")  # an IDX header, or gzip (read_idx inflates it)


def predict_file(
    model: str | os.PathLike[str], input: str | os.PathLike[str], out: str | os.PathLike[str]
) -> dict[str, Any]:
    """Predict with the checkpoint ``model`` for every row of ``input``; write ``out`` (CSV,
    atomically).

    Returns:
        ``{"out": ..., "rows": ..., "columns": [...]}``, what was written.

    Raises:
        DataError: for a model, an input file or a column that cannot be used, in one line.
    """
    if Path(out).is_dir():
        raise UsageError(f"--out {out}: a folder; give the CSV file to write, e.g. preds.csv")
    estimator, extra = load_with_extra(model)
    files = _image_files(input, estimator) if Path(input).is_dir() else None
    x = _decoded(files, estimator) if files else read_inputs(input, estimator)
    with warnings.catch_warnings():  # the columns were matched by name in read_inputs
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        columns, values = _predictions(estimator, x, extra)
    if files:
        columns = ["file", *columns]
        values = [[str(f.relative_to(input)), *row] for f, row in zip(files, values, strict=True)]
    write_text(out, _csv(columns, values))
    return {"out": str(out), "rows": len(x), "columns": columns}


def read_inputs(path: str | os.PathLike[str], estimator: Any) -> np.ndarray:
    """The rows of ``path`` (CSV, IDX or ``.npy``) as the fitted ``estimator`` takes them."""
    check_readable_file(path, "--input", MAX_DATA_BYTES)
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise DataError(f"--input {path}: cannot read the file ({exc.strerror})") from None
    if head == _NPY_MAGIC or str(path).endswith(".npy"):
        return _checked_array(path, _read_npy(path), estimator)
    if head[:2] in _IDX_STARTS:
        return _checked_array(path, read_idx(path), estimator)
    return _table_rows(path, estimator)


def _image_files(folder: str | os.PathLike[str], estimator: Any) -> list[Path]:
    """The image files of a folder given as ``--input``, for a net trained on images."""
    from nndl.data.folders import IMAGE_SUFFIXES, image_files

    shape = tuple(estimator.input_shape_)
    if len(shape) == 1:
        raise DataError(f"--input {folder}: a folder; the net takes {_expected(shape)} (a file)")
    files = image_files(folder)
    if not files:
        raise DataError(f"--input {folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _decoded(files: list[Path], estimator: Any) -> np.ndarray:
    """The files as the net's raw inputs: ``(n, h, w)`` grey or ``(n, c, h, w)`` pixels."""
    from nndl.data.folders import decode_files

    shape = tuple(estimator.input_shape_)
    images = decode_files(files, (1, *shape) if len(shape) == 2 else shape)
    return (images[:, 0] if len(shape) == 2 else images).astype(np.float32)


def _table_rows(path: str | os.PathLike[str], estimator: Any) -> np.ndarray:
    shape = tuple(estimator.input_shape_)
    if len(shape) != 1:
        raise DataError(
            f"--input {path}: the net takes {_expected(shape)}; give an IDX or .npy file"
        )
    table = read_table(Path(path), "--input", min_rows=1, min_columns=1)
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:  # fitted on an array: the table's columns in order
        if len(table.header) != shape[0]:
            raise DataError(
                f"--input {path}: {len(table.header)} column(s), expected {shape[0]}: the net "
                "was fitted on an array without column names and takes a table's columns in order"
            )
        names = table.header
    missing = [str(n) for n in names if n not in table.header]
    if missing:
        raise DataError(
            f"--input {path}: no column {', '.join(map(repr, missing))}; the net takes the "
            f"columns {', '.join(map(str, names))} (others are ignored)"
        )
    return table.numbers(tuple(str(n) for n in names), "--input")


def _read_npy(path: str | os.PathLike[str]) -> np.ndarray:
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except (ValueError, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split())[:120]
        raise DataError(f"--input {path}: not a readable .npy array ({reason})") from None


def _checked_array(path: Any, array: np.ndarray, estimator: Any) -> np.ndarray:
    """``array`` as float32 rows of the net's input shape; images may have one channel axis."""
    shape = tuple(estimator.input_shape_)
    if array.dtype.kind not in "biuf":
        raise DataError(f"--input {path}: {array.dtype} values; expected numbers")
    if len(shape) == 2 and array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if shape == (1,) and array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim < 2 or tuple(array.shape[1:]) != shape or len(array) == 0:
        raise DataError(
            f"--input {path}: an array of shape {tuple(array.shape)}; the net takes "
            f"{_expected(shape)}"
        )
    x = array.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"--input {path}: NaN, infinite or too large values; expected numbers")
    return x


def _expected(shape: tuple[int, ...]) -> str:
    dims = ", ".join(map(str, shape))
    if len(shape) == 1:
        return f"rows of {shape[0]} number(s), shape (n, {dims})"
    if len(shape) == 2:
        return f"images of {shape[0]}x{shape[1]} pixels, shape (n, {dims})"
    return f"inputs of shape (n, {dims})"


def _predictions(
    estimator: Any, x: np.ndarray, extra: dict[str, Any]
) -> tuple[list[str], list[list[Any]]]:
    """The output's column names and one row of values per input row."""
    if hasattr(estimator, "classes_"):
        proba = estimator.predict_proba(x)
        labels = estimator.classes_[proba.argmax(1)]
        columns = ["label", *(f"p_{c}" for c in estimator.classes_)]
        return columns, [[label, *p] for label, p in zip(labels, proba, strict=True)]
    mean, std = estimator.predict(x, return_std=True)
    mean, std = mean.reshape(len(x), -1), std.reshape(len(x), -1)
    target = str(extra.get("target") or "prediction")
    names = [target] if mean.shape[1] == 1 else [f"{target}_{i}" for i in range(mean.shape[1])]
    if len(estimator.nets_) == 1:
        return names, mean.tolist()
    spread = ["std"] if len(names) == 1 else [f"std_{i}" for i in range(len(names))]
    return [*names, *spread], np.hstack([mean, std]).tolist()


def _csv(columns: list[str], values: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[repr(float(v)) if _is_float(v) else v for v in row] for row in values])
    return buffer.getvalue()


def _is_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating))
