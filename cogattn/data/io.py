"""Atomic saving and loading of cogattn datasets (netCDF or zarr)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import SCHEMA_ATTR, schema_of
from cogattn.data.errors import DataError

__all__ = ["load", "save", "validate"]

_NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5")
_ZARR_SUFFIXES = (".zarr",)
_JSON_ATTR_PREFIX = "json:"


def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in ("netcdf", "zarr"):
            raise ValueError(f"format must be 'netcdf' or 'zarr', got {format!r}")
        return format
    suffix = path.suffix.lower()
    if suffix in _NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in _ZARR_SUFFIXES:
        return "zarr"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its suffix; use one of "
        f"{_NETCDF_SUFFIXES + _ZARR_SUFFIXES} or pass format='netcdf'|'zarr'"
    )


def _encode_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Make attrs storable: bools, None, nested lists and dicts go through JSON."""
    out = {}
    for key, value in attrs.items():
        if (
            isinstance(value, (bool, np.bool_))
            or value is None
            or isinstance(value, dict)
            or (
                isinstance(value, (list, tuple))
                and any(isinstance(v, (list, tuple, dict, str)) for v in value)
            )
        ):
            out[key] = _JSON_ATTR_PREFIX + json.dumps(
                value if not isinstance(value, np.bool_) else bool(value)
            )
        else:
            out[key] = value
    return out


def _decode_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, str) and value.startswith(_JSON_ATTR_PREFIX):
            out[key] = json.loads(value[len(_JSON_ATTR_PREFIX) :])
        elif isinstance(value, np.ndarray):
            out[key] = value.tolist()
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _prepare(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = _encode_attrs(ds.attrs)
    for name in out.variables:
        out[name].attrs = _encode_attrs(out[name].attrs)
        if out[name].dtype.kind in "UT":
            out[name] = out[name].astype(object)
    return out


def save(ds: xr.Dataset, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write a dataset atomically to netCDF (``.nc``) or zarr (``.zarr``).

    The data are written to a temporary name in the target folder and renamed into place,
    so a crash never leaves a half-written file under ``path``.

    Parameters
    ----------
    ds : xarray.Dataset
        Any dataset (cogattn schemas keep their schema tag and attributes).
    path : path-like
        Destination; the suffix picks the format unless ``format`` is given.
    format : {"netcdf", "zarr"}, optional
        Force a format.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    fmt = _format_of(path, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepared = _prepare(ds)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        if fmt == "netcdf":
            prepared.to_netcdf(tmp, engine="h5netcdf")
        else:
            prepared.to_zarr(tmp, mode="w", consolidated=True, zarr_format=2)
        if path.is_dir():
            backup = tmp_dir / (path.name + ".old")
            path.rename(backup)
            tmp.rename(path)
        else:
            tmp.replace(path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


def load(
    path: str | os.PathLike, *, format: str | None = None, validate_schema: bool = True
) -> xr.Dataset:
    """Load a dataset written by :func:`save` (fully into memory) and validate its schema.

    Raises
    ------
    DataError
        If the file cannot be read or breaks its schema.
    """
    path = Path(path)
    fmt = _format_of(path, format)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    try:
        if fmt == "netcdf":
            with xr.open_dataset(path, engine="h5netcdf") as opened:
                ds = opened.load()
        else:
            with xr.open_zarr(path, consolidated=None) as opened:
                ds = opened.load()
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"could not read as {fmt}: {err}", path=path) from None
    for name in ds.variables:
        ds[name].encoding = {}
        ds[name].attrs = _decode_attrs(ds[name].attrs)
        if ds[name].dtype.kind in "UT":
            ds[name] = ds[name].astype(object)
    ds.attrs = _decode_attrs(ds.attrs)
    if validate_schema and schema_of(ds) is not None:
        try:
            validate(ds)
        except DataError as err:
            raise DataError(err.reason, path=path, record=err.record, field=err.field) from None
    return ds


def validate(ds: xr.Dataset) -> xr.Dataset:
    """Validate a dataset against the schema recorded in ``ds.attrs['cogattn_schema']``."""
    from cogattn.data.rdms import validate_rdms
    from cogattn.data.recordings import validate_recordings
    from cogattn.data.responses import validate_responses
    from cogattn.data.scanpaths import validate_scanpaths

    validators = {
        "scanpaths": validate_scanpaths,
        "responses": validate_responses,
        "recordings": validate_recordings,
        "rdms": validate_rdms,
    }
    name = schema_of(ds)
    if name not in validators:
        raise DataError(f"attrs[{SCHEMA_ATTR!r}] must be one of {sorted(validators)}, got {name!r}")
    return validators[name](ds)
