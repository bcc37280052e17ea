"""Search efficiency and search asymmetry: RT from fixations, RT–set-size slopes, asymmetry index.

Definitions follow Gupta, Zhang, Wu, Wolfe & Kreiman (NeurIPS 2021), as computed in their
analysis code (``vs_exp/rt_plot.py``, ``vs_exp/eval_asym_metric.py``):

- **RT from fixations**: ``RT = 252.359 · n_fix + 376.271`` ms, where ``n_fix`` is the number
  of fixations *after* the initial central one needed to land on the target (the number of
  saccades). A target not found within the fixation cap counts as ``n_fix = set size``.
- **Slope**: per set size, the mean RT over trials; then the ordinary least-squares slope of
  mean RT on set size (ms/item; ``scipy.stats.linregress``). Human slopes come from the RT
  lines digitised from the original psychophysics papers (:data:`HUMAN_RT_MS`).
- **Asymmetry index** of one experiment (a pair of tasks): the task with the larger *human*
  slope is "hard" (H), the other "easy" (L); with ``s = max(0, slope)``,
  ``AI = (s_H − s_L) / (s_H + s_L)``, and ``AI = 0`` when both are 0. AI = 1: the model shows
  the human asymmetry fully; −1: reversed; 0: no asymmetry. The paper's summary is the mean
  over the six experiments (humans 0.564, eccNET 0.513 recomputed from the published
  outputs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from cogattn.stimuli.search_arrays import ASYMMETRY_EXPERIMENTS, TASKS

__all__ = [
    "HUMAN_RT_MS",
    "RT_INTERCEPT_MS",
    "RT_SLOPE_MS",
    "asymmetry_index",
    "asymmetry_indices",
    "human_rt_lines",
    "human_slopes",
    "mean_rt_by_set_size",
    "rt_from_fixations",
    "rt_slope",
]

RT_SLOPE_MS = 252.359
"""ms per fixation of the linear fixation→RT mapping (upstream fit)."""
RT_INTERCEPT_MS = 376.271
"""Intercept (ms) of the linear fixation→RT mapping (upstream fit)."""

_PU = 200 / 9.5  # plot units of the orientation figures (Foster & Ward 1991)
_LD = 200 / 7.5  # plot units of the lighting-direction figure (Enns & Rensink 1990)

#: Human RT lines (ms) per task, at the set sizes of its experiment, digitised from the
#: original papers (upstream ``vs_exp/human_rt_data.py``, transcribed in the gaze spec §1b).
HUMAN_RT_MS: Mapping[str, tuple[float, ...]] = {
    "homo_t0": (400 + 1.5 * _PU, 400 + 7 * _PU, 400 + 7.25 * _PU, 400 + 7.5 * _PU),
    "homo_t20": (400 + 0.7 * _PU, 400 + 1.8 * _PU, 400 + 1.95 * _PU, 400 + 2.1 * _PU),
    "hetero_t0": (400 + 1.5 * _PU, 400 + 8 * _PU, 600 + 1.6 * _PU, 600 + 5.1 * _PU),
    "hetero_t20": (400 + 6 * _PU, 800 + 1.5 * _PU, 1000 + 4 * _PU, 1200 + 6 * _PU),
    "curve_in_lines": (510.0, 516.4, 529.2),
    "line_in_curves": (565.0, 640.0, 750.0),
    "cross": tuple(541 + 96 * n for n in (3, 6, 9)),
    "non_cross": tuple(510 + 45 * n for n in (3, 6, 9)),
    "Ls": tuple(474 + 33 * n for n in (3, 6, 9)),
    "Ts": tuple(499 + 14 * n for n in (3, 6, 9)),
    "left_right": (400 + 3.3 * _LD, 600 + 2.8 * _LD, 600 + 5.8 * _LD),
    "top_down": (400 + _LD, 400 + 1.2 * _LD, 400 + 2.7 * _LD),
}


def rt_from_fixations(
    n_fixations: Any,
    *,
    slope_ms: float = RT_SLOPE_MS,
    intercept_ms: float = RT_INTERCEPT_MS,
) -> np.ndarray:
    """Reaction time (ms) from the number of fixations to find the target.

    Parameters
    ----------
    n_fixations : array-like
        Fixations after the initial one (saccades) needed to land on the target. Apply the
        not-found convention (``n = set size``) before calling.
    slope_ms, intercept_ms : float
        The linear mapping (default: Gupta et al. 2021's fit, 252.359 ms/fixation + 376.271 ms).

    Returns
    -------
    numpy.ndarray
        RT in ms, same shape as ``n_fixations``.

    Examples
    --------
    >>> float(rt_from_fixations(2))
    880.989
    """
    n = np.asarray(n_fixations, dtype=float)
    if np.any(n < 0):
        raise ValueError("n_fixations must be >= 0")
    return slope_ms * n + intercept_ms


def mean_rt_by_set_size(
    rt_ms: Any, set_size: Any, set_sizes: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and standard error of RT per set size.

    Returns
    -------
    set_sizes, mean_ms, sem_ms : numpy.ndarray
        ``sem`` is ``std / sqrt(n)`` (population std, as upstream).
    """
    rt = np.asarray(rt_ms, dtype=float)
    ss = np.asarray(set_size)
    if rt.shape != ss.shape:
        raise ValueError(
            f"rt_ms and set_size must have the same shape, got {rt.shape} and {ss.shape}"
        )
    sizes = np.unique(ss) if set_sizes is None else np.asarray(set_sizes)
    means, sems = [], []
    for s in sizes:
        values = rt[ss == s]
        if values.size == 0:
            raise ValueError(f"no trials with set size {s}")
        means.append(values.mean())
        sems.append(values.std() / np.sqrt(values.size))
    return sizes, np.asarray(means), np.asarray(sems)


def rt_slope(set_sizes: Any, mean_rt_ms: Any) -> float:
    """Least-squares slope (ms/item) of mean RT on set size (``scipy.stats.linregress``)."""
    x = np.asarray(set_sizes, dtype=float)
    y = np.asarray(mean_rt_ms, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise ValueError(
            f"need two 1-D arrays of equal length >= 2, got shapes {x.shape} and {y.shape}"
        )
    if np.ptp(x) == 0:
        raise ValueError("set sizes must not all be equal")
    return float(stats.linregress(x, y).slope)


def asymmetry_index(slope_hard: float, slope_easy: float) -> float:
    """Asymmetry index of one task pair (Gupta et al. 2021).

    Parameters
    ----------
    slope_hard : float
        Model RT slope (ms/item) on the task humans find harder (larger human slope).
    slope_easy : float
        Model RT slope on the other task.

    Returns
    -------
    float
        ``(s_H − s_L) / (s_H + s_L)`` with ``s = max(0, slope)``; 0 when both are 0.

    Examples
    --------
    >>> asymmetry_index(100.0, 0.0), asymmetry_index(0.0, 100.0), asymmetry_index(-3.0, 0.0)
    (1.0, -1.0, 0.0)
    """
    sh, sl = max(0.0, float(slope_hard)), max(0.0, float(slope_easy))
    if sh + sl == 0:
        return 0.0
    return (sh - sl) / (sh + sl)


def human_slopes() -> dict[str, float]:
    """Human RT slope (ms/item) per task, from :data:`HUMAN_RT_MS`."""
    return {task: rt_slope(TASKS[task].set_sizes, rts) for task, rts in HUMAN_RT_MS.items()}


def human_rt_lines() -> xr.Dataset:
    """The human RT lines as a Dataset: ``rt_ms`` (task × set_size, NaN-padded) and ``slope_ms_per_item``."""
    tasks = sorted(HUMAN_RT_MS)
    all_sizes = sorted({s for t in tasks for s in TASKS[t].set_sizes})
    rt = np.full((len(tasks), len(all_sizes)), np.nan)
    for i, t in enumerate(tasks):
        for s, v in zip(TASKS[t].set_sizes, HUMAN_RT_MS[t]):
            rt[i, all_sizes.index(s)] = v
    slopes = human_slopes()
    return xr.Dataset(
        {
            "rt_ms": (("task", "set_size"), rt, {"units": "ms"}),
            "slope_ms_per_item": ("task", [slopes[t] for t in tasks], {"units": "ms/item"}),
        },
        coords={
            "task": tasks,
            "set_size": all_sizes,
            "experiment": ("task", [TASKS[t].experiment for t in tasks]),
        },
        attrs={"source": "human RT lines digitised from the original papers (Gupta et al. 2021)"},
    )


def asymmetry_indices(slopes: Mapping[str, float]) -> dict[str, float]:
    """Asymmetry index per experiment from model slopes per task.

    Parameters
    ----------
    slopes : mapping task -> slope (ms/item)
        Must contain both tasks of every experiment to score; experiments with a missing task
        are skipped.

    Returns
    -------
    dict
        Experiment name -> AI, in experiment order (1..6). The hard/easy ordering comes from
        the human slopes.
    """
    hs = human_slopes()
    out: dict[str, float] = {}
    for name, exp in ASYMMETRY_EXPERIMENTS.items():
        a, b = exp.tasks
        if a not in slopes or b not in slopes:
            continue
        hard, easy = (a, b) if hs[a] >= hs[b] else (b, a)
        out[name] = asymmetry_index(slopes[hard], slopes[easy])
    return out
