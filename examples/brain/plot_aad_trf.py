"""
Temporal response functions to attended and unattended speech
=============================================================

Fit a two-stream forward model (TRF) to simulated EEG: one TRF for the attended talker's
envelope and one for the ignored talker's. Attention enlarges the N1 (~100 ms) and P2
(~180 ms). Positive lags are responses *after* the stimulus. With MNE installed, the
channels get biosemi-32 positions and the attended TRF is shown as topographies.

Set ``COGATTN_EXAMPLE_SMALL=1`` for a tiny run.
"""

# %%
# Simulate and fit
# ----------------
import os

from cogattn.figures.aad_trf import compute, plot

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
ds = compute(small=SMALL)
print(ds.attrs["report"])

# %%
# TRFs over lags and topographies
# -------------------------------
fig = plot(ds)
