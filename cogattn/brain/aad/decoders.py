"""Linear AAD models: backward decoder (stimulus reconstruction) and forward TRF (encoding).

Both fit a regularised linear map on a time-lagged design matrix (sign convention in
:mod:`cogattn.brain.aad.lags`: positive lags = the neural response follows the stimulus) and
accept either a ``Recordings`` dataset (trials, candidate streams, attended index) or plain
arrays (one continuous segment ``(time, channel)``, or trials ``(trial, time, channel)``).

Training across trials uses **covariance summation** (O'Sullivan et al. 2015; Biesmans et al.
2017): ``XᵀX`` and ``Xᵀy`` are summed over trials, each lagged on its own with zero padding,
never across trial borders. The summed ``XᵀX`` is computed exactly without building the lag
matrix (:func:`~cogattn.brain.aad.lags.lagged_gram`).

Regularisation (``regularization=``):

``"ridge-relative"`` (default)
    ``w = (XᵀX + λI)⁻¹ Xᵀy`` with ``λ = alpha · trace(XᵀX) / d`` (scale-free; d = number of
    coefficients).
``"ridge"``
    ``w = (XᵀX/n + alpha·I)⁻¹ Xᵀy/n`` (alpha in units of the per-sample covariance).
``"ledoit-wolf"``
    the covariance is replaced by its Ledoit–Wolf shrinkage estimate (Ledoit & Wolf 2004), the
    KU Leuven default; no hyper-parameter (``alpha`` is ignored, the shrinkage is
    ``shrinkage_``).

A sequence of ``alpha`` values selects one by inner cross-validation over the *training*
trials only (5 folds of whole trials; 5 contiguous blocks for a single segment), maximising
the mean correlation; the chosen value is ``alpha_``.

References
----------
O'Sullivan, J. A., et al. (2015). Attentional selection in a cocktail party environment can be
decoded from single-trial EEG. Cerebral Cortex 25(7), 1697–1706.
Crosse, M. J., Di Liberto, G. M., Bednar, A., & Lalor, E. C. (2016). The multivariate temporal
response function (mTRF) toolbox. Frontiers in Human Neuroscience 10, 604.
Biesmans, W., et al. (2017). Auditory-inspired speech envelope extraction methods for improved
EEG-based auditory attention detection in a cocktail party scenario. IEEE TNSRE 25(5).
Haufe, S., et al. (2014). On the interpretation of weight vectors of linear models in
multivariate neuroimaging. NeuroImage 87, 96–110.
Ledoit, O., & Wolf, M. (2004). A well-conditioned estimator for large-dimensional covariance
matrices. Journal of Multivariate Analysis 88(2), 365–411.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np
import xarray as xr
from scipy import linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from cogattn.brain.aad._base import (
    AADDecoderMixin,
    Trial,
    check_recordings,
    is_recordings,
    iter_trials,
    window_correlations,
    zscore,
)
from cogattn.brain.aad.features import bandpass
from cogattn.brain.aad.lags import (
    lagged_cross,
    lagged_gram,
    lagged_row_norms_sq,
    lags_from_ms,
    shift,
)
from cogattn.data import DataError

__all__ = ["BackwardDecoder", "ForwardTRF", "LagStats"]

logger = logging.getLogger(__name__)

_REGULARIZATIONS = ("ridge-relative", "ridge", "ledoit-wolf")


@dataclass
class LagStats:
    """Sufficient statistics of one trial: ``XᵀX``, ``Xᵀy``, ``n`` and ``Σ_t ||x_t||⁴``."""

    gram: np.ndarray
    cross: np.ndarray
    n: int
    row4: float

    def __add__(self, other: LagStats) -> LagStats:
        return LagStats(
            self.gram + other.gram,
            self.cross + other.cross,
            self.n + other.n,
            self.row4 + other.row4,
        )


def _sum_stats(stats: Sequence[LagStats]) -> LagStats:
    total = LagStats(stats[0].gram.copy(), stats[0].cross.copy(), stats[0].n, stats[0].row4)
    for s in stats[1:]:
        total.gram += s.gram
        total.cross += s.cross
        total.n += s.n
        total.row4 += s.row4
    return total


def ledoit_wolf_shrinkage(stats: LagStats) -> float:
    """Ledoit–Wolf shrinkage intensity from summed statistics (data assumed centred).

    Same estimator as :func:`sklearn.covariance.ledoit_wolf_shrinkage` with
    ``assume_centered=True``, computed from ``XᵀX`` and the row norms only.
    """
    n = stats.n
    d = stats.gram.shape[0]
    s = stats.gram / n
    mu = np.trace(s) / d
    delta_ = np.sum(s**2)
    beta = (stats.row4 / n - delta_) / (d * n)
    delta = (delta_ - d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta <= 0 or delta <= 0 else float(beta / delta)


def _solve(stats: LagStats, regularization: str, alpha: float) -> tuple[np.ndarray, float]:
    """Regularised normal equations; returns (coef (d, G), shrinkage or alpha used)."""
    d = stats.gram.shape[0]
    n = max(stats.n, 1)
    gram = stats.gram / n
    cross = stats.cross / n
    if regularization == "ledoit-wolf":
        gamma = ledoit_wolf_shrinkage(stats)
        mu = np.trace(gram) / d
        a = (1 - gamma) * gram + gamma * mu * np.eye(d)
        used = gamma
    else:
        lam = alpha * np.trace(gram) / d if regularization == "ridge-relative" else alpha
        a = gram + lam * np.eye(d)
        used = alpha
    try:
        coef = linalg.solve(a, cross, assume_a="pos")
    except (linalg.LinAlgError, ValueError):
        coef = linalg.lstsq(a, cross)[0]
    return coef, used


def _pearson_cols(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    num = (a * b).sum(axis=0)
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > 0)


def _apply_lags(x: np.ndarray, shifts: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``lag_matrix(x, shifts) @ coef`` without building the lag matrix."""
    f = x.shape[1]
    out = np.zeros((x.shape[0], coef.shape[1]))
    for i, s in enumerate(shifts):
        out += shift(x @ coef[i * f : (i + 1) * f], int(s))
    return out


class _LaggedLinear(AADDecoderMixin, RegressorMixin, BaseEstimator):
    """Shared implementation of the lagged ridge models (private)."""

    _parameter_constraints: ClassVar[dict] = {
        "sfreq_hz": [Interval(Real, 0, None, closed="neither"), None],
        "tmin_ms": [Real],
        "tmax_ms": [Real],
        "regularization": [StrOptions(set(_REGULARIZATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "standardize": [StrOptions({"trial", "train"}), None],
        "band_hz": ["array-like", None],
    }

    # -- hooks -------------------------------------------------------------------------
    def _shift_sign(self) -> int:
        raise NotImplementedError

    def _trial_xy(self, trial: Trial) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------
    def _shifts(self, sfreq: float) -> np.ndarray:
        if self.tmax_ms < self.tmin_ms:
            raise ValueError(f"tmin_ms ({self.tmin_ms}) must not exceed tmax_ms ({self.tmax_ms})")
        return self._shift_sign() * lags_from_ms(self.tmin_ms, self.tmax_ms, sfreq_hz=sfreq)

    def _alphas(self) -> np.ndarray:
        a = np.atleast_1d(np.asarray(self.alpha, dtype=float))
        if a.ndim != 1 or a.size == 0 or (a < 0).any() or not np.isfinite(a).all():
            raise ValueError(f"alpha must be a non-negative number or sequence, got {self.alpha!r}")
        return a

    def _filter(self, a: np.ndarray, fs: float | None = None) -> np.ndarray:
        """The optional zero-phase band-pass, applied to every trial of input and target."""
        if self.band_hz is None:
            return a
        band = tuple(float(b) for b in self.band_hz)
        if len(band) != 2 or not 0 <= band[0] < band[1]:
            raise ValueError(
                f"band_hz must be (low, high) with 0 <= low < high, got {self.band_hz}"
            )
        return bandpass(a, sfreq_hz=self.sfreq_hz_ if fs is None else fs, band_hz=band, axis=0)

    def _prep_pair(
        self, x: np.ndarray, y: np.ndarray, fs: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._filter(x, fs), self._filter(y, fs)
        if self.standardize == "trial":
            return zscore(x), zscore(y)
        return (x - self.x_mean_) / self.x_scale_, (y - self.y_mean_) / self.y_scale_

    def _prep_x(self, x: np.ndarray) -> np.ndarray:
        x = self._filter(x)
        if self.standardize == "trial":
            return zscore(x)
        return (x - self.x_mean_) / self.x_scale_

    def _prep_y(self, y: np.ndarray) -> np.ndarray:
        y = self._filter(y)
        if self.standardize == "trial":
            return zscore(y)
        return (y - self.y_mean_) / self.y_scale_

    def _stats(self, x: np.ndarray, y: np.ndarray, shifts: np.ndarray) -> LagStats:
        return LagStats(
            lagged_gram(x, shifts),
            lagged_cross(x, shifts, y),
            x.shape[0],
            float(np.sum(lagged_row_norms_sq(x, shifts) ** 2)),
        )

    def _set_scaling(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> None:
        x_all = np.concatenate(xs)
        y_all = np.concatenate(ys)
        self.x_mean_ = x_all.mean(axis=0)
        self.y_mean_ = y_all.mean(axis=0)
        if self.standardize == "train":
            sx, sy = x_all.std(axis=0), y_all.std(axis=0)
            self.x_scale_ = np.where(sx > 0, sx, 1.0)
            self.y_scale_ = np.where(sy > 0, sy, 1.0)
        else:
            self.x_scale_ = np.ones(x_all.shape[1])
            self.y_scale_ = np.ones(y_all.shape[1])

    def _fit_segments(self, xs: list[np.ndarray], ys: list[np.ndarray], sfreq: float):
        """Fit from a list of (x, y) trials (raw units)."""
        self._validate_params()
        if self.regularization not in _REGULARIZATIONS:
            raise ValueError(
                f"regularization must be one of {_REGULARIZATIONS}, got {self.regularization!r}"
            )
        alphas = self._alphas()
        shifts = self._shifts(sfreq)
        self.sfreq_hz_ = float(sfreq)
        self.lags_ = self._shift_sign() * shifts
        if self.standardize != "trial":
            self._set_scaling([self._filter(x) for x in xs], [self._filter(y) for y in ys])
        pairs = [self._prep_pair(x, y) for x, y in zip(xs, ys)]
        if len(pairs) == 1 and alphas.size > 1:
            pairs = _split_blocks(pairs[0], 5)
        stats = [self._stats(x, y, shifts) for x, y in pairs]
        self._fit_from_stats(stats, pairs, shifts)
        self.n_trials_ = len(xs)
        return self

    def _fit_from_stats(
        self,
        stats: list[LagStats],
        pairs: list[tuple[np.ndarray, np.ndarray]] | None,
        shifts: np.ndarray,
    ) -> None:
        alphas = self._alphas()
        total = _sum_stats(stats)
        if alphas.size > 1 and self.regularization != "ledoit-wolf":
            self.cv_scores_ = self._inner_cv(stats, total, pairs, shifts, alphas)
            best = int(np.argmax(self.cv_scores_))
            self.alpha_ = float(alphas[best])
            logger.info(
                "%s: inner CV chose alpha=%g (mean r %s)",
                type(self).__name__,
                self.alpha_,
                np.round(self.cv_scores_, 4).tolist(),
            )
        else:
            self.alpha_ = float(alphas[0])
        coef, used = _solve(total, self.regularization, self.alpha_)
        if self.regularization == "ledoit-wolf":
            self.shrinkage_ = used
        self.coef_ = coef
        self.n_features_in_ = int(total.gram.shape[0] // len(shifts))
        self._sxx_ = total.gram / max(total.n, 1)

    def _inner_cv(self, stats, total, pairs, shifts, alphas) -> np.ndarray:
        n = len(stats)
        if pairs is None or n < 2:
            logger.info("inner CV needs at least 2 trials; using alpha=%g", alphas[0])
            return np.r_[1.0, np.zeros(alphas.size - 1)]
        folds = np.array_split(np.arange(n), min(5, n))
        scores = np.zeros(alphas.size)
        for fold in folds:
            held = _sum_stats([stats[i] for i in fold])
            train = LagStats(
                total.gram - held.gram,
                total.cross - held.cross,
                total.n - held.n,
                total.row4 - held.row4,
            )
            for ia, a in enumerate(alphas):
                coef, _ = _solve(train, self.regularization, float(a))
                for i in fold:
                    x, y = pairs[i]
                    pred = _apply_lags(x, shifts, coef)
                    scores[ia] += float(np.mean(_pearson_cols(pred, y))) / n
        return scores

    # -- arrays ------------------------------------------------------------------------
    def _array_segments(self, X, y, *, reset: bool) -> tuple[list, list | None, bool]:
        """Accept 2-D (one segment), 3-D (trials) arrays or lists; return lists of arrays."""
        is_trial_list = isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(X[0]) == 2
        if is_trial_list or (hasattr(X, "ndim") and X.ndim == 3):
            xs = [np.asarray(xi, dtype=float) for xi in X]
            if any(xi.ndim != 2 for xi in xs):
                raise ValueError("expected trials of shape (time, feature)")
            ys = None
            if y is not None:
                ys = [np.asarray(yi, dtype=float) for yi in y]
                ys = [yi[:, None] if yi.ndim == 1 else yi for yi in ys]
                if len(ys) != len(xs) or any(a.shape[0] != b.shape[0] for a, b in zip(xs, ys)):
                    raise ValueError("X and y must hold the same trials with equal lengths")
            n_feat = {xi.shape[1] for xi in xs}
            if len(n_feat) != 1:
                raise ValueError(f"trials disagree in their number of features: {n_feat}")
            if reset:
                self.n_features_in_ = n_feat.pop()
            elif n_feat.pop() != self.n_features_in_:
                raise ValueError(
                    f"X has {xs[0].shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            for i, xi in enumerate(xs):
                if not np.isfinite(xi).all():
                    raise ValueError(f"trial {i} of X contains NaN or infinity")
            return xs, ys, True
        if y is not None:
            X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True)
            y = np.asarray(y, dtype=float)
            if reset:
                self._y_1d_ = y.ndim == 1
            return [np.asarray(X, float)], [y[:, None] if y.ndim == 1 else y], False
        X = validate_data(self, X, reset=reset)
        return [np.asarray(X, float)], None, False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def _split_blocks(pair: tuple[np.ndarray, np.ndarray], k: int):
    x, y = pair
    idx = np.array_split(np.arange(x.shape[0]), k)
    return [(x[i], y[i]) for i in idx if len(i) > 0]


class BackwardDecoder(_LaggedLinear):
    """Linear stimulus reconstruction ("backward model", O'Sullivan et al. 2015).

    ``ŝ(t) = Σ_c Σ_{τ=tmin}^{tmax} d(c, τ) · eeg_c(t + τ)``: the envelope at ``t`` is
    reconstructed from the EEG ``0–250 ms`` later (the EEG follows the stimulus). The decoder is
    trained on the *attended* stream only; to decide, the reconstruction is correlated with
    every candidate stream in each decision window and the best-correlated stream wins.

    Parameters
    ----------
    sfreq_hz : float, optional
        Sampling rate; taken from the ``Recordings`` when fitting on one (must match if
        given), required for plain arrays.
    tmin_ms, tmax_ms : float
        Lag range in ms (0–250 ms, O'Sullivan et al. 2015; 0–400 ms in newer KU Leuven
        baselines).
    regularization : {"ridge-relative", "ridge", "ledoit-wolf"}
        See the module docstring.
    alpha : float or sequence of float
        Regularisation strength; a sequence is searched by inner CV on training trials.
    standardize : {"trial", "train"} or None
        ``"trial"`` z-scores the EEG and the stimulus of each trial separately (standard in
        AAD; a plain 2-D array counts as one trial), ``"train"`` uses the training-set
        statistics (predictions are then in the units of ``y``), ``None`` only centres.
    band_hz : (low, high) or None
        Zero-phase Butterworth band-pass applied to the EEG *and* the stimulus of every trial
        before anything else (KU Leuven: 1–9 Hz, the same filter for both). It makes the
        decoder robust to raw EEG (drifts, high-frequency noise) and is nearly idempotent on
        data already filtered to that band. ``None`` disables it.

    Attributes
    ----------
    coef_ : array (n_lags * n_channels, n_outputs)
        Decoder weights, lag-major (block ``l`` holds lag ``lags_[l]``).
    weights_ : xarray.DataArray (lag, channel, output)
        The same weights, labelled (lag in seconds).
    patterns_ : xarray.DataArray (lag, channel, output)
        Forward patterns from the Haufe et al. (2014) transform ``A = Σ_x W Σ_ŝ⁻¹``.
    lags_ : array of int
        Lags in samples (positive: EEG after the stimulus).
    alpha_ : float
        The regularisation used (chosen by inner CV when ``alpha`` is a sequence).
    shrinkage_ : float
        Ledoit–Wolf shrinkage (``regularization="ledoit-wolf"`` only).
    sfreq_hz_ : float
        Sampling rate the decoder was fitted at.
    n_features_in_ : int
        Number of EEG channels.

    Examples
    --------
    >>> import numpy as np
    >>> from cogattn.data import recordings
    >>> rng = np.random.default_rng(0)
    >>> env = rng.normal(size=(4, 2, 640))
    >>> eeg = np.stack([np.outer(np.roll(e[a], 3), rng.normal(size=8))
    ...                 for e, a in zip(env, [0, 1, 0, 1])]) + rng.normal(size=(4, 640, 8))
    >>> rec = recordings(eeg, sfreq_hz=64.0, streams=env, attended=[0, 1, 0, 1])
    >>> dec = BackwardDecoder().fit(rec)
    >>> dec.decide(rec, window_s=10)["correct"].mean().item()
    1.0
    """

    def __init__(
        self,
        *,
        sfreq_hz: float | None = None,
        tmin_ms: float = 0.0,
        tmax_ms: float = 250.0,
        regularization: str = "ridge-relative",
        alpha: float | Sequence[float] = 0.01,
        standardize: str | None = "trial",
        band_hz: tuple[float, float] | None = (1.0, 9.0),
    ) -> None:
        self.sfreq_hz = sfreq_hz
        self.tmin_ms = tmin_ms
        self.tmax_ms = tmax_ms
        self.regularization = regularization
        self.alpha = alpha
        self.standardize = standardize
        self.band_hz = band_hz

    def _shift_sign(self) -> int:
        return -1

    def _sfreq_for(self, ds: xr.Dataset | None) -> float:
        if ds is not None:
            fs = float(ds.attrs["sfreq_hz"])
            if self.sfreq_hz is not None and not np.isclose(self.sfreq_hz, fs):
                raise DataError(
                    f"sfreq_hz={self.sfreq_hz} was given but the recordings are at {fs} Hz",
                    field="sfreq_hz",
                )
            return fs
        if self.sfreq_hz is None:
            raise ValueError(
                f"{type(self).__name__}: sfreq_hz is required when fitting on plain arrays "
                "(lags are given in ms)"
            )
        return float(self.sfreq_hz)

    # Recordings --------------------------------------------------------------------------
    def _recordings_xy(self, ds: xr.Dataset) -> tuple[list, list]:
        trials = iter_trials(ds)
        return [t.eeg for t in trials], [t.streams[t.attended] for t in trials]

    def precompute(self, recordings: xr.Dataset) -> list[LagStats]:
        """Per-trial statistics for fast cross-validation (covariance summation).

        Only valid with ``standardize="trial"`` (the statistics of a trial then do not
        depend on the other trials). Used by :func:`~cogattn.brain.aad.evaluate_windows`.
        """
        ds = check_recordings(recordings, need_streams=True, need_attended=True)
        if self.standardize != "trial":
            raise ValueError("precompute() needs standardize='trial'")
        fs = self._sfreq_for(ds)
        shifts = self._shifts(fs)
        xs, ys = self._recordings_xy(ds)
        return [self._stats(*self._prep_pair(x, y, fs), shifts) for x, y in zip(xs, ys)]

    def fit_precomputed(self, stats: list[LagStats], recordings: xr.Dataset):
        """Fit from :meth:`precompute` statistics of the trials in ``recordings``."""
        self._validate_params()
        ds = check_recordings(recordings, need_streams=True, need_attended=True)
        sfreq = self._sfreq_for(ds)
        shifts = self._shifts(sfreq)
        self.sfreq_hz_ = sfreq
        self.lags_ = self._shift_sign() * shifts
        pairs = None
        if self._alphas().size > 1:
            xs, ys = self._recordings_xy(ds)
            pairs = [self._prep_pair(x, y) for x, y in zip(xs, ys)]
        self._fit_from_stats(stats, pairs, shifts)
        self._finish(ds)
        self.n_trials_ = len(stats)
        return self

    def fit(self, X: Any, y: Any = None):
        """Fit the decoder.

        Parameters
        ----------
        X : Recordings dataset, or array (time, channel), (trial, time, channel) or list
            With a ``Recordings`` dataset, ``y`` must be None: the target is the attended
            stream of each trial.
        y : array (time[, feature]) or (trial, time[, feature]), optional
            Stimulus features for array input.

        Returns
        -------
        self
        """
        if is_recordings(X):
            if y is not None:
                raise ValueError("y must be None when X is a Recordings dataset")
            ds = check_recordings(X, need_streams=True, need_attended=True)
            xs, ys = self._recordings_xy(ds)
            self._fit_segments(xs, ys, self._sfreq_for(ds))
            self._finish(ds)
            return self
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y = the stimulus when X is an EEG array)"
            )
        self._y_1d_ = False
        xs, ys, _ = self._array_segments(X, y, reset=True)
        self._fit_segments(xs, ys, self._sfreq_for(None))
        self._finish(None)
        return self

    def _finish(self, ds: xr.Dataset | None) -> None:
        n_ch = self.n_features_in_
        n_out = self.coef_.shape[1]
        lags_s = self.lags_ / self.sfreq_hz_
        ch = ds["channel"].values if ds is not None else np.array([f"ch{i}" for i in range(n_ch)])
        out_names = (
            ds["feature"].values
            if ds is not None and "feature" in ds.coords
            else np.array([f"output{i}" for i in range(n_out)])
        )
        w = self.coef_.reshape(len(self.lags_), n_ch, n_out)
        coords = {"lag": ("lag", lags_s, {"units": "s"}), "channel": ch, "output": out_names}
        self.weights_ = xr.DataArray(w, dims=("lag", "channel", "output"), coords=coords)
        # Haufe transform: A = Σx W (Wᵀ Σx W)⁻¹
        sxw = self._sxx_ @ self.coef_
        cov_s = self.coef_.T @ sxw
        a = sxw @ np.linalg.pinv(np.atleast_2d(cov_s))
        self.patterns_ = xr.DataArray(
            a.reshape(w.shape), dims=("lag", "channel", "output"), coords=coords
        )
        del self._sxx_

    def predict(self, X: Any):
        """Reconstruct the stimulus.

        Returns an array ``(time[, output])`` for array input, or a DataArray
        ``(trial, time, output)`` (NaN-padded like the recordings) for a ``Recordings``
        dataset. With ``standardize="trial"`` the output is in z-units.
        """
        check_is_fitted(self)
        shifts = -self.lags_
        if is_recordings(X):
            ds = check_recordings(X)
            self._check_sfreq(float(ds.attrs["sfreq_hz"]))
            out = np.full((ds.sizes["trial"], ds.sizes["time"], self.coef_.shape[1]), np.nan)
            for t in iter_trials(ds):
                self._check_channels(t.eeg.shape[1])
                out[t.index, : t.eeg.shape[0]] = _apply_lags(
                    self._prep_x(t.eeg), shifts, self.coef_
                )
            return xr.DataArray(
                out,
                dims=("trial", "time", "output"),
                coords={
                    "trial": ds["trial"].values,
                    "time": ds["time"].values,
                    "output": self.weights_["output"].values,
                },
            )
        xs, _, trials = self._array_segments(X, None, reset=False)
        preds = [self._unscale(_apply_lags(self._prep_x(x), shifts, self.coef_)) for x in xs]
        if trials:
            return np.stack(preds) if isinstance(X, np.ndarray) else preds
        p = preds[0]
        return p[:, 0] if getattr(self, "_y_1d_", False) else p

    def _unscale(self, p: np.ndarray) -> np.ndarray:
        if self.standardize == "trial":
            return p
        return p * self.y_scale_ + self.y_mean_

    def _check_channels(self, n: int) -> None:
        if n != self.n_features_in_:
            raise DataError(
                f"the decoder was fitted on {self.n_features_in_} channels, got {n}",
                field="eeg",
            )

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean Pearson correlation between the reconstruction and the (attended) stimulus."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported")
        if is_recordings(X):
            ds = check_recordings(X, need_streams=True, need_attended=True)
            pred = self.predict(ds).values
            rs = []
            for t in iter_trials(ds):
                n = t.eeg.shape[0]
                target = self._filter(t.streams[t.attended])
                rs.append(np.mean(_pearson_cols(pred[t.index, :n], target)))
            return float(np.mean(rs))
        p = self.predict(X)
        y = np.asarray(y, dtype=float)
        p = np.asarray(p, dtype=float)
        y = self._filter(y.reshape(y.shape[0], -1)) if y.ndim <= 2 else y
        return float(np.mean(_pearson_cols(p.reshape(len(y), -1), y.reshape(len(y), -1))))

    def _window_scores(self, trial: Trial, starts: np.ndarray, length: int) -> np.ndarray:
        self._check_channels(trial.eeg.shape[1])
        rec = _apply_lags(self._prep_x(trial.eeg), -self.lags_, self.coef_)
        return np.stack(
            [window_correlations(rec, self._filter(s), starts, length) for s in trial.streams],
            axis=1,
        )


class ForwardTRF(_LaggedLinear):
    """Temporal response function (forward / encoding model; Crosse et al. 2016).

    ``eeg_c(t) = Σ_f Σ_{τ=tmin}^{tmax} w(f, τ, c) · stim_f(t − τ) + ε``: positive lags are
    responses *after* the stimulus. Per-channel prediction accuracy is
    :meth:`score_channels`. To decide the attended stream, the EEG predicted from each
    candidate is correlated with the recorded EEG (averaged over channels) per window.

    Parameters
    ----------
    sfreq_hz : float, optional
        Sampling rate (from the ``Recordings``, or required for arrays).
    tmin_ms, tmax_ms : float
        Lag range (−100…500 ms by default).
    regularization, alpha, standardize, band_hz
        As in :class:`BackwardDecoder`.
    streams : {"attended", "attended+unattended"}
        Regressors when fitting on ``Recordings``: the attended stream only, or a two-stream
        model with separate TRFs for the attended stream and the sum of the others
        (Fiedler et al. 2019; Brodbeck et al. 2018). For decisions, the two-stream model
        compares the hypotheses "stream k attended".

    Attributes
    ----------
    coef_ : array (n_lags * n_regressors, n_channels)
    trf_ : xarray.DataArray (feature, lag, channel)
        TRF weights (lag in seconds). ``trf_.sel(feature=...)`` is lag × channel.
    lags_, alpha_, shrinkage_, sfreq_hz_, n_features_in_
        As in :class:`BackwardDecoder` (``n_features_in_`` = number of regressors).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> stim = rng.normal(size=2000)
    >>> kernel = np.array([0.0, 1.0, 0.5])  # response 1 and 2 samples after the stimulus
    >>> eeg = np.convolve(stim, kernel)[:2000, None] + 0.1 * rng.normal(size=(2000, 1))
    >>> trf = ForwardTRF(sfreq_hz=100.0, tmin_ms=-20, tmax_ms=40, alpha=1e-4,
    ...                  standardize=None, band_hz=None).fit(stim[:, None], eeg)
    >>> np.round(trf.trf_.sel(channel="ch0").values.ravel()[2:5], 1) + 0.0  # lags 0, 10, 20 ms
    array([0. , 1. , 0.5])
    """

    def __init__(
        self,
        *,
        sfreq_hz: float | None = None,
        tmin_ms: float = -100.0,
        tmax_ms: float = 500.0,
        regularization: str = "ridge-relative",
        alpha: float | Sequence[float] = 0.01,
        standardize: str | None = "trial",
        band_hz: tuple[float, float] | None = (1.0, 9.0),
        streams: str = "attended",
    ) -> None:
        self.sfreq_hz = sfreq_hz
        self.tmin_ms = tmin_ms
        self.tmax_ms = tmax_ms
        self.regularization = regularization
        self.alpha = alpha
        self.standardize = standardize
        self.band_hz = band_hz
        self.streams = streams

    _parameter_constraints: ClassVar[dict] = {
        **_LaggedLinear._parameter_constraints,
        "streams": [StrOptions({"attended", "attended+unattended"})],
    }

    _sfreq_for = BackwardDecoder._sfreq_for
    _check_channels = BackwardDecoder._check_channels

    def _shift_sign(self) -> int:
        return 1

    def _regressors(self, streams: np.ndarray, attended: int) -> np.ndarray:
        if self.streams == "attended":
            return streams[attended]
        if streams.shape[0] < 2:
            raise DataError(
                "streams='attended+unattended' needs at least 2 candidate streams",
                field="streams",
            )
        others = np.delete(streams, attended, axis=0).sum(axis=0)
        return np.concatenate([streams[attended], others], axis=1)

    def _recordings_xy(self, ds: xr.Dataset) -> tuple[list, list]:
        trials = iter_trials(ds)
        return [self._regressors(t.streams, t.attended) for t in trials], [t.eeg for t in trials]

    def fit(self, X: Any, y: Any = None):
        """Fit the TRF.

        Parameters
        ----------
        X : Recordings dataset, or stimulus array (time, feature) / (trial, time, feature)
        y : EEG array (time, channel) / (trial, time, channel) for array input; None for
            ``Recordings``.

        Returns
        -------
        self
        """
        self._validate_params()
        if is_recordings(X):
            if y is not None:
                raise ValueError("y must be None when X is a Recordings dataset")
            ds = check_recordings(X, need_streams=True, need_attended=True)
            xs, ys = self._recordings_xy(ds)
            self._fit_segments(xs, ys, self._sfreq_for(ds))
            feats = ds["feature"].values.tolist()
            names = (
                feats
                if self.streams == "attended"
                else [f"attended:{f}" for f in feats] + [f"unattended:{f}" for f in feats]
            )
            self._finish(names, ds["channel"].values)
            return self
        if y is None:
            raise ValueError(
                "ForwardTRF requires y to be passed, but the target y is None (y = the EEG "
                "when X is a stimulus array)"
            )
        self._y_1d_ = False
        xs, ys, _ = self._array_segments(X, y, reset=True)
        self._fit_segments(xs, ys, self._sfreq_for(None))
        n_out = ys[0].shape[1]
        self._finish(
            [f"feature{i}" for i in range(self.n_features_in_)],
            np.array([f"ch{i}" for i in range(n_out)]),
        )
        return self

    def _finish(self, feature_names: list, channels: np.ndarray) -> None:
        n_lags = len(self.lags_)
        n_feat = self.coef_.shape[0] // n_lags
        w = self.coef_.reshape(n_lags, n_feat, -1).transpose(1, 0, 2)
        self.trf_ = xr.DataArray(
            w,
            dims=("feature", "lag", "channel"),
            coords={
                "feature": np.asarray(feature_names, dtype=object),
                "lag": ("lag", self.lags_ / self.sfreq_hz_, {"units": "s"}),
                "channel": channels,
            },
            attrs={"sign_convention": "positive lag = response after the stimulus"},
        )
        if hasattr(self, "_sxx_"):
            del self._sxx_

    def predict(self, X: Any) -> np.ndarray:
        """Predict the EEG (time, channel) from stimulus features (time, feature)."""
        check_is_fitted(self)
        if is_recordings(X):
            raise TypeError(
                "predict() takes stimulus arrays; for Recordings use score_channels(ds) or "
                "decide(ds, window_s)"
            )
        xs, _, trials = self._array_segments(X, None, reset=False)
        preds = [self._unscale(_apply_lags(self._prep_x(x), self.lags_, self.coef_)) for x in xs]
        if trials:
            return np.stack(preds) if isinstance(X, np.ndarray) else preds
        p = preds[0]
        return p[:, 0] if getattr(self, "_y_1d_", False) else p

    _unscale = BackwardDecoder._unscale

    def score_channels(self, X: Any, y: Any = None) -> xr.DataArray:
        """Per-channel Pearson r between predicted and recorded EEG.

        For ``Recordings`` the prediction uses the regressors the model was fitted with (the
        attended stream, or attended + unattended) and r is averaged over trials.
        """
        check_is_fitted(self)
        if is_recordings(X):
            ds = check_recordings(X, need_streams=True, need_attended=True)
            self._check_sfreq(float(ds.attrs["sfreq_hz"]))
            rs = []
            for t in iter_trials(ds):
                reg = self._regressors(t.streams, t.attended)
                eeg_z = self._prep_y(t.eeg)
                pred = _apply_lags(self._prep_x(reg), self.lags_, self.coef_)
                rs.append(_pearson_cols(pred, eeg_z))
            r = np.mean(rs, axis=0)
            ch = ds["channel"].values
        else:
            p = np.asarray(self.predict(X), dtype=float)
            yy = np.asarray(y, dtype=float)
            if yy.ndim == 1:
                yy = yy[:, None]
            n_ch = yy.shape[-1]
            if yy.ndim == 2:
                yy = self._filter(yy)
            r = _pearson_cols(p.reshape(-1, n_ch), yy.reshape(-1, n_ch))
            ch = self.trf_["channel"].values
        return xr.DataArray(r, dims=("channel",), coords={"channel": ch}, name="r")

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean over channels of :meth:`score_channels`."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported")
        return float(self.score_channels(X, y).mean())

    def _window_scores(self, trial: Trial, starts: np.ndarray, length: int) -> np.ndarray:
        eeg = self._prep_y(trial.eeg)
        out = []
        for k in range(trial.streams.shape[0]):
            reg = self._regressors(trial.streams, k)
            if reg.shape[1] != self.n_features_in_:
                raise DataError(
                    f"the TRF was fitted on {self.n_features_in_} regressors, got {reg.shape[1]}",
                    field="streams",
                )
            pred = _apply_lags(self._prep_x(reg), self.lags_, self.coef_)
            out.append(window_correlations(pred, eeg, starts, length))
        return np.stack(out, axis=1)
