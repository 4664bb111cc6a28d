"""nndl's regression search spaces: smooth nets for a function learned through gaps, and the
same nets with random Fourier features of a scale taken from the data."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import optuna

from nndl.errors import ConfigError, NNDLError, UsageError
from nndl.models.configs import ACTIVATIONS, FCNConfig
from nndl.search.regression_space import value_problems
from nndl.search.spaces import Run, SearchSpace, register_space

__all__ = ["FourierRegressionSpace", "SmoothRegressionSpace"]


@register_space
class SmoothRegressionSpace(SearchSpace):
    """Smooth nets for a function learned through gaps: GELU, SiLU or Tanh, 2-4 layers of one
    width, weight decay and learning rate on log scales, dropout or none (Softplus, the
    worst activation in both runs of bench/regression_choices.py, is left out)."""

    name = "smooth"
    study = "regression"
    plain_columns = ("width", "depth", "activation", "dropout", "lr", "weight_decay", "batch_size")
    optimizer = "adam"  # a subclass may train with "adamw" (decoupled weight decay) instead
    weight_decay = (1e-6, 1e-2)  # the log-scale range sampled
    activations = ("gelu", "silu", "tanh")
    fourier: tuple[float, ...] = ()  # Fourier features' scales to choose from (none: plain nets)

    @property
    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*self.plain_columns, "fourier") if self.fourier else self.plain_columns

    def suggest(self, trial: optuna.Trial) -> Run:
        params = {
            "width": trial.suggest_int("width", 16, 256, log=True),
            "depth": trial.suggest_int("depth", 2, 4),
            "activation": trial.suggest_categorical("activation", self.activations),
            "dropout": trial.suggest_categorical("dropout", [0.0, 0.1]),
            "lr": trial.suggest_float("lr", 3e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", *self.weight_decay, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [10, 20, 40]),
        }
        if self.fourier:
            params["fourier"] = trial.suggest_categorical("fourier", self.fourier)
        return self.run(params)

    def run(self, params: dict[str, Any]) -> Run:
        problems = [p for k in self.columns for p in value_problems(k, params.get(k), ACTIVATIONS)]
        if problems:
            raise ConfigError("params", problems)
        depth, width = int(params["depth"]), int(params["width"])
        dropout = (float(params["dropout"]),) * depth if params["dropout"] else ()
        activation, fourier = str(params["activation"]), float(params.get("fourier", 0))
        config = FCNConfig(1, (width,) * depth, activation, dropout, 1, fourier)
        train = {
            "optimizer": self.optimizer,
            "lr": float(params["lr"]),
            "weight_decay": float(params["weight_decay"]),
            "batch_size": int(params["batch_size"]),
            "patience": 200,
        }
        return Run(config, train, dict(params))


@register_space
class FourierRegressionSpace(SmoothRegressionSpace):
    """The smooth space whose nets all see random Fourier features (``FCNConfig.fourier``) of
    a scale taken from the data: S = 1 / the shortest length scale a Gaussian process fits to
    (at most 500 of) the training rows, the frequency at which the function changes fastest,
    or S / 2, a choice of each trial. The random folds cannot choose a scale from a wide range
    (their validation points lie between close training points, which any scale fits:
    docs/regression_choices.md#fourier-features); the process, fitted by marginal likelihood,
    can. Between S and S / 2 the answer's top configurations may hold both, an ensemble over
    two scales: its error was lower than with S alone on the benchmark
    (docs/regression_choices.md#two-scales). The process's rows include the folds' validation
    rows, so fold losses are a little optimistic, alike for every trial. Weight decay runs
    from 1e-3 to 1e-1: less lets a net of high frequencies swing through a gap."""

    name = "fourier"
    weight_decay = (1e-3, 1e-1)
    max_inputs = 100  # the process fits one length scale per input column

    @property
    def columns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*self.plain_columns, "fourier")

    def prepared(self, x: Any, y: Any, *, seed: int = 0) -> FourierRegressionSpace:
        from nndl.evaluation.gp import length_scales

        x, y = _numbers(x), _numbers(y)
        n = 0 if x is None else len(x)
        width = 0 if x is None or not n else x.size // n
        if not n or y is None or y.size != n or width > self.max_inputs:
            raise ConfigError(
                f"space {self.name!r}",
                [
                    f"{n} rows of {width} numbers and "
                    + ("no target numbers" if y is None else f"{y.size} target numbers")
                    + f": its scale needs one target number per row and at most "
                    f"{self.max_inputs} inputs"
                ],
            )
        space = copy.copy(self)
        scale = 1 / length_scales(x.reshape(n, -1), y.reshape(-1), seed).min()
        space.fourier = tuple(float(f"{s:.3g}") for s in (scale, scale / 2))  # S and S / 2
        return space

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **({"fourier": list(self.fourier)} if self.fourier else {})}

    def suggest(self, trial: optuna.Trial) -> Run:
        if not self.fourier:
            raise UsageError(
                f"space {self.name!r}: its Fourier scales come from the training rows; sample "
                "from its prepared copy: space = space.prepared(x, y)"
            )
        try:
            return super().suggest(trial)
        except ValueError as exc:  # Optuna: the study's earlier trials drew another scale
            if isinstance(exc, NNDLError):
                raise
            raise ConfigError(
                "fourier",
                [
                    f"{' or '.join(map(str, self.fourier))}, the scales of these rows, but the "
                    "study's trials have others: a study of other data or of an older nndl; "
                    "give it another study name or storage"
                ],
            ) from None


def _numbers(values: Any) -> np.ndarray | None:
    """``values`` as float64 (a tensor on any device, a frame, a list); None if not numbers."""
    if values is None:
        return None
    try:
        if hasattr(values, "detach"):
            values = values.detach().cpu().numpy()
        return np.asarray(values, np.float64)
    except (TypeError, ValueError):
        return None
