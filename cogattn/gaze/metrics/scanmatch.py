"""ScanMatch (Cristino, Mathôt, Theeuwes & Gilchrist, 2010, Behav. Res. Methods 42:692–700).

Conventions (ScanMatch toolbox; GazeParser's Python port used by HAT and Chen et al. 2021):

- the screen ``screen_size_px = (width, height)`` is cut into ``grid = (xbins, ybins)``
  equal cells; a fixation at ``(x, y)`` px is truncated to the integer pixel
  ``(int(x), int(y))`` (clipped to the screen) and falls in cell
  ``(int(int(x)·(xbins/width)), int(int(y)·(ybins/height)))``, symbol
  ``row·xbins + col``;
- with ``tempbin_ms > 0`` each symbol is repeated ``round(duration / tempbin_ms)`` times
  (NumPy rounding, half to even; 0 repetitions drop a short fixation);
- substitution matrix from the Euclidean distance ``dist`` between cells (in cells):
  ``S = |dist − max(dist)| − (max(dist) − threshold)``, i.e. ``threshold`` for the same
  cell, 0 at ``threshold`` cells apart, negative beyond;
- Needleman–Wunsch with gap ``gap`` (0 in every published use);
- score = alignment score / (``max(S)`` × the longer sequence length), so identical
  sequences score 1.

Chen et al. (2021) use a 16×12 grid on 320×240 px, threshold 3.5 and a 50 ms time bin for
"ScanMatch with duration"; those are the defaults here except ``tempbin_ms=0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations, as_screen_size
from cogattn.gaze.metrics.alignment import _check_grid, _nw_matrix_score

__all__ = ["scanmatch", "scanmatch_sequence", "scanmatch_substitution_matrix"]


def scanmatch_substitution_matrix(grid: tuple[int, int], threshold: float) -> np.ndarray:
    """ScanMatch substitution matrix ``(xbins·ybins, xbins·ybins)`` for a grid.

    Examples
    --------
    >>> scanmatch_substitution_matrix((2, 1), threshold=1.0).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    nx, ny = _check_grid(grid)
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    rows, cols = np.divmod(np.arange(nx * ny), nx)
    dist = np.sqrt((cols[:, None] - cols[None, :]) ** 2 + (rows[:, None] - rows[None, :]) ** 2)
    max_sub = dist.max()
    return np.abs(dist - max_sub) - (max_sub - threshold)


def scanmatch_sequence(
    fixations: Any,
    *,
    screen_size_px: tuple[float, float],
    grid: tuple[int, int] = (16, 12),
    tempbin_ms: float = 0.0,
) -> np.ndarray:
    """ScanMatch symbol sequence of a scanpath (see the module docstring)."""
    fix = as_fixations(fixations, "fixations", need_duration=tempbin_ms > 0)
    w, h = as_screen_size(screen_size_px)
    nx, ny = _check_grid(grid)
    if tempbin_ms < 0:
        raise ValueError(f"tempbin_ms must be >= 0, got {tempbin_ms}")
    # integer pixel, clipped to the screen (as GazeParser's fixationToSequence)
    px = np.clip(fix[:, 0], 0, None)
    py = np.clip(fix[:, 1], 0, None)
    px = np.where(px >= w, np.ceil(w) - 1, px).astype(np.int64)
    py = np.where(py >= h, np.ceil(h) - 1, py).astype(np.int64)
    # cell = int(pixel · (bins / size)), the arithmetic of GazeParser's grid mask
    col = np.minimum((px * (nx / w)).astype(np.int64), nx - 1)
    row = np.minimum((py * (ny / h)).astype(np.int64), ny - 1)
    seq = row * nx + col
    if tempbin_ms > 0:
        seq = np.repeat(seq, np.round(fix[:, 2] / tempbin_ms).astype(np.int64))
    return seq


def scanmatch(
    a: Any,
    b: Any,
    *,
    screen_size_px: tuple[float, float],
    grid: tuple[int, int] = (16, 12),
    threshold: float = 3.5,
    tempbin_ms: float = 0.0,
    gap: float = 0.0,
) -> float:
    """ScanMatch similarity of two scanpaths (Cristino et al., 2010).

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths: x px, y px[, duration ms] (durations needed when ``tempbin_ms > 0``).
        All fixations are used.
    screen_size_px : (width, height)
        Screen/image size the coordinates refer to.
    grid : (xbins, ybins)
        Number of cells horizontally and vertically.
    threshold : float
        Distance (in cells) at which the substitution score crosses 0.
    tempbin_ms : float
        Time bin; 0 ignores durations.
    gap : float
        Gap score of the Needleman–Wunsch alignment.

    Returns
    -------
    float
        1 for identical sequences, lower for dissimilar ones (can be negative); NaN when
        both sequences are empty.

    Examples
    --------
    >>> a = [[10, 10], [90, 10]]
    >>> scanmatch(a, a, screen_size_px=(100, 100), grid=(2, 2), threshold=1.0)
    1.0
    """
    sub = scanmatch_substitution_matrix(grid, threshold)
    sa = scanmatch_sequence(a, screen_size_px=screen_size_px, grid=grid, tempbin_ms=tempbin_ms)
    sb = scanmatch_sequence(b, screen_size_px=screen_size_px, grid=grid, tempbin_ms=tempbin_ms)
    longest = max(len(sa), len(sb))
    if longest == 0:
        return float("nan")
    score = _nw_matrix_score(sub[sa[:, None], sb[None, :]].reshape(len(sa), len(sb)), float(gap))
    return float(score / (sub.max() * longest))
