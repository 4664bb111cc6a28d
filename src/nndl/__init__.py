"""nndl: supervised deep learning experiments on a laptop CPU.

Train, cross-validate, search hyperparameters and look inside trained nets. The public
surface is re-exported here and imported lazily, so ``nndl --help`` starts instantly.
"""

from __future__ import annotations

import logging

from nndl._lazy import lazy_exports

__version__ = "0.1.0"

logging.getLogger("nndl").addHandler(logging.NullHandler())  # a library logs only where told to

_EXPORTS = {
    "ConfigError": "nndl.errors",
    "DataError": "nndl.errors",
    "NNDLError": "nndl.errors",
    "FCNConfig": "nndl.models.configs",
    "CNNConfig": "nndl.models.configs",
    "build_model": "nndl.models.nets",
    "create_model": "nndl.models.registry",
    "create_config": "nndl.models.registry",
    "list_models": "nndl.models.registry",
    "register_model": "nndl.models.registry",
    "register_architecture": "nndl.models.registry",
    "Task": "nndl.tasks.base",
    "make_task": "nndl.tasks.base",
    "register_task": "nndl.tasks.base",
    "TrainConfig": "nndl.training.config",
    "Evolver": "nndl.training.evolver",
    "History": "nndl.training.evolver",
    "Callback": "nndl.training.callbacks",
    "EarlyStopping": "nndl.training.callbacks",
    "Checkpoint": "nndl.training.callbacks",
    "ProgressBar": "nndl.training.callbacks",
    "StopReason": "nndl.training.callbacks",
    "KFoldCrossValidator": "nndl.training.kfold",
    "save_checkpoint": "nndl.training.checkpoint",
    "load_checkpoint": "nndl.training.checkpoint",
    "load_regressor": "nndl.training.checkpoint",
    "ScaledRegressor": "nndl.models.scaled",
    "train_ensemble": "nndl.training.ensemble",
    "TensorData": "nndl.data.tensors",
    "NetClassifier": "nndl.estimators.classifier",
    "NetRegressor": "nndl.estimators.regressor",
    "NetSearchCV": "nndl.estimators.search",
    "load": "nndl.estimators._persist",
    "Study": "nndl.experiments.study",
    "register_study": "nndl.experiments.study",
    "predict_file": "nndl.experiments.predict",
    "load_mnist": "nndl.data.mnist",
    "load_csv": "nndl.data.regression",
    "default_data": "nndl.data.regression",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
