"""Figure ``data-summary``: the shipped human data at a glance.

Top row: number of fixations per scanpath in COCO-Search18 (target-present validation split;
Chen et al. 2021) and in the Amazon book-cover search data (Sattar et al. 2015/2017).
Bottom row: subject-mean RDMs of the 92-image set: human IT of Kriegeskorte et al. (2008;
4 participants × 2 sessions), IT and EVC of Cichy et al. (2014; 15 subjects), shown as
percentiles of each matrix's off-diagonal dissimilarities (as in Kriegeskorte et al. 2008).
The report gives the counts checked against the folders' READMEs and the Spearman
correlation between the mean hIT and the Cichy IT / EVC RDMs (README: 0.56 and 0.13).

Everything is read with :mod:`cogattn.data` loaders from
:func:`cogattn.data.paths.shared_data_dir`; a missing folder drops its panel and is named in
the report.
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

_COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
_AMAZON = "amazon_book_covers_sti/Amazon.json"
_K92 = "kriegeskorte92"
_ALG = "algonauts2019_92images"


def _histogram(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.arange(0, int(lengths.max()) + 1)
    return edges, np.bincount(lengths.astype(int), minlength=len(edges))


def _percentiles(rdm: np.ndarray) -> np.ndarray:
    """Off-diagonal entries as percentiles (0-100) of the matrix's dissimilarities."""
    from scipy.stats import rankdata

    n = rdm.shape[0]
    iu = np.triu_indices(n, k=1)
    ranks = rankdata(rdm[iu])
    out = np.zeros_like(rdm)
    out[iu] = 100.0 * (ranks - 1) / max(len(ranks) - 1, 1)
    return out + out.T


def compute(*, small: bool = False, device: str = "cpu", **options: Any) -> xr.Dataset:
    """Load the shipped human data and summarise it (see the module docstring).

    Parameters
    ----------
    small : bool
        Quick path: only the first 500 COCO-Search18 and 120 Amazon scanpaths are counted
        and the RDM panels keep every 2nd stimulus (46 × 46); the report says so.
    device : str
        Unused (no model runs); accepted for the recipe interface.
    **options
        ``data_dir``: a shared-data folder other than
        :func:`cogattn.data.paths.shared_data_dir`.
    """
    from scipy.stats import spearmanr

    from cogattn.data import DataWarning, load_rdm_categories, load_rdms, load_scanpaths
    from cogattn.data.paths import shared_data_dir

    unknown = sorted(set(options) - {"data_dir"})
    if unknown:
        raise TypeError(f"unexpected option(s) {unknown}; data-summary takes data_dir=")
    from pathlib import Path

    root = Path(options["data_dir"]) if options.get("data_dir") else shared_data_dir()
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    report: list[str] = ["Human data summary" + (" (small: subsets)" if small else "")]
    missing: list[str] = []

    for key, rel, label, limit in (
        ("coco", _COCO, "COCO-Search18 TP val", 500),
        ("amazon", _AMAZON, "Amazon covers", 120),
    ):
        path = root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            ds = load_scanpaths(path)
        notes = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
        if small:
            ds = ds.isel(trial=slice(0, limit))
        lengths = ds["length"].values
        edges, counts = _histogram(lengths)
        data_vars[f"{key}_count"] = (
            f"{key}_n_fixations",
            counts,
            {"long_name": f"{label}: scanpaths with n fixations"},
        )
        coords[f"{key}_n_fixations"] = edges
        report.append(
            f"- {label}: {ds.sizes['trial']} scanpaths, {len(np.unique(ds['subject'].values))} "
            f"subjects, {len(np.unique(ds['image'].values))} images, "
            f"{len(np.unique(ds['task'].values))} task(s); fixations per scanpath mean "
            f"{lengths.mean():.2f} (min {lengths.min()}, max {lengths.max()})"
        )
        report += [f"  - note: {n}" for n in notes]

    panels, matrices, subjects = [], [], []
    step = 2 if small else 1
    hit = it = evc = None
    if (root / _K92 / "92_brainRDMs.mat").is_file():
        ds = load_rdms(root / _K92)
        hit = ds.rdms.mean()
        panels.append("Kriegeskorte 2008 hIT")
        matrices.append(hit)
        subjects.append(f"{len(set(ds['participant'].values))} participants x 2 sessions")
    else:
        missing.append(f"{_K92}/92_brainRDMs.mat")
    for roi in ("IT", "EVC"):
        path = root / _ALG / f"fmri_{roi}_RDMs.npz"
        if not path.is_file():
            missing.append(f"{_ALG}/fmri_{roi}_RDMs.npz")
            continue
        ds = load_rdms(path)
        mean = ds.rdms.mean()
        if roi == "IT":
            it = mean
        else:
            evc = mean
        panels.append(f"Cichy 2014 {roi}")
        matrices.append(mean)
        subjects.append(f"{ds.sizes['subject']} subjects")
    if matrices:
        stack = np.stack([_percentiles(m) for m in matrices])[:, ::step, ::step]
        n = stack.shape[1]
        coords["panel"] = np.asarray(panels, dtype=object)
        coords["stimulus"] = np.arange(0, 92, step)[:n]
        data_vars["rdm_percentile"] = (
            ("panel", "stimulus", "stimulus_"),
            stack,
            {"long_name": "dissimilarity percentile (subject-mean RDM)", "units": "%"},
        )
        data_vars["panel_subjects"] = ("panel", np.asarray(subjects, dtype=object))
        if (root / _K92 / "Kriegeskorte_Neuron2008_supplementalData.mat").is_file():
            cats = load_rdm_categories(root / _K92)
            coords["category"] = (
                "stimulus",
                np.asarray(cats["category"].values[::step], dtype=object),
            )
        iu = np.triu_indices(92, k=1)
        for name, other, expected in (("IT", it, 0.56), ("EVC", evc, 0.13)):
            if hit is not None and other is not None:
                rho = float(spearmanr(hit[iu], other[iu])[0])
                data_vars[f"spearman_hit_vs_{name.lower()}"] = ((), rho)
                report.append(
                    f"- mean hIT vs Cichy {name} RDM (upper triangles): Spearman r = {rho:.3f} "
                    f"(README check: {expected:.2f})"
                )
    if missing:
        report.append(f"- not found under {root}: {', '.join(missing)}")
    if not data_vars:
        raise FileNotFoundError(
            f"no human data found under {root}; set COGATTN_SHARED_DATA to the shared data folder"
        )
    return xr.Dataset(
        data_vars,
        coords=coords,
        attrs={"report": "\n".join(report), "data_dir": str(root), "small": int(small)},
    )


def plot(ds: xr.Dataset):  # -> matplotlib.figure.Figure
    """Fixation-count histograms (top) and RDM panels (bottom) from :func:`compute`'s data."""
    import matplotlib.pyplot as plt

    hists = [k for k in ("coco", "amazon") if f"{k}_count" in ds]
    n_rdm = ds.sizes.get("panel", 0)
    n_cols = max(len(hists), n_rdm, 1)
    rows = int(bool(hists)) + int(bool(n_rdm))
    fig = plt.figure(figsize=(4.3 * n_cols, 3.8 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, n_cols)
    row = 0
    titles = {"coco": "COCO-Search18 (TP val)", "amazon": "Amazon book covers"}
    if hists:
        width = n_cols // len(hists)
        for i, key in enumerate(hists):
            ax = fig.add_subplot(grid[row, i * width : (i + 1) * width])
            counts = ds[f"{key}_count"].values
            edges = ds[f"{key}_n_fixations"].values
            ax.bar(edges, counts, width=1.0, color="tab:blue" if key == "coco" else "tab:orange")
            mean = float((edges * counts).sum() / counts.sum())
            ax.axvline(mean, color="k", lw=1, ls="--", label=f"mean {mean:.1f}")
            ax.set_xlabel("fixations per scanpath")
            ax.set_ylabel("scanpaths")
            ax.set_title(f"{titles[key]}: {int(counts.sum())} scanpaths")
            ax.legend(frameon=False)
        row += 1
    if n_rdm:
        image = None
        for p in range(n_rdm):
            ax = fig.add_subplot(grid[row, p])
            image = ax.imshow(ds["rdm_percentile"].values[p], cmap="viridis", vmin=0, vmax=100)
            ax.set_title(
                f"{ds['panel'].values[p]}\n({ds['panel_subjects'].values[p]}, mean RDM)",
                fontsize=9,
            )
            if "category" in ds.coords:
                labels = ds["category"].values
                changes = np.flatnonzero(labels[1:] != labels[:-1]) + 0.5
                for c in changes:
                    ax.axhline(c, color="w", lw=0.5)
                    ax.axvline(c, color="w", lw=0.5)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(image, ax=fig.axes[-n_rdm:], shrink=0.8, label="dissimilarity percentile")
    return fig


RECIPE = FigureRecipe(
    name="data-summary",
    compute=compute,
    plot=plot,
    description="shipped human data: fixation-count histograms and 92-image RDM panels",
)
