"""``nndl predict MODEL --input FILE --out preds.csv``: a trained net's predictions for new rows."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "predict",
        help="predict with a trained net for the rows of a CSV, IDX or .npy file, or for a "
        "folder of images",
        description="Apply a checkpoint (a run folder, its model.pt, or an estimator's saved "
        "file) to raw inputs: a CSV table (the training columns, by name), IDX images, a .npy "
        "array or a folder of images. Writes a CSV: label and p_<class> per class for a "
        "classifier; the target's column (and std for an ensemble) in the data's units for a "
        "regressor.",
    )
    parser.add_argument("model", metavar="MODEL", help="a run folder or a checkpoint file")
    parser.add_argument(
        "--input",
        required=True,
        help="a CSV with a header, an IDX or .npy file, or a folder of images",
    )
    parser.add_argument("--out", required=True, help="the CSV file to write, e.g. preds.csv")
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="a Python file that registers the net (a run of --arch FILE.py:Class); repeatable",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from nndl._io import dumps_json
    from nndl.experiments.predict import predict_file
    from nndl.plugins import load_file

    for plugin in args.plugin:
        load_file(plugin, "--plugin")
    print(dumps_json(predict_file(args.model, args.input, args.out)))
    return 0
