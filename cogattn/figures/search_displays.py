"""Figure ``search-displays``: one example display per search-asymmetry task, with its target.

Twelve panels (the six experiments × their two tasks, Gupta et al. NeurIPS 2021): a display
at the task's largest set size drawn by :mod:`cogattn.stimuli.search_arrays`, the target's
grid cell outlined in red, and the target cue inset in the corner. The data behind it are the
display and target images themselves (uint8, zero-padded to a common size, with their true
sizes as coords) so that the sheet can be re-plotted from the netCDF.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    px_per_deg: float | None = None,
    set_size: str = "max",
    seed: int = 0,
) -> xr.Dataset:
    """Draw one display per task.

    Parameters
    ----------
    small : bool
        Draw at 6 px/deg instead of the default.
    device : str
        Unused (no model runs); accepted for the recipe interface.
    px_per_deg : float, optional
        Display scale (default 15; the paper's displays are 30 px/deg).
    set_size : {"max", "min"}
        Which of the task's set sizes to show.
    seed : int

    Returns
    -------
    xarray.Dataset
        ``image`` (task × y × x × rgb) and ``target`` (task × ty × tx × rgb), uint8 zero-padded,
        with coords ``height``, ``width``, ``target_height``, ``target_width``,
        ``target_bbox`` (task × bbox), ``set_size``, ``experiment``.
    """
    from cogattn.stimuli.search_arrays import ASYMMETRY_EXPERIMENTS, TASKS, make_asymmetry_display

    if set_size not in ("max", "min"):
        raise ValueError(f"set_size must be 'max' or 'min', got {set_size!r}")
    ppd = float(px_per_deg or (6.0 if small else 15.0))
    tasks = [t for exp in ASYMMETRY_EXPERIMENTS.values() for t in exp.tasks]
    rng = np.random.default_rng(seed)
    displays = []
    for task in tasks:
        sizes = TASKS[task].set_sizes
        displays.append(
            make_asymmetry_display(
                task, sizes[-1] if set_size == "max" else sizes[0], rng=rng, px_per_deg=ppd
            )
        )
    hmax = max(d.image.shape[0] for d in displays)
    wmax = max(d.image.shape[1] for d in displays)
    thmax = max(d.target.shape[0] for d in displays)
    twmax = max(d.target.shape[1] for d in displays)
    images = np.zeros((len(tasks), hmax, wmax, 3), dtype=np.uint8)
    targets = np.zeros((len(tasks), thmax, twmax, 3), dtype=np.uint8)
    for i, d in enumerate(displays):
        images[i, : d.image.shape[0], : d.image.shape[1]] = d.image
        targets[i, : d.target.shape[0], : d.target.shape[1]] = d.target
    ds = xr.Dataset(
        {
            "image": (("task", "y", "x", "rgb"), images),
            "target": (("task", "ty", "tx", "rgb"), targets),
        },
        coords={
            "task": tasks,
            "rgb": ["r", "g", "b"],
            "height": ("task", [d.image.shape[0] for d in displays]),
            "width": ("task", [d.image.shape[1] for d in displays]),
            "target_height": ("task", [d.target.shape[0] for d in displays]),
            "target_width": ("task", [d.target.shape[1] for d in displays]),
            "target_bbox": (("task", "bbox"), np.stack([d.target_bbox for d in displays])),
            "bbox": ["x", "y", "width", "height"],
            "set_size": ("task", [d.set_size for d in displays]),
            "experiment": ("task", [d.experiment for d in displays]),
        },
        attrs={
            "px_per_deg": ppd,
            "report": (
                f"12 asymmetry tasks drawn procedurally at {ppd:g} px/deg "
                f"({set_size} set size per task); red box = target cell, inset = target cue."
            ),
        },
    )
    return ds


def plot(ds: xr.Dataset) -> Any:
    """A 3 × 4 sheet of displays with the target cell outlined and the cue inset."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = ds.sizes["task"]
    cols = 4
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), layout="constrained")
    for ax in np.ravel(axes):
        ax.axis("off")
    for i, task in enumerate(ds["task"].values.tolist()):
        ax = np.ravel(axes)[i]
        h, w = int(ds["height"][i]), int(ds["width"][i])
        ax.imshow(ds["image"].values[i, :h, :w])
        x, y, bw, bh = ds["target_bbox"].values[i]
        if np.isfinite(x):
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), bw, bh, fill=False, ec="red", lw=1.2))
        th, tw = int(ds["target_height"][i]), int(ds["target_width"][i])
        inset = ax.inset_axes((0.78, 0.78, 0.22, 0.22))
        inset.imshow(ds["target"].values[i, :th, :tw])
        inset.set_xticks([])
        inset.set_yticks([])
        for spine in inset.spines.values():
            spine.set_edgecolor("red")
        ax.set_title(
            f"{task} (n={int(ds['set_size'][i])})\n{str(ds['experiment'].values[i]).replace('_', ' ')}",
            fontsize=8,
        )
    fig.suptitle(f"Search-asymmetry displays ({ds.attrs.get('px_per_deg', '?')} px/deg)")
    return fig


RECIPE = FigureRecipe(
    name="search-displays",
    compute=compute,
    plot=plot,
    description="Example displays of the 12 search-asymmetry tasks with their targets",
)
