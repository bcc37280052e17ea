"""Linear and CCA decoders: recovery of known parameters, API contracts, errors."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.brain.aad import BackwardDecoder, CCADecoder, ForwardTRF, bandpass, evaluate_windows
from cogattn.data import DataError, recordings


def test_backward_decoder_recovers_lag_and_pattern(small_rec):
    dec = BackwardDecoder(tmin_ms=0, tmax_ms=150).fit(small_rec)
    d = dec.decide(small_rec, window_s=5)
    assert d["correct"].mean() == 1.0
    # EEG = envelope delayed by 4 samples: the decoder reads the EEG 4 samples later
    w = np.abs(dec.weights_.isel(output=0)).sum("channel").values
    best = int(np.argmax(w))
    assert int(dec.lags_[best]) == 4
    assert float(dec.weights_["lag"][best]) == pytest.approx(4 / 64)
    # the Haufe pattern at that lag is the true spatial pattern (up to sign and scale)
    rng = np.random.default_rng(7)
    rng.normal(size=(6, 2, 640))
    pattern = rng.normal(size=5)
    a = dec.patterns_.isel(output=0, lag=best).values
    assert abs(np.corrcoef(a, pattern)[0, 1]) > 0.95


def test_array_and_recordings_paths_agree(small_rec):
    dec_r = BackwardDecoder().fit(small_rec)
    eeg = small_rec["eeg"].values
    att = small_rec["attended"].values
    env = small_rec["streams"].values[np.arange(6), att, :, 0]
    dec_a = BackwardDecoder(sfreq_hz=64).fit(eeg, env)
    np.testing.assert_allclose(dec_a.coef_, dec_r.coef_)
    pred = dec_a.predict(eeg)
    assert pred.shape == (*eeg.shape[:2], 1)


def test_precomputed_fit_equals_fit(small_rec):
    dec = BackwardDecoder(alpha=[1e-3, 1e-1])
    stats = dec.precompute(small_rec)
    a = BackwardDecoder(alpha=[1e-3, 1e-1]).fit_precomputed(stats, small_rec)
    b = BackwardDecoder(alpha=[1e-3, 1e-1]).fit(small_rec)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.alpha_ in (1e-3, 1e-1) and a.cv_scores_.shape == (2,)


@pytest.mark.parametrize("reg", ["ridge", "ridge-relative", "ledoit-wolf"])
def test_regularisations_decode(small_rec, reg):
    dec = BackwardDecoder(regularization=reg, alpha=1e-2).fit(small_rec)
    assert dec.score(small_rec) > 0.3
    if reg == "ledoit-wolf":
        assert 0 <= dec.shrinkage_ < 1


def test_forward_trf_recovers_kernel_with_sign(rng):
    fs = 100.0
    stim = rng.normal(size=(5000, 1))
    kernel = np.array([0.0, 0.0, 1.0, 0.5, -0.8])  # response 20-40 ms after the stimulus
    eeg = np.stack([np.convolve(stim[:, 0], c * kernel)[:5000] for c in (1.0, -0.5)], axis=1)
    eeg += 0.05 * rng.normal(size=eeg.shape)
    trf = ForwardTRF(
        sfreq_hz=fs, tmin_ms=-50, tmax_ms=80, alpha=1e-5, standardize=None, band_hz=None
    )
    trf.fit(stim, eeg)
    w = trf.trf_.sel(feature="feature0")
    assert w.dims == ("lag", "channel")
    np.testing.assert_allclose(
        w.sel(lag=[0.0, 0.01, 0.02, 0.03, 0.04]).values[:, 0], kernel, atol=0.02
    )
    np.testing.assert_allclose(w.sel(lag=slice(-0.05, -0.01)).values, 0, atol=0.02)
    np.testing.assert_allclose(w.values[:, 1], -0.5 * w.values[:, 0], atol=0.02)
    assert trf.score_channels(stim, eeg).min() > 0.99


def test_forward_trf_recovers_simulated_trfs(calibrated_sim):
    """Two-stream TRF on the §S simulation (its envelopes, at −30 dB): the recovered
    attended and unattended TRFs match the simulated ones band-limited to 1–9 Hz, and the
    attended N1-P2 is larger (the simulated amplitude ratio)."""
    from cogattn.brain.aad import simulate_aad

    env = calibrated_sim["streams"].values[..., 0]
    ds = simulate_aad(
        n_trials=20, trial_duration_s=120, n_channels=32, streams=env, snr_db=-30, seed=0
    )
    trf = ForwardTRF(tmin_ms=0, tmax_ms=500, streams="attended+unattended", alpha=0.1).fit(ds)
    pattern = ds["true_pattern"].values
    est, ref = {}, {}
    for role in ("attended", "unattended"):
        est[role] = trf.trf_.sel(feature=f"{role}:envelope").values @ pattern
        true = ds["true_trf"].sel(role=role).values
        ref[role] = bandpass(np.r_[np.zeros(64), true, np.zeros(64)], sfreq_hz=64, band_hz=(1, 9))[
            64:-64
        ]
    assert np.corrcoef(est["attended"], ref["attended"])[0, 1] > 0.95
    assert np.corrcoef(est["unattended"], ref["unattended"])[0, 1] > 0.9
    ratio_est = np.ptp(est["attended"]) / np.ptp(est["unattended"])
    ratio_true = np.ptp(ref["attended"]) / np.ptp(ref["unattended"])
    assert ratio_est == pytest.approx(ratio_true, rel=0.25)
    # sign convention: the N1 (negative, ~100 ms) appears at a positive lag
    lag = trf.trf_["lag"].values
    assert 0.07 <= lag[np.argmin(est["attended"])] <= 0.13


def test_forward_and_cca_decide_on_small_rec(small_rec):
    for dec in (ForwardTRF(tmin_ms=0, tmax_ms=150), CCADecoder(n_components=2, lda_window_s=2)):
        res = evaluate_windows(dec, small_rec, windows_s=(5,), progress=False)
        assert res["accuracy"].item() >= 0.9, type(dec).__name__


def test_errors_name_the_problem(small_rec):
    no_streams = recordings(small_rec["eeg"].values, sfreq_hz=64.0)
    with pytest.raises(DataError, match="streams"):
        BackwardDecoder().fit(no_streams)
    unknown = small_rec.copy()
    unknown["attended"] = ("trial", np.array([0, -1, 0, 1, 1, 0]))
    with pytest.raises(DataError, match="attended"):
        BackwardDecoder().fit(unknown)
    dec = BackwardDecoder().fit(small_rec)
    other = recordings(
        small_rec["eeg"].values, sfreq_hz=128.0, streams=small_rec["streams"].values[..., 0]
    )
    with pytest.raises(DataError, match="Hz"):
        dec.decide(other, window_s=1)
    with pytest.raises(DataError, match="channels"):
        dec.decide(small_rec.isel(channel=slice(0, 3)), window_s=1)
    with pytest.raises(ValueError, match="sfreq_hz"):
        BackwardDecoder().fit(np.zeros((50, 3)), np.zeros(50))
    with pytest.raises(ValueError, match="window_s"):
        dec.decide(small_rec, window_s=-1)
