"""Argument checks shared by the metric functions (private)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["as_fixations", "as_screen_size", "check_option"]


def as_fixations(
    value: Any, name: str, *, need_duration: bool = False, min_len: int = 0
) -> np.ndarray:
    """Return ``value`` as a float64 ``(n, 2)`` or ``(n, 3)`` array (x px, y px[, duration ms]).

    Raises
    ------
    TypeError
        For non-numeric input.
    ValueError
        For a wrong shape, non-finite values, negative durations, or a missing duration
        column when ``need_duration``.
    """
    if hasattr(value, "data_vars"):
        raise TypeError(
            f"{name}: expected one scanpath as an (n, 2) or (n, 3) array, got an xarray.Dataset; "
            "use ds.scanpath.trial(i) or the dataset-level cogattn.gaze.compare()"
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: expected an (n, 2) or (n, 3) array of numbers (x px, y px[, duration ms]), "
            f"got {type(value).__name__}"
        ) from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise ValueError(
            f"{name}: expected shape (n, 2) or (n, 3) (columns x px, y px[, duration ms]), got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        row = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise ValueError(
            f"{name}: expected finite numbers, found {arr[row].tolist()} at fixation {row} "
            "(drop NaN padding first, e.g. with ds.scanpath.trial(i))"
        )
    if need_duration and arr.shape[1] != 3:
        raise ValueError(
            f"{name}: this metric needs fixation durations: expected shape (n, 3) "
            f"(x px, y px, duration ms), got {arr.shape}"
        )
    if arr.shape[1] == 3 and (arr[:, 2] < 0).any():
        row = int(np.argwhere(arr[:, 2] < 0)[0, 0])
        raise ValueError(f"{name}: expected durations >= 0 ms, got {arr[row, 2]} at fixation {row}")
    if arr.shape[0] < min_len:
        raise ValueError(f"{name}: expected at least {min_len} fixations, got {arr.shape[0]}")
    return arr


def as_screen_size(value: Any, name: str = "screen_size_px") -> tuple[float, float]:
    """Validate a ``(width, height)`` pair of positive numbers."""
    if value is None:
        raise TypeError(f"{name} is required: pass (width, height) in pixels")
    try:
        w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected (width, height) in pixels, got {value!r}") from None
    if not (np.isfinite(w) and np.isfinite(h) and w > 0 and h > 0):
        raise ValueError(f"{name}: expected positive (width, height) in pixels, got {value!r}")
    return w, h


def check_option(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Raise ``ValueError`` listing the valid choices when ``value`` is not one of them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """Validate a positive integer (or ``None`` when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
