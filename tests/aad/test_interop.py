"""Recordings from arrays and MNE; preprocessing; topographies; the real-EEG array path."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from cogattn.brain.aad import (
    BackwardDecoder,
    ForwardTRF,
    KFoldTrials,
    evaluate_windows,
    plot_trf_topomap,
    preprocess_recordings,
    recordings_from_arrays,
    recordings_from_mne,
    simulate_aad,
    to_mne_info,
)
from cogattn.data import DataError

mne = pytest.importorskip("mne")


@pytest.fixture(scope="module")
def eeg128():
    """64-channel EEG at 128 Hz with two candidate envelopes, as plain arrays."""
    rng = np.random.default_rng(11)
    env = rng.normal(size=(8, 2, 40 * 128))
    ds = simulate_aad(
        n_trials=8, trial_duration_s=40, sfreq_hz=128.0, n_channels=64, streams=env,
        snr_db=-35, seed=11,
    )  # fmt: skip
    eeg = ds["eeg"].values  # (trial, time, channel)
    envelopes = ds["streams"].values[..., 0].transpose(0, 2, 1)  # (trial, time, stream)
    return eeg, envelopes, ds["attended"].values


def test_backward_decoder_on_128hz_arrays(eeg128):
    eeg, envelopes, att = eeg128
    rec = recordings_from_arrays(eeg, envelopes, att, sfreq_hz=128)
    assert rec["streams"].shape == (8, 2, 40 * 128, 1)
    dec = BackwardDecoder()
    res = evaluate_windows(dec, rec, windows_s=(5, 40), progress=False)
    assert len(BackwardDecoder().fit(rec).lags_) == 33  # 0–250 ms at 128 Hz
    assert res["accuracy"].sel(window_s=40.0).item() >= 0.85
    # the KU Leuven preprocessing path (1–9 Hz, 64 Hz) decodes as well
    pre = preprocess_recordings(rec, band_hz=(1, 9), out_sfreq_hz=64)
    assert pre.attrs["sfreq_hz"] == 64 and pre.sizes["time"] == 40 * 64
    res64 = evaluate_windows(BackwardDecoder(), pre, windows_s=(40,), progress=False)
    assert res64["accuracy"].item() >= 0.85


def test_recordings_from_arrays_orientation_and_trimming(eeg128, caplog):
    eeg, envelopes, att = eeg128
    a = recordings_from_arrays(eeg, envelopes, att, sfreq_hz=128)
    b = recordings_from_arrays(eeg, envelopes.transpose(0, 2, 1), att, sfreq_hz=128)
    np.testing.assert_array_equal(a["streams"].values, b["streams"].values)
    # lists of unequal trials, envelopes 10 samples short: trimmed with a logged warning
    eeg_l = [eeg[0], eeg[1, :4000]]
    env_l = [envelopes[0, :-10], envelopes[1, :3990]]
    with caplog.at_level(logging.WARNING):
        c = recordings_from_arrays(eeg_l, env_l, [0, 1], sfreq_hz=128)
    assert "trimmed" in caplog.text
    assert c["n_samples"].values.tolist() == [40 * 128 - 10, 3990]
    with pytest.raises(DataError, match="max_trim_s"):
        recordings_from_arrays([eeg[0]], [envelopes[0, :-500]], 0, sfreq_hz=128)
    with pytest.raises(DataError, match="trials"):
        recordings_from_arrays(eeg, envelopes[:3], att, sfreq_hz=128)


def test_recordings_from_mne_raw_and_epochs():
    rng = np.random.default_rng(0)
    mont = mne.channels.make_standard_montage("biosemi32")
    info = mne.create_info(mont.ch_names, 64.0, "eeg")
    info.set_montage(mont)
    raw = mne.io.RawArray(rng.normal(size=(32, 640)) * 1e-5, info, verbose=False)
    env = rng.normal(size=(2, 640))
    rec = recordings_from_mne(raw, streams=env, attended=1)
    assert rec["eeg"].shape == (1, 640, 32) and rec["attended"].item() == 1
    assert "channel_pos" in rec and rec["channel"].values[0] == mont.ch_names[0]
    epochs = mne.EpochsArray(rng.normal(size=(3, 32, 128)), info, verbose=False)
    rec_e = recordings_from_mne(epochs, streams=rng.normal(size=(3, 2, 128)), attended=[0, 1, 0])
    assert rec_e["eeg"].shape == (3, 128, 32)
    info2 = to_mne_info(rec)
    assert info2.get_montage() is not None
    with pytest.raises(TypeError, match="Raw or Epochs"):
        recordings_from_mne(np.zeros((3, 3)))


def test_trf_topomap_through_mne():
    ds = simulate_aad(
        n_trials=4, trial_duration_s=20, n_channels=32, montage="biosemi32",
        streams=np.random.default_rng(1).normal(size=(4, 2, 20 * 64)), snr_db=-20, seed=1,
    )  # fmt: skip
    trf = ForwardTRF(tmin_ms=0, tmax_ms=300).fit(ds)
    fig = plot_trf_topomap(trf.trf_.sel(feature="envelope"), to_mne_info(ds))
    assert len(fig.axes) >= 3
    # the topography at the N1 latency is the simulated fronto-central pattern, negative
    n1 = trf.trf_.sel(feature="envelope").sel(lag=0.1, method="nearest").values
    assert np.corrcoef(n1, ds["true_pattern"].values)[0, 1] < -0.7
    with pytest.raises(ValueError, match="positions"):
        plot_trf_topomap(trf.trf_.sel(feature="envelope"), mne.create_info(32, 64.0, "eeg"))


def test_default_band_pass_makes_raw_eeg_decodable(eeg128):
    """Unfiltered EEG (slow drifts, high-frequency noise) still decodes with the default
    1–9 Hz band-pass of the decoder; without it the drifts dominate."""
    from cogattn.brain.aad import bandpass

    eeg, envelopes, att = eeg128
    rng = np.random.default_rng(2)
    raw = eeg.copy()
    for i in range(raw.shape[0]):
        drift = bandpass(rng.normal(size=raw.shape[1:]), sfreq_hz=128, band_hz=(0, 0.5))
        hf = bandpass(rng.normal(size=raw.shape[1:]), sfreq_hz=128, band_hz=(15, 64))
        raw[i] += 5 * drift / drift.std() + hf / hf.std()
    rec = recordings_from_arrays(raw, envelopes, att, sfreq_hz=128)
    cv = KFoldTrials(4)
    good = evaluate_windows(BackwardDecoder(), rec, windows_s=(40,), cv=cv, progress=False)
    bad = evaluate_windows(
        BackwardDecoder(band_hz=None), rec, windows_s=(40,), cv=cv, progress=False
    )
    assert good["accuracy"].item() >= 0.85
    assert bad["accuracy"].item() < good["accuracy"].item()
