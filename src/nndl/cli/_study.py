"""What every study command does around its work: checks first, then a staged run folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["check_data", "checked_search_flags", "run_staged", "study_options"]

SEARCH_FLAGS = ("workers", "sampler_seed", "trials", "max_trials", "pruner")

S = TypeVar("S")


def checked_search_flags(args: argparse.Namespace) -> None:
    """Check ``--out``, ``--device`` and ``--storage``; cap ``--workers`` (saying so) before any work."""
    from nndl._inputs import check_output_dir
    from nndl.search.resources import check_storage_url, worker_cap
    from nndl.training.config import check_seeds
    from nndl.training.device import check_device

    check_output_dir(args.out)
    check_device(args.device)
    check_seeds("study settings", seed=args.seed, sampler_seed=getattr(args, "sampler_seed", None))
    if getattr(args, "storage", None) is not None:
        check_storage_url(args.storage)
    if getattr(args, "workers", 1) > 1:
        args.workers, why = worker_cap(args.workers)
        if why:
            print(f"nndl: {why}", file=sys.stderr)


def check_data(args: argparse.Namespace) -> None:
    """Read the data files once with the numpy loaders: a bad file fails before torch loads."""
    from nndl.data.regression import check_csv_pair, load_csv

    train_csv, test_csv = getattr(args, "train_csv", None), getattr(args, "test_csv", None)
    check_csv_pair(train_csv, test_csv)
    if train_csv is not None and test_csv is not None:
        load_csv(train_csv), load_csv(test_csv)
    if getattr(args, "data_dir", None) is not None:
        from nndl.data.mnist import load_mnist

        load_mnist(args.data_dir)


def run_staged(out: Path, study: S, part: Callable[[S], dict[str, Any]]) -> dict[str, Any]:
    """Run ``part`` on ``study`` writing into a staging folder that replaces ``out``'s files at the end.

    The search's storage, lock and ``nndl.log`` stay in ``out`` (a search resumes from there).
    """
    from nndl._io import staged_folder
    from nndl._timing import log_to_file
    from nndl.search.study import quiet_optuna

    quiet_optuna()
    with log_to_file(out / "nndl.log"), staged_folder(out) as staging:
        return part(replace(study, out=staging, store_dir=out))  # type: ignore[type-var]


def study_options(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The study's options from the flags ``names`` and the search flags the part has."""
    options = {name: getattr(args, name) for name in names}
    options.update({k: getattr(args, k) for k in SEARCH_FLAGS if hasattr(args, k)})
    return options
