"""Figure ``search-asymmetry``: the main figure of Gupta et al. (NeurIPS 2021), recomputed.

Top row, one panel per experiment: reaction time against set size for the two tasks of the
pair — humans (solid; RT lines digitised from the original papers) and the model run here
(dashed; RT = 252.359 · fixations + 376.271 ms). Bottom: asymmetry index per experiment and
its mean for humans, the model run here, the chance and pixel-matching baselines run here,
and — when ``../shared/data/vsa_asymmetry_model_outputs`` is available — the values
recomputed from the published eccNET / IVSN / chance / pixelMatch outputs (hatched).

The model is :class:`cogattn.gaze.models.eccnet.EccNet` on ``backbone`` (VGG16 by default).
With ``weights=None`` (the default, since nothing is downloaded implicitly) the network is
**untrained**: the figure then checks the pipeline and is not a result. This is logged as a
warning, written in the figure title and in ``attrs["report"]``. Pass ``weights="hub"`` (timm's
ImageNet VGG16, online or cached) or a checkpoint path to reproduce the paper's model.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)

_PUBLISHED = {
    "eccNET (published)": "eccNET/out/eccNET",
    "IVSN (published)": "eccNET/out/IVSN",
    "chance (published)": "chance",
    "pixelMatch (published)": "pixelMatch",
}
_UNTRAINED = (
    "UNTRAINED BACKBONE (weights=None): random VGG filters - this figure is a pipeline check, "
    "not a result"
)


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    backbone: str | None = None,
    weights: str | None = None,
    n_per_set_size: int | None = None,
    px_per_deg: float | None = None,
    experiments: list[str] | None = None,
    baselines: bool = True,
    published: bool = True,
    seed: int = 0,
    batch_size: int = 8,
    progress: bool = True,
) -> xr.Dataset:
    """Run the asymmetry experiments and summarise them next to humans and the baselines.

    Parameters
    ----------
    small : bool
        CI size: a tiny random VGG-shaped network (``"tiny-vgg"``), one display per set size
        at 6 px/deg.
    device : str
        Torch device for eccNET.
    backbone : str, optional
        Backbone name (default ``"timm:vgg16"``; ``"tiny-vgg"`` when ``small``).
    weights : None, "hub" or path
        Backbone weights (see :func:`cogattn.encoders.load_backbone`). ``None`` = untrained.
    n_per_set_size : int, optional
        Displays per set size (default 1; the paper used 30/36).
    px_per_deg : float, optional
        Display scale (default 5 px/deg so that the default runs in minutes on a CPU; the
        paper used 30 — use that on a GPU; 6 when ``small``).
    experiments : list of str, optional
        Subset of the six experiments.
    baselines : bool
        Also run the chance and pixel-matching baselines (cheap).
    published : bool
        Add the values recomputed from the published outputs when the shared data folder
        is available.
    seed, batch_size, progress
        Display seed, eccNET batch size, progress bars.

    Returns
    -------
    xarray.Dataset
        :func:`cogattn.gaze.search.stack_summaries` of every model (dim ``model``, with a
        ``source`` coord "this run" / "published"), plus attrs ``report``, ``title``,
        ``weights_untrained``, ``backbone``, ``px_per_deg``, ``n_per_set_size``.
    """
    from cogattn.data.loaders.vsa import load_search_outputs
    from cogattn.data.paths import shared_data_dir
    from cogattn.gaze.models.eccnet import EccNet
    from cogattn.gaze.models.search_baselines import ChanceSearch, PixelMatch
    from cogattn.gaze.search import run_asymmetry_experiments, stack_summaries, summarise_search

    backbone = backbone or ("tiny-vgg" if small else "timm:vgg16")
    n = n_per_set_size or 1
    ppd = float(px_per_deg or (6.0 if small else 5.0))
    untrained = weights is None
    if untrained:
        logger.warning("search-asymmetry: %s", _UNTRAINED)
    start = time.perf_counter()
    models: dict[str, Any] = {
        "eccNET (this run)": EccNet(backbone, weights=weights, device=device, batch_size=batch_size)
    }
    if baselines:
        models["chance (this run)"] = ChanceSearch()
        models["pixelMatch (this run)"] = PixelMatch()
    summaries: dict[str, xr.Dataset] = {}
    seconds: dict[str, float] = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        trials = run_asymmetry_experiments(
            model,
            experiments=experiments,
            n_per_set_size=n,
            px_per_deg=ppd,
            seed=seed,
            progress=progress,
        )
        summaries[name] = summarise_search(trials)
        seconds[name] = time.perf_counter() - t0
    sources = ["this run"] * len(summaries)
    run_tasks = next(iter(summaries.values()))["task"].values.tolist()
    missing = ""
    if published:
        root = shared_data_dir(required=False)
        folder = None if root is None else root / "vsa_asymmetry_model_outputs"
        if folder is not None and folder.is_dir():
            for name, sub in _PUBLISHED.items():
                if (folder / sub).is_dir():
                    trials = load_search_outputs(folder / sub)
                    keep = np.isin(trials["task"].values, run_tasks)
                    summaries[name] = summarise_search(trials.isel(trial=np.flatnonzero(keep)))
                    sources.append("published")
        else:
            missing = (
                "published outputs not found (shared data folder absent); reference bars omitted"
            )
            logger.info(missing)
    ds = stack_summaries(summaries)
    ds = ds.assign_coords(source=("model", sources))
    human_mean = float(ds["human_asymmetry_index"].mean())
    title = "Visual search asymmetry: eccNET vs humans"
    if untrained:
        title = f"{title}\n{_UNTRAINED}"
    lines = []
    if untrained:
        lines += [f"**{_UNTRAINED}.**", ""]
    lines += [
        f"eccNET on {backbone} (weights={weights!r}), {n} display(s) per set size at "
        f"{ppd:g} px/deg (paper: 30/36 per set size at 30 px/deg); "
        f"{', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())}.",
        "",
        "| model | mean asymmetry index |",
        "|---|---|",
        f"| humans | {human_mean:.3f} |",
    ]
    for name in ds["model"].values.tolist():
        lines.append(f"| {name} | {float(ds['mean_asymmetry_index'].sel(model=name)):.3f} |")
    lines += [
        "",
        "Reference (spec, recomputed from the published outputs): humans 0.564, eccNET 0.513, "
        "IVSN 0.316, chance -0.003, pixelMatch -0.178.",
    ]
    if missing:
        lines.append(missing)
    ds.attrs.update(
        {
            "report": "\n".join(lines),
            "title": title,
            "weights_untrained": int(untrained),
            "backbone": str(backbone),
            "weights": str(weights),
            "px_per_deg": ppd,
            "n_per_set_size": int(n),
            "seconds": float(time.perf_counter() - start),
        }
    )
    return ds


def plot(ds: xr.Dataset) -> Any:
    """RT vs set size per experiment (humans solid, model dashed) and asymmetry-index bars."""
    import matplotlib.pyplot as plt

    from cogattn.stimuli.search_arrays import ASYMMETRY_EXPERIMENTS

    exps = [e for e in ASYMMETRY_EXPERIMENTS if e in ds["experiment"].values.tolist()]
    run_name = next(
        (m for m in ds["model"].values.tolist() if m.startswith("eccNET") and "this run" in m),
        ds["model"].values.tolist()[0],
    )
    fig = plt.figure(figsize=(3.0 * max(len(exps), 1), 7.5), layout="constrained")
    grid = fig.add_gridspec(2, max(len(exps), 1), height_ratios=[1, 1.1])
    colours = ("tab:blue", "tab:red")
    for j, exp in enumerate(exps):
        ax = fig.add_subplot(grid[0, j])
        for colour, task in zip(colours, ASYMMETRY_EXPERIMENTS[exp].tasks):
            if task not in ds["task"].values.tolist():
                continue
            human = ds["human_rt_ms"].sel(task=task)
            keep = np.isfinite(human.values)
            sizes = ds["set_size"].values[keep]
            ax.plot(sizes, human.values[keep], "-", color=colour, label=f"{task} (human)")
            model = ds["rt_ms"].sel(model=run_name, task=task).values
            sem = ds["rt_sem_ms"].sel(model=run_name, task=task).values
            mk = np.isfinite(model)
            ax.errorbar(
                ds["set_size"].values[mk],
                model[mk],
                yerr=sem[mk],
                fmt="--o",
                ms=3,
                color=colour,
                alpha=0.8,
                label=f"{task} (model)",
            )
        ax.set_title(f"{ASYMMETRY_EXPERIMENTS[exp].number}. {exp.replace('_', ' ')}", fontsize=9)
        ax.set_xlabel("set size (items)")
        if j == 0:
            ax.set_ylabel("RT (ms)")
        ax.legend(fontsize=6, frameon=False)
    ax = fig.add_subplot(grid[1, :])
    groups = [*exps, "mean"]
    bars = [("humans", np.append(ds["human_asymmetry_index"].sel(experiment=exps).values,
                                 float(ds["human_asymmetry_index"].sel(experiment=exps).mean())), "published")]  # fmt: skip
    for name in ds["model"].values.tolist():
        values = ds["asymmetry_index"].sel(model=name, experiment=exps).values
        bars.append(
            (
                name,
                np.append(values, float(np.nanmean(values))),
                str(ds["source"].sel(model=name).item()),
            )
        )
    width = 0.8 / len(bars)
    x = np.arange(len(groups))
    for i, (name, values, source) in enumerate(bars):
        ax.bar(
            x - 0.4 + width * (i + 0.5),
            values,
            width,
            label=name,
            color="black" if name == "humans" else None,
            hatch="//" if source == "published" and name != "humans" else None,
            edgecolor="white" if source == "published" else None,
        )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, [g.replace("_", "\n") for g in groups], fontsize=8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("asymmetry index")
    ax.legend(fontsize=7, ncol=4, frameon=False, loc="lower left")
    untrained = bool(ds.attrs.get("weights_untrained", 0))
    fig.suptitle(
        str(ds.attrs.get("title", "Visual search asymmetry")),
        color="red" if untrained else "black",
        fontweight="bold" if untrained else "normal",
    )
    return fig


RECIPE = FigureRecipe(
    name="search-asymmetry",
    compute=compute,
    plot=plot,
    description="eccNET vs humans on the six search-asymmetry experiments (RT slopes, asymmetry index)",
)
