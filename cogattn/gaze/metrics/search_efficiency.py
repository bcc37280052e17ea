"""Search efficiency: target-found probability, TFP-AUC, probability mismatch, scanpath ratio.

Conventions of Yang et al. (CVPR 2020; cvlab-stonybrook/Scanpath_Prediction
``irl_dcb/utils.py`` and ``metrics.py``), used by IRL, Chen et al. 2021, Gazeformer and HAT
on COCO-Search18 target-present trials:

- a fixation is *on target* when it lies strictly inside the target box
  ``[x, y, width, height]`` (``x < fx < x + width`` and ``y < fy < y + height``);
- the number of steps to the target counts fixations up to and including the first one on
  target, the initial fixation being step 1 (``inf`` when the target is never fixated);
- the cumulative target-found probability at step ``k`` (``k = 1 … max_steps + 1``) is the
  fraction of scanpaths with steps ≤ ``k``; with ``groups`` (the search target category) it
  is averaged over groups, as the paper reports it (``max_steps = 6``: 7 values);
- TFP-AUC = the sum of that curve (the paper's ``cdf[0] + cdf[-1] + Σ cdf[1:-1]``);
- probability mismatch = ``Σ_k |cdf_model(k) − cdf_human(k)|``;
- scanpath ratio = distance from the initial fixation to the target-box centre divided by
  the length travelled until the first on-target fixation, capped at 1; NaN (left out of
  averages, as the reference skips them) when the target is not found within
  ``max_steps + 1`` fixations or is found by the initial fixation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from cogattn.gaze.metrics._checks import as_fixations, check_positive_int

__all__ = [
    "cumulative_target_found",
    "probability_mismatch",
    "scanpath_ratio",
    "steps_to_target",
    "target_found_cdf",
    "tfp_auc",
]


def _as_bbox(target_bbox: Any) -> np.ndarray:
    box = np.asarray(target_bbox, dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all() or (box[2:] < 0).any():
        raise ValueError(
            f"target_bbox must be [x, y, width, height] in px (finite, width/height >= 0), got {target_bbox!r}"
        )
    return box


def _on_target(fix: np.ndarray, box: np.ndarray) -> np.ndarray:
    x, y = fix[:, 0], fix[:, 1]
    return (x > box[0]) & (x < box[0] + box[2]) & (y > box[1]) & (y < box[1] + box[3])


def steps_to_target(fixations: Any, target_bbox: Any) -> float:
    """Number of fixations up to the first one inside the target box (initial = 1).

    Parameters
    ----------
    fixations : array (n, 2) or (n, 3)
        Scanpath, x and y in pixels.
    target_bbox : [x, y, width, height]
        Target box in the same pixels (strict inside test).

    Returns
    -------
    float
        ``1 … n``, or ``inf`` when no fixation is on the target.

    Examples
    --------
    >>> steps_to_target([[50, 50], [10, 10], [80, 80]], [70, 70, 20, 20])
    3.0
    """
    fix = as_fixations(fixations, "fixations")
    hit = _on_target(fix, _as_bbox(target_bbox))
    return float(np.argmax(hit) + 1) if hit.any() else float("inf")


def target_found_cdf(
    steps: Any, *, max_steps: int = 6, groups: Sequence[Any] | None = None
) -> np.ndarray:
    """Cumulative target-found probability at fixation ``k = 1 … max_steps + 1``.

    Parameters
    ----------
    steps : array (n_scanpaths,)
        :func:`steps_to_target` of each scanpath (``inf`` = not found).
    max_steps : int
        Number of steps after the initial fixation (6 for COCO-Search18).
    groups : sequence, optional
        A label per scanpath (e.g. the target category): the curve is computed per group
        and averaged over groups (Yang et al., 2020). Default: one group.

    Returns
    -------
    numpy.ndarray (max_steps + 1,)
        Non-decreasing probabilities in [0, 1].
    """
    max_steps = check_positive_int("max_steps", max_steps)
    s = np.asarray(steps, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"steps must be a non-empty 1-D array, got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError("steps must not contain NaN (use inf for 'target not found')")
    k = np.arange(1, max_steps + 2)
    if groups is None:
        return (s[:, None] <= k[None, :]).mean(axis=0)
    labels = np.asarray(groups)
    if labels.shape != s.shape:
        raise ValueError(f"groups must have one label per scanpath ({s.size}), got {labels.shape}")
    curves = [(s[labels == g, None] <= k[None, :]).mean(axis=0) for g in np.unique(labels)]
    return np.mean(curves, axis=0)


def tfp_auc(cdf: Any) -> float:
    """Area under the target-found probability curve: the sum of its values (IRL TFP-AUC)."""
    c = np.asarray(cdf, dtype=np.float64)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"cdf must be a non-empty 1-D array, got shape {c.shape}")
    return float(c.sum())


def probability_mismatch(cdf_model: Any, cdf_human: Any) -> float:
    """Σ_k |cdf_model(k) − cdf_human(k)| over fixation numbers (IRL probability mismatch)."""
    a = np.asarray(cdf_model, dtype=np.float64)
    b = np.asarray(cdf_human, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"both curves must be 1-D over the same fixation numbers, got {a.shape} and {b.shape}"
        )
    return float(np.abs(a - b).sum())


def scanpath_ratio(fixations: Any, target_bbox: Any, *, max_steps: int | None = 6) -> float:
    """Scanpath ratio: straight distance to the target centre / distance travelled (≤ 1).

    The scanpath is cut at the first on-target fixation; returns NaN when the target is
    not found within ``max_steps + 1`` fixations (``None``: no limit) or is found by the
    initial fixation (Yang et al., 2020).

    Examples
    --------
    >>> scanpath_ratio([[0, 0], [30, 40]], [25, 35, 10, 10])  # straight to the target
    1.0
    """
    fix = as_fixations(fixations, "fixations")
    box = _as_bbox(target_bbox)
    hit = _on_target(fix, box)
    if not hit.any():
        return float("nan")
    n = int(np.argmax(hit)) + 1
    if (max_steps is not None and n > max_steps + 1) or n == 1:
        return float("nan")
    path = fix[:n, :2]
    travelled = float(np.sqrt((np.diff(path, axis=0) ** 2).sum(axis=1)).sum())
    cx, cy = box[0] + box[2] / 2.0, box[1] + box[3] / 2.0
    direct = float(np.hypot(cx - path[0, 0], cy - path[0, 1]))
    if travelled == 0:
        return float("nan")
    return min(direct / travelled, 1.0)


def cumulative_target_found(
    scanpaths: xr.Dataset, *, max_steps: int = 6, by: str | None = "task"
) -> xr.DataArray:
    """Target-found probability curve of a ``Scanpaths`` dataset (uses ``target_bbox``).

    Parameters
    ----------
    scanpaths : xarray.Dataset
        A ``Scanpaths`` dataset with target boxes (trials without a box raise).
    max_steps : int
        Fixations after the initial one (curve length ``max_steps + 1``).
    by : str or None
        Per-trial coordinate whose groups are averaged (``"task"``: the paper's
        per-category average); ``None`` pools all trials.

    Returns
    -------
    xarray.DataArray
        Dim ``fixation_number`` (1 … max_steps + 1), attrs with the convention.
    """
    from cogattn.data import DataError, validate_scanpaths

    validate_scanpaths(scanpaths)
    boxes = scanpaths["target_bbox"].values
    missing = ~np.isfinite(boxes).all(axis=1)
    if missing.any():
        raise DataError(
            "target-found probability needs a target box for every trial",
            record=int(np.argmax(missing)),
            field="target_bbox",
        )
    steps = np.array(
        [steps_to_target(f, b) for f, b in zip(scanpaths.scanpath.iter_trials(), boxes)]
    )
    groups = None if by is None else scanpaths[by].values
    cdf = target_found_cdf(steps, max_steps=max_steps, groups=groups)
    return xr.DataArray(
        cdf,
        dims="fixation_number",
        coords={"fixation_number": np.arange(1, max_steps + 2)},
        name="target_found_probability",
        attrs={
            "long_name": "cumulative probability that the target was fixated",
            "convention": "initial fixation = 1; strict inside target box; "
            + ("mean over " + by if by else "pooled over trials"),
        },
    )
