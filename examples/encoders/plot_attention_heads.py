"""
Per-head CLS attention maps of a vision transformer
===================================================

A ViT's class token attends to image patches differently in every head; Caron et al. (2021,
arXiv:2104.14294) showed that in self-supervised ViTs single heads pick out objects. This
example loads a ViT through :func:`cogattn.encoders.load_backbone`, records the post-softmax
attention of its last block on scikit-image's astronaut photograph, and shows the CLS-to-patch
map of every head upsampled to the image, next to the attention rollout over all blocks
(Abnar & Zuidema 2020, arXiv:2005.00928).

Pretrained weights are used when they can be had (``weights="hub"``: online or a filled hub
cache); otherwise the model is randomly initialised and the title says so — random maps carry
no meaning, they only show the mechanics. Set ``COGATTN_EXAMPLE_SMALL=1`` for a tiny model.
"""

# %%
# Load a backbone (pretrained if possible, else random) and a photograph
# ----------------------------------------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
import skimage.data

from cogattn.encoders import (
    WeightsUnavailableError,
    attention_rollout,
    cls_attention_maps,
    load_backbone,
)

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL", "") not in ("", "0")
NAME = "timm:vit_tiny_patch16_224" if SMALL else "timm:vit_small_patch16_224"
KWARGS = {"img_size": 64, "depth": 2} if SMALL else {}

try:
    backbone = load_backbone(NAME, weights="hub", **KWARGS)
    weights_note = "pretrained weights"
except WeightsUnavailableError as err:
    print(f"no pretrained weights ({str(err).splitlines()[0][:100]}…); using random weights")
    backbone = load_backbone(NAME, weights=None, **KWARGS)
    weights_note = "RANDOM weights (no pretrained weights available: maps are meaningless)"

image = skimage.data.astronaut()  # (512, 512, 3) uint8, bundled with scikit-image

# %%
# Record attention and turn it into maps
# --------------------------------------
attn = backbone.attention(image)  # DataArray(stimulus, layer, head, query, key)
last = attn.isel(layer=[-1])
maps = cls_attention_maps(last, image_size=image.shape[:2], renormalize=True)
rollout = attention_rollout(attn)  # (stimulus, query, key), rows sum to 1
grid = attn.attrs["grid_shape"]
keys = np.flatnonzero(attn.key_kind.values == "patch")
roll_map = rollout.values[0, 0, keys].reshape(grid)

# %%
# Plot the photograph, one panel per head, and the rollout
# --------------------------------------------------------
n_heads = maps.sizes["head"]
n_panels = n_heads + 2
n_cols = min(n_panels, 4)
n_rows = int(np.ceil(n_panels / n_cols))
fig, axes = plt.subplots(n_rows, n_cols, figsize=(3 * n_cols, 3 * n_rows), squeeze=False)
axes = axes.ravel()
axes[0].imshow(image)
axes[0].set_title("stimulus")
for h in range(n_heads):
    axes[h + 1].imshow(image)
    axes[h + 1].imshow(maps.values[0, 0, h], cmap="inferno", alpha=0.6)
    axes[h + 1].set_title(f"{maps.layer.values[0]} head {h}")
axes[n_heads + 1].imshow(roll_map, cmap="inferno")
axes[n_heads + 1].set_title("rollout, all blocks (CLS row)")
for ax in axes:
    ax.set_axis_off()
fig.suptitle(f"{backbone.name}: CLS attention per head — {weights_note}", fontsize=10)
fig.tight_layout()
