"""
Visual search asymmetry: eccNET vs humans
=========================================

Reproduce the main figure of Gupta, Zhang, Wu, Wolfe & Kreiman (NeurIPS 2021, "Visual search
asymmetry: deep nets and humans share similar inherent biases"): six classic search
experiments, each a pair of tasks with swapped target and distractors (a curve among lines vs a
line among curves, ...). eccNET — VGG16 with eccentricity-dependent pooling and target features
as top-down convolution kernels — searches every display; fixations become reaction times
(RT = 252.359 · fixations + 376.271 ms), RT–set-size slopes give an asymmetry index per
experiment, compared with the human RT lines and with chance and pixel-matching baselines.

Weights: nothing is downloaded implicitly. ``WEIGHTS = None`` runs an *untrained* VGG16 — the
figure then says loudly that it is a pipeline check, not a result. Set ``WEIGHTS = "hub"``
(timm's ImageNet VGG16, online or cached) and ``PX_PER_DEG = 30``, ``N_PER_SET_SIZE = 30`` on a
GPU to reproduce the paper. The hatched bars are recomputed from the published model outputs
(eccNET mean asymmetry index 0.513, humans 0.564) when ``../shared/data`` is present.
Set ``COGATTN_EXAMPLE_SMALL=1`` for a tiny run (random tiny CNN).
"""

# %%
# Run the experiments
# -------------------
import logging
import os

from cogattn.figures.search_asymmetry import compute, plot

logging.basicConfig(level=logging.WARNING)
SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
WEIGHTS = None  # "hub" for ImageNet VGG16 (as in the paper), or a checkpoint path
PX_PER_DEG = 5.0  # the paper: 30
N_PER_SET_SIZE = 1  # the paper: 30 (36 for intersection)

ds = compute(
    small=SMALL,
    weights=WEIGHTS,
    px_per_deg=None if SMALL else PX_PER_DEG,
    n_per_set_size=None if SMALL else N_PER_SET_SIZE,
    progress=not SMALL,
)
print(ds.attrs["report"])

# %%
# Plot: RT vs set size per experiment, then the asymmetry indices
# ---------------------------------------------------------------
fig = plot(ds)
