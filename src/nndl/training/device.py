"""Turn a device name into a torch device, with a clear error when it is not there; how many
CPU threads a process takes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from nndl.errors import ConfigError
from nndl.training.config import DEVICE_NAMES, DEVICE_PATTERN

if TYPE_CHECKING:
    import torch

__all__ = ["check_device", "env_threads", "resolve_device", "set_threads"]


def env_threads() -> int | None:
    """``OMP_NUM_THREADS`` when it is set to a whole number >= 1, else None."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) >= 1 else None


def set_threads(threads: int | None) -> int | None:
    """Take ``threads`` CPU threads (``--threads``), else ``OMP_NUM_THREADS`` when set, else
    torch's default (every core). Given threads go into ``OMP_NUM_THREADS`` too, so search
    workers and other child processes share the same count; returns what was set, or None.

    Two processes that each take every core's thread slow each other many times over
    (OpenMP threads spin): give each its share (``--threads 1`` for two on two cores)."""
    chosen = threads or env_threads()
    if chosen is None:
        return None
    import torch

    torch.set_num_threads(chosen)
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    return chosen


def check_device(name: str) -> None:
    """Raise unless ``name`` is a device nndl can use here (``cpu`` is checked without torch)."""
    if name != "cpu":
        resolve_device(name)
    elif not DEVICE_PATTERN.match(name):
        raise ConfigError("device", [f"device {name!r}: must be {DEVICE_NAMES}"])


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cuda`` without a GPU is an error."""
    import torch

    if not DEVICE_PATTERN.match(name):
        raise ConfigError("device", [f"device {name!r}: must be {DEVICE_NAMES}"])
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        _check_cuda(name)
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(
            "device", ["device 'mps': MPS is not available here; use 'cpu' or 'auto'"]
        )
    return torch.device(name)


def _check_cuda(name: str) -> None:
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            "device",
            [
                f"device {name!r}: no CUDA GPU is available (torch {torch.__version__}, "
                f"CUDA build {torch.version.cuda or 'none'}); use 'cpu' or 'auto'"
            ],
        )
    index = torch.device(name).index
    if index is not None and index >= torch.cuda.device_count():
        raise ConfigError(
            "device", [f"device {name!r}: only {torch.cuda.device_count()} GPU(s) visible"]
        )
