"""fMRI responses held as NumPy arrays (``.npy`` / ``.npz``) plus an ROI table → ``Responses``.

Array files
    ``.npy``: one array ``(stimulus, voxel)`` or ``(stimulus, repeat, voxel)`` (NaN only for
    missing repeats). ``.npz``: the responses under ``response`` (or ``betas``, ``data``, or
    the only array), and optionally, one entry per voxel or stimulus: ``stimulus`` (labels),
    ``ijk`` (int, ``(voxel, 3)``), ``vertex`` (int), ``hemisphere`` (``"lh"``/``"rh"``/``""``),
    ``ncsnr`` (float), ``affine`` (``(4, 4)``), ``volume_shape`` (3 ints). Pickled object
    arrays are refused (save strings as fixed-width unicode arrays: ``np.array(names)``).

ROI tables (``rois=`` a CSV/TSV path, a pandas DataFrame or a mapping), three layouts:
    ``"mask"``: one row per voxel, in voxel order (exactly ``n_voxel`` rows); each column is
    an ROI holding 0/1 or true/false. The columns ``voxel`` (must be ``0 … n-1``),
    ``hemisphere``, ``ncsnr``, ``i``, ``j``, ``k`` and ``vertex`` are per-voxel metadata,
    not ROIs.

    ``"index"``: one column per ROI listing the (0-based) voxel indices it contains; columns
    of different lengths are padded with empty cells at the end.

    ``"long"``: two columns ``roi`` and ``voxel``, one row per (ROI, voxel) membership.

    ``layout="auto"`` picks ``"long"`` when the columns are ``roi`` and ``voxel``, ``"mask"``
    when there are ``n_voxel`` rows of 0/1/true/false only, and ``"index"`` otherwise.
    ROIs may overlap in every layout.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError
from cogattn.data.loaders._common import (
    check_option,
    read_npy,
    read_npz,
    reraise_as_data_error,
)
from cogattn.data.responses import responses

__all__ = ["load_responses_array", "read_roi_table"]

_RESPONSE_KEYS = ("response", "betas", "data")
_META_KEYS = ("stimulus", "ijk", "vertex", "hemisphere", "ncsnr", "affine", "volume_shape")
_VOXEL_META_COLUMNS = ("voxel", "hemisphere", "ncsnr", "i", "j", "k", "vertex")
_TRUE = {"1", "1.0", "true", "True", "TRUE"}
_FALSE = {"0", "0.0", "false", "False", "FALSE"}


def load_responses_array(
    path: str | os.PathLike,
    *,
    rois: Any = None,
    roi_layout: str = "auto",
    stimulus: Any = None,
    hemisphere: Any = None,
    ncsnr: Any = None,
    space: str = "",
    units: str = "",
) -> xr.Dataset:
    """Load responses from ``.npy``/``.npz`` (see the module docstring for the layout).

    Parameters
    ----------
    path : path-like
        The array file.
    rois : path-like, pandas.DataFrame or mapping, optional
        An ROI table (CSV/TSV path or DataFrame; see :func:`read_roi_table`) or a mapping
        name → boolean mask / voxel indices.
    roi_layout : {"auto", "mask", "index", "long"}
        Layout of the ROI table.
    stimulus, hemisphere, ncsnr : optional
        Override the file's per-stimulus / per-voxel entries.
    space, units : str
        Template space and response units.
    """
    check_option("roi_layout", roi_layout, ("auto", "mask", "index", "long"))
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    suffix = p.suffix.lower()
    meta: dict[str, np.ndarray] = {}
    if suffix == ".npy":
        data = read_npy(p)
        key = "array"
    elif suffix == ".npz":
        arrays = read_npz(p)
        found = [k for k in _RESPONSE_KEYS if k in arrays]
        if found:
            key = found[0]
        else:
            candidates = [k for k in arrays if k not in _META_KEYS]
            if len(candidates) != 1:
                raise DataError(
                    f"expected the responses under one of {list(_RESPONSE_KEYS)} (or a single "
                    f"non-metadata array), got keys {sorted(arrays)}",
                    path=p,
                )
            key = candidates[0]
        data = arrays[key]
        meta = {k: arrays[k] for k in _META_KEYS if k in arrays}
        unknown = sorted(set(arrays) - set(_META_KEYS) - {key})
        if unknown:
            raise DataError(
                f"unexpected key(s) {unknown}; an .npz holds the responses and optionally "
                f"{list(_META_KEYS)}",
                path=p,
            )
    else:
        raise DataError(f"expected a .npy or .npz file, got {suffix!r}", path=p)
    if data.dtype.kind not in "iuf":
        raise DataError(f"expected a numeric array, got dtype {data.dtype}", path=p, field=key)
    if data.ndim not in (2, 3):
        raise DataError(
            f"expected (stimulus, voxel) or (stimulus, repeat, voxel), got shape {data.shape}",
            path=p,
            field=key,
        )
    n_vox = data.shape[-1]
    table_meta: dict[str, Any] = {}
    roi_masks: dict[str, Any] = {}
    if rois is not None:
        if isinstance(rois, Mapping):
            roi_masks = dict(rois)
        else:
            roi_masks, table_meta = read_roi_table(rois, n_voxels=n_vox, layout=roi_layout)
    with reraise_as_data_error(p, "Responses"):
        volume_shape = meta.get("volume_shape")
        if volume_shape is not None:
            vs = np.asarray(volume_shape)
            if vs.shape != (3,) or vs.dtype.kind not in "iu":
                raise DataError(
                    f"expected 3 integers, got {vs.dtype} {vs.shape}", field="volume_shape"
                )
            volume_shape = tuple(int(v) for v in vs)
        ijk = meta.get("ijk", table_meta.get("ijk"))
        if ijk is not None and volume_shape is not None:
            ijk_arr = np.asarray(ijk)
            if (
                ijk_arr.ndim == 2
                and ijk_arr.shape[1] == 3
                and ijk_arr.size
                and ((ijk_arr < 0).any() or (ijk_arr >= np.asarray(volume_shape)).any())
            ):
                raise DataError(
                    f"voxel indices fall outside the volume {volume_shape}", field="ijk"
                )
        return responses(
            data,
            stimulus=stimulus if stimulus is not None else meta.get("stimulus"),
            rois=roi_masks,
            hemisphere=hemisphere
            if hemisphere is not None
            else meta.get("hemisphere", table_meta.get("hemisphere")),
            ijk=ijk,
            vertex=meta.get("vertex", table_meta.get("vertex")),
            ncsnr=ncsnr if ncsnr is not None else meta.get("ncsnr", table_meta.get("ncsnr")),
            affine=meta.get("affine"),
            volume_shape=volume_shape,
            space=space,
            source=p.name,
            units=units,
            attrs={"format": "array"},
        )


def _read_table(source: Any):  # -> (DataFrame of str, label)
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source.astype(str).replace({"nan": "", "None": ""}), "<DataFrame>"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"rois must be a path, a pandas DataFrame or a mapping, got {type(source).__name__}"
        )
    p = Path(source)
    if not p.exists():
        raise FileNotFoundError(f"no such file: {str(p)!r}")
    sep = "\t" if p.suffix.lower() == ".tsv" else ","
    with reraise_as_data_error(p, "an ROI table (CSV/TSV)"):
        raw = p.read_bytes()
        if b"\x00" in raw:
            raise DataError("binary content (NUL bytes) in a text table")
        text = raw.decode("utf-8-sig")
        if not text.strip():
            raise DataError("empty file (expected a header row)")
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    if len(set(table.columns)) != len(table.columns):
        raise DataError(f"duplicate column names in {list(table.columns)}", path=p)
    return table, str(p)


def _int_value(text: str, *, label: str, row: int, column: str) -> int:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise DataError(
            f"expected an integer voxel index, got {text!r}"[:200],
            path=label,
            record=row,
            field=column,
        ) from None
    if not math.isfinite(value) or value != int(value):
        raise DataError(
            f"expected an integer voxel index, got {text!r}", path=label, record=row, field=column
        )
    return int(value)


def read_roi_table(
    source: Any, *, n_voxels: int, layout: str = "auto"
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Parse an ROI table into boolean masks (and per-voxel metadata for the mask layout).

    Parameters
    ----------
    source : path-like or pandas.DataFrame
        The table (see the module docstring for the three layouts).
    n_voxels : int
        Number of voxels of the responses the table describes.
    layout : {"auto", "mask", "index", "long"}
        Table layout.

    Returns
    -------
    masks : dict
        ROI name → boolean array ``(n_voxels,)``.
    meta : dict
        Per-voxel columns found in a mask-layout table (``hemisphere``, ``ncsnr``, ``ijk``,
        ``vertex``).

    Raises
    ------
    DataError
        Bad cells (non-integer index, index out of range, value not 0/1), wrong row count.
    """
    check_option("layout", layout, ("auto", "mask", "index", "long"))
    table, label = _read_table(source)
    columns = list(table.columns)
    if layout == "auto":
        if set(columns) == {"roi", "voxel"}:
            layout = "long"
        else:
            roi_cols = [c for c in columns if c not in _VOXEL_META_COLUMNS]
            values = {v.strip() for c in roi_cols for v in table[c].tolist()}
            layout = "mask" if len(table) == n_voxels and values <= (_TRUE | _FALSE) else "index"
    masks: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    if layout == "long":
        for c in ("roi", "voxel"):
            if c not in columns:
                raise DataError(
                    f"missing column (the long layout has columns roi, voxel; got {columns})",
                    path=label,
                    field=c,
                )
        for row, (name, text) in enumerate(zip(table["roi"], table["voxel"]), start=1):
            name = name.strip()
            if not name:
                raise DataError("empty ROI name", path=label, record=row, field="roi")
            index = _int_value(text.strip(), label=label, row=row, column="voxel")
            _check_index(index, n_voxels, label=label, row=row, column="voxel")
            masks.setdefault(name, np.zeros(n_voxels, dtype=bool))[index] = True
        return masks, meta
    if layout == "mask":
        if len(table) != n_voxels:
            raise DataError(
                f"the mask layout needs one row per voxel: {n_voxels} rows expected, got {len(table)}",
                path=label,
            )
        if "voxel" in columns:
            ids = [
                _int_value(t.strip(), label=label, row=r, column="voxel")
                for r, t in enumerate(table["voxel"], start=1)
            ]
            if ids != list(range(n_voxels)):
                raise DataError(
                    "the voxel column must list 0 … n-1 in order (one row per voxel)",
                    path=label,
                    field="voxel",
                )
        for c in columns:
            if c in _VOXEL_META_COLUMNS:
                continue
            mask = np.zeros(n_voxels, dtype=bool)
            for r, text in enumerate(table[c].tolist()):
                t = text.strip()
                if t in _TRUE:
                    mask[r] = True
                elif t not in _FALSE:
                    raise DataError(
                        f"expected 0/1 or true/false, got {text!r}"[:200],
                        path=label,
                        record=r + 1,
                        field=c,
                    )
            masks[c] = mask
        if "hemisphere" in columns:
            meta["hemisphere"] = np.array([h.strip() for h in table["hemisphere"]], dtype=object)
        if "ncsnr" in columns:
            meta["ncsnr"] = _float_column(table, "ncsnr", label)
        if all(c in columns for c in "ijk"):
            meta["ijk"] = np.column_stack(
                [
                    [
                        _int_value(t.strip(), label=label, row=r, column=c)
                        for r, t in enumerate(table[c], start=1)
                    ]
                    for c in "ijk"
                ]
            ).astype(np.int64)
        if "vertex" in columns:
            meta["vertex"] = np.array(
                [
                    _int_value(t.strip(), label=label, row=r, column="vertex")
                    for r, t in enumerate(table["vertex"], start=1)
                ],
                dtype=np.int64,
            )
        return masks, meta
    # index layout
    for c in columns:
        mask = np.zeros(n_voxels, dtype=bool)
        cells = [t.strip() for t in table[c].tolist()]
        ended = False
        for r, t in enumerate(cells, start=1):
            if not t:
                ended = True
                continue
            if ended:
                raise DataError(
                    "empty cells may only pad the end of an index column",
                    path=label,
                    record=r,
                    field=c,
                )
            index = _int_value(t, label=label, row=r, column=c)
            _check_index(index, n_voxels, label=label, row=r, column=c)
            mask[index] = True
        masks[c] = mask
    return masks, meta


def _check_index(index: int, n_voxels: int, *, label: str, row: int, column: str) -> None:
    if not 0 <= index < n_voxels:
        raise DataError(
            f"voxel index {index} outside [0, {n_voxels})", path=label, record=row, field=column
        )


def _float_column(table: Any, column: str, label: str) -> np.ndarray:
    out = []
    for r, text in enumerate(table[column].tolist(), start=1):
        t = text.strip()
        if not t or t.lower() == "nan":
            out.append(np.nan)
            continue
        try:
            out.append(float(t))
        except ValueError:
            raise DataError(
                f"expected a number, got {text!r}"[:200], path=label, record=r, field=column
            ) from None
    return np.asarray(out, dtype=float)
