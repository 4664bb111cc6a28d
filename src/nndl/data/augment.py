"""Image augmentation on whole batches of tensors, as the training loop sees them.

Each training batch ``(n, c, h, w)`` gets, per image and from a seeded generator: a random
crop of the image padded by ``padding`` pixels on each side (``crop``), a horizontal flip
with probability 1/2 (``flip``), and a random rectangle of 2-33% of the image set to 0 with
probability 1/4 (``erase``, as torchvision's ``RandomErasing``). Everything is tensor
indexing on the batch's device: no per-image Python. Only training batches are changed.
"""

from __future__ import annotations

import math

import torch

from nndl.errors import ConfigError

__all__ = ["AUGMENTATIONS", "Augment"]

AUGMENTATIONS = ("crop", "flip", "erase")
ERASE_PROBABILITY = 0.25


class Augment:
    """The batch transform of the named augmentations (a task's ``batch_transform``)."""

    def __init__(self, names: tuple[str, ...], *, seed: int = 0, padding: int = 4) -> None:
        unknown = [n for n in names if n not in AUGMENTATIONS]
        if unknown or not names:
            valid = ", ".join(AUGMENTATIONS)
            raise ConfigError("augment", [f"{names!r}: give one or more of {valid}"])
        self.names, self.padding = tuple(names), padding
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if "crop" in self.names:
            x = self._crop(x)
        if "flip" in self.names:
            x = self._flip(x)
        if "erase" in self.names:
            x = self._erase(x)
        return x, y

    def _uniform(self, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.generator)

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        p = self.padding
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = (self._uniform(n) * (2 * p + 1)).long().to(x.device)
        dx = (self._uniform(n) * (2 * p + 1)).long().to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        return padded[batch, channel, rows, cols]

    def _flip(self, x: torch.Tensor) -> torch.Tensor:
        flipped = (self._uniform(len(x)) < 0.5).to(x.device)[:, None, None, None]
        return torch.where(flipped, x.flip(-1), x)

    def _erase(self, x: torch.Tensor) -> torch.Tensor:
        """A rectangle of area 2-33% and aspect ratio 0.3-3.3 set to 0 in a quarter of them."""
        n, _, h, w = x.shape
        area = (0.02 + 0.31 * self._uniform(n)) * h * w
        aspect = torch.exp(math.log(0.3) + (math.log(3.3) - math.log(0.3)) * self._uniform(n))
        eh = (area * aspect).sqrt().clamp(1, h).long()
        ew = (area / aspect).sqrt().clamp(1, w).long()
        top = (self._uniform(n) * (h - eh + 1)).long()
        left = (self._uniform(n) * (w - ew + 1)).long()
        chosen = self._uniform(n) < ERASE_PROBABILITY
        ys, xs = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
        inside = (
            (ys >= top[:, None, None])
            & (ys < (top + eh)[:, None, None])
            & (xs >= left[:, None, None])
            & (xs < (left + ew)[:, None, None])
            & chosen[:, None, None]
        )
        return x.masked_fill(inside[:, None].to(x.device), 0.0)
