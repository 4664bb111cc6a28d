"""Randomness that stays nndl's: torch's generators are forked around training and seeded
inside the fork, so no call leaves the user's global generators changed.

``torch.manual_seed`` would also reseed every GPU's generator, and ``fork_rng`` restores only
the devices it is given: :func:`seed` seeds the CPU's generator and the training device's
only, the ones :func:`forked` restores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["forked", "rng_devices", "seed"]


def rng_devices(device: torch.device) -> list[int]:
    """The CUDA devices whose generators a fit forks (none on the CPU)."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


@contextmanager
def forked(device: torch.device) -> Iterator[None]:
    """Torch's CPU generator and ``device``'s as they were when the block ends."""
    with torch.random.fork_rng(devices=rng_devices(device)):
        yield


def seed(value: int, device: torch.device) -> None:
    """Seed the CPU's generator and, on a GPU, the training device's (inside :func:`forked`)."""
    torch.random.default_generator.manual_seed(value)
    for index in rng_devices(device):
        with torch.cuda.device(index):
            torch.cuda.manual_seed(value)
