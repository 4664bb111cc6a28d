"""A net, a search space and a callback of your own, in your own file (no edit to nndl).

nndl train --task regression --arch examples/my_nets.py:WideMLP
nndl regression all --quick --space examples/my_nets.py:WideSpace
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from nndl.models import register_architecture
from nndl.search import Run, SearchSpace
from nndl.training import Callback


@register_architecture(
    "wide-mlp",
    task="regression",
    train_defaults={"lr": 3e-3, "batch_size": 10, "max_epochs": 300, "patience": 50},
)
@dataclass(frozen=True)
class WideMLP:
    """One wide tanh layer; the config is the architecture (checked, saved in checkpoints)."""

    input_size: int = 1
    width: int = 256
    output_size: int = 1

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"width = {self.width}: must be >= 1")

    def for_task(self, input_shape: tuple[int, ...], output_size: int) -> WideMLP:
        """Sized for the task's input columns and outputs."""
        return replace(self, input_size=math.prod(input_shape), output_size=output_size)

    def build(self) -> nn.Module:
        return nn.Sequential(
            nn.Linear(self.input_size, self.width),
            nn.Tanh(),
            nn.Linear(self.width, self.output_size),
        )


class WideSpace(SearchSpace):
    """The width and learning rate of WideMLP, for the regression study."""

    name = "wide"
    study = "regression"
    columns = ("width", "lr")

    def suggest(self, trial: Any) -> Run:
        width = trial.suggest_int("width", 16, 256, log=True)
        return self.run({"width": width, "lr": trial.suggest_float("lr", 1e-3, 1e-2, log=True)})

    def run(self, params: dict[str, Any]) -> Run:
        train = {"lr": float(params["lr"]), "batch_size": 10, "patience": 50}
        return Run(WideMLP(width=int(params["width"])), train, dict(params))


class EveryTenEpochs(Callback):
    """Prints the validation loss every ten epochs (callbacks only observe, or call stop)."""

    def on_epoch_end(self, evolver: Any, log: dict[str, float]) -> None:
        if int(log["epoch"]) % 10 == 0:
            print(f"epoch {int(log['epoch'])}: validation loss {log['val_loss']:.4f}")
