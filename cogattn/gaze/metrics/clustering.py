"""MeanShift fixation clustering for the sequence score, vectorised and equal to scikit-learn.

The sequence score (Yang et al., CVPR 2020) turns fixations into strings of cluster labels.
Its clustering recipe (maintainer's answer in cvlab-stonybrook/Scanpath_Prediction issue
#24; chenxy99/GazeXplain ``proprecess_TP_SScluster.py``), applied per image–task to all
human fixations ``X``:

1. ``bw = sklearn.cluster.estimate_bandwidth(X)`` (quantile 0.3, all samples);
2. for each factor ``f`` in (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8) fit
   ``sklearn.cluster.MeanShift(bandwidth=f·bw)`` (defaults: every point is a seed, no bin
   seeding, ``cluster_all=True``, ``max_iter=300``);
3. keep the first factor maximising ``(N_between − N_within) / N_clusters``, counting
   consecutive fixation pairs of the human scanpaths whose labels differ / agree;
4. a fixation's symbol is ``MeanShift.predict``: the index of the nearest centre.

scikit-learn runs one Python loop per seed with a tree query per iteration (~9 min for the
326 image–task groups of COCO-Search18 val). :func:`mean_shift` runs the *same* algorithm
with all seeds at once (one distance matrix per iteration) and reproduces each of
scikit-learn's steps: the flat kernel ``‖x − m‖ ≤ bandwidth``, the per-seed stop rule
(shift ≤ 1e-3·bandwidth or ``max_iter`` reached), seeds with no neighbour dropped, centres
keyed by their exact coordinates, sorted by (intensity, coordinates) descending, the greedy
removal of centres within ``bandwidth`` of a stronger one, and nearest-centre labels (first
index on ties). Centres can differ from scikit-learn's in the last bits (summation order of
the means); labels are identical (tested against ``sklearn.cluster.MeanShift``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations

__all__ = [
    "SS_BANDWIDTH_FACTORS",
    "ClusterConfig",
    "FixationClusters",
    "cluster_fixations",
    "estimate_bandwidth",
    "mean_shift",
]

SS_BANDWIDTH_FACTORS = (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8)


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact squared Euclidean distances ``(len(a), len(b))`` (no dot-product expansion)."""
    diff = a[:, None, :] - b[None, :, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def estimate_bandwidth(points: Any, *, quantile: float = 0.3) -> float:
    """Mean-shift bandwidth estimate, equal to ``sklearn.cluster.estimate_bandwidth``.

    The mean over points of the distance to their ``k``-th nearest neighbour (the point
    itself counts as the first), ``k = max(1, int(n·quantile))``; all points are used (as
    scikit-learn does with ``n_samples=None``).

    Parameters
    ----------
    points : array (n, d)
        Points (e.g. fixations in pixels).
    quantile : float
        In [0, 1].

    Returns
    -------
    float
        The bandwidth (0 when more than ``k`` points coincide with every point).
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"points must be a non-empty (n, d) array, got shape {x.shape}")
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile must be in [0, 1], got {quantile}")
    k = max(1, int(x.shape[0] * quantile))
    d = np.sqrt(_sq_dists(x, x))
    kth = np.partition(d, k - 1, axis=1)[:, k - 1]
    return float(kth.sum() / x.shape[0])


def mean_shift(
    points: Any, *, bandwidth: float, max_iter: int = 300
) -> tuple[np.ndarray, np.ndarray]:
    """Flat-kernel mean-shift clustering, equal to ``sklearn.cluster.MeanShift(bandwidth).fit``.

    Every point seeds a hill climb (scikit-learn's default ``bin_seeding=False``); see the
    module docstring for the steps reproduced.

    Parameters
    ----------
    points : array (n, d)
        Points to cluster.
    bandwidth : float
        Kernel radius (>= 0; 0 gives one cluster per distinct point).
    max_iter : int
        Maximum iterations per seed (scikit-learn's default 300).

    Returns
    -------
    centers : array (n_clusters, d)
        Cluster centres in scikit-learn's order (decreasing intensity).
    labels : int array (n,)
        Index of the nearest centre of each point.

    References
    ----------
    Comaniciu & Meer (2002), "Mean shift: a robust approach toward feature space analysis",
    IEEE TPAMI 24(5):603–619.
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"points must be a non-empty (n, d) array, got shape {x.shape}")
    if not (np.isfinite(bandwidth) and bandwidth >= 0):
        raise ValueError(f"bandwidth must be a finite number >= 0, got {bandwidth}")
    radius2 = bandwidth * bandwidth
    stop_thresh = 1e-3 * bandwidth
    means = x.copy()
    counts = np.zeros(len(x), dtype=np.int64)
    done = np.zeros(len(x), dtype=bool)
    iterations = 0
    active = np.arange(len(x))
    while active.size:
        within = _sq_dists(means[active], x) <= radius2
        n_within = within.sum(axis=1)
        empty = n_within == 0
        # A seed with no point in its window stops where it is and is not a centre.
        counts[active[empty]] = 0
        done[active[empty]] = True
        keep = ~empty
        act = active[keep]
        new = (within[keep].astype(np.float64) @ x) / n_within[keep][:, None]
        shift = np.sqrt(((new - means[act]) ** 2).sum(axis=1))
        means[act] = new
        counts[act] = n_within[keep]
        stop = (shift <= stop_thresh) | (iterations == max_iter)
        done[act[stop]] = True
        active = act[~stop]
        iterations += 1
    valid = counts > 0
    if not valid.any():  # cannot happen with every point as a seed; kept for safety
        raise ValueError(f"no point was within bandwidth={bandwidth} of any seed")
    # Centres keyed by their exact coordinates (as scikit-learn's dict); equal keys merge.
    # Later seeds overwrite earlier ones in scikit-learn's dict: keep the last occurrence.
    centres, last = np.unique(means[valid][::-1], axis=0, return_index=True)
    intensity = counts[valid][::-1][last]
    # Sort by (intensity, coordinates) descending, as sorted(..., reverse=True) on tuples.
    order = np.lexsort((*(centres[:, k] for k in range(centres.shape[1] - 1, -1, -1)), intensity))[
        ::-1
    ]
    centres = centres[order]
    close = _sq_dists(centres, centres) <= radius2
    unique = np.ones(len(centres), dtype=bool)
    for i in range(len(centres)):
        if unique[i]:
            unique[close[i]] = False
            unique[i] = True
    centres = centres[unique]
    labels = nearest_centre(x, centres)
    return centres, labels


def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each point (first index on exact ties)."""
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.argmin(_sq_dists(np.asarray(points, dtype=np.float64), centres), axis=1)


@dataclass(frozen=True)
class ClusterConfig:
    """Settings of the sequence-score clustering recipe.

    Attributes
    ----------
    bandwidth_factors : tuple of float
        Multipliers of the estimated bandwidth tried (first best kept).
    quantile : float
        ``estimate_bandwidth`` quantile.
    max_iter : int
        Mean-shift iterations per seed.
    """

    bandwidth_factors: tuple[float, ...] = SS_BANDWIDTH_FACTORS
    quantile: float = 0.3
    max_iter: int = 300


@dataclass(frozen=True)
class FixationClusters:
    """MeanShift clusters of the human fixations of one image–task.

    Attributes
    ----------
    centers : array (n_clusters, 2)
        Cluster centres (x, y px), in scikit-learn's order.
    bandwidth : float
        The bandwidth used (estimated bandwidth × ``factor``).
    factor : float
        The chosen bandwidth factor.
    rates : tuple of float
        ``(N_between − N_within) / N_clusters`` for each factor tried.
    """

    centers: np.ndarray
    bandwidth: float
    factor: float
    rates: tuple[float, ...] = field(default=())

    def labels(self, fixations: Any) -> np.ndarray:
        """Cluster symbol of each fixation (nearest centre; ``MeanShift.predict``)."""
        fix = np.asarray(fixations, dtype=np.float64)
        if fix.ndim != 2 or fix.shape[1] < 2:
            raise ValueError(f"expected an (n, 2) or (n, 3) array, got shape {fix.shape}")
        return nearest_centre(fix[:, :2], self.centers)


def _transition_rate(label_rows: Sequence[np.ndarray], n_clusters: int) -> float:
    n_between = n_within = 0
    for lab in label_rows:
        same = int(np.count_nonzero(lab[1:] == lab[:-1]))
        n_within += same
        n_between += max(len(lab) - 1, 0) - same
    return (n_between - n_within) / n_clusters


def cluster_fixations(
    scanpaths: Sequence[Any], *, config: ClusterConfig | None = None
) -> FixationClusters:
    """The sequence-score clustering recipe on the human scanpaths of one image–task.

    Parameters
    ----------
    scanpaths : sequence of arrays (n_i, 2) or (n_i, 3)
        All human scanpaths of one image and task, x and y in pixels. Every fixation
        (including the initial one) is clustered.
    config : ClusterConfig, optional
        Bandwidth factors, quantile and iterations (defaults: the published recipe).

    Returns
    -------
    FixationClusters
        The chosen clustering; ``labels(fixations)`` gives the strings.

    Notes
    -----
    When the estimated bandwidth is 0 (most fixations coincide) the recipe passes
    ``bandwidth=None`` to scikit-learn, which estimates 0 again; here the bandwidth 0 is
    used directly (one cluster per distinct point), the same result.
    """
    cfg = config or ClusterConfig()
    paths = [as_fixations(s, f"scanpaths[{i}]")[:, :2] for i, s in enumerate(scanpaths)]
    if not paths or sum(len(p) for p in paths) == 0:
        raise ValueError("cluster_fixations needs at least one fixation")
    if not cfg.bandwidth_factors:
        raise ValueError("ClusterConfig.bandwidth_factors must not be empty")
    points = np.concatenate(paths, axis=0)
    base = estimate_bandwidth(points, quantile=cfg.quantile)
    best: tuple[float, np.ndarray, float] | None = None
    rates = []
    for factor in cfg.bandwidth_factors:
        bw = base * factor if base > 0 else 0.0
        centres, labels = mean_shift(points, bandwidth=bw, max_iter=cfg.max_iter)
        splits = np.cumsum([len(p) for p in paths])[:-1]
        rate = _transition_rate(np.split(labels, splits), len(centres))
        rates.append(rate)
        if best is None or rate > best[0]:
            best = (rate, centres, factor)
    assert best is not None
    _, centres, factor = best
    bw = base * factor if base > 0 else 0.0
    return FixationClusters(centers=centres, bandwidth=bw, factor=factor, rates=tuple(rates))
