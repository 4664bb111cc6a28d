"""A study's trials as a CSV table: parameters, metrics, trial number, state and reason."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from nndl._io import write_text

__all__ = ["LOSS_COLUMNS", "export_space_csv", "export_trials_csv", "trial_reason"]

LOSS_COLUMNS = ["avg_train_loss", "avg_val_loss", "train_time [min]"]
"""What every searched trial records besides its parameters (the report's column names)."""


def trial_reason(trial: FrozenTrial) -> str:
    """Why a trial was pruned or failed ('' when it completed)."""
    for key in ("prune_reason", "fail_reason"):
        if key in trial.user_attrs:
            return str(trial.user_attrs[key])
    return str(trial.system_attrs.get("fail_reason", ""))


def export_trials_csv(
    study: optuna.Study,
    path: str | os.PathLike[str],
    columns: list[str],
    *,
    row: Callable[[FrozenTrial], dict[str, Any]],
) -> int:
    """Write one row per trial (``row`` gives the ``columns``) atomically; returns the count."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=[*columns, "trial", "state", "reason"], lineterminator="\n"
    )
    writer.writeheader()
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        values = {c: row(trial).get(c, "") for c in columns}
        writer.writerow(
            {
                **values,
                "trial": trial.number,
                "state": trial.state.name,
                "reason": trial_reason(trial),
            }
        )
    write_text(path, buffer.getvalue())
    return len(trials)


def export_space_csv(study: optuna.Study, path: str | os.PathLike[str], space: Any) -> int:
    """One row per trial: the space's columns (``SearchSpace.csv_row``), then its losses."""

    def row(trial: FrozenTrial) -> dict[str, Any]:
        attrs = trial.user_attrs
        losses = {k: attrs.get(k, "") for k in ("avg_train_loss", "avg_val_loss")}
        return {
            **space.csv_row(trial.params),
            **losses,
            "train_time [min]": attrs.get("train_time_min", ""),
        }

    return export_trials_csv(study, path, [*space.columns, *LOSS_COLUMNS], row=row)
