"""
Retinotopic CNN: rotation and zoom robustness, localisation
===========================================================

Train the same CNN twice on synthetic upright "T" / "L" / empty images — once on log-polar
views with circular padding (:class:`~cogattn.gaze.models.retinotopy.RetinotopicCNN`), once
on the Cartesian control — then measure accuracy against rotation and zoom, and localise a
glyph with the likelihood map (probability of the label as the fixation moves over an
11 × 11 lattice) and its IoU with the glyph's box (Jérémie, Daucé & Perrinet 2024).

The models are tiny and trained from random weights for seconds: the example shows the
analyses, not the paper's ImageNet numbers. For real data, point ``fit`` at an image folder
(``root/<class>/<image>``) and use ``backbone="timm:resnet18", weights="hub"``.

Set ``COGATTN_EXAMPLE_SMALL=1`` for a quick run.
"""

# %%
# Data and training
# -----------------
import os

import matplotlib.pyplot as plt
import numpy as np

from cogattn.figures.retinotopy import synthetic_glyphs
from cogattn.gaze.models.retinotopy import (
    FitConfig,
    LikelihoodConfig,
    RetinotopicCNN,
    localization_iou,
)
from cogattn.stimuli.logpolar import LogPolarConfig

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
size, n_train, epochs = (32, 96, 2) if SMALL else (64, 600, 5)
train_x, train_y, _ = synthetic_glyphs(n_train, size_px=size, centred=True, glyph_frac=(0.2, 0.5))
test_x, test_y, _ = synthetic_glyphs(90, size_px=size, seed=1, centred=True)
config = FitConfig(epochs=epochs, batch_size=32, lr=0.02, momentum=0.9, recalibrate_batchnorm=True)
models = {
    mode: RetinotopicCNN(
        "timm:test_resnet",
        weights=None,
        mode=mode,
        logpolar=LogPolarConfig(size, size),
        input_size_px=size,
    ).fit((train_x, train_y), config=config, progress=False)
    for mode in ("logpolar", "cartesian")
}

# %%
# Robustness curves
# -----------------
angles = np.linspace(-180, 180, 13)
ratios = [0.5, 0.75, 1.0, 1.5, 2.0]
rotation = {
    m: net.evaluate_rotation(test_x, test_y, angles_deg=angles) for m, net in models.items()
}
zoom = {m: net.evaluate_zoom(test_x, test_y, ratios=ratios) for m, net in models.items()}

# %%
# Localisation
# ------------
img, labels, boxes = synthetic_glyphs(3, size_px=size, seed=2, glyph_frac=(0.2, 0.22))
lmap = models["logpolar"].likelihood_map(
    img[1], "T", config=LikelihoodConfig(size_ratio=0.5, border="full")
)
iou = localization_iou(lmap, boxes[1])
print(f"best IoU over {iou.sizes['threshold']} thresholds: {float(iou.max()):.2f}")

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for m, c in (("logpolar", "tab:blue"), ("cartesian", "tab:gray")):
    rotation[m].plot(ax=axes[0], marker="o", color=c, label=m)
    zoom[m].plot(ax=axes[1], marker="o", color=c, label=m)
axes[0].legend()
axes[0].set_ylabel("accuracy")
axes[1].set_xscale("log")
lmap.plot(ax=axes[2], vmin=0, vmax=1, cmap="magma")
x, y, w, h = boxes[1]
axes[2].add_patch(plt.Rectangle((x, y), w, h, fill=False, ec="lime"))
axes[2].invert_yaxis()
axes[2].set_title(f"P('T') per fixation, best IoU {float(iou.max()):.2f}")
fig.tight_layout()
