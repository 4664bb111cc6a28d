"""What NetRegressor and NetClassifier share: parameters, the net, the scaling, one training run.

scikit-learn's conventions: ``__init__`` stores its arguments as given; ``fit`` validates them
(one ConfigError naming each bad one), converts the inputs once (numpy, lists, tensors,
pandas; any numeric dtype), and sets the fitted state, whose names end in ``_``.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from nndl.data.scaling import Scaling
from nndl.data.tensors import TensorData
from nndl.errors import ConfigError, TrainingFailed
from nndl.models.registry import config_for, train_defaults_for

__all__ = ["NetEstimator"]

_ARCH_PREFIX = "arch__"
_BATCH = 4096  # rows per forward pass in predict


class NetEstimator(BaseEstimator):
    """Base class of the estimators; not used directly. See :class:`NetRegressor`."""

    def __init__(
        self,
        arch: Any = "mlp",
        *,
        arch_options: dict[str, Any] | None = None,
        max_epochs: int | None = None,
        patience: int | None = None,
        lr: float | None = None,
        weight_decay: float | None = None,
        batch_size: int | None = None,
        optimizer: Any = "adam",
        loss: Any = "auto",
        lr_schedule: str = "constant",
        lr_step: int = 10,
        lr_factor: float = 0.1,
        lr_milestones: tuple[int, ...] = (),
        monitor: str = "val_loss",
        momentum: float = 0.0,
        val_fraction: float = 0.1,
        standardize: bool = True,
        n_members: int = 1,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        verbose: int = 0,
    ) -> None:
        self.arch = arch
        self.arch_options = arch_options
        self.max_epochs = max_epochs
        self.patience = patience
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.loss = loss
        self.lr_schedule = lr_schedule
        self.lr_step = lr_step
        self.lr_factor = lr_factor
        self.lr_milestones = lr_milestones
        self.monitor = monitor
        self.momentum = momentum
        self.val_fraction = val_fraction
        self.standardize = standardize
        self.n_members = n_members
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # --- parameters ------------------------------------------------------------------------

    def set_params(self, **params: Any) -> NetEstimator:
        """As scikit-learn's, plus ``arch__FIELD=value``: one field of the architecture's
        config (``arch__hidden_sizes=(64, 64)``), kept in ``arch_options``."""
        fields = {
            k[len(_ARCH_PREFIX) :]: params.pop(k)
            for k in list(params)
            if k.startswith(_ARCH_PREFIX)
        }
        super().set_params(**params)  # arch_options first: the fields given beside it win
        if fields:
            self.arch_options = {**(self.arch_options or {}), **fields}
        return self

    def _train_config(self, seed: int) -> Any:
        """The TrainConfig of this estimator's parameters; None takes the architecture's
        training defaults, then TrainConfig's."""
        from nndl.training.config import TrainConfig

        defaults = train_defaults_for(self.arch)
        given = {
            "max_epochs": self.max_epochs,
            "patience": self.patience,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
        }
        settings: dict[str, Any] = {
            k: defaults.get(k) if v is None else v for k, v in given.items()
        }
        settings = {k: v for k, v in settings.items() if v is not None or k == "patience"}
        if self.patience is None and "patience" not in defaults:
            settings["patience"] = 10
        if settings.get("patience") == 0:  # off, as on the command line
            settings["patience"] = None
        return TrainConfig(
            **settings,
            optimizer=self.optimizer,
            loss=self.loss,
            lr_schedule=self.lr_schedule,
            lr_step=self.lr_step,
            lr_factor=self.lr_factor,
            lr_milestones=self.lr_milestones,
            monitor=self.monitor,
            momentum=self.momentum,
            val_fraction=self.val_fraction,
            seed=seed,
            device=self.device,
        )

    def _check_params(self) -> None:
        problems: list[str] = []
        if not isinstance(self.standardize, bool):
            problems.append(f"standardize = {self.standardize!r}: must be True or False")
        if not isinstance(self.verbose, (bool, int)):
            problems.append(f"verbose = {self.verbose!r}: must be an integer")
        if not isinstance(self.n_members, (int, np.integer)) or self.n_members < 1:
            problems.append(f"n_members = {self.n_members!r}: must be an integer >= 1")
        if self.arch_options is not None and not isinstance(self.arch_options, dict):
            problems.append(f"arch_options = {self.arch_options!r}: must be a dict or None")
        try:  # every bad parameter in one error: the training settings' problems too
            self._train_config(_seed(self.random_state))
        except ConfigError as exc:
            problems += exc.problems
        if problems:
            raise ConfigError(type(self).__name__, problems)

    def save(self, path: Any) -> None:
        """Write the fitted estimator to one checkpoint file that :func:`nndl.load` reads
        back: the nets, their config, the scaling, the classes and the feature names."""
        from nndl.estimators._checkpoint import save

        save(self, path)

    # --- data ------------------------------------------------------------------------------

    def _inputs(self, X: Any, reset: bool) -> np.ndarray:
        """``X`` as a float32 array: rows of features, or images ``(n, h, w)``/``(n, c, h, w)``."""
        X = validate_data(
            self, from_tensor(X), reset=reset, dtype=(np.float32, np.float64), allow_nd=True
        )
        if not reset and tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has rows of shape {tuple(X.shape[1:])}, but {type(self).__name__} was "
                f"fitted on rows of shape {self.input_shape_}"
            )
        return X.astype(np.float32, copy=False)

    def _fit_scaling(self, X: np.ndarray) -> None:
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self.scaling_ = Scaling.fit_channels(X) if self.standardize else None

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        if self.scaling_ is None:
            return np.ascontiguousarray(X, np.float32)
        return self.scaling_.channels(X)

    # --- the net ---------------------------------------------------------------------------

    def _net_config(self, n_outputs: int) -> Any:
        config = config_for(self.arch, self.arch_options)
        shape = self.input_shape_
        if getattr(config, "kind", None) == "cnn" and len(shape) == 2:
            shape = (1, *shape)
        if hasattr(config, "for_task"):
            config = config.for_task(shape, n_outputs)
        return config

    def _train_nets(self, X: np.ndarray, y: torch.Tensor, n_outputs: int) -> None:
        """Train ``n_members`` nets (seeds ``seed + i``) on ``X`` and ``y``; the first one's
        history is ``history_``."""
        from nndl.models.nets import build_model
        from nndl.training._rng import forked
        from nndl.training._rng import seed as seed_rng
        from nndl.training.callbacks import ProgressBar
        from nndl.training.device import resolve_device
        from nndl.training.evolver import Evolver

        seed = _seed(self.random_state)
        config = self.net_config_ = self._net_config(n_outputs)
        x = self._net_input(X)
        nets, histories = [], []
        for i in range(int(self.n_members)):
            train = self._train_config(seed + i)
            with forked(device := resolve_device(train.device)):
                seed_rng(train.seed, device)
                net = build_model(config)
            data_train, data_val = self._split(TensorData(x, y), train)
            if data_val is None:
                train = dataclasses.replace(train, val_fraction=0.0, patience=None)
            callbacks = [ProgressBar()] if self.verbose else []
            evolver = Evolver(net, train, callbacks)
            histories.append(evolver.fit(data_train, data_val))
            nets.append(_diverged(self, histories[-1], evolver.model.cpu().eval()))
        self.nets_: list[nn.Module] = nets
        self.train_config_ = self._train_config(seed)
        self.history_ = [dict(r) for r in histories[0].rows]
        self.best_epoch_ = histories[0].best_epoch

    def _split(self, data: TensorData, train: Any) -> tuple[TensorData, TensorData | None]:
        """Hold out ``val_fraction`` of the rows (none when that rounds to no row)."""
        from nndl.data.split import train_val_split

        n_val = round(len(data) * self.val_fraction)
        if self.val_fraction == 0 or n_val < 1 or n_val >= len(data):
            return data, None
        train_idx, val_idx = self._split_indices(data, train.seed)
        if train_idx is None:
            train_idx, val_idx = train_val_split(len(data), self.val_fraction, train.seed)
        return data.subset(train_idx), data.subset(val_idx)

    def _split_indices(self, data: TensorData, seed: int) -> tuple[Any, Any]:
        """Subclasses may split otherwise (the classifier stratifies); None: at random."""
        return None, None

    def _net_input(self, X: np.ndarray) -> torch.Tensor:
        """Scaled inputs as the net takes them (a CNN's ``(n, h, w)`` images get a channel)."""
        x = torch.from_numpy(self._scaled(X))
        if getattr(self.net_config_, "kind", None) == "cnn" and x.dim() == 3:
            x = x.unsqueeze(1)
        return x

    @torch.inference_mode()
    def _outputs(self, X: Any) -> np.ndarray:
        """Every net's raw outputs ``(members, n, outputs)`` for inputs ``X``."""
        check_is_fitted(self)
        x = self._net_input(self._inputs(X, reset=False))
        return np.stack(
            [
                torch.cat([net(x[i : i + _BATCH]) for i in range(0, len(x), _BATCH)])
                .double()
                .numpy()
                for net in self.nets_
            ]
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def from_tensor(X: Any) -> Any:
    return X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X


def _seed(random_state: Any) -> int:
    """A seed from ``random_state`` without touching numpy's global generator (None: fresh)."""
    from nndl.training.config import MAX_SEED

    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and 0 <= random_state <= MAX_SEED:
        return int(random_state)
    problem = f"random_state = {random_state!r}: must be None, an integer from 0 to {MAX_SEED}"
    raise ConfigError("random_state", [f"{problem} or a RandomState"])


def _diverged(estimator: Any, history: Any, net: nn.Module) -> nn.Module:
    """``net``; a warning where its loss diverged after a kept finite epoch, else an error."""
    from sklearn.exceptions import ConvergenceWarning

    from nndl.training.callbacks import StopReason

    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        why = f"the loss was not finite at epoch {history.epochs}, no finite weights kept"
        raise TrainingFailed(f"{type(estimator).__name__}: {why} (try a lower lr)", {})
    if history.stop_reason is StopReason.DIVERGED:
        warnings.warn(
            f"{type(estimator).__name__}: the loss diverged at epoch {history.epochs}; the net "
            f"holds epoch {history.best_epoch or history.epochs}'s weights (try a lower lr)",
            ConvergenceWarning,
            stacklevel=4,
        )
    return net
