"""A net's summary: per layer its output shape, parameters and multiply-adds for one sample.

Multiply-adds (MACs) count the products of a layer's weights with its inputs, as the usual
model-summary tools do: a linear layer ``in x out``, a convolution ``out_h x out_w x
out_channels x in_channels / groups x kernel_h x kernel_w``; activations, dropout, pooling
and reshapes count 0. One forward pass of a zero sample on the CPU finds the shapes, so any
``nn.Module`` works, whatever its layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["LayerSummary", "ModelSummary", "input_shape_of", "summarize"]


@dataclass(frozen=True)
class LayerSummary:
    name: str
    kind: str
    output_shape: tuple[int, ...]  # for one sample, without the batch dimension
    params: int
    macs: int


@dataclass(frozen=True)
class ModelSummary:
    input_shape: tuple[int, ...]
    layers: list[LayerSummary]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "params": self.params,
            "macs": self.macs,
            "layers": [
                {**asdict(layer), "output_shape": list(layer.output_shape)} for layer in self.layers
            ],
        }

    def table(self) -> str:
        """A Markdown table, one row per layer, and the totals."""
        lines = [
            "| layer | type | output shape | parameters | multiply-adds |",
            "|---|---|---|---|---|",
        ]
        lines.append(f"| input | - | {_shape(self.input_shape)} | 0 | 0 |")
        for layer in self.layers:
            lines.append(
                f"| {layer.name} | {layer.kind} | {_shape(layer.output_shape)} | {layer.params:,} | {layer.macs:,} |"
            )
        lines.append(f"| total | | | {self.params:,} | {self.macs:,} |")
        return "\n".join(lines)


def _shape(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features * math.prod(out.shape[1:-1])
    if isinstance(module, nn.modules.conv._ConvNd):
        per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
        return out[0].numel() * per_output
    return 0


@torch.no_grad()
def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> ModelSummary:
    """The summary of ``model`` for one sample of ``input_shape`` (without the batch)."""
    rows: list[LayerSummary] = []
    hooks = []
    for name, module in model.named_modules():
        if list(module.children()):
            continue  # containers: their leaves are counted

        def hook(mod: nn.Module, _inputs: Any, out: Any, name: str = name) -> None:
            if isinstance(out, torch.Tensor):
                params = sum(p.numel() for p in mod.parameters(recurse=False))
                rows.append(
                    LayerSummary(
                        name, type(mod).__name__, tuple(out.shape[1:]), params, _macs(mod, out)
                    )
                )

        hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        model(torch.zeros((1, *input_shape), device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return ModelSummary(tuple(input_shape), rows)


def input_shape_of(config: Any) -> tuple[int, ...]:
    """One sample's shape for the net ``config`` describes (its ``input_shape`` when it has one)."""
    from nndl.errors import ConfigError
    from nndl.models.configs import CNNConfig

    if hasattr(config, "input_shape"):
        return tuple(config.input_shape)
    if isinstance(config, CNNConfig):
        return (config.in_channels, config.input_size, config.input_size)
    if isinstance(getattr(config, "input_size", None), int):
        return (config.input_size,)
    raise ConfigError(
        "summary",
        [f"{type(config).__name__} does not say its input: give --input-shape, e.g. 3,32,32"],
    )
