"""The bad inputs of the reliability suite: files a real user could hand nndl, made in one folder."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from nndl.data._idx import write_idx

NNDL = [sys.executable, "-m", "nndl"]
TRAIN_FAST = ["train", "--task", "regression", "--epochs", "1", "--quiet"]


def nndl(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; a leading ``-C DIR`` runs it in ``cwd / DIR``."""
    if args[:1] == ("-C",):
        cwd, args = cwd / args[1], args[2:]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("NNDL_TRACEBACK", None)
    return subprocess.run(
        [*NNDL, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def _csv(path: Path, label: str = "{y}", rows: int = 30) -> None:
    lines = [f"{i / 10},{label.format(y=i % 3)}" for i in range(rows)]
    path.write_text("input,label\n" + "\n".join(lines) + "\n", encoding="utf-8")


def make_csvs(root: Path) -> None:
    _csv(root / "ok.csv")
    _csv(root / "fractions.csv", "{y}.5")
    _csv(root / "underscore.csv", "1_000")
    _csv(root / "arabic.csv", "\u0661\u0662")
    _csv(root / "fullwidth.csv", "\uff13")
    _csv(root / "nan.csv", "nan")
    _csv(root / "inf.csv", "inf")
    _csv(root / "huge_labels.csv", "3e38")  # finite, but its squared error is not
    _csv(root / "few.csv", rows=4)
    (root / "semicolon.csv").write_text(
        "input;label\n" + "".join(f"{i};{i % 3}\n" for i in range(30)), encoding="utf-8"
    )
    (root / "header.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (root / "latin1.csv").write_bytes(b"input,label\n1,\xe9\n")
    (root / "empty.csv").write_text("", encoding="utf-8")
    with open(root / "sparse.csv", "wb") as handle:  # over the 1 GiB cap, no disk used
        handle.truncate((1 << 30) + 1)
    os.mkfifo(root / "fifo")
    (root / "afolder").mkdir()
    (root / "file.txt").write_text("not a folder\n", encoding="utf-8")


def make_params(root: Path) -> None:
    (root / "list.json").write_text("[]", encoding="utf-8")
    (root / "notjson.json").write_text("{lr: 1", encoding="utf-8")
    (root / "nan.json").write_text('{"lr": NaN}', encoding="utf-8")
    huge = {
        "Nh1": 128,
        "Nh2": 128,
        "Nh3": 64,
        "Nh4": 64,
        "activation_function": "ReLU",
        "dropout_prob_2": 0.1,
        "dropout_prob_3": 0.1,
        "lr": 1e300,
        "weight_decay": 0.0,
        "train_batch_size": 10,
        "patience": 10,
    }
    (root / "huge.json").write_text(json.dumps(huge), encoding="utf-8")
    wide = {**huge, "lr": 1e-3, "Nh1": 1e300}
    (root / "wide.json").write_text(json.dumps(wide), encoding="utf-8")
    (root / "long.json").write_text(json.dumps({**huge, "lr": "9" * 2_000_000}), encoding="utf-8")
    (root / "results_list").mkdir()
    (root / "results_list" / "results.json").write_text("[]", encoding="utf-8")
    (root / "results_shape").mkdir()
    (root / "results_shape" / "results.json").write_text('{"regression": 5}', encoding="utf-8")
    (root / "results_fifo").mkdir()
    os.mkfifo(root / "results_fifo" / "results.json")
    (root / "results_keys").mkdir()
    (root / "results_keys" / "results.json").write_text('{"regression": {}}', encoding="utf-8")


_IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _mnist_dir(root: Path, train: int = 20, test: int = 10) -> Path:
    root.mkdir()
    rng = np.random.default_rng(0)
    for n, (images, labels) in zip((train, test), (_IDX_NAMES[:2], _IDX_NAMES[2:]), strict=True):
        write_idx(root / images, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(root / labels, rng.integers(0, 10, n, dtype=np.uint8))
    return root


def make_idx_dirs(root: Path) -> None:
    _mnist_dir(root / "idx_ok")
    _mnist_dir(root / "idx_no_test", test=0)
    labels = _mnist_dir(root / "idx_label_255") / _IDX_NAMES[1]
    write_idx(labels, np.array([*range(10), *range(9), 255], dtype=np.uint8))
    images = root / "{}" / _IDX_NAMES[0]
    bomb = _mnist_dir(root / "idx_bomb") / _IDX_NAMES[0]  # a header that promises 785 GB
    bomb.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10**9, 28, 28)))
    long = _mnist_dir(root / "idx_long") / _IDX_NAMES[0]  # 20 images, then 64 MB more zeros
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 20, 28, 28)
    long.write_bytes(gzip.compress(header + bytes(20 * 784 + (64 << 20)), compresslevel=1))
    dims = _mnist_dir(root / "idx_dims") / _IDX_NAMES[0]
    dims.write_bytes(bytes([0, 0, 8, 65]) + struct.pack(">65I", *[1] * 65))
    overflow = _mnist_dir(root / "idx_overflow") / _IDX_NAMES[0]
    overflow.write_bytes(bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", *[2**32 - 1] * 3))
    os.remove(_mnist_dir(root / "idx_fifo") / _IDX_NAMES[0])
    os.mkfifo(str(images).format("idx_fifo"))


def make_all(root: Path) -> None:
    """Every input file of the cases, plus a foreign folder of the user's."""
    make_csvs(root)
    make_params(root)
    make_idx_dirs(root)
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("the user's own file\n", encoding="utf-8")
