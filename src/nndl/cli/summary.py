"""``nndl summary --arch NAME``: parameters, multiply-adds and output shape of every layer."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nndl.cli._args import int_list


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "summary",
        help="a net's layers: output shapes, parameters, multiply-adds per sample",
        description="One row per layer of a registered net (or FILE.py:Class): output shape, "
        "parameters and multiply-adds for one sample, and the totals.",
    )
    parser.add_argument(
        "--arch", required=True, help="a registered net (nndl train --help) or FILE.py:NAME"
    )
    parser.add_argument(
        "--input-shape",
        type=int_list,
        help="one sample's shape, e.g. 1,28,28 (default: the net's own)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nndl.experiments.jobs import resolve_arch
    from nndl.models.nets import build_model
    from nndl.models.registry import create_config
    from nndl.models.summary import input_shape_of, summarize

    config = create_config(resolve_arch(args.arch))
    shape = tuple(args.input_shape) if args.input_shape else input_shape_of(config)
    summary = summarize(build_model(config), shape)
    print(json.dumps(summary.to_dict()) if args.json else summary.table())
    return 0
