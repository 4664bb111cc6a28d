"""Named architectures and the builders behind them.

Two small maps: a *builder* per config type (``kind`` -> config class + a function that builds
the ``nn.Module``), so any registered config round-trips through a checkpoint; and a *spec* per
name (``create_model("dcnn", dropout=(0.3, 0.3))``), with the task it is for and its training
defaults. Unknown names list the known ones. A user's own net lives in the user's own file::

    @register_architecture("wide-mlp", task="regression", train_defaults={"lr": 1e-3})
    @dataclass(frozen=True)
    class WideMLP:
        input_size: int = 1
        width: int = 256
        output_size: int = 1

        def build(self) -> nn.Module: ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from nndl.errors import ConfigError
from nndl.models.configs import CNNConfig, FCNConfig, ModelConfig

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "ModelSpec",
    "builder_kind",
    "config_class",
    "config_for",
    "create_config",
    "create_model",
    "get_spec",
    "list_models",
    "register_architecture",
    "register_builder",
    "register_model",
    "train_defaults_for",
]


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture: its config, the task it is for and its training defaults."""

    name: str
    task: str
    config: Any  # a frozen config: FCNConfig, CNNConfig or one registered by a user
    train_defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    task_options: dict[str, Any] = field(default_factory=dict)  # e.g. the PDCNN's noise class
    also_for: tuple[str, ...] = ()  # other tasks the net fits (its config adapts its sizes)

    @property
    def tasks(self) -> tuple[str, ...]:
        """Every task this net is for."""
        return (self.task, *self.also_for)


_REGISTRY: dict[str, ModelSpec] = {}
_BUILDERS: dict[str, tuple[type, Callable[[Any], nn.Module] | str]] = {
    "fcn": (FCNConfig, "nndl.models.nets:FCN"),  # torch is imported only when a net is built
    "cnn": (CNNConfig, "nndl.models.nets:CNN"),
}
C = TypeVar("C", bound=type)


def register_builder(kind: str, config_type: type, build: Callable[[Any], nn.Module]) -> None:
    """Build nets of ``config_type`` with ``build(config)``; checkpoints name them ``kind``."""
    _BUILDERS[kind] = (config_type, build)


def builder_kind(config: Any) -> str:
    """The registered kind of ``config``'s type; a ConfigError when none is registered."""
    for kind, (config_type, _) in _BUILDERS.items():
        if type(config) is config_type:
            return kind
    raise ConfigError(
        "architecture",
        [f"no builder is registered for {type(config).__name__}; use register_architecture"],
    )


def config_class(kind: str) -> type:
    """The config type registered as ``kind`` (a checkpoint's ``builder``)."""
    if kind not in _BUILDERS:
        known = ", ".join(sorted(_BUILDERS))
        raise ConfigError(
            "model config",
            [
                f"builder {kind!r} is not registered (known: {known}); load the file that registers it"
            ],
        )
    return _BUILDERS[kind][0]


def builder(config: Any) -> Callable[[Any], nn.Module]:
    """The function that builds ``config``'s net."""
    build = _BUILDERS[builder_kind(config)][1]
    if isinstance(build, str):
        import importlib

        module, name = build.split(":")
        build = getattr(importlib.import_module(module), name)
    return build


def register_architecture(
    name: str, task: str, train_defaults: dict[str, Any] | None = None, *, description: str = ""
) -> Callable[[C], C]:
    """Class decorator: a frozen config dataclass with a ``build()`` method becomes a registered
    architecture ``name`` (its defaults are the config), usable in ``train``, search and checkpoints.
    """

    def register(config_type: C) -> C:
        register_builder(name, config_type, lambda config: config.build())
        register_model(
            ModelSpec(name, task, config_type(), dict(train_defaults or {}), description)
        )
        return config_type

    return register


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry under ``spec.name`` (a later one replaces an earlier)."""
    _REGISTRY[spec.name] = spec
    return spec


def list_models(task: str | None = None) -> list[str]:
    """Registered names, optionally only those of a task family (``images``, ``regression``,
    ``tabular``)."""
    return sorted(n for n, s in _REGISTRY.items() if task is None or task in s.tasks)


def get_spec(name: str) -> ModelSpec:
    """The registered spec called ``name``; unknown names raise a ConfigError listing the known."""
    if name not in _REGISTRY:
        known = ", ".join(list_models())
        raise ConfigError("architecture", [f"unknown architecture {name!r}; known: {known}"])
    return _REGISTRY[name]


def create_config(name: str, **overrides: Any) -> Any:
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
    return builder(config := create_config(name, **overrides))(config)


def config_for(arch: Any, options: dict[str, Any] | None = None) -> Any:
    """The config ``arch`` names: a registered name, ``FILE.py:Class`` (a registered config
    class in a user's file) or a config object, with the fields in ``options`` replaced."""
    from nndl.plugins import is_reference, load_object

    options = dict(options or {})
    if isinstance(arch, str) and is_reference(arch):
        arch = load_object(arch, "arch")
    if isinstance(arch, type):
        arch = arch()
    if isinstance(arch, str):
        return create_config(arch, **options)
    if not dataclasses.is_dataclass(arch):
        raise ConfigError(
            "arch",
            [f"{arch!r}: must be a registered name (list_models()), FILE.py:Class or a config"],
        )
    valid = {f.name for f in dataclasses.fields(arch) if f.init}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(
            "arch_options",
            [f"unknown field(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"],
        )
    return dataclasses.replace(arch, **options)  # type: ignore[type-var]


def train_defaults_for(arch: Any) -> dict[str, Any]:
    """The training defaults of a registered architecture's name (none for anything else)."""
    if isinstance(arch, str) and ":" not in arch:
        return dict(get_spec(arch).train_defaults)
    return {}


_CNN_TRAIN = {"lr": 1e-3, "weight_decay": 1e-4, "batch_size": 256, "patience": 10}
_CNN = CNNConfig()
_DCNN = dataclasses.replace(_CNN, dropout=(0.5, 0.5))
_REPORT_SPECS: list[tuple[str, str, ModelConfig, dict[str, Any], str]] = [
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
        "images",
        FCNConfig(784, (128, 16), "relu", (), 10),
        {"lr": 1e-3, "batch_size": 256, "patience": 10},
        "Report 3.1: FCN 128-16, ReLU",
    ),
    (
        "cnn",
        "images",
        _CNN,
        _CNN_TRAIN,
        "Report 3.1: conv 8/16/32, kernel 3, stride 2, linear 128/16",
    ),
    (
        "dcnn",
        "images",
        _DCNN,
        _CNN_TRAIN,
        "Report 3.1: the CNN with dropout 0.5 before both linear layers",
    ),
    (
        "pdcnn",
        "images",
        dataclasses.replace(_DCNN, num_classes=11),
        _CNN_TRAIN,
        "Report 3.1: the DCNN with an 11th 'not a digit' class",
    ),
]


def _register_report_models() -> None:
    for name, task, config, train, text in _REPORT_SPECS:
        register_model(ModelSpec(name, task, config, train, text, also_for=_ALSO.get(name, ())))
    # Report 3.1 / FACTS: the PDCNN's training images are replaced by Perlin noise at p = 0.09,
    # labelled as an extra "none of these" class: an option of the image task it trains on.
    pdcnn = get_spec("pdcnn")
    register_model(dataclasses.replace(pdcnn, task_options={"noise_class_rate": 0.09}))
    mlp = FCNConfig(1, (64, 32), "relu", (), 1)  # sizes adapt to the task's columns and classes
    register_model(
        ModelSpec(
            "mlp",
            "tabular",
            mlp,
            {"lr": 1e-3, "batch_size": 32, "max_epochs": 300, "patience": 30},
            "a 64-32 ReLU net for tabular classification",
        )
    )


_ALSO = {"fcn": ("tabular",)}


_register_report_models()
