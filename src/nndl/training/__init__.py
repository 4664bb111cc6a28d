"""The Evolver, its callbacks, k-fold cross-validation and checkpoints."""

from nndl.training.callbacks import Callback, Checkpoint, EarlyStopping, ProgressBar, StopReason
from nndl.training.checkpoint import LoadedCheckpoint, load_checkpoint, save_checkpoint
from nndl.training.config import TrainConfig
from nndl.training.evolver import Evolver, History
from nndl.training.kfold import CVResult, FoldResult, KFoldCrossValidator

__all__ = [
    "CVResult",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "Evolver",
    "FoldResult",
    "History",
    "KFoldCrossValidator",
    "LoadedCheckpoint",
    "ProgressBar",
    "StopReason",
    "TrainConfig",
    "load_checkpoint",
    "save_checkpoint",
]
