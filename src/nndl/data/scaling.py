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

    @classmethod
    def fit_channels(cls, x: np.ndarray) -> Scaling:
        """The scaling of inputs alone: per column of rows ``(n, d)``, per channel of images
        ``(n, c, h, w)``, one for all pixels of ``(n, h, w)`` (target mean 0, std 1)."""
        mean, std = _mean_std(_channel_columns(np.asarray(x)))
        return cls(tuple(mean.tolist()), tuple(std.tolist()), 0.0, 1.0)

    def channels(self, x: np.ndarray) -> np.ndarray:
        """Inputs standardized as :meth:`fit_channels` measured them, float32 arithmetic
        (the estimators' inputs), same shape."""
        x = np.asarray(x, np.float32)
        mean, std = np.asarray(self.input_mean, np.float32), np.asarray(self.input_std, np.float32)
        if x.ndim == 3:
            mean, std = mean[0], std[0]
        elif x.ndim > 3:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            mean, std = mean.reshape(shape), std.reshape(shape)
        out = x - mean
        out /= std
        return out

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


def _channel_columns(x: np.ndarray) -> np.ndarray:
    """Rows as they are; images as one column per channel (all pixels as rows)."""
    if x.ndim <= 2:
        return x.reshape(len(x), -1)
    if x.ndim == 3:
        return x.reshape(-1, 1)
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _mean_std(columns: np.ndarray, rows: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where a column is constant) in float64, two
    passes over blocks of rows: no float64 copy of the whole array (numpy's ``std`` of MNIST's
    60,000 x 784 pixels made one and took 1 s; this takes a fifth of that)."""
    n = len(columns)
    total = np.zeros(columns.shape[1])
    for start in range(0, n, rows):
        total += columns[start : start + rows].sum(0, dtype=np.float64)
    mean = total / n
    squares = np.zeros(columns.shape[1])
    for start in range(0, n, rows):
        squares += np.square(columns[start : start + rows] - mean).sum(0)
    std = np.sqrt(squares / n)
    std[std == 0] = 1.0
    return mean, std


def _std(a: np.ndarray) -> np.ndarray:
    std = a.std(0)
    std[std == 0] = 1.0
    return std
