"""An estimator in one nndl checkpoint file, and any nndl checkpoint back as an estimator.

The file is :func:`nndl.training.checkpoint.save_checkpoint`'s format (read with
``torch.load(weights_only=True)``, no pickled code): the nets, their config, the training
settings, and in ``extra`` what predicting on raw inputs needs: the input scaling, the
target's scaling, the classes, the feature names and the input shape. A run folder's
``model.pt`` written by ``nndl train`` holds the same keys, so both load the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nndl.errors import DataError
from nndl.estimators._checkpoint import input_shape, json_params

__all__ = ["load", "load_with_extra"]

CLASSIFICATION_TASKS = ("mnist", "images", "tabular")


def load(path: str | os.PathLike[str]) -> Any:
    """The estimator saved at ``path`` (a ``model.pt`` or a run folder that holds one),
    ready to ``predict`` on raw inputs: a :class:`NetClassifier` for a classification
    task's checkpoint, a :class:`NetRegressor` for a regression's.

    Raises:
        DataError: when the file is not an nndl checkpoint or lacks what predicting needs.
    """
    return load_with_extra(path)[0]


def load_with_extra(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """As :func:`load`, with the checkpoint's ``extra`` (the task, the ``target`` column)."""
    from nndl.training.checkpoint import load_checkpoint

    file = Path(path)
    if file.is_dir():
        file = file / "model.pt"
    first = load_checkpoint(file)  # checks the file, the builder and every member's shapes
    extra = first.extra
    nets = [net.eval() for net in first.members]
    estimator = _estimator(file, extra)
    estimator.nets_, estimator.net_config_ = nets, first.model.config
    estimator.arch = first.model.config  # a refit of a clone builds the same net
    estimator.train_config_ = first.train_config
    estimator.history_, estimator.best_epoch_ = [], extra.get("epoch")
    shape = extra.get("input_shape") or input_shape(first.model.config)
    estimator.input_shape_ = tuple(int(s) for s in shape)
    estimator.n_features_in_ = int(estimator.input_shape_[0])
    if extra.get("feature_names"):
        estimator.feature_names_in_ = np.asarray(extra["feature_names"], dtype=object)
    _set_scaling(estimator, extra)
    return estimator, extra


def _estimator(file: Path, extra: dict[str, Any]) -> Any:
    from nndl.estimators.classifier import NetClassifier
    from nndl.estimators.regressor import NetRegressor

    task = str(extra.get("task", ""))
    if not task and not extra.get("estimator"):
        raise DataError(
            f"checkpoint {file}: a checkpoint of training (a Checkpoint callback's) holds no "
            "task, classes or scaling to predict with; nndl.load_checkpoint(path).model is its net"
        )
    classifier = (
        extra.get("estimator") == "NetClassifier"
        or task in ("classification", *CLASSIFICATION_TASKS)
        or bool(extra.get("classes"))  # a user's classification task
    )
    if classifier and not extra.get("classes"):
        raise DataError(f"checkpoint {file}: a {task} net's checkpoint without its classes")
    params = json_params(extra.get("params") or {})
    estimator = (NetClassifier if classifier else NetRegressor)()
    valid = estimator.get_params(deep=False)
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items() if k in valid}
    estimator.set_params(**params)
    if classifier:
        estimator.classes_ = np.asarray(extra["classes"])
    return estimator


def _set_scaling(estimator: Any, extra: dict[str, Any]) -> None:
    from nndl.data.scaling import Scaling

    scaling = extra.get("scaling")
    estimator.scaling_ = Scaling.from_dict(scaling) if scaling else None
    if hasattr(estimator, "classes_"):
        return
    estimator.target_ndim_ = int(extra.get("target_ndim", 1))
    if "target_scaling" in extra:
        target = extra["target_scaling"]
        estimator.target_scaling_ = Scaling.from_dict(target) if target else None
    elif scaling:  # a regression run's one Scaling holds the target's mean and std too
        s = Scaling.from_dict(scaling)
        estimator.target_scaling_ = Scaling((s.target_mean,), (s.target_std,), 0.0, 1.0)
    else:
        estimator.target_scaling_ = None
