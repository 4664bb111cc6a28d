"""Tests of nndl.data.regression: CSV loading and the built-in default dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndl.data.regression import (
    MIN_ROWS,
    TRAIN_GAPS,
    RegressionData,
    default_data,
    load_csv,
    target_function,
    write_csv,
)
from nndl.errors import DataError

GOOD_ROWS = [f"{i / 2 - 3},{(i * 7) % 5 - 2.5}" for i in range(12)]


def _write_lines(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, encoding="utf-8", newline="")
    return path


def _good_file(
    tmp_path: Path, *, header: str = "input,label", rows: list[str] | None = None
) -> Path:
    return _write_lines(tmp_path / "data.csv", [header, *(GOOD_ROWS if rows is None else rows)])


def test_round_trip_write_then_load_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = RegressionData(x=rng.normal(size=37), y=rng.normal(size=37) * 1e5, source="mem")
    path = tmp_path / "sub" / "out.csv"
    write_csv(path, data)
    loaded = load_csv(path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "input,label"
    assert loaded.x.dtype == np.float32 and loaded.y.dtype == np.float32
    assert loaded.x.shape == (37,) and loaded.y.shape == (37,)
    np.testing.assert_array_equal(loaded.x, data.x)
    np.testing.assert_array_equal(loaded.y, data.y)
    assert loaded.source == str(path)


def test_bom_crlf_whitespace_and_trailing_blank_lines_are_tolerated(tmp_path: Path) -> None:
    text = "\ufeff  input , label \r\n" + "\r\n".join(GOOD_ROWS) + "\r\n\r\n  \r\n"
    path = tmp_path / "windows.csv"
    path.write_bytes(text.encode("utf-8"))
    data = load_csv(path)
    expected = np.array([[float(cell) for cell in row.split(",")] for row in GOOD_ROWS])
    np.testing.assert_array_equal(data.x, expected[:, 0].astype(np.float32))
    np.testing.assert_array_equal(data.y, expected[:, 1].astype(np.float32))


def test_default_data_round_trips_through_csv(tmp_path: Path) -> None:
    train, _ = default_data(seed=3)
    write_csv(tmp_path / "train.csv", train)
    loaded = load_csv(tmp_path / "train.csv")
    np.testing.assert_array_equal(loaded.x, train.x)
    np.testing.assert_array_equal(loaded.y, train.y)


def _error(path: Path | str, **kwargs: int) -> str:
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    message = _error(tmp_path / "nope.csv")
    assert "nope.csv" in message and "cannot read" in message and "input,label" in message


def test_directory(tmp_path: Path) -> None:
    assert "a folder; give a regular file" in _error(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permission_denied(tmp_path: Path) -> None:
    path = _good_file(tmp_path)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions")
        assert "cannot read" in _error(path)
    finally:
        path.chmod(0o600)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "empty" in _error(path)


def test_blank_lines_only_count_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\r\n  \n\n")
    assert "empty" in _error(path)


def test_header_only(tmp_path: Path) -> None:
    message = _error(_good_file(tmp_path, rows=[]), min_rows=0)
    assert "no data rows" in message


def test_wrong_header_says_expected_header(tmp_path: Path) -> None:
    message = _error(_good_file(tmp_path, header="x,y"))
    assert "line 1" in message and "'x,y'" in message and "input,label" in message


def test_missing_header_says_expected_header(tmp_path: Path) -> None:
    message = _error(_write_lines(tmp_path / "d.csv", GOOD_ROWS))
    assert "line 1" in message and "input,label" in message


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("input,label\n1,caf\xe9\n".encode("latin-1"))
    message = _error(path)
    assert "UTF-8" in message and "byte 17" in message


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(bytes(range(256)) * 4)
    assert "garbage.bin" in _error(path)


@pytest.mark.parametrize("bad_row", ["1,2,3", "1", "", "1;2"])
def test_wrong_number_of_columns_names_the_line(tmp_path: Path, bad_row: str) -> None:
    rows = [*GOOD_ROWS[:3], bad_row, *GOOD_ROWS[3:]]
    message = _error(_good_file(tmp_path, rows=rows))
    assert "line 5" in message and "column" in message


@pytest.mark.parametrize(("bad_row", "value"), [("abc,1", "'abc'"), ("1,", "''"), ("0x1,2", "0x1")])
def test_non_numeric_value_names_line_and_value(tmp_path: Path, bad_row: str, value: str) -> None:
    message = _error(_good_file(tmp_path, rows=[*GOOD_ROWS, bad_row]))
    assert f"line {len(GOOD_ROWS) + 2}" in message and value in message
    assert "not a number" in message


@pytest.mark.parametrize("bad_row", ["nan,1", "1,inf", "-Infinity,0", "1e39,0", "0,-1e300"])
def test_non_finite_value_names_the_line(tmp_path: Path, bad_row: str) -> None:
    message = _error(_good_file(tmp_path, rows=[bad_row, *GOOD_ROWS]))
    assert "line 2" in message and "finite" in message


def test_duplicated_header_line(tmp_path: Path) -> None:
    rows = [*GOOD_ROWS[:4], " input,label", *GOOD_ROWS[4:]]
    message = _error(_good_file(tmp_path, rows=rows))
    assert "line 6" in message and "header" in message


def test_too_few_rows(tmp_path: Path) -> None:
    path = _good_file(tmp_path, rows=GOOD_ROWS[: MIN_ROWS - 1])
    message = _error(path)
    assert f"{MIN_ROWS - 1} data row" in message and f"at least {MIN_ROWS}" in message
    assert len(load_csv(path, min_rows=MIN_ROWS - 1)) == MIN_ROWS - 1


def _loads_or_data_error(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        data = load_csv(path, min_rows=1)
    except DataError:
        return
    assert data.x.dtype == np.float32 and data.x.shape == data.y.shape
    assert np.isfinite(data.x).all() and np.isfinite(data.y).all()


_FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_FUZZ
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_load_or_raise_data_error(tmp_path: Path, content: bytes) -> None:
    _loads_or_data_error(tmp_path / "fuzz.csv", content)


@_FUZZ
@given(body=st.text(alphabet="0123456789.,-+eE_ \t\r\n\x00nafiINF\ufeff\u00e9", max_size=120))
def test_csv_like_text_loads_or_raises_data_error(tmp_path: Path, body: str) -> None:
    _loads_or_data_error(tmp_path / "fuzz.csv", ("input,label\n" + body).encode("utf-8"))


def _inside(x: np.ndarray, gap: tuple[float, float]) -> np.ndarray:
    return (x > gap[0]) & (x < gap[1])


def test_default_data_shape_range_and_gaps() -> None:
    train, test = default_data()
    for part in (train, test):
        assert part.x.shape == (100,) and part.y.shape == (100,)
        assert part.x.dtype == np.float32 and part.y.dtype == np.float32
        assert part.x.min() >= -5 and part.x.max() <= 5
    for gap in TRAIN_GAPS:
        assert not _inside(train.x, gap).any()
        assert _inside(test.x, gap).sum() >= 10
    assert train.source == "default(seed=0, split=train)"
    assert test.source == "default(seed=0, split=test)"


def test_default_data_gaps_and_function_are_the_readmes() -> None:
    assert [tuple(map(float, g)) for g in TRAIN_GAPS] == [(-3.0, -1.0), (2.0, 4.0)]
    x = np.array([-4.0, -2.0, 0.0, 1.5, 3.0])
    readme = 2.5 * np.sin(1.2 * x) + 0.2 * x**2 * (x + 1) * np.exp(-(x**2) / 10)
    np.testing.assert_allclose(target_function(x), readme, rtol=1e-6)


def test_default_data_is_deterministic_per_seed() -> None:
    first, again, other = default_data(7), default_data(7), default_data(8)
    for a, b, c in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
        assert not np.array_equal(a.x, c.x) and not np.array_equal(a.y, c.y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_labels_are_noisier_than_test_labels(seed: int) -> None:
    train, test = default_data(seed)
    train_noise = np.std(train.y - target_function(train.x))
    test_noise = np.std(test.y - target_function(test.x))
    assert 0.28 < train_noise < 0.52 and 0.12 < test_noise < 0.28
    assert train_noise > test_noise


def test_target_function_is_bounded_and_bumpy() -> None:
    x = np.linspace(-5, 5, 2001)
    y = target_function(x)
    assert y.shape == x.shape and y.min() >= -4 and y.max() <= 4
    turning_points = np.count_nonzero(np.diff(np.sign(np.diff(y))))
    assert turning_points >= 3


def test_regression_data_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="must match"):
        RegressionData(x=np.zeros(3), y=np.zeros(4), source="mem")
