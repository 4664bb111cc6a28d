"""Reliability: bad inputs and faults through the real CLI, each one line, no traceback, no loss.

Every case runs ``python -m nndl`` in a subprocess in a folder that holds an earlier train run
(``prior``) and an earlier study folder (``study``), and checks: the exit status, exactly one
line on stderr that names the input, no traceback, and that both earlier folders are byte for
byte as they were (and no staging folder is left behind).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from reliability_inputs import TRAIN_FAST, make_all, nndl


class Case(NamedTuple):
    name: str
    argv: list[str]
    code: int
    says: str  # a part of the one stderr line (names the input, or says what went wrong)
    started: bool = False  # got past the checks: the study's nndl.log may grow (append only)


T, OUT = TRAIN_FAST, ["--out", "prior"]
CSV = ["--test-csv", "ok.csv"]
REG = ["regression", "basic", "--quick", "--quiet"]
SEARCH = ["regression", "search", "--quick", "--quiet", "--out", "study"]
MNIST = ["train", "--task", "mnist", "--epochs", "1", "--quiet", *OUT, "--data-dir"]

CASES = [
    # output folders, checked before any work
    Case("out-empty", [*T, "--out", ""], 2, "--out"),
    Case("out-blank", [*T, "--out", "  "], 2, "--out"),
    Case("out-is-a-file", [*T, "--out", "file.txt"], 2, "file.txt"),
    Case("out-under-a-file", [*T, "--out", "file.txt/run"], 2, "file.txt"),
    Case("out-in-proc", [*T, "--out", "/proc/nndl-run"], 2, "/proc"),
    Case("out-in-sys", [*T, "--out", "/sys/nndl-run"], 2, "/sys"),
    Case("out-current-folder", [*T, "--out", "."], 2, "current folder"),
    Case("out-parent-folder", [*T, "--out", ".."], 2, "current folder"),
    Case("out-foreign-folder", [*T, "--out", "mine"], 2, "mine"),
    Case("out-default-inside-a-run", ["-C", "prior", *T], 2, "--out"),
    Case("study-out-empty", [*REG, "--out", ""], 2, "--out"),
    Case("study-out-file", [*REG, "--out", "file.txt"], 2, "file.txt"),
    Case("study-out-current", [*REG, "--out", "."], 2, "current folder"),
    Case(
        "classify-out-file", ["classify", "search", "--quick", "--out", "file.txt"], 2, "file.txt"
    ),
    Case("reproduce-out-empty", ["reproduce", "--quick", "--out", ""], 2, "--out"),
    Case("reproduce-out-proc", ["reproduce", "--quick", "--out", "/proc/x"], 2, "/proc"),
    Case("report-on-proc", ["report", "/proc/nndl"], 2, "/proc"),
    # input files: regular, bounded, plain numbers
    Case("csv-empty-name", [*T, *OUT, "--train-csv", "", *CSV], 2, "--train-csv"),
    Case("csv-missing", [*T, *OUT, "--train-csv", "nope.csv", *CSV], 1, "nope.csv"),
    Case("csv-fifo", [*T, *OUT, "--train-csv", "fifo", *CSV], 1, "fifo"),
    Case("csv-dev-zero", [*T, *OUT, "--train-csv", "/dev/zero", *CSV], 1, "/dev/zero"),
    Case("csv-folder", [*T, *OUT, "--train-csv", "afolder", *CSV], 1, "afolder"),
    Case("csv-over-cap", [*T, *OUT, "--train-csv", "sparse.csv", *CSV], 1, "sparse.csv"),
    Case("csv-underscore", [*T, *OUT, "--train-csv", "underscore.csv", *CSV], 1, "'1_000'"),
    Case("csv-arabic-digits", [*T, *OUT, "--train-csv", "arabic.csv", *CSV], 1, "arabic.csv"),
    Case("csv-fullwidth-digits", [*T, *OUT, "--train-csv", "fullwidth.csv", *CSV], 1, "fullwidth"),
    Case("csv-nan", [*T, *OUT, "--train-csv", "nan.csv", *CSV], 1, "'nan'"),
    Case("csv-inf", [*T, *OUT, "--train-csv", "inf.csv", *CSV], 1, "'inf'"),
    Case("csv-semicolons", [*T, *OUT, "--train-csv", "semicolon.csv", *CSV], 1, "by ';'"),
    Case("csv-header", [*T, *OUT, "--train-csv", "header.csv", *CSV], 1, "header"),
    Case("csv-latin1", [*T, *OUT, "--train-csv", "latin1.csv", *CSV], 1, "UTF-8"),
    Case("csv-empty-file", [*T, *OUT, "--train-csv", "empty.csv", *CSV], 1, "empty"),
    Case("csv-few-rows", [*T, *OUT, "--train-csv", "few.csv", *CSV], 1, "few.csv"),
    Case("csv-only-one", [*T, *OUT, "--train-csv", "ok.csv"], 2, "--test-csv"),
    Case(
        "tabular-target-of-numbers",
        ["train", "--task", "tabular", "--epochs", "1", *OUT, "--train-csv", "fractions.csv", *CSV],
        1,
        "fractions.csv: --target 'label' holds numbers such as '0.5', not classes",
    ),
    Case("study-csv-fifo", [*REG, "--out", "study", "--train-csv", "fifo", *CSV], 1, "fifo"),
    Case("study-csv-bad", [*REG, "--out", "study", "--train-csv", "nan.csv", *CSV], 1, "nan.csv"),
    Case(
        "reproduce-csv-fifo",
        ["reproduce", "--quick", "--out", "study", "--train-csv", "fifo", *CSV],
        1,
        "fifo",
    ),
    Case(
        "params-fifo",
        [*REG[:1], "best", "--quick", "--out", "study", "--params", "fifo"],
        1,
        "fifo",
    ),
    Case(
        "params-list",
        ["regression", "best", "--out", "study", "--params", "list.json"],
        1,
        "list.json",
    ),
    Case(
        "params-not-json",
        ["regression", "best", "--out", "study", "--params", "notjson.json"],
        1,
        "notjson.json",
    ),
    Case(
        "params-nan",
        ["regression", "best", "--out", "study", "--params", "nan.json"],
        1,
        "nan.json",
    ),
    Case(
        "params-1e300",
        ["regression", "best", "--space", "report", "--out", "study", "--params", "huge.json"],
        2,
        "lr",
    ),
    Case(
        "params-width-1e300",
        ["regression", "best", "--space", "report", "--out", "study", "--params", "wide.json"],
        2,
        "Nh1 = 1e+300: must be an integer in [1, 65536]",
    ),
    Case(
        "params-2mb-value",
        ["regression", "best", "--space", "report", "--out", "study", "--params", "long.json"],
        2,
        "lr",
    ),
    Case(
        "best-before-search",
        ["regression", "best", "--quick", "--out", "unsearched"],
        2,
        "run `nndl regression search` first",
    ),
    Case(
        "classify-best-before-search",
        ["classify", "best", "--quick", "--out", "unsearched_images"],
        2,
        "run `nndl classify search` first",
    ),
    Case(
        "classify-params-list",
        ["classify", "best", "--out", "study", "--params", "list.json"],
        1,
        "list.json",
    ),
    Case("report-fifo", ["report", "results_fifo"], 1, "results.json"),
    Case("report-list", ["report", "results_list"], 1, "results.json"),
    Case("report-shape", ["report", "results_shape"], 1, "regression"),
    Case("report-missing-keys", ["report", "results_keys"], 1, "results.json"),
    Case("report-no-results", ["report", "afolder"], 1, "results.json"),
    Case("idx-gzip-bomb", [*MNIST, "idx_bomb"], 1, "promises"),
    Case("idx-longer-than-header", [*MNIST, "idx_long"], 1, "longer than its header"),
    Case("idx-65-dims", [*MNIST, "idx_dims"], 1, "65 dimensions"),
    Case("idx-overflowing-sizes", [*MNIST, "idx_overflow"], 1, "promises"),
    Case("idx-label-255", [*MNIST, "idx_label_255"], 1, "245 of those classes have no image"),
    Case("idx-no-test-images", [*MNIST, "idx_no_test"], 1, "0 image"),
    Case("idx-fifo", [*MNIST, "idx_fifo"], 1, "not a regular file"),
    Case("idx-dir-missing", [*MNIST, "nowhere"], 1, "nowhere"),
    Case("idx-dir-is-file", [*MNIST, "file.txt"], 1, "file.txt"),
    Case(
        "images-dir-missing",
        ["train", "--task", "images", "--epochs", "1", "--quiet", *OUT, "--data-dir", "nowhere"],
        1,
        "nowhere: no such folder (give IDX files or class folders of images)",
    ),
    Case(
        "classify-idx-bomb",
        ["classify", "search", "--quick", "--out", "study", "--data-dir", "idx_bomb"],
        1,
        "promises",
    ),
    # values typed on the command line
    Case("seed-2**70", [*T, *OUT, "--seed", str(2**70)], 2, "seed"),
    Case("seed-negative", [*T, *OUT, "--seed=-1"], 2, "seed"),
    Case("seed-flag-like", [*T, *OUT, "--seed", "-1"], 2, "seed"),
    Case("split-seed-negative", [*T, *OUT, "--split-seed=-1"], 2, "split"),
    Case("study-seed-negative", [*REG, "--out", "study", "--seed=-1"], 2, "seed"),
    Case(
        "classify-seed-huge",
        ["classify", "search", "--out", "study", "--seed", str(2**40)],
        2,
        "seed",
    ),
    Case(
        "reproduce-seed-negative",
        ["reproduce", "--quick", "--out", "study", "--seed=-1"],
        2,
        "seed",
    ),
    Case("sampler-seed-negative", [*SEARCH, "--sampler-seed=-1"], 2, "sampler_seed"),
    Case("net-too-big-for-memory", [*T, *OUT, "--hidden", "4000000,4000000"], 2, "parameters"),
    Case("hidden-empty-item", [*T, *OUT, "--hidden", "16,,8"], 2, "--hidden"),
    Case(
        "channels-empty-item",
        ["train", "--arch", "cnn", *OUT, "--channels", "8,,16"],
        2,
        "--channels",
    ),
    Case(
        "dropout-negative-as-flag",
        [*T, *OUT, "--arch", "reg-basic", "--dropout", "-0.1,0"],
        2,
        "--dropout=VALUE",
    ),
    Case("dropout-negative", ["train", "--arch", "fcn", *OUT, "--dropout=-0.1,0"], 2, "dropout"),
    Case("lr-arabic-digit", [*T, *OUT, "--lr", "\u0661"], 2, "--lr"),
    Case("epochs-fullwidth", [*T, *OUT, "--epochs", "\uff13"], 2, "--epochs"),
    Case("lr-underscore", [*T, *OUT, "--lr", "1_0"], 2, "--lr"),
    Case("lr-nan", [*T, *OUT, "--lr", "nan"], 2, "--lr"),
    Case("lr-inf", [*T, *OUT, "--lr", "inf"], 2, "--lr"),
    Case("lr-1e300", [*T, *OUT, "--lr", "1e300"], 2, "lr"),
    Case("epochs-float", [*T, *OUT, "--epochs", "1e3"], 2, "--epochs"),
    Case("batch-size-zero", [*T, *OUT, "--batch-size", "0"], 2, "batch_size"),
    Case(
        "batch-size-over-rows",
        [*T, *OUT, "--train-csv", "ok.csv", *CSV, "--batch-size", "500"],
        2,
        "larger than the 27 training rows (--batch-size 27 or less)",
    ),
    Case("val-fraction-1.5", [*T, *OUT, "--val-fraction", "1.5"], 2, "val_fraction"),
    Case("momentum-one", [*T, *OUT, "--optimizer", "sgd", "--momentum", "1"], 2, "momentum"),
    Case("arch-unknown", [*T, *OUT, "--arch", "resnet"], 2, "resnet"),
    Case("arch-wrong-task", [*T, *OUT, "--arch", "dcnn"], 2, "dcnn"),
    Case(
        "arch-flag-of-other-kind",
        ["train", "--arch", "fcn", *OUT, "--channels", "8"],
        2,
        "--channels",
    ),
    Case("device-cuda", [*T, *OUT, "--device", "cuda"], 2, "cuda"),
    Case("device-bogus", [*T, *OUT, "--device", "tpu"], 2, "tpu"),
    Case("trials-zero", [*SEARCH, "--trials", "0"], 2, "--trials"),
    Case("workers-negative", [*SEARCH, "--workers=-2"], 2, "--workers"),
    Case("port-70000", ["dashboard", "study", "--port", "70000"], 2, "70000"),
    Case("port-zero", ["dashboard", "study", "--port", "0"], 2, "port"),
    # storages and the dashboard
    Case("storage-unknown-scheme", [*SEARCH, "--storage", "foo://"], 2, "foo"),
    Case("storage-not-a-url", [*SEARCH, "--storage", "not a url"], 2, "--storage"),
    Case("storage-empty", [*SEARCH, "--storage", ""], 2, "--storage"),
    Case(
        "storage-sqlite-no-folder", [*SEARCH, "--storage", "sqlite:///nowhere/s.db"], 2, "nowhere"
    ),
    Case("storage-sqlite-memory", [*SEARCH, "--storage", "sqlite://"], 2, "in-memory"),
    Case(
        "storage-unknown-driver",
        [*SEARCH, "--storage", "postgresql+nodriver://u@h/d"],
        2,
        "--storage",
    ),
    Case("dashboard-unknown-scheme", ["dashboard", "foo://"], 2, "foo"),
    Case("dashboard-new-sqlite", ["dashboard", "sqlite:///new.db"], 1, "new.db"),
    Case("dashboard-no-study", ["dashboard", "afolder"], 1, "afolder"),
    # a run that fails after training: its loss became infinite (on the raw numbers; scaled,
    # these labels would train)
    Case(
        "diverged-run",
        [*T, *OUT, "--train-csv", "huge_labels.csv", *CSV, "--no-standardize"],
        1,
        "diverged",
    ),
    Case(
        "diverged-study",
        [*REG, "--out", "study", "--train-csv", "huge_labels.csv", *CSV, "--no-standardize"],
        1,
        "diverged",
        started=True,
    ),
]


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _assert_unchanged(world: Path, before: dict[str, dict[str, str]], started: bool) -> None:
    """Every earlier file as it was; a run that started may only append to the study's log."""
    after = {name: _hashes(world / name) for name in before}
    if started:
        log = world / "study" / "nndl.log"
        assert log.read_bytes().startswith(_LOGS[str(log)])
        before["study"].pop("nndl.log"), after["study"].pop("nndl.log")
    assert after == before


_LOGS: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the bad inputs, an earlier train run and an earlier study folder."""
    root = tmp_path_factory.mktemp("reliability")
    make_all(root)
    for argv in ([*TRAIN_FAST, "--out", "prior"], [*REG, "--out", "study"]):
        done = nndl(*argv, cwd=root)
        assert done.returncode == 0, done.stderr
    _LOGS[str(root / "study" / "nndl.log")] = (root / "study" / "nndl.log").read_bytes()
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_loses_nothing(world: Path, case: Case) -> None:
    before = {name: _hashes(world / name) for name in ("prior", "study", "mine")}
    done = nndl(*case.argv, cwd=world, timeout=90)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == case.code, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert case.says in lines[0], lines[0]
    assert len(lines[0]) < 400
    _assert_unchanged(world, before, case.started)
    assert not list(world.glob(".*staging-*")), "a staging folder was left behind"
    if done.stdout.strip():  # whatever nndl prints on stdout is strict JSON
        json.loads(done.stdout, parse_constant=lambda c: pytest.fail(f"{c} in stdout"))


def test_the_suite_covers_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


def test_a_new_sqlite_url_leaves_no_file_behind(world: Path) -> None:
    nndl("dashboard", "sqlite:///fresh.db", cwd=world)
    assert not (world / "fresh.db").exists()


def test_too_many_workers_are_capped_with_a_message(world: Path) -> None:
    """``--workers 1000`` runs as many workers as the machine holds, and says so."""
    out = world / "capped"
    done = nndl(
        "regression",
        "search",
        "--quick",
        "--quiet",
        "--trials",
        "1",
        "--workers",
        "1000",
        "--out",
        str(out),
        cwd=world,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "--workers 1000 capped to" in done.stderr
    assert json.loads(done.stdout)["completed"] >= 1
    shutil.rmtree(out)
