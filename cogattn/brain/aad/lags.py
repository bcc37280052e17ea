"""Time-lag expansion with an explicit sign convention and per-trial zero padding.

**Sign convention.** A *lag* is a delay in samples of the neural response relative to the
stimulus. A positive lag means the neural response *follows* the stimulus (the physiological
direction: an N1 at +100 ms).

- :func:`lag_matrix` ``(x, shifts)`` returns ``out[t, l * F + f] = x[t - shifts[l], f]``
  (zero where ``t - shifts[l]`` falls outside the trial): column block ``l`` is ``x`` delayed
  by ``shifts[l]`` samples.
- Forward model (encoding, :class:`~cogattn.brain.aad.ForwardTRF`):
  ``eeg(t) = Σ_τ w(τ) · stim(t - τ)`` → ``lag_matrix(stim, lags)``.
- Backward model (stimulus reconstruction, :class:`~cogattn.brain.aad.BackwardDecoder`):
  ``ŝ(t) = Σ_τ d(τ) · eeg(t + τ)`` with the *same* positive lags (EEG after the stimulus)
  → ``lag_matrix(eeg, -lags)``. (mTRF-Toolbox uses the same lags for both directions; MNE's
  ``ReceptiveField`` needs ``tmin=-0.25, tmax=0`` for a backward model because its delays
  are applied to the regressor.)

**Trial borders.** Each trial is lagged on its own and padded with zeros, so no sample of one
trial ever enters another trial's rows (mTRF-Toolbox issue #3, MNE issue #4253).

:func:`lagged_gram` computes ``XᵀX`` of the lag matrix exactly without building it: the
blocks are lagged auto-covariances of ``x`` minus the few products that the zero padding
removes at the trial edges. This makes a 64-channel, 33-lag decoder on hours of EEG a matter
of seconds. The tests check it against the explicit matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "lag_matrix",
    "lagged_cross",
    "lagged_gram",
    "lagged_row_norms_sq",
    "lags_from_ms",
    "shift",
]


def lags_from_ms(tmin_ms: float, tmax_ms: float, *, sfreq_hz: float) -> np.ndarray:
    """Integer sample lags from ``round(tmin_ms·fs/1000)`` to ``round(tmax_ms·fs/1000)``.

    At 64 Hz, 0–250 ms gives 17 lags (0..16); at 128 Hz, 33 lags.
    """
    if tmax_ms < tmin_ms:
        raise ValueError(f"expected tmin_ms <= tmax_ms, got {tmin_ms}, {tmax_ms}")
    if sfreq_hz <= 0:
        raise ValueError(f"sfreq_hz must be positive, got {sfreq_hz}")
    lo = int(np.round(tmin_ms * sfreq_hz / 1000.0))
    hi = int(np.round(tmax_ms * sfreq_hz / 1000.0))
    return np.arange(lo, hi + 1)


def _as_2d(x: np.ndarray, name: str = "x") -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"expected {name} of shape (time,) or (time, feature), got {a.shape}")
    return a


def _as_shifts(shifts: Sequence[int] | np.ndarray) -> np.ndarray:
    s = np.asarray(shifts)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"expected a non-empty 1-D sequence of integer lags, got {s!r}")
    if s.dtype.kind == "f":
        if not np.all(s == np.round(s)):
            raise ValueError(f"lags must be whole samples, got {s}")
        s = s.astype(int)
    if s.dtype.kind not in "iu":
        raise ValueError(f"lags must be integers (samples), got dtype {s.dtype}")
    return s.astype(np.int64)


def shift(x: np.ndarray, s: int) -> np.ndarray:
    """``x`` delayed by ``s`` samples along axis 0 (``out[t] = x[t - s]``), zero padded."""
    out = np.zeros_like(x)
    n = x.shape[0]
    if abs(s) >= n:
        return out
    if s >= 0:
        out[s:] = x[: n - s]
    else:
        out[: n + s] = x[-s:]
    return out


def lag_matrix(
    x: np.ndarray | Sequence[np.ndarray],
    shifts: Sequence[int] | np.ndarray,
) -> np.ndarray:
    """Lag-expanded design matrix, ``out[t, l * F + f] = x[t - shifts[l], f]``.

    Parameters
    ----------
    x : array (time,) or (time, feature), or a list of such arrays (one per trial)
        A list is lagged trial by trial (zero padding at each trial's edges) and the results
        are stacked along time.
    shifts : sequence of int
        Delays in samples (see the module docstring for the sign convention).

    Returns
    -------
    array (time, n_shifts * feature)

    Examples
    --------
    >>> lag_matrix(np.arange(1.0, 5.0), [0, 1, -1])
    array([[1., 0., 2.],
           [2., 1., 3.],
           [3., 2., 4.],
           [4., 3., 0.]])
    """
    s = _as_shifts(shifts)
    if isinstance(x, (list, tuple)):
        return np.concatenate([lag_matrix(xi, s) for xi in x], axis=0)
    a = _as_2d(x)
    return np.concatenate([shift(a, int(k)) for k in s], axis=1)


def lagged_cross(x: np.ndarray, shifts: Sequence[int] | np.ndarray, y: np.ndarray) -> np.ndarray:
    """``lag_matrix(x, shifts).T @ y`` for one trial, without building the lag matrix.

    Returns an array of shape ``(n_shifts * F, G)``.
    """
    s = _as_shifts(shifts)
    a = _as_2d(x)
    b = _as_2d(y, "y")
    n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError(f"x and y must have the same number of samples, got {n}, {b.shape[0]}")
    blocks = []
    for k in s:
        k = int(k)
        # Σ_t x(t - k) y(t): x[u] pairs with y[u + k]
        if abs(k) >= n:
            blocks.append(np.zeros((a.shape[1], b.shape[1])))
        elif k >= 0:
            blocks.append(a[: n - k].T @ b[k:])
        else:
            blocks.append(a[-k:].T @ b[: n + k])
    return np.concatenate(blocks, axis=0)


def lagged_gram(x: np.ndarray, shifts: Sequence[int] | np.ndarray) -> np.ndarray:
    """``X.T @ X`` for ``X = lag_matrix(x, shifts)`` of one trial, computed exactly and fast.

    Block ``(i, j)`` is ``Σ_t x(t - s_i) x(t - s_j)ᵀ``: the lag-``k`` auto-covariance
    ``A(k) = Σ_u x(u) x(u + k)ᵀ`` with ``k = s_i - s_j``, minus the products at the trial
    edges that the zero padding removes (at most ``max |s|`` samples at each end).
    Cost ``O(n_unique_k · T · F²)`` instead of ``O(T · (n_shifts · F)²)``.
    """
    s = _as_shifts(shifts)
    a = _as_2d(x)
    n, f = a.shape
    n_s = s.size
    auto: dict[int, np.ndarray] = {}

    def _auto(k: int) -> np.ndarray:
        if k not in auto:
            if abs(k) >= n:
                auto[k] = np.zeros((f, f))
            elif k >= 0:
                auto[k] = a[: n - k].T @ a[k:]
            else:
                auto[k] = _auto(-k).T
        return auto[k]

    def _partial(lo: int, hi: int, k: int) -> np.ndarray:
        # Σ_{u=lo}^{hi-1} x(u) x(u + k)ᵀ
        if hi <= lo:
            return 0.0  # type: ignore[return-value]
        return a[lo:hi].T @ a[lo + k : hi + k]

    out = np.empty((n_s * f, n_s * f))
    for i in range(n_s):
        for j in range(i, n_s):
            si, sj = int(s[i]), int(s[j])
            k = si - sj
            lo_f, hi_f = max(0, -k), min(n, n - k)
            lo, hi = max(lo_f, -si), min(hi_f, n - si)
            if hi <= lo:
                block = np.zeros((f, f))
            else:
                block = _auto(k) - _partial(lo_f, lo, k) - _partial(hi, hi_f, k)
            out[i * f : (i + 1) * f, j * f : (j + 1) * f] = block
            if j != i:
                out[j * f : (j + 1) * f, i * f : (i + 1) * f] = block.T
    return out


def lagged_row_norms_sq(x: np.ndarray, shifts: Sequence[int] | np.ndarray) -> np.ndarray:
    """Squared Euclidean norm of every row of ``lag_matrix(x, shifts)`` (for Ledoit–Wolf)."""
    s = _as_shifts(shifts)
    q = np.sum(_as_2d(x) ** 2, axis=1)
    out = np.zeros_like(q)
    for k in s:
        out += shift(q, int(k))
    return out
