"""NetRegressor: a net (or an ensemble of nets) as a scikit-learn regressor."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin

from nndl.data.scaling import Scaling
from nndl.estimators._base import NetEstimator, from_tensor

__all__ = ["NetRegressor"]


class NetRegressor(RegressorMixin, NetEstimator):
    """A net trained on arrays, as a scikit-learn regressor.

    Inputs and the target are standardized on the training rows (``standardize=False``: as
    they are); ``val_fraction`` of the rows is held out for early stopping, which restores
    the best epoch; predictions come back in the target's units. ``n_members > 1`` trains
    that many nets with seeds ``random_state + i`` and predicts their mean
    (``predict(X, return_std=True)`` adds their spread).

    Args:
        arch: a registered architecture (``"mlp"``, ``"fcn"``, ``"cnn"``; see
            :func:`nndl.list_models`), a config object (:class:`nndl.FCNConfig`, ...) or
            ``"FILE.py:Class"``. Its input and output sizes follow the data.
        arch_options: fields of the architecture's config to override
            (``{"hidden_sizes": (64, 64), "activation": "tanh"}``); ``set_params`` and the
            searches also take them one by one as ``arch__hidden_sizes``.
        max_epochs: the most epochs; None (as for the four below) takes the
            architecture's default (``"mlp"``: 300 epochs, patience 30, lr 1e-3, batch 32).
        patience: epochs without a better validation loss before training stops; 0 turns
            early stopping off.
        lr: the learning rate.
        weight_decay: the optimizer's weight decay.
        batch_size: rows per step.
        optimizer: as in :class:`nndl.TrainConfig`: a ``torch.optim`` name or a callable.
        loss: as in :class:`nndl.TrainConfig`: ``"auto"``, a ``torch.nn`` loss name or a
            callable.
        lr_schedule: ``"constant"``, ``"step"``, ``"multistep"``, ``"cosine"`` or
            ``"plateau"`` (as in :class:`nndl.TrainConfig`).
        lr_step: the epochs between steps of the ``"step"`` schedule, or without a better
            validation loss before ``"plateau"`` decays.
        lr_factor: the factor of the ``"step"``, ``"multistep"`` and ``"plateau"`` schedules.
        lr_milestones: the epochs after which ``"multistep"`` decays (``(30, 60)``).
        monitor: what early stopping watches and whose best epoch the net keeps:
            ``"val_loss"``, or ``"val_accuracy"`` (the classifier only).
        momentum: SGD's momentum.
        val_fraction: rows held out for early stopping, in [0, 1); 0 trains on every row
            for ``max_epochs``.
        standardize: standardize the inputs and the target on the training rows.
        n_members: nets in the ensemble (their mean is the prediction).
        random_state: an int for the same numbers every time; None for fresh ones. The
            global generators of torch, numpy and Python are never touched.
        device: ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto``.
        verbose: 1 shows a progress bar per net.

    Attributes:
        history_: one dict per epoch of the first net (``train_loss``, ``val_loss``, ...).
        nets_: the trained ``torch.nn.Module``s (on the CPU, in eval mode).
        best_epoch_: the epoch whose weights the first net kept.
        n_features_in_: as scikit-learn's.
        feature_names_in_: as scikit-learn's (only for inputs with column names).

    Example:
        >>> reg = NetRegressor(arch_options={"hidden_sizes": (64, 64)}, random_state=0)
        >>> reg.fit(X, y).predict(X_new)
    """

    def fit(self, X: Any, y: Any) -> NetRegressor:
        """Train on inputs ``X`` ``(n, features)`` (or images) and targets ``y`` ``(n,)`` or
        ``(n, outputs)``; returns ``self``."""
        from sklearn.utils.validation import validate_data

        self._check_params()
        X, y = validate_data(
            self,
            from_tensor(X),
            from_tensor(y),
            dtype=(np.float32, np.float64),
            allow_nd=True,
            multi_output=True,
            y_numeric=True,
        )
        X = X.astype(np.float32, copy=False)
        y = np.asarray(y, np.float64)
        self._fit_scaling(X)
        self.target_ndim_ = y.ndim
        columns = y.reshape(len(y), -1)
        self.target_scaling_ = Scaling.fit(columns, np.zeros(1)) if self.standardize else None
        scaled = columns if self.target_scaling_ is None else self.target_scaling_.inputs(columns)
        target = torch.from_numpy(np.ascontiguousarray(scaled, np.float32))
        self._train_nets(X, target, columns.shape[1])
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predictions in the target's units, ``(n,)`` for a 1-D target; with ``return_std``
        also the members' standard deviation (0 for one net)."""
        outs = self._outputs(X)
        if self.target_scaling_ is not None:
            s = self.target_scaling_
            outs = outs * np.asarray(s.input_std) + np.asarray(s.input_mean)
        mean, std = outs.mean(0), outs.std(0)
        if self.target_ndim_ == 1:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
