"""Image folders as users have them: ``DIR/CLASS/*`` or ``DIR/train/CLASS/*`` + ``DIR/test/CLASS/*``.

The layout of torchvision's ``ImageFolder`` and Keras's ``image_dataset_from_directory``: one
subfolder per class (the class names are the folder names, sorted), images in any format
Pillow reads (PNG, JPEG, BMP, GIF, TIFF). Colour or grey comes from the files unless
``color_mode`` forces one; every image is resized to ``image_size`` x ``image_size`` (default:
the most common size in the set). A folder without ``train/`` and ``test/`` gets a seeded,
stratified test split of ``test_fraction``.

The images are decoded once, by a thread per core, into uint8 arrays ``(n, c, h, w)`` kept in
a cache file keyed by every file's name, size and modification time and the options (a
changed file makes a new key). Every problem with a file is a :class:`DataError` naming it."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nndl.errors import DataError

__all__ = [
    "IMAGE_SUFFIXES",
    "FolderOptions",
    "ImageSet",
    "decode_files",
    "image_files",
    "is_image_folder",
    "load_image_folder",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
COLOR_MODES = ("auto", "rgb", "grayscale")
LAYOUT = "expected DIR/CLASS/IMAGE or DIR/train/CLASS/IMAGE with DIR/test/CLASS/IMAGE"


@dataclass(frozen=True)
class FolderOptions:
    """How a folder becomes arrays: colour, size, the held-out test split, the cache."""

    color_mode: str = "auto"
    image_size: int | None = None
    test_fraction: float = 0.2
    seed: int = 0
    cache: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.color_mode not in COLOR_MODES:
            problems.append(f"color mode {self.color_mode!r}: valid: {', '.join(COLOR_MODES)}")
        if self.image_size is not None and not 1 <= self.image_size <= 4096:
            problems.append(f"image size {self.image_size}: must be in [1, 4096]")
        if not 0 < self.test_fraction < 1:
            problems.append(f"test fraction {self.test_fraction}: must be in (0, 1)")
        if problems:
            raise DataError("; ".join(problems))


@dataclass(frozen=True)
class ImageSet:
    """Training and test images ``(n, c, h, w)`` uint8 with int64 labels, the class names, and
    where they came from (``held_out``: the test images were split off by nndl)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...]
    source: str
    held_out: bool
    verified: bool = False


def is_image_folder(root: str | os.PathLike[str]) -> bool:
    """Whether ``root`` is laid out as class folders of images (else: IDX files)."""
    path = Path(root).expanduser()
    base = path / "train" if (path / "train").is_dir() else path
    return any(_images(d) for d in _class_dirs(base))


def load_image_folder(root: str | os.PathLike[str], options: FolderOptions) -> ImageSet:
    """The folder's images as arrays (from the cache when nothing changed)."""
    path = Path(root).expanduser()
    split = (path / "train").is_dir() and (path / "test").is_dir()
    train = _scan(path / "train" if split else path)
    test = _scan(path / "test") if split else {}
    classes = tuple(sorted(train))
    unknown = sorted(set(test) - set(train))
    if unknown:
        raise DataError(
            f"{path / 'test' / unknown[0]}: class {unknown[0]!r} is not in {path / 'train'} "
            f"(its classes: {', '.join(classes)})"
        )
    files = [f for c in classes for f in train[c]] + [f for c in sorted(test) for f in test[c]]
    cache = _cache_file(path, files, options)
    if options.cache and cache.is_file():
        return _read_cache(cache, classes, split)
    images = _decode_all(path, files, options)
    labels = _labels(train, classes) + _labels(test, classes)
    n_train = len(_flat(train)) if split else None
    arrays = _split(images, np.asarray(labels, np.int64), n_train=n_train, classes=classes)
    if not split:
        arrays = _held_out(*arrays[:2], classes=classes, options=options)
    result = ImageSet(*arrays, classes=classes, source=f"folder:{path}", held_out=not split)
    if options.cache:
        _write_cache(cache, result)
    return result


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every image file under ``folder`` (its subfolders too), sorted by path."""
    root = Path(folder).expanduser()
    found = (f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    return sorted(f for f in found if not any(p.startswith(".") for p in f.relative_to(root).parts))


def decode_files(files: list[Path], shape: tuple[int, int, int]) -> np.ndarray:
    """``files`` decoded to uint8 ``(n, c, h, w)`` of ``shape`` (grey for one channel, else
    colour; resized to the square side), by a thread per core."""
    channels, side, _ = shape
    mode = "rgb" if channels == 3 else "grayscale"
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return np.stack(list(pool.map(lambda f: _decode(f, mode, side), files)))


def _class_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def _scan(folder: Path) -> dict[str, list[Path]]:
    """Each class folder's image files; one line naming an empty one."""
    found = {d.name: _images(d) for d in _class_dirs(folder)}
    if not found:
        raise DataError(f"{folder}: no class folders; {LAYOUT}")
    for name, files in found.items():
        if not files:
            raise DataError(
                f"{folder / name}: no image files ({', '.join(IMAGE_SUFFIXES)}); every class "
                "folder needs at least one"
            )
    return found


def _flat(by_class: dict[str, list[Path]]) -> list[Path]:
    return [f for c in sorted(by_class) for f in by_class[c]]


def _labels(by_class: dict[str, list[Path]], classes: tuple[str, ...]) -> list[int]:
    return [classes.index(c) for c in sorted(by_class) for _ in by_class[c]]


def _cache_file(root: Path, files: list[Path], options: FolderOptions) -> Path:
    """The cache file for these files (names, sizes, times) and options."""
    from nndl.data.mnist import default_cache_dir

    digest = hashlib.sha256(repr(options).encode())
    for f in files:
        stat = f.stat()
        digest.update(f"{f.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return default_cache_dir() / "images" / f"{root.name}-{digest.hexdigest()[:20]}.npz"


def _decode_all(root: Path, files: list[Path], options: FolderOptions) -> np.ndarray:
    """Every image as ``(n, c, side, side)`` uint8, decoded by a thread per core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        headers = list(pool.map(_header, files))
        mode = options.color_mode
        if mode == "auto":
            mode = "grayscale" if all(m in GREY_MODES for _, m in headers) else "rgb"
        side = options.image_size or _common_side([s for s, _ in headers])
        _check_memory(root, (len(files), 3 if mode == "rgb" else 1, side))
        decoded = list(pool.map(lambda f: _decode(f, mode, side), files))
    return np.stack(decoded)


def _header(path: Path) -> tuple[tuple[int, int], str]:
    """Size and mode from the file's header (nothing decoded yet)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size, image.mode
    except UnidentifiedImageError:
        raise DataError(f"{path}: not an image Pillow can read; {LAYOUT}") from None
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: {exc} (a decompression bomb?)") from None
    except OSError as exc:
        raise DataError(
            f"{path}: cannot be decoded ({exc}); a truncated or damaged image?"
        ) from None


def _decode(path: Path, mode: str, side: int) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            converted = image.convert("RGB" if mode == "rgb" else "L")
            if converted.size != (side, side):
                converted = converted.resize((side, side), Image.Resampling.BILINEAR)
            array = np.asarray(converted, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as exc:  # a truncated or damaged file
        raise DataError(
            f"{path}: cannot be decoded ({exc}); a truncated or damaged image?"
        ) from None
    return array.transpose(2, 0, 1) if array.ndim == 3 else array[None]


def _common_side(sizes: list[tuple[int, int]]) -> int:
    """The side of the most common size (its longer side when it is not square)."""
    (width, height), _ = Counter(sizes).most_common(1)[0]
    return max(width, height)


def _check_memory(root: Path, shape: tuple[int, int, int]) -> None:
    """Refuse a set whose arrays would take more than half the free memory."""
    count, channels, side = shape
    need = count * channels * side * side
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if need > free / 2:
        fits = int((free / 2 / (count * channels)) ** 0.5)
        raise DataError(
            f"{root}: {count} images of {channels}x{side}x{side} need {need / 1e9:.1f} GB, more "
            f"than half the {free / 1e9:.1f} GB of free memory; --image-size {fits} would fit"
        )


def _split(
    images: np.ndarray, labels: np.ndarray, *, n_train: int | None, classes: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The folders' train and test images (all of them train when there is no test folder)."""
    n = len(labels) if n_train is None else n_train
    return images[:n], labels[:n], images[n:], labels[n:]


def _held_out(
    images: np.ndarray, labels: np.ndarray, *, classes: tuple[str, ...], options: FolderOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded test split of ``options.test_fraction``, stratified by class."""
    counts = np.bincount(labels, minlength=len(classes))
    if counts.min() < 2:
        name = classes[int(counts.argmin())]
        raise DataError(
            f"class {name!r} has {counts.min()} image; a stratified test split needs at least 2 "
            "per class (or give DIR/train and DIR/test)"
        )
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    train, test = train_test_split(
        index, test_size=options.test_fraction, stratify=labels, random_state=options.seed
    )
    train, test = np.sort(train), np.sort(test)
    return images[train], labels[train], images[test], labels[test]


def _read_cache(path: Path, classes: tuple[str, ...], split: bool) -> ImageSet:
    with np.load(path) as data:
        train_x, train_y, test_x, test_y = (
            data[k] for k in ("train_x", "train_y", "test_x", "test_y")
        )
    return ImageSet(
        train_x,
        train_y,
        test_x,
        test_y,
        classes=classes,
        source=f"cache:{path}",
        held_out=not split,
    )


def _write_cache(path: Path, images: ImageSet) -> None:
    """The arrays, written whole or not at all (another run may read the file meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial.npz")
    arrays: dict[str, Any] = {
        "train_x": images.train_images,
        "train_y": images.train_labels,
        "test_x": images.test_images,
        "test_y": images.test_labels,
    }
    try:
        np.savez(partial, **arrays)
        os.replace(partial, path)
    except OSError:  # a cache that cannot be written costs only the next run's decoding
        partial.unlink(missing_ok=True)
