"""The report's random search space for the regression net (section 2.2).

Four hidden layers, dropout after the 2nd and 3rd, Adam; every choice is one of the lists
below, sampled uniformly (Optuna's RandomSampler over categorical choices).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from nndl.errors import ConfigError
from nndl.models.configs import FCNConfig
from nndl.search.spaces import Run, SearchSpace, register_space
from nndl.training.config import TrainConfig

__all__ = ["SPACE", "RegressionParams", "ReportRegressionSpace", "suggest_regression"]

NEURONS = [8, 16, 32, 64, 128, 256]
DROPOUTS = [0.0, 0.15, 0.35, 0.5]
SPACE: dict[str, list[Any]] = {
    "Nh1": NEURONS,
    "Nh2": NEURONS,
    "Nh3": NEURONS,
    "Nh4": NEURONS,
    "activation_function": ["Tanh", "ReLU"],
    "dropout_prob_2": DROPOUTS,
    "dropout_prob_3": DROPOUTS,
    "lr": [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2],
    "weight_decay": [0.0, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3],
    "patience": [100, 200, 300, 400],
    "train_batch_size": [20, 30, 40, 50],
}
_INT_KEYS = ("Nh1", "Nh2", "Nh3", "Nh4", "patience", "train_batch_size")


@dataclass(frozen=True)
class RegressionParams:
    """One point of the space, with the report's names (``dropout_prob_1/4`` are always 0)."""

    Nh1: int
    Nh2: int
    Nh3: int
    Nh4: int
    activation_function: str
    dropout_prob_2: float
    dropout_prob_3: float
    lr: float
    weight_decay: float
    patience: int
    train_batch_size: int

    def model_config(self) -> FCNConfig:
        """The 1-input, 1-output net of these parameters."""
        return FCNConfig(
            input_size=1,
            hidden_sizes=(self.Nh1, self.Nh2, self.Nh3, self.Nh4),
            activation=self.activation_function.lower(),
            dropout=(0.0, self.dropout_prob_2, self.dropout_prob_3, 0.0),
            output_size=1,
        )

    def train_config(self, max_epochs: int, seed: int = 0, device: str = "cpu") -> TrainConfig:
        """Adam with MSE and early stopping, as the search trains every fold."""
        return TrainConfig(
            optimizer="adam",
            lr=self.lr,
            weight_decay=self.weight_decay,
            loss="mse",
            batch_size=self.train_batch_size,
            max_epochs=max_epochs,
            patience=self.patience,
            seed=seed,
            device=device,
        )

    def as_run(self) -> Run:
        """The run description these parameters make (what the search and the folds train)."""
        return ReportRegressionSpace._run(self)

    def to_dict(self) -> dict[str, Any]:
        """The report's columns, ``dropout_prob_1`` to ``_4`` included."""
        d: dict[str, Any] = {k: getattr(self, k) for k in SPACE}
        return {**d, "dropout_prob_1": 0.0, "dropout_prob_4": 0.0}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "params") -> RegressionParams:
        """Validate a dict (e.g. a ``--params`` JSON); every problem named in one error."""
        extra = {"dropout_prob_1", "dropout_prob_4"}
        problems = [f"missing key {k!r}" for k in SPACE if k not in data]
        problems += [f"unknown key {k!r}" for k in data if k not in SPACE and k not in extra]
        problems += [p for k in SPACE if k in data for p in value_problems(k, data[k])]
        problems += [
            f"{k} = {data[k]!r}: must be 0" for k in extra if data.get(k, 0) not in (0, 0.0)
        ]
        if problems:
            raise ConfigError(source, [*problems, f"valid keys: {', '.join(SPACE)}"])
        values: dict[str, Any] = {k: (int(data[k]) if k in _INT_KEYS else data[k]) for k in SPACE}
        return cls(**values)


MAX_WIDTH = 65536  # units in one layer: a net of 4 such layers fills ~50 GB
MAX_COUNT = 10**6  # batch size, patience


def _whole(top: int) -> tuple[str, Callable[[float], bool]]:
    return f"an integer in [1, {top}]", lambda v: 1 <= v <= top and float(v).is_integer()


_FRACTION = ("in [0, 1)", lambda v: 0 <= v < 1)
_RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "dropout_prob_2": _FRACTION,
    "dropout_prob_3": _FRACTION,
    "dropout": _FRACTION,
    "lr": ("in (0, 10]", lambda v: 0 < v <= 10),
    "weight_decay": (">= 0", lambda v: v >= 0),
    "fourier": (">= 0", lambda v: v >= 0),
    "depth": _whole(16),
    "width": _whole(MAX_WIDTH),
    **{f"Nh{i}": _whole(MAX_WIDTH) for i in range(1, 5)},
}


def value_problems(
    key: str, value: Any, activations: tuple[str, ...] = ("Tanh", "ReLU", "Sigmoid")
) -> list[str]:
    """What is wrong with one parameter's value (nothing: an empty list)."""
    if key.startswith("activation"):
        if value in activations:
            return []
        return [f"{key} = {value!r}: must be one of {', '.join(activations)}"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [f"{key} = {value!r}: must be a number"]
    valid, test = _RANGES.get(key, _whole(MAX_COUNT))
    return [] if test(value) else [f"{key} = {value!r}: must be {valid}"]


def suggest_regression(trial: optuna.Trial) -> RegressionParams:
    """Sample one point of :data:`SPACE`."""
    return RegressionParams(**{k: trial.suggest_categorical(k, v) for k, v in SPACE.items()})


@register_space
class ReportRegressionSpace(SearchSpace):
    """The report's regression space (section 2.2): four layers, dropout, Adam, batch, patience."""

    name = "report"
    study = "regression"
    columns = (
        *("Nh1", "Nh2", "Nh3", "Nh4", "activation_function"),
        *("dropout_prob_1", "dropout_prob_2", "dropout_prob_3", "dropout_prob_4"),
        *("lr", "weight_decay", "train_batch_size", "patience"),
    )

    def suggest(self, trial: optuna.Trial) -> Run:
        return self._run(suggest_regression(trial))

    def run(self, params: dict[str, Any]) -> Run:
        return self._run(RegressionParams.from_dict(params))

    def from_params(self, params: dict[str, Any], source: str = "params") -> Run:
        return self._run(RegressionParams.from_dict(params, source))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **SPACE}

    def csv_row(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "dropout_prob_1": 0.0, "dropout_prob_4": 0.0}

    @staticmethod
    def _run(p: RegressionParams) -> Run:
        train = {
            "lr": p.lr,
            "weight_decay": p.weight_decay,
            "batch_size": p.train_batch_size,
            "patience": p.patience,
        }
        return Run(p.model_config(), train, p.to_dict())
