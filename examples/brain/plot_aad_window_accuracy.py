"""
Auditory attention decoding: accuracy vs decision window, and MESD
===================================================================

Simulate a two-talker experiment (espeak-ng talkers, or the documented synthetic fallback;
attention-weighted TRFs; 1/f noise at an SNR calibrated to the KU Leuven linear decoder,
r_att ≈ 0.11), decode it with the backward decoder of O'Sullivan et al. (2015) under
leave-one-trial-out cross-validation, and compare the accuracy-vs-window curve and its
minimal expected switch duration (MESD; Geirnaert et al. 2020) with the KU Leuven reference.

The recipe :mod:`cogattn.figures.aad_window_accuracy` runs, in library calls::

    rec = aad.simulate_aad(n_trials=20, trial_duration_s=120, n_channels=32)
    res = aad.evaluate_windows(aad.BackwardDecoder(), rec)   # leave-one-trial-out
    res["accuracy"], res.attrs["mesd_s"]

Set ``COGATTN_EXAMPLE_SMALL=1`` for a tiny run.
"""

# %%
# Simulate, decode with leave-one-trial-out, collect the curves
# -------------------------------------------------------------
import os

from cogattn.brain import aad
from cogattn.figures.aad_window_accuracy import compute, plot

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
ds = compute(small=SMALL)
print(ds.attrs["report"])

# %%
# MESD of the measured curve, directly
# ------------------------------------
res = aad.mesd(ds["window_s"].values, ds["accuracy"].values)
print(f"MESD {res.mesd_s:.1f} s at a {res.window_s:.1f}-s window ({res.n_states} gain states)")

# %%
# Plot with the KU Leuven reference curve
# ---------------------------------------
fig = plot(ds)
