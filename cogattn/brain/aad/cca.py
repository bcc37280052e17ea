"""CCA-based attention decoding (de Cheveigné et al. 2018) with an LDA classifier.

Both signals are band-passed (``band_hz``, 1–9 Hz by default) and z-scored per trial (Recordings
input; array input is only centred), then get temporal context: the EEG is lag-expanded over ``eeg_tmin_ms…eeg_tmax_ms``
(0–250 ms after the stimulus, as the backward decoder) and the stimulus over
``stim_tmin_ms…stim_tmax_ms`` (its past 0–250 ms). Canonical correlation analysis on the
training trials (attended stream) finds pairs of projections ``(u_k, v_k)``, ``k < K``,
maximising ``corr(X u_k, Y v_k)``. Both covariances are shrunk towards a scaled identity
(``shrinkage``) before whitening; the canonical directions are the singular vectors of
``Cxx^{-1/2} Cxy Cyy^{-1/2}``.

Decision: in each window, the K canonical correlations with each candidate stream form a
vector ``ρ_s``. An LDA trained on windows of the training trials (features
``ρ_att − ρ_unatt`` labelled 1 and their negatives labelled 0, which makes the problem
symmetric) gives a weight vector ``w``; the stream with the largest ``w·ρ_s`` wins
(Geirnaert et al. 2021 review; de Cheveigné et al. 2018 used the sum or LDA of correlations).
The LDA is trained on the CCA's own training windows, whose correlations are optimistic —
a stated simplification.

References
----------
de Cheveigné, A., Wong, D. D. E., Di Liberto, G. M., Hjortkjær, J., Slaney, M., & Lalor, E.
(2018). Decoding the auditory brain with canonical component analysis. NeuroImage 172,
206–216.
Geirnaert, S., et al. (2021). Electroencephalography-based auditory attention decoding: toward
neurosteered hearing devices. IEEE Signal Processing Magazine 38(4), 89–102.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from cogattn.brain.aad._base import (
    AADDecoderMixin,
    Trial,
    check_recordings,
    is_recordings,
    iter_trials,
    window_starts,
    zscore,
)
from cogattn.brain.aad.decoders import _apply_lags
from cogattn.brain.aad.features import bandpass
from cogattn.brain.aad.lags import lagged_cross, lagged_gram, lags_from_ms, shift
from cogattn.data import DataError

__all__ = ["CCADecoder"]


def _zf(est: CCADecoder, a: np.ndarray, fs: float) -> np.ndarray:
    """Band-pass (if ``est.band_hz``) then z-score along time."""
    if est.band_hz is not None:
        a = bandpass(a, sfreq_hz=fs, band_hz=tuple(est.band_hz), axis=0)
    return zscore(a)


def _inv_sqrt(c: np.ndarray, shrinkage: float) -> np.ndarray:
    d = c.shape[0]
    mu = np.trace(c) / d if d else 1.0
    c = (1 - shrinkage) * c + shrinkage * mu * np.eye(d)
    w, v = linalg.eigh(c)
    w = np.clip(w, 1e-12 * max(w.max(), 1e-300), None)
    return (v / np.sqrt(w)) @ v.T


class CCADecoder(AADDecoderMixin, TransformerMixin, BaseEstimator):
    """Canonical correlation analysis between lagged EEG and lagged stimulus, + LDA.

    Parameters
    ----------
    sfreq_hz : float, optional
        Sampling rate (from the ``Recordings``; required for arrays).
    eeg_tmin_ms, eeg_tmax_ms : float
        EEG lags (after the stimulus).
    stim_tmin_ms, stim_tmax_ms : float
        Stimulus lags (its past).
    n_components : int
        K canonical pairs kept.
    shrinkage : float
        Shrinkage of both covariance matrices towards a scaled identity (0–1).
    lda_window_s : float
        Window length of the LDA training windows.
    band_hz : (low, high) or None
        Zero-phase band-pass of the EEG and the stimulus of every trial (as in
        :class:`~cogattn.brain.aad.BackwardDecoder`).

    Attributes
    ----------
    x_weights_, y_weights_ : arrays (n_lags·n_channels, K), (n_lags·n_features, K)
        Canonical directions of the lagged EEG and stimulus.
    canonical_correlations_ : array (K,)
        Training canonical correlations.
    lda_ : LinearDiscriminantAnalysis or None
        Trained on Recordings only.
    lda_weights_ : array (K,)
        Weights combining the K correlations (ones when no LDA was trained).
    eeg_lags_, stim_lags_ : arrays of int
    sfreq_hz_ : float
    n_features_in_ : int
    """

    _parameter_constraints: ClassVar[dict] = {
        "sfreq_hz": [Interval(Real, 0, None, closed="neither"), None],
        "eeg_tmin_ms": [Real],
        "eeg_tmax_ms": [Real],
        "stim_tmin_ms": [Real],
        "stim_tmax_ms": [Real],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "shrinkage": [Interval(Real, 0, 1, closed="both")],
        "lda_window_s": [Interval(Real, 0, None, closed="neither")],
        "band_hz": ["array-like", None],
    }

    def __init__(
        self,
        *,
        sfreq_hz: float | None = None,
        eeg_tmin_ms: float = 0.0,
        eeg_tmax_ms: float = 250.0,
        stim_tmin_ms: float = 0.0,
        stim_tmax_ms: float = 250.0,
        n_components: int = 3,
        shrinkage: float = 0.05,
        lda_window_s: float = 10.0,
        band_hz: tuple[float, float] | None = (1.0, 9.0),
    ) -> None:
        self.sfreq_hz = sfreq_hz
        self.eeg_tmin_ms = eeg_tmin_ms
        self.eeg_tmax_ms = eeg_tmax_ms
        self.stim_tmin_ms = stim_tmin_ms
        self.stim_tmax_ms = stim_tmax_ms
        self.n_components = n_components
        self.shrinkage = shrinkage
        self.lda_window_s = lda_window_s
        self.band_hz = band_hz

    # -- core ------------------------------------------------------------------------------
    def _fit_pairs(self, xs: list[np.ndarray], ys: list[np.ndarray], fs: float) -> None:
        self.sfreq_hz_ = float(fs)
        self.eeg_lags_ = lags_from_ms(self.eeg_tmin_ms, self.eeg_tmax_ms, sfreq_hz=fs)
        self.stim_lags_ = lags_from_ms(self.stim_tmin_ms, self.stim_tmax_ms, sfreq_hz=fs)
        sx, sy = -self.eeg_lags_, self.stim_lags_
        cxx = sum(lagged_gram(x, sx) for x in xs)
        cyy = sum(lagged_gram(y, sy) for y in ys)
        cxy = 0
        for x, y in zip(xs, ys):
            # Σ_t x̃(t + τ) ỹ(t - σ)ᵀ via the lag matrix of y, column by column block
            cxy = cxy + np.concatenate(
                [lagged_cross(x, sx, _shift_cols(y, int(s))) for s in sy], axis=1
            )
        n = sum(x.shape[0] for x in xs)
        cxx, cyy, cxy = cxx / n, cyy / n, cxy / n
        wx, wy = _inv_sqrt(cxx, self.shrinkage), _inv_sqrt(cyy, self.shrinkage)
        u, s, vt = linalg.svd(wx @ cxy @ wy, full_matrices=False)
        k = min(self.n_components, s.size)
        self.x_weights_ = wx @ u[:, :k]
        self.y_weights_ = wy @ vt[:k].T
        self.canonical_correlations_ = s[:k]
        self.lda_weights_ = np.ones(k)
        self.lda_ = None

    def _components(self, x: np.ndarray, y: np.ndarray | None):
        u = _apply_lags(x, -self.eeg_lags_, self.x_weights_)
        v = None if y is None else _apply_lags(y, self.stim_lags_, self.y_weights_)
        return u, v

    @staticmethod
    def _window_corrs(u: np.ndarray, v: np.ndarray, starts: np.ndarray, length: int):
        idx = starts[:, None] + np.arange(length)[None, :]
        a = u[idx] - u[idx].mean(axis=1, keepdims=True)
        b = v[idx] - v[idx].mean(axis=1, keepdims=True)
        den = np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1))
        return np.divide((a * b).sum(axis=1), den, out=np.zeros(den.shape), where=den > 0)

    # -- sklearn API -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None):
        """Fit on a ``Recordings`` (attended stream; also trains the LDA) or arrays
        ``X`` (time, channel) / ``y`` (time[, feature]).

        Returns
        -------
        self
        """
        self._validate_params()
        if is_recordings(X):
            if y is not None:
                raise ValueError("y must be None when X is a Recordings dataset")
            ds = check_recordings(X, need_streams=True, need_attended=True)
            fs = float(ds.attrs["sfreq_hz"])
            trials = iter_trials(ds)
            xs = [_zf(self, t.eeg, fs) for t in trials]
            ys = [_zf(self, t.streams[t.attended], fs) for t in trials]
            self.n_features_in_ = xs[0].shape[1]
            self._fit_pairs(xs, ys, fs)
            self._fit_lda(trials, fs)
            return self
        if y is None:
            raise ValueError(
                "CCADecoder requires y to be passed, but the target y is None (y = the stimulus)"
            )
        if self.sfreq_hz is None:
            raise ValueError("CCADecoder: sfreq_hz is required for array input")
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=float)
        y = y[:, None] if y.ndim == 1 else y
        self.x_mean_, self.y_mean_ = X.mean(axis=0), y.mean(axis=0)
        self._fit_pairs([X - self.x_mean_], [y - self.y_mean_], float(self.sfreq_hz))
        return self

    def _fit_lda(self, trials: list[Trial], fs: float) -> None:
        length = round(self.lda_window_s * fs)
        feats = []
        for t in trials:
            if t.streams.shape[0] < 2:
                continue
            starts = window_starts(t.eeg.shape[0], length)
            if len(starts) == 0:
                continue
            u, _ = self._components(_zf(self, t.eeg, fs), None)
            rho = [
                self._window_corrs(
                    u,
                    _apply_lags(_zf(self, s, fs), self.stim_lags_, self.y_weights_),
                    starts,
                    length,
                )
                for s in t.streams
            ]
            others = [r for i, r in enumerate(rho) if i != t.attended]
            feats.append(rho[t.attended] - np.max(others, axis=0))
        if not feats or sum(len(f) for f in feats) < 4:
            return
        f = np.concatenate(feats)
        x = np.concatenate([f, -f])
        lab = np.r_[np.ones(len(f)), np.zeros(len(f))]
        self.lda_ = LinearDiscriminantAnalysis().fit(x, lab)
        self.lda_weights_ = self.lda_.coef_.ravel()

    def transform(self, X: Any) -> np.ndarray:
        """EEG canonical components ``(time, K)`` of array input (training means removed)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        mean = getattr(self, "x_mean_", 0.0)
        return _apply_lags(np.asarray(X, float) - mean, -self.eeg_lags_, self.x_weights_)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean canonical correlation (over K) between the EEG and the stimulus."""
        check_is_fitted(self)
        if is_recordings(X):
            ds = check_recordings(X, need_streams=True, need_attended=True)
            rs = []
            for t in iter_trials(ds):
                fs = self.sfreq_hz_
                u, v = self._components(_zf(self, t.eeg, fs), _zf(self, t.streams[t.attended], fs))
                rs.append(self._window_corrs(u, v, np.array([0]), u.shape[0]).mean())
            return float(np.mean(rs))
        u = self.transform(X)
        yy = np.asarray(y, dtype=float)
        yy = (yy[:, None] if yy.ndim == 1 else yy) - self.y_mean_
        v = _apply_lags(yy, self.stim_lags_, self.y_weights_)
        return float(self._window_corrs(u, v, np.array([0]), u.shape[0]).mean())

    def _window_scores(self, trial: Trial, starts: np.ndarray, length: int) -> np.ndarray:
        if trial.eeg.shape[1] != self.n_features_in_:
            raise DataError(
                f"the decoder was fitted on {self.n_features_in_} channels, got {trial.eeg.shape[1]}",
                field="eeg",
            )
        fs = self.sfreq_hz_
        u, _ = self._components(_zf(self, trial.eeg, fs), None)
        out = []
        for s in trial.streams:
            v = _apply_lags(_zf(self, s, fs), self.stim_lags_, self.y_weights_)
            out.append(self._window_corrs(u, v, starts, length) @ self.lda_weights_)
        return np.stack(out, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


def _shift_cols(y: np.ndarray, s: int) -> np.ndarray:
    return shift(np.asarray(y, dtype=float).reshape(y.shape[0], -1), s)
