"""Speaker-cluster attention decoding, as in the AAD-LLM front end (Jiang et al. 2025).

AAD-LLM does not correlate envelopes: it predicts the *identity class* of the attended talker.
Speaker embeddings of a large external corpus (512-d x-vectors in the paper) are clustered with
K-means (K = 8); every talker is represented by its nearest centroid; a bidirectional LSTM
maps the neural signal (channels × time) to a softmax over the K clusters (auditory spec §1).

Here:

- :class:`SpeakerSpace` — K-means over standardised speaker embeddings (``fit`` on an external
  set of speakers, ``assign`` embeddings to clusters);
- :func:`spectral_speaker_embedding` — the default, local embedding: F0 statistics and the
  mean log-mel spectrum of voiced frames. It separates talkers by sex and timbre, not as well
  as x-vectors; pass any callable ``(audio, sfreq_hz) -> vector`` (e.g. a speechbrain x-vector
  model) to use a better one;
- :class:`SpeakerClusterDecoder` — the BiLSTM label decoder. On ``Recordings`` it needs the
  speaker embedding of every candidate stream (variable ``stream_embedding``, trial × stream ×
  embedding; see :func:`add_stream_embeddings`); the training label is the cluster of the
  attended stream's talker; to decide, each stream is scored by the predicted probability of
  its talker's cluster (streams in the same cluster tie; the first wins).

References
----------
Jiang, X., et al. (2025). AAD-LLM: Neural attention-driven auditory scene understanding.
ACL 2025 (arXiv 2502.16794).
Snyder, D., et al. (2018). X-vectors: robust DNN embeddings for speaker recognition. ICASSP.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn

from cogattn.brain.aad._base import Trial, check_recordings, is_recordings
from cogattn.brain.aad._label import (
    _LabelDecoderMixin,
    _validate_windows,
    recordings_windows,
    train_torch_classifier,
)
from cogattn.data import DataError

__all__ = [
    "BiLSTMNet",
    "SpeakerClusterDecoder",
    "SpeakerSpace",
    "add_stream_embeddings",
    "estimate_f0",
    "spectral_speaker_embedding",
]


def _frames(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    if x.size < frame:
        x = np.concatenate([x, np.zeros(frame - x.size)])
    n = 1 + (x.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    return x[idx]


def estimate_f0(
    audio: np.ndarray,
    *,
    sfreq_hz: float,
    fmin_hz: float = 60.0,
    fmax_hz: float = 400.0,
    frame_ms: float = 40.0,
    hop_ms: float = 10.0,
    voicing_threshold: float = 0.45,
) -> np.ndarray:
    """Frame-wise F0 by normalised autocorrelation (NaN for unvoiced / silent frames).

    A frame is voiced when its energy exceeds 10 % of the median frame energy of the active
    frames and the normalised autocorrelation peak in ``[1/fmax, 1/fmin]`` exceeds
    ``voicing_threshold``; the lag is refined by parabolic interpolation.
    """
    x = np.asarray(audio, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("empty audio")
    frame = round(frame_ms * sfreq_hz / 1000)
    hop = round(hop_ms * sfreq_hz / 1000)
    fr = _frames(x, frame, hop)
    fr = (fr - fr.mean(axis=1, keepdims=True)) * np.hanning(frame)
    energy = (fr**2).sum(axis=1)
    n_fft = 2 ** int(np.ceil(np.log2(2 * frame)))
    spec = np.fft.rfft(fr, n_fft, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, n_fft, axis=1)[:, :frame]
    ac_win = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(frame), n_fft)) ** 2, n_fft)[:frame]
    ac = ac / np.maximum(ac[:, :1], 1e-20) / np.maximum(ac_win / ac_win[0], 1e-3)
    lo = int(sfreq_hz / fmax_hz)
    hi = min(int(sfreq_hz / fmin_hz), frame - 2)
    seg = ac[:, lo : hi + 1]
    # octave-error guard: take the shortest-lag local maximum within 15 % of the best peak
    best = seg.max(axis=1, keepdims=True)
    is_peak = np.zeros_like(seg, dtype=bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    good = is_peak & (seg >= 0.85 * best)
    k = np.where(good.any(axis=1), np.argmax(good, axis=1), np.argmax(seg, axis=1))
    peak = seg[np.arange(len(k)), k]
    lag = (k + lo).astype(float)
    ok = (k > 0) & (k < seg.shape[1] - 1)
    a, b, c = (seg[np.arange(len(k)), np.clip(k + d, 0, seg.shape[1] - 1)] for d in (-1, 0, 1))
    denom = a - 2 * b + c
    shift = np.where(ok & (denom != 0), 0.5 * (a - c) / np.where(denom != 0, denom, 1), 0.0)
    lag = lag + np.clip(shift, -0.5, 0.5)
    active = energy > 0
    thresh = 0.1 * np.median(energy[active]) if active.any() else np.inf
    voiced = (energy > thresh) & (peak > voicing_threshold)
    return np.where(voiced, sfreq_hz / lag, np.nan)


def _mel_filterbank(n_fft: int, sfreq_hz: float, n_mels: int, fmin: float, fmax: float):
    def hz2mel(f):
        return 2595 * np.log10(1 + f / 700)

    def mel2hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    pts = mel2hz(np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1 / sfreq_hz)
    fb = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        lo, c, hi = pts[i], pts[i + 1], pts[i + 2]
        fb[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    return fb


def spectral_speaker_embedding(
    audio: np.ndarray, *, sfreq_hz: float, n_mels: int = 20
) -> np.ndarray:
    """A local speaker embedding: ``[median log F0, IQR of log F0, mean log-mel (n_mels)]``.

    Computed on voiced frames (40 ms, hop 10 ms); the mel bands span 80 Hz–min(4 kHz,
    Nyquist). Speaker-level, not content-level: it separates talkers by pitch and timbre.
    """
    x = np.asarray(audio, dtype=float).ravel()
    f0 = estimate_f0(x, sfreq_hz=sfreq_hz)
    frame = round(0.04 * sfreq_hz)
    hop = round(0.01 * sfreq_hz)
    fr = _frames(x, frame, hop) * np.hanning(frame)
    n_fft = 2 ** int(np.ceil(np.log2(frame)))
    power = np.abs(np.fft.rfft(fr, n_fft, axis=1)) ** 2
    fb = _mel_filterbank(n_fft, sfreq_hz, n_mels, 80.0, min(4000.0, sfreq_hz / 2 - 1))
    logmel = np.log(power @ fb.T + 1e-10)
    voiced = np.isfinite(f0[: logmel.shape[0]])
    if voiced.sum() < 5:
        raise ValueError("too few voiced frames to compute a speaker embedding")
    lf0 = np.log(f0[np.isfinite(f0)])
    mel = logmel[voiced].mean(axis=0)
    mel = mel - mel.mean()  # level-invariant
    q75, q25 = np.percentile(lf0, [75, 25])
    return np.concatenate([[np.median(lf0), q75 - q25], mel])


def add_stream_embeddings(
    recordings: xr.Dataset,
    embeddings: Any,
) -> xr.Dataset:
    """Attach speaker embeddings of the candidate streams: ``(trial, stream, embedding)``.

    ``embeddings`` is an array of that shape, or ``(stream, embedding)`` (the same talkers in
    every trial).
    """
    ds = check_recordings(recordings, need_streams=True)
    e = np.asarray(embeddings, dtype=float)
    n_tr, n_st = ds.sizes["trial"], ds.sizes["stream"]
    if e.ndim == 2:
        e = np.broadcast_to(e, (n_tr, *e.shape))
    if e.ndim != 3 or e.shape[:2] != (n_tr, n_st):
        raise DataError(
            f"expected embeddings of shape ({n_tr}, {n_st}, dim) or ({n_st}, dim), got {np.shape(embeddings)}",
            field="stream_embedding",
        )
    if not np.isfinite(e).all():
        raise DataError("speaker embeddings contain NaN or infinity", field="stream_embedding")
    out = ds.copy()
    out["stream_embedding"] = (("trial", "stream", "embedding"), np.array(e))
    return out


class SpeakerSpace(BaseEstimator):
    """K-means clusters of (standardised) speaker embeddings — the AAD-LLM speaker space.

    Parameters
    ----------
    n_clusters : int
        K (8 in AAD-LLM).
    random_state : int

    Attributes
    ----------
    centroids_ : array (n_clusters, dim)
        Centroids in the original embedding units.
    kmeans_ : KMeans
    scaler_ : StandardScaler
    """

    def __init__(self, n_clusters: int = 8, *, random_state: int = 0) -> None:
        self.n_clusters = n_clusters
        self.random_state = random_state

    def fit(self, embeddings: Any, y: Any = None):
        """Cluster ``embeddings`` (n_speakers, dim)."""
        e = np.asarray(embeddings, dtype=float)
        if e.ndim != 2:
            raise ValueError(f"expected embeddings (n_speakers, dim), got {e.shape}")
        uniq = np.unique(e, axis=0)
        if len(uniq) < self.n_clusters:
            raise ValueError(
                f"{len(uniq)} distinct speakers cannot form {self.n_clusters} clusters; "
                "lower n_clusters or add speakers"
            )
        self.scaler_ = StandardScaler().fit(e)
        self.kmeans_ = KMeans(self.n_clusters, n_init=10, random_state=self.random_state)
        self.kmeans_.fit(self.scaler_.transform(e))
        self.centroids_ = self.scaler_.inverse_transform(self.kmeans_.cluster_centers_)
        return self

    def assign(self, embeddings: Any) -> np.ndarray:
        """Index of the nearest centroid for each embedding (any leading shape)."""
        check_is_fitted(self)
        e = np.asarray(embeddings, dtype=float)
        flat = e.reshape(-1, e.shape[-1])
        return self.kmeans_.predict(self.scaler_.transform(flat)).reshape(e.shape[:-1])


class BiLSTMNet(nn.Module):
    """Bidirectional LSTM over ``(batch, time, channel)`` → mean over time → logits."""

    def __init__(
        self, n_channels: int, n_classes: int, *, hidden_size: int = 16, num_layers: int = 1
    ):
        super().__init__()
        self.lstm = nn.LSTM(
            n_channels, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * hidden_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)``."""
        h, _ = self.lstm(x)
        return self.head(h.mean(dim=1))


_NO_EMBEDDING = (
    "SpeakerClusterDecoder needs the speaker embedding of every stream (variable "
    "'stream_embedding', trial × stream × embedding); add it with "
    "cogattn.brain.aad.add_stream_embeddings(recordings, embeddings)"
)


class SpeakerClusterDecoder(_LabelDecoderMixin, ClassifierMixin, BaseEstimator):
    """BiLSTM from neural windows to the attended talker's speaker cluster (AAD-LLM style).

    Parameters
    ----------
    n_clusters : int
        K of the speaker space fitted when ``speaker_space`` is None (8 in AAD-LLM; must not
        exceed the number of distinct training talkers).
    speaker_space : SpeakerSpace, optional
        A speaker space fitted on an external corpus; default: fitted on the distinct stream
        embeddings of the training recordings.
    hidden_size, num_layers : int
        BiLSTM size.
    window_s, overlap, validation_fraction : float
        Training windows (as in :class:`~cogattn.brain.aad.LocusCNN`).
    downsample : int
        Keep every n-th sample of each window before the LSTM (speed; 1 = all).
    epochs, batch_size, learning_rate, weight_decay : training
    device : str
    random_state : int
    verbose : bool

    Attributes
    ----------
    model_ : BiLSTMNet
    speaker_space_ : SpeakerSpace or None
    classes_ : array
        Cluster indices seen in training (for arrays: the labels).
    scale_ : float
    history_ : dict
    n_features_in_ : int
    sfreq_hz_ : float or None
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "speaker_space": [None, SpeakerSpace],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "window_s": [Interval(Real, 0, None, closed="neither")],
        "overlap": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "downsample": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        *,
        n_clusters: int = 8,
        speaker_space: SpeakerSpace | None = None,
        hidden_size: int = 16,
        num_layers: int = 1,
        window_s: float = 2.0,
        overlap: float = 0.5,
        validation_fraction: float = 0.15,
        downsample: int = 1,
        epochs: int = 30,
        batch_size: int = 32,
        learning_rate: float = 5e-3,
        weight_decay: float = 0.0,
        device: str = "cpu",
        random_state: Any = 0,
        verbose: bool = False,
    ) -> None:
        self.n_clusters = n_clusters
        self.speaker_space = speaker_space
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.window_s = window_s
        self.overlap = overlap
        self.validation_fraction = validation_fraction
        self.downsample = downsample
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _rs(self) -> int:
        rs = self.random_state
        return int(rs) if isinstance(rs, (int, np.integer)) else 0

    def _stream_clusters(self, ds: xr.Dataset) -> np.ndarray:
        if "stream_embedding" not in ds.data_vars:
            raise DataError(_NO_EMBEDDING, field="stream_embedding")
        return self.speaker_space_.assign(ds["stream_embedding"].values)

    def fit(self, X: Any, y: Any = None):
        """Fit on a ``Recordings`` (label = cluster of the attended talker) or windows + labels."""
        self._validate_params()
        if is_recordings(X):
            if y is not None:
                raise ValueError("y must be None when X is a Recordings dataset")
            ds = check_recordings(X, need_streams=True, need_attended=True)
            if self.speaker_space is not None:
                check_is_fitted(self.speaker_space)
                self.speaker_space_ = self.speaker_space
            else:
                if "stream_embedding" not in ds.data_vars:
                    raise DataError(_NO_EMBEDDING, field="stream_embedding")
                emb = ds["stream_embedding"].values.reshape(-1, ds.sizes["embedding"])
                self.speaker_space_ = SpeakerSpace(self.n_clusters, random_state=self._rs()).fit(
                    np.unique(emb, axis=0)
                )
            clusters = self._stream_clusters(ds)
            att = ds["attended"].values
            labels = clusters[np.arange(len(att)), att]
            fs = float(ds.attrs["sfreq_hz"])
            x, lab, xv, yv = recordings_windows(
                ds, labels, window_s=self.window_s, overlap=self.overlap,
                validation_fraction=self.validation_fraction,
            )  # fmt: skip
            self.n_features_in_ = x.shape[2]
            self.sfreq_hz_ = fs
        else:
            x, lab = _validate_windows(self, X, y, reset=True)
            if lab is None:
                raise ValueError(
                    "SpeakerClusterDecoder requires y to be passed, but the target y is None"
                )
            xv, yv = None, None
            self.speaker_space_ = None
            self.sfreq_hz_ = None
        check_classification_targets(lab)
        self.classes_, y_idx = np.unique(lab, return_inverse=True)
        sd = float(np.std(x))
        self.scale_ = sd if sd > 0 else 1.0
        torch.manual_seed(self._rs())
        self.model_ = BiLSTMNet(
            x.shape[2], max(len(self.classes_), 2), hidden_size=self.hidden_size,
            num_layers=self.num_layers,
        )  # fmt: skip
        yv_idx = None
        if yv is not None and len(yv):
            keep = np.isin(yv, self.classes_)
            xv, yv_idx = xv[keep], np.searchsorted(self.classes_, yv[keep])
        self.history_ = train_torch_classifier(
            self.model_, self._prep(x), y_idx,
            x_val=None if xv is None else self._prep(xv), y_val=yv_idx,
            epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            optimizer="adam", weight_decay=self.weight_decay, device=self.device,
            seed=self._rs(), verbose=self.verbose, desc="SpeakerClusterDecoder",
        )  # fmt: skip
        # inference in float64: predictions do not depend on the batch composition
        self.model_.to("cpu").double()
        return self

    def _prep(self, w: np.ndarray) -> np.ndarray:
        return w[:, :: self.downsample] / self.scale_

    def _proba_windows(self, w: np.ndarray) -> np.ndarray:
        self.model_.eval()
        with torch.no_grad():
            logits = self.model_(torch.as_tensor(self._prep(w), dtype=torch.float64))
            p = torch.softmax(logits, dim=1).numpy().astype(float)
        p = p[:, : len(self.classes_)]
        return p / p.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Cluster probabilities of windows ``(n, time, channel)``."""
        check_is_fitted(self)
        x, _ = _validate_windows(self, X, reset=False)
        return self._proba_windows(x)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted cluster (class) of each window."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def decide(self, recordings: xr.Dataset, window_s: float, *, step_s: float | None = None):
        """As :meth:`AADDecoderMixin.decide`; needs ``stream_embedding`` in ``recordings``."""
        check_is_fitted(self)
        ds = check_recordings(recordings, need_streams=True)
        if self.speaker_space_ is None:
            raise ValueError("decide() needs a decoder fitted on Recordings (a speaker space)")
        self._trial_clusters = self._stream_clusters(ds)
        try:
            return super().decide(ds, window_s, step_s=step_s)
        finally:
            del self._trial_clusters

    def _stream_scores(self, proba: np.ndarray, trial: Trial) -> np.ndarray:
        clusters = self._trial_clusters[trial.index]
        out = np.zeros((proba.shape[0], len(clusters)))
        for s, c in enumerate(clusters):
            hit = np.flatnonzero(self.classes_ == c)
            if hit.size:
                out[:, s] = proba[:, hit[0]]
        return out


SpeakerEmbedding = Callable[..., np.ndarray]
"""Type of a pluggable speaker embedding: ``f(audio, *, sfreq_hz) -> vector``."""
