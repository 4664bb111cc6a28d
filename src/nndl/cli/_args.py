"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = [
    "add_params_flag",
    "add_search_flags",
    "add_study_flags",
    "float_list",
    "int_list",
    "positive_int",
]

T = TypeVar("T")


def _list_of(cast: Callable[[str], T], what: str) -> Callable[[str], tuple[T, ...]]:
    def parse(text: str) -> tuple[T, ...]:
        try:
            return tuple(cast(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a comma-separated list of {what}"
            ) from None

    return parse


int_list = _list_of(int, "integers")
float_list = _list_of(float, "numbers")


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def add_study_flags(parser: argparse.ArgumentParser, out: str) -> None:
    """Flags every study part shares: output folder, device, budget, seed, storage, quiet."""
    parser.add_argument(
        "--out", type=Path, default=Path(out), help=f"output folder (default {out})"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument(
        "--quick", action="store_true", help="small budget that still runs every stage"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds data splits, folds and weights (default 0)"
    )
    parser.add_argument("--storage", help="Optuna storage URL (default: a file in --out)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


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
        "--sampler-seed", type=int,
        help="seeds only the sampler (default --seed); give each machine that joins a study its own",
    )  # fmt: skip


def add_params_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params", help="JSON file of parameters (default: the study's best trial)"
    )
