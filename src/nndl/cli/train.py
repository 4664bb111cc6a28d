"""``nndl train``: one net, one task, one run folder."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from nndl.cli._args import float_list, int_list, integer, number, out_dir
from nndl.cli._study import check_data
from nndl.errors import UsageError

# CLI flag -> (config field, the config kind it belongs to: "fcn", "cnn" or both)
ARCH_FLAGS = {
    "hidden": ("hidden_sizes", "fcn"),
    "activation": ("activation", "fcn cnn"),
    "dropout": ("dropout", "fcn cnn"),
    "channels": ("channels", "cnn"),
    "kernel_sizes": ("kernel_sizes", "cnn"),
    "strides": ("strides", "cnn"),
    "paddings": ("paddings", "cnn"),
    "linear": ("linear_sizes", "cnn"),
}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="train one net and write config, history, metrics, checkpoint and loss plot",
        description="Train one registered architecture (see --arch) with the report's settings "
        "unless overridden; writes DIR/config.json, history.csv, metrics.json, model.pt, loss.png.",
    )
    add_training_flags(parser)
    add_arch_flags(parser)
    add_data_flags(parser)
    parser.add_argument("--task", choices=("mnist", "regression"), default="mnist")
    parser.add_argument(
        "--arch", help="registered net (default: dcnn for mnist, reg-basic for regression)"
    )
    parser.add_argument("--out", type=out_dir, help="run folder (default: runs/train-ARCH-TIME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def add_training_flags(parser: argparse.ArgumentParser) -> None:
    """Training settings; unset flags keep the architecture's registered defaults."""
    group = parser.add_argument_group("training (default: the report's settings for --arch)")
    group.add_argument("--epochs", type=integer, dest="max_epochs", help="maximum epochs")
    group.add_argument("--patience", type=integer, help="early stopping patience; 0 disables it")
    group.add_argument("--batch-size", type=integer)
    group.add_argument("--lr", type=number, help="learning rate")
    group.add_argument("--weight-decay", type=number)
    group.add_argument("--optimizer", choices=("adam", "sgd"))
    group.add_argument("--momentum", type=number, help="SGD momentum")
    group.add_argument(
        "--seed", type=integer, help="seeds weights, batch order and dropout (default 0)"
    )
    group.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto (default cpu)")
    group.add_argument(
        "--val-fraction", type=number, help="validation share (mnist 0.2, regression 0.1)"
    )
    group.add_argument(
        "--split-seed", type=integer, default=0, help="seeds the validation split (default 0)"
    )


def add_arch_flags(parser: argparse.ArgumentParser) -> None:
    """Overrides of the architecture's config fields."""
    group = parser.add_argument_group("architecture overrides (comma-separated lists)")
    group.add_argument("--hidden", type=int_list, help="FCN hidden sizes, e.g. 128,16")
    group.add_argument("--activation", help="sigmoid, relu or tanh")
    group.add_argument("--dropout", type=float_list, help="one probability per hidden/linear layer")
    group.add_argument(
        "--channels", type=int_list, help="CNN channels per conv layer, e.g. 8,16,32"
    )
    group.add_argument("--kernel-sizes", type=int_list)
    group.add_argument("--strides", type=int_list)
    group.add_argument("--paddings", type=int_list)
    group.add_argument("--linear", type=int_list, help="CNN linear sizes, e.g. 128,16")


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data-dir", help="mnist: a folder with the IDX files (default: cache/wheel)"
    )
    group.add_argument("--train-csv", help="regression: training points (header input,label)")
    group.add_argument("--test-csv", help="regression: test points (header input,label)")


def model_overrides(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Config overrides from the architecture flags; flags of the other kind are usage errors."""
    overrides = {}
    for flag, (field, kinds) in ARCH_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if kind not in kinds.split():
            name = "--" + flag.replace("_", "-")
            raise UsageError(
                f"{name} applies to {kinds} nets, but --arch {args.arch} is a {kind} net"
            )
        overrides[field] = value
    return overrides


def check_data_flags(args: argparse.Namespace) -> None:
    """Each data flag only with its task (check_data reads the files)."""
    if args.task == "mnist" and args.train_csv:
        raise UsageError("--train-csv/--test-csv are for --task regression")
    if args.task == "regression" and args.data_dir:
        raise UsageError("--data-dir is for --task mnist")


def run(args: argparse.Namespace) -> int:
    from nndl._inputs import check_output_dir
    from nndl._io import dumps_json
    from nndl.errors import TrainingFailed
    from nndl.experiments.jobs import TrainJob, train_config_for
    from nndl.models.registry import get_spec
    from nndl.training.device import check_device

    check_data_flags(args)
    check_data(args)
    args.arch = args.arch or ("dcnn" if args.task == "mnist" else "reg-basic")
    overrides = model_overrides(args, get_spec(args.arch).config.kind)
    train = train_config_for(args.task, args.arch, **_train_overrides(args))
    if args.patience == 0:
        train = dataclasses.replace(train, patience=None)
    default = Path("runs") / f"train-{args.arch}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = check_output_dir(args.out or default, named=args.out is not None)
    job = TrainJob(
        args.task,
        args.arch,
        train,
        out,
        overrides,
        args.data_dir,
        args.train_csv,
        args.test_csv,
        args.split_seed,
        args.quiet,
    )
    job.model_config()
    check_device(train.device)  # all checked before torch is imported
    from nndl.experiments.train import run_train

    try:
        metrics = run_train(job)
    except TrainingFailed as failed:
        print(dumps_json({"out": None, **failed.record}))
        raise
    print(dumps_json({"out": str(out), **metrics}))
    return 0


def _train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = ("max_epochs", "batch_size", "lr", "weight_decay", "optimizer", "momentum", "seed")
    overrides = {name: getattr(args, name) for name in (*names, "device", "val_fraction")}
    overrides["patience"] = args.patience if args.patience != 0 else None
    return overrides
