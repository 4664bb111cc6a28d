"""Standardization of regression inputs and targets by the training rows' mean and std.

The nets train on standardized numbers; :class:`Scaling` maps them back, so losses and
predictions are reported in the data's own units (an MSE times ``target_std ** 2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Scaling"]


@dataclass(frozen=True)
class Scaling:
    """Per input column mean and std, and the target's; a column of one value keeps std 1."""

    input_mean: tuple[float, ...]
    input_std: tuple[float, ...]
    target_mean: float
    target_std: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> Scaling:
        """The scaling of training inputs ``x`` ``(n, d)`` and targets ``y`` ``(n, 1)``."""
        x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64).reshape(-1)
        return cls(
            tuple(float(v) for v in x64.mean(0)),
            tuple(float(v) for v in _std(x64)),
            float(y64.mean()),
            float(_std(y64.reshape(-1, 1))[0]),
        )

    @classmethod
    def fit_inputs(cls, x: np.ndarray) -> Scaling:
        """The scaling of inputs ``x`` ``(n, d)`` alone (a classifier's; target mean 0, std 1),
        computed in float32 as :meth:`inputs_float32` applies it."""
        x32 = np.asarray(x, np.float32)
        return cls(
            tuple(float(v) for v in x32.mean(0)), tuple(float(v) for v in _std(x32)), 0.0, 1.0
        )

    @property
    def loss_scale(self) -> float:
        """What turns an MSE in standardized units into the data's units."""
        return self.target_std**2

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """Standardized inputs, float32."""
        mean, std = np.asarray(self.input_mean), np.asarray(self.input_std)
        return ((np.asarray(x, np.float64) - mean) / std).astype(np.float32)

    def inputs_float32(self, x: np.ndarray) -> np.ndarray:
        """Standardized inputs computed in float32 throughout (for :meth:`fit_inputs`)."""
        mean, std = np.asarray(self.input_mean, np.float32), np.asarray(self.input_std, np.float32)
        return (np.asarray(x, np.float32) - mean) / std

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Standardized targets, float32."""
        return ((np.asarray(y, np.float64) - self.target_mean) / self.target_std).astype(np.float32)

    def to_data(self, y: np.ndarray) -> np.ndarray:
        """Standardized targets or predictions in the data's units."""
        return np.asarray(y, np.float64) * self.target_std + self.target_mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_mean": list(self.input_mean),
            "input_std": list(self.input_std),
            "target_mean": self.target_mean,
            "target_std": self.target_std,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaling:
        return cls(
            tuple(d["input_mean"]),
            tuple(d["input_std"]),
            float(d["target_mean"]),
            float(d["target_std"]),
        )


def _std(a: np.ndarray) -> np.ndarray:
    std = a.std(0)
    std[std == 0] = 1.0
    return std
