"""
Search-asymmetry displays
=========================

The twelve tasks of the six search-asymmetry experiments of Gupta et al. (NeurIPS 2021), drawn
procedurally by :mod:`cogattn.stimuli.search_arrays` from the original generators' geometry
(grids, item sizes and angles in degrees of visual angle, backgrounds, shading steps). Each
panel shows a display at the task's largest set size; the red box is the target's cell (the
oracle recognition region) and the inset is the target cue the model searches for.
Set ``COGATTN_EXAMPLE_SMALL=1`` for a low-resolution sheet.
"""

# %%
# Draw one display per task
# -------------------------
import os

from cogattn.figures.search_displays import compute, plot
from cogattn.stimuli.search_arrays import asymmetry_displays

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
ds = compute(small=SMALL)

# Displays are ordinary objects too: image, target, masks, set size.
display = asymmetry_displays("curve_in_lines", n_per_set_size=1, px_per_deg=10)[0]
print(display.name, display.image.shape, display.target.shape, display.target_bbox)

# %%
# The sheet
# ---------
fig = plot(ds)
