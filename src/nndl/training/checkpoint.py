"""Self-describing checkpoints: weights + the config that built them + the training settings.

Loading needs no flags and never unpickles code: ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nndl._inputs import check_readable_file
from nndl._io import atomic_path
from nndl.errors import ConfigError, DataError, NNDLError
from nndl.models.nets import build_model, config_from_dict, config_to_dict
from nndl.training.config import TrainConfig

__all__ = [
    "FORMAT",
    "LoadedCheckpoint",
    "load_checkpoint",
    "load_regressor",
    "save_checkpoint",
    "save_regressor",
]

FORMAT = "nndl-checkpoint-v1"
MAX_CHECKPOINT_BYTES = 8 << 30
"""The largest checkpoint nndl reads (8 GiB)."""


@dataclass
class LoadedCheckpoint:
    """A net rebuilt from a checkpoint, with the settings it was trained with."""

    model: nn.Module
    train_config: TrainConfig | None
    extra: dict[str, Any] = field(default_factory=dict)
    members: list[nn.Module] = field(default_factory=list)
    """Every net of an ensemble's file, ``model`` first; ``[model]`` for one net's."""


def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    train_config: TrainConfig | None = None,
    *,
    extra: dict[str, Any] | None = None,
    config: Any = None,
    members: list[nn.Module] | None = None,
) -> None:
    """Write ``model`` with the registered ``config`` that builds it (default: ``model.config``)
    to ``path`` atomically; any net with a registered builder round-trips, a plain
    ``nn.Sequential`` too when its config is given."""
    config = config if config is not None else getattr(model, "config", None)
    if config is None:
        problem = f"{type(model).__name__} has no .config: pass a registered one as config="
        raise ConfigError("checkpoint", [problem])
    payload: dict[str, Any] = {
        "format": FORMAT,
        "model_config": config_to_dict(config),
        "train_config": train_config.to_dict() if train_config is not None else None,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": dict(extra or {}),
    }
    if members:  # an ensemble: the weights of every member (``state_dict`` is the first's)
        payload.update(_member_payload(members, config))
    with atomic_path(path) as tmp:
        try:
            torch.save(payload, tmp)
        except RuntimeError as exc:  # torch's zip writer reports a full disk as a position error
            full = shutil.disk_usage(tmp.parent).free < (1 << 20)
            reason = "No space left on device" if full else f"torch.save failed: {exc}"
            raise OSError(errno.ENOSPC if full else errno.EIO, reason, str(path)) from None


def _member_payload(members: list[nn.Module], config: Any) -> dict[str, Any]:
    """Every member's weights, and every member's config when they are not all ``config``."""
    payload: dict[str, Any] = {
        "member_states": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in members]
    }
    configs = [getattr(m, "config", config) for m in members]
    if any(c != config for c in configs):  # several architectures: each member's own
        payload["member_configs"] = [config_to_dict(c) for c in configs]
    return payload


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> LoadedCheckpoint:
    """Rebuild the net saved at ``path``.

    Raises:
        DataError: when the file is missing, not a checkpoint, or its weights do not fit.
    """
    payload = _read(Path(path), map_location)
    _check_builder(path, payload)
    try:
        model, *others = _build(_member_parts(payload))
        train = payload.get("train_config")
        return LoadedCheckpoint(
            model,
            _train_config(train) if train else None,
            payload.get("extra", {}),
            [model, *others],
        )
    except (KeyError, TypeError, RuntimeError, NNDLError) as exc:
        raise DataError(f"checkpoint {path}: does not match its own config ({exc})") from exc


def save_regressor(
    path: str | os.PathLike[str],
    regressor: Any,
    train_config: TrainConfig | None = None,
    *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a :class:`nndl.models.scaled.ScaledRegressor`: its members and its scaling, which
    :func:`load_regressor` reads back (and :func:`load_checkpoint` as its first member)."""
    members = list(regressor.members)
    scaling = regressor.scaling.to_dict() if regressor.scaling is not None else None
    extra = {**(extra or {}), "scaling": scaling}
    save_checkpoint(path, members[0], train_config, extra=extra, members=members)


def load_regressor(path: str | os.PathLike[str], map_location: str = "cpu") -> Any:
    """A regression checkpoint as a :class:`~nndl.models.scaled.ScaledRegressor` that takes and
    returns the data's units: ``load_regressor(p).predict(x, return_std=True)``. Works for an
    ensemble (``refit/ensemble.pt``), one net's checkpoint (one member) and a run folder."""
    from nndl.models.scaled import ScaledRegressor

    path = Path(path) / "model.pt" if Path(path).is_dir() else Path(path)
    payload = _read(path, map_location)
    _check_builder(path, payload)
    extra = payload.get("extra") or {}
    _check_regression(path, extra)
    try:
        return ScaledRegressor(_build(_member_parts(payload)), _regression_scaling(extra))
    except (KeyError, TypeError, ValueError, RuntimeError, NNDLError) as exc:
        raise DataError(f"checkpoint {path}: not a regression net's checkpoint ({exc})") from exc


def _build(parts: list[tuple[Any, Any]]) -> list[nn.Module]:
    """One net per (config, weights), each checked before it is allocated."""
    nets = []
    for config, state in parts:
        _check_shapes(config, state)
        net = build_model(config)
        net.load_state_dict(state)
        nets.append(net)
    return nets


def _member_parts(payload: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Each member's (config, weights); the first is the file's own net. An ensemble of
    several architectures keeps every member's config, the others share the file's."""
    config = config_from_dict(payload["model_config"])
    states = payload.get("member_states") or [payload["state_dict"]]
    configs = [config_from_dict(c) for c in payload.get("member_configs") or []]
    return list(zip(configs or [config] * len(states), states, strict=True))


def _check_regression(path: str | os.PathLike[str], extra: dict[str, Any]) -> None:
    """A classification task's checkpoint: say what it holds and what loads it."""
    if not (extra.get("classes") or extra.get("estimator") == "NetClassifier"):
        return
    task = str(extra.get("task") or "classification")
    kind = task if task == "classification" else f"{task} (classification)"
    article = "an" if kind[0] in "aeiou" else "a"
    raise DataError(
        f"checkpoint {path} holds {article} {kind} net, not a regression net: use nndl.load(path)"
    )


def _regression_scaling(extra: dict[str, Any]) -> Any:
    """The one Scaling of inputs and target; a NetRegressor's file keeps the target's apart."""
    from nndl.data.scaling import Scaling

    scaling = Scaling.from_dict(extra["scaling"]) if extra.get("scaling") else None
    target = extra.get("target_scaling")
    if not target or scaling is None:
        return scaling
    t = Scaling.from_dict(target)
    if len(t.input_mean) != 1:
        raise ValueError("a net with several outputs: load it with nndl.load(path)")
    return Scaling(scaling.input_mean, scaling.input_std, t.input_mean[0], t.input_std[0])


def _train_config(settings: dict[str, Any]) -> TrainConfig:
    """The saved training settings; a callable optimizer or loss was saved by its name
    (``module:name``), which cannot be rebuilt: the default stands in for it."""
    settings = dict(settings)
    for key, default in (("optimizer", "adam"), ("loss", "auto")):
        if isinstance(settings.get(key), str) and ":" in settings[key]:
            settings[key] = default
    return TrainConfig(**settings)


def _check_builder(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """A net registered by a user's file that is not loaded: say which file to load."""
    from nndl.models.registry import config_class

    kind = str(payload.get("model_config", {}).get("kind"))
    try:
        config_class(kind)
    except ConfigError:
        files = (payload.get("extra") or {}).get("plugins") or ["the file that registers it"]
        raise DataError(
            f"checkpoint {path}: its net {kind!r} is registered by {', '.join(files)}; load it "
            "first (nndl predict --plugin FILE; in Python nndl.plugins.load_file(FILE))"
        ) from None


def _check_shapes(config: Any, state: Any) -> None:
    """Build the net on the ``meta`` device (no memory) and compare its tensors with the file's.

    A small file whose config asks for a huge net is refused here, not after allocating it.
    """
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build_model(config).state_dict().items()}
    if not isinstance(state, dict):
        raise TypeError("state_dict is not a mapping")
    found = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    if found != expected:
        wrong = sorted(set(expected) ^ set(found)) or [
            k for k in expected if expected[k] != found[k]
        ]
        raise RuntimeError(f"its weights do not fit the config ({', '.join(wrong[:3])})")


def _read(path: Path, map_location: str) -> dict[str, Any]:
    check_readable_file(path, "checkpoint", MAX_CHECKPOINT_BYTES)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise DataError(
            f"checkpoint {path}: not a readable nndl checkpoint ({type(exc).__name__})"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"checkpoint {path}: not an nndl checkpoint (expected format {FORMAT})")
    return payload
