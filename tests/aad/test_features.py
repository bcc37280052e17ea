"""Envelopes (KU Leuven recipe, Hilbert) and the lag matrix with its sign convention."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf_shrinkage

from cogattn.brain.aad import (
    bandpass,
    envelope,
    erb_space_hz,
    gammatone_fir,
    lag_matrix,
    lagged_gram,
    lags_from_ms,
    onset_envelope,
)
from cogattn.brain.aad.decoders import LagStats
from cogattn.brain.aad.decoders import ledoit_wolf_shrinkage as lw_from_stats
from cogattn.brain.aad.lags import lagged_cross, lagged_row_norms_sq


def test_erb_space_kul_layout():
    fc = erb_space_hz()
    assert fc.size == 15  # erbspacebw(150, 4000, 1.5)
    erb = 9.265 * np.log1p(fc / (24.7 * 9.265))
    np.testing.assert_allclose(np.diff(erb), 1.5)
    lo = 9.265 * np.log1p(150 / (24.7 * 9.265))
    hi = 9.265 * np.log1p(4000 / (24.7 * 9.265))
    # the leftover span is split equally at both ends
    np.testing.assert_allclose(erb[0] - lo, hi - erb[-1])


@pytest.mark.parametrize("fc", [179.0, 1000.0, 3700.0])
def test_gammatone_unit_gain_at_centre(fc):
    g = gammatone_fir(fc, sfreq_hz=8000)
    f = np.fft.rfftfreq(2**16, 1 / 8000)
    h = np.abs(np.fft.rfft(g, 2**16))
    assert np.interp(fc, f, h) == pytest.approx(1.0, abs=1e-3)
    assert abs(f[np.argmax(h)] - fc) < 0.05 * fc + 5


@pytest.mark.parametrize("method", ["gammatone-powerlaw", "hilbert"])
def test_envelope_recovers_am_modulator(method):
    fs = 16000
    t = np.arange(20 * fs) / fs
    mod = 1 + 0.8 * np.sin(2 * np.pi * 4 * t)
    x = mod * np.sin(2 * np.pi * 1000 * t)
    env = envelope(x, fs, method=method, out_sfreq_hz=64)
    assert env.shape == (20 * 64,)
    ref = np.sin(2 * np.pi * 4 * np.arange(20 * 64) / 64)
    sl = slice(64, -64)  # away from filter edges
    r = np.corrcoef(env[sl], ref[sl])[0, 1]
    assert r > 0.97


def test_envelope_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        envelope(np.ones(100), 8000, method="rms")
    with pytest.raises(ValueError, match="mono"):
        envelope(np.ones((100, 2)), 8000)
    with pytest.raises(ValueError, match="NaN"):
        envelope(np.r_[np.ones(100), np.nan], 8000)


def test_onset_envelope_hand_worked():
    np.testing.assert_array_equal(
        onset_envelope(np.array([0.0, 1, 3, 2, 2, 5])), [0, 1, 2, 0, 0, 3]
    )
    np.testing.assert_array_equal(
        onset_envelope(np.array([0.0, 1, 3, 2]), half_wave=False), [0, 1, 2, -1]
    )


def test_bandpass_keeps_passband_removes_stopband():
    fs = 128
    t = np.arange(60 * fs) / fs
    x = np.sin(2 * np.pi * 4 * t) + np.sin(2 * np.pi * 30 * t)
    y = bandpass(x, sfreq_hz=fs, band_hz=(1, 9))
    edge = 5 * fs  # the 1-Hz high-pass rings for a few seconds at the edges
    np.testing.assert_allclose(y[edge:-edge], np.sin(2 * np.pi * 4 * t)[edge:-edge], atol=0.02)


def test_lag_sign_convention():
    # positive lag = delayed copy: out[t] = x[t - lag]
    x = np.arange(1.0, 6.0)
    m = lag_matrix(x, [0, 2, -1])
    np.testing.assert_array_equal(m[:, 1], [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(m[:, 2], [2, 3, 4, 5, 0])
    assert lags_from_ms(0, 250, sfreq_hz=64).tolist() == list(range(17))
    assert lags_from_ms(0, 250, sfreq_hz=128).size == 33


def test_lag_matrix_zero_pads_each_trial():
    a, b = np.ones(4), 2 * np.ones(3)
    m = lag_matrix([a, b], [1])
    # the first sample of trial b must not see the last sample of trial a
    np.testing.assert_array_equal(m[:, 0], [0, 1, 1, 1, 0, 2, 2])


@pytest.mark.parametrize("shifts", [[0, 1, 2, 3], [-5, 0, 7], list(range(-3, 9))])
def test_fast_lagged_statistics_match_explicit_matrix(rng, shifts):
    x = rng.normal(size=(97, 4))
    y = rng.normal(size=(97, 2))
    X = lag_matrix(x, shifts)
    np.testing.assert_allclose(lagged_gram(x, shifts), X.T @ X, atol=1e-10)
    np.testing.assert_allclose(lagged_cross(x, shifts, y), X.T @ y, atol=1e-10)
    np.testing.assert_allclose(lagged_row_norms_sq(x, shifts), (X**2).sum(axis=1), atol=1e-10)
    stats = LagStats(X.T @ X, X.T @ y, X.shape[0], float(np.sum((X**2).sum(axis=1) ** 2)))
    assert lw_from_stats(stats) == pytest.approx(ledoit_wolf_shrinkage(X, assume_centered=True))
