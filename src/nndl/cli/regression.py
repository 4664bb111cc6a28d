"""``nndl regression {basic,search,best,all}``: the report's regression study."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from nndl.cli._args import (
    add_params_flag,
    add_search_flags,
    add_study_flags,
    add_table_flags,
    count,
    positive_int,
    positive_number,
)
from nndl.cli._study import checked_search_flags, run_staged, study_options
from nndl.search.limits import FOLDS


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
        _data_flags(sub)
        if name in ("search", "all"):
            add_search_flags(sub, report_trials=65)
        if name != "basic":  # best opens the search's study, whose settings hold the threshold
            sub.add_argument(
                "--prune-fraction",
                type=positive_number,
                help="prune a trial when one of its first 3 folds has a validation MSE above this "
                "times the labels' variance (at least 4 x their noise variance; default 0.105, "
                "the report's 0.4 on its data; --quick: 1.0); best: the search's value",
            )
        if name in ("best", "all"):
            _add_answer_flags(sub)
        sub.set_defaults(run=run)


def _data_flags(parser: argparse.ArgumentParser) -> None:
    """The data, the search space and the fold training of every part."""
    add_table_flags(parser)  # default: the built-in data
    parser.add_argument(
        "--space",
        default="",
        help="search space: fourier (the default budget's: the smooth space's nets with random Fourier features of a scale a Gaussian process fits to the data, or half of it), smooth (GELU, SiLU or Tanh, log-scale lr and weight decay), report (the report's; the report and quick budgets') or FILE.py:Class (a nndl.search.SearchSpace)",
    )
    parser.add_argument(
        "--folds",
        choices=FOLDS,
        default="random",
        help="the search's and the best net's 5 folds: random rows (the report's); blocked: "
        "contiguous stretches of the inputs, validation that looks like a gap; short: 4 "
        "shorter stretches per fold, spread over the range; repeated: random 5 folds cut "
        "twice (10 fold nets)",
    )
    parser.add_argument(
        "--no-batch-folds",
        dest="batch_folds",
        action="store_false",
        help="train the 5 folds one after the other instead of as one batched ensemble",
    )


def _add_answer_flags(sub: argparse.ArgumentParser) -> None:
    """The answer's flags (best, all): its seeds and configurations, a params file."""
    sub.add_argument(
        "--refit-members",
        type=positive_int,
        default=5,
        help="seeds of each refit configuration, the study's answer (default 5)",
    )
    sub.add_argument(
        "--refit-configs",
        type=positive_int,
        help="the search's best configurations refit as the answer (default: the budget's, "
        "3; --quick: 1; with --params: that one)",
    )
    sub.add_argument(
        "--finalists",
        type=count,
        help="the search's best configurations cross-validated again on 5 more folds, from "
        "which the answer's are ranked (default: the budget's, 6; --quick: 0, none)",
    )
    sub.add_argument(
        "--fold-nets",
        action=argparse.BooleanOptionalAction,
        help="the report's protocol's fold nets (5; 10 with --folds repeated) join the refit "
        "nets in the answer "
        "(default: the budget's, yes; --quick and --budget report: no)",
    )
    add_params_flag(sub)


def run(args: argparse.Namespace) -> int:
    from nndl._io import dumps_json

    checked_search_flags(args)
    from nndl.experiments import regression as reg

    names = ("train_csv", "test_csv", "device", "seed", "storage", "batch_folds", "quiet")
    options = study_options(args, (*names, "inputs", "target", "space", "standardize", "folds"))
    options.update(
        {
            k: getattr(args, k)
            for k in ("prune_fraction", "refit_members", "refit_configs", "finalists", "fold_nets")
            if hasattr(args, k)
        }
    )
    from nndl.experiments.budgets import regression_budget

    budget = regression_budget(args.budget)
    study = reg.RegressionStudy(out=args.out, budget=budget, **options)
    study.task.check()  # the data files and the space, before any work
    study.search_space  # noqa: B018
    params_file = getattr(args, "params", None)
    params = reg.best_params(study, params_file) if params_file else None  # checked before work
    parts: dict[str, Callable[[Any], dict[str, Any]]] = {
        "basic": reg.run_basic,
        "search": reg.run_search,
        "best": lambda s: reg.run_best(s, params or reg.best_params(s, None)),
        "all": lambda s: reg.run_all(s, args.params),
    }
    result = run_staged(args.out, study, parts[args.part])
    print(dumps_json({"out": str(args.out), **result}))
    return 0
