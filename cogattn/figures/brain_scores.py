"""Figure "glass-brain-scores": held-out accuracy of a voxelwise ridge encoder, on a glass brain.

A synthetic BOLD run is simulated inside nilearn's bundled MNI152 brain mask with known
weights in occipital ("visual") voxels only (:func:`cogattn.brain.fit_dataset.simulate_dataset`),
then the whole ``cogattn brain fit`` pipeline runs on the files: events → design with FIR
delays → :class:`cogattn.brain.RidgeEncoder` (one alpha per voxel, 5-fold contiguous CV) →
Pearson r on the held-out end of the run. The glass brain shows r where it passes a one-sided
p < 0.001 threshold (uncorrected); the histogram separates the ground-truth signal voxels from
the others. What to expect: high r in the occipital lobe only.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]


def compute(*, small: bool = False, device: str = "cpu", seed: int = 0) -> xr.Dataset:
    """Simulate, fit and score; return per-voxel results with the volume geometry."""
    from cogattn.brain.fit_dataset import r_threshold, simulated_fit

    sim, result = simulated_fit(small=small, device=device, seed=seed)
    scores = result.scores
    ds = xr.Dataset(
        {
            "r": ("voxel", scores["r"].values.astype(np.float64)),
            "r2": ("voxel", scores["r2"].values.astype(np.float64)),
            "best_alpha": ("voxel", scores["best_alpha"].values.astype(np.float64)),
            "signal": ("voxel", sim.signal.astype(np.int8)),
        },
        coords={c: ("voxel", scores[c].values.astype(np.int64)) for c in ("i", "j", "k")},
    )
    ds.attrs.update(
        {k: scores.attrs[k] for k in ("affine", "volume_shape", "n_train", "n_test", "cv")}
    )
    n_test = int(scores.attrs["n_test"])
    threshold = r_threshold(n_test)
    sig = sim.signal
    r = ds["r"].values
    hits = r > threshold
    ds.attrs["threshold_r"] = threshold
    ds.attrs["report"] = (
        f"{sig.size} voxels ({int(sig.sum())} with simulated signal), "
        f"{scores.attrs['n_train']} training / {n_test} held-out volumes, cv={scores.attrs['cv']}. "
        f"Held-out r: signal voxels mean {np.nanmean(r[sig]):.3f}, others {np.nanmean(r[~sig]):.3f}. "
        f"Above the p<0.001 threshold (r > {threshold:.2f}): {int((hits & sig).sum())}/{int(sig.sum())} "
        f"signal voxels, {int((hits & ~sig).sum())}/{int((~sig).sum())} others. "
        f"Median best alpha: signal {np.median(ds['best_alpha'].values[sig]):.3g}, "
        f"others {np.median(ds['best_alpha'].values[~sig]):.3g}."
    )
    return ds


def plot(ds: xr.Dataset):
    """Glass brain of held-out r (thresholded) and r histograms for signal vs other voxels."""
    from cogattn.brain.fit_dataset import plot_score_map

    signal = ds["signal"].values.astype(bool)
    return plot_score_map(
        ds,
        variable="r",
        threshold=float(ds.attrs["threshold_r"]),
        groups={"simulated signal": signal, "no signal": ~signal},
        title="ridge encoder, held-out r (p<0.001)",
    )


RECIPE = FigureRecipe(
    name="glass-brain-scores",
    compute=compute,
    plot=plot,
    description="voxelwise ridge on a simulated BOLD run in MNI space: held-out r on a glass brain",
)
