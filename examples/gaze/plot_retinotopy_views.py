"""
Log-polar retinotopic views
===========================

The foveated-retinotopy models (Jérémie, Daucé & Perrinet 2024, arXiv 2402.15480) see an
image through a log-polar grid centred on the fixation: rows are eccentricities from
``2^0`` (periphery, top row) down to ``2^-5`` (fovea, bottom row), columns are polar angles.
A rotation about the fixation is then a circular shift of the columns, a zoom a shift of
the rows. Here: three fixations on ``skimage.data.chelsea``, their log-polar views, and the
views mapped back to the image plane.

Set ``COGATTN_EXAMPLE_SMALL=1`` for a quick run (smaller grids).
"""

# %%
# Sample the image at three fixations
# -----------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from skimage import data

from cogattn.stimuli.logpolar import (
    LogPolarConfig,
    inverse_logpolar,
    logpolar_transform,
    pixels_to_normalised,
)

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
size = 64 if SMALL else 224
cfg = LogPolarConfig(n_radii=size, n_angles=size)  # the paper's grid at 224
photo = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float().div(255)[None]
photo = torch.nn.functional.interpolate(photo, size=(size, size), mode="bilinear", antialias=True)
# fixations in pixels of the resized image, converted to grid_sample coordinates
fix_px = np.array([[0.5, 0.5], [0.42, 0.31], [0.67, 0.71]]) * size
centres = pixels_to_normalised(fix_px, width_px=size, height_px=size)
views = logpolar_transform(photo.expand(3, -1, -1, -1), cfg, centre_xy=centres)
back = inverse_logpolar(views, (size, size), cfg, centre_xy=centres)

# %%
# Rotation is a column shift
# --------------------------
# Rotating the image by 90° about the centre rolls the centred view by a quarter of its
# columns (exactly, for a square image).
rotated = torch.rot90(photo, k=1, dims=(-2, -1))
shift = cfg.n_angles // 4
err = (
    (logpolar_transform(rotated, cfg) - torch.roll(logpolar_transform(photo, cfg), -shift, -1))
    .abs()
    .max()
)
print(f"max |view(rotated) - roll(view)| = {err:.2e}")

# %%
# Plot
# ----
fig, axes = plt.subplots(3, 3, figsize=(9, 9))
colours = ["tab:red", "tab:cyan", "tab:green"]
for i in range(3):
    axes[0, i].imshow(photo[0].permute(1, 2, 0).numpy())
    axes[0, i].plot(*fix_px[i], "+", ms=14, mew=2.5, color=colours[i])
    axes[1, i].imshow(views[i].permute(1, 2, 0).clamp(0, 1).numpy(), aspect="auto")
    axes[1, i].set_xlabel("polar angle")
    axes[1, i].set_ylabel("eccentricity (periphery → fovea)")
    axes[2, i].imshow(torch.nan_to_num(back[i], nan=1.0).permute(1, 2, 0).clamp(0, 1).numpy())
    for ax in axes[:, i]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_title("fixation")
axes[1, 0].set_title("log-polar view")
axes[2, 0].set_title("view in the image plane")
fig.tight_layout()
