"""Named architectures of the report, with the training settings the report used for them.

``create_model("dcnn", dropout=(0.3, 0.3))`` builds a net; unknown names list the known ones.
Register your own with :func:`register_model`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nndl.errors import ConfigError
from nndl.models.configs import CNNConfig, FCNConfig, ModelConfig

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "ModelSpec",
    "create_config",
    "create_model",
    "get_spec",
    "list_models",
    "register_model",
]


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture: its config, the task it is for and its training defaults."""

    name: str
    task: str
    config: ModelConfig
    train_defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    noise_probability: float = 0.0  # share of training samples replaced by "not a digit" noise


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry under ``spec.name`` (a later one replaces an earlier)."""
    _REGISTRY[spec.name] = spec
    return spec


def list_models(task: str | None = None) -> list[str]:
    """Registered names, optionally only those for ``task`` (``mnist`` or ``regression``)."""
    return sorted(n for n, s in _REGISTRY.items() if task is None or s.task == task)


def get_spec(name: str) -> ModelSpec:
    """The registered spec called ``name``; unknown names raise a ConfigError listing the known."""
    if name not in _REGISTRY:
        known = ", ".join(list_models())
        raise ConfigError("architecture", [f"unknown architecture {name!r}; known: {known}"])
    return _REGISTRY[name]


def create_config(name: str, **overrides: Any) -> ModelConfig:
    """The config of ``name`` with ``overrides`` applied (and validated again)."""
    config = get_spec(name).config
    valid = {f.name for f in dataclasses.fields(config) if f.init}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ConfigError(
            f"{name} config",
            [f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"],
        )
    return dataclasses.replace(config, **overrides)


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build the net registered as ``name`` with ``overrides`` applied to its config."""
    from nndl.models.nets import build_model

    return build_model(create_config(name, **overrides))


def _register_report_models() -> None:
    cnn_train = {"lr": 1e-3, "weight_decay": 1e-4, "batch_size": 256, "patience": 10}
    cnn = CNNConfig()
    dcnn = dataclasses.replace(cnn, dropout=(0.5, 0.5))
    specs: list[tuple[str, str, ModelConfig, dict[str, Any], str]] = [
        (
            "reg-basic",
            "regression",
            FCNConfig(1, (128, 128), "sigmoid", (), 1),
            {
                "lr": 1e-3,
                "batch_size": 10,
                "max_epochs": 2000,
                "patience": None,
                "val_fraction": 0.1,
            },
            "Report 2.1: 2x128 Sigmoid, Adam lr 1e-3, batch 10, 2000 epochs",
        ),
        (
            "fcn",
            "mnist",
            FCNConfig(784, (128, 16), "relu", (), 10),
            {"lr": 1e-3, "batch_size": 256, "patience": 10},
            "Report 3.1: FCN 128-16, ReLU",
        ),
        (
            "cnn",
            "mnist",
            cnn,
            cnn_train,
            "Report 3.1: conv 8/16/32, kernel 3, stride 2, linear 128/16",
        ),
        (
            "dcnn",
            "mnist",
            dcnn,
            cnn_train,
            "Report 3.1: the CNN with dropout 0.5 before both linear layers",
        ),
        (
            "pdcnn",
            "mnist",
            dataclasses.replace(dcnn, num_classes=11),
            cnn_train,
            "Report 3.1: the DCNN with an 11th 'not a digit' class",
        ),
    ]
    for name, task, config, train, text in specs:
        noise = 0.09 if name == "pdcnn" else 0.0  # report 3.1 / FACTS: Perlin noise, p = 0.09
        register_model(ModelSpec(name, task, config, train, text, noise))


_register_report_models()
