"""A fitted estimator written as one nndl checkpoint: its nets, their config, the training
settings, the scaling, the classes and the column names (:mod:`nndl.estimators._persist`
reads it back)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["input_shape", "json_params", "save"]


def save(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted estimator to ``path`` (atomically)."""
    from sklearn.utils.validation import check_is_fitted

    from nndl.training.checkpoint import save_checkpoint

    check_is_fitted(estimator)
    extra: dict[str, Any] = {
        "estimator": type(estimator).__name__,
        "task": "classification" if hasattr(estimator, "classes_") else "regression",
        "params": json_params(estimator.get_params(deep=False), warn=type(estimator).__name__),
        "input_shape": list(estimator.input_shape_),
        "scaling": _dict(estimator.scaling_),
    }
    if hasattr(estimator, "classes_"):
        extra["classes"] = estimator.classes_.tolist()
    if hasattr(estimator, "target_scaling_"):
        extra["target_scaling"] = _dict(estimator.target_scaling_)
        extra["target_ndim"] = int(estimator.target_ndim_)
    if hasattr(estimator, "feature_names_in_"):
        extra["feature_names"] = [str(n) for n in estimator.feature_names_in_]
    nets = estimator.nets_
    save_checkpoint(
        path,
        nets[0],
        estimator.train_config_,
        extra=extra,
        config=estimator.net_config_,
        members=nets,
    )


def input_shape(config: Any) -> tuple[int, ...]:
    """The input shape a net config was built for: ``(c, h, w)`` or ``(features,)``."""
    if getattr(config, "kind", None) == "cnn":
        return (config.in_channels, config.input_size, config.input_size)
    return (int(config.input_size),)


def _dict(scaling: Any) -> dict[str, Any] | None:
    return scaling.to_dict() if scaling is not None else None


def json_params(params: dict[str, Any], warn: str = "") -> dict[str, Any]:
    """The parameters a checkpoint can hold and give back as they were: numbers, strings,
    None and tuples of them (as lists). The rest (a callable loss, a RandomState) is left out,
    and a loaded estimator keeps its defaults for them: with ``warn`` (the estimator's name),
    a warning names each. The architecture is left out too: its config is in the file."""
    import warnings

    kept = {}
    for key, value in params.items():
        if key in ("arch", "arch_options"):
            continue
        if _plain(value) or (isinstance(value, (tuple, list)) and all(map(_plain, value))):
            kept[key] = list(value) if isinstance(value, tuple) else value
        elif warn:
            warnings.warn(
                f"{warn}.save: {key} = {value!r} is not kept in the file (nndl.load gives the default)",
                stacklevel=4,
            )
    return kept


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))
