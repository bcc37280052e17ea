"""Figure "compare-scanpaths": baseline models vs human consistency on COCO-Search18 val.

Left: per-metric scores (sequence score, MultiMatch, ScanMatch) of human–human consistency
(pairwise protocol) and of two baseline models (``centre-bias`` and ``random`` from
:func:`cogattn.gaze.create_model`), each model scanpath scored against the humans of its
image and task; bars are means (over model scanpaths; over all pairs for the humans) with
95 % bootstrap intervals over images.
Right: cumulative probability of having fixated the target vs fixation number (initial
fixation = 1), averaged over target categories (Yang et al., 2020).

Data: COCO-Search18 target-present validation split 1 (``coco_search18_tp_val`` in the
shared data folder), rescaled to 512×320 as the COCO-Search18 models use. The images are
not shipped; the baselines do not look at them, so blank 512×320 stimuli are passed. A
model scanpath per image–task has the median length of the human scanpaths of that
image–task.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)

_FILE = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
_FRAME = (512, 320)
_MODELS = ("centre-bias", "random")
# the baselines have no fixation durations: duration-based metrics are left out
_METRICS = (
    "sequence_score",
    "multimatch_vector",
    "multimatch_direction",
    "multimatch_length",
    "multimatch_position",
    "scanmatch",
)


def _baseline_scanpaths(name: str, human: xr.Dataset, *, seed: int) -> xr.Dataset:
    from cogattn.data import scanpaths
    from cogattn.gaze import create_model

    model = create_model(name)
    blank = np.zeros((_FRAME[1], _FRAME[0], 3), dtype=np.uint8)
    img = human["image"].values.astype(str)
    task = human["task"].values.astype(str)
    keys = sorted(set(zip(img, task)))
    xs, ys, names, tasks, boxes = [], [], [], [], []
    lengths = human["length"].values
    rng = np.random.default_rng(seed)
    scale = np.array(_FRAME * 2, dtype=float) / np.concatenate(
        [human["image_width"].values[:1], human["image_height"].values[:1]] * 2
    )
    for key in keys:
        idx = np.flatnonzero((img == key[0]) & (task == key[1]))
        n_fix = max(int(np.median(lengths[idx])), 1)
        pred = model.predict(blank, task=key[1], n_fixations=n_fix, seed=int(rng.integers(2**31)))
        xs.append(pred["x"].values[0, :n_fix])
        ys.append(pred["y"].values[0, :n_fix])
        names.append(key[0])
        tasks.append(key[1])
        boxes.append(human["target_bbox"].values[idx[0]] * scale)
    return scanpaths(
        xs,
        ys,
        image_size_px=_FRAME,
        subject=name,
        image=names,
        task=tasks,
        condition="model",
        target_bbox=np.array(boxes),
        source=name,
    )


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    n_groups: int | None = None,
    n_boot: int = 500,
    seed: int = 0,
    data_dir: Any = None,
) -> xr.Dataset:
    """Score the baselines and the humans; return the data behind the figure.

    Parameters
    ----------
    small : bool
        Use 12 image–task groups (CI size) instead of all 326.
    device : str
        Unused (the baselines run on NumPy); kept for the recipe contract.
    n_groups : int, optional
        Number of image–task groups (overrides ``small``).
    n_boot : int
        Bootstrap resamples for the intervals.
    seed : int
        Seed of the baselines and the bootstrap.
    data_dir : path, optional
        The shared data folder (default :func:`cogattn.data.paths.shared_data_dir`).
    """
    from pathlib import Path

    from cogattn.data import load_scanpaths
    from cogattn.data.paths import shared_data_dir
    from cogattn.gaze import compare, human_consistency
    from cogattn.gaze.compare import CompareConfig, search_performance, summarize

    del device
    root = Path(data_dir) if data_dir is not None else shared_data_dir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        human = load_scanpaths(root / _FILE, format="coco-search18")
    notes = [str(w.message) for w in caught]
    for note in notes:
        logger.warning("%s", note)
    # scores are computed in the 512x320 frame by CompareConfig(image_size_px=...); the
    # human data keep their 1680x1050 pixels (an explicit rescale could round a border
    # fixation to just outside the smaller image)
    keys = sorted(set(zip(human["image"].values.astype(str), human["task"].values.astype(str))))
    limit = n_groups if n_groups is not None else (12 if small else None)
    if limit is not None:
        keep = set(keys[:limit])
        mask = [(i, t) in keep for i, t in zip(human["image"].values, human["task"].values)]
        human = human.isel(trial=np.flatnonzero(mask))
        keys = keys[:limit]
    if small:
        n_boot = min(n_boot, 100)
    cfg = CompareConfig(image_size_px=_FRAME)
    clusters: dict = {}
    sources = ["human", *_MODELS]
    results = {"human": human_consistency(human, _METRICS, config=cfg, clusters=clusters)}
    perf = {"human": search_performance(human)}
    for k, name in enumerate(_MODELS):
        model = _baseline_scanpaths(name, human, seed=seed + k)
        results[name] = compare(model, human, _METRICS, config=cfg, clusters=clusters)
        perf[name] = search_performance(model, reference=human)
    summaries = [summarize(results[s], n_boot=n_boot, seed=seed) for s in sources]
    metric = summaries[0]["metric"].values
    ds = xr.Dataset(
        {
            name: (("source", "metric"), np.stack([s[name].values for s in summaries]))
            for name in ("mean", "ci_low", "ci_high", "n_pairs")
        },
        coords={
            "source": sources,
            "metric": metric.astype(str),
            "higher_is_better": ("metric", results["human"]["higher_is_better"].values),
        },
    )
    fixation_number = perf["human"]["fixation_number"].values
    ds["target_found"] = (
        ("source", "fixation_number"),
        np.stack([perf[s]["target_found"].values for s in sources]),
    )
    ds = ds.assign_coords(fixation_number=fixation_number)
    ds["tfp_auc"] = ("source", [float(perf[s]["tfp_auc"]) for s in sources])
    ds["scanpath_ratio"] = ("source", [float(perf[s]["scanpath_ratio"]) for s in sources])
    ds["probability_mismatch"] = (
        "source",
        [np.nan] + [float(perf[s]["probability_mismatch"]) for s in _MODELS],
    )
    lines = [
        f"COCO-Search18 TP val, {len(keys)} image-task groups, {human.sizes['trial']} human "
        f"scanpaths, frame {_FRAME[0]}x{_FRAME[1]} px; human protocol: pairwise; "
        f"95% bootstrap CI over images ({n_boot} resamples)",
    ]
    for m in ds["metric"].values:
        row = ", ".join(f"{s} {ds['mean'].sel(source=s, metric=m).item():.3f}" for s in sources)
        lines.append(f"- {m}: {row}")
    lines.append(
        "- TFP-AUC: " + ", ".join(f"{s} {ds['tfp_auc'].sel(source=s).item():.3f}" for s in sources)
    )
    lines.extend(f"- note: {n}" for n in notes)
    ds.attrs = {
        "report": "\n".join(lines),
        "data": _FILE,
        "human_protocol": "pairwise",
        "model_scanpath_length": "median human length of the image-task",
        "n_groups": len(keys),
        "n_boot": n_boot,
    }
    return ds


def plot(ds: xr.Dataset) -> Any:
    """Bars (score ± 95 % CI per metric and source) and target-found curves."""
    import matplotlib.pyplot as plt

    sources = [str(s) for s in ds["source"].values]
    metrics = [str(m) for m in ds["metric"].values]
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2.2, 1]}, layout="constrained"
    )
    width = 0.8 / len(sources)
    x = np.arange(len(metrics))
    colors = {"human": "0.3", "centre-bias": "tab:orange", "random": "tab:blue"}
    for k, s in enumerate(sources):
        mean = ds["mean"].sel(source=s).values
        lo = ds["ci_low"].sel(source=s).values
        hi = ds["ci_high"].sel(source=s).values
        err = np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])
        err = np.where(np.isfinite(err), err, 0)
        label = "human consistency" if s == "human" else s
        ax.bar(
            x + (k - (len(sources) - 1) / 2) * width,
            mean,
            width,
            yerr=err,
            capsize=2,
            label=label,
            color=colors.get(s),
        )
    ax.set_xticks(x)
    ax.set_xticklabels(
        [m.replace("multimatch_", "MM ").replace("_", " ") for m in metrics],
        rotation=30,
        ha="right",
    )
    ax.set_ylabel("similarity to human scanpaths")
    ax.set_ylim(0, 1.05)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("scanpath similarity (95% bootstrap CI over images)")
    fn = ds["fixation_number"].values
    for s in sources:
        auc = ds["tfp_auc"].sel(source=s).item()
        ax2.plot(
            fn,
            ds["target_found"].sel(source=s).values,
            marker="o",
            color=colors.get(s),
            label=f"{s} (TFP-AUC {auc:.2f})",
        )
    ax2.set_xlabel("fixation number (initial = 1)")
    ax2.set_ylabel("P(target fixated)")
    ax2.set_ylim(0, 1)
    ax2.set_title("cumulative search performance")
    ax2.legend(frameon=False, fontsize=8)
    return fig


RECIPE = FigureRecipe(
    name="compare-scanpaths",
    compute=compute,
    plot=plot,
    description="baseline models vs human consistency on COCO-Search18 val (SS, MultiMatch, "
    "ScanMatch; target-found curves)",
)
