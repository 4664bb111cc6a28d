"""SIGKILL while results are being written: every file is the old or the new complete one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC}
ROWS = list(range(200_000))  # a ~2.6 MB JSON file: its write takes a while

WRITER = """
import itertools, sys
from nndl._io import write_json
for i in itertools.count(int(sys.argv[2])):
    write_json(sys.argv[1], {"i": i, "rows": list(range(200_000))})
"""


def current(target: Path) -> int:
    try:
        return int(json.loads(target.read_text())["i"])
    except FileNotFoundError:
        return -1


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> None:
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_writer_leaves_a_complete_file(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    rng = random.Random(0)
    for k in range(5):
        start = 1000 * k  # each writer process numbers its writes from its own offset
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(start)], env=ENV)
        deadline = time.time() + 60
        while current(target) < start and time.time() < deadline:
            time.sleep(0.01)  # until this process has replaced the file once
        kill_after(proc, rng.uniform(0.05, 0.6))  # somewhere in a later write
        data = json.loads(target.read_text())  # never half a file
        assert data["rows"] == ROWS
        assert data["i"] >= start
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["results.json"]


def check_outputs(out: Path) -> dict[str, object]:
    """Every JSON file parses and every PNG decodes; returns the study's results.json."""
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    for path in out.rglob("*.png"):
        with Image.open(path) as image:
            image.load()
    return dict(json.loads((out / "results.json").read_text()))


def test_killed_study_keeps_complete_results_and_reruns(tmp_path: Path) -> None:
    out = tmp_path / "r"
    cmd = [
        sys.executable,
        "-m",
        "nndl",
        "regression",
        "all",
        "--quick",
        "--out",
        str(out),
        "--quiet",
    ]
    first = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    before = check_outputs(out)
    for seconds in (2.0, 4.0, 6.0):  # in training, in the search, while writing figures
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kill_after(proc, seconds)
        assert set(check_outputs(out)) == set(before)
    again = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert check_outputs(out)["search"]["completed"] == 3  # type: ignore[index]


def test_results_get_the_mode_a_plain_open_would_give(tmp_path: Path) -> None:
    """Atomic writes go through mkstemp (0600); the renamed file follows the umask instead."""
    from nndl._io import write_json

    umask = os.umask(0o022)
    os.umask(umask)
    write_json(tmp_path / "r.json", {"a": 1})
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(tmp_path.glob(".r.json.*"))  # no temporary file left behind
