"""`nndl reproduce --quick` end to end in a subprocess, and `nndl report` rebuilding its report."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")


def nndl(*args: str) -> subprocess.CompletedProcess[str]:
    # one thread: float sums, and so the golden numbers, depend on the thread count
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "nndl", *args], capture_output=True, text=True, env=env, timeout=900
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reproduce") / "run"
    result = nndl("reproduce", "--quick", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_results_hold_both_tables_timings_and_machine(quick_run: Path) -> None:
    results = json.loads((quick_run / "results.json").read_text())
    assert set(results["regression"]["basic"]) == {"train_loss", "val_loss", "test_loss"}
    assert set(results["classify"]["nets"]) == {"fcn", "cnn", "dcnn", "pdcnn", "best"}
    assert {"regression search", "classify search", "total"} <= set(results["timings"])
    assert {"cpu", "cores", "torch_threads", "device", "torch"} <= set(results["machine"])
    # the budget by name and what it trains, in results.json and in the report
    settings = results["budget_settings"]
    assert results["budget"] == "quick" and settings["classify"]["space"] == "report"
    assert settings["regression"]["trials"] == 3 and settings["classify"]["trials"] == 3
    assert "| classify | max_epochs 3, trials 3," in (quick_run / "report.md").read_text()
    log = (quick_run / "nndl.log").read_text()
    assert "stage classify search: done" in log
    # each trial's log line carries both stops: completed of --trials, all of --max-trials
    classify_search = log.split("stage classify search:")[1]
    last = re.findall(
        r"search: trial \d+ \w+ in [\d.]+ s, completed (\d+)/(\d+), trials (\d+)/(\d+)",
        classify_search,
    )[-1]
    search = results["classify"]["search"]
    states = ("completed", "pruned_invalid", "pruned_learning_curve", "pruned", "failed")
    assert [int(n) for n in last] == [search["completed"], 3, sum(search[s] for s in states), 50]


@pytest.mark.slow
def test_html_report_embeds_every_figure_and_the_reports_numbers(quick_run: Path) -> None:
    html = (quick_run / "report.html").read_text()
    sources = re.findall(r"<img[^>]* src='([^']*)'", html)
    assert len(sources) == 13 and all(s.startswith("data:image/png;base64,") for s in sources)
    for reference in ("0.3417", "0.1216", "0.9735", "0.9819", "0.9887", "0.9898"):
        assert reference in html
    # the quick search (one epoch per fold) is a smoke run: its best net is not a result
    assert "| BEST |" not in (quick_run / "report.md").read_text() and "0.9873" not in html
    assert "The quick budget is a smoke run" in html
    md = (quick_run / "report.md").read_text()
    linked = re.findall(r"!\[[^]]*\]\(([^)]+)\)", md)
    assert len(linked) == 13 and all((quick_run / p).is_file() for p in linked)
    results = json.loads((quick_run / "results.json").read_text())
    measured = [
        results["regression"]["basic"]["test_loss"],
        results["regression"]["best"]["test_loss"],
        results["regression"]["refit"]["test_loss"],
        results["regression"]["gp"]["test_loss"],
        *(results["classify"]["nets"][n]["test_accuracy"] for n in ("fcn", "dcnn", "pdcnn")),
    ]
    for value in measured:  # our numbers, not only the report's, reach both tables
        assert f"{value:.4f}" in html and f"{value:.4f}" in md
    assert "| Gaussian process (reference) |" in md and "the report's protocol" in md


@pytest.mark.slow
def test_report_command_rebuilds_without_training(quick_run: Path) -> None:
    before = {
        name: (quick_run / name).read_text()
        for name in ("report.html", "report.md", "results.json")
    }
    checkpoints = {p: p.stat().st_mtime_ns for p in quick_run.rglob("model.pt")}
    (quick_run / "report.html").unlink()
    (quick_run / "report.md").unlink()
    result = nndl("report", str(quick_run))
    assert result.returncode == 0, result.stderr
    assert {name: (quick_run / name).read_text() for name in before} == before
    assert (
        checkpoints and {p: p.stat().st_mtime_ns for p in checkpoints} == checkpoints
    )  # nothing retrained


@pytest.mark.slow
def test_report_says_when_a_search_resumed_a_study(quick_run: Path, tmp_path: Path) -> None:
    results = json.loads((quick_run / "results.json").read_text())
    assert results["classify"]["search"]["trials_before"] == 0  # a fresh study
    copy = tmp_path / "resumed"
    shutil.copytree(quick_run, copy)
    results["classify"]["search"]["trials_before"] = 47
    (copy / "results.json").write_text(json.dumps(results))
    assert nndl("report", str(copy)).returncode == 0
    md = (copy / "report.md").read_text()
    assert md.count("resumed the study after its first 47 trials") == 1
    assert "resumed" not in (quick_run / "report.md").read_text()


@pytest.mark.slow
def test_report_names_the_nets_of_the_regression_answer(quick_run: Path, tmp_path: Path) -> None:
    md = (quick_run / "report.md").read_text()
    assert "| nndl's answer: 5 seeds refit on all points |" in md  # the quick budget's
    results = json.loads((quick_run / "results.json").read_text())
    results["regression"]["refit"].update(configs=3, fold_nets=5)
    copy = tmp_path / "answer"
    shutil.copytree(quick_run, copy)
    (copy / "results.json").write_text(json.dumps(results))
    assert nndl("report", str(copy)).returncode == 0
    label = "nndl's answer: 3 configurations x 5 seeds refit on all points + 5 fold nets"
    assert f"| {label} |" in (copy / "report.md").read_text()


def test_report_of_a_folder_without_results_is_a_clear_error(tmp_path: Path) -> None:
    result = nndl("report", str(tmp_path))
    assert (
        result.returncode == 1
        and "results.json" in result.stderr
        and "Traceback" not in result.stderr
    )


def _numbers(results: dict[str, object]) -> object:
    """``results`` without what depends on the machine or the clock (times, machine)."""

    def keep(value: object) -> object:
        if isinstance(value, dict):
            return {
                k: keep(v)
                for k, v in value.items()
                if "second" not in k and k not in ("timings", "machine")
            }
        return [keep(v) for v in value] if isinstance(value, list) else value

    return keep(results)


def _close(ours: object, golden: object, where: str = "results") -> list[str]:
    """Where ``ours`` differs from ``golden``: keys, integers, strings and states exactly;
    floats within 2% or 0.005 (they move between CPUs of the same kind, below)."""
    if isinstance(golden, dict) and isinstance(ours, dict):
        if set(ours) != set(golden):
            return [f"{where}: keys {sorted(set(ours) ^ set(golden))}"]
        return [d for k in golden for d in _close(ours[k], golden[k], f"{where}.{k}")]
    if isinstance(golden, list) and isinstance(ours, list) and len(ours) == len(golden):
        pairs = enumerate(zip(ours, golden, strict=True))
        return [d for i, (a, b) in pairs for d in _close(a, b, f"{where}[{i}]")]
    if isinstance(golden, float) and isinstance(ours, float):
        return [] if math.isclose(ours, golden, rel_tol=0.02, abs_tol=0.005) else [where]
    return [] if ours == golden else [f"{where}: {ours!r} != {golden!r}"]


@pytest.mark.slow
def test_quick_study_gives_the_golden_numbers(quick_run: Path) -> None:
    """Tables 1 and 2, search trials and measures (tests/golden/quick_results.json, `nndl
    reproduce --quick` on a CPU with one thread): every key, count, epoch, state and reason
    exactly, every float within 2% or 0.005. Exact digits are not a property of the code alone:
    the same commit on two 2-core machines of the CI kind (2026-12-02) gave a quick DCNN of
    0.8387 and 0.8394 and a search objective of 2.0435 and 2.0689 (float kernels of another
    CPU, sums in another order; every number also moves with the thread count). A refactor is
    checked on one machine, before and after, to the last digit. Renewed on purpose when the
    regression study began standardizing and refitting (issue 14); the budget's settings and
    two prune counts were added with the budget names (issue 15), its numbers kept; renewed
    when the MNIST search's folds became stratified (issue 21: its best objective moved); the
    regression budget's `space` and `refit_configs` and the refit's `configs` and `runner_ups`
    (issue 22: the quick budget refits its best configuration alone, as before) and the image
    budget's `search_rows` and `dataset` (the budget for image data other than MNIST, issue
    24) added, and the noise class's measures renamed from 'not a digit' words and Figure 6's
    contour pairs added (issue 23), its numbers kept; the refit's `params` and `finalists`
    and the budgets' `finalists` and `refit` added (issue 22, issue 24), its numbers kept; the
    regression budget's `sampler` added (issue 22), its numbers kept; the regression study's
    `space` added, its numbers kept; the regression budget's `fold_nets` and the refit's
    `fold_nets` and `refits_test_loss` added (issue 22: the quick budget's answer is its refit
    nets alone, as before), its numbers kept."""
    golden = json.loads((Path(__file__).parent / "golden" / "quick_results.json").read_text())
    results = json.loads((quick_run / "results.json").read_text())
    assert _close(_numbers(results), _numbers(golden)) == []
