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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations, as_screen_size

__all__ = ["MULTIMATCH_DIMENSIONS", "MultiMatchConfig", "multimatch", "multimatch_many"]

MULTIMATCH_DIMENSIONS = ("vector", "direction", "length", "position", "duration")


@dataclass(frozen=True)
class MultiMatchConfig:
    """MultiMatch options (see :func:`multimatch`)."""

    grouping: bool = False
    direction_threshold_deg: float = 0.0
    duration_threshold_ms: float = 0.0
    amplitude_threshold_px: float = 0.0


# --------------------------------------------------------------------------- vectors
def _vectors(fix: np.ndarray) -> dict[str, np.ndarray]:
    x, y = fix[:, 0], fix[:, 1]
    lenx = np.diff(x)
    leny = np.diff(y)
    dur = fix[:, 2] if fix.shape[1] > 2 else np.full(len(fix), np.nan)
    return {
        "x": x[:-1],
        "y": y[:-1],
        "lenx": lenx,
        "leny": leny,
        "rho": np.sqrt(lenx**2 + leny**2),
        "theta": np.arctan2(leny, lenx),
        "dur": dur,
    }


_SAC_KEYS = ("x", "y", "lenx", "leny", "theta", "rho")


def _as_lists(path: dict[str, np.ndarray]) -> dict[str, list[float]]:
    return {k: list(v.tolist()) for k, v in path.items()}


def _merged(lx: float, ly: float) -> tuple[float, float]:
    return float(np.sqrt(lx**2 + ly**2)), float(np.arctan2(ly, lx))


def _angle_deg(ax: float, ay: float, bx: float, by: float) -> float:
    na = float(np.linalg.norm([ax, ay]))
    nb = float(np.linalg.norm([bx, by]))
    if na == 0 or nb == 0:
        return float("nan")  # undefined angle: never merged
    c = float(np.dot([ax, ay], [bx, by])) / (na * nb)
    return math.degrees(math.acos(min(1.0, max(-1.0, c))))


def _simplify_direction(p: dict[str, list[float]], t_dir: float, t_dur: float) -> dict:
    n_sac = len(p["x"])
    if n_sac < 1:
        return p
    out: dict[str, list[float]] = {k: [] for k in (*_SAC_KEYS, "dur")}
    i = 0
    while i <= n_sac - 1:
        if i < n_sac - 1:
            angle = _angle_deg(p["lenx"][i], p["leny"][i], p["lenx"][i + 1], p["leny"][i + 1])
        else:
            angle = float("inf")
        if angle < t_dir and i < n_sac - 1 and p["dur"][i + 1] < t_dur:
            vx = p["lenx"][i] + p["lenx"][i + 1]
            vy = p["leny"][i] + p["leny"][i + 1]
            rho, theta = _merged(vx, vy)
            for k, v in zip(_SAC_KEYS, (p["x"][i], p["y"][i], vx, vy, theta, rho)):
                out[k].append(v)
            out["dur"].append(p["dur"][i])
            i += 2
        else:
            for k in _SAC_KEYS:
                out[k].append(p[k][i])
            out["dur"].append(p["dur"][i])
            i += 1
    out["dur"].append(p["dur"][-1])
    return out


def _simplify_amplitude(p: dict[str, list[float]], t_amp: float, t_dur: float) -> dict:
    n_sac = len(p["x"])
    if n_sac < 1:
        return p
    out: dict[str, list[float]] = {k: [] for k in (*_SAC_KEYS, "dur")}
    i = 0
    while i <= n_sac - 1:
        last = i == n_sac - 1
        if last:
            merge = (
                p["rho"][i] < t_amp
                and (p["dur"][-1] < t_dur or p["dur"][-2] < t_dur)
                and len(out["x"]) > 0  # the reference fails here (IndexError); keep instead
            )
            if merge:
                # Reference behaviour: the previous *kept* saccade is replaced by the sum of
                # the original last two saccades; durations get the one before the last.
                vx = p["lenx"][-2] + p["lenx"][-1]
                vy = p["leny"][-2] + p["leny"][-1]
                rho, theta = _merged(vx, vy)
                out["lenx"][-1], out["leny"][-1] = vx, vy
                out["theta"][-1], out["rho"][-1] = theta, rho
                out["dur"].append(p["dur"][i - 1])
                i += 1
                continue
        elif p["rho"][i] < t_amp and (p["dur"][i + 1] < t_dur or p["dur"][i] < t_dur):
            vx = p["lenx"][i] + p["lenx"][i + 1]
            vy = p["leny"][i] + p["leny"][i + 1]
            rho, theta = _merged(vx, vy)
            for k, v in zip(_SAC_KEYS, (p["x"][i], p["y"][i], vx, vy, theta, rho)):
                out[k].append(v)
            out["dur"].append(p["dur"][i])
            i += 2
            continue
        for k in _SAC_KEYS:
            out[k].append(p[k][i])
        out["dur"].append(p["dur"][i])
        i += 1
    out["dur"].append(p["dur"][-1])
    return out


def _simplify(path: dict[str, np.ndarray], cfg: MultiMatchConfig) -> dict[str, np.ndarray]:
    p = _as_lists(path)
    prev = len(p["dur"])
    while True:
        p = _simplify_direction(p, cfg.direction_threshold_deg, cfg.duration_threshold_ms)
        p = _simplify_amplitude(p, cfg.amplitude_threshold_px, cfg.duration_threshold_ms)
        if len(p["dur"]) == prev:
            break
        prev = len(p["dur"])
    return {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}


# --------------------------------------------------------------------------- alignment
def _dijkstra_path(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference's Dijkstra on its graph (used only to break exact ties identically)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    n, m = cost.shape
    node = np.arange(n * m).reshape(n, m)
    ii, jj = np.divmod(node, m)
    last_i, last_j = ii == n - 1, jj == m - 1
    padded = np.pad(cost, ((0, 1), (0, 1)))
    targets = np.stack([node + 1, node + m, node + m + 1], axis=-1)
    weights = np.stack([padded[ii, jj + 1], padded[ii + 1, jj], padded[ii + 1, jj + 1]], axis=-1)
    # interior nodes: right, down, diagonal; last row: right only; last column: down only
    valid = np.stack([~last_j, ~last_i, ~last_i & ~last_j], axis=-1)
    rows = np.broadcast_to(node[..., None], targets.shape)[valid]
    cols = targets[valid]
    data = weights[valid]
    end = n * m - 1
    rows = np.append(rows, end)
    cols = np.append(cols, end)
    data = np.append(data, 0.0)
    # the corner's 0-weight self loop, last as in the reference
    graph = coo_matrix((data, (rows, cols)), shape=(n * m, n * m)).tocsr()
    _, pred = dijkstra(graph, directed=True, indices=0, return_predecessors=True)
    path = [end]
    while path[-1] != 0:
        path.append(int(pred[path[-1]]))
    path = np.array(path[::-1])
    return path // m, path % m


def _align(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheapest monotone path through ``cost`` from (0, 0) to the far corner."""
    n, m = cost.shape
    rows = cost.tolist()
    dist = [[0.0] * m for _ in range(n)]
    d0, r0 = dist[0], rows[0]
    acc = 0.0
    for j in range(1, m):
        acc = acc + r0[j]
        d0[j] = acc
    for i in range(1, n):
        prev, cur, r = dist[i - 1], dist[i], rows[i]
        cur[0] = prev[0] + r[0]
        left = cur[0]
        for j in range(1, m):
            a = prev[j - 1]
            b = prev[j]
            best = a if a < b else b
            if left < best:
                best = left
            left = best + r[j]
            cur[j] = left
    path_i = [n - 1]
    path_j = [m - 1]
    i, j = n - 1, m - 1
    while i or j:
        if i and j:
            a, b, c = dist[i - 1][j - 1], dist[i - 1][j], dist[i][j - 1]
            best = min(a, b, c)
            if (a == best) + (b == best) + (c == best) > 1:
                return _dijkstra_path(cost)  # exact tie: let the reference graph decide
            if a == best:
                i, j = i - 1, j - 1
            elif b == best:
                i -= 1
            else:
                j -= 1
        elif i:
            i -= 1
        else:
            j -= 1
        path_i.append(i)
        path_j.append(j)
    return np.array(path_i[::-1]), np.array(path_j[::-1])


def _median_rows(values: np.ndarray) -> np.ndarray:
    """Median of each row (NaN-propagating, as ``np.median``)."""
    k = values.shape[1]
    s = np.sort(values, axis=1)
    if k % 2:
        med = s[:, k // 2].copy()
    else:
        med = (s[:, k // 2 - 1] + s[:, k // 2]) / 2
    med[np.isnan(values).any(axis=1)] = np.nan
    return med


def _similarities(
    p1: dict[str, np.ndarray],
    p2: dict[str, np.ndarray],
    i: np.ndarray,
    j: np.ndarray,
    diag: float,
) -> np.ndarray:
    two_pi = 2 * math.pi
    t1 = p1["theta"][i]
    t2 = p2["theta"][j]
    t1 = np.where(t1 < 0, math.pi + (math.pi + t1), t1)
    t2 = np.where(t2 < 0, math.pi + (math.pi + t2), t2)
    ang = np.abs(t1 - t2)
    ang = np.where(ang > math.pi, two_pi - ang, ang)
    d1 = p1["dur"][i]
    d2 = p2["dur"][j]
    with np.errstate(invalid="ignore", divide="ignore"):
        dur = np.abs(d1 - d2) / np.abs(np.maximum(d1, d2))
    diffs = np.stack(
        [
            np.sqrt((p1["lenx"][i] - p2["lenx"][j]) ** 2 + (p1["leny"][i] - p2["leny"][j]) ** 2),
            ang,
            np.abs(p1["rho"][i] - p2["rho"][j]),
            np.sqrt((p1["x"][i] - p2["x"][j]) ** 2 + (p1["y"][i] - p2["y"][j]) ** 2),
            dur,
        ]
    )
    med = _median_rows(diffs)
    return np.array(
        [
            1 - med[0] / (2 * diag),
            1 - med[1] / math.pi,
            1 - med[2] / diag,
            1 - med[3] / diag,
            1 - med[4],
        ]
    )


def _prepare(fix: np.ndarray, cfg: MultiMatchConfig) -> dict[str, np.ndarray]:
    path = _vectors(fix)
    return _simplify(path, cfg) if cfg.grouping else path


_FEATURES = ("x", "y", "lenx", "leny", "theta", "rho", "dur")
_CHUNK_CELLS = 2_000_000


def _align_batch(
    cost: np.ndarray, n: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cheapest monotone paths for many padded cost matrices at once.

    Costs are accumulated along anti-diagonals (stored skewed: one row per diagonal, the
    cell ``(i, d − i)`` at column ``i``) with exactly the per-pair operations (``min`` of the three predecessors,
    then ``+ cost``), so the sums are bitwise those of :func:`_align` and of the
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
    a: np.ndarray, b: np.ndarray, diag: float, cfg: MultiMatchConfig
) -> np.ndarray:
    if len(a) < 3 or len(b) < 3:
        return np.full(5, np.nan)
    p1 = _prepare(a, cfg)
    p2 = _prepare(b, cfg)
    cost = np.sqrt(
        (p1["lenx"][:, None] - p2["lenx"][None, :]) ** 2
        + (p1["leny"][:, None] - p2["leny"][None, :]) ** 2
    )
    i, j = _align(cost)
    return _similarities(p1, p2, i, j, diag)


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
    fa = as_fixations(a, "a")
    fb = as_fixations(b, "b")
    w, h = as_screen_size(screen_size_px)
    cfg = MultiMatchConfig(
        grouping=bool(grouping),
        direction_threshold_deg=float(direction_threshold_deg),
        duration_threshold_ms=float(duration_threshold_ms),
        amplitude_threshold_px=float(amplitude_threshold_px),
    )
    values = _multimatch_arrays(fa, fb, math.sqrt(w**2 + h**2), cfg)
    return dict(zip(MULTIMATCH_DIMENSIONS, values.tolist()))


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
    vectorised alignment (pairs sorted by size and processed ``chunk_size`` at a time).

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
