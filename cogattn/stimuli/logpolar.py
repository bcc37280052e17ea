"""Log-polar ("retinotopic") sampling grids applied with :func:`torch.nn.functional.grid_sample`.

Following Jérémie, Daucé & Perrinet (2024, arXiv 2402.15480, "Foveated retinotopy improves
classification and localization in CNNs"), an image is resampled on a grid whose **rows are
eccentricities** spaced geometrically from ``r_max = 2^0`` (row 0, periphery) down to
``r_min = 2^−5`` (last row, fovea) and whose **columns are polar angles**
``θ_j = 2π j / n_angles`` (``j = 0 … n_angles − 1``)::

    grid_x[i, j] = c_x + r_i cos θ_j,   grid_y[i, j] = c_y + r_i sin θ_j,
    r_i = 2 ** linspace(log2_r_max, log2_r_min, n_radii)

so a rotation of the image about the fixation is a circular shift of the columns and a zoom
about it is a shift of the rows (``(n_radii − 1) / (log2_r_max − log2_r_min)`` rows per
octave).

Coordinate convention: grid coordinates are ``grid_sample``'s normalised ``(x, y)`` with
``align_corners=False``: ``−1`` is the left/top **edge** of the image and ``+1`` the
right/bottom edge, ``y`` pointing down, so a pixel position ``(x_px, y_px)`` (origin top-left
corner) is ``u = 2 x_px / W − 1``. Radii are in these units (1 = half the image width along x,
half the height along y), so rings are circles on square images and ellipses otherwise. Angles
increase from +x towards +y, i.e. **clockwise on screen**. :func:`pixels_to_normalised` and
:func:`normalised_to_pixels` convert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "LogPolarConfig",
    "cartesian_grid",
    "disc_mask",
    "inverse_logpolar",
    "logpolar_grid",
    "logpolar_transform",
    "normalised_to_pixels",
    "pixels_to_normalised",
    "rows_per_octave",
]


@dataclass(frozen=True)
class LogPolarConfig:
    """Shape and radial range of a log-polar grid (defaults: the paper's 224 × 224, 2^0…2^−5).

    Attributes
    ----------
    n_radii : int
        Number of rows (eccentricities).
    n_angles : int
        Number of columns (polar angles, ``2π / n_angles`` apart).
    log2_r_max : float
        ``log2`` of the outermost radius (row 0), in normalised units.
    log2_r_min : float
        ``log2`` of the innermost radius (last row).
    """

    n_radii: int = 224
    n_angles: int = 224
    log2_r_max: float = 0.0
    log2_r_min: float = -5.0

    def __post_init__(self) -> None:
        if self.n_radii < 2 or self.n_angles < 2:
            raise ValueError(
                f"n_radii and n_angles must be >= 2, got {self.n_radii} and {self.n_angles}"
            )
        if not self.log2_r_min < self.log2_r_max:
            raise ValueError(
                f"log2_r_min ({self.log2_r_min}) must be smaller than log2_r_max ({self.log2_r_max})"
            )

    def with_r_max(self, r_max: float) -> LogPolarConfig:
        """Same grid with outer radius ``r_max`` (inner radius unchanged)."""
        if not r_max > 2.0**self.log2_r_min:
            raise ValueError(f"r_max must exceed r_min = {2.0**self.log2_r_min:g}, got {r_max}")
        return replace(self, log2_r_max=float(np.log2(r_max)))


def rows_per_octave(config: LogPolarConfig) -> float:
    """Rows between radii ``r`` and ``r / 2``: ``(n_radii − 1) / (log2_r_max − log2_r_min)``."""
    return (config.n_radii - 1) / (config.log2_r_max - config.log2_r_min)


def pixels_to_normalised(xy: Any, *, width_px: float, height_px: float) -> np.ndarray:
    """Pixel ``(x, y)`` (origin top-left corner) to ``grid_sample`` coordinates (``u = 2x/W − 1``)."""
    xy = np.asarray(xy, dtype=float)
    if xy.shape[-1] != 2:
        raise ValueError(f"xy must have a last axis of size 2, got shape {xy.shape}")
    return np.stack([2.0 * xy[..., 0] / width_px - 1.0, 2.0 * xy[..., 1] / height_px - 1.0], -1)


def normalised_to_pixels(uv: Any, *, width_px: float, height_px: float) -> np.ndarray:
    """Inverse of :func:`pixels_to_normalised`."""
    uv = np.asarray(uv, dtype=float)
    if uv.shape[-1] != 2:
        raise ValueError(f"uv must have a last axis of size 2, got shape {uv.shape}")
    return np.stack([(uv[..., 0] + 1.0) * width_px / 2.0, (uv[..., 1] + 1.0) * height_px / 2.0], -1)


def _centres(
    centre_xy: Any, batch: int | None, device: Any, dtype: torch.dtype
) -> torch.Tensor | None:
    if centre_xy is None:
        return None
    c = torch.as_tensor(centre_xy, dtype=dtype, device=device)
    if c.ndim == 1:
        c = c.unsqueeze(0)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"centre_xy must have shape (2,) or (batch, 2), got {tuple(c.shape)}")
    if batch is not None and c.shape[0] not in (1, batch):
        raise ValueError(f"got {c.shape[0]} fixation centres for {batch} images")
    return c


def logpolar_grid(
    config: LogPolarConfig | None = None,
    *,
    centre_xy: Any = None,
    device: Any = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The log-polar sampling grid, optionally translated to fixation centres.

    Parameters
    ----------
    config : LogPolarConfig, optional
    centre_xy : array (2,) or (B, 2), optional
        Fixation centres in normalised ``grid_sample`` coordinates (default: image centre).
    device, dtype
        Of the returned tensor.

    Returns
    -------
    torch.Tensor
        ``(n_radii, n_angles, 2)`` without ``centre_xy``, else ``(B, n_radii, n_angles, 2)``;
        last axis ``(x, y)``.
    """
    config = config or LogPolarConfig()
    log2_r = torch.linspace(
        config.log2_r_max, config.log2_r_min, config.n_radii, dtype=torch.float64
    )
    rs = torch.pow(2.0, log2_r)
    ts = torch.arange(config.n_angles, dtype=torch.float64) * (2.0 * math.pi / config.n_angles)
    grid = torch.stack([torch.outer(rs, torch.cos(ts)), torch.outer(rs, torch.sin(ts))], dim=-1)
    grid = grid.to(device=device, dtype=dtype)
    c = _centres(centre_xy, None, device, dtype)
    if c is None:
        return grid
    return grid.unsqueeze(0) + c.view(-1, 1, 1, 2)


def cartesian_grid(
    size_hw: tuple[int, int],
    *,
    half_size: float = 1.0,
    centre_xy: Any = None,
    device: Any = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """A regular grid covering ``[c − half_size, c + half_size]²`` (pixel centres, ``align_corners=False``).

    With ``half_size=1`` and no centre it reproduces the image itself under ``grid_sample``;
    smaller ``half_size`` zooms in, a centre translates (the Cartesian control's "fixation").

    Returns
    -------
    torch.Tensor
        ``(H, W, 2)`` or ``(B, H, W, 2)`` with ``centre_xy`` of shape ``(B, 2)``.
    """
    h, w = size_hw
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) / h * 2.0 - 1.0
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) / w * 2.0 - 1.0
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = (torch.stack([gx, gy], dim=-1) * half_size).to(device=device, dtype=dtype)
    c = _centres(centre_xy, None, device, dtype)
    if c is None:
        return grid
    return grid.unsqueeze(0) + c.view(-1, 1, 1, 2)


def disc_mask(
    size_hw: tuple[int, int], *, radius: float = 1.0, device: Any = "cpu", dtype=torch.float32
) -> torch.Tensor:
    """``(H, W)`` mask, 1 where the pixel centre lies within ``radius`` (normalised units) of the centre."""
    grid = cartesian_grid(size_hw, device=device, dtype=dtype)
    return (grid.pow(2).sum(-1) <= radius**2).to(dtype)


def logpolar_transform(
    images: torch.Tensor,
    config: LogPolarConfig | None = None,
    *,
    centre_xy: Any = None,
    mode: str = "bilinear",
) -> torch.Tensor:
    """Resample images on the log-polar grid (zeros outside the image).

    Parameters
    ----------
    images : tensor (B, C, H, W)
    config : LogPolarConfig, optional
    centre_xy : array (2,) or (B, 2), optional
        Fixation(s) in normalised coordinates; default the image centre.
    mode : {"bilinear", "nearest", "bicubic"}
        ``grid_sample`` interpolation.

    Returns
    -------
    torch.Tensor (B, C, n_radii, n_angles)
        Row 0 is the periphery (``r_max``), the last row the fovea; columns are polar angles.
    """
    if images.ndim != 4:
        raise ValueError(
            f"expected images of shape (batch, channel, height, width), got {tuple(images.shape)}"
        )
    b = images.shape[0]
    c = _centres(centre_xy, b, images.device, images.dtype)
    grid = logpolar_grid(config, device=images.device, dtype=images.dtype)
    grid = grid.unsqueeze(0).expand(b, -1, -1, -1)
    if c is not None:
        grid = grid + c.view(-1, 1, 1, 2)
    return F.grid_sample(images, grid, mode=mode, padding_mode="zeros", align_corners=False)


def inverse_logpolar(
    logpolar: torch.Tensor,
    size_hw: tuple[int, int],
    config: LogPolarConfig | None = None,
    *,
    centre_xy: Any = None,
    fill: float = float("nan"),
) -> torch.Tensor:
    """Map a log-polar image back to Cartesian pixels, for display.

    Each output pixel centre at radius ``r`` and angle ``θ`` from the fixation reads the
    log-polar image at row ``(log2 r − log2_r_max) / (log2_r_min − log2_r_max) · (n_radii − 1)``
    and column ``θ / 2π · n_angles`` (bilinear, wrapping around in angle). Pixels outside
    ``[r_min, r_max]`` get ``fill``.

    Parameters
    ----------
    logpolar : tensor (B, C, n_radii, n_angles)
    size_hw : (int, int)
        Output size.
    config : LogPolarConfig, optional
        The grid the log-polar image was sampled with.
    centre_xy : array (2,) or (B, 2), optional
        Fixation the log-polar image was centred on (normalised coordinates).
    fill : float
        Value outside the sampled annulus (NaN shows as blank with matplotlib).

    Returns
    -------
    torch.Tensor (B, C, H, W)
    """
    config = config or LogPolarConfig()
    if logpolar.ndim != 4 or logpolar.shape[-2:] != (config.n_radii, config.n_angles):
        raise ValueError(
            f"expected a log-polar tensor (batch, channel, {config.n_radii}, {config.n_angles}), "
            f"got {tuple(logpolar.shape)}"
        )
    b = logpolar.shape[0]
    grid = cartesian_grid(size_hw, device=logpolar.device, dtype=torch.float64)
    grid = grid.unsqueeze(0).expand(b, -1, -1, -1)
    c = _centres(centre_xy, b, logpolar.device, torch.float64)
    if c is not None:
        grid = grid - c.view(-1, 1, 1, 2)
    r = torch.sqrt(grid[..., 0] ** 2 + grid[..., 1] ** 2)
    theta = torch.remainder(torch.atan2(grid[..., 1], grid[..., 0]), 2.0 * math.pi)
    log2_r = torch.log2(torch.clamp(r, min=1e-12))
    row = (
        (log2_r - config.log2_r_max)
        / (config.log2_r_min - config.log2_r_max)
        * (config.n_radii - 1)
    )
    col = theta / (2.0 * math.pi) * config.n_angles
    # pad one wrapped column so that angles in [θ_last, 2π) interpolate towards column 0
    padded = torch.cat([logpolar, logpolar[..., :1]], dim=-1)
    sample = torch.stack(
        [col / config.n_angles * 2.0 - 1.0, row / (config.n_radii - 1) * 2.0 - 1.0], dim=-1
    )
    out = F.grid_sample(
        padded,
        sample.to(logpolar.dtype),
        mode="bilinear",
        padding_mode="border",
        align_corners=True,
    )
    eps = 1e-9
    valid = (log2_r <= config.log2_r_max + eps) & (log2_r >= config.log2_r_min - eps)
    return torch.where(valid.unsqueeze(1), out, torch.full_like(out, fill))
