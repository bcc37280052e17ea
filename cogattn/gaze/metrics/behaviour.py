"""Object-level search behaviour (OAT; Fang et al., ECCV 2024) and its Δ between model and humans.

A scanpath over a display of objects (products on a shelf, book covers in a grid) is a
sequence of object indices. Per scanpath (HKUST-NISL/oat_eccv24
``evaluation_model.behavior``):

1. ``target_found``: 1 if the *last* fixated object is the target, else 0;
2. ``length``: number of fixations;
3. ``search_ratio``: number of distinct objects (first visits) / length;
4. ``refixation_ratio``: Σ (run length − 1) / length over runs of consecutive fixations on
   the same object;
5. ``revisit_ratio``: number of runs that return to an already visited object / length.

3 + 4 + 5 add up to 1. The behaviour vector of a set of scanpaths is the mean over them;
``Δ = mean_k |model_k − human_k| / human_k`` over the five entries (OAT's early-stopping
monitor and model-selection criterion).

Objects of a uniform grid display come from :func:`grid_objects` (the Amazon book-cover
collages are 6 rows × 14 columns; OAT uses per-collage masks of the covers, which are not
public, so cogattn uses the uniform grid — the reference values of the shared data README
are computed that way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_screen_size
from cogattn.gaze.metrics.alignment import _check_grid, grid_string

__all__ = [
    "BEHAVIOUR_FIELDS",
    "behaviour_delta",
    "behaviour_vector",
    "grid_objects",
    "grid_target_object",
    "mean_behaviour",
]

BEHAVIOUR_FIELDS = ("target_found", "length", "search_ratio", "refixation_ratio", "revisit_ratio")


def grid_objects(
    fixations: Any, *, screen_size_px: tuple[float, float], grid: tuple[int, int] = (14, 6)
) -> np.ndarray:
    """Object index ``row·n_columns + col`` of each fixation on a uniform ``grid``.

    ``grid = (n_columns, n_rows)`` (Amazon collages: 14 × 6). A fixation on the right or
    bottom edge belongs to the last column/row.
    """
    return grid_string(fixations, screen_size_px=screen_size_px, grid=grid)


def grid_target_object(
    target_bbox: Any, *, screen_size_px: tuple[float, float], grid: tuple[int, int] = (14, 6)
) -> int:
    """Grid cell with the largest intersection-over-union with the target box.

    Parameters
    ----------
    target_bbox : [x, y, width, height]
        Target box in pixels (the ``Scanpaths`` convention).
    screen_size_px : (width, height)
        Display size.
    grid : (n_columns, n_rows)
        Grid size.

    Returns
    -------
    int
        Cell index (first in row-major order on ties), as OAT picks the object box of
        maximal IoU with the ground-truth box.
    """
    w, h = as_screen_size(screen_size_px)
    nx, ny = _check_grid(grid)
    box = np.asarray(target_bbox, dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all() or (box[2:] < 0).any():
        raise ValueError(f"target_bbox must be [x, y, width, height] in px, got {target_bbox!r}")
    cw, ch = w / nx, h / ny
    rows, cols = np.divmod(np.arange(nx * ny), nx)
    x0, y0 = cols * cw, rows * ch
    ix = np.clip(np.minimum(x0 + cw, box[0] + box[2]) - np.maximum(x0, box[0]), 0, None)
    iy = np.clip(np.minimum(y0 + ch, box[1] + box[3]) - np.maximum(y0, box[1]), 0, None)
    inter = ix * iy
    iou = inter / (cw * ch + box[2] * box[3] - inter)
    return int(np.argmax(iou))


def behaviour_vector(objects: Sequence[Any], target: Any) -> dict[str, float]:
    """Behaviour vector of one object-index scanpath (see the module docstring).

    Examples
    --------
    >>> behaviour_vector([3, 3, 5, 3, 7], target=7)
    {'target_found': 1.0, 'length': 5.0, 'search_ratio': 0.6, 'refixation_ratio': 0.2, 'revisit_ratio': 0.2}
    """
    seq = list(np.asarray(objects).tolist()) if isinstance(objects, np.ndarray) else list(objects)
    if not seq:
        raise ValueError("behaviour_vector needs a scanpath with at least one fixation")
    n = len(seq)
    seen: set[Any] = set()
    first = revisits = 0
    prev = object()
    for obj in seq:
        if obj == prev:
            continue  # refixation within a run
        if obj in seen:
            revisits += 1
        else:
            first += 1
            seen.add(obj)
        prev = obj
    runs = first + revisits
    return {
        "target_found": float(seq[-1] == target),
        "length": float(n),
        "search_ratio": first / n,
        "refixation_ratio": (n - runs) / n,
        "revisit_ratio": revisits / n,
    }


def mean_behaviour(sequences: Sequence[Sequence[Any]], targets: Sequence[Any]) -> dict[str, float]:
    """Mean behaviour vector over scanpaths (``targets``: one target object per scanpath)."""
    if len(sequences) != len(targets):
        raise ValueError(f"got {len(sequences)} scanpaths but {len(targets)} targets")
    if not sequences:
        raise ValueError("mean_behaviour needs at least one scanpath")
    rows = np.array(
        [[behaviour_vector(s, t)[k] for k in BEHAVIOUR_FIELDS] for s, t in zip(sequences, targets)]
    )
    return dict(zip(BEHAVIOUR_FIELDS, rows.mean(axis=0).tolist()))


def _as_vector(value: Any, name: str) -> np.ndarray:
    if isinstance(value, dict):
        missing = [k for k in BEHAVIOUR_FIELDS if k not in value]
        if missing:
            raise ValueError(f"{name} is missing {missing}; expected keys {list(BEHAVIOUR_FIELDS)}")
        return np.array([float(value[k]) for k in BEHAVIOUR_FIELDS])
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (5,):
        raise ValueError(
            f"{name} must have the 5 entries {list(BEHAVIOUR_FIELDS)}, got shape {arr.shape}"
        )
    return arr


def behaviour_delta(model: Any, human: Any) -> float:
    """OAT's Δ: ``mean_k |model_k − human_k| / human_k`` over the five behaviour entries.

    Parameters
    ----------
    model, human : dict or array (5,)
        Mean behaviour vectors (:func:`mean_behaviour`).

    Returns
    -------
    float
        0 when equal; ``inf`` (or NaN) when a human entry is 0 (relative error undefined).
    """
    m = _as_vector(model, "model")
    h = _as_vector(human, "human")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(np.abs(m - h) / h))
