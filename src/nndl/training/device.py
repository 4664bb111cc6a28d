"""Turn a device name into a torch device, with a clear error when it is not there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nndl.errors import ConfigError
from nndl.training.config import DEVICE_NAMES, DEVICE_PATTERN

if TYPE_CHECKING:
    import torch

__all__ = ["check_device", "resolve_device"]


def check_device(name: str) -> None:
    """Raise unless ``name`` is a device nndl can use here (``cpu`` is checked without torch)."""
    if name != "cpu":
        resolve_device(name)
    elif not DEVICE_PATTERN.match(name):
        raise ConfigError("device", [f"--device {name!r}: must be {DEVICE_NAMES}"])


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    import torch

    if not DEVICE_PATTERN.match(name):
        raise ConfigError("device", [f"--device {name!r}: must be {DEVICE_NAMES}"])
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        _check_cuda(name)
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device", ["--device mps: MPS is not available here; use cpu or auto"])
    return torch.device(name)


def _check_cuda(name: str) -> None:
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            "device",
            [
                f"--device {name}: no CUDA GPU is available (torch {torch.__version__}, "
                f"CUDA build {torch.version.cuda or 'none'}); use --device cpu or auto"
            ],
        )
    index = torch.device(name).index
    if index is not None and index >= torch.cuda.device_count():
        raise ConfigError(
            "device", [f"--device {name}: only {torch.cuda.device_count()} GPU(s) visible"]
        )
