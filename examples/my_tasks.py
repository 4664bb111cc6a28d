"""A dataset of your own as a task, in your own file:

nndl train --task examples/my_tasks.py:NoisySine --epochs 100
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nndl.data.tensors import TensorData
from nndl.tasks import Task, register_task


@register_task
@dataclass(frozen=True)
class NoisySine(Task):
    """sin(x) with noise on [-3, 3]; its fields are the task's options."""

    name = "noisy-sine"
    family = "regression"  # the registered regression nets fit it
    loss = "mse"
    default_arch = "reg-basic"

    rows: int = 200
    noise: float = 0.1
    seed: int = 0

    def shapes(self) -> tuple[tuple[int, ...], int]:
        return (1,), 1

    def points(self, limit: int | None = None) -> tuple[Any, Any]:
        g = torch.Generator().manual_seed(self.seed)
        x = torch.rand(2 * self.rows, 1, generator=g) * 6 - 3
        y = torch.sin(x) + self.noise * torch.randn(x.shape, generator=g)
        train, test = (
            TensorData(x[: self.rows], y[: self.rows]),
            TensorData(x[self.rows :], y[self.rows :]),
        )
        return TensorData(train.x[:limit], train.y[:limit]), test
