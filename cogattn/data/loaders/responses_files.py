"""``load_responses``: fMRI responses from NIfTI volumes or NumPy arrays → ``Responses``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from cogattn.data.errors import DataError
from cogattn.data.loaders._common import check_option
from cogattn.data.loaders.arrays import load_responses_array
from cogattn.data.loaders.nifti import _NIFTI_SUFFIXES, _is_image, load_responses_nifti

__all__ = ["RESPONSE_FORMATS", "detect_responses_format", "load_responses"]

RESPONSE_FORMATS = ("nifti", "array", "netcdf")


def detect_responses_format(source: Any) -> str:
    """``"nifti"`` for nibabel images and ``.nii[.gz]``, ``"array"`` for ``.npy``/``.npz``,
    ``"netcdf"`` for ``.nc``/``.zarr``; :class:`DataError` otherwise."""
    if _is_image(source):
        return "nifti"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"expected a path or a nibabel image, got {type(source).__name__}")
    name = Path(source).name.lower()
    if name.endswith(_NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith((".npy", ".npz")):
        return "array"
    if name.endswith((".nc", ".zarr")):
        return "netcdf"
    raise DataError(
        "cannot tell the responses format from the file name (expected .nii, .nii.gz, .npy, "
        ".npz, .nc or .zarr); pass format=",
        path=source,
    )


def load_responses(
    source: Any,
    *,
    mask: Any = None,
    format: str | None = None,
    rois: Any = None,
    **options: Any,
) -> xr.Dataset:
    """Load fMRI responses into a ``Responses`` dataset (``stimulus × voxel``).

    Parameters
    ----------
    source : path-like or nibabel image
        A 3-D/4-D NIfTI (path or image), an ``.npy``/``.npz`` array file, or a ``.nc``/
        ``.zarr`` written by :func:`cogattn.data.save`.
    mask : path-like or nibabel image, optional
        NIfTI only: the voxels to keep (non-zero = in), in the image's space.
    format : {"nifti", "array", "netcdf"}, optional
        Detected from the source when omitted.
    rois : optional
        NIfTI: mapping ROI name → mask image/path (same space) or boolean array over the
        masked voxels. Arrays: an ROI table (CSV/TSV path or DataFrame) or a mapping
        name → boolean mask / voxel indices. See :mod:`cogattn.data.loaders.arrays` for the
        table layouts.
    **options
        Passed on: ``stimulus``, ``hemisphere``, ``ncsnr``, ``space``, ``units`` (both);
        ``tr_s``, ``masker_kwargs`` (NIfTI); ``roi_layout`` (arrays).

    Returns
    -------
    xarray.Dataset
        ``Responses`` schema. From a BOLD run, ``stimulus`` is the volume index and
        ``attrs["tr_s"]`` the repetition time. Write per-voxel results back with
        :func:`cogattn.data.to_nifti`.

    Examples
    --------
    >>> ds = load_responses("sub-01_bold.nii.gz", mask="sub-01_mask.nii.gz")  # doctest: +SKIP
    >>> img = to_nifti(ds["response"].mean("stimulus"), like=ds)  # doctest: +SKIP
    """
    if format is None:
        format = detect_responses_format(source)
    check_option("format", format, RESPONSE_FORMATS)
    if format == "nifti":
        return load_responses_nifti(source, mask=mask, rois=rois, **options)
    if mask is not None:
        raise ValueError("mask= applies to NIfTI sources only")
    if format == "array":
        return load_responses_array(source, rois=rois, **options)
    from cogattn.data._common import schema_of
    from cogattn.data.io import load

    if options or rois is not None:
        raise TypeError("a saved dataset takes no loading options")
    ds = load(source)
    if schema_of(ds) != "responses":
        raise DataError(
            f"expected a 'responses' dataset, got schema {schema_of(ds)!r}", path=source
        )
    return ds
