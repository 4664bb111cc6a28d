"""The Evolver, its callbacks, k-fold cross-validation and checkpoints."""

from __future__ import annotations

from nndl._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
