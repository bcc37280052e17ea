"""eccNET (Gupta et al. 2021) and IVSN (Zhang et al. 2018): target-guided visual search on a CNN.

eccNET searches a display for a target by comparing CNN features of the target with CNN
features of the display as seen from the current fixation, and fixating the best match:

1. **Eccentricity-dependent pooling.** The five 2×2 pooling layers of VGG16 are replaced by
   :class:`EccentricityPool2d`: average pooling whose window grows with distance from the
   fixation (the map centre). In output coordinates, a central disc of radius
   ``round(fovea_deg · ppd_l / 2)`` uses ``rf_min`` = 2; then rings of width
   ``round(rf_quant_deg · ppd_l / 2)`` each use ``rf_min + round(slope_l · (2·ecc − fovea_deg ·
   ppd_l))`` (``ecc`` the ring's outer radius), and a last mask covers everything outside.
   ``ppd_l = round(px_per_deg / 2^(l−1))`` is the layer's pixels per degree (Python rounding,
   halves to even), ``slope = (0, 0, 0.07, 0.16, 0.32)``, ``fovea_deg = 4``,
   ``rf_quant_deg = 1``. When the fovea covers the map (disc radius > side/2) the layer is
   plain 2×2 pooling — every layer of a 224-px input, for example. Inputs are zero-padded to
   a square; pooling is TensorFlow-style ``'same'`` (output ``ceil(n/2)``, edge windows
   average only the valid elements).
2. **Top-down modulation.** The target is passed through the same network; its block-3, 4
   and 5 outputs (pooled down to 1/32) are used as convolution kernels (no bias, ``'same'``)
   over the display's block-3, 4 and 5 outputs (pooled to 1/16) → three attention maps.
3. **Combination.** Each map is min–max normalised; maps are averaged with weights ∝ their
   raw maxima (``layer_weighting="max"``, the asymmetry experiments) or equal
   (``"equal"``), times ``layer_mask``.
4. **Sharpening.** Three difference-of-Gaussians iterations
   ``out += G(k_l, σ_l) * out − G(k_u, σ_u) * out`` (σ = 0: OpenCV's automatic
   ``0.3·((k−1)/2 − 1) + 0.8``; reflect-101 borders), then bilinear resize to the field of view.
5. **Search loop** (:class:`cogattn.gaze.models._search.SearchModel`): the field of view is a
   square of side ``2·(max(H, W) + corner_bias)`` centred on the fixation (the display padded
   with its background, so the whole display is always visible), the first fixation is the
   display centre, the next one the maximum of the attention map over not-yet-inhibited
   display locations, recognition is an oracle (target mask), inhibition of return removes
   whole objects (or squares), and the search stops at the fixation cap.

IVSN (Zhang et al. 2018, *Nat. Commun.* 9:3730) is the same model without eccentricity
(plain max pooling everywhere).

Supported backbones: timm VGG-family CNNs (``vgg11``, ``vgg13``, ``vgg16``, ``vgg19`` and
their ``_bn`` variants) — any module whose ``features`` is an ``nn.Sequential`` with exactly
five ``MaxPool2d`` layers. The pooling layers are not modified in place: :class:`EccVGG`
reuses the convolution blocks (shared weights) and inserts its own pooling. Other
architectures raise a ``ValueError`` saying so.

References
----------
Gupta, S. K., Zhang, M., Wu, C.-C., Wolfe, J. M., & Kreiman, G. (2021). Visual search asymmetry:
deep nets and humans share similar inherent biases. NeurIPS 34.
Zhang, M., Feng, J., Ma, K. T., Lim, J. H., Zhao, Q., & Kreiman, G. (2018). Finding any Waldo
with zero-shot invariant and efficient visual search. Nature Communications 9, 3730.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cogattn.gaze.models._search import SearchConfig, SearchModel, SearchState

__all__ = [
    "IVSN",
    "EccNet",
    "EccVGG",
    "EccentricityConfig",
    "EccentricityPool2d",
    "TopDownConfig",
    "ring_masks",
    "same_pool2d",
    "tiny_vgg",
]

logger = logging.getLogger(__name__)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


# ----------------------------------------------------------------------------- configs
@dataclass(frozen=True)
class EccentricityConfig:
    """Eccentricity-dependent pooling parameters (eccNET defaults, Gupta et al. 2021).

    Attributes
    ----------
    rf_min : int
        Pool size in the fovea (and stride 2 everywhere).
    ecc_slope : tuple of 5 float
        Growth of the pool size with eccentricity per pooling layer.
    fovea_deg : float
        Diameter of the foveal disc in degrees.
    rf_quant_deg : float
        Ring width, as a diameter step in degrees.
    px_per_deg : float
        Pixels per degree of the network input (30 in the paper). Per layer ``l`` (1-based)
        the pixels per degree are ``round(px_per_deg / 2^(l−1))``.
    pool_type : {"avg", "max"}
    """

    rf_min: int = 2
    ecc_slope: tuple[float, float, float, float, float] = (0.0, 0.0, 0.07, 0.16, 0.32)
    fovea_deg: float = 4.0
    rf_quant_deg: float = 1.0
    px_per_deg: float = 30.0
    pool_type: str = "avg"

    def __post_init__(self) -> None:
        if len(self.ecc_slope) != 5:
            raise ValueError(
                f"ecc_slope needs 5 values (one per pooling layer), got {self.ecc_slope}"
            )
        if self.pool_type not in ("avg", "max"):
            raise ValueError(f"pool_type must be 'avg' or 'max', got {self.pool_type!r}")
        if self.rf_min < 1 or not self.px_per_deg > 0 or not self.fovea_deg > 0:
            raise ValueError("rf_min must be >= 1 and px_per_deg, fovea_deg > 0")
        if not self.rf_quant_deg > 0:
            raise ValueError(f"rf_quant_deg must be > 0, got {self.rf_quant_deg}")

    def layer_px_per_deg(self, layer: int, px_per_deg: float | None = None) -> int:
        """Pixels per degree at the input of pooling layer ``layer`` (1..5)."""
        ppd = self.px_per_deg if px_per_deg is None else px_per_deg
        return round(ppd / 2 ** (layer - 1))


@dataclass(frozen=True)
class TopDownConfig:
    """How target-feature attention maps are combined and sharpened.

    Attributes
    ----------
    layer_weighting : {"max", "equal"}
        ``"max"``: weight each layer's normalised map by its raw maximum (upstream
        ``weight_pattern='nl'``, used in the asymmetry experiments); ``"equal"``: equal
        weights (``'l'``, the natural-image search experiments).
    layer_mask : tuple of 3 float
        Multiplies the weights of blocks 3, 4, 5 (``(0, 0, 1)``: block 5 only).
    dog_lower, dog_upper : (int, float)
        (kernel size, sigma) of the two Gaussians of the DoG sharpening (sigma 0: OpenCV's
        automatic value). Asymmetry presets: curvature/orientation ((3, 1), (5, 3)),
        intersection ((5, 3), (7, 5)), lighting ((3, 0), (5, 1)); natural images ((3, 0), (5, 1)).
    dog_iterations : int
    """

    layer_weighting: str = "equal"
    layer_mask: tuple[float, float, float] = (1.0, 1.0, 1.0)
    dog_lower: tuple[int, float] = (3, 0.0)
    dog_upper: tuple[int, float] = (5, 1.0)
    dog_iterations: int = 3

    def __post_init__(self) -> None:
        if self.layer_weighting not in ("max", "equal"):
            raise ValueError(
                f"layer_weighting must be 'max' or 'equal', got {self.layer_weighting!r}"
            )
        if len(self.layer_mask) != 3 or sum(self.layer_mask) <= 0:
            raise ValueError(
                f"layer_mask needs 3 non-negative values, not all 0; got {self.layer_mask}"
            )
        for k, s in (self.dog_lower, self.dog_upper):
            if int(k) < 1 or int(k) % 2 == 0 or s < 0:
                raise ValueError(
                    f"DoG kernel sizes must be odd and >= 1 and sigmas >= 0, got {(k, s)}"
                )
        if self.dog_iterations < 0:
            raise ValueError(f"dog_iterations must be >= 0, got {self.dog_iterations}")


# ------------------------------------------------------------------- pooling primitives
def same_pool2d(x: torch.Tensor, size: int, stride: int = 2, mode: str = "avg") -> torch.Tensor:
    """TensorFlow-style ``'same'`` pooling: output ``ceil(n / stride)``; padding split with the
    extra pixel at the bottom/right; average pooling averages only the valid elements."""
    h, w = x.shape[-2:]
    out_h, out_w = -(-h // stride), -(-w // stride)
    pad_h = max((out_h - 1) * stride + size - h, 0)
    pad_w = max((out_w - 1) * stride + size - w, 0)
    pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
    if mode == "max":
        xp = F.pad(x, pads, value=float("-inf")) if pad_h or pad_w else x
        return F.max_pool2d(xp, size, stride)
    if not (pad_h or pad_w):
        return F.avg_pool2d(x, size, stride)
    total = F.avg_pool2d(F.pad(x, pads), size, stride, divisor_override=1)
    return total / _valid_counts(h, w, size, stride, pads, x.device, x.dtype)


@functools.lru_cache(maxsize=256)
def _valid_counts(
    h: int,
    w: int,
    size: int,
    stride: int,
    pads: tuple[int, ...],
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    ones = F.pad(torch.ones((1, 1, h, w), dtype=dtype, device=device), pads)
    return F.avg_pool2d(ones, size, stride, divisor_override=1)


def _disc(side: int, centre: int, radius: float) -> np.ndarray:
    """Pixels strictly inside a circle (as ``skimage.draw.disk``)."""
    r = np.arange(side)
    return (r[:, None] - centre) ** 2 + (r[None, :] - centre) ** 2 < radius**2


def ring_masks(
    input_side_px: int,
    layer: int,
    config: EccentricityConfig | None = None,
    *,
    px_per_deg: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks and pool sizes of eccentricity pooling layer ``layer`` (1..5).

    Parameters
    ----------
    input_side_px : int
        Side of the (square-padded) input of the pooling layer.
    layer : int
        Pooling layer number, 1..5.
    config : EccentricityConfig, optional
    px_per_deg : float, optional
        Overrides ``config.px_per_deg`` (pixels per degree of the *network input*).

    Returns
    -------
    masks : numpy.ndarray, (n_masks, out, out) bool
        Disjoint masks covering the output map (``out = ceil(input_side / 2)``): the foveal
        disc, the rings, the outside.
    pool_sizes : numpy.ndarray, (n_masks,) int

    Notes
    -----
    The ring width is at least 1 px, and a layer whose pixels per degree round to 0 pools
    plainly (both happen only for inputs below about 16 px/deg, i.e. displays scaled down
    from the paper's 30 px/deg, where the original code would not terminate).
    """
    cfg = config or EccentricityConfig()
    if not 1 <= layer <= 5:
        raise ValueError(f"layer must be 1..5, got {layer}")
    out = (input_side_px + 1) // 2
    c = out // 2
    ppd = cfg.layer_px_per_deg(layer, px_per_deg)
    slope = cfg.ecc_slope[layer - 1]
    ecc = round(cfg.fovea_deg * ppd / 2)
    if ecc > out / 2 or ppd == 0:
        return np.ones((1, out, out), dtype=bool), np.array([cfg.rf_min])
    width = round(cfg.rf_quant_deg * ppd / 2)
    if width < 1:  # only below ~16 px/deg input; the paper's 30 px/deg never gets here
        logger.debug("ring width rounds to 0 px at layer %d; using 1 px", layer)
        width = 1
    masks = [_disc(out, c, ecc)]
    sizes = [cfg.rf_min]
    ecc += width
    while ecc < out / 2:
        masks.append(_disc(out, c, ecc) & ~_disc(out, c, ecc - width))
        sizes.append(cfg.rf_min + round(slope * (2 * ecc - cfg.fovea_deg * ppd)))
        ecc += width
    masks.append(~_disc(out, c, ecc - width))
    sizes.append(cfg.rf_min + round(slope * (2 * ecc - cfg.fovea_deg * ppd)))
    return np.stack(masks), np.asarray(sizes)


class EccentricityPool2d(nn.Module):
    """Eccentricity-dependent pooling (stride 2) centred on the map centre.

    The input is zero-padded to a square (centred), each distinct pool size is applied once
    (``'same'`` padding) and the results are combined through the ring masks of
    :func:`ring_masks`. Masks are cached per (input side, pixels per degree).

    Parameters
    ----------
    layer : int
        Pooling layer number (1..5).
    config : EccentricityConfig
    """

    def __init__(self, layer: int, config: EccentricityConfig) -> None:
        super().__init__()
        self.layer = layer
        self.config = config
        self.px_per_deg: float | None = None  # set per search by EccVGG
        self._cache: dict[tuple[int, float, str], list[tuple[int, torch.Tensor]]] = {}

    def _masks(
        self, side: int, device: torch.device, dtype: torch.dtype
    ) -> list[tuple[int, torch.Tensor]]:
        ppd = self.config.px_per_deg if self.px_per_deg is None else self.px_per_deg
        key = (side, float(ppd), f"{device}{dtype}")
        if key not in self._cache:
            masks, sizes = ring_masks(side, self.layer, self.config, px_per_deg=ppd)
            grouped = []
            for size in np.unique(sizes):
                m = masks[sizes == size].any(axis=0)
                grouped.append((int(size), torch.as_tensor(m, dtype=dtype, device=device)))
            self._cache[key] = grouped
        return self._cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h != w:
            side = max(h, w)
            top, left = (side - h) // 2, (side - w) // 2
            x = F.pad(x, (left, side - w - left, top, side - h - top))
        groups = self._masks(x.shape[-1], x.device, x.dtype)
        if len(groups) == 1:
            return same_pool2d(x, groups[0][0], 2, self.config.pool_type)
        out = None
        for size, mask in groups:
            pooled = same_pool2d(x, size, 2, self.config.pool_type) * mask
            out = pooled if out is None else out + pooled
        return out


# ------------------------------------------------------------------------- the network
def _vgg_blocks(model: nn.Module) -> list[nn.Sequential]:
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ValueError(
            f"eccNET needs a VGG-family CNN (a `features` nn.Sequential with 5 MaxPool2d layers, "
            f"e.g. timm 'vgg16', 'vgg11', 'vgg16_bn'); {type(model).__name__} has no such `features`. "
            "Other architectures are not supported."
        )
    blocks: list[nn.Sequential] = []
    current: list[nn.Module] = []
    for module in features:
        if isinstance(module, nn.MaxPool2d):
            blocks.append(nn.Sequential(*current))
            current = []
        else:
            current.append(module)
    if len(blocks) != 5 or any(not isinstance(m, (nn.ReLU, nn.Identity)) for m in current):
        raise ValueError(
            f"eccNET needs exactly 5 pooling stages in `features` (VGG family); found {len(blocks)} "
            f"MaxPool2d layers in {type(model).__name__}"
        )
    return blocks


class EccVGG(nn.Module):
    """A VGG trunk with eccentricity-dependent pooling, giving eccNET's stimulus and target maps.

    The convolution blocks are those of ``vgg`` (shared, not copied); the five pooling layers
    are :class:`EccentricityPool2d` up to ``ecc_depth`` and plain ``'same'`` pooling of
    ``config.pool_type`` after.

    Parameters
    ----------
    vgg : nn.Module
        A timm VGG-family model (see the module docstring).
    config : EccentricityConfig
    ecc_depth : int
        Number of pooling layers that are eccentricity dependent (5: eccNET; 0: IVSN).
    """

    def __init__(self, vgg: nn.Module, config: EccentricityConfig, *, ecc_depth: int = 5) -> None:
        super().__init__()
        if not 0 <= ecc_depth <= 5:
            raise ValueError(f"ecc_depth must be 0..5, got {ecc_depth}")
        self.blocks = nn.ModuleList(_vgg_blocks(vgg))
        self.config = config
        self.ecc_depth = ecc_depth
        self.ecc_pools = nn.ModuleList(
            EccentricityPool2d(layer, config) for layer in range(1, ecc_depth + 1)
        )

    def set_px_per_deg(self, px_per_deg: float | None) -> None:
        """Pixels per degree of the network input for the eccentricity masks."""
        for pool in self.ecc_pools:
            pool.px_per_deg = px_per_deg

    def _pool(self, x: torch.Tensor, depth: int, *, eccentric: bool) -> torch.Tensor:
        if eccentric and depth <= self.ecc_depth:
            return self.ecc_pools[depth - 1](x)
        return same_pool2d(x, self.config.rf_min, 2, self.config.pool_type)

    def stimulus_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Block-3, 4, 5 outputs of the (eccentrically pooled) trunk, all at 1/16 of the input."""
        outs: dict[int, torch.Tensor] = {}
        for depth, block in enumerate(self.blocks, start=1):
            x = block(x)
            if depth == 5:
                outs[5] = x
                break
            if depth >= 3:
                outs[depth] = x
            for i in list(outs):
                outs[i] = self._pool(outs[i], depth, eccentric=False)
            x = self._pool(x, depth, eccentric=True)
        return [outs[3], outs[4], outs[5]]

    def target_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Block-3, 4, 5 outputs pooled (eccentrically at their own depth) down to 1/32."""
        outs: dict[int, torch.Tensor] = {}
        for depth, block in enumerate(self.blocks, start=1):
            x = block(x)
            for i in list(outs):
                outs[i] = self._pool(outs[i], depth, eccentric=False)
            x = self._pool(x, depth, eccentric=True)
            if depth >= 3:
                outs[depth] = x
        return [outs[3], outs[4], outs[5]]


# --------------------------------------------------------------------- map operations
def _gaussian_kernel1d(size: int, sigma: float) -> np.ndarray:
    if sigma <= 0:
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8  # OpenCV's automatic sigma
    r = np.arange(size) - (size - 1) / 2
    k = np.exp(-(r**2) / (2 * sigma**2))
    return k / k.sum()


def _gaussian_blur(x: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, 1, H, W)`` with reflect-101 borders (as cv2.GaussianBlur)."""
    if size == 1:
        return x
    k = torch.as_tensor(_gaussian_kernel1d(size, sigma), dtype=x.dtype, device=x.device)
    p = size // 2
    h, w = x.shape[-2:]
    mode = "reflect" if min(h, w) > p else "replicate"
    y = F.conv2d(F.pad(x, (p, p, 0, 0), mode=mode), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(y, (0, 0, p, p), mode=mode), k.view(1, 1, -1, 1))


def _same_conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Cross-correlate ``x (C, H, W)`` with ``kernel (C, kh, kw)``, TensorFlow ``'same'`` padding."""
    kh, kw = kernel.shape[-2:]
    pads = ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)
    return F.conv2d(F.pad(x[None], pads), kernel[None])[0, 0]


def combine_attention(
    stimulus_maps: Sequence[torch.Tensor],
    target_maps: Sequence[torch.Tensor],
    config: TopDownConfig,
) -> torch.Tensor:
    """Top-down attention map of one display at 1/16 resolution (eccNET steps 2–4).

    Parameters
    ----------
    stimulus_maps : 3 tensors (C_i, h, w)
    target_maps : 3 tensors (C_i, kh_i, kw_i)
    config : TopDownConfig

    Returns
    -------
    torch.Tensor, (h, w)
    """
    maps, weights = [], []
    for s, t in zip(stimulus_maps, target_maps):
        raw = _same_conv(s, t)
        weights.append(raw.max())
        lo, hi = raw.min(), raw.max()
        maps.append((raw - lo) / (hi - lo) if hi > lo else torch.zeros_like(raw))
    w = (
        torch.stack(weights)
        if config.layer_weighting == "max"
        else torch.ones(3, device=maps[0].device)
    )
    w = w * torch.as_tensor(config.layer_mask, dtype=w.dtype, device=w.device)
    total = w.sum()
    w = w / total if total > 0 else torch.full_like(w, 1 / 3)
    out = sum(wi * mi for wi, mi in zip(w, maps))
    out = out[None, None]
    (kl, sl), (ku, su) = config.dog_lower, config.dog_upper
    for _ in range(config.dog_iterations):
        out = out + (_gaussian_blur(out, int(kl), sl) - _gaussian_blur(out, int(ku), su))
    return out[0, 0]


# ------------------------------------------------------------------------ backbones
def tiny_vgg(
    widths: tuple[int, int, int, int, int] = (4, 8, 16, 16, 16),
    *,
    convs_per_block: tuple[int, int, int, int, int] = (1, 1, 2, 2, 2),
    seed: int = 0,
) -> nn.Module:
    """A tiny randomly initialised VGG-shaped CNN (for tests and CI-size pipeline checks).

    Same structure as timm's VGG (``features`` = 3×3 conv + ReLU blocks separated by five
    2×2 max-pooling layers), so :class:`EccVGG` accepts it; a search with it is a pipeline
    check, never a result.
    """
    if len(widths) != 5 or len(convs_per_block) != 5:
        raise ValueError("tiny_vgg needs 5 widths and 5 conv counts")
    gen = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = []
    c_in = 3
    for width, n in zip(widths, convs_per_block):
        for _ in range(n):
            conv = nn.Conv2d(c_in, width, 3, padding=1)
            with torch.no_grad():
                fan_in = c_in * 9
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=gen) * (2 / fan_in) ** 0.5
                )
                conv.bias.zero_()
            layers += [conv, nn.ReLU(inplace=True)]
            c_in = width
        layers.append(nn.MaxPool2d(2, 2))
    model = nn.Module()
    model.features = nn.Sequential(*layers)
    return model


_LOCAL_BACKBONES = {"tiny-vgg": tiny_vgg}


def _resolve_backbone(
    backbone: Any, weights: Any, device: str, backbone_kwargs: dict | None = None
) -> tuple[nn.Module, tuple, tuple]:
    """``(module, mean, std)`` from a name, a cogattn Backbone, or a torch module."""
    if isinstance(backbone, str) and backbone in _LOCAL_BACKBONES:
        if weights is not None:
            raise ValueError(f"{backbone!r} is a random test network; it takes no weights")
        return _LOCAL_BACKBONES[backbone]().to(device), _IMAGENET_MEAN, _IMAGENET_STD
    if isinstance(backbone, str):
        from cogattn.encoders import load_backbone

        bb = load_backbone(backbone, weights=weights, device=device, **(backbone_kwargs or {}))
        return bb.model, tuple(bb.mean), tuple(bb.std)
    if isinstance(backbone, nn.Module):
        cfg = getattr(backbone, "pretrained_cfg", None) or {}
        mean = tuple(cfg.get("mean", _IMAGENET_MEAN))
        std = tuple(cfg.get("std", _IMAGENET_STD))
        return backbone.to(device), mean, std
    if hasattr(backbone, "model") and hasattr(backbone, "mean"):
        return backbone.model, tuple(backbone.mean), tuple(backbone.std)
    raise TypeError(
        f"backbone must be a registry name (e.g. 'timm:vgg16'), a cogattn Backbone or a torch "
        f"module, got {type(backbone).__name__}"
    )


# -------------------------------------------------------------------------- the models
class EccNet(SearchModel):
    """eccNET visual search (Gupta et al. 2021) on a VGG-family timm backbone.

    Parameters
    ----------
    backbone : str, Backbone or nn.Module
        Default ``"timm:vgg16"`` (as in the paper): a :func:`cogattn.encoders.load_backbone`
        name, a loaded ``Backbone``, a torch module, or ``"tiny-vgg"`` (:func:`tiny_vgg`, for
        tests). See the module docstring for supported architectures.
    weights : None, "hub" or path
        Passed to :func:`cogattn.encoders.load_backbone` when ``backbone`` is a name.
        ``None`` (the default, because nothing is downloaded implicitly) means random
        weights: the search then runs but its results are a pipeline check, not a result.
        The paper used ImageNet VGG16 filters (``weights="hub"`` or a checkpoint path).
    device : str
        Torch device ("cpu", "cuda", ...).
    eccentricity : EccentricityConfig, optional
    top_down : TopDownConfig, optional
    search : SearchConfig, optional
        Field of view, IOR, recognition, fixation cap (see
        :class:`cogattn.gaze.models._search.SearchConfig`).
    batch_size : int
        Displays per forward pass.
    dtype : torch.dtype
        Compute dtype (``torch.bfloat16`` halves memory on GPU).
    backbone_kwargs : dict, optional
        Extra keyword arguments for :func:`cogattn.encoders.load_backbone` (e.g. timm's
        ``mlp_ratio``; only the convolution blocks are used).

    Notes
    -----
    ``predict(displays)`` takes :class:`~cogattn.stimuli.search_arrays.SearchDisplay` objects,
    or images with the target images given as ``task=`` (one image, or one per display;
    recognition is then impossible and every scanpath runs to the cap). :meth:`search`
    returns the scanpaths plus ``found`` and ``n_fixations`` per trial.
    """

    name = "eccnet"
    _ecc_depth = 5
    _pool_type = "avg"

    def __init__(
        self,
        backbone: Any = "timm:vgg16",
        *,
        weights: Any = None,
        device: str = "cpu",
        eccentricity: EccentricityConfig | None = None,
        top_down: TopDownConfig | None = None,
        search: SearchConfig | None = None,
        batch_size: int = 8,
        dtype: torch.dtype = torch.float32,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(search=search, batch_size=batch_size, device=device)
        self.backbone = backbone
        self.weights = weights
        self.backbone_kwargs = backbone_kwargs
        self.eccentricity = eccentricity or EccentricityConfig(pool_type=self._pool_type)
        if self.eccentricity.pool_type != self._pool_type:
            logger.info(
                "%s: using pool_type=%r from the given EccentricityConfig",
                type(self).__name__,
                self.eccentricity.pool_type,
            )
        self.top_down = top_down or TopDownConfig()
        self.dtype = dtype
        module, mean, std = _resolve_backbone(backbone, weights, device, backbone_kwargs)
        self.weights_untrained = weights is None and isinstance(backbone, str)
        self._net = EccVGG(module, self.eccentricity, ecc_depth=self._ecc_depth).to(device, dtype)
        self._net.eval()
        for p in self._net.parameters():
            p.requires_grad_(False)
        self._mean = torch.tensor(mean, dtype=dtype, device=device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, dtype=dtype, device=device).view(1, 3, 1, 1)

    # -------------------------------------------------------------- SearchModel hooks
    def _to_tensor(self, images: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(images, device=self.device).permute(0, 3, 1, 2).to(self.dtype) / 255
        return (x - self._mean) / self._std

    def _prepare(self, states: Sequence[SearchState], top_down: TopDownConfig | None) -> None:
        """Target kernels, computed once per display."""
        for st in states:
            self._net.set_px_per_deg(st.px_per_deg)
            with torch.inference_mode():
                maps = self._net.target_maps(self._to_tensor(st.display.target[None]))
            st.cache["kernels"] = [m[0] for m in maps]

    def _priority_maps(
        self, states: Sequence[SearchState], top_down: TopDownConfig | None
    ) -> list[np.ndarray]:
        cfg = top_down or self.top_down
        fov = np.stack([st.field_of_view() for st in states])
        self._net.set_px_per_deg(states[0].px_per_deg)
        side = fov.shape[1]
        with torch.inference_mode():
            stim = self._net.stimulus_maps(self._to_tensor(fov))
            out = []
            for i, st in enumerate(states):
                att = combine_attention([m[i] for m in stim], st.cache["kernels"], cfg)
                att = F.interpolate(
                    att[None, None].float(), size=(side, side), mode="bilinear", align_corners=False
                )[0, 0]
                att = att - att.min()
                out.append(st.crop_to_display(att.cpu().numpy()))
        return out

    def _group_key(self, state: SearchState) -> Any:
        return (state.fov_side, state.px_per_deg)


class IVSN(EccNet):
    """IVSN (Zhang et al. 2018): eccNET without eccentricity — plain 2×2 max pooling everywhere.

    Same parameters as :class:`EccNet`.
    """

    name = "ivsn"
    _ecc_depth = 0
    _pool_type = "max"
