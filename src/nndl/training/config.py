"""The frozen, validated settings of one training run."""

from __future__ import annotations

import itertools
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from nndl.errors import ConfigError

__all__ = [
    "LOSSES",
    "LR_SCHEDULES",
    "MAX_SEED",
    "MONITORS",
    "OPTIMIZERS",
    "TrainConfig",
    "check_seeds",
    "seed_problems",
]

MAX_SEED = 2**32 - 1
"""Seeds are 0 to 2**32 - 1: what numpy, torch and Optuna's samplers all accept."""

OPTIMIZERS = ("adam", "sgd")
"""The optimizers nndl names itself; any other ``torch.optim`` class is taken by name too."""
LOSSES = ("auto", "mse", "cross_entropy")
"""The losses nndl names itself; any other ``torch.nn`` loss is taken by name too."""
LR_SCHEDULES = ("constant", "step", "multistep", "cosine", "plateau")
MONITORS = ("val_loss", "val_accuracy")
"""What early stopping may watch: the validation loss (its minimum) or accuracy (maximum)."""
DEVICE_PATTERN = re.compile(r"^(cpu|auto|mps|cuda(:\d+)?)$")
DEVICE_NAMES = "cpu, cuda, cuda:N, mps or auto"
"""The device names nndl accepts: the pattern, and its wording in error messages."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, loss, batches, stopping, seed and device.

    Args:
        optimizer: ``adam`` (lr, weight decay), ``sgd`` (lr, momentum, weight decay), any
            other ``torch.optim`` class by name (``"adamw"``, ``"RMSprop"``: lr and weight
            decay, momentum where it takes one), or a callable ``f(params) -> Optimizer``.
        lr: learning rate, in (0, 10].
        weight_decay: L2 penalty, >= 0.
        momentum: SGD momentum, in [0, 1).
        loss: ``auto`` (the targets decide: class labels train with cross-entropy, numbers
            with the mean squared error), ``mse``, ``cross_entropy``, any other ``torch.nn``
            loss by name (``"huber"``, ``"L1Loss"``), or a callable ``f(outputs, targets)``
            that returns the batch's mean loss.
        lr_schedule: ``constant``; ``step`` (times ``lr_factor`` every ``lr_step`` epochs);
            ``multistep`` (times ``lr_factor`` after each epoch of ``lr_milestones``); ``cosine`` (annealed to 0 over ``max_epochs``); ``plateau`` (times ``lr_factor``
            once more than ``lr_step`` epochs in a row bring no new minimum of the validation
            loss, of the training loss when there is no validation data: torch's
            ``ReduceLROnPlateau(patience=lr_step)``).
        lr_step: epochs between decays (``step``) or without improvement (``plateau``), >= 1.
        lr_factor: the decay's factor, in (0, 1).
        lr_milestones: the epochs after which ``multistep`` decays, increasing, each >= 1
            (a list is taken as a tuple).
        batch_size: training batch size, >= 1.
        max_epochs: upper bound on epochs, >= 1.
        patience: early stopping after this many epochs without a new best of ``monitor``;
            ``None`` trains for ``max_epochs``.
        min_delta: an improvement must beat the best of ``monitor`` by more than this.
        monitor: what early stopping watches, and whose best epoch's weights the net keeps:
            ``val_loss`` (the lowest validation loss) or ``val_accuracy`` (the highest
            validation accuracy; classification only). The ``plateau`` schedule always
            watches the loss.
        seed: seeds the batch order and dropout; nndl's jobs and k-fold also build the net
            after ``torch.manual_seed(seed)`` (the Evolver gets a net already built).
        device: ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU when there is one).
        val_fraction: share of the training rows held out for validation when ``fit`` is
            given no validation data, in [0, 1); 0 trains on every row with no validation
            (and then without early stopping).
        eval_batch_size: batch size for evaluation (no gradients), >= 1.
        channels_last: on the CPU, hold image batches (4-D inputs) and the net's weights in
            the channels-last memory layout, which made the report's small CNNs 5-15% faster
            per epoch on a 2-core CPU; the same results up to float rounding. No effect on
            other devices or inputs.
    """

    optimizer: str | Callable[..., Any] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    loss: str | Callable[..., Any] = "auto"
    batch_size: int = 256
    max_epochs: int = 100
    patience: int | None = 10
    min_delta: float = 0.0
    monitor: str = "val_loss"
    seed: int = 0
    device: str = "cpu"
    val_fraction: float = 0.2
    eval_batch_size: int = 1024
    channels_last: bool = True
    lr_schedule: str = "constant"
    lr_step: int = 10
    lr_factor: float = 0.1
    lr_milestones: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.lr_milestones, list):  # as a settings file or JSON gives it
            object.__setattr__(self, "lr_milestones", tuple(self.lr_milestones))
        problems = self._type_problems()
        if not problems:  # ranges compare numbers
            problems = self._choice_problems() + self._range_problems()
        if problems:
            raise ConfigError("training settings", problems)

    def _type_problems(self) -> list[str]:
        ints = ("batch_size", "max_epochs", "seed", "eval_batch_size", "lr_step")
        reals = ("lr", "weight_decay", "momentum", "min_delta", "val_fraction", "lr_factor")
        problems = [
            f"{n} = {getattr(self, n)!r}: must be an integer"
            for n in ints
            if not _is_int(getattr(self, n))
        ]
        problems += [
            f"{n} = {getattr(self, n)!r}: must be a number"
            for n in reals
            if not _is_real(getattr(self, n))
        ]
        if self.patience is not None and not _is_int(self.patience):
            problems.append(f"patience = {self.patience!r}: must be an integer or None")
        if not isinstance(self.lr_milestones, tuple) or not all(map(_is_int, self.lr_milestones)):
            problems.append(f"lr_milestones = {self.lr_milestones!r}: must be a tuple of integers")
        return problems

    def _choice_problems(self) -> list[str]:
        problems = []
        if not _known(self.optimizer, OPTIMIZERS, optimizer_class):
            problems.append(
                f"optimizer {self.optimizer!r}: must be {', '.join(OPTIMIZERS)}, another "
                "torch.optim class (adamw, rmsprop, ...) or a callable"
            )
        if not _known(self.loss, LOSSES, loss_class):
            problems.append(
                f"loss {self.loss!r}: must be {', '.join(LOSSES)}, another torch.nn loss "
                "(huber, l1, smooth_l1, ...) or a callable"
            )
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(
                f"lr_schedule {self.lr_schedule!r}: must be one of {', '.join(LR_SCHEDULES)}"
            )
        if (self.lr_schedule == "multistep") != bool(self.lr_milestones):
            problems.append(
                f"lr_milestones = {self.lr_milestones!r} with lr_schedule {self.lr_schedule!r}: "
                "the multistep schedule needs milestones, and only it takes them"
            )
        if self.monitor not in MONITORS:
            problems.append(f"monitor {self.monitor!r}: must be one of {', '.join(MONITORS)}")
        if not DEVICE_PATTERN.match(str(self.device)):
            problems.append(f"device {self.device!r}: must be {DEVICE_NAMES}")
        return problems

    def _range_problems(self) -> list[str]:
        checks = [
            ("lr", self.lr, 0 < self.lr <= 10, "in (0, 10]"),
            ("weight_decay", self.weight_decay, 0 <= self.weight_decay < math.inf, ">= 0"),
            ("momentum", self.momentum, 0 <= self.momentum < 1, "in [0, 1)"),
            ("batch_size", self.batch_size, self.batch_size >= 1, "an integer >= 1"),
            ("max_epochs", self.max_epochs, self.max_epochs >= 1, "an integer >= 1"),
            (
                "patience",
                self.patience,
                self.patience is None or self.patience >= 1,
                ">= 1 or None",
            ),
            ("min_delta", self.min_delta, 0 <= self.min_delta < math.inf, ">= 0"),
            ("val_fraction", self.val_fraction, 0 <= self.val_fraction < 1, "in [0, 1)"),
            ("lr_step", self.lr_step, self.lr_step >= 1, "an integer >= 1"),
            ("lr_factor", self.lr_factor, 0 < self.lr_factor < 1, "in (0, 1)"),
            (
                "lr_milestones",
                self.lr_milestones,
                all(a < b for a, b in itertools.pairwise((0, *self.lr_milestones))),
                "increasing epochs >= 1",
            ),
            ("eval_batch_size", self.eval_batch_size, self.eval_batch_size >= 1, "an integer >= 1"),
        ]
        problems = [
            f"{name} = {value}: must be {valid}" for name, value, ok, valid in checks if not ok
        ]
        return problems + seed_problems(seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; ``TrainConfig(**d)`` rebuilds them. A callable optimizer or
        loss is written as its qualified name (what was used, not something to rerun)."""
        settings = asdict(self)
        for name in ("optimizer", "loss"):
            if callable(settings[name]):
                settings[name] = _callable_name(settings[name])
        return settings


def _known(value: Any, names: tuple[str, ...], lookup: Callable[[str], type | None]) -> bool:
    """A callable, one of ``names``, or a torch class ``lookup`` finds (torch imported only then)."""
    return callable(value) or value in names or lookup(value) is not None


def _callable_name(f: Any) -> str:
    return f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', type(f).__name__)}"


def _torch_class(module_name: str, name: str, suffix: str = "") -> type | None:
    """The class of ``torch.optim`` or ``torch.nn`` called ``name`` (case, ``_`` and the
    ``suffix`` ignored: ``"smooth_l1"`` is ``SmoothL1Loss``); None when there is none."""
    import importlib

    module = importlib.import_module(module_name)
    wanted = name.lower().replace("_", "").removesuffix(suffix.lower())
    for attr in dir(module):
        if attr.lower().removesuffix(suffix.lower()) == wanted and attr[0].isupper():
            cls = getattr(module, attr)
            if isinstance(cls, type):
                return cls
    return None


def optimizer_class(name: str) -> type | None:
    """The ``torch.optim`` optimizer called ``name`` (``"adamw"``, ``"RMSprop"``), or None."""
    if not isinstance(name, str) or not name:
        return None
    import torch

    cls = _torch_class("torch.optim", name)
    return cls if cls is not None and issubclass(cls, torch.optim.Optimizer) else None


def loss_class(name: str) -> type | None:
    """The ``torch.nn`` loss called ``name`` (``"huber"``, ``"L1Loss"``), or None."""
    if not isinstance(name, str) or not name:
        return None
    import torch

    cls = _torch_class("torch.nn", name, suffix="Loss")
    return cls if cls is not None and issubclass(cls, torch.nn.modules.loss._Loss) else None


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy ints too


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def seed_problems(**seeds: object) -> list[str]:
    """One problem per seed that is not an integer in 0..MAX_SEED (``None`` means "not given")."""
    return [
        f"{name} = {value!r}: must be an integer from 0 to {MAX_SEED}"
        for name, value in seeds.items()
        if value is not None and not (_is_int(value) and 0 <= int(value) <= MAX_SEED)  # type: ignore[call-overload]
    ]


def check_seeds(what: str, **seeds: object) -> None:
    """Raise one ConfigError about ``what`` naming every seed out of range."""
    problems = seed_problems(**seeds)
    if problems:
        raise ConfigError(what, problems)
