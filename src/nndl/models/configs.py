"""Frozen, validated architecture configs.

Every config checks itself in ``__post_init__``: all problems are collected in one pass and
raised as one :class:`~nndl.errors.ConfigError` that names each field and its valid range.
An invalid architecture never reaches torch.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, SupportsIndex

from nndl.errors import ConfigError

__all__ = ["ACTIVATIONS", "CNNConfig", "FCNConfig", "ModelConfig", "conv_output_size"]

ACTIVATIONS = ("sigmoid", "relu", "tanh", "silu", "gelu", "softplus", "snake")


def _as_tuple(obj: object, name: str, cast: type) -> None:
    """Freeze a list-like field into a tuple of ``cast`` (JSON gives lists)."""
    value = getattr(obj, name)
    if isinstance(value, (int, float, str)):
        value = (value,)
    convert = _exact_int if cast is int else cast
    try:
        object.__setattr__(obj, name, tuple(convert(v) for v in value))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            type(obj).__name__, [f"{name}: {value!r} is not a list of {cast.__name__}"]
        ) from exc


def _exact_int(value: object) -> int:
    """An int, or an integer type such as numpy's; 2.5, "8" and True are refused, not rounded."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a size")
    return operator.index(value)  # type: ignore[arg-type]


def _check_positive(problems: list[str], name: str, values: tuple[int, ...]) -> None:
    for i, v in enumerate(values):
        if not isinstance(v, SupportsIndex) or v < 1:  # ints (numpy too), not 2.5 or "28"
            problems.append(f"{name}[{i}] = {v!r}: must be an integer >= 1")


def _check_dropout(problems: list[str], values: tuple[float, ...], expected: int) -> None:
    if values and len(values) != expected:
        problems.append(f"dropout: {len(values)} values given, expected {expected} (or none)")
    for i, p in enumerate(values):
        if not 0.0 <= p < 1.0:
            problems.append(f"dropout[{i}] = {p}: must be in [0, 1)")


def _check_activation(problems: list[str], activation: str) -> None:
    if activation not in ACTIVATIONS:
        problems.append(f"activation {activation!r}: must be one of {', '.join(ACTIVATIONS)}")


def _raise_if(problems: list[str], name: str) -> None:
    if problems:
        raise ConfigError(name, problems)


@dataclass(frozen=True)
class FCNConfig:
    """A fully connected net: ``input_size -> hidden_sizes... -> output_size``.

    Args:
        input_size: number of input features (inputs are flattened, so 784 for MNIST).
        hidden_sizes: neurons of each hidden layer.
        activation: ``sigmoid``, ``relu``, ``tanh``, ``silu``, ``gelu``, ``softplus`` or
            ``snake`` (:func:`nndl.models.nets.snake`), after every hidden layer.
        dropout: probability of a dropout layer after each hidden layer (empty: none).
        output_size: outputs (1 for regression, the number of classes for classification).
        fourier: the frequency scale of random Fourier features of the inputs, fed to the first
            layer beside them (:class:`nndl.models.nets.FourierFeatures`); 0: none.
    """

    input_size: int = 1
    hidden_sizes: tuple[int, ...] = (128, 128)
    activation: str = "sigmoid"
    dropout: tuple[float, ...] = ()
    output_size: int = 1
    fourier: float = 0.0
    kind: Literal["fcn"] = field(default="fcn", init=False)

    def __post_init__(self) -> None:
        _as_tuple(self, "hidden_sizes", int)
        _as_tuple(self, "dropout", float)
        problems: list[str] = []
        _check_positive(problems, "input_size", (self.input_size,))
        _check_positive(problems, "output_size", (self.output_size,))
        if not self.hidden_sizes:
            problems.append("hidden_sizes: at least one hidden layer is needed")
        _check_positive(problems, "hidden_sizes", self.hidden_sizes)
        _check_activation(problems, self.activation)
        _check_dropout(problems, self.dropout, len(self.hidden_sizes))
        real = isinstance(self.fourier, numbers.Real) and not isinstance(self.fourier, bool)
        if real and 0 <= self.fourier < math.inf:
            object.__setattr__(self, "fourier", float(self.fourier))
        else:
            problems.append(f"fourier = {self.fourier!r}: must be a number >= 0 (0: none)")
        _raise_if(problems, "FCNConfig")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``config_from_dict`` turns back into this config."""
        return asdict(self)

    def for_task(self, input_shape: tuple[int, ...], output_size: int) -> FCNConfig:
        """This net with the task's input features (flattened) and outputs."""
        return replace(self, input_size=math.prod(input_shape), output_size=output_size)


def conv_output_size(size: int, kernel: int, stride: int, *, padding: int) -> int:
    """Side of a square conv output; below 1 when the kernel does not fit."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class CNNConfig:
    """A convolutional net: conv layers with ReLU, then linear layers, then the classes.

    Conv layer ``j`` has ``channels[j]`` output channels, a ``kernel_sizes[j]`` square kernel,
    ``strides[j]`` and ``paddings[j]``; then batch norm where ``batch_norm[j]``, the
    activation, and a ``pools[j]`` x ``pools[j]`` max-pooling where it is above 1 (empty
    ``batch_norm`` and ``pools``: none, the report's nets). Dropout ``dropout[i]`` comes before
    hidden linear layer ``i`` (the report's DCNN: 0.5 before both).

    Args:
        channels, kernel_sizes, strides, paddings: one entry per conv layer.
        pools, batch_norm: one entry per conv layer, or empty for none.
        linear_sizes: neurons of the hidden linear layers after the conv stack.
        dropout: one probability per hidden linear layer (empty: no dropout).
        num_classes: outputs (10 digits, 11 with the "not a digit" class).
        in_channels, input_size: the input images, ``in_channels x input_size x input_size``.
        activation: after every conv and hidden linear layer.
    """

    channels: tuple[int, ...] = (8, 16, 32)
    kernel_sizes: tuple[int, ...] = (3, 3, 3)
    strides: tuple[int, ...] = (2, 2, 2)
    paddings: tuple[int, ...] = (1, 1, 0)
    linear_sizes: tuple[int, ...] = (128, 16)
    dropout: tuple[float, ...] = ()
    num_classes: int = 10
    in_channels: int = 1
    input_size: int = 28
    activation: str = "relu"
    pools: tuple[int, ...] = ()
    batch_norm: tuple[bool, ...] = ()
    kind: Literal["cnn"] = field(default="cnn", init=False)

    def __post_init__(self) -> None:
        for name in ("channels", "kernel_sizes", "strides", "paddings", "linear_sizes", "pools"):
            _as_tuple(self, name, int)
        _as_tuple(self, "dropout", float)
        _as_tuple(self, "batch_norm", bool)
        problems = self._layer_problems()
        _raise_if(problems, "CNNConfig")

    def _layer_problems(self) -> list[str]:
        problems: list[str] = []
        n = len(self.channels)
        if n == 0:
            problems.append("channels: at least one conv layer is needed")
        optional = [name for name in ("pools", "batch_norm") if getattr(self, name)]
        for name in ("kernel_sizes", "strides", "paddings", *optional):
            if len(getattr(self, name)) != n:
                problems.append(
                    f"{name}: {len(getattr(self, name))} values, expected {n} (one per conv layer)"
                )
        for name in ("channels", "kernel_sizes", "strides", "linear_sizes", "pools"):
            _check_positive(problems, name, getattr(self, name))
        problems += [
            f"paddings[{i}] = {p}: must be >= 0" for i, p in enumerate(self.paddings) if p < 0
        ]
        _check_positive(problems, "num_classes", (self.num_classes,))
        _check_positive(problems, "in_channels", (self.in_channels,))
        _check_positive(problems, "input_size", (self.input_size,))
        _check_dropout(problems, self.dropout, len(self.linear_sizes))
        _check_activation(problems, self.activation)
        if not problems:
            problems += self._geometry_problems()
        return problems

    def _geometry_problems(self) -> list[str]:
        size = self.input_size
        pools = self.pools or (1,) * len(self.channels)
        layers = zip(self.kernel_sizes, self.strides, self.paddings, pools, strict=True)
        for j, (k, s, p, pool) in enumerate(layers, 1):
            if size + 2 * p < k:
                return [
                    f"conv layer {j}: input {size}x{size} is smaller than kernel {k} "
                    f"with padding {p} (kernel must be <= {size + 2 * p})"
                ]
            size = conv_output_size(size, k, s, padding=p)
            if size < pool:
                return [f"conv layer {j}: its {size}x{size} output is smaller than pool {pool}"]
            size //= pool
        return []

    def feature_sizes(self) -> list[int]:
        """Side of the square feature map after each conv layer and its pooling (input first)."""
        sizes = [self.input_size]
        pools = self.pools or (1,) * len(self.channels)
        layers = zip(self.kernel_sizes, self.strides, self.paddings, pools, strict=True)
        for k, s, p, pool in layers:
            sizes.append(conv_output_size(sizes[-1], k, s, padding=p) // pool)
        return sizes

    @property
    def flat_features(self) -> int:
        """Number of features entering the first linear layer."""
        return self.channels[-1] * self.feature_sizes()[-1] ** 2

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``config_from_dict`` turns back into this config."""
        return asdict(self)

    def for_task(self, input_shape: tuple[int, ...], output_size: int) -> CNNConfig:
        """This net for the task's ``(channels, side, side)`` images and classes."""
        if len(input_shape) != 3 or input_shape[1] != input_shape[2]:
            raise ConfigError("CNNConfig", [f"input shape {input_shape}: needs square images"])
        channels, side = input_shape[0], input_shape[1]
        return replace(self, in_channels=channels, input_size=side, num_classes=output_size)


ModelConfig = FCNConfig | CNNConfig
