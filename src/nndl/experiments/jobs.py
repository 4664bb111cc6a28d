"""What ``nndl train`` is asked to do, checked without building anything (no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nndl.errors import ConfigError, UsageError
from nndl.models.registry import create_config, get_spec, list_models
from nndl.plugins import is_reference, load_object
from nndl.tasks.base import Task
from nndl.training.config import TrainConfig, check_seeds

__all__ = ["TrainJob", "resolve_arch", "task_for_arch", "train_config_for"]


@dataclass(frozen=True)
class TrainJob:
    """What ``nndl train`` was asked to do: a task, a registered net, its training settings."""

    task: Task
    arch: str
    train: TrainConfig
    out: Path
    model_overrides: dict[str, Any] = field(default_factory=dict)
    split_seed: int = 0
    quiet: bool = False
    limit: int | None = None
    plugins: tuple[str, ...] = ()  # the user's files that register the net or the task

    def __post_init__(self) -> None:
        check_seeds("training settings", split_seed=self.split_seed)

    def model_config(self) -> Any:
        """The architecture's config with the overrides, sized for the task's inputs and outputs."""
        _spec_for(self.task, self.arch)
        config = create_config(self.arch, **self.model_overrides)
        if hasattr(config, "for_task"):
            config = config.for_task(*self.task.shapes())
        return config


def resolve_arch(value: str) -> str:
    """A registered name, or ``FILE.py:NAME`` whose file registers ``NAME`` (a name or a class)."""
    if not is_reference(value):
        get_spec(value)
        return value
    obj = load_object(value, "--arch")
    name = value.rpartition(":")[2]
    for known in list_models():
        if type(get_spec(known).config) is obj or known == name:
            return known
    raise UsageError(
        f"--arch {value}: {name} is not a registered architecture (decorate its config class "
        "with @nndl.models.register_architecture)"
    )


def task_for_arch(task: Task, arch: str) -> Task:
    """The task with the options the architecture needs (the PDCNN's extra noise class)."""
    options = get_spec(arch).task_options
    return task.with_options(**options) if options else task


def train_config_for(task: Task, arch: str, **overrides: Any) -> TrainConfig:
    """The registered architecture's training defaults, with ``overrides`` that are not None."""
    spec = _spec_for(task, arch)
    settings: dict[str, Any] = {"loss": task.loss, "val_fraction": task.val_fraction}
    settings.update(spec.train_defaults)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**settings)


def _spec_for(task: Task, arch: str) -> Any:
    spec = get_spec(arch)
    if task.family and task.family not in spec.tasks:
        known = ", ".join(list_models(task.family))
        raise ConfigError(
            "architecture", [f"{arch!r} is a net for {spec.task} tasks; {task.name} nets: {known}"]
        )
    return spec
