"""
NevaClip: caption-guided foveated scanpaths
===========================================

NevaClip (Zanca et al. 2023, arXiv 2305.12380) chooses each fixation so that the CLIP
embedding of the *foveated* image (sharp at the fovea, blurred elsewhere) matches the
embedding of a caption. Here it explores ``skimage.data.astronaut`` with two captions and
then with a caption of another image (the paper's ablation: wrong captions give
near-random paths).

Weights: this example uses ``weights=None`` (a randomly initialised CLIP) so that it runs
offline; the paths then show the algorithm, not human-like behaviour. With internet access
or an open_clip cache, pass ``weights="hub"`` to get the paper's pretrained RN50.

Set ``COGATTN_EXAMPLE_SMALL=1`` for a quick run with cogattn's tiny test CLIP.
"""

# %%
# Build the model
# ---------------
# Any open_clip model from the backbone registry works; the spec's settings are the
# defaults of :class:`~cogattn.gaze.models.nevaclip.NevaClipConfig` (10 fixations × 20
# signed-gradient steps, lr 0.1, blur 41 px / σ 10 px at 224 px, fovea σ 0.2).
import os

import matplotlib.pyplot as plt
from skimage import data

from cogattn.gaze.models.nevaclip import NevaClip, NevaClipConfig

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
backbone = "open_clip:cogattn-test-vit" if SMALL else "open_clip:RN50"
config = NevaClipConfig(n_iterations=3 if SMALL else 20)
n_fixations = 4 if SMALL else 10
model = NevaClip(backbone, weights=None, config=config)

# %%
# Predict scanpaths for two captions
# ----------------------------------
# ``predict`` returns a ``Scanpaths`` dataset in image pixels: ``task`` is the caption
# asked for, the ``caption`` coordinate the caption actually used.
photo = data.astronaut()
captions = ["an astronaut holding a helmet", "the American flag in the background"]
paths = model.predict([photo, photo], task=captions, n_fixations=n_fixations, seed=0)
print(paths[["x", "y"]].round(1).to_dataframe().head())

# %%
# The caption ablation
# --------------------
# ``caption_mode="other"`` gives every image the caption of another image of the batch;
# ``"none"`` uses the generic free-viewing prompt.
swapped = model.predict(
    [photo, photo], task=captions, n_fixations=n_fixations, caption_mode="other", seed=0
)
print(list(swapped["task"].values), "->", list(swapped["caption"].values))

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(9, 4.8))
for ax, i in zip(axes, range(2)):
    ax.imshow(photo)
    xs, ys = paths["x"].values[i], paths["y"].values[i]
    ax.plot(xs, ys, "-o", color="tab:orange", mec="k")
    for k, (x, y) in enumerate(zip(xs, ys)):
        ax.annotate(str(k + 1), (x, y), ha="center", va="center", fontsize=7)
    ax.set_title(f"“{captions[i]}”", fontsize=9)
    ax.set_axis_off()
fig.suptitle(f"NevaClip ({backbone}, random weights)")
fig.tight_layout()
