"""The classical reference for the regression study: a Gaussian process (scikit-learn).

A statistician's first answer to 100 noisy points of a smooth function: an RBF kernel (one
length scale per input) times a constant, plus white noise, hyperparameters by maximum
marginal likelihood with restarts, ``normalize_y=True``. Fitted on the same standardized
training rows as the nets; :func:`gp_reference` reports its MSE in the data's units.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_GP_ROWS", "GaussianProcess", "gp_reference", "length_scales", "noise_variance"]

MAX_GP_ROWS = 5000
"""Exact GP regression costs O(n^3): above this many training rows the reference is skipped."""


@dataclass(frozen=True)
class GaussianProcess:
    """A fitted scikit-learn ``GaussianProcessRegressor`` on standardized inputs."""

    model: Any

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, seed: int = 0) -> GaussianProcess:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        d = x.shape[1]
        kernel = ConstantKernel(1.0) * RBF(length_scale=np.ones(d)) + WhiteKernel(0.1)
        model = GaussianProcessRegressor(
            kernel, normalize_y=True, n_restarts_optimizer=5, random_state=seed
        )
        with warnings.catch_warnings():  # a noise level at its bound (noiseless data) is an answer
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(np.asarray(x, np.float64), np.asarray(y, np.float64).reshape(-1))
        return cls(model)

    def predict(self, x: np.ndarray, return_std: bool = False) -> Any:
        return self.model.predict(np.asarray(x, np.float64), return_std=return_std)

    @property
    def kernel(self) -> str:
        return str(self.model.kernel_)

    @property
    def noise(self) -> float:
        """The fitted white-noise variance, in the units of the targets it was fitted to."""
        return float(self.model.kernel_.k2.noise_level * self.model._y_train_std**2)

    @property
    def length_scales(self) -> np.ndarray:
        """The fitted RBF length scale of each input, in the inputs' units."""
        return np.ravel(self.model.kernel_.k1.k2.length_scale).astype(np.float64)


def _fit_sample(x: np.ndarray, y: np.ndarray, seed: int, *, max_rows: int) -> GaussianProcess:
    """A process fitted to at most ``max_rows`` seeded rows (exact GPs are O(n^3))."""
    rows = np.random.default_rng(seed).permutation(len(x))[:max_rows]
    return GaussianProcess.fit(np.asarray(x)[rows], np.asarray(y)[rows], seed)


def noise_variance(x: np.ndarray, y: np.ndarray, seed: int = 0, *, max_rows: int = 500) -> float:
    """The label noise's variance as a Gaussian process fitted to (at most ``max_rows`` seeded
    rows of) the training data estimates it: the floor no model's validation MSE goes below."""
    return _fit_sample(x, y, seed, max_rows=max_rows).noise


def length_scales(
    x: np.ndarray, y: np.ndarray, seed: int = 0, *, max_rows: int = 500
) -> np.ndarray:
    """The distance along each input over which the function changes, as a Gaussian process
    fitted to (at most ``max_rows`` seeded rows of) the training data estimates it."""
    return _fit_sample(x, y, seed, max_rows=max_rows).length_scales


def gp_reference(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    loss_scale: float = 1.0,
    *,
    seed: int = 0,
) -> tuple[dict[str, Any], GaussianProcess | None]:
    """Table 1's reference row (train and test MSE times ``loss_scale``, the fitted kernel)
    and the fitted process; ``(row with a reason, None)`` for more than MAX_GP_ROWS rows."""
    (tx, ty), (sx, sy) = train, test
    if len(tx) > MAX_GP_ROWS:
        return {"skipped": f"{len(tx)} training rows > {MAX_GP_ROWS} (exact GP is O(n^3))"}, None
    gp = GaussianProcess.fit(tx, ty, seed)

    def mse(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean((gp.predict(x) - np.asarray(y).reshape(-1)) ** 2) * loss_scale)

    row = {"train_loss": mse(tx, ty), "test_loss": mse(sx, sy), "kernel": gp.kernel}
    return row, gp
