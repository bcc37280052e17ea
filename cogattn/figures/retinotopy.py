"""Figure ``retinotopy``: log-polar views, rotation/zoom robustness and a likelihood map.

After Jérémie, Daucé & Perrinet (2024, arXiv 2402.15480), "Foveated retinotopy improves
classification and localization in CNNs". Three rows:

1. a scikit-image photograph (``skimage.data.chelsea``) with three fixations and the
   log-polar view at each (224 × 224, radii 2^0 … 2^−5; rows = eccentricity from the
   periphery at the top to the fovea at the bottom, columns = polar angle);
2. the same views mapped back to the image plane (:func:`cogattn.stimuli.logpolar.inverse_logpolar`),
   showing the fall-off of resolution with eccentricity;
3. two classifiers with the same CNN (timm ``test_resnet`` by default), one on log-polar
   views with circular padding and one on the Cartesian control (inscribed disc), trained
   from random weights on synthetic upright "T" / "L" / empty images: accuracy versus
   rotation angle and versus zoom of centred glyphs, and the log-polar model's likelihood
   map for "T" on an image with an off-centre T, with the glyph's box and the best IoU over
   36 thresholds.

The classifiers are tiny and trained for seconds on synthetic data; they show the
mechanics of the paper's analyses (rotation = column shift, zoom = row shift, localisation
by moving the fixation), not its ImageNet numbers (which could not be retrieved, spec §3c).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot", "synthetic_glyphs"]

logger = logging.getLogger(__name__)

GLYPH_CLASSES = ("L", "T", "empty")


def synthetic_glyphs(
    n: int,
    *,
    size_px: int = 64,
    seed: int = 0,
    glyph_frac: tuple[float, float] = (0.25, 0.4),
    centred: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upright "T" and "L" glyphs (and empty images) on low-contrast noise.

    Parameters
    ----------
    n : int
        Number of images; classes cycle ``L, T, empty``.
    size_px : int
        Image side.
    seed : int
    glyph_frac : (float, float)
        Range of the glyph side as a fraction of the image side.
    centred : bool
        Glyph centred on the image (± 10 % jitter) instead of anywhere inside it.

    Returns
    -------
    images : uint8 array (n, size, size, 3)
    labels : str array (n,)
    boxes : float array (n, 4)
        Glyph boxes ``[x, y, width, height]`` in pixels (NaN for empty images).
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.35, 0.65, (n, size_px, size_px, 3))
    labels = np.array([GLYPH_CLASSES[i % 3] for i in range(n)])
    boxes = np.full((n, 4), np.nan)
    for i, lab in enumerate(labels):
        if lab == "empty":
            continue
        s = rng.uniform(*glyph_frac) * size_px
        t = max(1.0, 0.28 * s)
        if centred:
            cx, cy = size_px / 2 + rng.uniform(-0.1, 0.1, 2) * size_px
            x0, y0 = cx - s / 2, cy - s / 2
        else:
            x0, y0 = rng.uniform(0, size_px - s, 2)
        yy, xx = np.mgrid[:size_px, :size_px] + 0.5
        inside = (xx >= x0) & (xx <= x0 + s) & (yy >= y0) & (yy <= y0 + s)
        if lab == "T":
            bar = inside & (yy <= y0 + t)
            stem = inside & (np.abs(xx - (x0 + s / 2)) <= t / 2)
        else:  # "L"
            bar = inside & (xx <= x0 + t)
            stem = inside & (yy >= y0 + s - t)
        images[i][bar | stem] = (0.95, 0.85, 0.1)
        boxes[i] = (x0, y0, s, s)
    return (images * 255).round().astype(np.uint8), labels, boxes


def _views(device: str) -> dict[str, Any]:
    import torch
    from skimage import data

    from cogattn.stimuli.logpolar import (
        LogPolarConfig,
        inverse_logpolar,
        logpolar_transform,
        pixels_to_normalised,
    )

    photo = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float().div(255)[None]
    photo = torch.nn.functional.interpolate(photo, size=(224, 224), mode="bilinear", antialias=True)
    fix_px = np.array([[112.0, 112.0], [95.0, 70.0], [150.0, 160.0]])  # centre, eye, chin
    centres = pixels_to_normalised(fix_px, width_px=224, height_px=224)
    cfg = LogPolarConfig()
    x = photo.expand(3, -1, -1, -1).to(device)
    lp = logpolar_transform(x, cfg, centre_xy=centres)
    back = inverse_logpolar(lp, (160, 160), cfg, centre_xy=centres)
    return {
        "photo": (photo[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8),
        "fixations_px": fix_px,
        "views": (lp.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8),
        "back": back.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32),
    }


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    backbone: str = "timm:test_resnet",
    size_px: int = 64,
    n_train: int = 600,
    epochs: int = 5,
    seed: int = 0,
) -> xr.Dataset:
    """Views of a photograph, then train and evaluate log-polar and Cartesian classifiers.

    Parameters
    ----------
    small : bool
        CI size: 32-px glyphs, 96 training images, 2 epochs, a 5 × 5 likelihood lattice.
    device : str
    backbone : str
        A timm CNN for :func:`cogattn.encoders.load_backbone` (random initialisation).
    size_px : int
        Glyph image side (also the retinal view size).
    n_train, epochs : int
        Training set size and epochs.
    seed : int
    """
    import torch

    from cogattn.gaze.models.retinotopy import (
        FitConfig,
        LikelihoodConfig,
        RetinotopicCNN,
        localization_iou,
    )
    from cogattn.stimuli.logpolar import LogPolarConfig

    if small:
        size_px, n_train, epochs = 32, 96, 2
    resolution = 5 if small else 11
    views = _views(device)
    # trained on centred glyphs of varied size, as ImageNet objects are mostly centred
    train = synthetic_glyphs(
        n_train, size_px=size_px, seed=seed, centred=True, glyph_frac=(0.2, 0.5)
    )
    test = synthetic_glyphs(60 if small else 240, size_px=size_px, seed=seed + 1, centred=True)
    fit_cfg = FitConfig(
        epochs=epochs, batch_size=32, lr=0.02, momentum=0.9, recalibrate_batchnorm=True, seed=seed
    )
    angles = np.linspace(-180, 180, 9 if small else 25)
    ratios = np.array(
        [0.5, 0.75, 1.0, 1.5, 2.0]
        if small
        else [0.4, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25, 1.5, 2.0, 2.5]
    )
    # a test image with an off-centre "T"
    loc_imgs, loc_labels, loc_boxes = synthetic_glyphs(
        6, size_px=size_px, seed=seed + 2, glyph_frac=(0.2, 0.22)
    )
    k = int(np.flatnonzero(loc_labels == "T")[0])
    lik_cfg = LikelihoodConfig(resolution=resolution, size_ratio=0.5, border="full")
    rot, zoom, acc, maps, ious = {}, {}, {}, {}, {}
    for mode in ("logpolar", "cartesian"):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = RetinotopicCNN(
                backbone,
                weights=None,
                mode=mode,
                logpolar=LogPolarConfig(size_px, size_px),
                input_size_px=size_px,
                device=device,
            ).fit(train[:2], config=fit_cfg, progress=False)
        acc[mode] = model.score(test[0], test[1])
        rot[mode] = model.evaluate_rotation(test[0], test[1], angles_deg=angles).values
        zoom[mode] = model.evaluate_zoom(test[0], test[1], ratios=ratios).values
        lmap = model.likelihood_map(loc_imgs[k], "T", config=lik_cfg)
        maps[mode] = lmap
        ious[mode] = localization_iou(lmap, loc_boxes[k])
    lm = maps["logpolar"]
    report = [
        f"Classifiers: {backbone} (random init) trained {epochs} epochs on {n_train} synthetic "
        f"{size_px}-px upright T/L/empty images; tested on {len(test[1])} centred glyphs.",
        f"- accuracy (upright): log-polar {acc['logpolar']:.2f}, Cartesian {acc['cartesian']:.2f} (chance 0.33)",
        f"- mean accuracy over rotations {angles[0]:.0f}…{angles[-1]:.0f}°: log-polar "
        f"{rot['logpolar'].mean():.2f}, Cartesian {rot['cartesian'].mean():.2f}",
        f"- mean accuracy over zooms {ratios[0]}…{ratios[-1]}: log-polar {zoom['logpolar'].mean():.2f}, "
        f"Cartesian {zoom['cartesian'].mean():.2f}",
        f"- localisation of an off-centre T ({resolution}×{resolution} fixations, size ratio 0.5): "
        f"best IoU log-polar {float(ious['logpolar'].max()):.2f}, Cartesian {float(ious['cartesian'].max()):.2f}",
        "Tiny models on synthetic data: the mechanics of the paper's analyses, not its ImageNet numbers.",
    ]
    return xr.Dataset(
        {
            "photo": (("row", "col", "rgb"), views["photo"]),
            "fixation_px": (("view", "xy"), views["fixations_px"]),
            "logpolar_view": (("view", "radius", "angle", "rgb"), views["views"]),
            "inverse_view": (("view", "row_px", "col_px", "rgb"), views["back"]),
            "rotation_accuracy": (
                ("mode", "angle_deg"),
                np.stack([rot["logpolar"], rot["cartesian"]]),
            ),
            "zoom_accuracy": (
                ("mode", "zoom_ratio"),
                np.stack([zoom["logpolar"], zoom["cartesian"]]),
            ),
            "likelihood": (("y", "x"), lm.values),
            "likelihood_cartesian": (("y", "x"), maps["cartesian"].values),
            "iou": (
                ("mode", "threshold"),
                np.stack([ious["logpolar"].values, ious["cartesian"].values]),
            ),
            "loc_image": (("loc_row", "loc_col", "rgb"), loc_imgs[k]),
            "loc_box": (("bbox",), loc_boxes[k]),
        },
        coords={
            "mode": ["logpolar", "cartesian"],
            "angle_deg": angles,
            "zoom_ratio": ratios,
            "y": lm["y"].values,
            "x": lm["x"].values,
            "threshold": ious["logpolar"]["threshold"].values,
            "xy": ["x", "y"],
            "bbox": ["x", "y", "width", "height"],
        },
        attrs={
            "backbone": backbone,
            "epochs": epochs,
            "n_train": n_train,
            "size_px": size_px,
            "report": "\n".join(report),
        },
    )


def plot(ds: xr.Dataset) -> Any:
    """Three rows: views, inverse views, robustness curves and the likelihood map."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(3, 4, figsize=(13, 10))
    colours = ["tab:red", "tab:cyan", "tab:green"]
    ax = axes[0, 0]
    ax.imshow(ds["photo"].values)
    for i, (x, y) in enumerate(ds["fixation_px"].values):
        ax.plot(x, y, "+", ms=14, mew=2.5, color=colours[i])
    ax.set_title("fixations on skimage 'chelsea'", fontsize=9)
    ax.set_axis_off()
    axes[1, 0].set_axis_off()
    axes[1, 0].text(
        0.0,
        0.5,
        "log-polar grid (spec §3a)\nradii 2^0 … 2^-5 (rows)\n224 polar angles (columns)\n\n"
        "row 2: views mapped back\nto the image plane",
        fontsize=9,
        va="center",
    )
    for i in range(ds.sizes["view"]):
        ax = axes[0, i + 1]
        ax.imshow(ds["logpolar_view"].values[i], aspect="auto")
        ax.set_title(f"log-polar view {i + 1}", fontsize=9, color=colours[i])
        ax.set_xlabel("polar angle →", fontsize=8)
        ax.set_ylabel("eccentricity (periphery → fovea)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax = axes[1, i + 1]
        back = np.nan_to_num(ds["inverse_view"].values[i], nan=1.0).clip(0, 1)
        ax.imshow(back)
        ax.set_title(f"view {i + 1} in the image plane", fontsize=9, color=colours[i])
        ax.set_axis_off()
    styles = {
        "logpolar": ("tab:blue", "log-polar + circular padding"),
        "cartesian": ("tab:gray", "Cartesian control"),
    }
    for mode in ds["mode"].values:
        c, lab = styles[str(mode)]
        axes[2, 0].plot(
            ds["angle_deg"], ds["rotation_accuracy"].sel(mode=mode), "o-", color=c, label=lab, ms=3
        )
        axes[2, 1].plot(
            ds["zoom_ratio"], ds["zoom_accuracy"].sel(mode=mode), "o-", color=c, label=lab, ms=3
        )
    axes[2, 0].set_xlabel("rotation (deg)")
    axes[2, 0].set_ylabel("accuracy (T / L / empty)")
    axes[2, 0].axhline(1 / 3, color="k", lw=0.5, ls=":")
    axes[2, 0].legend(fontsize=7)
    axes[2, 1].set_xscale("log")
    axes[2, 1].set_xticks([0.5, 1.0, 2.0], ["0.5", "1", "2"])
    axes[2, 1].minorticks_off()
    axes[2, 1].set_xlabel("zoom ratio (grid radius; <1 zooms in)")
    axes[2, 1].axhline(1 / 3, color="k", lw=0.5, ls=":")
    for a in axes[2, :2]:
        a.set_ylim(0, 1.02)
        a.set_title(f"{ds.attrs['backbone']}, random init, {ds.attrs['epochs']} epochs", fontsize=8)
    ax = axes[2, 2]
    ax.imshow(ds["loc_image"].values)
    bx, by, bw, bh = ds["loc_box"].values
    ax.add_patch(Rectangle((bx, by), bw, bh, fill=False, ec="lime", lw=1.5))
    xs, ys = ds["x"].values, ds["y"].values
    ax.set_title("test image, glyph box", fontsize=9)
    ax.set_axis_off()
    ax = axes[2, 3]
    dx = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 1.0
    dy = (ys[1] - ys[0]) / 2 if len(ys) > 1 else 1.0
    h, w = ds.sizes["loc_row"], ds.sizes["loc_col"]
    im = ax.imshow(
        ds["likelihood"].values,
        extent=(xs[0] - dx, xs[-1] + dx, ys[-1] + dy, ys[0] - dy),
        vmin=0,
        vmax=1,
        cmap="magma",
    )
    ax.add_patch(Rectangle((bx, by), bw, bh, fill=False, ec="lime", lw=1.5))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    best = float(ds["iou"].sel(mode="logpolar").max())
    ax.set_title(
        f"P('T') per fixation (log-polar)\nbest IoU {best:.2f} over 36 thresholds", fontsize=9
    )
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(
        "Foveated retinotopy (Jérémie, Daucé & Perrinet 2024): tiny random-init CNNs on synthetic glyphs",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


RECIPE = FigureRecipe(
    name="retinotopy",
    compute=compute,
    plot=plot,
    description="log-polar views, rotation/zoom robustness and a likelihood map (retinotopy)",
)
