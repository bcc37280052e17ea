"""Design matrices for voxelwise encoding: FIR delays, events → time series, standardisation.

Conventions
-----------
- Time series are arrays ``(n_volumes, n_features)``; volume ``t`` is acquired over
  ``[t * tr_s, (t + 1) * tr_s)`` seconds from the start of the run.
- **Events → design** (:func:`events_to_design`): each event (``onset``, ``duration`` in
  seconds, ``stimulus`` name) adds its stimulus's feature vector to every volume its interval
  overlaps, weighted by the overlapping fraction of the TR (a boxcar integrated over each
  volume). A zero-duration event is an impulse of weight 1 in the volume containing its onset.
  The haemodynamic lag is not modelled here: it is learned by FIR delays.
- **FIR delays** (:func:`delay_features`): for delays ``(d_1, …, d_D)`` in TRs, the delayed
  design is ``[X(t - d_1) | … | X(t - d_D)]`` (delay-major column blocks), zero-filled where
  ``t - d`` falls before the start of the run, never crossing run boundaries. This is the
  finite-impulse-response model of voxelwise encoding (Nishimoto et al. 2011, *Curr. Biol.*;
  Huth et al. 2016, *Nature*; gallantlab voxelwise tutorials use delays 1–4 TRs at TR = 2 s).
- **Standardisation** (:func:`standardize`): statistics come from the training data only and
  are applied unchanged to any other split.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cogattn.data.errors import DataError

__all__ = [
    "EVENT_COLUMNS",
    "delay_features",
    "events_to_design",
    "read_events",
    "standardize",
]

logger = logging.getLogger(__name__)

#: Required columns of an events table (BIDS-like; ``stim_file`` is accepted for ``stimulus``).
EVENT_COLUMNS = ("onset", "duration", "stimulus")


def delay_features(
    X: Any, delays_tr: Sequence[int], *, runs: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """Stack time-shifted copies of a design (finite-impulse-response delays).

    Parameters
    ----------
    X : array (n_volumes, n_features)
        Design time series (rows are consecutive volumes).
    delays_tr : sequence of int
        Delays in TRs; ``d > 0`` means the response at ``t`` depends on the stimulus at
        ``t - d``. Negative delays (leads) are allowed.
    runs : array (n_volumes,), optional
        Run label of each volume; shifts never cross a change of label. Default: one run.

    Returns
    -------
    array (n_volumes, n_features * len(delays_tr))
        ``[X(t - d_1) | X(t - d_2) | …]``, zero where the shifted index leaves its run.

    Examples
    --------
    >>> delay_features(np.arange(1.0, 5.0)[:, None], (0, 1)).tolist()
    [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [4.0, 3.0]]
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_volumes, n_features), got shape {X.shape}")
    delays = _check_delays(delays_tr)
    n = X.shape[0]
    if runs is None:
        labels = np.zeros(n, dtype=np.int64)
    else:
        labels = np.asarray(runs)
        if labels.shape != (n,):
            raise ValueError(f"runs must have one label per volume ({n}), got shape {labels.shape}")
    # run boundaries: [start, stop) of each contiguous block of equal labels
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [n]])
    out = np.zeros((n, X.shape[1] * len(delays)), dtype=np.result_type(X.dtype, np.float32))
    p = X.shape[1]
    for j, d in enumerate(delays):
        block = out[:, j * p : (j + 1) * p]
        for a, b in zip(starts, stops):
            if d >= 0:
                if d < b - a:
                    block[a + d : b] = X[a : b - d]
            elif -d < b - a:
                block[a : b + d] = X[a - d : b]
    return out


def _check_delays(delays_tr: Sequence[int]) -> tuple[int, ...]:
    try:
        delays = tuple(int(d) for d in delays_tr)
    except (TypeError, ValueError):
        raise ValueError(f"delays_tr must be a sequence of ints, got {delays_tr!r}") from None
    if not delays:
        raise ValueError("delays_tr must contain at least one delay")
    if any(float(d) != float(o) for d, o in zip(delays, delays_tr)):
        raise ValueError(f"delays_tr must be whole numbers of TRs, got {delays_tr!r}")
    if len(set(delays)) != len(delays):
        raise ValueError(f"delays_tr has repeated values: {delays_tr!r}")
    return delays


def read_events(path: str | Path) -> pd.DataFrame:
    """Read and validate an events table (CSV, or TSV when the suffix is ``.tsv``).

    Required columns: ``onset`` (s), ``duration`` (s) and ``stimulus`` (a stimulus name, e.g.
    an image file name; the BIDS column ``stim_file`` is accepted instead). Other columns are
    kept.

    Raises
    ------
    DataError
        Missing columns, non-numeric or negative onsets/durations, or empty stimulus names
        (the message names the file, the row and the column).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"events file not found: {path}")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    table = pd.read_csv(path, sep=sep)
    return validate_events(table, path=path)


def validate_events(table: pd.DataFrame, *, path: str | Path | None = None) -> pd.DataFrame:
    """Check an events table (see :func:`read_events`); return a cleaned copy."""
    table = table.copy()
    if "stimulus" not in table.columns and "stim_file" in table.columns:
        table = table.rename(columns={"stim_file": "stimulus"})
    missing = [c for c in EVENT_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}; expected {list(EVENT_COLUMNS)} (found {list(table.columns)})",
            path=path,
            field=missing[0],
        )
    for col in ("onset", "duration"):
        values = pd.to_numeric(table[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)) | (values < 0).to_numpy())
        if bad.size:
            raise DataError(
                f"expected a finite number ≥ 0 (seconds), got {table[col].iloc[bad[0]]!r}",
                path=path,
                record=int(bad[0]),
                field=col,
            )
        table[col] = values.astype(float)
    names = table["stimulus"].astype(str).str.strip()
    empty = np.flatnonzero((names == "") | table["stimulus"].isna().to_numpy())
    if empty.size:
        raise DataError("empty stimulus name", path=path, record=int(empty[0]), field="stimulus")
    table["stimulus"] = names
    return table


def events_to_design(
    events: pd.DataFrame | str | Path,
    features: Any,
    *,
    n_volumes: int,
    tr_s: float,
) -> np.ndarray:
    """Place each event's stimulus features on the volume grid.

    Parameters
    ----------
    events : DataFrame or path
        Events table with ``onset`` and ``duration`` in seconds and ``stimulus`` names
        (see :func:`read_events`).
    features : DataArray (stimulus, …) or mapping name -> 1-D array
        Features per stimulus; a DataArray's ``stimulus`` coordinate holds the names and its
        other dims are flattened.
    n_volumes : int
        Number of volumes in the run.
    tr_s : float
        Repetition time in seconds.

    Returns
    -------
    array (n_volumes, n_features), float32
        Sum over events of ``features[stimulus] * overlap(event, volume) / tr_s``.

    Warns
    -----
    UserWarning
        When events start after the last volume (they are left out) or run past it (cut).

    Examples
    --------
    >>> ev = pd.DataFrame({"onset": [0.0, 3.0], "duration": [2.0, 1.0], "stimulus": ["a", "b"]})
    >>> events_to_design(ev, {"a": [1.0], "b": [10.0]}, n_volumes=3, tr_s=2.0).ravel().tolist()
    [1.0, 5.0, 0.0]
    """
    if not isinstance(events, pd.DataFrame):
        events = read_events(events)
    else:
        events = validate_events(events)
    if tr_s <= 0:
        raise ValueError(f"tr_s must be > 0 seconds, got {tr_s}")
    if n_volumes < 1:
        raise ValueError(f"n_volumes must be ≥ 1, got {n_volumes}")
    names, matrix = feature_table(features)
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted(set(events["stimulus"]) - set(index))
    if unknown:
        row = int(np.flatnonzero(events["stimulus"].isin(unknown).to_numpy())[0])
        raise DataError(
            f"{len(unknown)} stimulus name(s) have no features, e.g. {unknown[:3]} "
            f"(features exist for e.g. {names[:3]})",
            record=row,
            field="stimulus",
        )
    design = np.zeros((n_volumes, matrix.shape[1]), dtype=np.float64)
    scan_end = n_volumes * tr_s
    late, cut = 0, 0
    for onset, duration, name in zip(events["onset"], events["duration"], events["stimulus"]):
        vec = matrix[index[name]]
        if onset >= scan_end:
            late += 1
            continue
        if duration == 0:
            design[int(onset // tr_s)] += vec
            continue
        end = onset + duration
        if end > scan_end:
            cut += 1
            end = scan_end
        first, last = int(onset // tr_s), int(np.ceil(end / tr_s))
        for t in range(first, min(last, n_volumes)):
            overlap = min(end, (t + 1) * tr_s) - max(onset, t * tr_s)
            if overlap > 0:
                design[t] += vec * (overlap / tr_s)
    if late:
        warnings.warn(
            f"{late} event(s) start after the last volume ({scan_end:g} s) and were left out",
            UserWarning,
            stacklevel=2,
        )
    if cut:
        warnings.warn(
            f"{cut} event(s) run past the last volume ({scan_end:g} s) and were cut there",
            UserWarning,
            stacklevel=2,
        )
    return design.astype(np.float32)


def feature_table(features: Any) -> tuple[list[str], np.ndarray]:
    """Stimulus names and a ``(n_stimuli, n_features)`` matrix from a DataArray or a mapping."""
    if isinstance(features, xr.DataArray):
        dim = "stimulus" if "stimulus" in features.dims else features.dims[0]
        arr = features.transpose(dim, ...).values
        names = [str(s) for s in features[dim].values]
        matrix = arr.reshape(arr.shape[0], -1)
    elif isinstance(features, Mapping):
        names = [str(k) for k in features]
        rows = [np.asarray(v, dtype=np.float64).ravel() for v in features.values()]
        sizes = {r.size for r in rows}
        if len(sizes) > 1:
            raise ValueError(f"feature vectors differ in length: {sorted(sizes)}")
        matrix = np.stack(rows) if rows else np.zeros((0, 0))
    else:
        raise TypeError(
            f"features must be a DataArray (stimulus, …) or a mapping name -> vector, got {type(features).__name__}"
        )
    if not np.isfinite(matrix).all():
        raise ValueError("features contain NaN or inf")
    return names, np.asarray(matrix, dtype=np.float64)


def standardize(
    train: Any, *others: Any, axis: int = 0, with_std: bool = True
) -> tuple[np.ndarray, ...]:
    """Z-score ``train`` along ``axis`` and apply the same statistics to ``others``.

    Columns with zero variance are centred but not scaled (scale 1), as in scikit-learn's
    ``StandardScaler``.

    Returns
    -------
    tuple of arrays
        The standardised ``train`` followed by each of ``others``.
    """
    train = np.asarray(train, dtype=np.float64)
    mean = train.mean(axis=axis, keepdims=True)
    scale = train.std(axis=axis, keepdims=True) if with_std else np.ones_like(mean)
    scale = np.where(scale > 0, scale, 1.0)
    return tuple((np.asarray(a, dtype=np.float64) - mean) / scale for a in (train, *others))
