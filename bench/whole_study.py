"""Benchmark 8: the whole study, `nndl reproduce --budget B`, from start to end in one process.

Runs the command in a subprocess and reads its ``results.json`` and MNIST search storage:
wall seconds per stage, each search's trials per minute, Table 2 against the report, and when
the MNIST search first reached the report's best objective (0.0467). Budgets (docs/studies.md: Budgets):
``quick`` (target: under 10 minutes), ``default`` (target: at most 45 minutes on 2 cores, every
Table 2 net within 0.3 points of the report's accuracy, the search's best retrained to at least
0.990) and ``report`` (the report's protocol: hours on 2 cores).

    python bench/whole_study.py                      # the default budget (25 min here, 2026-12-02)
    python bench/whole_study.py --budget report      # hours
    python bench/whole_study.py --keep runs/whole    # keep the run folder
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import machine, record

TARGET_S = {"quick": 600.0, "default": 2700.0}
REPORT_ACCURACY = {"fcn": 0.9735, "cnn": 0.9819, "dcnn": 0.9887, "pdcnn": 0.9898}
REPORT_BEST_OBJECTIVE = 0.0467
BEST_TARGET = 0.990
STATES = ("completed", "pruned", "pruned_invalid", "pruned_learning_curve", "failed")
STATES += ("pruned_too_slow", "pruned_first_fold")


def trials_per_minute(search: dict[str, Any]) -> dict[str, float]:
    """Trials of any state and completed trials per minute of the search's wall time."""
    minutes = search["seconds"] / 60
    trials = sum(search.get(state) or 0 for state in STATES)
    return {
        "trials": trials,
        "per_minute": trials / minutes,
        "completed_per_minute": search["completed"] / minutes,
    }


def search_trials(storage: str) -> list[Any]:
    """The trials of the one study in an Optuna storage."""
    import optuna

    (summary,) = optuna.get_all_study_summaries(storage)
    return optuna.load_study(study_name=summary.study_name, storage=storage).trials


def first_reach(storage: str, target: float = REPORT_BEST_OBJECTIVE) -> dict[str, Any]:
    """Seconds from the search's first trial start to the end of the first completed trial
    whose objective is at most ``target`` (None if none did), read from an Optuna storage."""
    from optuna.trial import TrialState

    trials = search_trials(storage)
    start = min(t.datetime_start for t in trials if t.datetime_start is not None)
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    hits = sorted((t for t in done if t.value <= target), key=lambda t: t.datetime_complete)
    if not hits:
        return {"target": target, "seconds": None, "trial": None, "trials": len(trials)}
    hit = hits[0]
    seconds = (hit.datetime_complete - start).total_seconds()
    return {"target": target, "seconds": seconds, "trial": hit.number, "value": hit.value}


def table2(results: dict[str, Any]) -> dict[str, Any]:
    """Table 2's test accuracies, each net's difference to the report's, and the targets."""
    nets = results["classify"]["nets"]
    accuracy = {name: row["test_accuracy"] for name, row in nets.items()}
    behind = {n: REPORT_ACCURACY[n] - accuracy[n] for n in REPORT_ACCURACY if n in accuracy}
    return {
        "test_accuracy": accuracy,
        "points_behind_report": {n: round(100 * d, 2) for n, d in behind.items()},
        "within_0.3_points": all(round(100 * d, 6) <= 0.3 for d in behind.values()),
        "best_at_least_0.990": accuracy.get("best", 0.0) >= BEST_TARGET,
    }


def run(budget: str, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "nndl", "reproduce", "--out", str(out), "--quiet"]
    start = time.perf_counter()
    subprocess.run([*cmd, "--budget", budget], check=True, capture_output=True)
    wall = time.perf_counter() - start
    results = json.loads((out / "results.json").read_text())
    searches = {
        key: trials_per_minute(results[key]["search"]) for key in ("regression", "classify")
    }
    entry: dict[str, Any] = {"budget": budget, "wall_seconds": wall, "stages": results["timings"]}
    entry.update(searches=searches, table1=results["regression"].get("refit"))
    if budget != "quick":
        entry["table2"] = table2(results)
        entry["search_first_reach"] = first_reach(f"sqlite:///{out}/classify/study.db")
    if budget in TARGET_S:
        entry.update(target=f"<= {TARGET_S[budget]:.0f} s", met=wall <= TARGET_S[budget])
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", choices=("default", "report", "quick"), default="default")
    parser.add_argument("--keep", type=Path, help="write the run here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        entry = run(args.budget, args.keep or Path(tmp) / "run")
    record(f"whole_study_{args.budget}", entry)
    print(f"machine: {machine()}")
    print(f"`nndl reproduce --budget {args.budget}`: {entry['wall_seconds']:.1f} s wall")
    print("| stage | seconds |\n|---|---|")
    for stage, seconds in entry["stages"].items():
        print(f"| {stage} | {seconds:.1f} |")
    print(json.dumps({k: v for k, v in entry.items() if k != "stages"}, indent=2))


if __name__ == "__main__":
    main()
