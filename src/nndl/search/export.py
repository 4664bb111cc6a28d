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

__all__ = ["export_trials_csv", "trial_reason"]


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
