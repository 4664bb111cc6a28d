"""Images as users have them: class folders of PNG and JPEG files, grey or colour, of mixed
sizes, written by the tests from real images (Fashion-MNIST, scikit-learn's sample photos),
trained through the real CLI; and every bad folder as one line naming the file."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from nndl.data.folders import FolderOptions, load_image_folder
from nndl.data.mnist import load_mnist
from user_data import FASHION_CLASSES, FASHION_DIR, needs_fashion

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "NNDL_DATA": str(cache)}
    command = [sys.executable, "-m", "nndl", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def fashion_folders(root: Path, train: int, test: int) -> Any:
    """The first ``train`` and ``test`` Fashion-MNIST images as PNG files in class folders."""
    data = load_mnist(FASHION_DIR)
    for split, images, labels, n in (
        ("train", data.train_images, data.train_labels, train),
        ("test", data.test_images, data.test_labels, test),
    ):
        for i in range(n):
            folder = root / split / FASHION_CLASSES[labels[i]].replace("/", "-")
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(folder / f"{i:05d}.png")
    return data


@needs_fashion
def test_png_folders_give_the_idx_files_pixels_and_train_through_the_cli(tmp_path: Path) -> None:
    data = fashion_folders(tmp_path / "fashion", 2000, 500)
    options = FolderOptions(cache=False)
    images = load_image_folder(tmp_path / "fashion", options)
    names = sorted(c.replace("/", "-") for c in FASHION_CLASSES)
    assert images.classes == tuple(names) and not images.held_out
    assert images.train_images.shape == (2000, 1, 28, 28) and images.test_images.shape[0] == 500
    for k, name in enumerate(names):  # each class's images, in file order, are the IDX's
        label = [c.replace("/", "-") for c in FASHION_CLASSES].index(name)
        expected = data.train_images[:2000][data.train_labels[:2000] == label]
        assert np.array_equal(images.train_images[images.train_labels == k][:, 0], expected)
    cache = tmp_path / "cache"
    out = tmp_path / "run"
    flags = ["--task", "images", "--arch", "fcn", "--epochs", "8", "--quiet"]
    done = nndl(
        "train", *flags, "--data-dir", str(tmp_path / "fashion"), "--out", str(out), cache=cache
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["test_accuracy"] > 0.5  # chance: 0.1
    # the same images as IDX files, in the folders' order (classes by name, then files)
    idx = _idx_like_folders(tmp_path / "idx", data, names)
    same = nndl("train", *flags, "--data-dir", str(idx), "--out", str(tmp_path / "i"), cache=cache)
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["test_accuracy"] == metrics["test_accuracy"]
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["classes"] == names and config["data"]["input_shape"] == [1, 28, 28]
    assert config["data"]["source"] == f"folder:{tmp_path / 'fashion'}"
    rerun = [
        "--data-dir",
        str(tmp_path / "fashion"),
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "r2"),
    ]
    again = nndl("train", *flags, *rerun, cache=cache)
    assert again.returncode == 0, again.stderr  # the second run reads the cache
    source = json.loads((tmp_path / "r2" / "config.json").read_text())["data"]["source"]
    assert source.startswith(f"cache:{cache / 'images'}")


def _idx_like_folders(root: Path, data: Any, names: list[str]) -> Path:
    """IDX files of the first 2000 training and 500 test images, in the folders' order."""
    from nndl.data._idx import write_idx

    order = [c.replace("/", "-") for c in FASHION_CLASSES]
    root.mkdir()
    for stem, images, labels, n in (
        ("train", data.train_images, data.train_labels, 2000),
        ("t10k", data.test_images, data.test_labels, 500),
    ):
        rank = [names.index(order[label]) for label in labels[:n]]
        index = sorted(range(n), key=lambda i: (rank[i], i))
        write_idx(root / f"{stem}-images-idx3-ubyte", images[:n][index])
        write_idx(root / f"{stem}-labels-idx1-ubyte", np.asarray(rank, np.uint8)[index])
    return root


def photo_patches(root: Path, per_class: int = 40) -> None:
    """JPEG patches of mixed sizes cut from scikit-learn's two sample photos, a class each."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(0)
    for name, photo in zip(("china", "flower"), load_sample_images().images, strict=True):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            side = int(rng.choice([24, 32, 32, 40]))
            y, x = rng.integers(0, photo.shape[0] - side), rng.integers(0, photo.shape[1] - side)
            Image.fromarray(photo[y : y + side, x : x + side]).save(folder / f"{i}.jpg")


def test_colour_jpegs_of_mixed_sizes_are_held_out_resized_and_learned(tmp_path: Path) -> None:
    photo_patches(tmp_path / "photos")
    images = load_image_folder(tmp_path / "photos", FolderOptions(cache=False))
    assert images.classes == ("china", "flower") and images.held_out
    assert images.train_images.shape[1:] == (3, 32, 32)  # colour, the most common side
    assert len(images.test_labels) == 16 and np.bincount(images.test_labels).tolist() == [8, 8]
    grey = load_image_folder(tmp_path / "photos", FolderOptions("grayscale", 20, cache=False))
    assert grey.train_images.shape[1:] == (1, 20, 20)
    out = tmp_path / "run"
    flags = ["--data-dir", str(tmp_path / "photos"), "--arch", "cnn", "--epochs", "15"]
    flags += ["--batch-size", "16"]
    done = nndl("train", "--task", "images", *flags, "--out", str(out), "--quiet", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["test_accuracy"] >= 0.75  # two photos apart by colour
    data = json.loads((out / "config.json").read_text())["data"]
    assert data["input_shape"] == [3, 32, 32] and data["held_out_test"]["fraction"] == 0.2


def _bomb_png(path: Path, side: int = 20_000) -> None:
    """A valid grey PNG header of ``side`` x ``side`` pixels (400 megapixels): a decompression
    bomb for Pillow's limit, a few bytes on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\0" * (side + 1))  # one row; Pillow refuses before it reads more
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body))


def _bad_folders(root: Path) -> dict[str, tuple[Path, str]]:
    """Folder name -> (the folder, what the one error line must say)."""
    cases: dict[str, tuple[Path, str]] = {}
    for name in ("truncated", "not_an_image", "empty_class", "unknown_test_class", "bomb"):
        photo_patches(root / name / "train" if name == "unknown_test_class" else root / name, 3)
    good = root / "truncated" / "china" / "0.jpg"
    good.write_bytes(good.read_bytes()[:200])
    cases["truncated"] = (root / "truncated", f"{good}: cannot be decoded")
    fake = root / "not_an_image" / "flower" / "notes.png"
    fake.write_text("a text file named like an image\n")
    cases["not_an_image"] = (root / "not_an_image", f"{fake}: not an image Pillow can read")
    (root / "empty_class" / "dog").mkdir()
    cases["empty_class"] = (root / "empty_class", f"{root / 'empty_class' / 'dog'}: no image files")
    photo_patches(root / "unknown_test_class" / "test", 2)
    (root / "unknown_test_class" / "test" / "flower").rename(
        root / "unknown_test_class" / "test" / "tulip"
    )
    cases["unknown_test_class"] = (root / "unknown_test_class", "class 'tulip' is not in")
    _bomb_png(root / "bomb" / "china" / "big.png")
    cases["bomb"] = (root / "bomb", "decompression bomb")
    return cases


def test_each_bad_folder_is_one_line_naming_the_file_and_writes_nothing(tmp_path: Path) -> None:
    for name, (folder, says) in _bad_folders(tmp_path / "sets").items():
        out = tmp_path / f"run-{name}"
        done = nndl(
            "train",
            "--task",
            "images",
            "--data-dir",
            str(folder),
            "--out",
            str(out),
            cache=tmp_path,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, (name, done.stderr)
        assert says in lines[0] and "Traceback" not in done.stderr, (name, lines[0])
        assert not out.exists(), name
    assert not (tmp_path / "images").exists()  # nothing half-written into the cache


def test_a_folder_of_new_images_is_predicted_through_the_cli(tmp_path: Path) -> None:
    photo_patches(tmp_path / "photos")
    out = tmp_path / "run"
    flags = ["--data-dir", str(tmp_path / "photos"), "--arch", "fcn", "--epochs", "5"]
    flags += ["--batch-size", "16"]
    done = nndl("train", "--task", "images", *flags, "--out", str(out), "--quiet", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    new = tmp_path / "new"
    photo_patches(new, per_class=3)  # china/0-2.jpg, flower/0-2.jpg: sizes the net never saw
    preds = tmp_path / "preds.csv"
    done = nndl("predict", str(out), "--input", str(new), "--out", str(preds), cache=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = preds.read_text().splitlines()
    assert rows[0] == "file,label,p_china,p_flower" and len(rows) == 7
    assert rows[1].startswith("china/0.jpg,") and rows[4].startswith("flower/0.jpg,")


def test_train_names_the_classes_of_an_idx_set_from_class_names(tmp_path: Path) -> None:
    from nndl.data._idx import write_idx

    rng = np.random.default_rng(0)
    idx = tmp_path / "idx"
    idx.mkdir()
    for stem, n in (("train", 40), ("t10k", 20)):
        write_idx(idx / f"{stem}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(idx / f"{stem}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(FASHION_CLASSES) + "\n")
    out = tmp_path / "run"
    flags = ["--data-dir", str(idx), "--class-names", str(names), "--epochs", "1"]
    flags += ["--arch", "fcn", "--batch-size", "8", "--out", str(out), "--quiet"]
    done = nndl("train", "--task", "images", *flags, cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "config.json").read_text())["data"]["classes"] == list(FASHION_CLASSES)


def test_a_set_too_big_for_memory_says_how_big_and_what_would_fit(tmp_path: Path) -> None:
    photo_patches(tmp_path / "photos", per_class=1000)
    need = 2000 * 3 * 4096 * 4096  # 2,000 colour images of 4096 x 4096: 100 GB
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if need <= free / 2:
        pytest.skip("this machine has room for 100 GB of images")
    flags = ["--data-dir", str(tmp_path / "photos"), "--image-size", "4096"]
    done = nndl("train", "--task", "images", *flags, "--out", str(tmp_path / "run"), cache=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "2000 images of 3x4096x4096 need 100.7 GB" in lines[0] and "--image-size" in lines[0]
    assert not (tmp_path / "run").exists()


def test_the_image_study_runs_on_a_colour_folder_and_its_report_says_so(tmp_path: Path) -> None:
    photo_patches(tmp_path / "photos", per_class=400)
    study = tmp_path / "photos.toml"
    study.write_text(
        f'[study]\nbudget = "quick"\n\n[classify]\ndata_dir = "{tmp_path / "photos"}"\n'
        'augment = ["crop", "flip"]\nspace = "pooled"\n',
        encoding="utf-8",
    )
    out = tmp_path / "study"
    done = nndl("study", "run", str(study), "--out", str(out), "--quiet", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())["classify"]
    assert results["classes"] == ["china", "flower"] and results["held_out_test"]["fraction"] == 0.2
    report = (out / "report.md").read_text()
    assert "Image classification: photos" in report and "held out by nndl" in report
    assert "contour of the objective over ch1 and Nh1" in report  # the pooled space's pairs
    linked = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert len(linked) == 10 and all((out / p).is_file() for p in linked)
    figure = out / "classify" / "figures" / "figure_5_activation_maximization.png"
    assert figure.is_file()


@needs_fashion
def test_classify_train_takes_the_folder_and_augmentation_the_study_takes(tmp_path: Path) -> None:
    fashion_folders(tmp_path / "fashion", 400, 100)
    out = tmp_path / "dcnn"
    done = nndl(
        *("classify", "train", "--arch", "dcnn", "--epochs", "1", "--quiet"),
        *("--data-dir", str(tmp_path / "fashion"), "--augment", "flip", "--no-cache"),
        *("--out", str(out)),
        cache=tmp_path / "cache",
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "images" and config["task_options"]["augment"] == ["flip"]
    assert config["data"]["classes"] == sorted(c.replace("/", "-") for c in FASHION_CLASSES)
    assert not (tmp_path / "cache").exists()
