"""Label decoders: the locus CNN and the AAD-LLM-style speaker-cluster BiLSTM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cogattn.brain.aad import (
    KFoldTrials,
    LocusCNN,
    LocusNet,
    SpeakerClusterDecoder,
    SpeakerSpace,
    add_stream_embeddings,
    evaluate_windows,
    simulate_aad,
)
from cogattn.data import DataError
from cogattn.stimuli.speech import Talker

TALKERS = (
    Talker("m1", "en-us+m3", 165, 40, 110.0, 1.0, 4.2),
    Talker("f1", "en+f5", 150, 60, 210.0, 1.17, 3.8),
    Talker("m2", "en-gb+m1", 175, 30, 135.0, 1.05, 4.5),
    Talker("f2", "en-us+f2", 160, 70, 185.0, 1.12, 4.0),
)


def test_locus_net_architecture_matches_paper():
    # 5 conv kernels of 17 samples (130 ms at 128 Hz) × 64 channels, FC 5→5, FC 5→2
    net = LocusNet(64, 2, kernel_samples=17)
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == 17 * 64 * 5 + 5 + (5 * 5 + 5) + (5 * 2 + 2)
    out = net(torch.zeros(3, 200, 64))
    assert out.shape == (3, 2)
    # the time axis is pooled away: any window length works
    assert net(torch.zeros(1, 37, 64)).shape == (1, 2)
    assert (
        LocusCNN(sfreq_hz=128)
        .fit(np.random.default_rng(0).normal(size=(20, 64, 4)), np.arange(20) % 2)
        .model_.kernel_samples
        == 17
    )


@pytest.fixture(scope="module")
def locus_sim():
    rng = np.random.default_rng(5)
    env = rng.normal(size=(12, 2, 20 * 64))
    return simulate_aad(
        n_trials=12, trial_duration_s=20, n_channels=16, streams=env, locus_gain=1.0, seed=5
    )


def test_locus_cnn_learns_a_spatial_locus_cue(locus_sim):
    cnn = LocusCNN(epochs=12, batch_size=64, device="cpu")
    res = evaluate_windows(cnn, locus_sim, windows_s=(1,), cv=KFoldTrials(3), progress=False)
    assert res["accuracy"].item() >= 0.75
    fitted = LocusCNN(epochs=2, batch_size=64).fit(locus_sim)
    assert set(fitted.history_) >= {"loss", "val_loss", "best_epoch"}
    assert fitted.scale_ > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_locus_cnn_on_gpu(locus_sim):
    cnn = LocusCNN(epochs=2, batch_size=64, device="cuda").fit(locus_sim)
    assert next(cnn.model_.parameters()).device.type == "cpu"  # moved back for inference
    assert cnn.decide(locus_sim, window_s=1).sizes["window"] > 0


@pytest.fixture(scope="module")
def speaker_sim():
    return simulate_aad(
        n_trials=12, trial_duration_s=20, n_channels=16, talkers=TALKERS, identity_gain=1.0,
        speaker_embeddings=True, snr_db=-30, seed=1,
    )  # fmt: skip


def test_speaker_embedding_identifies_talkers(speaker_sim):
    emb = speaker_sim["stream_embedding"].values.reshape(-1, speaker_sim.sizes["embedding"])
    names = speaker_sim["stream_talker"].values.astype(str).ravel()
    z = (emb - emb.mean(0)) / emb.std(0)
    d = np.linalg.norm(z[:, None] - z[None], axis=2)
    np.fill_diagonal(d, np.inf)
    # the nearest other embedding belongs to the same talker far more often than chance
    # (5 of the 23 other embeddings share the talker: chance ≈ 0.22; P(≥ 0.6 | chance) < 1e-4)
    assert np.mean(names[np.argmin(d, axis=1)] == names) >= 0.6
    # the first coordinate is the log median F0: female talkers are higher
    female = np.char.startswith(names, "f")
    assert emb[female, 0].min() > emb[~female, 0].max()
    space = SpeakerSpace(4).fit(emb)
    assert space.centroids_.shape == (4, emb.shape[1])
    assert space.assign(emb[:3]).shape == (3,)


def test_speaker_cluster_decoder_decodes_attended_talker(speaker_sim):
    dec = SpeakerClusterDecoder(n_clusters=4, window_s=2, downsample=2, hidden_size=8, epochs=15)
    res = evaluate_windows(dec, speaker_sim, windows_s=(2,), cv=KFoldTrials(3), progress=False)
    assert res["accuracy"].item() >= 0.7


def test_speaker_cluster_decoder_needs_embeddings(speaker_sim):
    bare = speaker_sim.drop_vars("stream_embedding")
    with pytest.raises(DataError, match="stream_embedding"):
        SpeakerClusterDecoder(epochs=1).fit(bare)
    again = add_stream_embeddings(bare, speaker_sim["stream_embedding"].values)
    assert "stream_embedding" in again
    with pytest.raises(DataError, match="embeddings of shape"):
        add_stream_embeddings(bare, np.zeros((3, 4)))
