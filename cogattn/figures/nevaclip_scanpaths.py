"""Figure ``nevaclip-scanpaths``: NevaClip scanpaths on a photograph for two captions.

NevaClip (Zanca et al. 2023, arXiv 2305.12380) explores a scikit-image photograph
(``skimage.data.astronaut`` by default) once per caption, each fixation chosen by
signed-gradient descent so that the foveated image's CLIP embedding matches the caption
(spec: 10 fixations × 20 iterations, lr 0.1, blur 41 px / σ 10 px at 224 px, σ_f 0.2). A
third path uses the generic free-viewing prompt. Each panel shows the photograph and the
numbered fixations.

Weights: ``weights=None`` (the default, so that the figure builds offline) gives a
**randomly initialised** CLIP whose paths illustrate the algorithm, not human-like
behaviour; the titles and the report say so. Pass ``weights="hub"`` (online or with an
open_clip cache) for the paper's pretrained RN50.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)

_CAPTIONS = {
    "astronaut": ("an astronaut holding a helmet", "the American flag in the background"),
    "coffee": ("a cup of coffee on a saucer", "a spoon on the table"),
    "chelsea": ("the face of a cat", "the whiskers of a cat"),
}


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    backbone: str = "open_clip:RN50",
    weights: str | None = None,
    image: str = "astronaut",
    captions: tuple[str, str] | None = None,
    n_fixations: int = 10,
    n_iterations: int = 20,
    seed: int = 0,
) -> xr.Dataset:
    """Run NevaClip on one photograph for two captions and the free-viewing prompt.

    Parameters
    ----------
    small : bool
        Tiny run for CI: cogattn's test CLIP (``open_clip:cogattn-test-vit``, 64 px, random
        weights), 4 fixations × 3 iterations.
    device : str
    backbone : str
        open_clip backbone (paper: RN50).
    weights : None, "hub" or path
        ``None`` = random initialisation (stated in the titles).
    image : {"astronaut", "coffee", "chelsea"}
        A ``skimage.data`` photograph.
    captions : (str, str), optional
        Two captions (default: two per image, written for this figure).
    n_fixations, n_iterations : int
        Spec: 10 and 20.
    seed : int
        Seeds the random restarts and, with ``weights=None``, the random initialisation.
    """
    from skimage import data

    from cogattn.gaze.models.nevaclip import NevaClip, NevaClipConfig

    if image not in _CAPTIONS:
        raise ValueError(f"image must be one of {sorted(_CAPTIONS)}, got {image!r}")
    if small:
        backbone, weights, n_fixations, n_iterations = "open_clip:cogattn-test-vit", None, 4, 3
    caps = tuple(captions) if captions is not None else _CAPTIONS[image]
    if len(caps) != 2:
        raise ValueError(f"captions must be two strings, got {caps!r}")
    photo = getattr(data, image)()
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # random weights (weights=None) are reproducible too
        model = NevaClip(
            backbone,
            weights=weights,
            device=device,
            config=NevaClipConfig(n_iterations=n_iterations),
        )
    tasks = [*caps, ""]
    ds_sp = model.predict(
        [photo] * 3, task=tasks, n_fixations=n_fixations, seed=seed, progress=False
    )
    weights_label = "random weights" if weights is None else str(weights)
    h, w = photo.shape[:2]
    report = [
        f"NevaClip ({backbone}, {weights_label}), skimage.data.{image} ({w}×{h} px), "
        f"{n_fixations} fixations × {n_iterations} iterations, lr {model.config.lr}.",
    ]
    for i, t in enumerate(ds_sp["caption"].values):
        xs, ys = ds_sp["x"].values[i], ds_sp["y"].values[i]
        spread = float(np.hypot(xs - xs.mean(), ys - ys.mean()).mean())
        report.append(
            f"- '{t}': first fixation ({xs[0]:.0f}, {ys[0]:.0f}) px, mean spread {spread:.0f} px"
        )
    if weights is None:
        report.append(
            "Random weights: the paths illustrate the algorithm, not human-like behaviour."
        )
    return xr.Dataset(
        {
            "photo": (("row", "col", "rgb"), photo),
            "x": (("path", "fixation"), ds_sp["x"].values),
            "y": (("path", "fixation"), ds_sp["y"].values),
        },
        coords={
            "caption": ("path", [str(t) for t in ds_sp["caption"].values]),
            "kind": ("path", ["caption", "caption", "free viewing"]),
            "fixation": np.arange(n_fixations),
        },
        attrs={
            "backbone": backbone,
            "weights": weights_label,
            "image": image,
            "n_iterations": n_iterations,
            "report": "\n".join(report),
        },
    )


def plot(ds: xr.Dataset) -> Any:
    """Photograph with the numbered scanpath of each caption (one panel per path)."""
    import matplotlib.pyplot as plt

    n = ds.sizes["path"]
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.6), squeeze=False)
    colours = ["tab:orange", "tab:cyan", "tab:pink"]
    for i, ax in enumerate(axes[0]):
        ax.imshow(ds["photo"].values)
        xs, ys = ds["x"].values[i], ds["y"].values[i]
        c = colours[i % len(colours)]
        ax.plot(xs, ys, "-", color=c, lw=1.5, alpha=0.8)
        ax.scatter(xs, ys, s=140, facecolor=c, edgecolor="k", zorder=3)
        for k, (x, y) in enumerate(zip(xs, ys)):
            ax.text(x, y, str(k + 1), ha="center", va="center", fontsize=7, zorder=4)
        cap = str(ds["caption"].values[i])
        kind = str(ds["kind"].values[i])
        ax.set_title(f"{'free viewing: ' if kind == 'free viewing' else ''}“{cap}”", fontsize=9)
        ax.set_axis_off()
    fig.suptitle(
        f"NevaClip scanpaths ({ds.attrs['backbone']}, {ds.attrs['weights']}, "
        f"{ds.sizes['fixation']} fixations × {ds.attrs['n_iterations']} steps)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


RECIPE = FigureRecipe(
    name="nevaclip-scanpaths",
    compute=compute,
    plot=plot,
    description="NevaClip scanpaths on a skimage photo for two captions and free viewing",
)
