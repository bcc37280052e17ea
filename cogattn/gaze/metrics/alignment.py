"""String alignment: Needleman–Wunsch, Levenshtein and the string edit distance (SED).

All dynamic programmes run row by row with NumPy: with a constant gap ``g`` the
recurrence ``F[i, j] = max(c_j, F[i, j-1] + g)`` (``c_j`` = best of the diagonal and
vertical moves) is a running maximum, ``F[i, j] = g·j + cummax_k(c_k − g·k)``, so one
row costs a few vector operations. :func:`batch_nw_similarity` runs the 0/1 scoring used
by the sequence score on many padded string pairs at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cogattn.gaze.metrics._checks import as_fixations, as_screen_size

__all__ = [
    "batch_levenshtein",
    "batch_needleman_wunsch",
    "batch_nw_similarity",
    "grid_string",
    "levenshtein",
    "needleman_wunsch",
    "nw_similarity",
    "string_edit_distance",
]


def _as_codes(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Map two symbol sequences to integer codes over their joint alphabet."""
    seq_a = list(a) if not isinstance(a, np.ndarray) else a.tolist()
    seq_b = list(b) if not isinstance(b, np.ndarray) else b.tolist()
    table: dict[Any, int] = {}
    codes_a = np.array([table.setdefault(s, len(table)) for s in seq_a], dtype=np.int64)
    codes_b = np.array([table.setdefault(s, len(table)) for s in seq_b], dtype=np.int64)
    return codes_a, codes_b


def _nw_matrix_score(sub: np.ndarray, gap: float) -> float:
    """Needleman–Wunsch score ``F[n, m]`` given the ``(n, m)`` substitution scores."""
    n, m = sub.shape
    steps = gap * np.arange(m + 1, dtype=np.float64)
    prev = steps.copy()  # row 0: F[0, j] = gap * j
    for i in range(1, n + 1):
        cand = np.empty(m + 1)
        cand[0] = gap * i
        cand[1:] = np.maximum(prev[:-1] + sub[i - 1], prev[1:] + gap)
        prev = steps + np.maximum.accumulate(cand - steps)
    return float(prev[m])


def needleman_wunsch(
    a: Sequence[Any], b: Sequence[Any], *, substitution: Any = None, gap: float = 0.0
) -> float:
    """Needleman–Wunsch global alignment score of two symbol sequences.

    ``F[i, 0] = gap·i``, ``F[0, j] = gap·j``,
    ``F[i, j] = max(F[i-1, j-1] + S(a_i, b_j), F[i-1, j] + gap, F[i, j-1] + gap)``;
    returns ``F[len(a), len(b)]`` (Needleman & Wunsch, 1970).

    Parameters
    ----------
    a, b : sequence of hashable symbols
        The two strings (lists of ints, labels, or Python strings).
    substitution : None, callable or 2-D array
        ``None``: 0/1 similarity (1 for equal symbols). A 2-D array: ``S[a_i, b_j]`` with
        integer symbols indexing it (as in ScanMatch). A callable ``f(x, y) -> float``.
    gap : float
        Score of a gap (0 in the sequence score and ScanMatch conventions).

    Returns
    -------
    float
        The raw (unnormalised) alignment score; 0 when either string is empty and
        ``gap == 0``.

    Examples
    --------
    >>> needleman_wunsch([1, 2, 3, 4], [1, 3, 4])  # 0/1 scoring, gap 0: 3 symbols aligned
    3.0
    """
    if substitution is None:
        ca, cb = _as_codes(a, b)
        sub = (ca[:, None] == cb[None, :]).astype(np.float64)
    elif callable(substitution):
        sub = np.array([[float(substitution(x, y)) for y in b] for x in a], dtype=np.float64)
        sub = sub.reshape(len(a), len(b))
    else:
        matrix = np.asarray(substitution, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError(f"substitution must be a 2-D matrix, got shape {matrix.shape}")
        ia = np.asarray(a, dtype=np.int64)
        ib = np.asarray(b, dtype=np.int64)
        for name, idx, size in (("a", ia, matrix.shape[0]), ("b", ib, matrix.shape[1])):
            if idx.size and (idx.min() < 0 or idx.max() >= size):
                raise ValueError(
                    f"symbols of {name} must index the substitution matrix (0..{size - 1}), "
                    f"got range {idx.min()}..{idx.max()}"
                )
        sub = matrix[ia[:, None], ib[None, :]].reshape(len(ia), len(ib))
    return _nw_matrix_score(sub, float(gap))


def nw_similarity(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Needleman–Wunsch with 0/1 scoring and gap 0, divided by the longer length.

    This is the string score of the sequence score (Yang et al., 2020, IRL
    ``metrics.nw_matching``); with these weights it equals the length of the longest common
    subsequence over ``max(len(a), len(b))``. NaN when both strings are empty.
    """
    la, lb = len(a), len(b)
    if max(la, lb) == 0:
        return float("nan")
    return needleman_wunsch(a, b) / max(la, lb)


def batch_nw_similarity(
    strings_a: np.ndarray, lengths_a: np.ndarray, strings_b: np.ndarray, lengths_b: np.ndarray
) -> np.ndarray:
    """:func:`nw_similarity` for many pairs at once.

    Parameters
    ----------
    strings_a, strings_b : int array (n_pairs, L)
        Padded integer strings (padding values are never read past each length).
    lengths_a, lengths_b : int array (n_pairs,)
        Lengths of the strings.

    Returns
    -------
    numpy.ndarray (n_pairs,)
        Scores in [0, 1]; NaN where both strings are empty.
    """
    sa = np.asarray(strings_a)
    sb = np.asarray(strings_b)
    la = np.asarray(lengths_a, dtype=np.int64)
    lb = np.asarray(lengths_b, dtype=np.int64)
    n_pairs = sa.shape[0]
    if n_pairs == 0:
        return np.zeros(0)
    width_a, width_b = sa.shape[1], sb.shape[1]
    # F[p, i, j]; keep every row so that F[p, la, lb] can be read at the end.
    rows = np.zeros((width_a + 1, n_pairs, width_b + 1), dtype=np.int32)
    for i in range(1, width_a + 1):
        prev = rows[i - 1]
        eq = sa[:, i - 1 : i] == sb
        cand = np.maximum(prev[:, :-1] + eq, prev[:, 1:])
        rows[i, :, 1:] = np.maximum.accumulate(cand, axis=1)
    score = rows[la, np.arange(n_pairs), lb].astype(np.float64)
    denom = np.maximum(la, lb).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, score / np.where(denom > 0, denom, 1), np.nan)


def batch_needleman_wunsch(
    substitution: np.ndarray, lengths_a: np.ndarray, lengths_b: np.ndarray
) -> np.ndarray:
    """Needleman–Wunsch scores with gap 0 for many pairs at once.

    Parameters
    ----------
    substitution : array (n_pairs, La, Lb)
        ``S[p, i, j]`` = substitution score of symbol ``i`` of string ``a`` and symbol ``j``
        of string ``b`` of pair ``p`` (padding beyond the lengths is never read).
    lengths_a, lengths_b : int arrays (n_pairs,)

    Returns
    -------
    numpy.ndarray (n_pairs,)
        ``F[len_a, len_b]`` of each pair (as :func:`needleman_wunsch` with ``gap=0``).
    """
    sub = np.asarray(substitution, dtype=np.float64)
    la = np.asarray(lengths_a, dtype=np.int64)
    lb = np.asarray(lengths_b, dtype=np.int64)
    n_pairs, width_a, width_b = sub.shape
    rows = np.zeros((width_a + 1, n_pairs, width_b + 1))
    for i in range(1, width_a + 1):
        prev = rows[i - 1]
        cand = np.maximum(prev[:, :-1] + sub[:, i - 1, :], prev[:, 1:])
        rows[i, :, 1:] = np.maximum.accumulate(cand, axis=1)
    return rows[la, np.arange(n_pairs), lb]


def batch_levenshtein(
    strings_a: np.ndarray, lengths_a: np.ndarray, strings_b: np.ndarray, lengths_b: np.ndarray
) -> np.ndarray:
    """:func:`levenshtein` for many padded integer string pairs at once (int array)."""
    sa = np.asarray(strings_a)
    sb = np.asarray(strings_b)
    la = np.asarray(lengths_a, dtype=np.int64)
    lb = np.asarray(lengths_b, dtype=np.int64)
    n_pairs, width_a = sa.shape
    width_b = sb.shape[1]
    steps = np.arange(width_b + 1, dtype=np.int64)
    rows = np.zeros((width_a + 1, n_pairs, width_b + 1), dtype=np.int64)
    rows[0] = steps
    for i in range(1, width_a + 1):
        prev = rows[i - 1]
        cost = (sa[:, i - 1 : i] != sb).astype(np.int64)
        cand = np.empty((n_pairs, width_b + 1), dtype=np.int64)
        cand[:, 0] = i
        cand[:, 1:] = np.minimum(prev[:, :-1] + cost, prev[:, 1:] + 1)
        rows[i] = steps + np.minimum.accumulate(cand - steps, axis=1)
    return rows[la, np.arange(n_pairs), lb]


def levenshtein(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein edit distance (unit insertion, deletion and substitution costs).

    Examples
    --------
    >>> levenshtein("kitten", "sitting")
    3
    """
    ca, cb = _as_codes(a, b)
    m = len(cb)
    steps = np.arange(m + 1, dtype=np.int64)
    prev = steps.copy()
    for i in range(1, len(ca) + 1):
        cost = (ca[i - 1] != cb).astype(np.int64)
        cand = np.empty(m + 1, dtype=np.int64)
        cand[0] = i
        cand[1:] = np.minimum(prev[:-1] + cost, prev[1:] + 1)
        prev = steps + np.minimum.accumulate(cand - steps)
    return int(prev[m])


def grid_string(
    fixations: Any, *, screen_size_px: tuple[float, float], grid: tuple[int, int]
) -> np.ndarray:
    """Cell index of each fixation on a uniform ``grid = (n_columns, n_rows)`` over the screen.

    Cell ``(col, row) = (floor(x·n_columns/width), floor(y·n_rows/height))``, clipped to the
    grid (a fixation on the right or bottom edge belongs to the last cell); index
    ``row·n_columns + col``.
    """
    fix = as_fixations(fixations, "fixations")
    w, h = as_screen_size(screen_size_px)
    nx, ny = _check_grid(grid)
    col = np.clip(np.floor(fix[:, 0] * nx / w), 0, nx - 1).astype(np.int64)
    row = np.clip(np.floor(fix[:, 1] * ny / h), 0, ny - 1).astype(np.int64)
    return row * nx + col


def _check_grid(grid: Any) -> tuple[int, int]:
    try:
        nx, ny = (int(g) for g in grid)
    except (TypeError, ValueError):
        raise TypeError(f"grid must be (n_columns, n_rows), got {grid!r}") from None
    if nx < 1 or ny < 1 or (nx, ny) != tuple(grid):
        raise ValueError(f"grid must be two positive integers (n_columns, n_rows), got {grid!r}")
    return nx, ny


def string_edit_distance(
    a: Any,
    b: Any,
    *,
    screen_size_px: tuple[float, float],
    grid: tuple[int, int] = (5, 5),
    normalize: bool = False,
) -> float:
    """String edit distance (SED) between two scanpaths.

    Each fixation becomes the cell of a uniform grid it falls in (:func:`grid_string`); the
    score is the Levenshtein distance between the two strings (Brandt & Stark, 1997; the
    n×n-grid version of Zanca's ``visual_attention_metrics.string_edit_distance`` used by
    Chen et al., 2021, with n = 5). All fixations are used (no truncation; truncate the
    arrays first if wanted).

    Parameters
    ----------
    a, b : array (n, 2) or (n, 3)
        Scanpaths, x and y in pixels (a duration column is ignored).
    screen_size_px : (width, height)
        Image/screen size the coordinates refer to.
    grid : (n_columns, n_rows)
        Grid size (default 5×5).
    normalize : bool
        Divide by the longer string length (0 = identical, 1 = nothing in common).

    Returns
    -------
    float
        The distance (0 for identical strings); with ``normalize``, NaN when both are empty.

    Notes
    -----
    Cells are ``floor(x·n/width)``; Zanca's code uses integer cell widths ``width // n``,
    which can push a fixation near the right edge into the next row. Here such a fixation
    stays in the last column.
    """
    sa = grid_string(a, screen_size_px=screen_size_px, grid=grid)
    sb = grid_string(b, screen_size_px=screen_size_px, grid=grid)
    dist = float(levenshtein(sa, sb))
    if normalize:
        longest = max(len(sa), len(sb))
        return dist / longest if longest else float("nan")
    return dist
