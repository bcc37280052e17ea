"""The ``RDMs`` schema: representational dissimilarity matrices per subject.

Conventions: variable ``dissimilarity`` with dims ``subject × stimulus × stimulus_`` (square,
symmetric, zero diagonal; NaN allowed for missing pairs, symmetrically), scalar coord ``roi``
(the brain region or model layer the RDMs describe) and attr ``measure`` (e.g.
``"1 - pearson"``, ``"euclidean"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import SCHEMA_ATTR, as_float_array, require_schema
from cogattn.data.errors import DataError

__all__ = ["RDMsAccessor", "rdms", "validate_rdms"]


def rdms(
    dissimilarity: Any,
    *,
    subject: Any = None,
    stimulus: Any = None,
    roi: str = "",
    measure: str = "",
    source: str = "",
    atol: float = 1e-6,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated ``RDMs`` dataset.

    Parameters
    ----------
    dissimilarity : array (subject, stimulus, stimulus) or (stimulus, stimulus)
        Square symmetric matrices with a zero diagonal. A single 2-D matrix becomes one subject.
    subject : sequence, optional
        Subject labels (default ``0 .. n-1``).
    stimulus : sequence, optional
        Stimulus labels (default ``0 .. n-1``); ``stimulus_`` gets the same values.
    roi : str
        Region (or model layer) the RDMs describe.
    measure : str
        Dissimilarity measure, e.g. ``"1 - pearson"``.
    source : str
        Provenance.
    atol : float
        Tolerance for the symmetry and zero-diagonal checks.
    attrs : dict, optional
        Extra attributes.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], float)
    >>> rdms(d, roi="IT").rdms.upper_triangle().shape
    (1, 3)
    """
    arr = as_float_array(dissimilarity, "dissimilarity", ndim=(2, 3))
    if arr.ndim == 2:
        arr = arr[None]
    n_sub, n, m = arr.shape
    if n != m:
        raise DataError(f"expected square matrices, got {n}x{m}", field="dissimilarity")
    stim = np.arange(n) if stimulus is None else np.asarray(stimulus)
    if stim.shape != (n,):
        raise DataError(f"expected {n} stimulus labels, got shape {stim.shape}", field="stimulus")
    subj = np.arange(n_sub) if subject is None else np.asarray(subject)
    if subj.shape != (n_sub,):
        raise DataError(f"expected {n_sub} subject labels, got shape {subj.shape}", field="subject")
    if stim.dtype.kind in "US":
        stim = stim.astype(object)
    if subj.dtype.kind in "US":
        subj = subj.astype(object)
    ds_attrs = {SCHEMA_ATTR: "rdms", "measure": str(measure), "source": str(source)}
    ds_attrs.update(attrs or {})
    ds = xr.Dataset(
        {"dissimilarity": (("subject", "stimulus", "stimulus_"), arr)},
        coords={"subject": subj, "stimulus": stim, "stimulus_": stim.copy(), "roi": str(roi)},
        attrs=ds_attrs,
    )
    return validate_rdms(ds, atol=atol)


def validate_rdms(ds: xr.Dataset, *, atol: float = 1e-6) -> xr.Dataset:
    """Check an ``RDMs`` dataset against the schema; return it unchanged."""
    require_schema(ds, "rdms")
    if "dissimilarity" not in ds.data_vars or ds["dissimilarity"].dims != (
        "subject",
        "stimulus",
        "stimulus_",
    ):
        raise DataError(
            "expected a variable 'dissimilarity' with dims (subject, stimulus, stimulus_)",
            field="dissimilarity",
        )
    arr = ds["dissimilarity"].values
    if np.isinf(arr).any():
        raise DataError(
            "expected finite dissimilarities (NaN marks a missing pair)", field="dissimilarity"
        )
    nan = np.isnan(arr)
    if not np.array_equal(nan, nan.transpose(0, 2, 1)):
        s = int(np.argwhere(nan != nan.transpose(0, 2, 1))[0, 0])
        raise DataError(
            "NaN must be symmetric (a missing pair is missing both ways)",
            record=s,
            field="dissimilarity",
        )
    filled = np.where(nan, 0.0, arr)
    asym = np.abs(filled - filled.transpose(0, 2, 1)).max(axis=(1, 2))
    if (asym > atol).any():
        s = int(np.argmax(asym > atol))
        raise DataError(
            f"expected a symmetric matrix, max |d - d.T| = {asym[s]:g}",
            record=s,
            field="dissimilarity",
        )
    diag = np.abs(np.diagonal(filled, axis1=1, axis2=2)).max(axis=1)
    if (diag > atol).any():
        s = int(np.argmax(diag > atol))
        raise DataError(
            f"expected a zero diagonal, max |diag| = {diag[s]:g}", record=s, field="dissimilarity"
        )
    return ds


@xr.register_dataset_accessor("rdms")
class RDMsAccessor:
    """Helpers on an ``RDMs`` dataset: ``ds.rdms.<method>``."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def validate(self) -> xr.Dataset:
        """Validate against the schema (see :func:`validate_rdms`)."""
        return validate_rdms(self._ds)

    @property
    def n_stimuli(self) -> int:
        """Number of stimuli (conditions)."""
        return int(self._ds.sizes["stimulus"])

    def upper_triangle(self) -> np.ndarray:
        """Condensed upper triangles (k=1), shape ``(subject, n * (n - 1) / 2)``, row-major order."""
        n = self.n_stimuli
        iu = np.triu_indices(n, k=1)
        return self._ds["dissimilarity"].values[:, iu[0], iu[1]]

    def mean(self) -> np.ndarray:
        """Subject-average RDM (NaN-aware), shape ``(n, n)``."""
        return np.nanmean(self._ds["dissimilarity"].values, axis=0)
