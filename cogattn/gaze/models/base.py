"""Base class of every gaze model: ``predict`` scanpaths, optionally a conditional density.

Following pysaliency, a model with a density implements one private hook,
``_log_density(image, x_hist, y_hist, t_hist)``, and inherits
:meth:`GazeModel.conditional_log_density` (validated, normalised) and sampling-based
:meth:`GazeModel.predict`. Models without a density (search models such as eccNET) override
``_predict_one`` instead.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from cogattn.data import scanpaths
from cogattn.stimuli.images import as_image_list

__all__ = ["GazeModel"]

logger = logging.getLogger(__name__)


class GazeModel:
    """Base class for scanpath models.

    Subclasses implement either ``_log_density`` (then ``has_density = True`` and
    :meth:`predict` samples from it) or ``_predict_one`` (a full scanpath per image).

    Attributes
    ----------
    has_density : bool
        Whether :meth:`conditional_log_density` is available.
    name : str
        Registry name, used as the ``source`` of predicted scanpaths.
    """

    has_density: bool = False
    name: str = "gaze-model"

    # ------------------------------------------------------------------ density API
    def conditional_log_density(
        self,
        stimulus: Any,
        x_hist: Any = (),
        y_hist: Any = (),
        t_hist: Any = None,
    ) -> np.ndarray:
        """Log-probability of the next fixation per pixel, given the fixation history.

        Parameters
        ----------
        stimulus : image (path, PIL, array (H, W[, C]))
            The stimulus.
        x_hist, y_hist : sequence of float
            Previous fixations in image pixels (origin top-left).
        t_hist : sequence of float, optional
            Previous fixation durations in ms.

        Returns
        -------
        numpy.ndarray, shape (H, W)
            Log-density over pixels; ``logsumexp`` over all pixels is 0.
        """
        if not self.has_density:
            raise NotImplementedError(
                f"{type(self).__name__} has no conditional density (has_density is False)"
            )
        (image,), _ = as_image_list(stimulus)
        x_hist = np.asarray(x_hist, dtype=float)
        y_hist = np.asarray(y_hist, dtype=float)
        if x_hist.shape != y_hist.shape or x_hist.ndim != 1:
            raise ValueError(
                f"x_hist and y_hist must be 1-D and of equal length, got {x_hist.shape} and {y_hist.shape}"
            )
        h, w = image.shape[:2]
        if ((x_hist < 0) | (x_hist > w) | (y_hist < 0) | (y_hist > h)).any():
            raise ValueError(f"fixation history lies outside the image (width {w}, height {h} px)")
        t = None if t_hist is None else np.asarray(t_hist, dtype=float)
        log_density = np.asarray(self._log_density(image, x_hist, y_hist, t), dtype=np.float64)
        if log_density.shape != (h, w):
            raise RuntimeError(
                f"{type(self).__name__}._log_density returned shape {log_density.shape}, expected {(h, w)}"
            )
        total = logsumexp(log_density)
        if not np.isfinite(total):
            raise RuntimeError(
                f"{type(self).__name__}._log_density returned a non-normalisable density"
            )
        return log_density - total

    def _log_density(
        self, image: np.ndarray, x_hist: np.ndarray, y_hist: np.ndarray, t_hist: np.ndarray | None
    ) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ scanpath API
    def predict(
        self,
        stimuli: Any,
        *,
        task: Any = None,
        n_fixations: int = 10,
        seed: int | None = 0,
        subject: str | None = None,
    ) -> xr.Dataset:
        """Predict one scanpath per stimulus.

        Parameters
        ----------
        stimuli : image or sequence of images
            Paths, PIL images or arrays (see :func:`cogattn.stimuli.images.as_image_list`).
        task : str or sequence of str, optional
            Task per stimulus (e.g. a search target category or a caption).
        n_fixations : int
            Number of fixations per scanpath, including the first.
        seed : int, optional
            Seed for stochastic models.
        subject : str, optional
            Label stored in the ``subject`` coord (default: the model name).

        Returns
        -------
        xarray.Dataset
            A ``Scanpaths`` dataset (see :func:`cogattn.data.scanpaths`).
        """
        if n_fixations < 1:
            raise ValueError(f"n_fixations must be >= 1, got {n_fixations}")
        images, names = as_image_list(stimuli)
        tasks = [task] * len(images) if task is None or isinstance(task, str) else list(task)
        if len(tasks) != len(images):
            raise ValueError(f"got {len(tasks)} tasks for {len(images)} stimuli")
        rng = np.random.default_rng(seed)
        xs, ys, durations = [], [], []
        for image, t in zip(images, tasks):
            fix = np.asarray(
                self._predict_one(image, task=t, n_fixations=n_fixations, rng=rng), dtype=float
            )
            xs.append(fix[:, 0])
            ys.append(fix[:, 1])
            if fix.shape[1] > 2:
                durations.append(fix[:, 2])
        sizes = np.array([[img.shape[1], img.shape[0]] for img in images], dtype=float)
        return scanpaths(
            xs,
            ys,
            duration_ms=durations if len(durations) == len(xs) and durations else None,
            image_size_px=sizes,
            image=names,
            task=["" if t is None else str(t) for t in tasks],
            subject=self.name if subject is None else subject,
            condition="model",
            source=self.name,
        )

    def _predict_one(
        self, image: np.ndarray, *, task: Any, n_fixations: int, rng: np.random.Generator
    ) -> np.ndarray:
        """One scanpath as an ``(n, 2)`` (or ``(n, 3)`` with durations) array in pixels.

        The default samples fixation by fixation from :meth:`conditional_log_density`,
        taking each sampled pixel's centre.
        """
        if not self.has_density:
            raise NotImplementedError(
                f"{type(self).__name__} must implement _predict_one or _log_density"
            )
        w = image.shape[1]
        xs: list[float] = []
        ys: list[float] = []
        for _ in range(n_fixations):
            log_density = self.conditional_log_density(image, xs, ys)
            p = np.exp(log_density.ravel())
            idx = rng.choice(p.size, p=p / p.sum())
            row, col = divmod(int(idx), w)
            xs.append(col + 0.5)
            ys.append(row + 0.5)
        return np.stack([xs, ys], axis=1)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
