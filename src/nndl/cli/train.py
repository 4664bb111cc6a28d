"""``nndl train``: one net, one task, one run folder."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from nndl.cli._args import (
    add_image_folder_flags,
    add_table_flags,
    float_list,
    int_list,
    integer,
    number,
    out_dir,
)
from nndl.errors import UsageError
from nndl.training.config import LR_SCHEDULES, MONITORS

# CLI flag -> (config field, the config kind it belongs to: "fcn", "cnn" or both)
ARCH_FLAGS = {
    "hidden": ("hidden_sizes", "fcn"),
    "activation": ("activation", "fcn cnn"),
    "dropout": ("dropout", "fcn cnn"),
    "fourier": ("fourier", "fcn"),
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
    parser.add_argument(
        "--task",
        default="mnist",
        help="mnist (default), images (any IDX set), regression, tabular, or FILE.py:Class",
    )
    parser.add_argument(
        "--arch",
        help="registered net or FILE.py:NAME (default: dcnn for images, reg-basic for "
        "regression, mlp for tabular)",
    )
    parser.add_argument(
        "--settings", help="rerun from a run's settings.toml (other flags are not allowed then)"
    )
    parser.add_argument(
        "--out",
        type=out_dir,
        help="run folder (default: runs/train-ARCH-TIME; with --settings runs/rerun-TIME)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def add_training_flags(parser: argparse.ArgumentParser) -> None:
    """Training settings; unset flags keep the architecture's registered defaults."""
    group = parser.add_argument_group("training (default: the report's settings for --arch)")
    group.add_argument("--epochs", type=integer, dest="max_epochs", help="maximum epochs")
    group.add_argument("--patience", type=integer, help="early stopping patience; 0 disables it")
    group.add_argument("--monitor", choices=MONITORS, help="early stopping's measure (val_loss)")
    group.add_argument("--batch-size", type=integer)
    group.add_argument("--lr", type=number, help="learning rate")
    group.add_argument("--weight-decay", type=number)
    group.add_argument(
        "--optimizer", help="adam, sgd or any torch.optim optimizer by name (adamw, rmsprop, ...)"
    )
    group.add_argument("--momentum", type=number, help="SGD momentum")
    group.add_argument(
        "--loss", help="the task's loss, or any torch.nn loss by name (huber, l1, smooth_l1, ...)"
    )
    _add_schedule_flags(group)
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


def _add_schedule_flags(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        help="step: times --lr-factor every --lr-step epochs; multistep: times --lr-factor "
        "after each of --lr-milestones; cosine: to 0 over --epochs; plateau: times "
        "--lr-factor once more than --lr-step epochs bring no new validation minimum",
    )
    group.add_argument("--lr-step", type=integer, help="epochs per step or plateau (default 10)")
    group.add_argument("--lr-factor", type=number, help="the schedule's factor (default 0.1)")
    group.add_argument(
        "--lr-milestones", type=int_list, help="multistep's epochs, comma-separated: 25,30,34"
    )


def add_arch_flags(parser: argparse.ArgumentParser) -> None:
    """Overrides of the architecture's config fields."""
    group = parser.add_argument_group("architecture overrides (comma-separated lists)")
    group.add_argument("--hidden", type=int_list, help="FCN hidden sizes, e.g. 128,16")
    group.add_argument("--activation", help="sigmoid, relu, tanh, silu, gelu, softplus or snake")
    group.add_argument("--dropout", type=float_list, help="one probability per hidden/linear layer")
    group.add_argument(
        "--fourier", type=number, help="FCN: scale of random Fourier features of the inputs"
    )
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
        "--data-dir",
        help="images: a folder of IDX files, or of class folders of images (DIR/CLASS/* or "
        "DIR/train/CLASS/* with DIR/test/CLASS/*); default: MNIST from cache/wheel",
    )
    group.add_argument(
        "--class-names", help="images: a file with one class name per line (label order)"
    )
    add_image_folder_flags(group)
    add_table_flags(group)  # regression and tabular


def model_overrides(args: argparse.Namespace, kind: str, arch: str) -> dict[str, Any]:
    """Config overrides from the architecture flags; flags of the other kind are usage errors."""
    overrides = {}
    for flag, (field, kinds) in ARCH_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None:
            continue
        if kind not in kinds.split():
            name = "--" + flag.replace("_", "-")
            raise UsageError(f"{name} applies to {kinds} nets, but --arch {arch} is a {kind} net")
        overrides[field] = value
    return overrides


def task_from_flags(args: argparse.Namespace) -> Any:
    """The task the flags describe, its data read and checked (numpy only, no torch)."""
    from nndl.tasks.base import get_task, make_task

    cls = get_task(args.task)
    flags = {  # the task's field: the flag that sets it
        "data_dir": "--data-dir",
        "class_names_file": "--class-names",
        "color_mode": "--color-mode",
        "image_size": "--image-size",
        "test_fraction": "--test-fraction",
        "cache": "--no-cache",
        "augment": "--augment",
        "train_csv": "--train-csv",
        "test_csv": "--test-csv",
        "inputs": "--inputs",
        "target": "--target",
        "standardize": "--standardize",
    }
    options = {
        k: getattr(args, f.removeprefix("--no-").removeprefix("--").replace("-", "_"), None)
        for k, f in flags.items()
    }
    fields = {f.name for f in dataclasses.fields(cls)}
    wrong = [flag for key, flag in flags.items() if options[key] is not None and key not in fields]
    if wrong:
        raise UsageError(f"{', '.join(wrong)} do(es) not apply to --task {args.task}")
    task = make_task(args.task, **{k: v for k, v in options.items() if k in fields})
    task.check()
    return task


def run(args: argparse.Namespace) -> int:
    from nndl._io import dumps_json
    from nndl.errors import TrainingFailed
    from nndl.training.device import check_device

    job = _job_from_settings(args) if args.settings else _job_from_flags(args)
    job.model_config()
    check_device(job.train.device)  # all checked before torch is imported
    from nndl.experiments.train import run_train

    try:
        metrics = run_train(job)
    except TrainingFailed as failed:
        print(dumps_json({"out": None, **failed.record}))
        raise
    print(dumps_json({"out": str(job.out), **metrics}))
    return 0


def _job_from_flags(args: argparse.Namespace) -> Any:
    from nndl._inputs import check_output_dir
    from nndl.experiments.jobs import TrainJob, resolve_arch, task_for_arch, train_config_for
    from nndl.models.registry import get_spec
    from nndl.plugins import is_reference

    task = task_from_flags(args)
    arch = resolve_arch(args.arch) if args.arch else task.default_arch
    task = task_for_arch(task, arch)
    kind = getattr(get_spec(arch).config, "kind", arch)
    overrides = model_overrides(args, kind, arch)
    train = train_config_for(task, arch, **_train_overrides(args))
    if args.patience == 0:
        train = dataclasses.replace(train, patience=None)
    default = Path("runs") / f"train-{arch}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = check_output_dir(args.out or default, named=args.out is not None)
    plugins = tuple(
        str(Path(ref.rpartition(":")[0]).resolve())
        for ref in (args.arch or "", args.task)
        if is_reference(ref) and ref.rpartition(":")[0].endswith(".py")
    )
    return TrainJob(task, arch, train, out, overrides, args.split_seed, args.quiet, None, plugins)


def _job_from_settings(args: argparse.Namespace) -> Any:
    from nndl._inputs import check_output_dir
    from nndl.experiments.settings import job_from_settings

    given = [
        "--epochs" if k == "max_epochs" else f"--{k.replace('_', '-')}"
        for k in (
            *ARCH_FLAGS,
            *_TRAIN_FLAGS,
            "arch",
            "data_dir",
            "train_csv",
            "test_csv",
            "inputs",
            "target",
            "class_names",
        )
        if getattr(args, k, None) is not None
    ]
    if given or args.task != "mnist":
        raise UsageError(f"--settings reruns a run as it was; drop {', '.join(given) or '--task'}")
    default = Path("runs") / f"rerun-{time.strftime('%Y%m%d-%H%M%S')}"
    out = check_output_dir(args.out or default, named=args.out is not None)
    job = job_from_settings(args.settings, out, args.quiet)
    job.task.check()
    return job


_TRAIN_FLAGS = (
    "max_epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "optimizer",
    "momentum",
    "loss",
    "lr_schedule",
    "lr_step",
    "lr_factor",
    "lr_milestones",
    "seed",
    "device",
    "val_fraction",
    "monitor",
    "patience",
)


def _train_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {name: getattr(args, name) for name in _TRAIN_FLAGS if name != "patience"}
    overrides["patience"] = args.patience if args.patience != 0 else None
    return overrides
