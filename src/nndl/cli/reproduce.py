"""``nndl reproduce`` and ``nndl report``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "reproduce", help="run the whole study (regression + MNIST) and write report.md / report.html",
        description="Run the regression and MNIST studies end to end; write results.json, report.md, "
        "report.html and nndl.log into --out.",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="small budgets that still run every stage"
    )
    parser.add_argument("--out", type=Path, help="output folder (default: runs/DATE-TIME)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data-dir", help="a folder with the MNIST IDX files (default: cache/wheel)"
    )
    parser.add_argument("--train-csv", help="regression training points (default: built-in data)")
    parser.add_argument("--test-csv", help="regression test points")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(run=run)
    report = commands.add_parser(
        "report", help="rebuild report.md / report.html from a reproduce folder"
    )
    report.add_argument("dir", type=Path, help="a folder written by `nndl reproduce`")
    report.set_defaults(run=run_report)


def run(args: argparse.Namespace) -> int:
    from nndl._timing import log_to_file
    from nndl.data.regression import check_csv_pair
    from nndl.experiments.reproduce import ReproduceJob, reproduce
    from nndl.training.device import resolve_device

    check_csv_pair(args.train_csv, args.test_csv)
    resolve_device(args.device)
    out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    job = ReproduceJob(out, args.quick, args.device, args.seed, args.quiet, args.data_dir,
                       args.train_csv, args.test_csv)  # fmt: skip
    with log_to_file(out / "nndl.log"):
        results = reproduce(job)
    print(
        json.dumps(
            {"out": str(out), "report": str(out / "report.html"), "timings": results["timings"]}
        )
    )
    return 0


def run_report(args: argparse.Namespace) -> int:
    from nndl.report.build import write_report

    md, html = write_report(args.dir)
    print(json.dumps({"report_md": str(md), "report_html": str(html)}))
    return 0
