"""Shared machinery of the AAD decoders (private): trial access, windows, decisions.

Every decoder in :mod:`cogattn.brain.aad` mixes in :class:`AADDecoderMixin`, which gives it
``decide(recordings, window_s)``: the recording is cut into non-overlapping decision windows
(from each trial's start; the incomplete remainder of a trial is not used and the number of
such samples is logged), the decoder scores every candidate stream in every window
(``_window_scores``) and the stream with the highest score is the decision.

Two kinds of decoders coexist (auditory spec §1): *stimulus* decoders score each candidate
stream by matching it with the neural data (backward, forward, CCA); *label* decoders predict
a class from the neural data alone (locus CNN, speaker-cluster BiLSTM). Label decoders can
memorise trials, so :func:`~cogattn.brain.aad.evaluate_windows` refuses random window splits
for them (``_aad_kind = "label"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data import DataError, validate_recordings

__all__ = [
    "AADDecoderMixin",
    "Trial",
    "check_recordings",
    "decisions_dataset",
    "is_recordings",
    "iter_trials",
    "window_correlations",
    "window_starts",
    "zscore",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trial:
    """One trial without padding: ``eeg (time, channel)``, ``streams (stream, time, feature)``."""

    index: int
    eeg: np.ndarray
    streams: np.ndarray | None
    attended: int


def is_recordings(x: Any) -> bool:
    """True if ``x`` is an xarray Dataset (then it must be a ``Recordings`` dataset)."""
    return isinstance(x, xr.Dataset)


def check_recordings(ds: Any, *, need_streams: bool = False, need_attended: bool = False):
    """Validate a ``Recordings`` dataset for decoding; raise ``DataError`` naming the problem."""
    ds = validate_recordings(ds)
    if need_streams and "streams" not in ds.data_vars:
        raise DataError(
            "this decoder needs candidate stimulus streams (variable 'streams', e.g. one speech "
            "envelope per talker); build the dataset with recordings(eeg, streams=...)",
            field="streams",
        )
    if need_attended:
        att = ds["attended"].values
        if (att < 0).any():
            bad = int(np.flatnonzero(att < 0)[0])
            raise DataError(
                "training needs the attended stream of every trial; trial "
                f"{bad} has attended = -1 (unknown)",
                record=bad,
                field="attended",
            )
    return ds


def iter_trials(ds: xr.Dataset) -> list[Trial]:
    """The trials of a ``Recordings`` dataset, unpadded (a list, in positional order)."""
    eeg = ds["eeg"].values
    streams = ds["streams"].values if "streams" in ds.data_vars else None
    n_samples = ds["n_samples"].values
    att = ds["attended"].values
    out = []
    for i in range(eeg.shape[0]):
        n = int(n_samples[i])
        out.append(
            Trial(
                i,
                eeg[i, :n],
                None if streams is None else streams[i, :, :n],
                int(att[i]),
            )
        )
    return out


def zscore(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Centre and scale to unit variance along ``axis`` (constant columns are only centred)."""
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=axis, keepdims=True)
    sd = x.std(axis=axis, keepdims=True)
    sd = np.where(sd > 0, sd, 1.0)
    return (x - mu) / sd


def window_starts(n_samples: int, window_len: int, step: int | None = None) -> np.ndarray:
    """Start indices of the complete windows of ``window_len`` samples, every ``step`` samples."""
    if window_len < 1:
        raise ValueError(f"window length must be at least one sample, got {window_len}")
    step = window_len if step is None else int(step)
    if step < 1:
        raise ValueError(f"step must be at least one sample, got {step}")
    if n_samples < window_len:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_samples - window_len + 1, step, dtype=np.int64)


def window_correlations(a: np.ndarray, b: np.ndarray, starts: np.ndarray, length: int):
    """Pearson r between ``a`` and ``b`` (time[, feature]) in each window; averaged over
    features. Returns an array (n_windows,). A constant window gives r = 0."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if len(starts) == 0:
        return np.zeros(0)
    idx = starts[:, None] + np.arange(length)[None, :]
    wa = a[idx]  # (win, length, feature)
    wb = b[idx]
    wa = wa - wa.mean(axis=1, keepdims=True)
    wb = wb - wb.mean(axis=1, keepdims=True)
    num = (wa * wb).sum(axis=1)
    den = np.sqrt((wa**2).sum(axis=1) * (wb**2).sum(axis=1))
    r = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return r.mean(axis=1)


def decisions_dataset(
    ds: xr.Dataset,
    *,
    trial_index: np.ndarray,
    start: np.ndarray,
    scores: np.ndarray,
    window_s: float,
    decoder: str,
    n_streams: int,
) -> xr.Dataset:
    """Package per-window scores and decisions as an xarray Dataset (dim ``window``)."""
    sfreq = float(ds.attrs["sfreq_hz"])
    att_all = ds["attended"].values
    attended = att_all[trial_index] if trial_index.size else np.zeros(0, dtype=np.int64)
    decided = np.argmax(scores, axis=1).astype(np.int64) if scores.size else np.zeros(0, np.int64)
    known = attended >= 0
    correct = np.where(known, (decided == attended).astype(float), np.nan)
    stream_names = (
        ds["stream"].values
        if "stream" in ds.coords
        else np.array([f"stream{i}" for i in range(n_streams)])
    )
    if len(stream_names) != n_streams:
        stream_names = np.array([f"class{i}" for i in range(n_streams)], dtype=object)
    out = xr.Dataset(
        {
            "scores": (("window", "stream"), scores.reshape(len(trial_index), n_streams)),
            "decided": ("window", decided),
            "attended": ("window", attended.astype(np.int64)),
            "correct": ("window", correct),
        },
        coords={
            "trial_index": ("window", trial_index.astype(np.int64)),
            "trial": (
                "window",
                ds["trial"].values[trial_index] if trial_index.size else trial_index,
            ),
            "group": (
                "window",
                ds["group"].values[trial_index] if trial_index.size else trial_index,
            ),
            "start_s": ("window", start / sfreq),
            "stream": np.asarray(stream_names, dtype=object),
        },
        attrs={"window_s": float(window_s), "decoder": decoder, "sfreq_hz": sfreq},
    )
    return out


class AADDecoderMixin:
    """Adds ``decide(recordings, window_s)`` to a fitted decoder.

    Subclasses implement ``_window_scores(trial, starts, length) -> (n_windows, n_streams)``
    and set ``_aad_kind`` to ``"stimulus"`` or ``"label"``.
    """

    _aad_kind = "stimulus"
    _needs_streams_to_decide = True

    def _window_scores(self, trial: Trial, starts: np.ndarray, length: int) -> np.ndarray:
        raise NotImplementedError

    def _n_decision_classes(self, ds: xr.Dataset) -> int:
        return int(ds.sizes["stream"])

    def decide(
        self, recordings: xr.Dataset, window_s: float, *, step_s: float | None = None
    ) -> xr.Dataset:
        """Decide the attended stream in every decision window.

        Parameters
        ----------
        recordings : Recordings dataset
            Trials to decode (see :func:`cogattn.data.recordings`).
        window_s : float
            Decision-window length in seconds (rounded to whole samples).
        step_s : float, optional
            Hop between window starts (default: ``window_s``, non-overlapping windows).

        Returns
        -------
        xarray.Dataset
            Dim ``window``: ``scores (window, stream)``, ``decided``, ``attended``,
            ``correct`` (1/0, NaN when the attended stream is unknown), coords
            ``trial_index``, ``trial``, ``group``, ``start_s``.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        ds = check_recordings(recordings, need_streams=self._needs_streams_to_decide)
        sfreq = float(ds.attrs["sfreq_hz"])
        self._check_sfreq(sfreq)
        if not np.isfinite(window_s) or window_s <= 0:
            raise ValueError(f"window_s must be a positive number of seconds, got {window_s}")
        length = round(window_s * sfreq)
        if length < 2:
            raise ValueError(
                f"window_s={window_s} s is {length} sample(s) at {sfreq} Hz; need at least 2"
            )
        step = None if step_s is None else max(1, round(step_s * sfreq))
        n_classes = self._n_decision_classes(ds)
        idx, starts_all, scores = [], [], []
        unused = 0
        for trial in iter_trials(ds):
            n = trial.eeg.shape[0]
            starts = window_starts(n, length, step)
            if step is None:
                unused += n - len(starts) * length
            if len(starts) == 0:
                continue
            sc = np.asarray(self._window_scores(trial, starts, length), dtype=float)
            idx.append(np.full(len(starts), trial.index))
            starts_all.append(starts)
            scores.append(sc.reshape(len(starts), n_classes))
        if unused:
            logger.info(
                "decide: %d samples at trial ends do not fill a %.3g-s window and are not used",
                unused,
                window_s,
            )
        if not idx:
            logger.warning(
                "decide: no trial is at least %.3g s long; no decision windows", window_s
            )
        return decisions_dataset(
            ds,
            trial_index=np.concatenate(idx) if idx else np.zeros(0, np.int64),
            start=np.concatenate(starts_all) if starts_all else np.zeros(0),
            scores=np.concatenate(scores) if scores else np.zeros((0, n_classes)),
            window_s=length / sfreq,
            decoder=type(self).__name__,
            n_streams=n_classes,
        )

    def _check_sfreq(self, sfreq: float) -> None:
        fitted = getattr(self, "sfreq_hz_", None)
        if fitted is not None and not np.isclose(fitted, sfreq):
            raise DataError(
                f"the decoder was fitted at {fitted} Hz but the recordings are at {sfreq} Hz; "
                "resample one of them",
                field="sfreq_hz",
            )
