"""``nndl reproduce`` and ``nndl report``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from nndl.cli._args import add_budget_flags, integer, out_dir
from nndl.cli._study import check_data, checked_search_flags, run_staged


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "reproduce",
        help="run the whole study (regression + MNIST) and write report.md / report.html",
        description="Run the regression and MNIST studies end to end; write results.json, report.md, "
        "report.html and nndl.log into --out.",
    )
    add_budget_flags(parser)
    parser.add_argument("--out", type=out_dir, help="output folder (default: runs/DATE-TIME)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--seed", type=integer, default=0)
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
    from nndl._inputs import check_output_dir
    from nndl._io import dumps_json

    check_data(args)
    if args.out is None:
        args.out = check_output_dir(Path("runs") / time.strftime("%Y%m%d-%H%M%S"), named=False)
    checked_search_flags(args)
    from nndl.cli.study import job_from_study
    from nndl.experiments.reproduce import reproduce
    from nndl.experiments.study_file import load_study_file, resolved_toml, shipped_study

    data = {"train_csv": args.train_csv, "test_csv": args.test_csv, "data_dir": args.data_dir}
    changes = {
        "study": {"budget": args.budget, "seed": args.seed},
        "regression": {k: v for k, v in data.items() if v is not None and k != "data_dir"},
        "classify": {"data_dir": args.data_dir} if args.data_dir else {},
    }
    changes["study"]["device"] = args.device
    study = load_study_file(shipped_study("report"), changes)  # the shipped study file
    job = job_from_study(study, args.out, args.quiet, toml=resolved_toml(study))
    results = run_staged(args.out, job, reproduce)
    report = {"out": str(args.out), "report": str(args.out / "report.html")}
    print(dumps_json({**report, "timings": results["timings"]}))
    return 0


def run_report(args: argparse.Namespace) -> int:
    from nndl._inputs import check_output_dir
    from nndl._io import staged_folder
    from nndl.experiments.study import report_sections
    from nndl.report.build import write_report

    check_output_dir(args.dir, "report folder")
    with staged_folder(args.dir) as staging:  # both files new, or both as they were
        write_report(args.dir, staging, sections=report_sections())
    md, html = args.dir / "report.md", args.dir / "report.html"
    print(json.dumps({"report_md": str(md), "report_html": str(html)}))
    return 0
