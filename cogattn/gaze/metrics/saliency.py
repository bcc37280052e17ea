"""Saliency-map metrics: NSS, AUC (uniform, Judd, shuffled), CC, KLD, SIM, information gain.

Conventions follow the MIT/Tübingen saliency benchmark (Bylinskii et al., 2019, "What do
different evaluation metrics tell us about saliency models?", IEEE TPAMI 41:740–757; the
Tübingen re-implementation pysaliency, Kümmerer et al., 2018, ECCV):

- maps are 2-D arrays ``(H, W)``; fixations are ``(n, 2)`` arrays of x, y in pixels of the
  map (origin top-left) and index the pixel ``[int(y), int(x)]`` (a fixation exactly on the
  right/bottom edge takes the last column/row; one outside the map raises);
- *densities*: a saliency map becomes a probability map by shifting it to a minimum of 0
  when it has negative values and dividing by its sum (a map summing to 0 becomes uniform)
  — pysaliency's ``convert_saliency_map_to_density``;
- per-fixation metrics (NSS, AUC, sAUC, IG) count every fixation (repeats included), as
  pysaliency does; AUC-Judd uses the binary fixation map (each fixated pixel once), as
  the MIT code does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations

__all__ = [
    "EPS",
    "auc",
    "auc_judd",
    "auc_shuffled",
    "cc",
    "fixation_density",
    "fixation_map",
    "information_gain",
    "kld",
    "nss",
    "sim",
    "to_density",
]

EPS = 2.2204e-16  # the MIT benchmark's regulariser (MATLAB eps, rounded)


def _as_map(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D map (H, W), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must contain finite values only")
    return arr


def _pixels(fixations: Any, shape: tuple[int, int], name: str = "fixations") -> tuple:
    fix = as_fixations(fixations, name)
    h, w = shape
    x, y = fix[:, 0], fix[:, 1]
    outside = (x < 0) | (x > w) | (y < 0) | (y > h)
    if outside.any():
        k = int(np.argmax(outside))
        raise ValueError(
            f"{name}: fixation {k} at ({x[k]:g}, {y[k]:g}) px lies outside the map "
            f"({w} x {h} px); give fixations in pixels of the map"
        )
    return np.minimum(y.astype(np.int64), h - 1), np.minimum(x.astype(np.int64), w - 1)


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"the two maps must have the same shape, got {a.shape} and {b.shape}")


def to_density(saliency_map: Any) -> np.ndarray:
    """Probability map from a saliency map (shift to min 0 if negative, divide by the sum)."""
    s = _as_map(saliency_map, "saliency_map").copy()
    if s.min() < 0:
        s -= s.min()
    total = s.sum()
    if total > 0:
        return s / total
    return np.full(s.shape, 1.0 / s.size)


def fixation_map(fixations: Any, shape: tuple[int, int]) -> np.ndarray:
    """Binary map ``(H, W)`` of the fixated pixels."""
    rows, cols = _pixels(fixations, shape)
    out = np.zeros(shape, dtype=bool)
    out[rows, cols] = True
    return out


def fixation_density(fixations: Any, shape: tuple[int, int], *, sigma_px: float) -> np.ndarray:
    """Empirical fixation density: fixation counts blurred by a Gaussian, summing to 1.

    Parameters
    ----------
    fixations : array (n, 2)
        Fixations in pixels of the map.
    shape : (H, W)
        Map size.
    sigma_px : float
        Gaussian standard deviation in pixels (often about 1 degree of visual angle).
    """
    from scipy.ndimage import gaussian_filter

    if not sigma_px >= 0:
        raise ValueError(f"sigma_px must be >= 0, got {sigma_px}")
    rows, cols = _pixels(fixations, shape)
    counts = np.zeros(shape)
    np.add.at(counts, (rows, cols), 1.0)
    blurred = gaussian_filter(counts, sigma_px, mode="constant") if sigma_px > 0 else counts
    return to_density(blurred)


def nss(saliency_map: Any, fixations: Any) -> float:
    """Normalized scanpath saliency (Peters et al., 2005).

    The map is standardised (mean 0, population std 1 — left unscaled when constant) and
    averaged over the fixations (every fixation counts; pysaliency ``NSS``).

    Returns
    -------
    float
        Mean standardised saliency at the fixations (0 = chance); NaN without fixations.

    Examples
    --------
    >>> nss([[0.0, 1.0], [0.0, 1.0]], [[1.5, 0.5]])  # the salient column
    1.0
    """
    s = _as_map(saliency_map, "saliency_map")
    rows, cols = _pixels(fixations, s.shape)
    if rows.size == 0:
        return float("nan")
    std = s.std()
    values = s[rows, cols] - s.mean()
    if std:
        values = values / std
    return float(values.mean())


def _roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Exact ROC area: P(pos > neg) + ½ P(pos = neg) (trapezoid over all thresholds)."""
    if positives.size == 0 or negatives.size == 0:
        return float("nan")
    neg = np.sort(negatives)
    below = np.searchsorted(neg, positives, side="left")
    equal = np.searchsorted(neg, positives, side="right") - below
    return float((below + 0.5 * equal).sum() / (positives.size * neg.size))


def auc(saliency_map: Any, fixations: Any) -> float:
    """ROC AUC with every pixel as a negative (pysaliency ``AUC``, uniform non-fixations).

    Positives are the saliency values at the fixations (each fixation counted); ties count
    one half. 0.5 = chance, 1 = perfect.
    """
    s = _as_map(saliency_map, "saliency_map")
    rows, cols = _pixels(fixations, s.shape)
    return _roc_auc(s[rows, cols], s.ravel())


def auc_shuffled(saliency_map: Any, fixations: Any, other_fixations: Any) -> float:
    """Shuffled AUC: negatives are fixations from *other* images at the same pixels.

    Centre bias shared by all images is discounted (Zhang et al., 2008; Borji et al.,
    2013). Exact ROC area over all thresholds (pysaliency ``sAUC``), ties count one half;
    the MIT code instead averages 100 random subsamples of the negatives with thresholds
    every 0.1.

    Parameters
    ----------
    saliency_map : array (H, W)
    fixations : array (n, 2)
        Fixations on this image (positives).
    other_fixations : array (k, 2)
        Fixations recorded on other images, in pixels of this map (negatives).
    """
    s = _as_map(saliency_map, "saliency_map")
    rows, cols = _pixels(fixations, s.shape)
    orow, ocol = _pixels(other_fixations, s.shape, "other_fixations")
    return _roc_auc(s[rows, cols], s[orow, ocol])


def auc_judd(
    saliency_map: Any, fixations: Any, *, jitter: bool = True, seed: int | None = 0
) -> float:
    """AUC-Judd (Judd et al., 2009; MIT benchmark ``AUC_Judd.m``).

    The map gets a tiny random jitter (uniform [0, 1e-7), to break ties) when ``jitter``,
    is rescaled to [0, 1], and the ROC curve is traced at the saliency of each fixated
    pixel (binary fixation map): true positives = fixated pixels at or above the threshold
    / all fixated pixels, false positives = other pixels at or above it / all other pixels;
    trapezoidal area with the end points (0, 0) and (1, 1).

    Returns
    -------
    float
        In [0, 1] (0.5 chance); NaN without fixations or for a constant map without jitter.
    """
    s = _as_map(saliency_map, "saliency_map")
    fmap = fixation_map(fixations, s.shape)
    if not fmap.any():
        return float("nan")
    if jitter:
        s = s + np.random.default_rng(seed).random(s.shape) / 1e7
    span = s.max() - s.min()
    if span == 0:
        return float("nan")
    s = (s - s.min()) / span
    flat = s.ravel()
    sth = np.sort(flat[fmap.ravel()])[::-1]
    n_fix = sth.size
    n_pix = flat.size
    if n_pix == n_fix:
        return float("nan")
    sorted_all = np.sort(flat)
    above = n_pix - np.searchsorted(sorted_all, sth, side="left")
    k = np.arange(1, n_fix + 1)
    tp = np.concatenate([[0.0], k / n_fix, [1.0]])
    fp = np.concatenate([[0.0], (above - k) / (n_pix - n_fix), [1.0]])
    return float((np.diff(fp) * (tp[1:] + tp[:-1]) / 2).sum())  # trapezoidal rule


def cc(map1: Any, map2: Any) -> float:
    """Pearson correlation coefficient between two maps (Le Meur et al., 2007).

    Symmetric, in [−1, 1]; 0 when either map is constant (no variance to correlate; the MIT
    and pysaliency codes return 0 or NaN there depending on the argument order).
    """
    a = _as_map(map1, "map1").ravel()
    b = _as_map(map2, "map2").ravel()
    if a.size != b.size:
        raise ValueError(
            f"the two maps must have the same shape, got {np.shape(map1)} and {np.shape(map2)}"
        )
    a = a - a.mean()
    b = b - b.mean()
    sa, sb = np.sqrt((a * a).sum()), np.sqrt((b * b).sum())
    if sa == 0 or sb == 0:
        return 0.0
    return float(np.clip((a * b).sum() / (sa * sb), -1.0, 1.0))


def kld(saliency_map: Any, reference_map: Any) -> float:
    """KL divergence of the reference (human) density from the model density (MIT ``KLdiv``).

    ``Σ q · log(ε + q / (p + ε))`` with ``p`` the model and ``q`` the reference map turned
    into densities (:func:`to_density`), ``ε = 2.2204e-16`` (pysaliency ``MIT_KLDiv``).
    Not symmetric; 0 for identical maps, larger is worse; natural log (nats).

    Parameters
    ----------
    saliency_map : array (H, W)
        Model map ``p``.
    reference_map : array (H, W)
        Empirical fixation map or density ``q`` (e.g. :func:`fixation_density`).
    """
    p = to_density(saliency_map)
    q = to_density(reference_map)
    _same_shape(p, q)
    return float((q * np.log(EPS + q / (p + EPS))).sum())


def sim(map1: Any, map2: Any) -> float:
    """Similarity (histogram intersection) of two maps as densities: ``Σ min(p1, p2)``.

    Symmetric, in [0, 1], 1 for identical densities (Swain & Ballard, 1991; pysaliency
    ``SIM``). The MIT code rescales each map to [0, 1] before normalising; here maps are
    only shifted when they have negative values (:func:`to_density`).
    """
    p = to_density(map1)
    q = to_density(map2)
    _same_shape(p, q)
    return float(np.minimum(p, q).sum())


def information_gain(density: Any, fixations: Any, *, baseline: Any = None) -> float:
    """Information gain over a baseline, in bits per fixation (Kümmerer et al., 2015).

    ``mean_f [log2(p(f) + ε) − log2(b(f) + ε)]`` over fixations ``f``, with ``p`` and ``b``
    the model and baseline maps turned into per-pixel probabilities (:func:`to_density`)
    and ``ε = 2.2204e-16`` (as pysaliency's and HAT's ``info_gain``).

    Parameters
    ----------
    density : array (H, W)
        Model density (or any non-negative map; normalised here). For a model's
        log-density pass ``np.exp(log_density)``.
    fixations : array (n, 2)
        Fixations in pixels of the map.
    baseline : array (H, W), optional
        Baseline density, typically a centre bias; default uniform (then IG is the
        log-likelihood relative to chance).

    Returns
    -------
    float
        Bits per fixation (0 when the model equals the baseline); NaN without fixations.
    """
    p = to_density(density)
    b = np.full(p.shape, 1.0 / p.size) if baseline is None else to_density(baseline)
    _same_shape(p, b)
    rows, cols = _pixels(fixations, p.shape)
    if rows.size == 0:
        return float("nan")
    return float(np.mean(np.log2(p[rows, cols] + EPS) - np.log2(b[rows, cols] + EPS)))
