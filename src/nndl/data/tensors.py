"""In-memory datasets: the whole dataset is two tensors; batches are gathered by index."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["TensorData", "images_to_tensor"]


@dataclass(frozen=True)
class TensorData:
    """Inputs ``x`` and targets ``y`` with the same first dimension."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} rows but y has {self.y.shape[0]}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, index: torch.Tensor | np.ndarray) -> TensorData:
        """The rows at ``index`` (a copy)."""
        idx = torch.as_tensor(index, dtype=torch.long, device=self.x.device)
        return TensorData(self.x[idx], self.y[idx])

    def fingerprint(self) -> str:
        """A short hash of the contents, so a study is only resumed on the same data."""
        digest = hashlib.sha256(self.x.cpu().numpy().tobytes() + self.y.cpu().numpy().tobytes())
        return digest.hexdigest()[:16]

    def to(self, device: torch.device | str) -> TensorData:
        """The same data on ``device`` (no copy when already there)."""
        return TensorData(self.x.to(device), self.y.to(device))


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(n, h, w)`` to float32 ``(n, 1, h, w)`` scaled to [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1).float().div_(255.0)
