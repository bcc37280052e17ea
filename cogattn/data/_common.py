"""Helpers shared by the schema modules (private)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError

SCHEMA_ATTR = "cogattn_schema"


def schema_of(ds: xr.Dataset) -> str | None:
    """Return the schema name a dataset was built with (``None`` if not a cogattn dataset)."""
    return ds.attrs.get(SCHEMA_ATTR)


def require_schema(ds: Any, name: str) -> None:
    """Raise :class:`DataError` if ``ds`` is not a Dataset built by the ``name`` constructor."""
    if not isinstance(ds, xr.Dataset):
        raise DataError(
            f"expected an xarray.Dataset built by cogattn.data.{name}(), got {type(ds).__name__}"
        )
    got = schema_of(ds)
    if got != name:
        raise DataError(
            f"expected a {name!r} dataset (attrs[{SCHEMA_ATTR!r}] == {name!r}), got {got!r}; "
            f"build it with cogattn.data.{name}()"
        )


def per_trial(value: Any, n: int, field: str, *, default: Any) -> np.ndarray:
    """Broadcast a scalar or validate a length-``n`` sequence of per-trial labels."""
    if value is None:
        value = default
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=arr.dtype if arr.dtype.kind != "U" else object)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(
            f"expected a scalar or {n} values (one per trial), got shape {arr.shape}", field=field
        )
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    return arr


def as_float_array(
    value: Any, field: str, *, ndim: int | Sequence[int] | None = None
) -> np.ndarray:
    """Convert to a float64 array, raising :class:`DataError` on non-numeric input."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(f"expected numbers, got {_describe(value)} ({err})", field=field) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise DataError(
                f"expected an array with {' or '.join(map(str, allowed))} dims, got shape {arr.shape}",
                field=field,
            )
    return arr


def pad_ragged(rows: Sequence[Any], field: str) -> tuple[np.ndarray, np.ndarray]:
    """Stack ragged 1-D sequences into a NaN-padded 2-D float array; also return lengths."""
    arrays = []
    for i, row in enumerate(rows):
        try:
            arr = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"expected a sequence of numbers, got {_describe(row)}", record=i, field=field
            ) from None
        if arr.ndim != 1:
            raise DataError(
                f"expected a 1-D sequence, got shape {arr.shape}", record=i, field=field
            )
        arrays.append(arr)
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    width = int(lengths.max()) if len(arrays) else 0
    out = np.full((len(arrays), width), np.nan)
    for i, arr in enumerate(arrays):
        out[i, : arr.shape[0]] = arr
    return out, lengths


def is_ragged_input(value: Any) -> bool:
    """True for a list/tuple of per-trial sequences (possibly of unequal lengths)."""
    if isinstance(value, np.ndarray):
        return value.dtype == object
    if isinstance(value, (list, tuple)):
        return len(value) == 0 or all(np.ndim(v) == 1 for v in value)
    return False


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_finite(arr: np.ndarray, field: str, *, where: np.ndarray | None = None) -> None:
    """Raise :class:`DataError` naming the first record holding a non-finite value."""
    sel = np.isfinite(arr) if where is None else (np.isfinite(arr) | ~where)
    if not sel.all():
        bad = np.argwhere(~sel)[0]
        raise DataError(
            f"expected finite numbers, found {arr[tuple(bad)]!r} at index {tuple(int(b) for b in bad)}",
            record=int(bad[0]),
            field=field,
        )
