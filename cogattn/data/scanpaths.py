"""The ``Scanpaths`` schema: eye-tracking fixation sequences as an xarray Dataset.

Conventions (every loader converts to these):

- dims ``trial × fixation``; trials shorter than the longest are padded with NaN and the
  number of real fixations is the ``length`` coordinate;
- ``x``, ``y`` in **image pixels**, origin at the **top-left** corner, x to the right, y down;
  valid values lie in ``[0, image_width] × [0, image_height]``;
- ``duration_ms`` (optional) in milliseconds, ``>= 0``;
- per-trial coords ``subject``, ``image``, ``task``, ``condition``, ``image_width``,
  ``image_height`` and ``target_bbox`` (``trial × bbox`` with ``bbox = [x, y, width, height]``
  in pixels, NaN when there is no target);
- attrs ``source`` (where the data came from) and ``screen_px_per_deg`` when known.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import (
    SCHEMA_ATTR,
    as_float_array,
    check_finite,
    is_ragged_input,
    pad_ragged,
    per_trial,
    require_schema,
)
from cogattn.data.errors import DataError, DataWarning

__all__ = ["BBOX_FIELDS", "ScanpathAccessor", "scanpaths", "validate_scanpaths"]

logger = logging.getLogger(__name__)

BBOX_FIELDS = ("x", "y", "width", "height")
_LABELS = ("subject", "image", "task", "condition")


def scanpaths(
    x: Any,
    y: Any,
    *,
    image_size_px: tuple[float, float] | Sequence[tuple[float, float]] | np.ndarray,
    duration_ms: Any = None,
    subject: Any = None,
    image: Any = None,
    task: Any = None,
    condition: Any = None,
    target_bbox: Any = None,
    source: str = "",
    screen_px_per_deg: float | None = None,
    out_of_bounds: str = "raise",
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated ``Scanpaths`` dataset.

    Parameters
    ----------
    x, y : list of 1-D arrays, or 2-D array (trial, fixation)
        Fixation coordinates in image pixels (origin top-left). A list may be ragged; a 2-D
        array is NaN-padded after each trial's last fixation.
    image_size_px : (width, height) or array (n_trials, 2)
        Image size in pixels, for all trials or per trial.
    duration_ms : same layout as ``x``, optional
        Fixation durations in milliseconds.
    subject, image, task, condition : scalar or sequence of length n_trials, optional
        Per-trial labels (default ``""``).
    target_bbox : array (n_trials, 4) or (4,), optional
        Target bounding box ``[x, y, width, height]`` in pixels; NaN rows where absent.
    source : str
        Where the data came from (file name, model name).
    screen_px_per_deg : float, optional
        Pixels per degree of visual angle, when known.
    out_of_bounds : {"raise", "clip"}
        What to do with fixations outside the image: raise :class:`DataError` (default), or
        clip them to the image border with a warning that says how many were clipped.
    attrs : dict, optional
        Extra dataset attributes (netCDF-compatible values only).

    Returns
    -------
    xarray.Dataset
        Dims ``trial × fixation`` (+ ``bbox``); see the module docstring.

    Examples
    --------
    >>> ds = scanpaths([[10, 20, 30], [5]], [[1, 2, 3], [4]], image_size_px=(64, 48))
    >>> ds.sizes["trial"], ds.sizes["fixation"], ds["length"].values.tolist()
    (2, 3, [3, 1])
    """
    if out_of_bounds not in ("raise", "clip"):
        raise ValueError(f"out_of_bounds must be 'raise' or 'clip', got {out_of_bounds!r}")
    xs, lengths = _to_padded(x, "x")
    ys, lengths_y = _to_padded(y, "y")
    if xs.shape != ys.shape or not np.array_equal(lengths, lengths_y):
        raise DataError(
            f"x and y must have the same number of fixations per trial, got shapes {xs.shape} and {ys.shape}",
            field="y",
        )
    n_trials, n_fix = xs.shape
    data_vars: dict[str, Any] = {
        "x": (
            ("trial", "fixation"),
            xs,
            {"units": "px", "long_name": "fixation x (right from image left edge)"},
        ),
        "y": (
            ("trial", "fixation"),
            ys,
            {"units": "px", "long_name": "fixation y (down from image top edge)"},
        ),
    }
    if duration_ms is not None:
        ds_arr, lengths_d = _to_padded(duration_ms, "duration_ms")
        if ds_arr.shape != xs.shape or not np.array_equal(lengths_d, lengths):
            raise DataError(
                f"duration_ms must have the same number of fixations per trial as x, got shape {ds_arr.shape} vs {xs.shape}",
                field="duration_ms",
            )
        data_vars["duration_ms"] = (
            ("trial", "fixation"),
            ds_arr,
            {"units": "ms", "long_name": "fixation duration"},
        )

    size = as_float_array(image_size_px, "image_size_px", ndim=(1, 2))
    if size.ndim == 1:
        if size.shape != (2,):
            raise DataError(
                f"expected (width, height), got shape {size.shape}", field="image_size_px"
            )
        size = np.broadcast_to(size, (n_trials, 2))
    if size.shape != (n_trials, 2):
        raise DataError(
            f"expected shape ({n_trials}, 2) (one (width, height) per trial), got {size.shape}",
            field="image_size_px",
        )

    bbox = (
        np.full((n_trials, 4), np.nan)
        if target_bbox is None
        else as_float_array(target_bbox, "target_bbox", ndim=(1, 2))
    )
    if bbox.ndim == 1:
        if bbox.shape != (4,):
            raise DataError(
                f"expected [x, y, width, height], got shape {bbox.shape}", field="target_bbox"
            )
        bbox = np.broadcast_to(bbox, (n_trials, 4))
    if bbox.shape != (n_trials, 4):
        raise DataError(
            f"expected shape ({n_trials}, 4) ([x, y, width, height] per trial), got {bbox.shape}",
            field="target_bbox",
        )

    coords: dict[str, Any] = {
        "trial": np.arange(n_trials),
        "fixation": np.arange(n_fix),
        "bbox": list(BBOX_FIELDS),
        "length": ("trial", lengths, {"long_name": "number of fixations in the trial"}),
        "image_width": ("trial", size[:, 0].copy(), {"units": "px"}),
        "image_height": ("trial", size[:, 1].copy(), {"units": "px"}),
        "target_bbox": (("trial", "bbox"), np.array(bbox, dtype=np.float64), {"units": "px"}),
    }
    labels = {"subject": subject, "image": image, "task": task, "condition": condition}
    for name, value in labels.items():
        coords[name] = ("trial", per_trial(value, n_trials, name, default=""))

    ds_attrs = {
        SCHEMA_ATTR: "scanpaths",
        "source": str(source),
        "coordinate_convention": "image pixels, origin top-left, x right, y down",
    }
    if screen_px_per_deg is not None:
        ds_attrs["screen_px_per_deg"] = float(screen_px_per_deg)
    ds_attrs.update(attrs or {})
    ds = xr.Dataset(data_vars, coords=coords, attrs=ds_attrs)
    if out_of_bounds == "clip":
        ds = _clip_to_image(ds)
    return validate_scanpaths(ds)


def _to_padded(value: Any, field: str) -> tuple[np.ndarray, np.ndarray]:
    if is_ragged_input(value):
        return pad_ragged(value, field)
    arr = as_float_array(value, field, ndim=2)
    valid = ~np.isnan(arr)
    lengths = valid.sum(axis=1).astype(np.int64)
    # NaN must only pad the end of a trial.
    expected = np.arange(arr.shape[1])[None, :] < lengths[:, None]
    if not np.array_equal(valid, expected):
        bad = int(np.argwhere((valid != expected).any(axis=1))[0, 0])
        raise DataError(
            "NaN is only allowed as padding after a trial's last fixation (found a gap or a leading NaN)",
            record=bad,
            field=field,
        )
    return arr, lengths


def _valid_mask(ds: xr.Dataset) -> np.ndarray:
    return np.arange(ds.sizes["fixation"])[None, :] < ds["length"].values[:, None]


def _clip_to_image(ds: xr.Dataset) -> xr.Dataset:
    w = ds["image_width"].values[:, None]
    h = ds["image_height"].values[:, None]
    x, y = ds["x"].values, ds["y"].values
    with np.errstate(invalid="ignore"):
        outside = (x < 0) | (x > w) | (y < 0) | (y > h)
    n = int(np.count_nonzero(outside))
    if n:
        warnings.warn(
            f"{n} fixation(s) outside the image were clipped to its border (source={ds.attrs.get('source')!r})",
            DataWarning,
            stacklevel=3,
        )
        ds = ds.copy()
        ds["x"].values = np.where(np.isnan(x), np.nan, np.clip(x, 0, w))
        ds["y"].values = np.where(np.isnan(y), np.nan, np.clip(y, 0, h))
    return ds


def validate_scanpaths(ds: xr.Dataset) -> xr.Dataset:
    """Check a ``Scanpaths`` dataset against the schema; return it unchanged.

    Raises
    ------
    DataError
        Naming the trial and field that break the schema: missing variables or coords,
        NaN inside a trial, padding that is not NaN, coordinates outside the image,
        negative or non-finite durations, non-positive image sizes.
    """
    require_schema(ds, "scanpaths")
    for name in ("x", "y"):
        if name not in ds.data_vars:
            raise DataError("missing variable", field=name)
        if ds[name].dims != ("trial", "fixation"):
            raise DataError(f"expected dims ('trial', 'fixation'), got {ds[name].dims}", field=name)
    for name in ("length", "image_width", "image_height", "target_bbox", *_LABELS):
        if name not in ds.coords:
            raise DataError("missing coordinate", field=name)
    lengths = ds["length"].values
    if (
        lengths.dtype.kind not in "iu"
        or (lengths < 0).any()
        or (lengths > ds.sizes["fixation"]).any()
    ):
        raise DataError(f"expected integers in [0, {ds.sizes['fixation']}]", field="length")
    valid = _valid_mask(ds)
    for name in ("image_width", "image_height"):
        size = ds[name].values
        if not (np.isfinite(size) & (size > 0)).all():
            bad = int(np.argwhere(~(np.isfinite(size) & (size > 0)))[0, 0])
            raise DataError(
                f"expected a positive image size in px, got {size[bad]!r}", record=bad, field=name
            )
    names = ["x", "y"] + (["duration_ms"] if "duration_ms" in ds.data_vars else [])
    for name in names:
        values = ds[name].values
        check_finite(values, name, where=valid)
        if not np.isnan(values[~valid]).all():
            bad = int(np.argwhere(~np.isnan(np.where(valid, np.nan, values)))[0, 0])
            raise DataError(
                "expected NaN padding after the trial's last fixation", record=bad, field=name
            )
    for name, limit in (("x", "image_width"), ("y", "image_height")):
        values = ds[name].values
        top = ds[limit].values[:, None]
        with np.errstate(invalid="ignore"):
            outside = valid & ((values < 0) | (values > top))
        if outside.any():
            t, f = (int(i) for i in np.argwhere(outside)[0])
            raise DataError(
                f"fixation {f} at {name}={values[t, f]:g} px lies outside the image [0, {top[t, 0]:g}] "
                "(coordinates are image pixels, origin top-left; rescale or pass out_of_bounds='clip')",
                record=t,
                field=name,
            )
    if "duration_ms" in ds.data_vars:
        dur = ds["duration_ms"].values
        with np.errstate(invalid="ignore"):
            negative = valid & (dur < 0)
        if negative.any():
            t, f = (int(i) for i in np.argwhere(negative)[0])
            raise DataError(
                f"expected a duration >= 0 ms, got {dur[t, f]:g} at fixation {f}",
                record=t,
                field="duration_ms",
            )
    bbox = ds["target_bbox"].values
    with np.errstate(invalid="ignore"):
        bad_box = (bbox[:, 2] < 0) | (bbox[:, 3] < 0)
    if bad_box.any():
        t = int(np.argwhere(bad_box)[0, 0])
        raise DataError(
            f"expected a non-negative width and height, got {bbox[t].tolist()}",
            record=t,
            field="target_bbox",
        )
    return ds


@xr.register_dataset_accessor("scanpath")
class ScanpathAccessor:
    """Helpers on a ``Scanpaths`` dataset: ``ds.scanpath.<method>``.

    Examples
    --------
    >>> ds = scanpaths([[10, 20], [5]], [[1, 2], [4]], image_size_px=(64, 48), subject=[1, 2])
    >>> [a.shape for a in ds.scanpath.iter_trials()]
    [(2, 2), (1, 2)]
    >>> ds.scanpath.rescale(32, 24)["x"].values[0].tolist()
    [5.0, 10.0]
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    @property
    def n_trials(self) -> int:
        """Number of trials (scanpaths)."""
        return int(self._ds.sizes["trial"])

    @property
    def has_duration(self) -> bool:
        """Whether fixation durations are present."""
        return "duration_ms" in self._ds.data_vars

    def validate(self) -> xr.Dataset:
        """Validate against the schema (see :func:`validate_scanpaths`)."""
        return validate_scanpaths(self._ds)

    def trial(self, index: int, *, with_duration: bool = False) -> np.ndarray:
        """Return trial ``index`` (positional) as an ``(n, 2)`` array of x, y px.

        With ``with_duration=True`` the array is ``(n, 3)``: x px, y px, duration ms.
        """
        ds = self._ds
        n = int(ds["length"].values[index])
        cols = [ds["x"].values[index, :n], ds["y"].values[index, :n]]
        if with_duration:
            if not self.has_duration:
                raise DataError("this dataset has no fixation durations", field="duration_ms")
            cols.append(ds["duration_ms"].values[index, :n])
        return np.stack(cols, axis=1)

    def iter_trials(self, *, with_duration: bool = False) -> Iterator[np.ndarray]:
        """Yield each trial as an ``(n, 2)`` (or ``(n, 3)`` with durations) array."""
        for i in range(self.n_trials):
            yield self.trial(i, with_duration=with_duration)

    def to_list(self, *, with_duration: bool = False) -> list[np.ndarray]:
        """All trials as a list of arrays (see :meth:`trial`)."""
        return list(self.iter_trials(with_duration=with_duration))

    def select(self, **labels: Any) -> xr.Dataset:
        """Select trials by per-trial labels, e.g. ``select(subject=1, task=["car", "cup"])``.

        Keys may be any per-trial coordinate; values a scalar or a list of accepted values.
        """
        ds = self._ds
        keep = np.ones(ds.sizes["trial"], dtype=bool)
        for key, value in labels.items():
            if key not in ds.coords or ds[key].dims != ("trial",):
                valid = sorted(k for k in ds.coords if ds[k].dims == ("trial",))
                raise KeyError(f"{key!r} is not a per-trial coordinate; valid keys: {valid}")
            accepted = list(value) if isinstance(value, (list, tuple, set, np.ndarray)) else [value]
            keep &= np.isin(ds[key].values, accepted)
        return ds.isel(trial=np.flatnonzero(keep))

    def truncate(self, max_fixations: int) -> xr.Dataset:
        """Keep at most the first ``max_fixations`` fixations of each trial."""
        if max_fixations < 0:
            raise ValueError(f"max_fixations must be >= 0, got {max_fixations}")
        ds = self._ds.isel(fixation=slice(0, max_fixations))
        return ds.assign_coords(
            length=(
                "trial",
                np.minimum(self._ds["length"].values, max_fixations),
                ds["length"].attrs,
            )
        )

    def rescale(self, width_px: float, height_px: float) -> xr.Dataset:
        """Rescale coordinates and target boxes to a new image size (every trial).

        E.g. COCO-Search18 models work at 512×320: ``ds.scanpath.rescale(512, 320)``.
        """
        if not (width_px > 0 and height_px > 0):
            raise ValueError(f"the new image size must be positive, got ({width_px}, {height_px})")
        ds = self._ds.copy()
        sx = width_px / ds["image_width"].values
        sy = height_px / ds["image_height"].values
        # Coordinates were inside [0, old size]; scaling can overshoot the new border by a
        # rounding error (1050 * 320 / 1050 = 320.00000000000006), so bound them exactly.
        ds["x"] = np.minimum(ds["x"] * xr.DataArray(sx, dims="trial"), float(width_px))
        ds["y"] = np.minimum(ds["y"] * xr.DataArray(sy, dims="trial"), float(height_px))
        ds["x"].attrs, ds["y"].attrs = self._ds["x"].attrs, self._ds["y"].attrs
        scale = np.stack([sx, sy, sx, sy], axis=1)
        return ds.assign_coords(
            target_bbox=(
                ("trial", "bbox"),
                ds["target_bbox"].values * scale,
                ds["target_bbox"].attrs,
            ),
            image_width=(
                "trial",
                np.full(ds.sizes["trial"], float(width_px)),
                ds["image_width"].attrs,
            ),
            image_height=(
                "trial",
                np.full(ds.sizes["trial"], float(height_px)),
                ds["image_height"].attrs,
            ),
        )

    def to_dataframe(self):  # -> pandas.DataFrame
        """Long table, one row per real fixation (padding dropped)."""
        import pandas as pd

        ds = self._ds
        valid = _valid_mask(ds)
        t_idx, f_idx = np.nonzero(valid)
        table = {"trial": ds["trial"].values[t_idx], "fixation": f_idx}
        for name in ("x", "y", "duration_ms"):
            if name in ds.data_vars:
                table[name] = ds[name].values[t_idx, f_idx]
        for name in _LABELS:
            table[name] = ds[name].values[t_idx]
        return pd.DataFrame(table)
