"""Faults while a run writes: each write step failing in turn, a full disk, signals in a search,
and a checkpoint that asks for a huge net. The earlier results survive every one."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
import torch

import nndl._io
from nndl.cli.main import main
from nndl.errors import DataError
from nndl.models.registry import create_model
from nndl.training.checkpoint import load_checkpoint, save_checkpoint
from reliability_inputs import nndl as run_cli
from stored_study import stored_study

TRAIN = ["train", "--task", "regression", "--epochs", "2", "--quiet"]
BASIC = ["regression", "basic", "--quick", "--quiet"]
REAL_SETTLE = nndl._io._settle


def hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "nndl.log"  # the log only grows: every run appends to it
    }


def failing_at(step: int, counter: list[int]) -> Callable[[str], None]:
    """A stand-in for the flush of each atomic write that fails with ENOSPC at write ``step``."""

    def settle(tmp: str) -> None:
        counter[0] += 1
        if counter[0] == step:
            raise OSError(errno.ENOSPC, "No space left on device", tmp)
        REAL_SETTLE(tmp)

    return settle


@pytest.mark.parametrize("argv", [TRAIN, BASIC], ids=["train", "regression-basic"])
def test_a_failure_at_each_write_step_leaves_the_earlier_folder_intact(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    out = tmp_path / "run"
    assert main([*argv, "--out", str(out), "--seed", "1"]) == 0
    counter = [0]
    monkeypatch.setattr(nndl._io, "_settle", failing_at(0, counter))
    assert main([*argv, "--out", str(out)]) == 0  # count the writes of one run
    writes, before = counter[0], hashes(out)
    assert writes >= 3
    capsys.readouterr()
    for step in range(1, writes + 1):
        counter[0] = 0
        monkeypatch.setattr(nndl._io, "_settle", failing_at(step, counter))
        assert main([*argv, "--out", str(out)]) == 1, f"write {step} of {writes}"
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "No space left on device" in err[0]
        assert hashes(out) == before, f"write {step} of {writes} changed the earlier run"
        assert not list(tmp_path.glob(".*staging-*"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    """A 3 MB tmpfs (root only, as in CI): a full disk for real."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_leaves_the_earlier_run_intact(small_disk: Path) -> None:
    run = small_disk / "run"
    assert run_cli(*TRAIN, "--out", str(run), cwd=small_disk).returncode == 0
    before = hashes(run)
    stat = os.statvfs(small_disk)
    free = stat.f_bavail * stat.f_frsize
    (small_disk / "filler").write_bytes(bytes(max(0, free - 40_000)))  # room for less than a run
    done = run_cli(*TRAIN, "--out", str(run), "--seed", "3", cwd=small_disk)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "No space left on device" in lines[0] and "Traceback" not in done.stderr
    assert hashes(run) == before
    assert not list(small_disk.glob(".*staging-*"))


def test_a_study_part_on_a_full_disk_says_one_line_naming_its_folder(small_disk: Path) -> None:
    stat = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(bytes(stat.f_bavail * stat.f_frsize - 40_000))
    out = small_disk / "study"
    done = run_cli("regression", "basic", "--quick", "--quiet", "--out", str(out), cwd=small_disk)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith(f"nndl: error: {out}/basic/") and "No space left" in lines[0]
    assert not list(small_disk.glob(".*staging-*"))


def _wait_for(path: Path, text: str, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} never appeared in {path}")


SIGNALS = [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGTERM, 2)]


@pytest.mark.parametrize(
    ("signum", "workers"), SIGNALS, ids=["SIGINT", "SIGTERM", "SIGTERM-2-workers"]
)
def test_a_signal_ends_a_search_in_one_line_and_it_resumes(
    tmp_path: Path, signum: int, workers: int
) -> None:
    out = tmp_path / "search"
    search = ["regression", "search", "--quick", "--quiet", "--workers", str(workers)]
    argv = [sys.executable, "-m", "nndl", *search, "--trials", "200", "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    _wait_for(out / "nndl.log", "trial 1 ")
    time.sleep(0.5)  # into a later trial
    proc.send_signal(signum)  # to the command only: its workers are told by it
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # where it hangs: faulthandler prints every thread's stack
        proc.send_signal(signal.SIGABRT)
        pytest.fail(f"still running 120 s after the signal:\n{proc.communicate()[1][-8000:]}")
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and "interrupted" in lines[0], err
    states = [t.state for t in stored_study(out).trials]
    # the trials in flight are recorded as failed (none is when the signal lands between two
    # trials, which a quick budget's short trials make likely: seen once in a suite run)
    assert optuna.trial.TrialState.RUNNING not in states
    again = run_cli(*search, "--trials", "2", "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["trials_before"] == len(states)


class _SearchX:
    """A search job of one float: trials that take no time."""

    def make_objective(self) -> Callable[[optuna.Trial], float]:
        return lambda trial: trial.suggest_float("x", 0.0, 1.0)


@pytest.mark.parametrize("where", ["as Optuna records a trial", "as Optuna creates a trial"])
def test_a_signal_outside_a_trial_leaves_no_trial_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A Ctrl-C that lands outside the objective waits until Optuna is done with the trial."""
    import optuna.study._optimize as optimize

    from nndl.search.study import StudySpec
    from nndl.search.workers import run_study

    if where == "as Optuna records a trial":
        owner, name = optimize, "_tell_with_warning"  # before it writes the trial's state
    else:
        owner, name = optuna.Study, "ask"  # after it wrote the new trial as RUNNING
    real = getattr(owner, name)

    def signal_before(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)  # Python runs the handler before the next line
        return real(*args, **kwargs)

    def signal_after(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(owner, name, signal_before if owner is optimize else signal_after)
    spec = StudySpec("x", tmp_path, trials=5, settings={})
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, _SearchX())
    states = [t.state for t in stored_study(tmp_path, "x").trials]
    assert states and optuna.trial.TrialState.RUNNING not in states, states


class _SignalInAFinalizer:
    """Sends SIGINT to its own process as it is collected: the handler runs inside __del__,
    where Python drops the KeyboardInterrupt it raises (as in SQLAlchemy's finalizers)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)


class _SearchWithALostInterrupt:
    def make_objective(self) -> Callable[[optuna.Trial], float]:
        def objective(trial: optuna.Trial) -> float:
            if trial.number == 1:
                _SignalInAFinalizer()  # collected at once
            return trial.suggest_float("x", 0.0, 1.0)

        return objective


def test_a_signal_after_the_last_trial_is_handled_as_the_search_ends() -> None:
    from nndl.search.interrupts import InterruptsInsideTrials

    with pytest.raises(KeyboardInterrupt), InterruptsInsideTrials():
        os.kill(os.getpid(), signal.SIGINT)  # held: no trial is running
        time.sleep(0.01)


def test_a_handler_that_returns_is_called_once_per_signal() -> None:
    from nndl.search.interrupts import InterruptsInsideTrials

    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        interrupts = InterruptsInsideTrials()
        with interrupts:
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == []  # held outside a trial
            objective = interrupts.wrap(lambda trial: 1.0)
            assert objective(None) == 1.0  # type: ignore[arg-type]
            assert seen == [signal.SIGTERM]  # handled as the trial started
        assert seen == [signal.SIGTERM]  # and not again as the search ended
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the lost raise
def test_an_interrupt_lost_in_a_finalizer_still_ends_the_search(tmp_path: Path) -> None:
    from nndl.search.study import StudySpec
    from nndl.search.workers import run_study

    spec = StudySpec("x", tmp_path, trials=20, settings={})
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, _SearchWithALostInterrupt())
    states = [t.state for t in stored_study(tmp_path, "x").trials]
    assert len(states) == 2 and optuna.trial.TrialState.RUNNING not in states, states


def test_an_interrupt_that_loses_a_librarys_thread_still_exits() -> None:
    """A non-daemon thread that never ends (Optuna's heartbeat, lost to a Ctrl-C as a trial
    starts) must not keep an interrupted command alive."""
    code = (
        "import threading, time; from nndl.cli import main as m;"
        "threading.Thread(target=time.sleep, args=(1e6,)).start();"
        "m._exit_past_lost_threads(130)"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=60, capture_output=True)
    assert done.returncode == 130 and time.monotonic() - start < 30


def test_a_checkpoint_that_asks_for_a_huge_net_is_refused_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(path, create_model("reg-basic"))
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["hidden_sizes"] = [16384, 16384]  # 268M weights, the file has 17k
    torch.save(payload, path)
    with pytest.raises(DataError, match="do not fit"):
        load_checkpoint(path)
    assert os.path.getsize(path) < 100_000


def test_a_fifo_checkpoint_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "model.pt")
    with pytest.raises(DataError, match="not a regular file"):
        load_checkpoint(tmp_path / "model.pt")


def test_a_ctrl_c_while_nndl_exits_prints_no_traceback(tmp_path: Path) -> None:
    # a Ctrl-C that lands after the command's work, while Python shuts down (atexit handlers:
    # Optuna's storage, tqdm's monitor); the command's own exit status stands
    script = (
        "import atexit, os, signal, sys\n"
        "sys.argv = ['nndl', 'train', '--task', 'regression', '--epochs', '1', '--quiet',"
        f" '--out', {str(tmp_path / 'run')!r}]\n"
        "atexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n"
        "from nndl.cli.main import entry\n"
        "entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    assert (tmp_path / "run" / "model.pt").exists()
