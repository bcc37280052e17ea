"""Simulated encoding data: the generating rule is what the docs say it is."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.brain.simulate import SimulationConfig, simulate_encoding_data
from cogattn.data import validate_responses

CFG = SimulationConfig(n_stimuli=400, grid_shape=(4, 5), n_channels=9)


def _drive(sim, j):
    """What ROI j reads: content channels of its read location (routing) or RF average."""
    k = len(sim.config.rois)
    content = sim.tokens.values[..., k:].astype(np.float64)
    if sim.mode == "routing":
        loc = sim.read_location.isel(roi=j).values
        return content[np.arange(len(loc)), loc]
    h, w = sim.config.grid_shape
    cy, cx = divmod(int(sim.read_location.isel(roi=j).values[0]), w)
    yy, xx = np.divmod(np.arange(h * w), w)
    g = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sim.config.rf_sd**2))
    return np.einsum("t,ntc->nc", g / g.sum(), content)


def _z(x):
    return (x - x.mean(0)) / x.std(0)


@pytest.mark.parametrize("mode", ["routing", "linear"])
def test_signal_follows_the_generating_rule(mode):
    sim = simulate_encoding_data(mode, config=CFG, seed=4)
    ds = validate_responses(sim.responses)
    k = len(CFG.rois)
    per_hemi = k * CFG.voxels_per_roi + CFG.n_overlap + CFG.n_rest
    assert ds.sizes["voxel"] == len(CFG.hemispheres) * per_hemi
    masks = ds["roi_mask"].values
    drives = [_drive(sim, j) for j in range(k)]
    rest = sim.tokens.values[..., k:].astype(np.float64).mean(1)
    for v in range(ds.sizes["voxel"]):
        member = np.flatnonzero(masks[:, v])
        d = sum(drives[j] for j in member) if member.size else rest
        np.testing.assert_allclose(sim.signal[:, v], _z(d @ sim.weights[v]), atol=1e-6)
    # overlap voxels are in the first two ROIs, rest voxels in none
    counts = masks.sum(0)
    assert (counts == 2).sum() == len(CFG.hemispheres) * CFG.n_overlap
    assert (counts == 0).sum() == len(CFG.hemispheres) * CFG.n_rest


def test_objects_carry_their_marker_at_the_planted_location():
    sim = simulate_encoding_data("routing", config=CFG, seed=2)
    tok = sim.tokens.values
    for j in range(len(CFG.rois)):
        loc = sim.read_location.isel(roi=j).values
        np.testing.assert_allclose(tok[np.arange(len(loc)), loc, j], CFG.marker)
    # distinct locations per image, spread over the grid
    locs = sim.read_location.values
    assert all(len(set(row)) == len(CFG.rois) for row in locs)
    assert len(np.unique(locs)) == CFG.grid_shape[0] * CFG.grid_shape[1]
    lin = simulate_encoding_data("linear", config=CFG, seed=2)
    assert (lin.read_location.values == lin.read_location.values[0]).all()
    np.testing.assert_array_equal(lin.tokens.values, sim.tokens.values)  # same images


def test_noise_ceiling_is_the_expected_correlation():
    cfg = SimulationConfig(n_stimuli=3000, noise_sd=0.7, voxels_per_roi=4)
    sim = simulate_encoding_data("routing", config=cfg, seed=0)
    y = sim.responses["response"].values
    r = [np.corrcoef(sim.signal[:, v], y[:, v])[0, 1] for v in range(y.shape[1])]
    assert sim.noise_ceiling_r == pytest.approx(1 / np.sqrt(1 + 0.7**2))
    assert np.mean(r) == pytest.approx(sim.noise_ceiling_r, abs=0.01)


def test_split_and_errors():
    sim = simulate_encoding_data("linear", config=CFG, seed=0)
    a, b = sim.split(300)
    assert a.tokens.sizes["stimulus"] == 300 and b.responses.sizes["stimulus"] == 100
    assert a.flat_tokens().shape == (300, 20 * 9)
    with pytest.raises(ValueError, match="mode"):
        simulate_encoding_data("nonlinear")
    with pytest.raises(ValueError, match="n_channels"):
        SimulationConfig(n_channels=3)
    with pytest.raises(ValueError, match="n_train"):
        sim.split(400)
