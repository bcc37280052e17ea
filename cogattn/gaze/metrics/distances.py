"""Point-sequence distances between scanpaths: dynamic time warping and discrete Fréchet.

Both work on fixation positions (x, y px; a duration column is ignored), use every
fixation, are symmetric, are 0 for identical scanpaths, and are in pixels (divide by the
screen diagonal to compare images of different sizes). See Fahimi & Bruce (2021), "On
metrics for measuring scanpath similarity", Behav. Res. Methods 53:609–628, for their use
on scanpaths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations

__all__ = ["dtw", "frechet"]


def _pairwise(a: np.ndarray, b: np.ndarray) -> list[list[float]]:
    diff = a[:, None, :2] - b[None, :, :2]
    return np.sqrt((diff**2).sum(axis=2)).tolist()


def dtw(a: Any, b: Any) -> float:
    """Dynamic time warping distance between two scanpaths (Berndt & Clifford, 1994).

    ``D[i, j] = d(a_i, b_j) + min(D[i−1, j], D[i, j−1], D[i−1, j−1])`` with ``d`` the
    Euclidean distance in pixels and ``D[0, 0] = d(a_0, b_0)``; returns ``D[n−1, m−1]``,
    the summed distance along the best monotone alignment (not normalised by its length).

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths (x px, y px[, duration ms]); each needs at least one fixation.

    Returns
    -------
    float
        Distance in pixels (0 for identical scanpaths).

    Examples
    --------
    >>> dtw([[0, 0], [10, 0]], [[0, 0], [0, 0], [10, 0]])
    0.0
    """
    fa = as_fixations(a, "a", min_len=1)
    fb = as_fixations(b, "b", min_len=1)
    cost = _pairwise(fa, fb)
    m = len(fb)
    prev = [0.0] * m
    acc = 0.0
    for j in range(m):
        acc += cost[0][j]
        prev[j] = acc
    for i in range(1, len(fa)):
        row = cost[i]
        cur = [0.0] * m
        left = prev[0] + row[0]
        cur[0] = left
        for j in range(1, m):
            best = prev[j - 1] if prev[j - 1] < prev[j] else prev[j]
            if left < best:
                best = left
            left = best + row[j]
            cur[j] = left
        prev = cur
    return float(prev[m - 1])


def frechet(a: Any, b: Any) -> float:
    """Discrete Fréchet distance between two scanpaths (Eiter & Mannila, 1994).

    The smallest, over monotone couplings of the two fixation sequences, of the largest
    Euclidean distance between coupled fixations:
    ``F[i, j] = max(d(a_i, b_j), min(F[i−1, j], F[i, j−1], F[i−1, j−1]))``.

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths (x px, y px[, duration ms]); each needs at least one fixation.

    Returns
    -------
    float
        Distance in pixels (0 for identical scanpaths).

    Examples
    --------
    >>> frechet([[0, 0], [10, 0]], [[0, 3], [10, 3]])
    3.0
    """
    fa = as_fixations(a, "a", min_len=1)
    fb = as_fixations(b, "b", min_len=1)
    cost = _pairwise(fa, fb)
    m = len(fb)
    prev = [0.0] * m
    acc = 0.0
    for j in range(m):
        acc = max(acc, cost[0][j])
        prev[j] = acc
    for i in range(1, len(fa)):
        row = cost[i]
        cur = [0.0] * m
        left = max(prev[0], row[0])
        cur[0] = left
        for j in range(1, m):
            best = min(prev[j - 1], prev[j], left)
            left = best if best > row[j] else row[j]
            cur[j] = left
        prev = cur
    return float(prev[m - 1])
