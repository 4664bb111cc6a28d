"""What ``nndl train`` is asked to do, checked without building anything (no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndl.errors import ConfigError
from nndl.models.configs import ModelConfig
from nndl.models.registry import create_config, get_spec, list_models
from nndl.training.config import TrainConfig, check_seeds

__all__ = ["TASKS", "TrainJob", "train_config_for"]

TASKS = {"mnist": ("cross_entropy", 0.2), "regression": ("mse", 0.1)}


@dataclass(frozen=True)
class TrainJob:
    """What ``nndl train`` was asked to do."""

    task: str
    arch: str
    train: TrainConfig
    out: Path
    model_overrides: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None
    train_csv: str | None = None
    test_csv: str | None = None
    split_seed: int = 0
    quiet: bool = False
    limit: int | None = None

    def __post_init__(self) -> None:
        check_seeds("training settings", split_seed=self.split_seed)

    def model_config(self) -> ModelConfig:
        """The architecture's config with the overrides, checked for the task."""
        _spec_for(self.task, self.arch)
        return create_config(self.arch, **self.model_overrides)


def train_config_for(task: str, arch: str, **overrides: Any) -> TrainConfig:
    """The registered architecture's training defaults, with ``overrides`` that are not None."""
    spec = _spec_for(task, arch)
    loss, val_fraction = TASKS[task]
    settings: dict[str, Any] = {"loss": loss, "val_fraction": val_fraction, **spec.train_defaults}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**settings)


def _spec_for(task: str, arch: str) -> Any:
    spec = get_spec(arch)
    if spec.task != task:
        known = ", ".join(list_models(task))
        raise ConfigError("architecture", [f"{arch!r} is a {spec.task} net; {task} nets: {known}"])
    return spec
