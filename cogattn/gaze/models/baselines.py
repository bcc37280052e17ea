"""Baseline gaze models: a centre-bias Gaussian and uniform random fixations.

Both start from the image centre (as COCO-Search18 trials do) and have exact densities, so
every likelihood-based metric applies to them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cogattn.gaze.models.base import GazeModel

__all__ = ["CentreBias", "RandomScanpath"]


class CentreBias(GazeModel):
    """Fixations drawn from an anisotropic Gaussian at the image centre.

    The density is independent of the history: ``N((W/2, H/2), diag((sigma_frac*W)^2,
    (sigma_frac*H)^2))`` evaluated at pixel centres and normalised over the image. The
    first predicted fixation is the image centre when ``start_at_centre`` (the usual
    central fixation cross of search experiments).

    Parameters
    ----------
    sigma_frac : float
        Standard deviation as a fraction of the image width (x) and height (y).
    start_at_centre : bool
        Put the first fixation at the centre instead of sampling it.
    """

    has_density = True
    name = "centre-bias"

    def __init__(self, *, sigma_frac: float = 0.2, start_at_centre: bool = True) -> None:
        if not sigma_frac > 0:
            raise ValueError(f"sigma_frac must be > 0, got {sigma_frac}")
        self.sigma_frac = sigma_frac
        self.start_at_centre = start_at_centre

    def _log_density(
        self, image: np.ndarray, x_hist: np.ndarray, y_hist: np.ndarray, t_hist: Any
    ) -> np.ndarray:
        h, w = image.shape[:2]
        xs = (np.arange(w) + 0.5 - w / 2) / (self.sigma_frac * w)
        ys = (np.arange(h) + 0.5 - h / 2) / (self.sigma_frac * h)
        return -0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2)

    def _predict_one(
        self, image: np.ndarray, *, task: Any, n_fixations: int, rng: np.random.Generator
    ) -> np.ndarray:
        h, w = image.shape[:2]
        fix = np.empty((n_fixations, 2))
        for i in range(
            n_fixations
        ):  # truncated Gaussian by rejection (acceptance >= 0.9 for sigma_frac <= 0.3)
            while True:
                x, y = rng.normal((w / 2, h / 2), (self.sigma_frac * w, self.sigma_frac * h))
                if 0 <= x <= w and 0 <= y <= h:
                    fix[i] = (x, y)
                    break
        if self.start_at_centre:
            fix[0] = (w / 2, h / 2)
        return fix


class RandomScanpath(GazeModel):
    """Fixations drawn uniformly over the image (chance baseline).

    Parameters
    ----------
    start_at_centre : bool
        Put the first fixation at the image centre.
    """

    has_density = True
    name = "random"

    def __init__(self, *, start_at_centre: bool = True) -> None:
        self.start_at_centre = start_at_centre

    def _log_density(
        self, image: np.ndarray, x_hist: np.ndarray, y_hist: np.ndarray, t_hist: Any
    ) -> np.ndarray:
        h, w = image.shape[:2]
        return np.zeros((h, w))

    def _predict_one(
        self, image: np.ndarray, *, task: Any, n_fixations: int, rng: np.random.Generator
    ) -> np.ndarray:
        h, w = image.shape[:2]
        fix = np.stack([rng.uniform(0, w, n_fixations), rng.uniform(0, h, n_fixations)], axis=1)
        if self.start_at_centre:
            fix[0] = (w / 2, h / 2)
        return fix
