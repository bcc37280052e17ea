"""Compiled kernels of the single-pair MultiMatch (optional: numba, the ``fast`` extra).

Private to :mod:`cogattn.gaze.metrics.multimatch`, which imports this module on its first
single-pair call when numba is installed (the import compiles the kernels, or loads them
from numba's on-disk cache) and otherwise keeps its pure-Python path.
The kernels do, on float64 arrays, exactly the operations of the Python path (and of the
reference, multimatch-gaze): the same products, sums, square roots, C-library ``pow`` calls
and comparisons in the same order (no fast-math, so no reassociation or fused
multiply–add), so every value is bitwise the Python path's. What they do not decide goes
back to the Python path's tools: the saccade angles are ``np.arctan2``'s (its SIMD loops
may round differently from the C library's ``atan2`` that compiled code would call), a
merge decision whose angle lies within 1e-3° of the direction threshold is the Python
simplification's (which asks NumPy/BLAS, as the reference does), and an exact tie in the
alignment's trace-back is resolved by SciPy's Dijkstra on the reference graph.

Feature table of a prepared pair, ``feat`` (7, N): rows x, y (start point, px), lenx,
leny, rho (px), theta (rad), duration of each saccade, the first scanpath's ``n1``
saccades at ``[0, n1)`` and the second's ``n2`` from column ``offset``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numba
import numpy as np
from numba import types

__all__ = ["align", "compare", "fill_features", "group_pair", "similarities"]

logger = logging.getLogger(__name__)

X, Y, LENX, LENY, RHO, THETA, DUR = range(7)

_F8 = types.float64
_I8 = types.int64
_TABLE = types.Array(_F8, 2, "A", readonly=True)  # a scanpath: any strides, writable or not
_FEAT = types.Array(_F8, 2, "C", readonly=True)
_INDEX = types.Array(_I8, 1, "A", readonly=True)
_FIVE = types.UniTuple(_F8, 5)
_COLS = types.Array(_F8, 2, "C")
_VEC = types.Array(_F8, 1, "C")
_MERGED = types.Array(_I8, 1, "C")
_PATH = types.Array(_I8, 1, "C")


def _jit(signature: object) -> Callable:
    """``numba.njit`` with an explicit signature (compiled once, on import) and
    ``cache=True`` (later sessions load the machine code from numba's cache)."""

    def wrap(fn: Callable) -> Callable:
        try:
            return numba.njit(signature, cache=True, nogil=True)(fn)
        except RuntimeError as err:  # no writable cache location: compile every session
            logger.debug("numba cache unavailable (%s): compiling %s without it", err, fn)
            return numba.njit(signature, nogil=True)(fn)

    return wrap


@_jit(types.boolean(_TABLE, _COLS, _I8))
def _fill_one(src: np.ndarray, feat: np.ndarray, start: int) -> bool:
    """Copy one scanpath into ``feat`` from column ``start``: x, y, duration of each
    fixation, lenx, leny, rho of the saccade leaving it (0 for the last); False if a value
    is not finite or a duration is negative."""
    n = src.shape[0]
    has_dur = src.shape[1] > 2
    for k in range(n):
        x = src[k, 0]
        y = src[k, 1]
        if not (math.isfinite(x) and math.isfinite(y)):
            return False
        d = math.nan
        if has_dur:
            d = src[k, 2]
            if not (math.isfinite(d) and d >= 0.0):
                return False
        c = start + k
        feat[X, c] = x
        feat[Y, c] = y
        feat[DUR, c] = d
        if k + 1 < n:
            lx = src[k + 1, 0] - x
            ly = src[k + 1, 1] - y
        else:
            lx = 0.0
            ly = 0.0
        feat[LENX, c] = lx
        feat[LENY, c] = ly
        feat[RHO, c] = math.sqrt(lx * lx + ly * ly)
    return True


@_jit(_I8(_TABLE, _TABLE, _COLS))
def fill_features(a: np.ndarray, b: np.ndarray, feat: np.ndarray) -> int:
    """Feature table (7, n_a + n_b) of two scanpaths (``a``'s saccades at ``[0, n_a − 1)``,
    ``b``'s from ``n_a``; theta is left to ``np.arctan2``). Returns 0, or 1 (2) when ``a``
    (``b``) has a non-finite value or a negative duration."""
    if not _fill_one(a, feat, 0):
        return 1
    if not _fill_one(b, feat, a.shape[0]):
        return 2
    return 0


@_jit(types.none(_VEC, _I8, _I8))
def _sift_down(values: np.ndarray, root: int, end: int) -> None:
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and values[child] < values[child + 1]:
            child += 1
        if not values[root] < values[child]:
            return
        values[root], values[child] = values[child], values[root]
        root = child


@_jit(_F8(_VEC))
def _median(values: np.ndarray) -> float:
    """Median of ``values`` (no NaN), sorted in place: the middle value, or the mean of
    the two middle values (as ``np.median`` and the Python path)."""
    # insertion sort for short paths, heapsort for long ones (a few lines each; they
    # compile much faster than np.sort)
    k = values.shape[0]
    if k <= 64:
        for i in range(1, k):
            v = values[i]
            j = i - 1
            while j >= 0 and v < values[j]:
                values[j + 1] = values[j]
                j -= 1
            values[j + 1] = v
    else:
        for root in range(k // 2 - 1, -1, -1):  # max-heap
            _sift_down(values, root, k)
        for end in range(k - 1, 0, -1):  # the largest to the end, repeatedly
            values[0], values[end] = values[end], values[0]
            _sift_down(values, 0, end)
    h = k // 2
    if k % 2:
        return values[h]
    return (values[h - 1] + values[h]) / 2


@_jit(_FIVE(_FEAT, _I8, _INDEX, _INDEX, _F8))
def similarities(
    feat: np.ndarray, offset: int, path_i: np.ndarray, path_j: np.ndarray, diag: float
) -> tuple[float, float, float, float, float]:
    """The five similarities along a path (as the Python path's ``_similarities``)."""
    k = path_i.shape[0]
    pi = math.pi
    two_pi = 2 * pi
    vector = np.empty(k)
    direction = np.empty(k)
    length = np.empty(k)
    position = np.empty(k)
    duration = np.empty(k)
    dur_nan = False
    for p in range(k):
        i = path_i[p]
        q = offset + path_j[p]
        dx = feat[LENX, i] - feat[LENX, q]
        dy = feat[LENY, i] - feat[LENY, q]
        vector[p] = math.sqrt(dx * dx + dy * dy)
        dx = feat[X, i] - feat[X, q]
        dy = feat[Y, i] - feat[Y, q]
        position[p] = math.sqrt(dx * dx + dy * dy)
        t1 = feat[THETA, i]
        t2 = feat[THETA, q]
        if t1 < 0:  # angles in [0, 2π)
            t1 = pi + (pi + t1)
        if t2 < 0:
            t2 = pi + (pi + t2)
        ang = abs(t1 - t2)
        direction[p] = two_pi - ang if ang > pi else ang
        length[p] = abs(feat[RHO, i] - feat[RHO, q])
        d1 = feat[DUR, i]
        d2 = feat[DUR, q]
        longer = d1 if d1 > d2 else d2
        # |d1 − d2| / max(d1, d2); 0 / 0 is NaN (as the reference), so are missing durations
        r = abs(d1 - d2) / longer if longer != 0.0 else math.nan
        duration[p] = r
        if r != r:
            dur_nan = True
    m_vec = _median(vector)
    m_dir = _median(direction)
    m_len = _median(length)
    m_pos = _median(position)
    m_dur = math.nan if dur_nan else _median(duration)
    return (
        1 - m_vec / (2 * diag),
        1 - m_dir / pi,
        1 - m_len / diag,
        1 - m_pos / diag,
        1 - m_dur,
    )


@_jit(types.Tuple((types.boolean, _PATH, _PATH))(_FEAT, _I8, _I8, _I8))
def align(feat: np.ndarray, n1: int, offset: int, n2: int) -> tuple[bool, np.ndarray, np.ndarray]:
    """Cheapest monotone path between the two scanpaths of ``feat`` (as the Python path's
    ``_align``): rows and columns of its cells from (0, 0), or ``True`` first (and empty
    arrays) when two predecessors tie exactly on the way back.

    The cost of cell ``(i, j)`` is ``‖v1_i − v2_j‖``; the cumulative cost is
    ``min(diagonal, up, left) + cost`` (0 at the origin, running sums along the first row
    and column), bitwise the reference's Dijkstra distances. The path is traced back from
    the far corner through the strictly smallest predecessor; on an exact tie the caller
    takes the path from the reference graph.
    """
    cost = np.empty((n1, n2))
    for i in range(n1):
        for j in range(n2):
            dx = feat[LENX, i] - feat[LENX, offset + j]
            dy = feat[LENY, i] - feat[LENY, offset + j]
            cost[i, j] = math.sqrt(dx * dx + dy * dy)
    dist = np.empty((n1, n2))
    acc = 0.0
    dist[0, 0] = acc
    for j in range(1, n2):
        acc = acc + cost[0, j]
        dist[0, j] = acc
    for i in range(1, n1):
        left = dist[i - 1, 0] + cost[i, 0]
        dist[i, 0] = left
        for j in range(1, n2):
            a = dist[i - 1, j - 1]
            b = dist[i - 1, j]
            if b < a:
                a = b
            if left < a:
                a = left
            left = a + cost[i, j]
            dist[i, j] = left
    # trace back: diagonal (i-1, j-1) = a, up (i-1, j) = b, left (i, j-1) = c
    path_i = np.empty(n1 + n2, dtype=np.int64)
    path_j = np.empty(n1 + n2, dtype=np.int64)
    i = n1 - 1
    j = n2 - 1
    k = n1 + n2 - 1
    path_i[k] = i
    path_j[k] = j
    none = np.empty(0, dtype=np.int64)
    while i and j:
        a = dist[i - 1, j - 1]
        b = dist[i - 1, j]
        c = dist[i, j - 1]
        if a < b:
            if a < c:  # diagonal
                i -= 1
                j -= 1
            elif c < a:  # left
                j -= 1
            else:
                return True, none, none
        elif b < a:
            if b < c:  # up
                i -= 1
            elif c < b:
                j -= 1
            else:
                return True, none, none
        elif c < a:
            j -= 1
        else:
            return True, none, none
        k -= 1
        path_i[k] = i
        path_j[k] = j
    while i:
        i -= 1
        k -= 1
        path_i[k] = i
        path_j[k] = 0
    while j:
        j -= 1
        k -= 1
        path_i[k] = 0
        path_j[k] = j
    return False, path_i[k:].copy(), path_j[k:].copy()


@_jit(types.Tuple((types.boolean, _F8, _F8, _F8, _F8, _F8))(_FEAT, _I8, _I8, _I8, _F8))
def compare(
    feat: np.ndarray, n1: int, offset: int, n2: int, diag: float
) -> tuple[bool, float, float, float, float, float]:
    """:func:`align` then :func:`similarities`; the first ``True`` (and NaN similarities)
    says that the trace-back met an exact tie."""
    tie, path_i, path_j = align(feat, n1, offset, n2)
    if tie:
        return True, math.nan, math.nan, math.nan, math.nan, math.nan
    s = similarities(feat, offset, path_i, path_j, diag)
    return False, s[0], s[1], s[2], s[3], s[4]


# --------------------------------------------------------------------------- grouping
# The simplification of multimatch.py's ``_simplify_lists`` on arrays, in place: ``cols``
# (5, capacity) holds x, y, lenx, leny, rho of the saccades, ``durs`` the durations (one
# more than the saccades, or two after the reference's last amplitude merge). A merged
# saccade's length is ``sqrt(|vx| ** two + |vy| ** two)`` with ``two`` = 2.0 passed at run
# time: the exponent is then unknown to the compiler, which calls the C library's ``pow``
# as the reference's ``x ** 2`` does (a literal 2 would be compiled to ``x * x``, which
# differs in the last bit for ~0.1 % of values). Where the cosine of two saccades is too
# close to the direction threshold to decide from plain arithmetic, the kernel gives up
# (the caller then runs the Python simplification, which asks NumPy/BLAS as the reference).


@_jit(_I8(_COLS, _VEC, _I8, _MERGED, _I8, _F8))
def _apply_merges(
    cols: np.ndarray, durs: np.ndarray, n_sac: int, merged: np.ndarray, n_merged: int, two: float
) -> int:
    """Saccades ``merged[:n_merged]`` (increasing) absorb their successors (vector sum,
    start point and duration of the first), compacting in place; returns the new count."""
    w = 0
    r = 0
    m = 0
    while r < n_sac:
        if m < n_merged and merged[m] == r:
            vx = cols[2, r] + cols[2, r + 1]
            vy = cols[3, r] + cols[3, r + 1]
            cols[0, w] = cols[0, r]
            cols[1, w] = cols[1, r]
            cols[2, w] = vx
            cols[3, w] = vy
            cols[4, w] = math.sqrt(abs(vx) ** two + abs(vy) ** two)
            durs[w] = durs[r]
            r += 2
            m += 1
        else:
            for c in range(5):
                cols[c, w] = cols[c, r]
            durs[w] = durs[r]
            r += 1
        w += 1
    return w


@_jit(types.UniTuple(_I8, 2)(_COLS, _VEC, _I8, _I8, _F8, _F8, _F8, _MERGED, _F8))
def _simplify_direction(
    cols: np.ndarray,
    durs: np.ndarray,
    n_sac: int,
    n_dur: int,
    t_dur: float,
    surely_below: float,
    surely_not: float,
    merged: np.ndarray,
    two: float,
) -> tuple[int, int]:
    """One direction pass; returns the saccade and duration counts, (−1, −1) if undecided."""
    if n_sac < 1:
        return n_sac, n_dur
    n_merged = 0
    last = -2
    for k in range(1, n_sac):
        if not durs[k] < t_dur or k == last + 2:
            continue
        ax = cols[2, k - 1]
        ay = cols[3, k - 1]
        bx = cols[2, k]
        by = cols[3, k]
        if (ax == 0.0 and ay == 0.0) or (bx == 0.0 and by == 0.0):
            continue  # a zero-length saccade: no angle (the reference's is NaN)
        norms = math.sqrt(ax * ax + ay * ay) * math.sqrt(bx * bx + by * by)
        c = (ax * bx + ay * by) / norms if norms != 0.0 else surely_not
        if c > surely_below:
            merged[n_merged] = k - 1
            n_merged += 1
            last = k - 1
        elif c >= surely_not:
            return -1, -1  # too close to the threshold: the exact angle decides
    last_dur = durs[n_dur - 1]
    w = _apply_merges(cols, durs, n_sac, merged, n_merged, two)
    durs[w] = last_dur
    return w, w + 1


@_jit(types.UniTuple(_I8, 2)(_COLS, _VEC, _I8, _I8, _F8, _F8, _MERGED, _F8))
def _simplify_amplitude(
    cols: np.ndarray,
    durs: np.ndarray,
    n_sac: int,
    n_dur: int,
    t_amp: float,
    t_dur: float,
    merged: np.ndarray,
    two: float,
) -> tuple[int, int]:
    """One amplitude pass (the reference's last-saccade rule included)."""
    if n_sac < 1:
        return n_sac, n_dur
    n_merged = 0
    last = -2
    for k in range(n_sac):
        if durs[k] < t_dur:
            for i in (k - 1, k):
                if last + 1 < i < n_sac - 1 and cols[4, i] < t_amp:
                    merged[n_merged] = i
                    n_merged += 1
                    last = i
    last_merge = (
        not (n_merged > 0 and merged[n_merged - 1] == n_sac - 2)
        and n_sac > 1
        and cols[4, n_sac - 1] < t_amp
        and (durs[n_dur - 1] < t_dur or durs[n_dur - 2] < t_dur)
    )
    vx = vy = d_prev = 0.0
    if last_merge:
        vx = cols[2, n_sac - 2] + cols[2, n_sac - 1]
        vy = cols[3, n_sac - 2] + cols[3, n_sac - 1]
        d_prev = durs[n_sac - 2]
    last_dur = durs[n_dur - 1]
    w = _apply_merges(cols, durs, n_sac, merged, n_merged, two)
    if last_merge:
        # the last saccade is dropped, and the previous kept one replaced by the sum of
        # the original last two (its start point kept), as the reference does
        w -= 1
        cols[2, w - 1] = vx
        cols[3, w - 1] = vy
        cols[4, w - 1] = math.sqrt(abs(vx) ** two + abs(vy) ** two)
        durs[w] = d_prev
        durs[w + 1] = last_dur
        return w, w + 2
    durs[w] = last_dur
    return w, w + 1


@_jit(types.UniTuple(_I8, 2)(_COLS, _VEC, _I8, _F8, _F8, _F8, _F8, _F8))
def _simplify(
    cols: np.ndarray,
    durs: np.ndarray,
    n_sac: int,
    t_dur: float,
    t_amp: float,
    surely_below: float,
    surely_not: float,
    two: float,
) -> tuple[int, int]:
    """Direction and amplitude passes until the number of durations is stable."""
    merged = np.empty(max(n_sac, 1), dtype=np.int64)
    n_dur = n_sac + 1
    prev = n_dur
    while True:
        n_sac, n_dur = _simplify_direction(
            cols, durs, n_sac, n_dur, t_dur, surely_below, surely_not, merged, two
        )
        if n_sac < 0:
            return -1, -1
        n_sac, n_dur = _simplify_amplitude(cols, durs, n_sac, n_dur, t_amp, t_dur, merged, two)
        if n_dur == prev:
            return n_sac, n_dur
        prev = n_dur


@_jit(types.Tuple((types.boolean, _COLS, _I8, _I8))(_FEAT, _I8, _I8, _F8, _F8, _F8, _F8, _F8))
def group_pair(
    feat: np.ndarray,
    n_a: int,
    n_b: int,
    t_dur: float,
    t_amp: float,
    surely_below: float,
    surely_not: float,
    two: float,
) -> tuple[bool, np.ndarray, int, int]:
    """Simplify both scanpaths of a feature table (as :func:`fill_features`); returns
    whether it was decided here, the simplified table (theta row left to ``np.arctan2``)
    and the saccade counts ``n1``, ``n2`` (the second scanpath's from column ``n1``)."""
    n1 = n2 = 0
    cols_a = np.empty((5, n_a))
    durs_a = np.empty(n_a)
    cols_b = np.empty((5, n_b))
    durs_b = np.empty(n_b)
    for side in range(2):
        start = 0 if side == 0 else n_a
        n_fix = n_a if side == 0 else n_b
        cols = cols_a if side == 0 else cols_b
        durs = durs_a if side == 0 else durs_b
        for k in range(n_fix):
            for c in range(5):
                cols[c, k] = feat[c, start + k]
            durs[k] = feat[DUR, start + k]
        n_sac, _ = _simplify(cols, durs, n_fix - 1, t_dur, t_amp, surely_below, surely_not, two)
        if n_sac < 0:
            return False, np.empty((7, 0)), 0, 0
        if side == 0:
            n1 = n_sac
        else:
            n2 = n_sac
    out = np.zeros((7, n1 + n2))
    for k in range(n1):
        for c in range(5):
            out[c, k] = cols_a[c, k]
        out[DUR, k] = durs_a[k]
    for k in range(n2):
        for c in range(5):
            out[c, n1 + k] = cols_b[c, k]
        out[DUR, n1 + k] = durs_b[k]
    return True, out, n1, n2
