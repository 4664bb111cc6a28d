"""Torch modules built from validated configs; each keeps its config for checkpoints."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from nndl.errors import ConfigError
from nndl.models.configs import CNNConfig, FCNConfig

__all__ = [
    "CNN",
    "FCN",
    "FourierFeatures",
    "Snake",
    "build_model",
    "config_from_dict",
    "config_to_dict",
    "snake",
]


def snake(x: torch.Tensor) -> torch.Tensor:
    """Snake with frequency 1, ``x + sin(x)^2`` (Ziyin, Hartwig and Ueda, NeurIPS 2020): a
    rising line with a periodic ripple, so a net of it can carry a wave across a stretch
    without data, where tanh, SiLU and GELU nets flatten out."""
    return x + torch.sin(x).square()


class Snake(nn.Module):
    """:func:`snake` as a layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return snake(x)


_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
    "snake": Snake,
}


FOURIER_FEATURES = 32  # frequencies per net: sines and cosines of 32 projections of the inputs


class FourierFeatures(nn.Module):
    """The inputs followed by the sines and cosines of their random projections (Tancik et al.,
    NeurIPS 2020): ``[x, sin(x B), cos(x B)]`` with ``B`` drawn from ``N(0, scale^2)`` when the
    net is built and kept, untrained, in its state. A net of them fits a wave of the data's
    frequencies through a gap as a Gaussian process with an RBF kernel of length ``1 / scale``
    would, where a net of the plain inputs flattens out."""

    frequencies: torch.Tensor

    def __init__(self, inputs: int, scale: float) -> None:
        super().__init__()
        self.register_buffer("frequencies", torch.randn(inputs, FOURIER_FEATURES) * scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return with_fourier_features(x, self.frequencies)


def with_fourier_features(x: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """``[x, sin(x B), cos(x B)]`` on the last axis; batched over leading axes of both."""
    z = x @ frequencies
    return torch.cat([x, torch.sin(z), torch.cos(z)], -1)


class FCN(nn.Module):
    """Fully connected net; ``body`` holds the hidden layers, ``head`` the output layer."""

    def __init__(self, config: FCNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Flatten()]
        width = config.input_size
        if config.fourier:
            layers.append(FourierFeatures(width, config.fourier))
            width += 2 * FOURIER_FEATURES
        act = _ACTIVATIONS[config.activation]
        for i, size in enumerate(config.hidden_sizes):
            layers += [nn.Linear(width, size), act()]
            if config.dropout and config.dropout[i] > 0:
                layers.append(nn.Dropout(config.dropout[i]))
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, config.output_size)

    @property
    def fourier_features(self) -> FourierFeatures | None:
        """The layer of Fourier features of the inputs, where the config asks for one."""
        return next((m for m in self.body if isinstance(m, FourierFeatures)), None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class CNN(nn.Module):
    """Conv stack (``features``), then hidden linear layers (``body``), then ``head``."""

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        act = _ACTIVATIONS[config.activation]
        self.features = self._conv_stack(config, act)
        self.body = self._linear_stack(config, act)
        self.head = nn.Linear(config.linear_sizes[-1], config.num_classes)

    @staticmethod
    def _conv_stack(config: CNNConfig, act: type[nn.Module]) -> nn.Sequential:
        """conv, then batch norm (where asked), the activation, max-pooling (where above 1)."""
        n = len(config.channels)
        pools, norms = config.pools or (1,) * n, config.batch_norm or (False,) * n
        layers: list[nn.Module] = []
        in_ch = config.in_channels
        shapes = zip(
            config.channels, config.kernel_sizes, config.strides, config.paddings, strict=True
        )
        for (ch, k, s, p), pool, norm in zip(shapes, pools, norms, strict=True):
            layers.append(nn.Conv2d(in_ch, ch, k, stride=s, padding=p))
            layers += [nn.BatchNorm2d(ch)] if norm else []
            layers.append(act())
            layers += [nn.MaxPool2d(pool)] if pool > 1 else []
            in_ch = ch
        return nn.Sequential(*layers)

    @staticmethod
    def _linear_stack(config: CNNConfig, act: type[nn.Module]) -> nn.Sequential:
        layers: list[nn.Module] = [nn.Flatten()]
        width = config.flat_features
        for i, size in enumerate(config.linear_sizes):
            if config.dropout and config.dropout[i] > 0:
                layers.append(nn.Dropout(config.dropout[i]))
            layers += [nn.Linear(width, size), act()]
            width = size
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.features(x)))


def build_model(config: Any) -> nn.Module:
    """Build the torch module a config describes (any config type with a registered builder)."""
    from nndl.models.registry import builder

    model = builder(config)(config)
    if getattr(model, "config", None) is None:  # a user's plain nn.Sequential: keep its config
        model.config = config  # for checkpoints (nn.Module stores it as a plain attribute)
    return model


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of any registered config, its ``kind`` included."""
    from nndl.models.registry import builder_kind

    return {**dataclasses.asdict(config), "kind": builder_kind(config)}


def config_from_dict(data: dict[str, Any]) -> Any:
    """Rebuild a config from ``config_to_dict()`` output (the ``kind`` key picks the class)."""
    from nndl.models.registry import config_class

    fields = dict(data)
    kind = fields.pop("kind", None)
    config_type = config_class(str(kind))
    init = {f.name for f in dataclasses.fields(config_type) if f.init}
    unknown = sorted(set(fields) - init)
    if unknown:
        raise ConfigError(f"{kind} config", [f"unknown field(s) {', '.join(unknown)}"])
    try:
        return config_type(**fields)
    except TypeError as exc:
        raise ConfigError(f"{kind} config", [str(exc)]) from exc
