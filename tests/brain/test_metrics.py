"""Noise ceilings and scores: hand-worked cases, the spec's formulas, references and recovery."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from sklearn.metrics import r2_score as sk_r2

from cogattn.brain import metrics as M
from cogattn.data import responses


def test_pearson_and_r2_match_references(rng):
    t = rng.standard_normal((30, 5))
    p = t + rng.standard_normal((30, 5))
    r = M.pearson_r(t, p)
    np.testing.assert_allclose(r, [stats.pearsonr(t[:, j], p[:, j])[0] for j in range(5)])
    np.testing.assert_allclose(M.r2_score(t, p), sk_r2(t, p, multioutput="raw_values"))
    const = np.ones((30, 1))
    assert np.isnan(M.pearson_r(const, p[:, :1]))[0]
    assert M.r2_score(const, const)[0] == 1.0 and M.r2_score(const, p[:, :1])[0] == 0.0
    da = xr.DataArray(t, dims=("stimulus", "voxel"), coords={"hemisphere": ("voxel", ["lh"] * 5)})
    out = M.pearson_r(da, p)
    assert out.dims == ("voxel",) and list(out["hemisphere"].values) == ["lh"] * 5


def test_nc_formula_hand_worked():
    # spec: NC = ncsnr² / (ncsnr² + 1/n)
    assert M.ncsnr_to_nc(1.0, 3) == pytest.approx(1 / (1 + 1 / 3))
    assert M.ncsnr_to_nc(0.0, 3) == 0.0
    assert M.ncsnr_to_nc(2.0, 1, percent=True) == pytest.approx(100 * 4 / 5)
    # unequal repeats: (A/1 + B/2 + C/3)/(A+B+C) with A=1, B=2, C=1 -> (1 + 1 + 1/3)/4 = 7/12
    assert M.nc_denominator([1, 2, 2, 3]) == pytest.approx(7 / 12)
    assert M.ncsnr_to_nc(1.0, [1, 2, 2, 3]) == pytest.approx(1 / (1 + 7 / 12))
    np.testing.assert_allclose(M.ncsnr_to_nc(np.array([0.5, np.nan]), 2), [0.25 / 0.75, np.nan])
    with pytest.raises(ValueError, match="n_repeats"):
        M.ncsnr_to_nc(1.0, 0)
    with pytest.raises(ValueError, match="≥ 0"):
        M.ncsnr_to_nc(-1.0, 3)


def test_noise_normalized_score_hand_worked():
    # spec: score = min(r² / max(NC, 1e-14), 1)
    assert M.noise_normalized_score(0.5, 0.5) == pytest.approx(0.5)
    assert M.noise_normalized_score(0.9, 0.5) == 1.0
    assert M.noise_normalized_score(0.1, 0.0) == 1.0  # NC floored at 1e-14 then capped
    assert M.noise_normalized_score(-0.5, 0.5) == pytest.approx(0.5)  # reference squares r
    assert M.noise_normalized_score(-0.5, 0.5, negative="zero") == 0.0
    out = M.noise_normalized_score(np.array([0.3, np.nan]), np.array([0.36, 0.5]))
    np.testing.assert_allclose(out, [0.25, np.nan])
    with pytest.raises(ValueError, match="fraction"):
        M.noise_normalized_score(0.5, 50.0)


def test_ncsnr_from_repeats_hand_worked():
    # 2 stimuli x 2 repeats: noise var = mean(var([1,3]), var([5,7])) = 2;
    # total var of [1,3,5,7] (ddof 1) = 20/3; signal = 20/3 - 2; ncsnr = sqrt(signal / noise)
    data = np.array([[1.0, 3.0], [5.0, 7.0]])[:, :, None]
    expected = np.sqrt((20 / 3 - 2) / 2)
    np.testing.assert_allclose(M.ncsnr_from_repeats(data), [expected])
    # unequal repeats: pooled noise weighted by dof; single-trial stimulus adds to total only
    data = np.array([[1.0, 3.0, 2.0], [5.0, 7.0, np.nan], [4.0, np.nan, np.nan]])[:, :, None]
    noise = (2.0 * 2 + 2.0 * 1) / 3  # var([1,3,2])=1 * dof 2 -> 2; var([5,7]) = 2 * dof 1
    noise = ((1 - 2) ** 2 + (3 - 2) ** 2 + 0 + (5 - 6) ** 2 + (7 - 6) ** 2) / 3
    total = np.var([1.0, 3.0, 2.0, 5.0, 7.0, 4.0], ddof=1)
    np.testing.assert_allclose(M.ncsnr_from_repeats(data), [np.sqrt((total - noise) / noise)])
    with pytest.raises(ValueError, match="two or more trials"):
        M.ncsnr_from_repeats(np.ones((3, 1, 2)))


def test_ncsnr_and_nc_recovery(rng):
    """Signal sd 1..3, noise sd 2 -> ncsnr 0.5..1.5; NC(n=3) is the variance of the 3-trial mean
    explained by the true signal."""
    n_stim, n_rep, n_vox = 10000, 3, 12
    sig_sd = np.linspace(1.0, 3.0, n_vox)
    signal = rng.standard_normal((n_stim, 1, n_vox)) * sig_sd
    trials = signal + 2.0 * rng.standard_normal((n_stim, n_rep, n_vox))
    ncsnr = M.ncsnr_from_repeats(trials)
    np.testing.assert_allclose(ncsnr, sig_sd / 2.0, rtol=0.05)
    nc = M.ncsnr_to_nc(ncsnr, n_rep)
    r_true = M.pearson_r(signal[:, 0], trials.mean(1))  # best possible model: the signal
    np.testing.assert_allclose(nc, r_true**2, atol=0.03)
    # so a perfect model scores ~1 after normalisation
    assert np.all(np.abs(M.noise_normalized_score(r_true, nc) - 1) < 0.07)
    # via a Responses dataset (with unequal repeats)
    trials[:100, 2] = np.nan
    ds = responses(trials, ncsnr=np.full(n_vox, np.nan))
    est = M.ncsnr_from_repeats(ds)
    assert est.dims == ("voxel",)
    np.testing.assert_allclose(est.values, sig_sd / 2.0, rtol=0.05)


def test_encoding_scores_from_responses(rng):
    n_stim, n_vox = 200, 6
    signal = rng.standard_normal((n_stim, 1, n_vox))
    trials = signal + rng.standard_normal((n_stim, 3, n_vox))
    ncsnr = np.ones(n_vox)
    trials[0, 2] = np.nan  # one image with 2 trials
    ds = responses(trials, ncsnr=ncsnr)
    out = M.encoding_scores(ds, signal[:, 0])
    assert set(out.data_vars) == {"r", "r2", "nc", "score"}
    assert out.attrs["nc_denominator"] == pytest.approx((199 / 3 + 1 / 2) / 200)
    np.testing.assert_allclose(out["nc"], 1 / (1 + out.attrs["nc_denominator"]))
    np.testing.assert_allclose(out["score"], np.minimum(out["r"].values ** 2 / out["nc"].values, 1))


def test_explainable_variance_and_split_half_recovery(rng):
    n_rep, n_t, n_vox = 6, 4000, 10
    signal = rng.standard_normal((1, n_t, n_vox))
    data = signal + rng.standard_normal((n_rep, n_t, n_vox))  # signal var 1, noise var 1
    ev = M.explainable_variance(data)
    np.testing.assert_allclose(ev, 0.5, atol=0.03)  # fraction of single-repeat variance
    ev_raw = M.explainable_variance(data, bias_correction=False)
    assert np.all(ev_raw > ev)
    rel = M.split_half_reliability(data, n_splits=10)
    np.testing.assert_allclose(rel, 1 / (1 + 1 / n_rep), atol=0.03)  # NC of the 6-repeat mean
    with pytest.raises(ValueError, match="n_repeats ≥ 2"):
        M.explainable_variance(data[:1])


def test_roi_summary_overlapping_rois():
    values = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    ds = responses(
        np.zeros((2, 5)),
        rois={"A": [0, 1, 2], "B": [2, 3, 4]},
        hemisphere=["lh", "lh", "rh", "rh", "rh"],
    )
    out = M.roi_summary(xr.DataArray(values, dims="voxel", name="score"), ds)
    assert list(out["roi"].values) == ["all", "A", "B"]
    np.testing.assert_array_equal(out["n_voxels"].values, [5, 3, 3])
    np.testing.assert_array_equal(out["score_n_finite"].values, [4, 3, 2])
    np.testing.assert_allclose(out["score_mean"].values, [11 / 4, 2.0, 4.0])
    np.testing.assert_allclose(out["score_median"].values, [2.5, 2.0, 4.0])
    hemi = M.roi_summary(values, ds, by_hemisphere=True)
    assert hemi["value_mean"].dims == ("roi", "hemisphere")
    np.testing.assert_allclose(hemi["value_mean"].sel(roi="B", hemisphere="rh"), 4.0)
    assert np.isnan(hemi["value_mean"].sel(roi="B", hemisphere="lh"))
    with pytest.raises(ValueError, match="cover 5 voxels"):
        M.roi_summary(values[:3], ds)
