"""The Evolver, its callbacks, k-fold cross-validation and checkpoints."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    **dict.fromkeys(
        ("Callback", "Checkpoint", "EarlyStopping", "ProgressBar", "StopReason"),
        "nndl.training.callbacks",
    ),
    **dict.fromkeys(
        ("LoadedCheckpoint", "load_checkpoint", "save_checkpoint"), "nndl.training.checkpoint"
    ),
    "TrainConfig": "nndl.training.config",
    **dict.fromkeys(("Evolver", "History"), "nndl.training.evolver"),
    **dict.fromkeys(("CVResult", "FoldResult", "KFoldCrossValidator"), "nndl.training.kfold"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:  # imported on first use: checking a config needs no torch
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
