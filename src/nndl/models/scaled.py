"""Regression nets that take and return numbers in the data's units.

The nets of a regression task train on standardized inputs and targets
(:class:`nndl.data.scaling.Scaling`); :class:`ScaledRegressor` holds one or more of them
(an ensemble: nets of one or more configurations, trained with different seeds or on
different folds) with that scaling,
so ``predict`` takes raw inputs and returns the members' mean and, if asked, their spread,
as scikit-learn's ``GaussianProcessRegressor.predict(x, return_std=True)`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nndl.data.scaling import Scaling

__all__ = ["ScaledRegressor"]


class ScaledRegressor(nn.Module):
    """``members`` (nets on standardized numbers) and the ``scaling`` (None: the identity).

    ``forward(x)`` takes inputs ``(n, d)`` in the data's units and returns the members' mean
    prediction ``(n, 1)`` in the target's units.
    """

    def __init__(self, members: Sequence[nn.Module], scaling: Scaling | None = None) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.scaling = scaling
        d = _input_size(scaling)
        self.in_mean: torch.Tensor
        self.in_std: torch.Tensor
        self.register_buffer("in_mean", torch.tensor(scaling.input_mean if scaling else [0.0] * d))
        self.register_buffer("in_std", torch.tensor(scaling.input_std if scaling else [1.0] * d))
        self.target_mean = scaling.target_mean if scaling else 0.0
        self.target_std = scaling.target_std if scaling else 1.0

    def member_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's prediction ``(members, n, 1)``, in the target's units."""
        z = (x.to(self.in_mean.dtype) - self.in_mean) / self.in_std
        outs = torch.stack([m(z) for m in self.members])
        return outs * self.target_std + self.target_mean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.member_outputs(x).mean(0)

    @torch.inference_mode()
    def predict(self, x: Any, return_std: bool = False) -> Any:
        """Mean prediction ``(n,)`` for inputs ``(n, d)`` (or ``(n,)`` for one input), and with
        ``return_std`` the members' standard deviation ``(n,)`` too (0 for a single net)."""
        self.eval()
        device = self.in_mean.device
        t = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
        outs = self.member_outputs(t.reshape(len(t), -1)).reshape(len(self.members), -1)
        mean = outs.mean(0).cpu().numpy().astype(np.float64)
        if not return_std:
            return mean
        return mean, outs.std(0, unbiased=False).cpu().numpy().astype(np.float64)


def _input_size(scaling: Scaling | None) -> int:
    return len(scaling.input_mean) if scaling else 1
