"""Helpers shared by the file loaders (private).

Every loader reads through these so that any failure of a parsing library (json, scipy.io,
numpy, pandas, nibabel, PIL) on a malformed file surfaces as a :class:`DataError` that names
the file, instead of that library's own exception.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from cogattn.data.errors import DataError

__all__ = [
    "as_path",
    "check_option",
    "natural_key",
    "read_json",
    "read_mat",
    "read_npy",
    "read_npz",
    "reraise_as_data_error",
]

_PathLike = str | os.PathLike


def as_path(path: _PathLike, *, kind: str = "file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` that exists (``FileNotFoundError`` if not)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected a path (str or os.PathLike), got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such {kind}: {str(p)!r}")
    return p


def check_option(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Raise ``ValueError`` listing the valid choices when ``value`` is not one of them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def natural_key(name: str) -> list[Any]:
    """Sort key ordering ``image_2`` before ``image_10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


@contextmanager
def reraise_as_data_error(path: _PathLike, what: str) -> Iterator[None]:
    """Turn any exception raised while parsing ``path`` into a :class:`DataError`.

    A :class:`DataError` without a path gets ``path`` filled in; ``FileNotFoundError`` and
    ``MemoryError`` pass through unchanged.
    """
    try:
        yield
    except DataError as err:
        if err.path is None:
            raise DataError(err.reason, path=path, record=err.record, field=err.field) from None
        raise
    except (FileNotFoundError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as err:  # any parser failure on a malformed file is a data error
        raise DataError(
            f"could not read as {what}: {type(err).__name__}: {err}", path=path
        ) from err


def read_json(path: _PathLike) -> Any:
    """Parse a JSON file (NaN/Infinity literals are rejected as invalid JSON)."""

    def _reject_constant(token: str) -> Any:
        raise ValueError(f"{token} is not valid JSON")

    with reraise_as_data_error(path, "JSON"):
        with open(path, "rb") as fh:
            raw = fh.read()
        return json.loads(raw.decode("utf-8-sig"), parse_constant=_reject_constant)


def read_mat(path: _PathLike) -> dict[str, Any]:
    """Load a MATLAB v5 ``.mat`` file (squeezed, structs as attribute objects)."""
    import scipy.io

    with reraise_as_data_error(path, "a MATLAB .mat file"):
        data = scipy.io.loadmat(
            os.fspath(path), squeeze_me=True, struct_as_record=False, mat_dtype=False
        )
    return {k: v for k, v in data.items() if not k.startswith("__")}


def read_npz(path: _PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz`` file (pickled objects are refused)."""
    with reraise_as_data_error(path, "a NumPy .npz archive"):
        if not zipfile.is_zipfile(path):
            raise DataError("not a zip archive (an .npz file is a zip of .npy arrays)")
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}


def read_npy(path: _PathLike) -> np.ndarray:
    """Load an ``.npy`` array (pickled objects are refused)."""
    with reraise_as_data_error(path, "a NumPy .npy array"):
        arr = np.load(path, allow_pickle=False)
        if not isinstance(arr, np.ndarray):
            raise DataError(f"expected a single array, got {type(arr).__name__}")
        return arr


def mat_field(obj: Any, name: str, *, path: _PathLike, record: Any, variable: str) -> Any:
    """Field ``name`` of a MATLAB struct loaded by :func:`read_mat`, or a clear DataError."""
    fields = getattr(obj, "_fieldnames", None)
    if fields is None:
        raise DataError(
            f"expected a struct with a {name!r} field, got {type(obj).__name__}",
            path=path,
            record=record,
            field=variable,
        )
    if name not in fields:
        raise DataError(
            f"missing field {name!r} (struct has {list(fields)})",
            path=path,
            record=record,
            field=f"{variable}.{name}",
        )
    return getattr(obj, name)
