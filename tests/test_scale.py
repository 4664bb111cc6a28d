"""Searches across processes and machines: local workers, PostgreSQL, and a real kill + resume."""

from __future__ import annotations

import csv
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nndl.search.study import GRACE_SECONDS

SRC = str(Path(__file__).resolve().parents[1] / "src")
STUDY = "nndl-regression-random-search"


def nndl_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "nndl", *args]


ENV = {**os.environ, "PYTHONPATH": SRC}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(nndl_cmd(*args), capture_output=True, text=True, env=ENV, timeout=900)


def check_study(study: optuna.Study, out: Path, completed: int) -> None:
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == completed
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    with (out / "random_search.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(study.trials)


def test_local_workers_share_one_study(tmp_path: Path) -> None:
    out = tmp_path / "w"
    args = (
        "regression",
        "search",
        "--quick",
        "--trials",
        "6",
        "--workers",
        "4",
        "--out",
        str(out),
        "--quiet",
    )
    result = run(*args)
    assert result.returncode == 0, result.stderr
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(out / "study.journal")))
    study = optuna.load_study(study_name=STUDY, storage=storage)
    check_study(study, out, 6)
    # every trial is logged by the worker process that ran it, and several workers ran trials
    logged = re.findall(r"worker (\d): trial (\d+) ", (out / "nndl.log").read_text())
    assert sorted(int(n) for _, n in logged) == sorted(t.number for t in study.trials)
    assert len({w for w, _ in logged}) >= 2


def test_sigkill_then_rerun_resumes_and_loses_at_most_the_trial_in_flight(tmp_path: Path) -> None:
    out = tmp_path / "k"
    args = ("regression", "search", "--quick", "--trials", "6", "--out", str(out), "--quiet")
    proc = subprocess.Popen(
        nndl_cmd(*args), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"sqlite:///{out}/study.db"
    done_before: set[int] = set()
    deadline = time.time() + 300
    while time.time() < deadline and len(done_before) < 2:
        time.sleep(0.5)
        if (out / "study.db").exists():
            try:
                trials = optuna.load_study(study_name=STUDY, storage=url).trials
            except Exception:  # the study is being created
                continue
            done_before = {t.number for t in trials if t.state == TrialState.COMPLETE}
    assert proc.poll() is None  # killed mid-search, not after it ended
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(done_before) >= 2
    time.sleep(
        GRACE_SECONDS + 1
    )  # past the heartbeat grace period: the killed trial is seen as dead
    result = run(*args)
    assert result.returncode == 0, result.stderr
    study = optuna.load_study(study_name=STUDY, storage=url)
    check_study(study, out, 6)
    after = {t.number: t.state for t in study.trials}
    assert all(after[n] == TrialState.COMPLETE for n in done_before)  # nothing complete was lost
    assert TrialState.RUNNING not in after.values()  # the killed trial was failed ...
    failed = [
        t.number
        for t in study.trials
        if t.state == TrialState.FAIL and "fail_reason" not in t.user_attrs
    ]
    retried = {t.system_attrs.get("failed_trial") for t in study.trials}
    assert len(failed) <= 1 and set(failed) <= retried  # ... and retried: only it was lost


def _initdb() -> str | None:
    found = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None
    )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on loopback (`.ci/run` installs the server when missing)."""
    initdb = _initdb()
    if os.environ.get("NNDL_REQUIRE_POSTGRES") == "1":  # set by .ci/run once the server is there
        assert initdb is not None, "NNDL_REQUIRE_POSTGRES=1 but no initdb was found"
        import psycopg2  # noqa: F401  (the dev extra installs it)
    pytest.importorskip("psycopg2")
    if initdb is None:
        pytest.skip("PostgreSQL server not installed (.ci/run installs Debian's postgresql)")
    bindir = Path(initdb).resolve().parent
    root = Path(
        tempfile.mkdtemp(prefix="nndl-pg-")
    )  # not under pytest's 0700 folder: postgres must reach it
    data, port = root / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        root.chmod(0o755)
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "nndl", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "nndl",
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE nndl",
        ],
        check=True,
        capture_output=True,
    )
    yield f"postgresql+psycopg2://nndl@127.0.0.1:{port}/nndl"
    subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
        capture_output=True,
    )


def test_two_workers_on_postgresql_reach_exactly_the_cap(postgres_url: str, tmp_path: Path) -> None:
    """Two processes, as on two machines, join one study through PostgreSQL."""
    outs = [tmp_path / "a", tmp_path / "b"]
    procs = [
        subprocess.Popen(
            nndl_cmd(
                "regression",
                "search",
                "--quick",
                "--trials",
                "5",
                "--storage",
                postgres_url,
                "--out",
                str(o),
                "--quiet",
                "--sampler-seed",
                str(i),
            ),
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, o in enumerate(outs)
    ]
    for p in procs:
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, err
    study = optuna.load_study(study_name=STUDY, storage=postgres_url)
    check_study(study, outs[0], 5)
    check_study(study, outs[1], 5)


def test_dashboard_serves_the_study_list_on_loopback(tmp_path: Path) -> None:
    pytest.importorskip("optuna_dashboard")
    import json
    import urllib.request

    out = tmp_path / "d"
    assert (
        run(
            "regression", "search", "--quick", "--trials", "1", "--out", str(out), "--quiet"
        ).returncode
        == 0
    )
    port = _free_port()
    proc = subprocess.Popen(
        nndl_cmd("dashboard", str(out), "--port", str(port)),
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = None
        for _ in range(100):
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/studies", timeout=2
                ) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                continue
        assert body is not None, "dashboard did not answer"
        assert [s["study_name"] for s in body["study_summaries"]] == [STUDY]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_dashboard_of_a_folder_without_a_study_is_a_clear_error(tmp_path: Path) -> None:
    result = run("dashboard", str(tmp_path))
    assert (
        result.returncode == 1
        and "no study.db" in result.stderr
        and "Traceback" not in result.stderr
    )
