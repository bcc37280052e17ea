"""Run the search-asymmetry experiments: model × task × set size → RT slopes → asymmetry index.

The pipeline of Gupta et al. (NeurIPS 2021):

1. draw the displays of each task (:mod:`cogattn.stimuli.search_arrays`);
2. search them with a model under the original protocol (object IOR over grid cells, oracle
   recognition, no recognition at the central start, cap = grid cells + 1; eccNET with
   max-weighted layers and the experiment's DoG kernels);
3. fixations to target → RT (``252.359 · n + 376.271`` ms; not found = set size);
4. RT–set-size slope per task, asymmetry index per experiment (hard/easy from the human
   slopes) and their mean, next to the human RT lines
   (:mod:`cogattn.gaze.metrics.asymmetry`).

:func:`run_asymmetry_experiments` returns trial-level results; :func:`summarise_search` turns
trial-level results — from a model run or from the published outputs loaded with
:func:`cogattn.data.loaders.vsa.load_search_outputs` — into the summary Dataset behind the
paper's main figure; :func:`stack_summaries` puts several models side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cogattn.gaze.metrics.asymmetry import (
    HUMAN_RT_MS,
    RT_INTERCEPT_MS,
    RT_SLOPE_MS,
    asymmetry_indices,
    human_slopes,
    mean_rt_by_set_size,
    rt_from_fixations,
    rt_slope,
)
from cogattn.gaze.models._search import SearchConfig
from cogattn.stimuli.search_arrays import ASYMMETRY_EXPERIMENTS, TASKS, asymmetry_displays

__all__ = [
    "asymmetry_search_config",
    "asymmetry_top_down",
    "run_asymmetry_experiments",
    "run_task",
    "stack_summaries",
    "summarise_search",
]

logger = logging.getLogger(__name__)


def asymmetry_search_config(task: str, *, px_per_deg: float = 30.0) -> SearchConfig:
    """The original search protocol for one asymmetry task.

    Object IOR over grid cells, no recognition at the central start, cap = grid cells + 1,
    recognition window 10 px at 30 px/deg (scaled with ``px_per_deg``), corner bias 64 px at
    30 px/deg (scaled).
    """
    spec = TASKS[task]
    return SearchConfig(
        max_fixations=spec.max_fixations,
        ior="object",
        ior_size_px=max(1, round(10 * px_per_deg / 30)),
        recognise_first_fixation=False,
        corner_bias_px=round(64 * px_per_deg / 30),
    )


def asymmetry_top_down(task: str) -> Any:
    """eccNET top-down settings of the asymmetry experiments: max-weighted layers, the
    experiment's DoG kernels."""
    from cogattn.gaze.models.eccnet import TopDownConfig

    lower, upper = TASKS[task].dog_kernels
    return TopDownConfig(layer_weighting="max", dog_lower=lower, dog_upper=upper)


def run_task(
    model: Any,
    task: str,
    *,
    set_sizes: Sequence[int] | None = None,
    n_per_set_size: int | None = None,
    px_per_deg: float = 30.0,
    seed: int = 0,
    progress: bool = True,
) -> xr.Dataset:
    """Search all displays of one asymmetry task with ``model``.

    Parameters
    ----------
    model : SearchModel
        eccNET, IVSN, PixelMatch, ChanceSearch, or any model with the same ``search`` method.
    task : str
        One of :data:`cogattn.stimuli.search_arrays.TASKS`.
    set_sizes, n_per_set_size, px_per_deg, seed
        Display generation (:func:`cogattn.stimuli.search_arrays.asymmetry_displays`);
        defaults are the paper's set sizes and counts at 30 px/deg.
    progress : bool

    Returns
    -------
    xarray.Dataset
        Trial-level scanpaths with ``found``, ``n_fixations`` and coords ``task``,
        ``experiment``, ``set_size``, ``stimulus_set``.
    """
    displays = asymmetry_displays(
        task, set_sizes=set_sizes, n_per_set_size=n_per_set_size, px_per_deg=px_per_deg, seed=seed
    )
    ds = model.search(
        displays,
        config=asymmetry_search_config(task, px_per_deg=px_per_deg),
        top_down=asymmetry_top_down(task),
        seed=seed,
        progress=progress,
    )
    n = ds.sizes["trial"]
    return ds.assign_coords(stimulus_set=("trial", [TASKS[task].stimulus_set] * n))


def run_asymmetry_experiments(
    model: Any,
    *,
    experiments: Sequence[str] | None = None,
    n_per_set_size: int | None = None,
    px_per_deg: float = 30.0,
    seed: int = 0,
    progress: bool = True,
) -> xr.Dataset:
    """Run the six asymmetry experiments (or a subset) with one model.

    Parameters
    ----------
    model : SearchModel
    experiments : sequence of str, optional
        Names from :data:`cogattn.stimuli.search_arrays.ASYMMETRY_EXPERIMENTS` (default all six).
    n_per_set_size : int, optional
        Displays per set size (default the paper's 30 or 36).
    px_per_deg : float
        Display scale (30 in the paper).
    seed : int
    progress : bool

    Returns
    -------
    xarray.Dataset
        All trials concatenated along ``trial`` (fixation dim NaN-padded to the longest).
    """
    names = list(ASYMMETRY_EXPERIMENTS) if experiments is None else list(experiments)
    unknown = [n for n in names if n not in ASYMMETRY_EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiments {unknown}; valid: {list(ASYMMETRY_EXPERIMENTS)}")
    parts = []
    for name in names:
        for task in ASYMMETRY_EXPERIMENTS[name].tasks:
            logger.info("%s: %s / %s", getattr(model, "name", "model"), name, task)
            parts.append(
                run_task(
                    model,
                    task,
                    n_per_set_size=n_per_set_size,
                    px_per_deg=px_per_deg,
                    seed=seed,
                    progress=progress,
                )
            )
    ds = xr.concat(
        parts,
        dim="trial",
        join="outer",
        combine_attrs="drop_conflicts",
        fill_value={"x": np.nan, "y": np.nan},
    )
    ds = ds.assign_coords(trial=np.arange(ds.sizes["trial"]))
    ds.attrs["px_per_deg"] = float(px_per_deg)
    return ds


def summarise_search(
    trials: xr.Dataset,
    *,
    slope_ms: float = RT_SLOPE_MS,
    intercept_ms: float = RT_INTERCEPT_MS,
) -> xr.Dataset:
    """RT per set size, slopes and asymmetry indices from trial-level search results.

    Parameters
    ----------
    trials : xarray.Dataset
        Needs ``n_fixations`` (not-found convention already applied) and coords ``task``,
        ``set_size`` along ``trial`` — the output of :func:`run_asymmetry_experiments` or of
        :func:`cogattn.data.loaders.vsa.load_search_outputs`.
    slope_ms, intercept_ms : float
        Fixation → RT mapping.

    Returns
    -------
    xarray.Dataset
        Dims ``task``, ``set_size`` (union over tasks; NaN where a task has no such size),
        ``experiment``. Variables: ``rt_ms``, ``rt_sem_ms``, ``n_trials``, ``found_rate``,
        ``human_rt_ms`` (task × set_size); ``slope_ms_per_item``, ``human_slope_ms_per_item``
        (task); ``asymmetry_index``, ``human_asymmetry_index`` (experiment, only those with
        both tasks present). Attrs ``mean_asymmetry_index`` and
        ``human_mean_asymmetry_index``.
    """
    for name in ("n_fixations", "task", "set_size"):
        if name not in trials.variables:
            raise ValueError(f"trial results need {name!r} (see run_asymmetry_experiments)")
    task_of = np.asarray(trials["task"].values).astype(str)
    tasks = [t for t in TASKS if t in set(task_of.tolist())]
    unknown = sorted(set(task_of.tolist()) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown tasks in the trial results: {unknown}")
    sizes = sorted({s for t in tasks for s in TASKS[t].set_sizes})
    shape = (len(tasks), len(sizes))
    rt = np.full(shape, np.nan)
    sem = np.full(shape, np.nan)
    count = np.zeros(shape, dtype=np.int64)
    found_rate = np.full(shape, np.nan)
    human = np.full(shape, np.nan)
    slopes: dict[str, float] = {}
    n_fix = trials["n_fixations"].values
    set_size = trials["set_size"].values
    found = trials["found"].values if "found" in trials else np.ones(n_fix.shape, dtype=bool)
    for i, t in enumerate(tasks):
        sel = task_of == t
        present = [s for s in TASKS[t].set_sizes if np.any(set_size[sel] == s)]
        rts = rt_from_fixations(n_fix[sel], slope_ms=slope_ms, intercept_ms=intercept_ms)
        ss, means, sems = mean_rt_by_set_size(rts, set_size[sel], present)
        for s, m, e in zip(ss, means, sems):
            j = sizes.index(int(s))
            rt[i, j], sem[i, j] = m, e
            count[i, j] = int(np.sum(set_size[sel] == s))
            found_rate[i, j] = float(np.mean(found[sel][set_size[sel] == s]))
        for s, v in zip(TASKS[t].set_sizes, HUMAN_RT_MS[t]):
            human[i, sizes.index(s)] = v
        slopes[t] = rt_slope(ss, means) if len(ss) >= 2 else np.nan
    hs = human_slopes()
    ai = asymmetry_indices({t: v for t, v in slopes.items() if np.isfinite(v)})
    human_ai = asymmetry_indices(hs)
    exps = list(ai)
    ds = xr.Dataset(
        {
            "rt_ms": (("task", "set_size"), rt, {"units": "ms", "long_name": "mean model RT"}),
            "rt_sem_ms": (("task", "set_size"), sem, {"units": "ms"}),
            "n_trials": (("task", "set_size"), count),
            "found_rate": (("task", "set_size"), found_rate),
            "human_rt_ms": (("task", "set_size"), human, {"units": "ms"}),
            "slope_ms_per_item": ("task", [slopes[t] for t in tasks], {"units": "ms/item"}),
            "human_slope_ms_per_item": ("task", [hs[t] for t in tasks], {"units": "ms/item"}),
            "asymmetry_index": ("experiment", [ai[e] for e in exps]),
            "human_asymmetry_index": ("experiment", [human_ai[e] for e in exps]),
        },
        coords={
            "task": tasks,
            "set_size": sizes,
            "experiment": exps,
            "task_experiment": ("task", [TASKS[t].experiment for t in tasks]),
        },
        attrs={
            "rt_mapping": f"RT = {slope_ms} * n_fixations + {intercept_ms} ms",
            "mean_asymmetry_index": float(np.mean([ai[e] for e in exps])) if exps else np.nan,
            "human_mean_asymmetry_index": float(np.mean([human_ai[e] for e in exps]))
            if exps
            else np.nan,
        },
    )
    return ds


def stack_summaries(summaries: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """Concatenate per-model summaries along a new ``model`` dim (union of tasks/experiments)."""
    if not summaries:
        raise ValueError("no summaries to stack")
    names = list(summaries)
    parts = []
    for name in names:
        s = summaries[name]
        parts.append(
            s.drop_vars(["human_rt_ms", "human_slope_ms_per_item", "human_asymmetry_index"])
            .assign(mean_asymmetry_index=((), s.attrs.get("mean_asymmetry_index", np.nan)))
            .drop_attrs()
        )
    out = xr.concat(parts, dim="model", join="outer", fill_value=np.nan)
    out = out.assign_coords(model=names)
    first = summaries[names[0]]
    ref = xr.merge(
        [
            s[["human_rt_ms", "human_slope_ms_per_item", "human_asymmetry_index"]]
            for s in summaries.values()
        ],
        join="outer",
        compat="no_conflicts",
    )
    out = out.merge(ref, join="outer", compat="no_conflicts")
    out.attrs["rt_mapping"] = first.attrs.get("rt_mapping", "")
    return out
