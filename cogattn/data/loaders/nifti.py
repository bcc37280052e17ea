"""fMRI volumes (NIfTI) ↔ the ``Responses`` schema, through a nilearn ``NiftiMasker``.

Conventions
    - A 4-D image is a series of volumes: a BOLD run (then ``stimulus`` is the volume index
      0 … n-1 and ``attrs["tr_s"]`` holds the repetition time from the header) or a stack of
      beta/contrast maps (pass ``stimulus=`` labels). A 3-D image is one ``stimulus``.
    - The mask selects the voxels (non-zero = in); it must be in the image's space (same
      shape and affine): nothing is resampled behind your back. Without a mask, nilearn's
      ``NiftiMasker`` computes one (``mask_strategy="background"`` unless you pass
      ``masker_kwargs``) and the strategy is recorded in ``attrs["mask"]``.
    - Voxel order is the C order of ``numpy.argwhere(mask)``, i.e. what nilearn's masker
      returns; ``i``, ``j``, ``k`` coords hold each voxel's indices in the volume, and
      ``attrs["affine"]`` (16 numbers, row-major) and ``attrs["volume_shape"]`` let
      :func:`to_nifti` write any per-voxel map back into the source space.
    - ROIs: a mapping name → 3-D mask image or path in the same space (non-zero = in; ROIs
      may overlap), or name → boolean array over the masked voxels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError, warn_data
from cogattn.data.loaders._common import reraise_as_data_error
from cogattn.data.responses import responses

__all__ = ["load_responses_nifti", "to_nifti"]

logger = logging.getLogger(__name__)

_NIFTI_SUFFIXES = (".nii", ".nii.gz", ".img", ".hdr")
_MAX_PLAUSIBLE_TR_S = 100.0


def _is_image(obj: Any) -> bool:
    return hasattr(obj, "affine") and hasattr(obj, "get_fdata") and hasattr(obj, "shape")


def _label(obj: Any) -> str:
    if isinstance(obj, (str, os.PathLike)):
        return str(obj)
    filename = obj.get_filename() if hasattr(obj, "get_filename") else None
    return str(filename) if filename else f"<{type(obj).__name__}>"


def _load_image(obj: Any, what: str):  # -> nibabel image
    import nibabel as nib

    if _is_image(obj):
        return obj
    if not isinstance(obj, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path or a nibabel image, got {type(obj).__name__}")
    path = Path(obj)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    with reraise_as_data_error(path, "a NIfTI image"):
        img = nib.load(path)
        # Read the data now so that truncated or corrupt files fail here, with the path.
        img.get_fdata(dtype=np.float32)
    return img


def _image_data(img: Any, label: str) -> np.ndarray:
    with reraise_as_data_error(label, "a NIfTI image"):
        return np.asarray(img.get_fdata(dtype=np.float32))


def _same_space(img: Any, ref: Any) -> bool:
    return tuple(img.shape[:3]) == tuple(ref.shape[:3]) and np.allclose(
        img.affine, ref.affine, atol=1e-4
    )


def _header_tr_s(img: Any, label: str) -> float | None:
    header = getattr(img, "header", None)
    if header is None or len(img.shape) < 4:
        return None
    try:
        zooms = header.get_zooms()
        _, time_unit = header.get_xyzt_units()
    except Exception:  # headers of non-NIfTI formats may lack these fields
        return None
    if len(zooms) < 4 or not np.isfinite(zooms[3]) or zooms[3] <= 0:
        return None
    tr = float(zooms[3])
    if time_unit == "msec":
        tr /= 1000.0
    elif time_unit == "usec":
        tr /= 1e6
    if tr > _MAX_PLAUSIBLE_TR_S:
        warn_data(
            f"{label}: the header's TR is {float(zooms[3]):g} {time_unit}, implausible for fMRI "
            "(probably milliseconds labelled as seconds); tr_s is not recorded, pass tr_s="
        )
        return None
    return tr


def load_responses_nifti(
    source: Any,
    *,
    mask: Any = None,
    rois: Mapping[str, Any] | None = None,
    stimulus: Any = None,
    tr_s: float | None = None,
    hemisphere: Any = None,
    ncsnr: Any = None,
    space: str = "",
    units: str = "",
    masker_kwargs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Mask a 3-D/4-D NIfTI image into a ``Responses`` dataset (nilearn ``NiftiMasker``).

    Parameters
    ----------
    source : path-like or nibabel image
        The image (4-D: one volume per stimulus / time point).
    mask : path-like or nibabel image, optional
        Binary mask in the same space (non-zero = in). Computed by nilearn when omitted.
    rois : mapping, optional
        ROI name → 3-D mask image/path in the same space, or boolean array over the masked
        voxels.
    stimulus : sequence, optional
        Labels of the volumes (default ``0 … n-1``: the volume index).
    tr_s : float, optional
        Repetition time; read from the header when omitted (recorded in ``attrs["tr_s"]``).
    hemisphere, ncsnr : optional
        Per-voxel values (see :func:`cogattn.data.responses`).
    space, units : str
        Template space (``"MNI152NLin2009cAsym"``, ``"native"``...) and response units.
    masker_kwargs : mapping, optional
        Extra ``nilearn.maskers.NiftiMasker`` arguments (``smoothing_fwhm``, ``detrend``,
        ``standardize``...). The default masker returns the raw values.

    Returns
    -------
    xarray.Dataset
        ``Responses`` with ``i``, ``j``, ``k`` coords and ``affine``/``volume_shape`` attrs.
    """
    from nilearn.maskers import NiftiMasker

    label = _label(source)
    img = _load_image(source, "source")
    if len(img.shape) not in (3, 4):
        raise DataError(f"expected a 3-D or 4-D image, got shape {img.shape}", path=label)
    header_tr = _header_tr_s(img, label) if tr_s is None else float(tr_s)
    kwargs = dict(masker_kwargs or {})
    kwargs.setdefault("standardize", None)  # raw values unless asked
    mask_note = ""
    if mask is not None:
        mask_label = _label(mask)
        mask_img = _load_image(mask, "mask")
        mask_data = _image_data(mask_img, mask_label)
        if mask_data.ndim == 4 and mask_data.shape[3] == 1:
            mask_data = mask_data[..., 0]
        if mask_data.ndim != 3:
            raise DataError(
                f"expected a 3-D mask, got shape {mask_data.shape}", path=mask_label, field="mask"
            )
        if not _same_space(mask_img, img):
            raise DataError(
                f"mask (shape {mask_data.shape}) is not in the image's space (shape "
                f"{tuple(img.shape[:3])}, same affine expected); resample it first, e.g. "
                "nilearn.image.resample_to_img(mask, image, interpolation='nearest')",
                path=mask_label,
                field="mask",
            )
        if np.isnan(mask_data).any():
            raise DataError("mask holds NaN", path=mask_label, field="mask")
        inside = mask_data != 0
        if not inside.any():
            raise DataError("mask is empty (no non-zero voxel)", path=mask_label, field="mask")
        import nibabel as nib

        kwargs["mask_img"] = nib.Nifti1Image(inside.astype(np.uint8), img.affine)
        mask_note = f"mask file {Path(mask_label).name}" if mask_label[0] != "<" else "mask image"
    else:
        kwargs.setdefault("mask_strategy", "background")
        mask_note = f"computed by nilearn NiftiMasker(mask_strategy={kwargs['mask_strategy']!r})"
    with reraise_as_data_error(label, "a NIfTI image through nilearn's NiftiMasker"):
        masker = NiftiMasker(**kwargs)
        data = np.atleast_2d(masker.fit_transform(img))
        inside = np.asarray(masker.mask_img_.get_fdata()) != 0
    ijk = np.argwhere(inside).astype(np.int64)
    if data.shape[1] != len(ijk):
        raise DataError(
            f"masker returned {data.shape[1]} voxels for a mask of {len(ijk)}", path=label
        )
    roi_masks = _roi_masks(rois, ijk, img)
    attrs: dict[str, Any] = {"mask": mask_note, "n_volumes": int(data.shape[0])}
    if header_tr is not None:
        attrs["tr_s"] = float(header_tr)
    with reraise_as_data_error(label, "Responses"):
        ds = responses(
            data,
            stimulus=stimulus,
            rois=roi_masks,
            hemisphere=hemisphere,
            ijk=ijk,
            ncsnr=ncsnr,
            affine=np.asarray(img.affine, dtype=float),
            volume_shape=tuple(int(s) for s in img.shape[:3]),
            space=space,
            source=Path(label).name if label[0] != "<" else label,
            units=units,
            attrs=attrs,
        )
    logger.info("loaded %s: %d volumes x %d voxels", label, ds.sizes["stimulus"], len(ijk))
    return ds


def _roi_masks(rois: Mapping[str, Any] | None, ijk: np.ndarray, img: Any) -> dict[str, Any]:
    if not rois:
        return {}
    if not isinstance(rois, Mapping):
        raise TypeError(
            f"rois must be a mapping of name -> mask image/path/array, got {type(rois).__name__}"
        )
    out = {}
    for name, value in rois.items():
        if isinstance(value, (str, os.PathLike)) or _is_image(value):
            label = _label(value)
            roi_img = _load_image(value, f"rois[{name!r}]")
            data = _image_data(roi_img, label)
            if data.ndim == 4 and data.shape[3] == 1:
                data = data[..., 0]
            if data.ndim != 3 or not _same_space(roi_img, img):
                raise DataError(
                    f"ROI mask (shape {data.shape}) is not in the image's space (shape "
                    f"{tuple(img.shape[:3])}, same affine expected); resample it first",
                    path=label,
                    field=f"rois[{name!r}]",
                )
            out[name] = np.nan_to_num(data[ijk[:, 0], ijk[:, 1], ijk[:, 2]]) != 0
        else:
            out[name] = value
    return out


def to_nifti(values: Any, *, like: xr.Dataset, fill: float = 0.0, dtype: Any = None):
    """Write per-voxel values back into the volume a ``Responses`` dataset came from.

    Parameters
    ----------
    values : array (voxel,) or (n, voxel), or an xarray.DataArray with a ``voxel`` dim
        One value per voxel of ``like`` (e.g. encoding scores), or ``n`` maps.
    like : xarray.Dataset
        A ``Responses`` dataset (or a voxel subset of one, e.g. ``ds.responses.roi("V1")``)
        with ``i``, ``j``, ``k`` coords and the ``affine`` / ``volume_shape`` attrs.
    fill : float
        Value outside the voxels (default 0).
    dtype : numpy dtype, optional
        Output dtype (default float32 for floating values, else the input dtype).

    Returns
    -------
    nibabel.Nifti1Image
        3-D for ``(voxel,)`` input, 4-D ``(X, Y, Z, n)`` for ``(n, voxel)``.

    Examples
    --------
    >>> img = to_nifti(scores, like=ds)  # doctest: +SKIP
    >>> img.to_filename("scores.nii.gz")  # doctest: +SKIP
    """
    import nibabel as nib

    if not isinstance(like, xr.Dataset):
        raise TypeError(f"like must be a Responses xarray.Dataset, got {type(like).__name__}")
    missing = [c for c in ("i", "j", "k") if c not in like.coords]
    missing += [a for a in ("affine", "volume_shape") if a not in like.attrs]
    if missing:
        raise ValueError(
            f"like has no {missing}: it must come from a volume (load_responses on a NIfTI, or "
            "responses(..., ijk=, affine=, volume_shape=))"
        )
    if isinstance(values, xr.DataArray):
        if "voxel" not in values.dims:
            raise ValueError(f"values has no 'voxel' dim (dims {values.dims})")
        other = [d for d in values.dims if d != "voxel"]
        values = values.transpose(*other, "voxel").values
    arr = np.asarray(values)
    if arr.ndim not in (1, 2):
        raise ValueError(f"values must be (voxel,) or (n, voxel), got shape {arr.shape}")
    n_vox = like.sizes["voxel"]
    if arr.shape[-1] != n_vox:
        raise ValueError(f"values has {arr.shape[-1]} voxels, like has {n_vox}")
    if dtype is None:
        dtype = np.float32 if arr.dtype.kind == "f" else arr.dtype
    if arr.dtype == bool:
        dtype = np.uint8
    shape = tuple(int(s) for s in like.attrs["volume_shape"])
    i, j, k = (like[c].values for c in ("i", "j", "k"))
    if arr.ndim == 1:
        vol = np.full(shape, fill, dtype=dtype)
        vol[i, j, k] = arr
    else:
        vol = np.full((*shape, arr.shape[0]), fill, dtype=dtype)
        vol[i, j, k, :] = arr.T
    affine = np.asarray(like.attrs["affine"], dtype=float).reshape(4, 4)
    img = nib.Nifti1Image(vol, affine)
    img.header.set_xyzt_units("mm", "sec")
    if arr.ndim == 2 and "tr_s" in like.attrs:
        zooms = img.header.get_zooms()
        img.header.set_zooms((*zooms[:3], float(like.attrs["tr_s"])))
    return img
