"""In-memory datasets: the whole dataset is two tensors; batches are gathered by index."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from nndl.errors import DataError

__all__ = ["TensorData", "as_tensor", "images_to_tensor"]


@dataclass(frozen=True)
class TensorData:
    """Inputs ``x`` and targets ``y`` with the same first dimension.

    Both are converted once, here: tensors, numpy arrays and lists of any numeric dtype;
    inputs become float32, integer targets int64 class labels, other targets float32 (a 1-D
    float target becomes one column, the shape of a one-output net's predictions).

    Raises:
        DataError: when either cannot be read as numbers, or their row counts differ.
    """

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        x, y = as_tensor(self.x, "x"), as_tensor(self.y, "y")
        x = x if x.dtype == torch.float32 else x.float()
        if y.is_floating_point():
            y = y.float().reshape(-1, 1) if y.dim() == 1 else y.float()
        else:
            y = y.long()
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if x.dim() == 0 or y.dim() == 0 or x.shape[0] != y.shape[0]:
            raise DataError(
                f"x has shape {tuple(x.shape)} and y {tuple(y.shape)}: they need the same "
                "number of rows"
            )

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


def as_tensor(values: object, name: str) -> torch.Tensor:
    """``values`` (a tensor, numpy array, list or pandas object) as a tensor; a DataError
    naming ``name`` and what was given when they are not numbers."""
    if isinstance(values, torch.Tensor):
        return values
    if hasattr(values, "to_numpy"):  # pandas, without importing it
        values = values.to_numpy()
    try:
        array = np.asarray(values)
        if array.dtype == object or array.dtype.kind in "USV":
            array = array.astype(np.float64)
        return torch.from_numpy(np.ascontiguousarray(array))
    except (TypeError, ValueError) as exc:
        kind = getattr(getattr(values, "dtype", None), "name", type(values).__name__)
        raise DataError(f"{name}: {kind} values cannot be read as numbers ({exc})") from None


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(n, h, w)`` or ``(n, c, h, w)`` to float32 ``(n, c, h, w)`` in [0, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    return (tensor.unsqueeze(1) if tensor.ndim == 3 else tensor).float().div_(255.0)
