"""``nndl train``: one net on one task, with everything it used and produced written to a folder."""

from __future__ import annotations

import csv
import io
import itertools
import platform
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from nndl._io import staged_folder, write_json, write_text
from nndl.errors import ConfigError, TrainingFailed
from nndl.experiments.jobs import TrainJob, train_config_for
from nndl.experiments.settings import run_settings_toml
from nndl.models.nets import build_model
from nndl.tasks.base import TaskData
from nndl.training.callbacks import Callback, ProgressBar, StopReason
from nndl.training.checkpoint import save_checkpoint
from nndl.training.device import resolve_device
from nndl.training.evolver import Evolver, History

__all__ = [
    "TrainJob",
    "check_converged",
    "check_fits_in_memory",
    "run_train",
    "train_config_for",
]


def run_train(job: TrainJob) -> dict[str, Any]:
    """Validate, load data, train, test, and write the run folder; returns the metrics."""
    config = job.model_config()
    resolve_device(job.train.device)
    check_fits_in_memory(config)
    data = job.task.load(job.train.val_fraction, job.split_seed, job.limit)
    rows = len(data.train)
    if job.train.batch_size > rows:
        problem = f"batch_size = {job.train.batch_size} is larger than the {rows} training rows"
        raise ConfigError("training settings", [f"{problem} (--batch-size {rows} or less)"])
    torch.manual_seed(job.train.seed)
    callbacks: list[Callback] = [] if job.quiet else [ProgressBar()]
    transform = job.task.batch_transform(job.train.seed, resolve_device(job.train.device))
    evolver = Evolver(build_model(config), job.train, callbacks, batch_transform=transform)
    history = evolver.fit(data.train, data.val)
    check_converged(history, lambda: _metrics(job, history, None))
    history = history.scaled(_loss_scale(job))  # an MSE in the data's units from here on
    metrics = _metrics(job, history, evolver.evaluate(data.test))
    with staged_folder(job.out) as staging:  # the run folder is all new or all as it was
        _write_outputs(
            replace(job, out=staging),
            config,
            data,
            evolver=evolver,
            history=history,
            metrics=metrics,
        )
    return metrics


def check_converged(history: History, record: Callable[[], dict[str, Any]] = dict) -> None:
    """Raise TrainingFailed (with ``record()``) when the run's loss became NaN or infinite."""
    if history.stop_reason is not StopReason.DIVERGED:
        return
    last = history.rows[-1] if history.rows else {}
    losses = ", ".join(f"{k} {last[k]}" for k in ("train_loss", "val_loss") if k in last)
    raise TrainingFailed(
        f"training diverged at epoch {history.epochs} ({losses}); its results were not "
        "written; try a lower --lr or check the data's scale",
        record(),
    )


TRAINING_BYTES_PER_PARAMETER = 16
"""float32 weights, gradients and Adam's two moments."""


def check_fits_in_memory(config: Any) -> None:
    """Count the net's parameters on the ``meta`` device (no memory) and refuse a net whose
    training state alone would not fit in the free memory, before anything is allocated."""
    from nndl.search.resources import available_memory

    with torch.device("meta"):
        parameters = sum(p.numel() for p in build_model(config).parameters())
    need, free = parameters * TRAINING_BYTES_PER_PARAMETER, available_memory()
    if free is not None and need > free:
        raise ConfigError(
            "architecture",
            [
                f"the net has {parameters:,} parameters: training it needs about {need / 2**30:.1f} GiB, "
                f"and {free / 2**30:.1f} GiB are free; use smaller layers"
            ],
        )


def _loss_scale(job: TrainJob) -> float:
    """The task's scale into the data's units, which holds for a mean squared error only
    (another loss, as ``--loss huber``, is reported on the standardized numbers)."""
    return job.task.loss_scale if job.train.loss in ("mse", "auto") else 1.0


def _metrics(job: TrainJob, history: History, test: dict[str, float] | None) -> dict[str, Any]:
    """The run's numbers; without ``test`` (a failed run) the test metrics are None."""
    best = history.best_row()
    metrics: dict[str, Any] = {"train_loss": best["train_loss"], "val_loss": best.get("val_loss")}
    if job.task.loss == "cross_entropy":
        metrics["val_accuracy"] = best.get("val_accuracy")
        metrics["test_accuracy"] = test["accuracy"] if test else None
    metrics["test_loss"] = test["loss"] * _loss_scale(job) if test else None
    reason = history.stop_reason.value if history.stop_reason else None
    metrics.update(epochs=history.epochs, best_epoch=history.best_epoch, stop_reason=reason)
    metrics["seconds_per_epoch"] = history.seconds_per_epoch()
    return metrics


def _write_outputs(
    job: TrainJob,
    config: Any,
    data: TaskData,
    *,
    evolver: Evolver,
    history: History,
    metrics: dict[str, Any],
) -> None:
    from nndl.viz._mpl import save_figure
    from nndl.viz.curves import loss_curves, plot_loss_curves

    out = job.out
    settings = _settings(job, config, data, evolver=evolver)
    write_json(out / "config.json", settings)
    write_text(out / "settings.toml", run_settings_toml(job))
    write_text(out / "history.csv", history_csv(history))
    extra = {
        **job.task.checkpoint_extra(),  # what nndl.load needs to predict on raw inputs
        "arch": job.arch,
        "task_settings": job.task.settings(),
    }
    if job.plugins:
        extra["plugins"] = list(job.plugins)
    save_checkpoint(out / "model.pt", evolver.model, job.train, extra=extra)
    write_text(out / "summary.md", model_summary(evolver.model, data).table() + "\n")
    fig = plot_loss_curves(
        loss_curves(history.rows, history.best_epoch), title=f"{job.arch} ({job.task.dataset})"
    )
    save_figure(fig, out / "loss.png")
    write_json(out / "metrics.json", metrics)


def model_summary(model: torch.nn.Module, data: TaskData) -> Any:
    """The net's layers for one sample of the data (``nndl summary``)."""
    from nndl.models.summary import summarize

    return summarize(model, tuple(data.train.x.shape[1:]))


def _settings(job: TrainJob, config: Any, data: TaskData, *, evolver: Evolver) -> dict[str, Any]:
    from nndl.models.nets import config_to_dict

    size = model_summary(evolver.model, data)
    return {
        "task": job.task.name,
        "task_options": job.task.settings(),
        "arch": job.arch,
        "model": config_to_dict(config),
        "model_size": {"params": size.params, "macs": size.macs},
        "train": job.train.to_dict(),
        "data": {
            **data.info,
            "train": len(data.train),
            "val": len(data.val) if data.val is not None else 0,
            "test": len(data.test),
        },
        "device": str(evolver.device),
        "threads": torch.get_num_threads(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
    }


def history_csv(history: History) -> str:
    """The history as CSV text, one row per epoch."""
    columns = ["epoch", "train_loss", "val_loss", "val_accuracy", "lr", "seconds"]
    present = [c for c in columns if any(c in r for r in history.rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=present, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(history.rows)
    return buffer.getvalue()


def refit_settings(train: dict[str, Any], rates: list[float], epochs: int) -> dict[str, Any]:
    """Training settings that refit a validated run's net on every training row: the same
    settings for ``epochs`` (that run's best epoch count), no validation, no early stopping.
    ``rates``: that run's learning rate of each epoch (its ``history.csv``). A ``plateau``
    schedule cuts the rate when the validation loss stalls, which a refit cannot see: it
    becomes ``multistep`` with the run's cuts (``constant`` if none came before ``epochs``).
    Other schedules count epochs, so they stay (``cosine`` then anneals over ``epochs``)."""
    settings = {**train, "max_epochs": epochs, "val_fraction": 0.0, "patience": None}
    settings["monitor"] = "val_loss"  # nothing to monitor without validation
    if settings.get("lr_schedule") == "plateau":
        rates = rates[:epochs]
        cuts = tuple(e for e, (a, b) in enumerate(itertools.pairwise(rates), 1) if b < a)
        settings.update(lr_schedule="multistep" if cuts else "constant", lr_milestones=cuts)
    return settings
