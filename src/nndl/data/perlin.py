"""Perlin noise images, a whole batch at once, and the PDCNN's "not a digit" batch transform.

The original study made each noise image pixel by pixel in Python (``noise.pnoise2``); here
every pixel of every octave of every image is one tensor operation on the training device.
Parameters follow the original: 2-D Perlin noise on the 28x28 grid of the unit square, a
random offset in [0, 1024) per image, 8 octaves, persistence 0.5, lacunarity 2, then
``sigmoid(20 * value)``.
"""

from __future__ import annotations

import torch

__all__ = ["NotADigit", "PerlinNoise", "perlin_images"]

# The 8 gradient directions of improved Perlin noise in 2-D.
_GRADIENTS = torch.tensor(
    [[1, 1], [-1, 1], [1, -1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=torch.float32
)


def _fade(t: torch.Tensor) -> torch.Tensor:
    return t * t * t * (t * (t * 6 - 15) + 10)


def _split(
    offset: torch.Tensor, freq: torch.Tensor, grid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer lattice cell and fractional position of ``(offset + grid) * freq``.

    ``offset`` (n,) float64, ``freq`` (o,), ``grid`` (s,) -> (n, o, s) long and float32. The
    large offset is split in float64 so high octaves keep their precision in float32.
    """
    scaled = offset[:, None] * freq[None, :].double()  # (n, o)
    base = torch.floor(scaled)
    pos = (scaled - base).float()[:, :, None] + grid[None, None, :] * freq[None, :, None].float()
    cell = torch.floor(pos)
    return base.long()[:, :, None] + cell.long(), pos - cell


def perlin_images(
    offsets: torch.Tensor,
    perm: torch.Tensor,
    size: int = 28,
    octaves: int = 8,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
) -> torch.Tensor:
    """Fractal Perlin noise, ``(n, size, size)``, roughly in [-1, 1].

    Args:
        offsets: ``(n, 2)`` float64 offsets of each image's unit square.
        perm: ``(512,)`` long, a permutation of 0..255 written twice.
    """
    device = offsets.device
    grid = torch.arange(size, device=device, dtype=torch.float32) / size
    freq = lacunarity ** torch.arange(octaves, device=device, dtype=torch.float64)
    amp = persistence ** torch.arange(octaves, device=device, dtype=torch.float32)
    xi, xf = _split(offsets[:, 0], freq, grid)  # (n, o, s): pixel columns
    yi, yf = _split(offsets[:, 1], freq, grid)  # pixel rows
    xi, xf = (xi & 255)[:, :, None, :], xf[:, :, None, :]
    yi, yf = (yi & 255)[:, :, :, None], yf[:, :, :, None]
    grads = _GRADIENTS.to(device)

    def corner(dx: int, dy: int) -> torch.Tensor:
        h = perm[perm[xi + dx] + yi + dy] & 7
        g = grads[h]
        return g[..., 0] * (xf - dx) + g[..., 1] * (yf - dy)

    u, v = _fade(xf), _fade(yf)
    bottom = torch.lerp(corner(0, 0), corner(1, 0), u)
    top = torch.lerp(corner(0, 1), corner(1, 1), u)
    octave_values = torch.lerp(bottom, top, v)  # (n, o, s, s)
    return torch.einsum("nors,o->nrs", octave_values, amp) / amp.sum()


class PerlinNoise:
    """Seeded source of noise images ``(n, 1, size, size)`` in [0, 1] on ``device``."""

    def __init__(
        self,
        seed: int = 0,
        device: str | torch.device = "cpu",
        size: int = 28,
        octaves: int = 8,
        persistence: float = 0.5,
        lacunarity: float = 2.0,
        sharpness: float = 20.0,
        offset_range: float = 1024.0,
    ) -> None:
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        perm = torch.randperm(256, generator=self.generator)
        self.perm = torch.cat([perm, perm]).to(self.device)
        self.size, self.octaves, self.persistence, self.lacunarity = (
            size,
            octaves,
            persistence,
            lacunarity,
        )
        self.sharpness, self.offset_range = sharpness, offset_range

    def sample(self, n: int) -> torch.Tensor:
        """``n`` fresh images."""
        offsets = (
            torch.rand(n, 2, generator=self.generator, dtype=torch.float64) * self.offset_range
        )
        values = perlin_images(offsets.to(self.device), self.perm, self.size, self.octaves,
                               self.persistence, self.lacunarity)  # fmt: skip
        return torch.sigmoid(self.sharpness * values).unsqueeze(1)


class NotADigit:
    """Batch transform: each sample becomes a noise image labelled ``label`` with ``probability``."""

    def __init__(
        self, noise: PerlinNoise, probability: float = 0.09, label: int = 10, seed: int = 0
    ) -> None:
        self.noise, self.probability, self.label = noise, probability, label
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        chosen = torch.nonzero(
            torch.rand(len(y), generator=self.generator) < self.probability
        ).flatten()
        if len(chosen) == 0:
            return x, y
        chosen = chosen.to(x.device)
        x, y = x.clone(), y.clone()
        x[chosen] = self.noise.sample(len(chosen)).to(x.dtype)
        y[chosen] = self.label
        return x, y
