"""The ``Responses`` schema: fMRI responses (betas) as an xarray Dataset.

Conventions:

- variable ``response`` with dims ``stimulus × voxel``, or ``stimulus × repeat × voxel`` when
  single-trial repeats are kept (NaN where a stimulus has fewer repeats);
- per-voxel coords: ``hemisphere`` (``"lh"``, ``"rh"`` or ``""``), either ``i``, ``j``, ``k``
  (voxel indices in the volume) or ``vertex`` (surface vertex id), and ``ncsnr`` (NSD
  noise-ceiling SNR, NaN when unknown);
- ROI membership as a boolean coord ``roi_mask`` with dims ``roi × voxel`` (ROIs may overlap;
  ``roi`` holds the names);
- attrs ``space`` (e.g. ``"MNI152NLin2009cAsym"``, ``"fsaverage"``, ``"native"``), ``affine``
  (the 4×4 voxel-to-world matrix flattened row-major, 16 numbers) and ``volume_shape``
  (3 ints) when the voxels come from a volume, so that maps can be written back to NIfTI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import SCHEMA_ATTR, as_float_array, require_schema
from cogattn.data.errors import DataError

__all__ = ["ResponsesAccessor", "responses", "validate_responses"]


def responses(
    data: Any,
    *,
    stimulus: Any = None,
    rois: Mapping[str, Any] | None = None,
    hemisphere: Any = None,
    ijk: Any = None,
    vertex: Any = None,
    ncsnr: Any = None,
    affine: Any = None,
    volume_shape: tuple[int, int, int] | None = None,
    space: str = "",
    source: str = "",
    units: str = "",
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated ``Responses`` dataset.

    Parameters
    ----------
    data : array (stimulus, voxel) or (stimulus, repeat, voxel)
        Responses (e.g. GLM betas). NaN is allowed only for missing repeats (3-D input).
    stimulus : sequence, optional
        Stimulus identifiers (default ``0 .. n-1``).
    rois : mapping of name -> boolean array (voxel,) or integer voxel indices, optional
        ROI memberships; ROIs may overlap.
    hemisphere : scalar or array (voxel,), optional
        ``"lh"``, ``"rh"`` or ``""`` per voxel.
    ijk : array (voxel, 3), optional
        Voxel indices in the volume.
    vertex : array (voxel,), optional
        Surface vertex ids (instead of ``ijk``).
    ncsnr : array (voxel,), optional
        Noise-ceiling SNR per voxel (NSD convention).
    affine : array (4, 4), optional
        Voxel-to-world affine of the volume.
    volume_shape : (int, int, int), optional
        Shape of the volume the voxels come from.
    space, source, units : str
        Template space, provenance and response units.
    attrs : dict, optional
        Extra attributes.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import numpy as np
    >>> ds = responses(np.zeros((5, 4)), rois={"V1": [True, True, False, False]})
    >>> ds.responses.roi("V1").sizes["voxel"]
    2
    """
    arr = as_float_array(data, "data", ndim=(2, 3))
    if arr.ndim == 2:
        dims: tuple[str, ...] = ("stimulus", "voxel")
        if not np.isfinite(arr).all():
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise DataError(
                f"expected finite responses, found {arr[tuple(bad)]!r} at stimulus {bad[0]}, voxel {bad[1]} "
                "(mask out bad voxels before building Responses)",
                record=int(bad[0]),
                field="data",
            )
    else:
        dims = ("stimulus", "repeat", "voxel")
    n_stim, n_vox = arr.shape[0], arr.shape[-1]
    coords: dict[str, Any] = {
        "stimulus": np.arange(n_stim)
        if stimulus is None
        else _vector(stimulus, n_stim, "stimulus"),
        "voxel": np.arange(n_vox),
    }
    if arr.ndim == 3:
        coords["repeat"] = np.arange(arr.shape[1])
    hemi = (
        np.full(n_vox, "" if hemisphere is None else hemisphere, dtype=object)
        if (hemisphere is None or np.ndim(hemisphere) == 0)
        else _vector(hemisphere, n_vox, "hemisphere").astype(object)
    )
    coords["hemisphere"] = ("voxel", hemi)
    coords["ncsnr"] = (
        "voxel",
        np.full(n_vox, np.nan)
        if ncsnr is None
        else as_float_array(_vector(ncsnr, n_vox, "ncsnr"), "ncsnr"),
    )
    if ijk is not None:
        ijk_arr = np.asarray(ijk)
        if ijk_arr.shape != (n_vox, 3) or ijk_arr.dtype.kind not in "iu":
            raise DataError(
                f"expected integer voxel indices of shape ({n_vox}, 3), got {ijk_arr.dtype} {ijk_arr.shape}",
                field="ijk",
            )
        for axis, name in enumerate("ijk"):
            coords[name] = ("voxel", ijk_arr[:, axis].astype(np.int64))
    if vertex is not None:
        coords["vertex"] = ("voxel", np.asarray(_vector(vertex, n_vox, "vertex"), dtype=np.int64))
    names = list(rois or {})
    masks = np.zeros((len(names), n_vox), dtype=bool)
    for r, name in enumerate(names):
        masks[r] = _roi_mask(rois[name], n_vox, name)
    coords["roi"] = np.array(names, dtype=object)
    coords["roi_mask"] = (("roi", "voxel"), masks)

    ds_attrs: dict[str, Any] = {
        SCHEMA_ATTR: "responses",
        "space": str(space),
        "source": str(source),
    }
    if affine is not None:
        aff = as_float_array(affine, "affine")
        if aff.shape != (4, 4):
            raise DataError(f"expected a 4x4 affine, got shape {aff.shape}", field="affine")
        ds_attrs["affine"] = aff.ravel().tolist()
    if volume_shape is not None:
        if len(volume_shape) != 3:
            raise DataError(f"expected 3 ints, got {volume_shape!r}", field="volume_shape")
        ds_attrs["volume_shape"] = [int(v) for v in volume_shape]
    ds_attrs.update(attrs or {})
    ds = xr.Dataset({"response": (dims, arr, {"units": units})}, coords=coords, attrs=ds_attrs)
    return validate_responses(ds)


def _vector(value: Any, n: int, field: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DataError(f"expected {n} values, got shape {arr.shape}", field=field)
    return arr.astype(object) if arr.dtype.kind in "US" else arr


def _roi_mask(value: Any, n_vox: int, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (n_vox,):
            raise DataError(
                f"expected a boolean mask of {n_vox} voxels, got shape {arr.shape}",
                field=f"rois[{name!r}]",
            )
        return arr
    if arr.dtype.kind in "iu" and arr.ndim == 1:
        if arr.size and (arr.min() < 0 or arr.max() >= n_vox):
            raise DataError(
                f"voxel indices must lie in [0, {n_vox}), got range [{arr.min()}, {arr.max()}]",
                field=f"rois[{name!r}]",
            )
        mask = np.zeros(n_vox, dtype=bool)
        mask[arr] = True
        return mask
    raise DataError(
        f"expected a boolean mask or integer voxel indices, got {arr.dtype} {arr.shape}",
        field=f"rois[{name!r}]",
    )


def validate_responses(ds: xr.Dataset) -> xr.Dataset:
    """Check a ``Responses`` dataset against the schema; return it unchanged."""
    require_schema(ds, "responses")
    if "response" not in ds.data_vars:
        raise DataError("missing variable", field="response")
    dims = ds["response"].dims
    if dims not in (("stimulus", "voxel"), ("stimulus", "repeat", "voxel")):
        raise DataError(
            f"expected dims (stimulus, voxel) or (stimulus, repeat, voxel), got {dims}",
            field="response",
        )
    for name in ("hemisphere", "ncsnr", "roi_mask"):
        if name not in ds.coords:
            raise DataError("missing coordinate", field=name)
    hemi = set(np.unique(ds["hemisphere"].values.astype(str)).tolist())
    if not hemi <= {"lh", "rh", ""}:
        raise DataError(
            f"expected 'lh', 'rh' or '', got {sorted(hemi - {'lh', 'rh', ''})}", field="hemisphere"
        )
    if ds["roi_mask"].dtype != bool or ds["roi_mask"].dims != ("roi", "voxel"):
        raise DataError(
            f"expected a boolean (roi, voxel) mask, got {ds['roi_mask'].dtype} {ds['roi_mask'].dims}",
            field="roi_mask",
        )
    if "repeat" in dims:
        values = ds["response"].values
        if np.isinf(values).any():
            raise DataError(
                "expected finite responses (NaN only for missing repeats)", field="response"
            )
        all_missing = np.isnan(values).all(axis=1)
        if all_missing.any():
            s, v = (int(i) for i in np.argwhere(all_missing)[0])
            raise DataError(f"every repeat is NaN for voxel {v}", record=s, field="response")
    if "affine" in ds.attrs and np.size(ds.attrs["affine"]) != 16:
        raise DataError("expected 16 numbers (a flattened 4x4 matrix)", field="affine")
    return ds


@xr.register_dataset_accessor("responses")
class ResponsesAccessor:
    """Helpers on a ``Responses`` dataset: ``ds.responses.<method>``."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def validate(self) -> xr.Dataset:
        """Validate against the schema (see :func:`validate_responses`)."""
        return validate_responses(self._ds)

    @property
    def roi_names(self) -> list[str]:
        """Names of the ROIs, in order."""
        return [str(r) for r in self._ds["roi"].values]

    @property
    def n_voxels(self) -> int:
        """Number of voxels (or vertices)."""
        return int(self._ds.sizes["voxel"])

    def roi(self, *names: str) -> xr.Dataset:
        """Voxels in any of the named ROIs (union)."""
        unknown = [n for n in names if n not in self.roi_names]
        if unknown:
            raise KeyError(f"unknown ROI(s) {unknown}; available: {self.roi_names}")
        mask = self._ds["roi_mask"].sel(roi=list(names)).values.any(axis=0)
        return self._ds.isel(voxel=np.flatnonzero(mask))

    def hemisphere(self, hemi: str) -> xr.Dataset:
        """Voxels of one hemisphere (``"lh"`` or ``"rh"``)."""
        if hemi not in ("lh", "rh"):
            raise ValueError(f"hemi must be 'lh' or 'rh', got {hemi!r}")
        return self._ds.isel(voxel=np.flatnonzero(self._ds["hemisphere"].values == hemi))

    def mean_repeats(self) -> xr.Dataset:
        """Average over the ``repeat`` dim (NaN-aware); a no-op without repeats."""
        ds = self._ds
        if "repeat" not in ds["response"].dims:
            return ds
        out = ds.copy()
        out["response"] = ds["response"].mean("repeat", skipna=True, keep_attrs=True)
        out = out.drop_vars("repeat")
        out.attrs["n_repeats_averaged"] = int(ds.sizes["repeat"])
        return out

    @property
    def affine(self) -> np.ndarray | None:
        """The 4×4 affine, or ``None``."""
        aff = self._ds.attrs.get("affine")
        return None if aff is None else np.asarray(aff, dtype=float).reshape(4, 4)

    def values(self) -> np.ndarray:
        """The response matrix as a numpy array (stimulus, [repeat,] voxel)."""
        return self._ds["response"].values
