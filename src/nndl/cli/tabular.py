"""``nndl tabular search``: search a classifier for a CSV table (numeric columns, a label)."""

from __future__ import annotations

import argparse
from typing import Any

from nndl.cli._args import add_table_flags, integer, out_dir, positive_int


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("tabular", help="tabular classification: search a classifier")
    parts = parser.add_subparsers(dest="part", metavar="PART", required=True)
    text = (
        "search a classifier for a CSV table with stratified folds and pruning (lr, weight "
        "decay, hidden layers, batch size, learning-rate schedule); refit the best on every "
        "training row, score it on the test file: search.csv, best_params.json, metrics.json, "
        "model.pt, confusion_matrix.png, loss_curves.png"
    )
    sub = parts.add_parser("search", help=text, description=text)
    add_table_flags(sub, standardize=False)
    sub.add_argument("--trials", type=positive_int, default=20, help="trials (default 20)")
    sub.add_argument("--folds", type=positive_int, default=5, help="stratified folds (default 5)")
    sub.add_argument("--epochs", type=positive_int, default=100, help="maximum epochs per fit")
    sub.add_argument("--seed", type=integer, default=0, help="seeds the sampler and the nets")
    sub.add_argument("--storage", help="an Optuna storage URL to keep and resume the study")
    sub.add_argument("--out", type=out_dir, default="runs/tabular", help="the search folder")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nndl._io import dumps_json
    from nndl.errors import UsageError
    from nndl.experiments.tabular import search_table
    from nndl.search.study import quiet_optuna
    from nndl.tasks.tabular import TabularTask
    from nndl.training.config import check_seeds

    quiet_optuna()
    if args.folds < 2:
        raise UsageError(f"--folds {args.folds}: needs at least 2")
    check_seeds("--seed", seed=args.seed)
    task = TabularTask(
        train_csv=args.train_csv, test_csv=args.test_csv, inputs=args.inputs, target=args.target
    )
    task.check()
    metrics = search_table(
        task,
        args.out,
        trials=args.trials,
        folds=args.folds,
        max_epochs=args.epochs,
        seed=args.seed,
        storage=args.storage,
        progress=not args.quiet,
    )
    print(dumps_json({"out": str(args.out), **metrics}))
    return 0
