"""End-to-end AAD-LLM-style pipeline on the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.brain.aad import (
    AADPipeline,
    BackwardDecoder,
    DescribeTalker,
    IntentionToken,
    ListenerStep,
    SpeakerClusterDecoder,
    oracle_separator,
    simulate_aad,
)
from cogattn.stimuli.speech import Talker

TALKERS = (
    Talker("m1", "en-us+m3", 165, 40, 110.0, 1.0, 4.2),
    Talker("f1", "en+f5", 150, 60, 210.0, 1.17, 3.8),
    Talker("m2", "en-gb+m1", 175, 30, 135.0, 1.05, 4.5),
    Talker("f2", "en-us+f2", 160, 70, 185.0, 1.12, 4.0),
)


@pytest.fixture(scope="module")
def scene():
    ds = simulate_aad(
        n_trials=12, trial_duration_s=20, n_channels=16, talkers=TALKERS, snr_db=-30,
        identity_gain=1.0, keep_audio=True, speaker_embeddings=True, seed=4,
    )  # fmt: skip
    return ds, np.arange(9), np.arange(9, 12)


def _run(pipe, ds, trial):
    audio = ds["audio"].values[trial]
    fs_audio = ds["audio"].attrs["sfreq_hz"]
    mixture = audio.sum(axis=0)
    sep = oracle_separator(audio[::-1])  # sources in the opposite order of the streams
    pipe.separator = sep
    res = pipe.run(
        mixture, audio_sfreq_hz=fs_audio, eeg=ds["eeg"].values[trial],
        eeg_sfreq_hz=ds.attrs["sfreq_hz"], task="describe the talker I attend to",
    )  # fmt: skip
    truth = audio[int(ds["attended"].values[trial])]
    return res, truth


@pytest.mark.parametrize("kind", ["envelope", "speaker-cluster"])
def test_pipeline_selects_and_describes_attended_talker(scene, kind):
    ds, train, test = scene
    if kind == "envelope":
        dec = BackwardDecoder().fit(ds.isel(trial=train))
    else:
        dec = SpeakerClusterDecoder(
            n_clusters=4, window_s=2, downsample=2, hidden_size=8, epochs=15
        ).fit(ds.isel(trial=train))
    f0_true = {t.name: t.f0_hz for t in TALKERS}
    hits = 0
    for trial in test:
        res, truth = _run(AADPipeline(dec), ds, int(trial))
        hits += np.array_equal(res.attended_audio, truth)
        assert isinstance(res.intention, IntentionToken)
        assert res.intention.task == "describe the talker I attend to"
        desc = res.answer
        assert set(desc) >= {"f0_hz", "pitch", "speaking_rate_hz", "energy_db", "transcript"}
        name = ds["stream_talker"].values[trial][1 - res.attended_stream]  # sources reversed
        if ds.attrs["speech_source"] == "synthetic":
            assert desc["f0_hz"] == pytest.approx(f0_true[name], rel=0.15)
        assert desc["pitch"] == ("high" if name.startswith("f") else "low")
        if kind == "speaker-cluster":
            assert res.intention.cluster is not None and res.intention.centroid is not None
    assert hits >= 2  # of 3 held-out trials


def test_pipeline_plugs_in_listener_and_asr(scene):
    ds, train, test = scene
    dec = BackwardDecoder().fit(ds.isel(trial=train))
    seen = {}

    class Echo:
        def __call__(self, audio, sfreq_hz, intention):
            seen["args"] = (audio.shape, sfreq_hz, intention.stream)
            return "ok"

    assert isinstance(Echo(), ListenerStep)
    res, _ = _run(AADPipeline(dec, listener=Echo()), ds, int(test[0]))
    assert res.answer == "ok" and seen["args"][2] == res.attended_stream
    asr = DescribeTalker(asr=lambda audio, fs: f"{audio.size / fs:.0f} s of speech")
    res, _ = _run(AADPipeline(dec, listener=asr), ds, int(test[0]))
    assert res.answer["transcript"] == "20 s of speech"


def test_pipeline_input_errors(scene):
    ds, train, _ = scene
    pipe = AADPipeline(BackwardDecoder().fit(ds.isel(trial=train)))
    with pytest.raises(ValueError, match="separator"):
        pipe.run(np.zeros(800), audio_sfreq_hz=8000, eeg=np.zeros((64, 16)), eeg_sfreq_hz=64)
    with pytest.raises(ValueError, match="differ"):
        pipe.run(
            np.zeros(8000 * 5), audio_sfreq_hz=8000, eeg=np.zeros((64 * 20, 16)),
            eeg_sfreq_hz=64, sources=np.ones((2, 8000 * 5)),
        )  # fmt: skip
