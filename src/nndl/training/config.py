"""The frozen, validated settings of one training run."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass
from typing import Any

from nndl.errors import ConfigError

__all__ = ["LOSSES", "MAX_SEED", "OPTIMIZERS", "TrainConfig", "check_seeds", "seed_problems"]

MAX_SEED = 2**32 - 1
"""Seeds are 0 to 2**32 - 1: what numpy, torch and Optuna's samplers all accept."""

OPTIMIZERS = ("adam", "sgd")
LOSSES = ("mse", "cross_entropy")
DEVICE_PATTERN = re.compile(r"^(cpu|auto|mps|cuda(:\d+)?)$")
DEVICE_NAMES = "cpu, cuda, cuda:N, mps or auto"
"""The device names nndl accepts: the pattern, and its wording in error messages."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, loss, batches, stopping, seed and device.

    Args:
        optimizer: ``adam`` (lr, weight decay) or ``sgd`` (lr, momentum, weight decay).
        lr: learning rate, in (0, 10].
        weight_decay: L2 penalty, >= 0.
        momentum: SGD momentum, in [0, 1).
        loss: ``mse`` (regression) or ``cross_entropy`` (classification).
        batch_size: training batch size, >= 1.
        max_epochs: upper bound on epochs, >= 1.
        patience: early stopping after this many epochs without a new validation minimum;
            ``None`` trains for ``max_epochs``.
        min_delta: an improvement must beat the best validation loss by more than this.
        seed: seeds the batch order and dropout; nndl's jobs and k-fold also build the net
            after ``torch.manual_seed(seed)`` (the Evolver gets a net already built).
        device: ``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (a GPU when there is one).
        val_fraction: share of the training data held out for validation, in (0, 1).
        eval_batch_size: batch size for evaluation (no gradients), >= 1.
        channels_last: on the CPU, hold image batches (4-D inputs) and the net's weights in
            the channels-last memory layout, which made the report's small CNNs 5-15% faster
            per epoch on a 2-core CPU; the same results up to float rounding. No effect on
            other devices or inputs.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    loss: str = "cross_entropy"
    batch_size: int = 256
    max_epochs: int = 100
    patience: int | None = 10
    min_delta: float = 0.0
    seed: int = 0
    device: str = "cpu"
    val_fraction: float = 0.2
    eval_batch_size: int = 1024
    channels_last: bool = True

    def __post_init__(self) -> None:
        problems = self._type_problems()
        if not problems:  # ranges compare numbers
            problems = self._choice_problems() + self._range_problems()
        if problems:
            raise ConfigError("training settings", problems)

    def _type_problems(self) -> list[str]:
        ints = ("batch_size", "max_epochs", "seed", "eval_batch_size")
        reals = ("lr", "weight_decay", "momentum", "min_delta", "val_fraction")
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
        return problems

    def _choice_problems(self) -> list[str]:
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r}: must be one of {', '.join(OPTIMIZERS)}")
        if self.loss not in LOSSES:
            problems.append(f"loss {self.loss!r}: must be one of {', '.join(LOSSES)}")
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
            ("val_fraction", self.val_fraction, 0 < self.val_fraction < 1, "in (0, 1)"),
            ("eval_batch_size", self.eval_batch_size, self.eval_batch_size >= 1, "an integer >= 1"),
        ]
        problems = [
            f"{name} = {value}: must be {valid}" for name, value, ok, valid in checks if not ok
        ]
        return problems + seed_problems(seed=self.seed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; ``TrainConfig(**d)`` rebuilds them."""
        return asdict(self)


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
