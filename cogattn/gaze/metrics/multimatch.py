"""MultiMatch scanpath similarity (Jarodzka et al., 2010; Dewhurst et al., 2012).

Equal to the reference implementation multimatch-gaze 0.1.3 (``docomparison``; Wagner et
al., 2019, JOSS 4(33):1525), re-implemented from its published definition:

1. each scanpath of ``n`` fixations becomes ``n − 1`` saccade vectors (start point = the
   fixation, ``(Δx, Δy)`` to the next fixation; the fixation's duration goes with the
   saccade that leaves it);
2. optional simplification (``grouping=True``): consecutive saccades are merged while the
   angle between them is below ``direction_threshold_deg`` and the fixation between them is
   shorter than ``duration_threshold_ms`` (direction pass), and while a saccade is shorter
   than ``amplitude_threshold_px`` and an adjacent fixation is shorter than the duration
   threshold (amplitude pass), alternating until the number of fixations stops changing —
   the reference package's passes are reproduced step for step, quirks included (its last
   amplitude merge replaces the previous kept saccade with the sum of the *original* last
   two saccades);
3. the two vector sequences are aligned by the cheapest monotone path (right, down,
   diagonal moves) through the matrix of vector-difference lengths ``‖v1_i − v2_j‖`` from
   ``(0, 0)`` to ``(n1−1, n2−1)``; the reference solves it with Dijkstra's algorithm, here it
   is a dynamic programme with the same sums, and the same predecessor choice (the reachable
   predecessor with the smallest cost; where two predecessors tie exactly, the path is taken
   from SciPy's Dijkstra on the reference graph so that tie-breaking is identical too);
4. along the path, medians of: vector difference length, angle difference (radians, in
   [0, π]), saccade length difference, start-point distance, and
   ``|d1 − d2| / max(d1, d2)`` of the durations; normalised to similarities
   ``1 − vector/(2·diag)``, ``1 − direction/π``, ``1 − length/diag``,
   ``1 − position/diag``, ``1 − duration`` with ``diag`` the screen diagonal in pixels.

Conventions: every fixation is used (no truncation; the initial fixation included);
scanpaths with fewer than 3 fixations give NaN for all five dimensions (as the reference;
IRL/Gazeformer's wrappers instead pad short scanpaths with ones — not done here); a
scanpath without durations gives NaN for ``duration``; two zero durations give NaN.

Three code paths give bitwise the same values (and the reference's). :func:`multimatch_many`
aligns whole batches of pairs at once, vectorised over pairs along the anti-diagonals of
the cost matrices. :func:`multimatch` (one pair) uses compiled kernels when numba is
installed (the ``fast`` extra; :mod:`._multimatch_numba`, compiled on the first call and
kept in numba's on-disk cache): validation, saccades, simplification, alignment and
similarities in two kernel calls (three with grouping) and one ``np.arctan2``, ~15 µs for
a pair of a few dozen fixations. Without numba it runs the simplification, the dynamic programme (two
rows per sweep) and the similarities on Python floats with a handful of array calls (for
a pair of a few dozen fixations the fixed cost of each array call, not the arithmetic,
sets the time; a wavefront needs ~3 calls per anti-diagonal and is slower than the
Python loop up to several hundred fixations); its time is dominated by the dynamic
programme, ~0.1 µs per cell of the ``n1 × n2`` cost matrix. Pairs whose alignment meets
an exact tie pay for SciPy's Dijkstra on the reference graph (~0.5 ms) on every path.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations, as_screen_size

__all__ = ["MULTIMATCH_DIMENSIONS", "MultiMatchConfig", "multimatch", "multimatch_many"]

# With numba, multimatch_many sends pairs longer than this through the compiled kernels.
# Measured: COCO-Search18 human pairs (~4 fixations, each scanpath shared by many pairs and
# prepared once by the batch) take 14 µs/pair batched vs 28 µs compiled; 36-fixation pairs
# 127 µs batched vs 33 µs compiled.
_COMPILED_MIN_FIXATIONS = 12

MULTIMATCH_DIMENSIONS = ("vector", "direction", "length", "position", "duration")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MultiMatchConfig:
    """MultiMatch options (see :func:`multimatch`)."""

    grouping: bool = False
    direction_threshold_deg: float = 0.0
    duration_threshold_ms: float = 0.0
    amplitude_threshold_px: float = 0.0


_NO_GROUPING = MultiMatchConfig()

# --------------------------------------------------------------------------- vectors
# For the batch, a prepared scanpath is a pair (sac, dur): ``sac`` an array (6, n_saccades)
# with rows x, y (start point, px), lenx, leny (px), rho (px), theta (rad), and ``dur`` all
# fixation durations (n_saccades + 1 entries, or more after the reference's last amplitude
# merge); the single-pair path keeps the same values in Python lists.
_SAC_KEYS = ("x", "y", "lenx", "leny", "rho", "theta")
_LENX, _LENY, _RHO, _THETA = 2, 3, 4, 5


def _saccades(fix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_sac = max(len(fix) - 1, 0)
    sac = np.empty((6, n_sac))
    xy = fix[:, :2].T
    sac[:2] = xy[:, :-1]
    np.subtract(xy[:, 1:], xy[:, :-1], out=sac[2:4])
    sq = sac[2:4] ** 2
    np.sqrt(sq[0] + sq[1], out=sac[_RHO])
    np.arctan2(sac[_LENY], sac[_LENX], out=sac[_THETA])
    dur = fix[:, 2] if fix.shape[1] > 2 else np.full(len(fix), np.nan)
    return sac, dur


def _vectors(fix: np.ndarray) -> dict[str, np.ndarray]:
    sac, dur = _saccades(fix)
    return _as_dict(sac, dur)


def _as_dict(sac: np.ndarray, dur: np.ndarray) -> dict[str, np.ndarray]:
    out = dict(zip(_SAC_KEYS, sac))
    out["dur"] = dur
    return out


# Simplification runs on Python floats (a few dozen saccades: cheaper than array calls),
# with the reference's rounding: sums of saccade vectors, their length as
# ``sqrt(x ** 2 + y ** 2)`` with the C ``pow`` of its NumPy scalars (not ``x * x``, which
# can differ in the last bit) and their angle from ``np.arctan2`` (elementwise, so one
# call on the final saccades gives the reference's scalar results). Whether the angle
# between two saccades is below the threshold is decided from its cosine, computed with
# plain float arithmetic, when the angle is more than this many degrees from the threshold
# (rounding moves it by < 1e-5° even for nearly parallel saccades), and otherwise
# recomputed the reference's way (``np.dot``/``np.linalg.norm``, whose BLAS rounding may
# differ by an ulp), so every merge decision is the reference's.
_ANGLE_MARGIN_DEG = 1e-3


def _angle_deg(ax: float, ay: float, bx: float, by: float) -> float:
    """Angle between two saccades in degrees, computed as the reference does."""
    na = float(np.linalg.norm([ax, ay]))
    nb = float(np.linalg.norm([bx, by]))
    if na == 0 or nb == 0:
        return float("nan")  # undefined angle: never merged
    c = float(np.dot([ax, ay], [bx, by])) / (na * nb)
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


def _cosine_bounds(t_dir: float) -> tuple[float, float]:
    """Cosines above which the angle is surely below ``t_dir`` and below which it surely is
    not (±:data:`_ANGLE_MARGIN_DEG`); in between, :func:`_angle_deg` decides."""
    lo = t_dir - _ANGLE_MARGIN_DEG
    hi = t_dir + _ANGLE_MARGIN_DEG
    surely_below = math.cos(math.radians(lo)) if lo > 0 else math.inf
    surely_not = math.cos(math.radians(hi)) if hi < 180 else -math.inf
    return surely_below, surely_not


def _apply_merges(
    cols: list[list[float]], durs: list[float], merged: list[int]
) -> tuple[list[list[float]], list[float]]:
    """Saccades ``merged`` absorb their successors: vector sum, start point and duration of
    the first. ``cols`` are the lists x, y, lenx, leny, rho; returns new lists (or ``cols``
    itself when nothing merges) and the durations of the saccades (without the last)."""
    n_sac = len(cols[0])
    if not merged:
        return cols, durs[:n_sac]
    x, y, lx, ly, _ = cols
    out = ox, oy, olx, oly, orho = [], [], [], [], []
    out_d: list[float] = []
    start = 0
    for k in merged:
        for o, c in zip(out, cols):
            o += c[start:k]
        out_d += durs[start:k]
        vx = lx[k] + lx[k + 1]
        vy = ly[k] + ly[k + 1]
        ox.append(x[k])
        oy.append(y[k])
        olx.append(vx)
        oly.append(vy)
        orho.append(math.sqrt(vx**2 + vy**2))
        out_d.append(durs[k])
        start = k + 2
    for o, c in zip(out, cols):
        o += c[start:]
    out_d += durs[start:n_sac]
    return list(out), out_d


def _simplify_direction(
    cols: list[list[float]],
    durs: list[float],
    t_dir: float,
    t_dur: float,
    bounds: tuple[float, float],
) -> tuple[list[list[float]], list[float]]:
    """One direction pass: saccade ``i`` absorbs ``i + 1`` when the angle between them is
    below ``t_dir`` and the fixation between them is shorter than ``t_dur`` (left to
    right; a saccade absorbed is not considered again in the pass). ``bounds``:
    :func:`_cosine_bounds` of ``t_dir``."""
    n_sac = len(cols[0])
    if n_sac < 1:
        return cols, durs
    lx, ly = cols[_LENX], cols[_LENY]
    surely_below, surely_not = bounds
    sqrt = math.sqrt
    merged = []
    last = -2
    for k in [k for k, d in enumerate(durs[1:n_sac], 1) if d < t_dur]:
        if k != last + 2:  # saccades k − 1 and k, unless k − 1 was absorbed
            ax, ay, bx, by = lx[k - 1], ly[k - 1], lx[k], ly[k]
            if not (ax or ay) or not (bx or by):
                continue  # a zero-length saccade: no angle (the reference's is NaN)
            norms = sqrt(ax * ax + ay * ay) * sqrt(bx * bx + by * by)
            # (an underflowing norm is left to the exact computation)
            c = (ax * bx + ay * by) / norms if norms else surely_not
            if c > surely_below or (
                c >= surely_not and _angle_deg(ax, ay, bx, by) < t_dir  # (NaN: not merged)
            ):
                merged.append(k - 1)
                last = k - 1
    out, out_d = _apply_merges(cols, durs, merged)
    out_d.append(durs[-1])
    return out, out_d


def _simplify_amplitude(
    cols: list[list[float]], durs: list[float], t_amp: float, t_dur: float
) -> tuple[list[list[float]], list[float]]:
    """One amplitude pass: saccade ``i`` absorbs ``i + 1`` when it is shorter than ``t_amp``
    and one of its fixations is shorter than ``t_dur``; the reference's last-saccade rule
    is kept (the previous kept saccade is replaced by the sum of the original last two
    saccades, and the duration list gets the one before the last)."""
    n_sac = len(cols[0])
    if n_sac < 1:
        return cols, durs
    rho = cols[_RHO]
    merged = []
    last = -2
    # left to right over the saccades next to a short fixation (i leaves fixation i and
    # reaches i + 1); a saccade absorbed by the previous one is skipped
    for k in [k for k, d in enumerate(durs[:n_sac]) if d < t_dur]:
        for i in (k - 1, k):
            if last + 1 < i < n_sac - 1 and rho[i] < t_amp:
                merged.append(i)
                last = i
    last_merge = (
        not (merged and merged[-1] == n_sac - 2)  # the last saccade is reached
        and n_sac > 1  # the reference fails here (IndexError) for one saccade; keep instead
        and rho[-1] < t_amp
        and (durs[-1] < t_dur or durs[-2] < t_dur)
    )
    if last_merge:
        vx = cols[_LENX][-2] + cols[_LENX][-1]
        vy = cols[_LENY][-2] + cols[_LENY][-1]
    out, out_d = _apply_merges(cols, durs, merged)
    if last_merge:
        # the last saccade is dropped, and the previous kept one replaced by the sum of
        # the original last two (its start point kept), as the reference does
        out = [c[:-1] for c in out]
        out[_LENX][-1] = vx
        out[_LENY][-1] = vy
        out[_RHO][-1] = math.sqrt(vx**2 + vy**2)
        out_d[-1] = durs[n_sac - 2]
    out_d.append(durs[-1])
    return out, out_d


def _simplify_lists(
    cols: list[list[float]], durs: list[float], cfg: MultiMatchConfig
) -> tuple[list[list[float]], list[float]]:
    """Alternate direction and amplitude passes until the number of durations is stable
    (``cols``: the lists x, y, lenx, leny, rho of the saccades; ``durs``: all durations)."""
    prev = len(durs)
    bounds = _cosine_bounds(cfg.direction_threshold_deg)
    while True:
        cols, durs = _simplify_direction(
            cols, durs, cfg.direction_threshold_deg, cfg.duration_threshold_ms, bounds
        )
        cols, durs = _simplify_amplitude(
            cols, durs, cfg.amplitude_threshold_px, cfg.duration_threshold_ms
        )
        if len(durs) == prev:
            return cols, durs
        prev = len(durs)


def _simplify(
    sac: np.ndarray, dur: np.ndarray, cfg: MultiMatchConfig
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_simplify_lists` on a prepared scanpath (arrays, as :func:`_saccades`)."""
    cols, durs = _simplify_lists(sac[:5].tolist(), dur.tolist(), cfg)
    n_sac = len(cols[0])
    rows = itertools.chain(*cols, cols[0])  # (row 5, theta, is filled below)
    out = np.fromiter(rows, np.float64, 6 * n_sac).reshape(6, n_sac)
    np.arctan2(out[_LENY], out[_LENX], out=out[_THETA])  # as np.arctan2 of each saccade
    return out, np.array(durs, dtype=np.float64)


def _prepare_arrays(fix: np.ndarray, cfg: MultiMatchConfig) -> tuple[np.ndarray, np.ndarray]:
    sac, dur = _saccades(fix)
    return _simplify(sac, dur, cfg) if cfg.grouping else (sac, dur)


def _prepare(fix: np.ndarray, cfg: MultiMatchConfig) -> dict[str, np.ndarray]:
    return _as_dict(*_prepare_arrays(fix, cfg))


# --------------------------------------------------------------------------- alignment
def _dijkstra_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's Dijkstra on its graph (used only to break exact ties identically).

    The graph is the reference's, in the compressed-row form its ``coo → csr`` conversion
    gives (targets of each node sorted: right, down, diagonal; the far corner's 0-weight
    self loop), so SciPy visits the nodes and picks predecessors in the same order.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n, m = cost.shape
    n_nodes = n * m
    node = np.arange(n_nodes, dtype=np.int32)  # (int32 indices, as the reference's graph)
    not_last_i = node < n_nodes - m
    not_last_j = node % m != m - 1
    # interior nodes: right, down, diagonal; last row: right only; last column: down only
    valid = np.stack([not_last_j, not_last_i, not_last_i & not_last_j], axis=1)
    targets = node[:, None] + np.array([1, m, m + 1], dtype=np.int32)
    counts = valid.sum(axis=1, dtype=np.int32)
    counts[-1] = 1  # the corner's self loop
    indices = np.append(targets[valid], np.int32(n_nodes - 1))
    data = cost.ravel()[indices]  # the weight of an edge is the cost of its target
    data[-1] = 0.0
    indptr = np.zeros(n_nodes + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    graph = csr_matrix((data, indices, indptr), shape=(n_nodes, n_nodes))
    _, pred = dijkstra(graph, directed=True, indices=0, return_predecessors=True)
    pred = pred.tolist()
    path = [n_nodes - 1]
    while path[-1] != 0:
        path.append(pred[path[-1]])
    path = np.array(path[::-1])
    return path // m, path % m


def _cumulative(rows: list[list[float]]) -> list[list[float]]:
    """Cheapest-path cost to every cell, ``min(diagonal, up, left) + cost``, two rows per
    sweep (which halves the loop overhead of plain Python)."""
    prev = [0.0]
    acc = 0.0
    for c in rows[0][1:]:
        acc = acc + c
        prev.append(acc)
    dist = [prev]
    n = len(rows)
    k = 1
    while k + 1 < n:
        r1 = rows[k]
        r2 = rows[k + 1]
        left1 = prev[0] + r1[0]
        left2 = left1 + r2[0]
        cur1 = [left1]
        cur2 = [left2]
        for a, b, c1, c2 in zip(prev, prev[1:], r1[1:], r2[1:]):
            if b < a:
                a = b
            if left1 < a:
                a = left1
            x = a + c1  # row k, this column
            y = left1 if left1 < x else x  # its diagonal and up neighbours in row k + 1
            if left2 < y:
                y = left2
            left1 = x
            left2 = y + c2
            cur1.append(x)  # (list.append called directly is specialised by CPython)
            cur2.append(left2)
        dist.append(cur1)
        dist.append(cur2)
        prev = cur2
        k += 2
    if k < n:
        r = rows[k]
        left = prev[0] + r[0]
        cur = [left]
        for a, b, c in zip(prev, prev[1:], r[1:]):
            if b < a:
                a = b
            if left < a:
                a = left
            left = a + c
            cur.append(left)
        dist.append(cur)
    return dist


def _align(cost: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    """Cheapest monotone path through ``cost`` from (0, 0) to the far corner.

    A dynamic programme over Python floats (for one pair of a few dozen saccades this
    beats a vectorised wavefront, whose per-diagonal array calls dominate); every cell is
    ``min(predecessors) + cost``, bitwise the reference's Dijkstra distances. The path is
    traced back through the smallest predecessor; where two tie exactly, SciPy's Dijkstra
    on the reference graph decides (:func:`_dijkstra_path`). Returns the rows and the
    columns of the path's cells, from (0, 0), and their costs.
    """
    n, m = cost.shape
    transposed = n > m  # the outer loop over the shorter side (fewer rows to set up)
    rows = (cost.T if transposed else cost).tolist()
    dist = _cumulative(rows)
    # trace back: diagonal (i-1, j-1) = a, up (i-1, j) = b, left (i, j-1) = c
    i, j = len(rows) - 1, len(rows[0]) - 1
    path_i = [i]
    path_j = [j]
    here, up = dist[i], dist[i - 1]
    while i and j:
        a, b, c = up[j - 1], up[j], here[j - 1]
        if a < b:
            if a < c:  # diagonal
                i -= 1
                j -= 1
                here, up = up, dist[i - 1]
            elif c < a:  # left
                j -= 1
            else:
                return _tie_path(cost)  # exact tie: let the reference graph decide
        elif b < a:
            if b < c:  # up
                i -= 1
                here, up = up, dist[i - 1]
            elif c < b:
                j -= 1
            else:
                return _tie_path(cost)
        elif c < a:
            j -= 1
        else:
            return _tie_path(cost)
        path_i.append(i)
        path_j.append(j)
    path_i.extend(range(i - 1, -1, -1))
    path_j.extend([0] * i)
    path_j.extend(range(j - 1, -1, -1))
    path_i.extend([0] * j)
    path_i.reverse()
    path_j.reverse()
    costs = [rows[i][j] for i, j in zip(path_i, path_j)]
    if transposed:
        path_i, path_j = path_j, path_i
    return path_i, path_j, costs


def _tie_path(cost: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    path_i, path_j = _dijkstra_path(cost)
    return path_i.tolist(), path_j.tolist(), cost[path_i, path_j].tolist()


def _similarities(
    cols: list[list[float]],
    path_i: list[int],
    path_j: list[int],
    vector: list[float],
    offset: int,
    diag: float,
) -> list[float]:
    """The five similarities along a path, for one pair, with the batch's operations on
    Python floats (cheaper than array calls for a few dozen path cells). ``cols`` are the
    lists x, y, rho, theta, duration of both scanpaths' saccades (the second's from index
    ``offset``); ``vector`` the costs of the path's cells (their vector differences)."""
    x, y, rho, theta, dur = cols
    pi = math.pi
    two_pi = 2 * pi
    sqrt = math.sqrt
    position, direction, length, duration = [], [], [], []
    for i, q in zip(path_i, [offset + j for j in path_j]):
        dx = x[i] - x[q]
        dy = y[i] - y[q]
        position.append(sqrt(dx * dx + dy * dy))
        t1 = theta[i]
        t2 = theta[q]
        if t1 < 0:  # angles in [0, 2π)
            t1 = pi + (pi + t1)
        if t2 < 0:
            t2 = pi + (pi + t2)
        ang = abs(t1 - t2)
        direction.append(two_pi - ang if ang > pi else ang)
        length.append(abs(rho[i] - rho[q]))
        d1 = dur[i]
        d2 = dur[q]
        longer = d1 if d1 > d2 else d2
        # |d1 − d2| / max(d1, d2); 0 / 0 is NaN (as the reference), so are missing durations
        duration.append(abs(d1 - d2) / longer if longer else math.nan)
    k = len(path_i)
    h = k // 2
    med = []
    for values in (vector, direction, length, position, duration):
        values.sort()
        med.append(values[h] if k % 2 else (values[h - 1] + values[h]) / 2)
    if any(v != v for v in duration):  # a NaN makes the median NaN (np.median)
        med[4] = math.nan
    return [
        1 - med[0] / (2 * diag),
        1 - med[1] / pi,
        1 - med[2] / diag,
        1 - med[3] / diag,
        1 - med[4],
    ]


_FEATURES = ("x", "y", "lenx", "leny", "theta", "rho", "dur")
_CHUNK_CELLS = 2_000_000


def _align_batch(
    cost: np.ndarray, n: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cheapest monotone paths for many padded cost matrices at once.

    Costs are accumulated along anti-diagonals (stored skewed: one row per diagonal, the
    cell ``(i, d − i)`` at column ``i``) with exactly the per-pair operations (``min`` of
    the three predecessors, then ``+ cost``), so the sums are bitwise those of :func:`_align` and of the
    reference's Dijkstra; the predecessor preference (diagonal, up, left) is the same too.

    Returns
    -------
    path_i, path_j : int arrays (P, K)
        Path cells from (0, 0) to (n−1, m−1), left-aligned, padded with 0.
    length : int array (P,)
        Number of cells on each path.
    tie : bool array (P,)
        Pairs whose path met an exact tie (resolved afterwards by the reference graph).
    """
    n_pairs, rows, cols = cost.shape
    n_diag = rows + cols - 1
    inf = np.inf
    # skewed costs: skew[d, p, i] = cost[p, i, d - i] (inf outside the matrix)
    d_idx = np.arange(n_diag)[:, None]
    i_idx = np.arange(rows)[None, :]
    j_idx = d_idx - i_idx
    inside = (j_idx >= 0) & (j_idx < cols)
    skew = np.full((n_diag, n_pairs, rows), inf)
    di, ii = np.nonzero(inside)
    skew[di, :, ii] = cost[:, ii, j_idx[di, ii]].T
    # acc[D, p, c] = accumulated cost of cell (c - 1, D - 1 - (c - 1)); D = 0 and c = 0 are
    # inf padding so that every predecessor is a plain (contiguous) slice
    width = rows + 1
    acc = np.full((n_diag + 1, n_pairs, width), inf)
    acc[1, :, 1] = 0.0
    tmp = np.empty((n_pairs, rows))
    for d in range(1, n_diag):
        big = d + 1
        np.minimum(acc[big - 2, :, :-1], acc[big - 1, :, :-1], out=tmp)  # diagonal, up
        np.minimum(tmp, acc[big - 1, :, 1:], out=tmp)  # left
        np.add(tmp, skew[d], out=acc[big, :, 1:])
    flat = acc.ravel()
    # backtrack from (n-1, m-1), preferring diagonal, then up, then left (as _align)
    pairs = np.arange(n_pairs)
    d = (n - 1) + (m - 1)
    i = n - 1
    path_i = [i]
    path_d = [d]
    tie = np.zeros(n_pairs, dtype=bool)
    active = d > 0
    while active.any():
        base_prev = ((d - 1) * n_pairs + pairs) * width  # diagonal d-2 (padded index d-1)
        base = (d * n_pairs + pairs) * width  # diagonal d-1 (padded index d)
        a = np.take(flat, np.maximum(base_prev, 0) + i)  # (i-1, j-1)
        b = np.take(flat, base + i)  # (i-1, j)
        c = np.take(flat, base + i + 1)  # (i, j-1)
        best = np.minimum(np.minimum(a, b), c)
        is_a = a == best
        is_b = b == best
        tie |= active & ((is_a.astype(np.int8) + is_b + (c == best)) > 1)
        d = np.where(active, d - np.where(is_a, 2, 1), d)
        i = np.where(active & (is_a | is_b), i - 1, i)
        path_i.append(np.where(active, i, -1))
        path_d.append(np.where(active, d, -1))
        active = d > 0
    pi = np.stack(path_i, axis=1)[:, ::-1]
    pd = np.stack(path_d, axis=1)[:, ::-1]
    length = (pi >= 0).sum(axis=1)
    k = pi.shape[1]
    idx = (np.arange(k)[None, :] + (k - length)[:, None]) % k  # left-align
    pi = np.take_along_axis(pi, idx, axis=1)
    pd = np.take_along_axis(pd, idx, axis=1)
    valid = np.arange(k)[None, :] < length[:, None]
    return np.where(valid, pi, 0), np.where(valid, pd - pi, 0), length, tie


def _pad_table(paths: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Stack prepared paths into zero-padded feature tables ``(n_paths, max_saccades)``."""
    n_sac = np.array([len(p["x"]) for p in paths], dtype=np.int64)
    width = max(int(n_sac.max(initial=0)), 1)
    table = {}
    for key in _FEATURES:
        out = np.zeros((len(paths), width))
        for k, p in enumerate(paths):
            v = p[key][:width]
            out[k, : len(v)] = v
        table[key] = out
    return table, n_sac


def _similarities_batch(
    f1: dict[str, np.ndarray],
    f2: dict[str, np.ndarray],
    path_i: np.ndarray,
    path_j: np.ndarray,
    length: np.ndarray,
    diag: np.ndarray,
) -> np.ndarray:
    rows = np.arange(path_i.shape[0])[:, None]
    valid = np.arange(path_i.shape[1])[None, :] < length[:, None]

    def g1(key: str) -> np.ndarray:
        return f1[key][rows, path_i]

    def g2(key: str) -> np.ndarray:
        return f2[key][rows, path_j]

    t1, t2 = g1("theta"), g2("theta")
    t1 = np.where(t1 < 0, math.pi + (math.pi + t1), t1)
    t2 = np.where(t2 < 0, math.pi + (math.pi + t2), t2)
    ang = np.abs(t1 - t2)
    ang = np.where(ang > math.pi, 2 * math.pi - ang, ang)
    d1, d2 = g1("dur"), g2("dur")
    with np.errstate(invalid="ignore", divide="ignore"):
        dur = np.abs(d1 - d2) / np.abs(np.maximum(d1, d2))
    diffs = np.stack(
        [
            np.sqrt((g1("lenx") - g2("lenx")) ** 2 + (g1("leny") - g2("leny")) ** 2),
            ang,
            np.abs(g1("rho") - g2("rho")),
            np.sqrt((g1("x") - g2("x")) ** 2 + (g1("y") - g2("y")) ** 2),
            dur,
        ]
    )  # (5, P, K)
    has_nan = (np.isnan(diffs) & valid).any(axis=2)
    s = np.sort(np.where(valid, np.nan_to_num(diffs, nan=0.0), np.inf), axis=2)
    half = length // 2
    hi = np.take_along_axis(s, np.broadcast_to(half[None, :, None], (5, len(length), 1)), 2)[..., 0]
    lo_idx = np.maximum(half - 1, 0)
    lo = np.take_along_axis(s, np.broadcast_to(lo_idx[None, :, None], (5, len(length), 1)), 2)[
        ..., 0
    ]
    med = np.where(length % 2 == 1, hi, (lo + hi) / 2)
    med[has_nan] = np.nan
    return np.stack(
        [
            1 - med[0] / (2 * diag),
            1 - med[1] / math.pi,
            1 - med[2] / diag,
            1 - med[3] / diag,
            1 - med[4],
        ],
        axis=1,
    )


def _multimatch_padded(
    f1: dict[str, np.ndarray],
    f2: dict[str, np.ndarray],
    n: np.ndarray,
    m: np.ndarray,
    diag: np.ndarray,
) -> np.ndarray:
    """MultiMatch of padded saccade features ``(P, S)`` with ``n``/``m`` saccades per pair."""
    cost = np.sqrt(
        (f1["lenx"][:, :, None] - f2["lenx"][:, None, :]) ** 2
        + (f1["leny"][:, :, None] - f2["leny"][:, None, :]) ** 2
    )
    path_i, path_j, length, tie = _align_batch(cost, n, m)
    for k in np.flatnonzero(tie):  # exact ties: take the reference graph's path
        ti, tj = _dijkstra_path(cost[k, : n[k], : m[k]])
        if len(ti) > path_i.shape[1]:
            extra = len(ti) - path_i.shape[1]
            path_i = np.pad(path_i, ((0, 0), (0, extra)))
            path_j = np.pad(path_j, ((0, 0), (0, extra)))
        path_i[k] = 0
        path_j[k] = 0
        path_i[k, : len(ti)] = ti
        path_j[k, : len(tj)] = tj
        length[k] = len(ti)
    return _similarities_batch(f1, f2, path_i, path_j, length, diag)


def _multimatch_arrays(
    a: np.ndarray,
    b: np.ndarray,
    diag: float,
    cfg: MultiMatchConfig,
    columns_a: list[list[float]] | None = None,
    columns_b: list[list[float]] | None = None,
) -> list[float]:
    """MultiMatch of one pair of validated scanpaths (the single-pair path).

    Saccades are computed with a few array calls, then simplified, aligned and compared on
    Python floats (for a pair of a few dozen fixations the overhead of array calls, not
    the arithmetic, sets the time); ``columns_a``/``columns_b``: ``a.T.tolist()`` and
    ``b.T.tolist()`` if known.
    """
    n_a, n_b = len(a), len(b)
    if n_a < 3 or n_b < 3:
        return [math.nan] * 5
    x_a, y_a, *dur_a = a.T.tolist() if columns_a is None else columns_a
    x_b, y_b, *dur_b = b.T.tolist() if columns_b is None else columns_b
    dur_a = dur_a[0] if dur_a else [math.nan] * n_a
    dur_b = dur_b[0] if dur_b else [math.nan] * n_b
    # saccades of both scanpaths together: a's at [0, n_a − 1), b's from n_a (the one
    # between them is not a saccade); rows lenx, leny, rho, theta (contiguous, as in the
    # batch: every value is bitwise the batch's and the reference's)
    xy = np.concatenate((a[:, :2], b[:, :2]))
    sac = np.empty((4, n_a + n_b - 1))
    np.subtract(xy[1:].T, xy[:-1].T, out=sac[:2])
    sq = sac[:2] ** 2
    np.sqrt(np.add(sq[0], sq[1], out=sac[2]), out=sac[2])
    np.arctan2(sac[1], sac[0], out=sac[3])
    lx, ly, rho, theta = sac.tolist()
    x = x_a + x_b
    y = y_a + y_b
    if cfg.grouping:
        s1 = slice(0, n_a - 1)
        s2 = slice(n_a, n_a + n_b - 1)
        c1, d1 = _simplify_lists([x[s1], y[s1], lx[s1], ly[s1], rho[s1]], dur_a, cfg)
        c2, d2 = _simplify_lists([x[s2], y[s2], lx[s2], ly[s2], rho[s2]], dur_b, cfg)
        n1 = offset = len(c1[0])
        x, y, lx, ly, rho = (u + v for u, v in zip(c1, c2))
        dur = d1[:n1] + d2
        sac = np.array([lx, ly])
        theta = np.arctan2(sac[1], sac[0]).tolist()  # elementwise: the reference's values
    else:
        n1 = n_a - 1
        offset = n_a
        dur = dur_a + dur_b
    d = sac[:2, :n1, None] - sac[:2, None, offset:]
    np.multiply(d, d, out=d)
    cost = np.add(d[0], d[1])
    np.sqrt(cost, out=cost)
    path_i, path_j, vector = _align(cost)
    return _similarities([x, y, rho, theta, dur], path_i, path_j, vector, offset, diag)


# --------------------------------------------------------------------------- compiled
@functools.cache
def _compiled_kernels() -> ModuleType | None:
    """The numba kernels of the single pair (:mod:`._multimatch_numba`; importing it
    compiles them, or loads them from numba's cache), or ``None`` when numba is not
    installed: then the pure-Python path is used (one debug message)."""
    try:
        from cogattn.gaze.metrics import _multimatch_numba
    except ImportError as err:  # numba missing (or unusable with this NumPy)
        logger.debug(
            "MultiMatch: numba unavailable (%s); single pairs use the pure-Python alignment "
            "(install the 'fast' extra for the compiled one)",
            err,
        )
        return None
    return _multimatch_numba


def _is_table(value: Any) -> bool:
    """Whether ``value`` can go to the kernels as is (they check finiteness and durations)."""
    return (
        type(value) is np.ndarray
        and value.ndim == 2
        and value.dtype == np.float64  # (native byte order)
        and value.shape[1] in (2, 3)
        and value.flags.aligned
    )


def _multimatch_compiled(
    kernels: ModuleType, a: Any, b: Any, diag: float, cfg: MultiMatchConfig
) -> list[float]:
    """MultiMatch of one pair with the compiled kernels (bitwise the Python path).

    One kernel validates both scanpaths and fills their saccade table, one simplifies
    them (grouping), ``np.arctan2`` adds the angles, and one kernel aligns (cost table,
    dynamic programme, trace-back) and computes the similarities. Two rare cases go back
    to the Python path's tools, as there: a merge decision whose angle is within
    :data:`_ANGLE_MARGIN_DEG` of the threshold (the Python simplification, which asks
    NumPy/BLAS as the reference does), and an exact tie in the trace-back (SciPy's
    Dijkstra on the reference graph).
    """
    fa = a if _is_table(a) else np.require(as_fixations(a, "a"), requirements="A")
    fb = b if _is_table(b) else np.require(as_fixations(b, "b"), requirements="A")
    n_a, n_b = len(fa), len(fb)
    feat = np.empty((7, n_a + n_b))
    if kernels.fill_features(fa, fb, feat):  # not finite, or a negative duration
        as_fixations(fa, "a")  # (raises the error that names the value)
        as_fixations(fb, "b")
    if n_a < 3 or n_b < 3:
        return [math.nan] * 5
    if cfg.grouping:
        surely_below, surely_not = _cosine_bounds(cfg.direction_threshold_deg)
        decided, grouped, n1, n2 = kernels.group_pair(
            feat,
            n_a,
            n_b,
            cfg.duration_threshold_ms,
            cfg.amplitude_threshold_px,
            surely_below,
            surely_not,
            2.0,  # (the exponent of x ** 2, passed at run time: see the kernel)
        )
        if decided:
            feat = grouped
            offset = n1
        else:  # an angle too close to the threshold: the Python simplification decides
            feat, n1, n2 = _group_lists(feat, n_a, n_b, cfg)
            offset = n1
    else:
        n1, offset, n2 = n_a - 1, n_a, n_b - 1
    np.arctan2(feat[3], feat[2], feat[5])  # elementwise: the reference's angles
    tie, *values = kernels.compare(feat, n1, offset, n2, diag)
    if tie:  # exact tie in the trace-back: the reference graph's path
        sac = feat[2:4]
        d = sac[:, :n1, None] - sac[:, None, offset : offset + n2]
        np.multiply(d, d, out=d)
        cost = np.add(d[0], d[1])
        np.sqrt(cost, out=cost)
        path_i, path_j = _dijkstra_path(cost)
        values = kernels.similarities(
            feat, offset, path_i.astype(np.int64), path_j.astype(np.int64), diag
        )
    return list(values)


def _group_lists(
    feat: np.ndarray, n_a: int, n_b: int, cfg: MultiMatchConfig
) -> tuple[np.ndarray, int, int]:
    """The Python simplification of both scanpaths of a feature table (as the kernels'
    ``fill_features``); returns the simplified table and the saccade counts."""
    x, y, lx, ly, rho, _, dur = feat.tolist()
    s1 = slice(0, n_a - 1)
    s2 = slice(n_a, n_a + n_b - 1)
    c1, d1 = _simplify_lists([x[s1], y[s1], lx[s1], ly[s1], rho[s1]], dur[:n_a], cfg)
    c2, d2 = _simplify_lists([x[s2], y[s2], lx[s2], ly[s2], rho[s2]], dur[n_a:], cfg)
    n1 = len(c1[0])
    n2 = len(c2[0])
    x, y, lx, ly, rho = (u + v for u, v in zip(c1, c2))
    # (row 5, theta, is filled by the caller)
    return np.array([x, y, lx, ly, rho, lx, d1[:n1] + d2[:n2]]), n1, n2


def _fast_columns(value: Any) -> list[list[float]] | None:
    """``value.T.tolist()`` when ``value`` is a float array that :func:`as_fixations`
    returns unchanged (finite values, durations ≥ 0), checked cheaply; ``None`` means:
    ask :func:`as_fixations`."""
    if not (
        type(value) is np.ndarray
        and value.dtype.type is np.float64
        and value.ndim == 2
        and value.shape[1] in (2, 3)
        and len(value)
    ):
        return None
    columns = value.T.tolist()
    # a sum of Python floats is finite iff every value is (or it overflowed: ask then)
    if math.isfinite(sum(map(sum, columns))) and (len(columns) == 2 or min(columns[2]) >= 0):
        return columns
    return None


def multimatch(
    a: Any,
    b: Any,
    *,
    screen_size_px: tuple[float, float],
    grouping: bool = False,
    direction_threshold_deg: float = 0.0,
    duration_threshold_ms: float = 0.0,
    amplitude_threshold_px: float = 0.0,
) -> dict[str, float]:
    """MultiMatch similarity of two scanpaths on five dimensions.

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths: x px, y px[, duration ms]. All fixations are used.
    screen_size_px : (width, height)
        Screen/image size in pixels; its diagonal normalises vector, length and position.
    grouping : bool
        Simplify the scanpaths first (merge small or collinear consecutive saccades).
    direction_threshold_deg, duration_threshold_ms, amplitude_threshold_px : float
        Simplification thresholds (multimatch-gaze's ``TDir``, ``TDur`` — there in the
        unit of the durations, here ms — and ``TAmp``); used only with ``grouping``.

    Returns
    -------
    dict
        ``{"vector", "direction", "length", "position", "duration"}``, each in [0, 1]
        (1 = identical). All NaN when either scanpath has fewer than 3 fixations;
        ``duration`` is NaN when either scanpath has no duration column.

    Notes
    -----
    With numba installed (``pip install cogattn[fast]``) the pair is compared by compiled
    kernels, ~15–20 µs for scanpaths of a few dozen fixations (~250× multimatch-gaze);
    the first call of a session loads them from numba's cache (~0.5 s), or compiles them
    once (~7 s). Without numba a pure-Python path gives the same values bitwise
    (~0.25 ms, ~15×). For many pairs, :func:`multimatch_many`.

    References
    ----------
    Jarodzka, Holmqvist & Nyström (2010), ETRA; Dewhurst et al. (2012), Behav. Res.
    Methods 44:1079–1100; Wagner et al. (2019), multimatch-gaze, JOSS 4(33):1525.

    Examples
    --------
    >>> a = [[100, 100, 200], [300, 120, 250], [320, 300, 180], [500, 310, 220]]
    >>> mm = multimatch(a, a, screen_size_px=(640, 480))
    >>> [round(v, 6) for v in mm.values()]
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if (
        type(screen_size_px) is tuple
        and len(screen_size_px) == 2
        and all(type(v) in (int, float) and 0 < v < math.inf for v in screen_size_px)
    ):
        w, h = screen_size_px  # (the common case; as_screen_size checks anything else)
    else:
        w, h = as_screen_size(screen_size_px)
    cfg = (
        MultiMatchConfig(
            grouping=True,
            direction_threshold_deg=float(direction_threshold_deg),
            duration_threshold_ms=float(duration_threshold_ms),
            amplitude_threshold_px=float(amplitude_threshold_px),
        )
        if grouping
        else _NO_GROUPING  # (the thresholds are not used)
    )
    diag = math.sqrt(w**2 + h**2)
    kernels = _compiled_kernels()
    if kernels is not None:
        values = _multimatch_compiled(kernels, a, b, diag, cfg)
    else:
        columns_a = _fast_columns(a)
        columns_b = _fast_columns(b)
        fa = a if columns_a is not None else as_fixations(a, "a")
        fb = b if columns_b is not None else as_fixations(b, "b")
        values = _multimatch_arrays(fa, fb, diag, cfg, columns_a, columns_b)
    return dict(zip(MULTIMATCH_DIMENSIONS, values))


def multimatch_many(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    *,
    screen_size_px: tuple[float, float] | np.ndarray,
    config: MultiMatchConfig | None = None,
    chunk_size: int = 1024,
) -> np.ndarray:
    """MultiMatch for many scanpath pairs at once; returns an array ``(n_pairs, 5)``.

    The same values as :func:`multimatch` on each pair (columns in
    ``MULTIMATCH_DIMENSIONS`` order), computed for whole batches of pairs with one
    vectorised alignment (pairs sorted by size, ``chunk_size`` at a time); with numba
    installed, pairs longer than ``_COMPILED_MIN_FIXATIONS`` fixations go through the
    compiled single-pair kernels instead, which are faster there.

    Parameters
    ----------
    pairs : list of (array, array)
        Scanpath pairs, each ``(n, 2)`` or ``(n, 3)`` (x px, y px[, duration ms]).
    screen_size_px : (width, height) or array (n_pairs, 2)
        One screen size for all pairs or one per pair.
    config : MultiMatchConfig, optional
        Grouping and thresholds (default: no grouping).
    chunk_size : int
        Pairs per vectorised batch (memory ~ chunk_size × longest² × 8 bytes × 3).
    """
    cfg = config or MultiMatchConfig()
    sizes = np.broadcast_to(np.asarray(screen_size_px, dtype=np.float64), (len(pairs), 2))
    kernels = _compiled_kernels()
    if kernels is None:
        return _multimatch_many_batched(pairs, sizes, cfg, chunk_size)
    # Long pairs go through the compiled single-pair kernels; short ones (where per-call
    # overhead dominates) through the vectorised batch, which is faster there.
    out = np.full((len(pairs), 5), np.nan)
    is_long = np.array(
        [max(len(a), len(b)) > _COMPILED_MIN_FIXATIONS for a, b in pairs], dtype=bool
    )
    diags = np.sqrt(sizes[:, 0] ** 2 + sizes[:, 1] ** 2)
    for k in np.flatnonzero(is_long):
        a, b = pairs[k]
        fa = as_fixations(a, f"pairs[{k}][0]")
        fb = as_fixations(b, f"pairs[{k}][1]")
        out[k] = _multimatch_compiled(kernels, fa, fb, float(diags[k]), cfg)
    short = np.flatnonzero(~is_long)
    if short.size:
        out[short] = _multimatch_many_batched(
            [pairs[k] for k in short], sizes[short], cfg, chunk_size
        )
    return out


def _multimatch_many_batched(
    pairs: list[tuple[Any, Any]], sizes: np.ndarray, cfg: MultiMatchConfig, chunk_size: int
) -> np.ndarray:
    """The vectorised batch path of :func:`multimatch_many` (no compiled kernels)."""
    diags = np.sqrt(sizes[:, 0] ** 2 + sizes[:, 1] ** 2)
    out = np.full((len(pairs), 5), np.nan)
    # prepare every distinct scanpath once (pairs usually share them)
    index: dict[int, int] = {}
    arrays: list[np.ndarray] = []
    ia = np.empty(len(pairs), dtype=np.int64)
    ib = np.empty(len(pairs), dtype=np.int64)
    for k, (a, b) in enumerate(pairs):
        for side, arr, dest in ((0, a, ia), (1, b, ib)):
            key = id(arr)
            if key not in index:
                index[key] = len(arrays)
                arrays.append(as_fixations(arr, f"pairs[{k}][{side}]"))
            dest[k] = index[key]
    n_fix = np.array([len(a) for a in arrays], dtype=np.int64)
    long_enough = n_fix >= 3
    prepared = [_prepare(a, cfg) if ok else _vectors(a[:0]) for a, ok in zip(arrays, long_enough)]
    if not prepared:
        return out
    table, n_sac = _pad_table(prepared)
    todo = np.flatnonzero(long_enough[ia] & long_enough[ib])
    size = np.maximum(n_sac[ia[todo]], n_sac[ib[todo]])
    todo = todo[np.lexsort((n_sac[ia[todo]], size))]
    size = np.maximum(n_sac[ia[todo]], n_sac[ib[todo]])
    # consecutive chunks of the size-sorted pairs: at most chunk_size pairs and about
    # _CHUNK_CELLS padded cells each (few, large batches: the cost is per anti-diagonal)
    start = 0
    while start < len(todo):
        stop = start + 1
        while (
            stop < len(todo)
            and stop - start < chunk_size
            and (stop + 1 - start) * int(size[stop]) ** 2 <= _CHUNK_CELLS
        ):
            stop += 1
        sel = todo[start:stop]
        n = n_sac[ia[sel]]
        m = n_sac[ib[sel]]
        f1 = {k: v[ia[sel], : n.max()] for k, v in table.items()}
        f2 = {k: v[ib[sel], : m.max()] for k, v in table.items()}
        out[sel] = _multimatch_padded(f1, f2, n, m, diags[sel])
        start = stop
    return out
