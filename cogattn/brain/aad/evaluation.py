"""Evaluation of AAD decoders: trial-wise cross-validation, accuracy vs window length, MESD.

Cross-validation rules (auditory spec §2.7; the KU Leuven dataset authors' warning):

- split by **trial** (or story, subject: :class:`LeaveOneGroupOut`), never randomly by window;
- a label decoder (one that predicts the attended class from the neural data alone: the
  locus CNN, the speaker-cluster BiLSTM, any window classifier) identifies the *trial* from
  a second of EEG, so if windows of a trial are in both the training and the test set, its
  accuracy is inflated and meaningless. :func:`evaluate_windows` therefore **refuses**
  :class:`RandomWindowSplit` for label decoders (``allow_leaky_cv=True`` overrides it, for
  demonstrating the leakage only). Random window splits stay possible for stimulus decoders,
  which cannot exploit trial identity (Geirnaert et al. use 10-fold random CV over 60-s
  segments for linear decoders).

References
----------
Geirnaert, S., Francart, T., & Bertrand, A. (2020). An interpretable performance metric for
auditory attention decoding algorithms in a context of neuro-steered gain control. IEEE TBME
67(1), 307–317. (MESD)
Geirnaert, S., Yao, Y., Francart, T., & Bertrand, A. (2025). Performance-curve modelling of
auditory attention decoding (preprint). (:func:`extrapolate_accuracy`)
Puffay, C., et al. (2023) / Rotaru, I., et al. (2024). J. Neural Eng. 21:016017. (trial
confounds in spatial AAD)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats
from sklearn.base import clone

from cogattn.brain.aad._base import check_recordings, iter_trials
from cogattn.data import recordings as make_recordings

__all__ = [
    "KUL_LINEAR_REFERENCE",
    "KFoldTrials",
    "LeaveOneGroupOut",
    "LeaveOneTrialOut",
    "MESDResult",
    "RandomWindowSplit",
    "SwitchingResult",
    "concatenate_trials",
    "evaluate_windows",
    "extrapolate_accuracy",
    "mesd",
    "segment_recordings",
    "significance_threshold",
    "smooth_decisions",
    "switching_simulation",
]

logger = logging.getLogger(__name__)

DEFAULT_WINDOWS_S = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)

#: KU Leuven dataset, subject-specific linear decoder: measured accuracy per window length
#: (Geirnaert et al. 2025 performance-curve preprint; cogattn auditory spec §0).
KUL_LINEAR_REFERENCE: dict[float, float] = {
    1.0: 0.579,
    5.0: 0.666,
    10.0: 0.726,
    30.0: 0.832,
    60.0: 0.895,
}


# -- splitters ---------------------------------------------------------------------------
class LeaveOneTrialOut:
    """Each trial is the test set once; all other trials train (the default)."""

    leaks_trials = False

    def split(self, recordings: xr.Dataset) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` positional trial indices."""
        n = int(recordings.sizes["trial"])
        if n < 2:
            raise ValueError("leave-one-trial-out needs at least 2 trials")
        for i in range(n):
            yield np.delete(np.arange(n), i), np.array([i])

    def __repr__(self) -> str:
        return "LeaveOneTrialOut()"


class LeaveOneGroupOut:
    """Leave one group out: ``by="group"`` (story, session) or ``"subject"``.

    All trials of a group are tested together with a decoder trained on the other groups
    (subject-independent decoding with ``by="subject"``).
    """

    leaks_trials = False

    def __init__(self, by: str = "group") -> None:
        if by not in ("group", "subject"):
            raise ValueError(f"by must be 'group' or 'subject', got {by!r}")
        self.by = by

    def split(self, recordings: xr.Dataset) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` positional trial indices."""
        labels = np.asarray(recordings[self.by].values).astype(str)
        groups = list(dict.fromkeys(labels.tolist()))
        if len(groups) < 2:
            raise ValueError(f"leave-one-{self.by}-out needs at least 2 {self.by}s, got {groups}")
        for g in groups:
            test = np.flatnonzero(labels == g)
            yield np.flatnonzero(labels != g), test

    def __repr__(self) -> str:
        return f"LeaveOneGroupOut(by={self.by!r})"


class KFoldTrials:
    """K folds of whole trials (optionally shuffled with ``random_state``)."""

    leaks_trials = False

    def __init__(
        self, n_splits: int = 5, *, shuffle: bool = False, random_state: int | None = None
    ):
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}")
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, recordings: xr.Dataset) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` positional trial indices."""
        n = int(recordings.sizes["trial"])
        if n < self.n_splits:
            raise ValueError(f"{n} trials cannot make {self.n_splits} folds")
        order = np.arange(n)
        if self.shuffle:
            order = np.random.default_rng(self.random_state).permutation(n)
        for fold in np.array_split(order, self.n_splits):
            yield np.setdiff1d(np.arange(n), fold), np.sort(fold)

    def __repr__(self) -> str:
        return f"KFoldTrials(n_splits={self.n_splits}, shuffle={self.shuffle})"


class RandomWindowSplit:
    """Random K-fold over short segments cut from all trials — **leaks trial identity**.

    Every trial is cut into segments of ``segment_s``; the segments are shuffled into
    ``n_splits`` folds regardless of their trial, so training and test segments come from the
    same trials. Only for stimulus decoders, or to demonstrate leakage:
    :func:`evaluate_windows` refuses it for label decoders unless ``allow_leaky_cv=True``.
    """

    leaks_trials = True

    def __init__(self, segment_s: float = 5.0, n_splits: int = 5, *, random_state: int = 0):
        if segment_s <= 0:
            raise ValueError(f"segment_s must be positive, got {segment_s}")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}")
        self.segment_s = segment_s
        self.n_splits = n_splits
        self.random_state = random_state

    def prepare(self, recordings: xr.Dataset) -> xr.Dataset:
        """Cut the trials into segments (pseudo-trials; ``group`` = the source trial)."""
        return segment_recordings(recordings, self.segment_s)

    def split(self, recordings: xr.Dataset) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` indices of the (prepared) segments."""
        n = int(recordings.sizes["trial"])
        order = np.random.default_rng(self.random_state).permutation(n)
        for fold in np.array_split(order, self.n_splits):
            yield np.setdiff1d(np.arange(n), fold), np.sort(fold)

    def __repr__(self) -> str:
        return f"RandomWindowSplit(segment_s={self.segment_s}, n_splits={self.n_splits})"


_LEAK_MESSAGE = (
    "{name} is a label decoder (it predicts the attended class from the neural data alone) and "
    "{cv} puts windows of the same trial in both the training and the test set. Such a decoder "
    "can learn to recognise the *trial* (its noise, electrode drift, eye position: a second of "
    "EEG suffices) instead of the attention, which inflates accuracy to near-perfect, "
    "meaningless values (Vandecappelle et al. 2021; Rotaru et al. 2024; the KU Leuven dataset "
    "notice). Use LeaveOneTrialOut() or LeaveOneGroupOut(). Pass allow_leaky_cv=True only to "
    "demonstrate this leakage."
)


def segment_recordings(recordings: xr.Dataset, segment_s: float) -> xr.Dataset:
    """Cut every trial into consecutive segments of ``segment_s`` (remainders dropped, logged).

    The segments become trials of a new ``Recordings`` dataset whose ``group`` is the source
    trial (so ``LeaveOneGroupOut()`` on it is leave-one-trial-out again).
    """
    ds = check_recordings(recordings)
    fs = float(ds.attrs["sfreq_hz"])
    n_seg = round(segment_s * fs)
    if n_seg < 2:
        raise ValueError(f"segment_s={segment_s} is shorter than 2 samples at {fs} Hz")
    eeg, streams, att, group, subject = [], [], [], [], []
    dropped = 0
    trial_labels = ds["trial"].values
    subjects = ds["subject"].values
    for t in iter_trials(ds):
        n = t.eeg.shape[0]
        k = n // n_seg
        dropped += n - k * n_seg
        for s in range(k):
            sl = slice(s * n_seg, (s + 1) * n_seg)
            eeg.append(t.eeg[sl])
            if t.streams is not None:
                streams.append(t.streams[:, sl])
            att.append(t.attended)
            group.append(str(trial_labels[t.index]))
            subject.append(subjects[t.index])
    if not eeg:
        raise ValueError(f"no trial is at least {segment_s} s long")
    if dropped:
        logger.info("segment_recordings: %d samples at trial ends do not fill a segment", dropped)
    return make_recordings(
        np.stack(eeg),
        sfreq_hz=fs,
        streams=np.stack(streams) if streams else None,
        attended=np.asarray(att, dtype=np.int64),
        channel_names=ds["channel"].values,
        stream_names=ds["stream"].values if "stream" in ds.coords else None,
        feature_names=ds["feature"].values if "feature" in ds.coords else None,
        group=np.asarray(group, dtype=object),
        subject=np.asarray(subject, dtype=object),
        source=str(ds.attrs.get("source", "")),
        attrs={"segmented_from": f"{segment_s} s segments"},
    )


def significance_threshold(n_windows: int | np.ndarray, *, alpha: float = 0.05) -> np.ndarray:
    """Smallest accuracy significantly above 50 % (one-sided binomial test at ``alpha``)."""
    n = np.atleast_1d(np.asarray(n_windows, dtype=int))
    out = np.full(n.shape, np.nan)
    ok = n > 0
    out[ok] = (stats.binom.ppf(1 - alpha, n[ok], 0.5) + 1) / n[ok]
    return out


def _is_label_decoder(decoder: Any) -> bool:
    return getattr(decoder, "_aad_kind", "stimulus") == "label"


def evaluate_windows(
    decoder: Any,
    recordings: xr.Dataset,
    windows_s: Sequence[float] = DEFAULT_WINDOWS_S,
    *,
    cv: Any = None,
    allow_leaky_cv: bool = False,
    mesd_kwargs: dict | None = None,
    progress: bool = True,
) -> xr.Dataset:
    """Cross-validated decoding accuracy for each decision-window length.

    For each fold, a clone of ``decoder`` is fitted on the training trials and decides on the
    test trials in non-overlapping windows of each length in ``windows_s``.

    Parameters
    ----------
    decoder : AAD decoder
        Any estimator of :mod:`cogattn.brain.aad` (or one with ``fit(recordings)`` and
        ``decide(recordings, window_s)``).
    recordings : Recordings dataset
        With the attended stream of every trial.
    windows_s : sequence of float
        Decision-window lengths in seconds.
    cv : splitter, optional
        :class:`LeaveOneTrialOut` (default), :class:`LeaveOneGroupOut`, :class:`KFoldTrials`
        or :class:`RandomWindowSplit` (refused for label decoders, see the module docstring).
    allow_leaky_cv : bool
        Permit a trial-leaking splitter with a label decoder (only to demonstrate leakage).
    mesd_kwargs : dict, optional
        Passed to :func:`mesd`.
    progress : bool
        Show a tqdm progress bar over folds.

    Returns
    -------
    xarray.Dataset
        ``accuracy``, ``n_windows``, ``n_correct``, ``significance_threshold`` (dim
        ``window_s``); ``trial_scores`` (trial × stream: the scores over each whole test
        trial, e.g. r with each stream for correlation decoders), ``attended``, ``fold``
        (dim ``trial``); per-window ``window_length_s``, ``window_trial``, ``decided``,
        ``correct``, ``window_scores`` (window × stream) (dim ``window``); attrs ``mesd_s``
        (``inf`` when no accuracy exceeds 50 %), ``decoder``, ``cv``.
    """
    from tqdm.auto import tqdm

    cv = LeaveOneTrialOut() if cv is None else cv
    ds = check_recordings(recordings, need_attended=True)
    name = type(decoder).__name__
    if getattr(cv, "leaks_trials", False) and _is_label_decoder(decoder) and not allow_leaky_cv:
        raise ValueError(_LEAK_MESSAGE.format(name=name, cv=repr(cv)))
    if getattr(cv, "leaks_trials", False):
        logger.warning(
            "evaluate_windows: %r mixes windows of the same trials across folds; accuracy "
            "is only meaningful for stimulus decoders",
            cv,
        )
    if hasattr(cv, "prepare"):
        ds = cv.prepare(ds)
    windows = np.asarray(sorted({float(w) for w in windows_s}))
    if windows.size == 0 or (windows <= 0).any():
        raise ValueError(f"windows_s must hold positive lengths, got {windows_s!r}")
    n_trials = int(ds.sizes["trial"])
    n_cls = int(ds.sizes["stream"]) if "stream" in ds.sizes else 2
    fold_of = np.full(n_trials, -1)
    trial_scores = np.full((n_trials, n_cls), np.nan)
    rows: list[xr.Dataset] = []
    folds = list(cv.split(ds))
    fast = hasattr(decoder, "precompute") and getattr(decoder, "standardize", None) == "trial"
    stats_all = decoder.precompute(ds) if fast else None
    durations = ds["n_samples"].values / float(ds.attrs["sfreq_hz"])
    for k, (train, test) in enumerate(
        tqdm(folds, desc=f"{name} CV", unit="fold", disable=not progress, leave=False)
    ):
        if len(test) == 0:
            continue
        est = clone(decoder)
        train_ds = ds.isel(trial=train)
        if fast:
            est.fit_precomputed([stats_all[i] for i in train], train_ds)
        else:
            est.fit(train_ds)
        test_ds = ds.isel(trial=test)
        fold_of[test] = k
        full = est.decide(test_ds, window_s=float(np.min(durations[test])))
        # per-trial scores over the longest common window at the trial start
        for w_trial, w_scores in zip(full["trial_index"].values, full["scores"].values):
            if np.isnan(trial_scores[test[w_trial], 0]):
                trial_scores[test[w_trial], : w_scores.size] = w_scores
        for w in windows:
            if w > durations[test].max():
                continue
            dec = est.decide(test_ds, window_s=w)
            rows.append(
                xr.Dataset(
                    {
                        "window_length_s": ("window", np.full(dec.sizes["window"], w)),
                        "window_trial": ("window", test[dec["trial_index"].values]),
                        "start_s": ("window", dec["start_s"].values),
                        "decided": ("window", dec["decided"].values),
                        "correct": ("window", dec["correct"].values),
                        "window_scores": (("window", "stream"), dec["scores"].values),
                    }
                )
            )
    per_window = xr.concat(rows, dim="window") if rows else xr.Dataset()
    acc = np.full(windows.size, np.nan)
    n_win = np.zeros(windows.size, dtype=np.int64)
    n_cor = np.zeros(windows.size, dtype=np.int64)
    for i, w in enumerate(windows):
        if not rows:
            break
        sel = per_window["window_length_s"].values == w
        c = per_window["correct"].values[sel]
        n_win[i] = int(np.sum(np.isfinite(c)))
        n_cor[i] = int(np.nansum(c))
        acc[i] = n_cor[i] / n_win[i] if n_win[i] else np.nan
        if n_win[i] == 0:
            logger.warning("evaluate_windows: no test trial is %.3g s long", w)
    out = xr.Dataset(
        {
            "accuracy": ("window_s", acc),
            "n_windows": ("window_s", n_win),
            "n_correct": ("window_s", n_cor),
            "significance_threshold": ("window_s", significance_threshold(n_win)),
            "trial_scores": (("trial", "stream"), trial_scores),
            "attended": ("trial", ds["attended"].values),
            "fold": ("trial", fold_of),
        },
        coords={"window_s": ("window_s", windows, {"units": "s"}), "trial": ds["trial"].values},
        attrs={"decoder": repr(decoder), "cv": repr(cv)},
    )
    if rows:
        out = out.merge(per_window)
    ok = np.isfinite(acc) & (acc > 0.5)
    if ok.sum() >= 1:
        res = mesd(windows[ok], acc[ok], **(mesd_kwargs or {}))
        out.attrs.update(
            mesd_s=res.mesd_s, mesd_window_s=res.window_s, mesd_accuracy=res.accuracy,
            mesd_n_states=res.n_states,
        )  # fmt: skip
    else:
        out.attrs.update(mesd_s=np.inf, mesd_window_s=np.nan, mesd_accuracy=np.nan, mesd_n_states=0)
    return out


# -- MESD ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MESDResult:
    """Minimal expected switch duration and the operating point that achieves it."""

    mesd_s: float
    window_s: float
    accuracy: float
    n_states: int
    at_boundary: bool


def _optimal_n_states(p: float, *, n_min: int, p0: float, c: float, n_max: int = 10_000) -> int:
    r = p / (1 - p)
    n = n_min
    while n < n_max:
        k_lower = math.floor(math.log(r**n * (1 - p0) + p0) / math.log(r) + 1)
        if (k_lower - 1) / (n - 1) >= c:
            return n
        n += 1
    return n_max


def _esd(tau: float, p: float, n_states: int, c: float) -> float:
    r = p / (1 - p)
    k = math.ceil(c * (n_states - 1) + 1)
    i = np.arange(1, k)
    h = (k - i) / (2 * p - 1) + p * (r ** (-k) - r ** (-i.astype(float))) / (2 * p - 1) ** 2
    return float(tau * (r ** (k + 1) - r**k) / (r**k - r) * np.sum(r ** (-i.astype(float)) * h))


def mesd(
    windows_s: Sequence[float],
    accuracies: Sequence[float],
    *,
    n_min: int = 5,
    p0: float = 0.8,
    c: float = 0.65,
    n_interp: int = 1000,
) -> MESDResult:
    """Minimal expected switch duration (Geirnaert, Francart & Bertrand 2020).

    The performance curve (windows, accuracies) is sorted, points with accuracy ≤ 0.5 are
    dropped, and it is interpolated linearly on ``n_interp`` equally spaced window lengths.
    For every point, a Markov chain of ``N`` gain states models a neuro-steered gain
    controller stepping towards the decoded talker with probability ``p`` every ``τ`` s;
    ``N`` is the smallest number ≥ ``n_min`` whose ``p0`` confidence lower bound of the
    steady state reaches the comfort level ``c``; the expected switch duration is the expected
    time to reach the comfort state ``k = ⌈c(N−1)+1⌉`` after a switch. MESD is the minimum over
    the curve. A minimum at the boundary of the curve is logged.

    Parameters
    ----------
    windows_s, accuracies : sequence of float
        Performance curve (accuracy as a fraction in [0, 1]).
    n_min, p0, c : int, float, float
        Minimal number of states, confidence level, comfort level (defaults of the paper).
    n_interp : int
        Number of interpolation points.

    Returns
    -------
    MESDResult
        ``mesd_s`` is ``inf`` when no accuracy exceeds 0.5.

    Examples
    --------
    >>> res = mesd([1, 5, 10, 20, 30, 60], [0.53, 0.61, 0.69, 0.76, 0.84, 0.90])
    >>> round(res.mesd_s, 4), round(res.window_s, 4), res.n_states
    (49.5286, 9.5045, 5)
    """
    tau = np.asarray(windows_s, dtype=float).ravel()
    p = np.asarray(accuracies, dtype=float).ravel()
    if tau.shape != p.shape or tau.size == 0:
        raise ValueError(
            f"windows_s and accuracies must be non-empty and equally long, got {tau.size}, {p.size}"
        )
    if (tau <= 0).any() or not np.isfinite(tau).all():
        raise ValueError("windows_s must be positive and finite")
    if np.nanmax(p) > 1 or np.nanmin(p) < 0:
        raise ValueError(
            f"accuracies must be fractions in [0, 1] (divide percentages by 100), got {p.tolist()}"
        )
    if not 0 < c < 1 or not 0 < p0 < 1 or n_min < 2:
        raise ValueError("expected 0 < c < 1, 0 < p0 < 1 and n_min >= 2")
    order = np.argsort(tau)
    tau, p = tau[order], p[order]
    keep = np.isfinite(p) & (p > 0.5)
    tau, p = tau[keep], p[keep]
    if tau.size == 0:
        return MESDResult(math.inf, math.nan, math.nan, 0, False)
    if tau.size == 1:
        tau_i, p_i = tau, p
    else:
        tau_i = np.linspace(tau[0], tau[-1], n_interp)
        p_i = np.interp(tau_i, tau, p)
    best = (math.inf, math.nan, math.nan, 0)
    best_idx = -1
    for idx, (t, pp) in enumerate(zip(tau_i, p_i)):
        if pp >= 1.0:
            pp = 1 - 1e-12
        n = _optimal_n_states(float(pp), n_min=n_min, p0=p0, c=c)
        e = _esd(float(t), float(pp), n, c)
        if e < best[0]:
            best = (e, float(t), float(pp), n)
            best_idx = idx
    at_boundary = best_idx in (0, len(tau_i) - 1) and len(tau_i) > 1
    if at_boundary:
        logger.warning(
            "MESD optimum at the %s window length (%.3g s): extend the performance curve",
            "shortest" if best_idx == 0 else "longest",
            best[1],
        )
    return MESDResult(best[0], best[1], best[2], best[3], bool(at_boundary))


# -- performance-curve extrapolation ------------------------------------------------------
def extrapolate_accuracy(
    r_attended: Sequence[float],
    r_unattended: Sequence[float],
    *,
    window_s: float,
    sfreq_hz: float,
    target_windows_s: Sequence[float],
) -> np.ndarray:
    """Predict accuracy at other window lengths from correlations at one (Geirnaert et al. 2025).

    From per-window correlations with the attended and unattended stream at a baseline window
    ``τ_b``: Fisher ``z = atanh(r)``, ``d = z_att − z_un`` with mean ``μ_b`` and sd ``σ_b``,
    and mean raw correlations ``ρ̄_a, ρ̄_u``. Then

    ``μ(τ) = μ_b − (ρ̄_a − ρ̄_u) / (2(τ_b f_s − 1)) + (ρ̄_a − ρ̄_u) / (2(τ f_s − 1))``,
    ``σ(τ) = σ_b · sqrt(2 / (τ f_s − 1)) / sqrt(2 / (τ_b f_s − 1))``,
    ``acc(τ) = 1 − Φ(0; μ(τ), σ(τ))``.

    (The Fisher-z bias term is ``ρ / (2(n − 1))`` with ``n = τ f_s`` samples.)

    Returns
    -------
    array
        Predicted accuracy for each of ``target_windows_s``.
    """
    ra = np.asarray(r_attended, dtype=float)
    ru = np.asarray(r_unattended, dtype=float)
    if ra.shape != ru.shape or ra.ndim != 1 or ra.size < 2:
        raise ValueError("need at least 2 paired correlations (attended, unattended)")
    if window_s <= 0 or sfreq_hz <= 0:
        raise ValueError("window_s and sfreq_hz must be positive")
    if (np.abs(ra) >= 1).any() or (np.abs(ru) >= 1).any():
        raise ValueError("correlations must lie strictly within (-1, 1)")
    d = np.arctanh(ra) - np.arctanh(ru)
    mu_b, sd_b = d.mean(), d.std(ddof=1)
    rho = ra.mean() - ru.mean()
    nb = window_s * sfreq_hz
    tau = np.asarray(target_windows_s, dtype=float)
    n = tau * sfreq_hz
    if (n <= 1).any() or nb <= 1:
        raise ValueError("every window must hold more than one sample")
    mu = mu_b - rho / (2 * (nb - 1)) + rho / (2 * (n - 1))
    sd = sd_b * np.sqrt(2 / (n - 1)) / np.sqrt(2 / (nb - 1))
    return 1 - stats.norm.cdf(0, loc=mu, scale=sd)


# -- switching -----------------------------------------------------------------------------
def smooth_decisions(
    decisions: Sequence[int], *, accuracy: float, p_switch: float, n_classes: int = 2
) -> np.ndarray:
    """Causal HMM (forward) filtering of window decisions.

    Hidden state: the attended stream, which switches to another with probability
    ``p_switch`` per window; each window decision is correct with probability ``accuracy``.
    Returns the filtered decision (argmax of the forward posterior) per window.
    """
    dec = np.asarray(decisions, dtype=int)
    if not 0.5 <= accuracy < 1:
        raise ValueError(f"accuracy must lie in [0.5, 1), got {accuracy}")
    if not 0 <= p_switch < 1:
        raise ValueError(f"p_switch must lie in [0, 1), got {p_switch}")
    k = n_classes
    trans = np.full((k, k), p_switch / max(k - 1, 1))
    np.fill_diagonal(trans, 1 - p_switch)
    emit_wrong = (1 - accuracy) / max(k - 1, 1)
    post = np.full(k, 1.0 / k)
    out = np.empty(dec.size, dtype=int)
    for t, d in enumerate(dec):
        prior = trans.T @ post
        like = np.full(k, emit_wrong)
        like[d] = accuracy
        post = prior * like
        post /= post.sum()
        out[t] = int(np.argmax(post))
    return out


def concatenate_trials(recordings: xr.Dataset) -> tuple[xr.Dataset, np.ndarray]:
    """Join the trials of a ``Recordings`` into one long trial; return it and the attended
    stream per sample (attention switches where the attended stream changes)."""
    ds = check_recordings(recordings, need_streams=True, need_attended=True)
    trials = iter_trials(ds)
    eeg = np.concatenate([t.eeg for t in trials])
    streams = np.concatenate([t.streams for t in trials], axis=1)
    label = np.concatenate([np.full(t.eeg.shape[0], t.attended) for t in trials])
    one = make_recordings(
        eeg[None],
        sfreq_hz=float(ds.attrs["sfreq_hz"]),
        streams=streams[None],
        attended=[-1],
        channel_names=ds["channel"].values,
        stream_names=ds["stream"].values,
        feature_names=ds["feature"].values,
        source="concatenated trials",
    )
    return one, label


@dataclass(frozen=True)
class SwitchingResult:
    """Outcome of :func:`switching_simulation`."""

    times_s: np.ndarray
    raw: np.ndarray
    smoothed: np.ndarray
    truth: np.ndarray
    switch_times_s: np.ndarray
    delays_s: np.ndarray
    raw_accuracy: float
    smoothed_accuracy: float


def switching_simulation(
    decoder: Any,
    recordings: xr.Dataset,
    *,
    window_s: float,
    step_s: float | None = None,
    accuracy: float | None = None,
    p_switch: float | None = None,
) -> SwitchingResult:
    """Track attention switches with a fitted decoder and HMM smoothing.

    The test trials are concatenated (attention switches where consecutive trials attend
    different streams), decisions are made in sliding windows of ``window_s`` every
    ``step_s`` (each labelled at its end, as an online system would), and smoothed with
    :func:`smooth_decisions`. The delay of a switch is the time from the switch until the
    smoothed decision first equals the new attended stream (``inf`` if it never does before
    the next switch).

    Parameters
    ----------
    decoder : fitted AAD decoder
    recordings : Recordings dataset
        Held-out trials in the order they are joined.
    window_s, step_s : float
        Decision window and hop (default: ``window_s``; overlapping windows give correlated
        decisions, which the HMM treats as independent).
    accuracy : float, optional
        Assumed per-window accuracy for the HMM (default 0.75).
    p_switch : float, optional
        Switch probability per step (default: ``step_s`` / mean trial duration).

    Returns
    -------
    SwitchingResult
    """
    one, label = concatenate_trials(recordings)
    fs = float(one.attrs["sfreq_hz"])
    step_s = window_s if step_s is None else step_s
    dec = decoder.decide(one, window_s=window_s, step_s=step_s)
    start = dec["start_s"].values
    end_idx = np.minimum(((start + window_s) * fs).astype(int) - 1, label.size - 1)
    truth = label[end_idx]
    raw = dec["decided"].values
    durations = check_recordings(recordings)["n_samples"].values / fs
    p_sw = p_switch if p_switch is not None else min(0.5, step_s / float(np.mean(durations)))
    acc = 0.75 if accuracy is None else accuracy
    smoothed = smooth_decisions(
        raw, accuracy=acc, p_switch=p_sw, n_classes=int(one.sizes["stream"])
    )
    times = start + window_s
    switch_idx = np.flatnonzero(np.diff(label) != 0) + 1
    switch_t = switch_idx / fs
    delays = []
    bounds = np.r_[switch_t, np.inf]
    for s, t_sw in enumerate(switch_t):
        new = label[switch_idx[s]]
        seg = (times >= t_sw) & (times < bounds[s + 1])
        hit = np.flatnonzero(smoothed[seg] == new)
        delays.append(times[seg][hit[0]] - t_sw if hit.size else np.inf)
    return SwitchingResult(
        times_s=times,
        raw=raw,
        smoothed=smoothed,
        truth=truth,
        switch_times_s=switch_t,
        delays_s=np.asarray(delays),
        raw_accuracy=float(np.mean(raw == truth)),
        smoothed_accuracy=float(np.mean(smoothed == truth)),
    )
