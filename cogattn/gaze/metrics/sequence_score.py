"""Sequence score (SS), its duration variant, and the semantic sequence score (SemSS).

Definitions (Yang et al., CVPR 2020, IRL ``metrics.compute_SS``; Mondal et al., CVPR 2023,
Gazeformer ``metrics.py``):

- **SS**: fixations become the symbols of the MeanShift clusters of the human fixations of
  the same image and task (:func:`cogattn.gaze.metrics.cluster_fixations`); both strings
  are truncated to ``max_fixations`` (7 in Gazeformer, 6 in IRL/HAT; the initial fixation
  counts as the first); score = Needleman–Wunsch with 1 for a match, 0 for a mismatch and
  gap 0, divided by the longer (truncated) length.
- **SS with duration**: after truncation each symbol is repeated ``int(duration /
  tempbin_ms)`` times (50 ms bins; a fixation shorter than one bin disappears), then the
  same score (divided by the longer expanded length).
- **SemSS**: symbols are the labels of a segmentation map at the fixated pixel
  ``seg[int(y), int(x)]`` (COCO panoptic categories in Gazeformer), same score.

Scores are in [0, 1], symmetric in their two arguments, 1 for identical strings; NaN when
both strings are empty (e.g. every fixation shorter than one time bin).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations, check_positive_int
from cogattn.gaze.metrics.alignment import nw_similarity
from cogattn.gaze.metrics.clustering import FixationClusters, nearest_centre

__all__ = [
    "cluster_string",
    "expand_by_duration",
    "segmentation_string",
    "semantic_sequence_score",
    "semantic_sequence_score_with_duration",
    "sequence_score",
    "sequence_score_with_duration",
]


def _centres(clusters: Any) -> np.ndarray:
    if isinstance(clusters, FixationClusters):
        return clusters.centers
    centres = np.asarray(clusters, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
        raise ValueError(
            "clusters must be a FixationClusters (cogattn.gaze.metrics.cluster_fixations) or "
            f"an (n_clusters, 2) array of centres in px, got shape {centres.shape}"
        )
    return centres


def cluster_string(fixations: Any, clusters: Any) -> np.ndarray:
    """Cluster label (nearest centre, as ``MeanShift.predict``) of every fixation."""
    fix = as_fixations(fixations, "fixations")
    return nearest_centre(fix[:, :2], _centres(clusters))


def expand_by_duration(
    symbols: np.ndarray, duration_ms: np.ndarray, *, tempbin_ms: float
) -> np.ndarray:
    """Repeat each symbol ``int(duration_ms / tempbin_ms)`` times (Gazeformer's rule)."""
    if not tempbin_ms > 0:
        raise ValueError(f"tempbin_ms must be > 0, got {tempbin_ms}")
    counts = (np.asarray(duration_ms, dtype=np.float64) / tempbin_ms).astype(np.int64)
    return np.repeat(np.asarray(symbols), counts)


def _truncate(arr: np.ndarray, max_fixations: int | None) -> np.ndarray:
    return arr if max_fixations is None else arr[:max_fixations]


def sequence_score(a: Any, b: Any, *, clusters: Any, max_fixations: int | None = 7) -> float:
    """Sequence score of two scanpaths on one image (Yang et al., 2020).

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths (x px, y px[, duration ms]) in the coordinates of the clusters.
    clusters : FixationClusters or array (n_clusters, 2)
        Clusters of the human fixations of this image and task, from
        :func:`cogattn.gaze.metrics.cluster_fixations` (the published recipe).
    max_fixations : int or None
        Truncate both strings to this many fixations (initial fixation included;
        Gazeformer uses 7, IRL/HAT 6). ``None``: no truncation.

    Returns
    -------
    float
        In [0, 1]; 1 for identical strings; NaN when both scanpaths are empty.

    Examples
    --------
    >>> centres = [[10.0, 10.0], [90.0, 10.0], [50.0, 80.0]]
    >>> a = [[12, 9], [88, 12], [51, 79]]
    >>> b = [[11, 11], [49, 81]]  # same first and last regions, skips the middle one
    >>> sequence_score(a, b, clusters=centres)
    0.6666666666666666
    """
    max_fixations = check_positive_int("max_fixations", max_fixations, allow_none=True)
    sa = _truncate(cluster_string(a, clusters), max_fixations)
    sb = _truncate(cluster_string(b, clusters), max_fixations)
    return nw_similarity(sa, sb)


def sequence_score_with_duration(
    a: Any,
    b: Any,
    *,
    clusters: Any,
    max_fixations: int | None = 7,
    tempbin_ms: float = 50.0,
) -> float:
    """Sequence score with durations: symbols repeated per ``tempbin_ms`` bin (Gazeformer).

    Both scanpaths need a duration column (``(n, 3)`` arrays). Truncation to
    ``max_fixations`` happens before the expansion. See :func:`sequence_score`.
    """
    max_fixations = check_positive_int("max_fixations", max_fixations, allow_none=True)
    fa = _truncate(as_fixations(a, "a", need_duration=True), max_fixations)
    fb = _truncate(as_fixations(b, "b", need_duration=True), max_fixations)
    centres = _centres(clusters)
    sa = expand_by_duration(nearest_centre(fa[:, :2], centres), fa[:, 2], tempbin_ms=tempbin_ms)
    sb = expand_by_duration(nearest_centre(fb[:, :2], centres), fb[:, 2], tempbin_ms=tempbin_ms)
    return nw_similarity(sa, sb)


def segmentation_string(fixations: Any, segmentation_map: Any) -> np.ndarray:
    """Label ``segmentation_map[int(y), int(x)]`` at every fixation.

    Coordinates are pixels of the map (origin top-left). A fixation exactly on the right or
    bottom edge (``x == width``) takes the last column/row; beyond the map raises.
    """
    fix = as_fixations(fixations, "fixations")
    seg = np.asarray(segmentation_map)
    if seg.ndim != 2:
        raise ValueError(
            f"segmentation_map must be a 2-D label image (H, W), got shape {seg.shape}"
        )
    h, w = seg.shape
    x, y = fix[:, 0], fix[:, 1]
    outside = (x < 0) | (x > w) | (y < 0) | (y > h)
    if outside.any():
        k = int(np.argmax(outside))
        raise ValueError(
            f"fixation {k} at ({x[k]:g}, {y[k]:g}) px lies outside the segmentation map "
            f"({w} x {h} px); rescale the scanpath to the map size"
        )
    col = np.minimum(x.astype(np.int64), w - 1)
    row = np.minimum(y.astype(np.int64), h - 1)
    return seg[row, col]


def semantic_sequence_score(
    a: Any, b: Any, *, segmentation_map: Any, max_fixations: int | None = 7
) -> float:
    """Semantic sequence score: NW 0/1 on segmentation labels (Gazeformer, SemSS).

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths in pixels of ``segmentation_map``.
    segmentation_map : array (H, W)
        Label per pixel (e.g. COCO panoptic category ids).
    max_fixations : int or None
        Truncation length (7 in Gazeformer).

    Returns
    -------
    float
        In [0, 1]; NaN when both scanpaths are empty.
    """
    max_fixations = check_positive_int("max_fixations", max_fixations, allow_none=True)
    sa = _truncate(segmentation_string(a, segmentation_map), max_fixations)
    sb = _truncate(segmentation_string(b, segmentation_map), max_fixations)
    return nw_similarity(sa, sb)


def semantic_sequence_score_with_duration(
    a: Any,
    b: Any,
    *,
    segmentation_map: Any,
    max_fixations: int | None = 7,
    tempbin_ms: float = 50.0,
) -> float:
    """:func:`semantic_sequence_score` with symbols repeated per ``tempbin_ms`` bin."""
    max_fixations = check_positive_int("max_fixations", max_fixations, allow_none=True)
    fa = _truncate(as_fixations(a, "a", need_duration=True), max_fixations)
    fb = _truncate(as_fixations(b, "b", need_duration=True), max_fixations)
    sa = expand_by_duration(
        segmentation_string(fa, segmentation_map), fa[:, 2], tempbin_ms=tempbin_ms
    )
    sb = expand_by_duration(
        segmentation_string(fb, segmentation_map), fb[:, 2], tempbin_ms=tempbin_ms
    )
    return nw_similarity(sa, sb)
