"""Scanpath, saliency and search-efficiency metrics (pure, vectorised functions)."""

from cogattn.gaze.metrics.asymmetry import (
    HUMAN_RT_MS,
    asymmetry_index,
    asymmetry_indices,
    human_rt_lines,
    rt_from_fixations,
    rt_slope,
)
