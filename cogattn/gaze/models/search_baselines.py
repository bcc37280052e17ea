"""Search baselines: pixel-level template matching and chance, on the shared search loop.

Both use the same loop, oracle recognition, inhibition of return and fixation cap as eccNET
(:mod:`cogattn.gaze.models._search`), so differences in search efficiency come from the
priority maps alone — the comparison of Gupta et al. (NeurIPS 2021), whose pixelMatch and
chance baselines give mean asymmetry indices of −0.178 and −0.003.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.signal import fftconvolve

from cogattn.gaze.models._search import SearchConfig, SearchModel, SearchState

__all__ = ["ChanceSearch", "PixelMatch", "pixel_match_map"]


_CAFFE_MEAN_RGB = np.array([123.68, 116.779, 103.939])  # VGG ("caffe") pixel means


def _gaussian_blur(img: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with reflect-101 borders (as ``cv2.GaussianBlur``)."""
    r = np.arange(size) - (size - 1) / 2
    k = np.exp(-(r**2) / (2 * sigma**2))
    k /= k.sum()
    p = size // 2
    mode = "reflect" if min(img.shape) > p else "edge"
    padded = np.pad(img, p, mode=mode)
    tmp = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 1, padded)
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), 0, tmp)


def pixel_match_map(
    image: np.ndarray, target: np.ndarray, *, blur: tuple[int, float] = (7, 3.0)
) -> np.ndarray:
    """Raw cross-correlation of the mean-subtracted target with the mean-subtracted display.

    Both images have the VGG per-channel pixel means subtracted; the target slides over the
    display with TensorFlow ``'same'`` alignment (window ``[i − (k−1)//2, i + k//2]``,
    zero padding), correlations are summed over channels, then blurred with a Gaussian
    (7 px, σ = 3), as the pixelMatch baseline of Gupta et al. (2021).

    Parameters
    ----------
    image : (H, W, 3) uint8
    target : (h, w, 3) uint8

    Returns
    -------
    numpy.ndarray, (H, W)
    """
    x = image.astype(np.float64) - _CAFFE_MEAN_RGB
    t = target.astype(np.float64) - _CAFFE_MEAN_RGB
    kh, kw = t.shape[:2]
    h, w = x.shape[:2]
    full = sum(fftconvolve(x[..., c], t[::-1, ::-1, c], mode="full") for c in range(3))
    out = full[kh // 2 : kh // 2 + h, kw // 2 : kw // 2 + w]
    size, sigma = blur
    return _gaussian_blur(out, size, sigma) if size > 1 else out


class PixelMatch(SearchModel):
    """Template matching in pixel space (the pixelMatch baseline of Gupta et al. 2021).

    The priority map is :func:`pixel_match_map`: the raw (not normalised) cross-correlation
    of the mean-subtracted target with the mean-subtracted display, blurred — so bright,
    large structures weigh in, not only exact matches. It is recomputed at every fixation
    on the display with inhibited objects repainted.

    Parameters
    ----------
    search : SearchConfig, optional
    batch_size : int
    device : str
        Unused (numpy); accepted for a uniform interface.
    """

    name = "pixelmatch"

    def __init__(
        self, *, search: SearchConfig | None = None, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        super().__init__(search=search, batch_size=batch_size, device=device)

    def _priority_maps(self, states: Sequence[SearchState], top_down: Any) -> list[np.ndarray]:
        return [pixel_match_map(st.image, st.display.target) for st in states]


class ChanceSearch(SearchModel):
    """Chance: each fixation goes to a uniformly random allowed location.

    With object IOR and equal-sized object regions (the grid arrays) this is a uniformly
    random choice among the objects not yet inspected.

    Parameters
    ----------
    search : SearchConfig, optional
    batch_size : int
    device : str
        Unused; accepted for a uniform interface.
    """

    name = "chance-search"

    def __init__(
        self, *, search: SearchConfig | None = None, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        super().__init__(search=search, batch_size=batch_size, device=device)

    def _priority_maps(self, states: Sequence[SearchState], top_down: Any) -> list[np.ndarray]:
        return [self._rng.random(st.display.shape) for st in states]
