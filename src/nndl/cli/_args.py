"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nndl._inputs import parse_float, parse_int, shorten

__all__ = [
    "add_image_folder_flags",
    "add_params_flag",
    "add_search_flags",
    "add_study_flags",
    "add_table_flags",
    "count",
    "float_list",
    "int_list",
    "integer",
    "name_list",
    "number",
    "out_dir",
    "port",
    "positive_int",
    "positive_number",
]

T = TypeVar("T")


def _typed(parse: Callable[[str], T], what: str) -> Callable[[str], T]:
    """An argparse type from a parser of ASCII numbers (its error text becomes argparse's)."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = what  # argparse names the type in some messages
    return convert


def _list_of(cast: Callable[[str], T], what: str) -> Callable[[str], tuple[T, ...]]:
    def parse(text: str) -> tuple[T, ...]:
        parts = text.split(",")
        if any(not part.strip() for part in parts):
            raise ValueError(f"{shorten(text)} has an empty item; give {what} separated by commas")
        try:
            return tuple(cast(part) for part in parts)
        except ValueError:
            raise ValueError(f"{shorten(text)} is not a comma-separated list of {what}") from None

    return _typed(parse, f"list of {what}")


int_list = _list_of(parse_int, "integers")
float_list = _list_of(parse_float, "numbers")
name_list = _list_of(str.strip, "column names")
integer = _typed(parse_int, "integer")
number = _typed(parse_float, "number")


def _positive(text: str) -> int:
    value = parse_int(text)
    if value < 1:
        raise ValueError(f"{value} must be >= 1")
    return value


def _count(text: str) -> int:
    value = parse_int(text)
    if value < 0:
        raise ValueError(f"{value} must be >= 0")
    return value


def _positive_number(text: str) -> float:
    value = parse_float(text)
    if not 0 < value < float("inf"):
        raise ValueError(f"{shorten(text)} must be a number > 0")
    return value


positive_number = _typed(_positive_number, "positive number")


def _port(text: str) -> int:
    value = parse_int(text)
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP port; give 1 to 65535")
    return value


def _out(text: str) -> Path:
    if not text.strip():
        raise ValueError("the folder name is empty; give a folder for the results, e.g. runs/x")
    return Path(text)


positive_int = _typed(_positive, "positive integer")
count = _typed(_count, "integer >= 0")
port = _typed(_port, "port")
out_dir = _typed(_out, "folder")


def add_study_flags(parser: argparse.ArgumentParser, out: str) -> None:
    """Flags every study part shares: output folder, device, budget, seed, storage, quiet."""
    parser.add_argument(
        "--out", type=out_dir, default=Path(out), help=f"output folder (default {out})"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    add_budget_flags(parser)
    parser.add_argument(
        "--seed", type=integer, default=0, help="seeds data splits, folds and weights (default 0)"
    )
    parser.add_argument("--storage", help="Optuna storage URL (default: a file in --out)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_budget_flags(parser: argparse.ArgumentParser) -> None:
    """``--budget default|report|quick`` and ``--quick`` (the same as ``--budget quick``)."""
    from nndl.experiments.budgets import BUDGET_NAMES

    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--budget",
        choices=BUDGET_NAMES,
        default="default",
        help="default: designed for a laptop CPU (the MNIST search multi-fidelity); report: the "
        "report's protocol exactly; quick: every stage on small budgets (docs/studies.md: Budgets)",
    )
    group.add_argument(
        "--quick", dest="budget", action="store_const", const="quick", help="--budget quick"
    )


def add_search_flags(parser: argparse.ArgumentParser, report_trials: int) -> None:
    """How far a search goes and how many local processes run it."""
    parser.add_argument(
        "--trials", type=positive_int, help=f"completed trials to reach (report: {report_trials})"
    )
    parser.add_argument(
        "--max-trials", type=positive_int, help="stop after this many trials of any state"
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel worker processes")
    parser.add_argument(
        "--sampler-seed",
        type=integer,
        help="seeds only the sampler (default --seed); give each machine that joins a study its own",
    )


def add_params_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params", help="JSON file of parameters (default: the study's best trial)"
    )


def add_table_flags(parser: Any, *, standardize: bool = True) -> None:
    """The CSV data flags of ``train``, the regression study and the tabular search (a parser
    or an argument group; ``standardize``: with ``--standardize``, which only regression
    takes)."""
    parser.add_argument("--train-csv", help="training rows, a CSV with a header")
    parser.add_argument("--test-csv", help="test rows, the same columns")
    parser.add_argument(
        "--inputs", type=name_list, help="input columns, e.g. age,bmi (default: all but --target)"
    )
    parser.add_argument("--target", help="target column (default: label, else the last column)")
    if not standardize:
        return
    parser.add_argument(
        "--standardize",
        action=argparse.BooleanOptionalAction,
        help="regression: train on inputs and target scaled by the training rows' mean and std "
        "(default: on; losses are reported in the data's units either way)",
    )


def add_image_folder_flags(group: Any, *, cache: bool = True) -> None:
    """How a folder of images becomes arrays, and the augmentation of its training batches (a
    parser or an argument group; ``cache``: with ``--no-cache``)."""
    group.add_argument(
        "--color-mode", choices=("auto", "rgb", "grayscale"), help="image folders: default auto"
    )
    group.add_argument(
        "--image-size",
        type=positive_int,
        help="image folders: side in pixels (default: the most common)",
    )
    group.add_argument(
        "--test-fraction",
        type=number,
        help="image folders without train/ and test/: the share held out, stratified (default 0.2)",
    )
    group.add_argument(
        "--augment",
        type=name_list,
        help="images: augment the training batches with any of crop,flip,erase (default none)",
    )
    if cache:
        _add_no_cache_flag(group)


def _add_no_cache_flag(group: Any) -> None:
    group.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        default=None,
        help="image folders: decode the files again, keep nothing",
    )
