"""``nndl regression {basic,search,best,all}``: the report's regression study."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nndl.cli._args import add_params_flag, add_search_flags, add_study_flags


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "regression", help="the regression study: basic net, random search, best net"
    )
    parts = parser.add_subparsers(dest="part", metavar="PART", required=True)
    helps = {
        "basic": "the basic net (2x128 Sigmoid, 2000 epochs): Table 1 row, Figure 1",
        "search": "random search with 5 folds and pruning (resumable Optuna study): random_search.csv",
        "best": "5 folds with the best parameters: Table 1 row, Figures 2 and 3",
        "all": "basic, search and best in sequence: results.json and figures/",
    }
    for name, text in helps.items():
        sub = parts.add_parser(name, help=text, description=text)
        add_study_flags(sub, "runs/regression")
        sub.add_argument(
            "--train-csv", help="training points, header input,label (default: built-in data)"
        )
        sub.add_argument("--test-csv", help="test points, header input,label")
        sub.add_argument("--no-batch-folds", dest="batch_folds", action="store_false",
                         help="train the 5 folds one after the other instead of as one batched ensemble")  # fmt: skip
        if name in ("search", "all"):
            add_search_flags(sub, report_trials=65)
        if name in ("best", "all"):
            add_params_flag(sub)
        sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nndl._timing import log_to_file
    from nndl.data.regression import check_csv_pair
    from nndl.experiments import regression as reg

    check_csv_pair(args.train_csv, args.test_csv)
    study = reg.RegressionStudy(
        out=args.out, train_csv=args.train_csv, test_csv=args.test_csv, device=args.device,
        budget=reg.QUICK if args.quick else reg.FULL, seed=args.seed,
        workers=getattr(args, "workers", 1), sampler_seed=getattr(args, "sampler_seed", None), storage=args.storage, trials=getattr(args, "trials", None), max_trials=getattr(args, "max_trials", None),
        batch_folds=args.batch_folds, quiet=args.quiet,
    )  # fmt: skip
    _check_device(args.device)
    parts = {"basic": lambda: reg.run_basic(study), "search": lambda: reg.run_search(study),
             "best": lambda: reg.run_best(study, reg.best_params(study, args.params)),
             "all": lambda: reg.run_all(study, args.params)}  # fmt: skip
    with log_to_file(args.out / "nndl.log"):
        result: dict[str, Any] = parts[args.part]()
    print(json.dumps({"out": str(args.out), **result}, default=str))
    return 0


def _check_device(device: str) -> None:
    from nndl.training.device import resolve_device

    resolve_device(device)
