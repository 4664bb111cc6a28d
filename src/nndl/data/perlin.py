"""Perlin noise images, a whole batch at once, and the PDCNN's "not a digit" batch transform.

The original study made each noise image pixel by pixel in Python (``noise.pnoise2``); here
every pixel of every octave of every image is one tensor operation on the training device.
Parameters follow the original: 2-D Perlin noise on the 28x28 grid of the unit square, a
random offset in [0, 1024) per image, 8 octaves, persistence 0.5, lacunarity 2, then
``sigmoid(20 * value)``.
"""

from __future__ import annotations

import torch

__all__ = ["NotADigit", "PerlinNoise", "gradient_tables", "perlin_field", "perlin_images"]

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


def gradient_tables(perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient at every lattice point (i, j) of the 256x256 period, as two flat tables.

    Perlin's hash ``perm[perm[i] + j] & 7`` picks one of 8 directions; looking the pair up
    once per corner in a precomputed table is much cheaper than hashing every pixel.
    """
    i = torch.arange(256, device=perm.device)
    h = perm[perm[i][:, None] + i[None, :]] & 7
    g = _GRADIENTS.to(perm.device)[h]
    return g[..., 0].flatten().contiguous(), g[..., 1].flatten().contiguous()


def _octaves(
    offsets: torch.Tensor,
    tables: tuple[torch.Tensor, torch.Tensor],
    grid_x: torch.Tensor,
    *,
    grid_y: torch.Tensor,
    freq: torch.Tensor,
) -> torch.Tensor:
    """Perlin noise of each octave: ``(n, o, len(grid_y), len(grid_x))``."""
    xi, xf = _split(offsets[:, 0], freq, grid_x)  # columns
    yi, yf = _split(offsets[:, 1], freq, grid_y)  # rows
    cols = [((xi + d) & 255)[:, :, None, :] * 256 for d in (0, 1)]  # lattice column, pre-scaled
    rows = [((yi + d) & 255)[:, :, :, None] for d in (0, 1)]
    xs = [(xf - d)[:, :, None, :] for d in (0, 1)]
    ys = [(yf - d)[:, :, :, None] for d in (0, 1)]
    gx, gy = tables

    def corner(dx: int, dy: int) -> torch.Tensor:
        flat = cols[dx] + rows[dy]
        return gx.take(flat) * xs[dx] + gy.take(flat) * ys[dy]

    u, v = _fade(xs[0]), _fade(ys[0])
    bottom = torch.lerp(corner(0, 0), corner(1, 0), u)
    top = torch.lerp(corner(0, 1), corner(1, 1), u)
    return torch.lerp(bottom, top, v)


def _amplitudes(octaves: int, persistence: float, device: torch.device) -> torch.Tensor:
    amp = persistence ** torch.arange(octaves, device=device, dtype=torch.float32)
    return amp / amp.sum()


def perlin_images(
    offsets: torch.Tensor,
    tables: tuple[torch.Tensor, torch.Tensor],
    size: int = 28,
    *,
    octaves: int = 8,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
) -> torch.Tensor:
    """Fractal Perlin noise on the ``size`` x ``size`` grid of the unit square at each offset.

    Args:
        offsets: ``(n, 2)`` float64 offsets of each image's unit square.
        tables: :func:`gradient_tables` of a permutation of 0..255.

    Returns:
        ``(n, size, size)``, roughly in [-1, 1].
    """
    device = offsets.device
    grid = torch.arange(size, device=device, dtype=torch.float32) / size
    freq = lacunarity ** torch.arange(octaves, device=device, dtype=torch.float64)
    values = _octaves(offsets, tables, grid, grid_y=grid, freq=freq)
    return (values * _amplitudes(octaves, persistence, device).view(1, -1, 1, 1)).sum(1)


def perlin_field(
    offset: torch.Tensor,
    tables: tuple[torch.Tensor, torch.Tensor],
    units: int,
    *,
    size: int = 28,
    octaves: int = 8,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
) -> torch.Tensor:
    """The same noise over ``units`` x ``units`` unit squares: ``(units*size, units*size)``.

    Any ``size`` x ``size`` window of it is the noise of one unit square at an offset on the
    pixel grid. Built one octave at a time to keep memory small.
    """
    device = offset.device
    grid = torch.arange(units * size, device=device, dtype=torch.float32) / size
    amp = _amplitudes(octaves, persistence, device)
    field = torch.zeros(units * size, units * size, device=device)
    for o in range(octaves):
        freq = torch.tensor([lacunarity**o], device=device, dtype=torch.float64)
        field += amp[o] * _octaves(offset.view(1, 2), tables, grid, grid_y=grid, freq=freq)[0, 0]
    return field


class PerlinNoise:
    """Seeded source of noise images ``(n, 1, size, size)`` in [0, 1] on ``device``.

    :meth:`sample` computes each image at its own random offset in [0, offset_range), as the
    original did. :meth:`windows` (what training uses) cuts random ``size`` x ``size``
    windows out of a field of ``field_units`` x ``field_units`` unit squares, i.e. unit squares
    at random offsets on the pixel grid; the field is rebuilt with a fresh offset after every
    ``field_uses`` windows, so the noise stays fresh at a fraction of the cost per image.
    """

    def __init__(
        self,
        seed: int = 0,
        device: str | torch.device = "cpu",
        size: int = 28,
        *,
        octaves: int = 8,
        persistence: float = 0.5,
        lacunarity: float = 2.0,
        sharpness: float = 20.0,
        offset_range: float = 1024.0,
        field_units: int = 32,
        field_uses: int = 16384,
    ) -> None:
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        perm = torch.randperm(256, generator=self.generator)
        self.tables = gradient_tables(torch.cat([perm, perm]).to(self.device))
        self.size, self.octaves, self.persistence, self.lacunarity = (
            size,
            octaves,
            persistence,
            lacunarity,
        )
        self.sharpness, self.offset_range = sharpness, offset_range
        self.field_units, self.field_uses = field_units, field_uses
        self._field: torch.Tensor | None = None
        self._uses = 0

    def _offsets(self, n: int) -> torch.Tensor:
        return (
            torch.rand(n, 2, generator=self.generator, dtype=torch.float64) * self.offset_range
        ).to(self.device)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` images, each at its own random offset."""
        values = perlin_images(
            self._offsets(n),
            self.tables,
            self.size,
            octaves=self.octaves,
            persistence=self.persistence,
            lacunarity=self.lacunarity,
        )
        return torch.sigmoid(self.sharpness * values).unsqueeze(1)

    def windows(self, n: int) -> torch.Tensor:
        """``n`` images cut from the current noise field (rebuilt every ``field_uses`` images)."""
        if self._field is None or self._uses + n > self.field_uses:
            field = perlin_field(
                self._offsets(1)[0],
                self.tables,
                self.field_units,
                size=self.size,
                octaves=self.octaves,
                persistence=self.persistence,
                lacunarity=self.lacunarity,
            )
            self._field, self._uses = torch.sigmoid(self.sharpness * field), 0
        self._uses += n
        span = self._field.shape[0] - self.size + 1
        corner = torch.randint(0, span, (n, 2), generator=self.generator).to(self.device)
        steps = torch.arange(self.size, device=self.device)
        rows = (corner[:, 0, None] + steps)[:, :, None]
        cols = (corner[:, 1, None] + steps)[:, None, :]
        return self._field[rows, cols].unsqueeze(1)


class NotADigit:
    """Batch transform: each sample becomes a noise image labelled ``label`` with ``probability``."""

    def __init__(
        self, noise: PerlinNoise, probability: float = 0.09, label: int = 10, *, seed: int = 0
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
        noise = self.noise.windows(len(chosen)).to(x.dtype)  # grey: the same in every channel
        x[chosen] = noise.expand(-1, x.shape[1], -1, -1)
        y[chosen] = self.label
        return x, y
