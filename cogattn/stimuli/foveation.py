"""NeVA-style Gaussian-blur foveation, differentiable with respect to the fixation position.

The foveation of NeVA / NevaClip (Zanca et al. 2023, arXiv 2305.12380) blends an image with a
blurred copy of itself through a Gaussian "fovea" mask centred on the fixation:

- blur difference ``B = GaussBlur(x; k×k, σ_b, reflection padding) − x`` (per channel);
- fovea mask ``g(u) = a · exp(−‖u − p‖² / σ_f)`` evaluated on a grid of ``linspace(−1, 1)``
  coordinates (one value per pixel centre). Note the division by ``σ_f`` itself, not by
  ``2σ_f²``: with the published ``σ_f = 0.2`` the mask falls to ``1/e`` at a normalised
  distance of ``√0.2 ≈ 0.45``;
- foveated image ``x + B ⊙ clip(1 − (R + g(p)), 0, 1)`` where ``R`` is the memory of past
  fixations, updated after each fixation as ``R ← forgetting · R + g(p)``.

At the fixation (``g = a = 1``) the image is left intact; far from it the image is the blurred
copy. Everything is written with torch so that gradients flow to ``p``.

Coordinate convention (NeVA's, kept here on purpose so the algorithm reads like the paper):
a fixation is ``(row, col)`` in ``[−1, 1]``, ``−1`` the centre of the first pixel and ``+1``
the centre of the last one (the ``linspace(−1, 1, N)`` grid, i.e. ``align_corners=True``).
:func:`rc_to_pixels` and :func:`pixels_to_rc` convert to and from cogattn's pixel convention
(``x, y`` with the origin at the top-left *corner*, pixel ``i`` covering ``[i, i + 1)``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "FoveationConfig",
    "Foveator",
    "blur_difference",
    "fovea_mask",
    "foveate",
    "gaussian_blur",
    "gaussian_kernel1d",
    "pixels_to_rc",
    "rc_to_pixels",
    "update_memory",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoveationConfig:
    """Parameters of NeVA foveation (defaults: NevaClip ``main.py`` at 224 × 224 px).

    Attributes
    ----------
    blur_kernel_px : int
        Side of the (odd) Gaussian blur kernel, in pixels of the image being foveated.
    blur_sigma_px : float
        Standard deviation of the blur, in pixels.
    fovea_sigma : float
        ``σ_f`` of the fovea mask ``exp(−d²/σ_f)``, ``d`` in normalised ``[−1, 1]`` units.
    amplitude : float
        Peak ``a`` of the fovea mask.
    forgetting : float
        Memory factor: ``R ← forgetting · R + g(p)`` after each fixation (0 keeps only the
        last fixation, 1 accumulates all of them).
    """

    blur_kernel_px: int = 41
    blur_sigma_px: float = 10.0
    fovea_sigma: float = 0.2
    amplitude: float = 1.0
    forgetting: float = 0.0

    def __post_init__(self) -> None:
        if self.blur_kernel_px < 1 or self.blur_kernel_px % 2 == 0:
            raise ValueError(
                f"blur_kernel_px must be a positive odd integer, got {self.blur_kernel_px}"
            )
        if not self.blur_sigma_px > 0:
            raise ValueError(f"blur_sigma_px must be > 0, got {self.blur_sigma_px}")
        if not self.fovea_sigma > 0:
            raise ValueError(f"fovea_sigma must be > 0, got {self.fovea_sigma}")
        if not self.amplitude > 0:
            raise ValueError(f"amplitude must be > 0, got {self.amplitude}")
        if not 0 <= self.forgetting <= 1:
            raise ValueError(f"forgetting must lie in [0, 1], got {self.forgetting}")


# --------------------------------------------------------------------------- coordinates
def rc_to_pixels(rc: np.ndarray | torch.Tensor, *, width_px: float, height_px: float) -> np.ndarray:
    """Convert NeVA ``(row, col)`` in ``[−1, 1]`` to pixel ``(x, y)`` (origin top-left corner).

    ``−1`` is the centre of the first pixel (``0.5``) and ``+1`` the centre of the last one
    (``size − 0.5``): ``x = 0.5 + (col + 1) / 2 · (width − 1)``, likewise ``y`` from ``row``.

    Parameters
    ----------
    rc : array (..., 2)
        ``(row, col)`` coordinates.
    width_px, height_px : float
        Size of the pixel grid the coordinates refer to.

    Returns
    -------
    numpy.ndarray (..., 2)
        ``(x, y)`` in pixels.
    """
    rc = rc.detach().cpu().numpy() if isinstance(rc, torch.Tensor) else np.asarray(rc, dtype=float)
    if rc.shape[-1] != 2:
        raise ValueError(f"rc must have a last axis of size 2 (row, col), got shape {rc.shape}")
    x = 0.5 + (rc[..., 1] + 1.0) / 2.0 * (width_px - 1.0)
    y = 0.5 + (rc[..., 0] + 1.0) / 2.0 * (height_px - 1.0)
    return np.stack([x, y], axis=-1).astype(float)


def pixels_to_rc(xy: np.ndarray, *, width_px: float, height_px: float) -> np.ndarray:
    """Inverse of :func:`rc_to_pixels`: pixel ``(x, y)`` to NeVA ``(row, col)``."""
    xy = np.asarray(xy, dtype=float)
    if xy.shape[-1] != 2:
        raise ValueError(f"xy must have a last axis of size 2 (x, y), got shape {xy.shape}")
    if width_px < 2 or height_px < 2:
        raise ValueError(f"the pixel grid must be at least 2 × 2, got {width_px} × {height_px}")
    col = (xy[..., 0] - 0.5) / (width_px - 1.0) * 2.0 - 1.0
    row = (xy[..., 1] - 0.5) / (height_px - 1.0) * 2.0 - 1.0
    return np.stack([row, col], axis=-1)


# --------------------------------------------------------------------------- blur
def gaussian_kernel1d(
    size: int, sigma: float, *, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Normalised 1-D Gaussian kernel of odd length ``size`` (sums to 1)."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be a positive odd integer, got {size}")
    half = (size - 1) / 2
    t = torch.arange(size, dtype=torch.float64) - half
    k = torch.exp(-(t**2) / (2.0 * sigma**2))
    return (k / k.sum()).to(dtype)


def gaussian_blur(x: torch.Tensor, *, kernel_px: int, sigma_px: float) -> torch.Tensor:
    """Separable Gaussian blur of ``x`` (B, C, H, W) with reflection padding.

    Raises
    ------
    ValueError
        When the image is not larger than half the kernel (reflection padding needs it).
    """
    if x.ndim != 4:
        raise ValueError(
            f"expected a (batch, channel, height, width) tensor, got shape {tuple(x.shape)}"
        )
    pad = kernel_px // 2
    h, w = x.shape[-2:]
    if pad >= h or pad >= w:
        raise ValueError(
            f"image of {h} × {w} px is too small for a {kernel_px}-px blur kernel with reflection "
            f"padding; use images larger than {pad} px or a smaller blur_kernel_px"
        )
    c = x.shape[1]
    k = gaussian_kernel1d(kernel_px, sigma_px, dtype=x.dtype).to(x.device)
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    xp = F.conv2d(xp, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(xp, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def blur_difference(x: torch.Tensor, config: FoveationConfig | None = None) -> torch.Tensor:
    """``B = GaussBlur(x) − x``, the term the fovea mask gates (NeVA)."""
    config = config or FoveationConfig()
    return gaussian_blur(x, kernel_px=config.blur_kernel_px, sigma_px=config.blur_sigma_px) - x


# --------------------------------------------------------------------------- mask and blend
def fovea_mask(
    fixation_rc: torch.Tensor,
    size_hw: tuple[int, int],
    config: FoveationConfig | None = None,
) -> torch.Tensor:
    """Fovea mask ``a · exp(−‖u − p‖² / σ_f)`` on the ``linspace(−1, 1)`` pixel-centre grid.

    Parameters
    ----------
    fixation_rc : tensor (B, 2)
        Fixations ``(row, col)`` in ``[−1, 1]``; gradients flow through it.
    size_hw : (int, int)
        Height and width of the mask.
    config : FoveationConfig, optional

    Returns
    -------
    torch.Tensor (B, H, W)
    """
    config = config or FoveationConfig()
    if fixation_rc.ndim != 2 or fixation_rc.shape[1] != 2:
        raise ValueError(f"fixation_rc must have shape (batch, 2), got {tuple(fixation_rc.shape)}")
    h, w = size_hw
    dtype = fixation_rc.dtype if fixation_rc.is_floating_point() else torch.float32
    rows = torch.linspace(-1.0, 1.0, h, dtype=dtype, device=fixation_rc.device)
    cols = torch.linspace(-1.0, 1.0, w, dtype=dtype, device=fixation_rc.device)
    p = fixation_rc.to(dtype)
    d2 = (rows.view(1, h, 1) - p[:, 0].view(-1, 1, 1)) ** 2 + (
        cols.view(1, 1, w) - p[:, 1].view(-1, 1, 1)
    ) ** 2
    return config.amplitude * torch.exp(-d2 / config.fovea_sigma)


def foveate(
    x: torch.Tensor,
    fixation_rc: torch.Tensor,
    *,
    memory: torch.Tensor | None = None,
    blur_diff: torch.Tensor | None = None,
    config: FoveationConfig | None = None,
) -> torch.Tensor:
    """Foveate images at the given fixations: ``x + B ⊙ clip(1 − (R + g(p)), 0, 1)`` (NeVA).

    Parameters
    ----------
    x : tensor (B, C, H, W)
        Images (any per-channel affine normalisation: the blend commutes with it).
    fixation_rc : tensor (B, 2)
        Fixations ``(row, col)`` in ``[−1, 1]`` (see the module docstring).
    memory : tensor (B, H, W), optional
        Memory ``R`` of past fixations (see :func:`update_memory`); zeros when omitted.
    blur_diff : tensor (B, C, H, W), optional
        Precomputed :func:`blur_difference` of ``x`` (it does not depend on the fixation, so
        optimisation loops compute it once).
    config : FoveationConfig, optional

    Returns
    -------
    torch.Tensor (B, C, H, W)
        Differentiable with respect to ``fixation_rc``.
    """
    config = config or FoveationConfig()
    if x.ndim != 4:
        raise ValueError(
            f"expected images of shape (batch, channel, height, width), got {tuple(x.shape)}"
        )
    if fixation_rc.shape != (x.shape[0], 2):
        raise ValueError(
            f"fixation_rc must have shape ({x.shape[0]}, 2) for {x.shape[0]} images, "
            f"got {tuple(fixation_rc.shape)}"
        )
    if blur_diff is None:
        blur_diff = blur_difference(x, config)
    g = fovea_mask(fixation_rc, tuple(x.shape[-2:]), config)
    if memory is not None:
        if memory.shape != g.shape:
            raise ValueError(f"memory must have shape {tuple(g.shape)}, got {tuple(memory.shape)}")
        g = g + memory
    gate = torch.clamp(1.0 - g, 0.0, 1.0).unsqueeze(1).to(x.dtype)
    return x + blur_diff * gate


def update_memory(
    memory: torch.Tensor | None,
    fixation_rc: torch.Tensor,
    size_hw: tuple[int, int],
    config: FoveationConfig | None = None,
) -> torch.Tensor:
    """NeVA fixation memory: ``R ← forgetting · R + g(p)`` (``R = 0`` when ``memory`` is None)."""
    config = config or FoveationConfig()
    g = fovea_mask(fixation_rc.detach(), size_hw, config)
    return g if memory is None else config.forgetting * memory + g


class Foveator:
    """Foveate one batch of images repeatedly (blur computed once), keeping the memory.

    Parameters
    ----------
    x : tensor (B, C, H, W)
        Images.
    config : FoveationConfig, optional

    Examples
    --------
    >>> import torch
    >>> fov = Foveator(torch.rand(2, 3, 64, 64), FoveationConfig(blur_kernel_px=9, blur_sigma_px=2))
    >>> out = fov(torch.zeros(2, 2))          # foveate at the centre
    >>> fov.fixate(torch.zeros(2, 2))         # commit the fixation to memory
    >>> tuple(out.shape)
    (2, 3, 64, 64)
    """

    def __init__(self, x: torch.Tensor, config: FoveationConfig | None = None) -> None:
        self.config = config or FoveationConfig()
        self.x = x
        self.blur_diff = blur_difference(x, self.config)
        self.memory: torch.Tensor | None = None

    def __call__(self, fixation_rc: torch.Tensor) -> torch.Tensor:
        """Foveated images for ``fixation_rc`` (B, 2), given the memory so far."""
        return foveate(
            self.x, fixation_rc, memory=self.memory, blur_diff=self.blur_diff, config=self.config
        )

    def fixate(self, fixation_rc: torch.Tensor) -> None:
        """Add a fixation to the memory (``R ← forgetting · R + g(p)``)."""
        self.memory = update_memory(self.memory, fixation_rc, tuple(self.x.shape[-2:]), self.config)
