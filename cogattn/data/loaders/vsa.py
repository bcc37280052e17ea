"""Loader for the visual-search-asymmetry model outputs (Gupta et al. 2021, kreimanlab/VisualSearchAsymmetry).

Files (``vs_exp/**`` upstream; see the data folder's README):

- ``out_data/<stimulus set>_<task>.csv`` — integer matrix (trials × fixation slots); row ``i``
  is one-hot at column ``k`` = number of fixations after the initial central one (saccades)
  needed to find the target; an all-zero row means not found, which the original analysis
  counts as ``k = set size``. Rows come in set-size blocks (curvature 8/16/32 × 30; lighting
  1/6/12 × 30; intersection 3/6/9 × 36; categorization = orientation 1/4/8/12 × 30).
- ``fix/<stimulus set>_<task>.npy`` — ``(trials, slots, 2)`` predicted fixations, stored as
  integer pixel indices **(row, col) = (y, x)** of the stimulus, padded with ``(0, 0)``
  after the last fixation (the first fixation is the display centre; a ``(0, 0)`` inside a
  scanpath is a real fixation on the corner, where the original loop lands when its priority
  map is all zero — the scanpath length comes from the CSV). They
  are converted to image pixels with the origin at the top-left *corner*: ``x = col + 0.5``,
  ``y = row + 0.5`` (pixel centres), on the square displays of the original generators
  (side ``int(view_deg · 30)``: 339 px for curvature and orientation, 615 px for
  intersection, 198 px for lighting).

:func:`load_search_outputs` returns one trial-level ``xarray.Dataset`` with the same
variables as :meth:`cogattn.gaze.models._search.SearchModel.search` (``n_fixations``,
``found``, coords ``experiment``, ``task``, ``set_size``), so the analysis in
:mod:`cogattn.gaze.search` works on both.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError
from cogattn.stimuli.search_arrays import TASKS

__all__ = ["load_search_outputs"]

logger = logging.getLogger(__name__)

_STIMULUS_SETS = ("categorization", "curvature", "intersection", "lightning_dir")
_DISPLAY_SIDE_PX = {
    "categorization": 339,
    "curvature": 339,
    "intersection": 615,
    "lightning_dir": 198,
}
_STEM = re.compile(r"^(categorization|curvature|intersection|lightning_dir)_(.+)$")


def _parse_stem(path: Path) -> tuple[str, str]:
    m = _STEM.match(path.stem)
    if not m or m.group(2) not in TASKS or TASKS[m.group(2)].stimulus_set != m.group(1):
        raise DataError(
            f"file name must be '<stimulus set>_<task>' with a stimulus set in {_STIMULUS_SETS} "
            f"and one of its tasks ({sorted(TASKS)}), got {path.name!r}",
            path=path,
        )
    return m.group(1), m.group(2)


def _set_sizes(path: Path, task: str, n_rows: int) -> np.ndarray:
    spec = TASKS[task]
    expected = len(spec.set_sizes) * spec.n_per_set_size
    if n_rows != expected:
        raise DataError(
            f"expected {expected} rows ({len(spec.set_sizes)} set sizes {spec.set_sizes} × "
            f"{spec.n_per_set_size} displays) for task {task!r}, got {n_rows}",
            path=path,
        )
    return np.repeat(np.asarray(spec.set_sizes, dtype=np.int64), spec.n_per_set_size)


def _load_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        data = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as err:
        raise DataError(f"not a numeric CSV matrix ({err})", path=path) from err
    if data.size == 0:
        raise DataError("empty file", path=path)
    bad = ~np.isin(data, (0, 1))
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise DataError("expected a one-hot 0/1 matrix", path=path, record=row)
    hits = data.sum(axis=1)
    if (hits > 1).any():
        row = int(np.flatnonzero(hits > 1)[0])
        raise DataError(
            f"row has {int(hits[row])} ones, expected one (or none: not found)",
            path=path,
            record=row,
        )
    return data.argmax(axis=1).astype(np.int64), hits == 1


def _build(
    path: Path,
    stimulus_set: str,
    task: str,
    k: np.ndarray,
    found: np.ndarray,
    fixations: np.ndarray | None,
    source: str,
) -> xr.Dataset:
    set_size = _set_sizes(path, task, k.size)
    n_fix = np.where(found, k, set_size)
    spec = TASKS[task]
    data_vars: dict = {
        "n_fixations": (
            "trial",
            n_fix,
            {
                "long_name": "fixations after the first to find the target",
                "not_found": "set size of the display (original analysis convention)",
            },
        ),
        "found": ("trial", found, {"long_name": "target found within the fixation cap"}),
    }
    coords: dict = {
        "trial": np.arange(k.size),
        "set_size": ("trial", set_size),
        "task": ("trial", np.full(k.size, task, dtype=object).astype(str)),
        "experiment": ("trial", np.full(k.size, spec.experiment, dtype=object).astype(str)),
        "stimulus_set": ("trial", np.full(k.size, stimulus_set, dtype=object).astype(str)),
    }
    attrs = {
        "source": source,
        "model": path.parent.parent.name if path.parent.name in ("out_data", "fix") else "",
        "n_fixations_convention": "saccades after the central start; not found = set size",
    }
    if fixations is not None:
        xy = _convert_fixations(path, fixations, k.size, k, found)
        x, y, length = xy
        data_vars["x"] = (
            ("trial", "fixation"),
            x,
            {"units": "px", "long_name": "fixation x (right from image left edge)"},
        )
        data_vars["y"] = (
            ("trial", "fixation"),
            y,
            {"units": "px", "long_name": "fixation y (down from image top edge)"},
        )
        coords["fixation"] = np.arange(x.shape[1])
        coords["length"] = ("trial", length)
        side = _DISPLAY_SIDE_PX[stimulus_set]
        attrs["image_size_px"] = [side, side]
        attrs["coordinate_convention"] = (
            "image pixels, origin top-left corner, x right, y down; converted from upstream "
            "(row, col) pixel indices as x = col + 0.5, y = row + 0.5"
        )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _convert_fixations(
    path: Path, fix: np.ndarray, n_rows: int, k: np.ndarray, found: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixation counts and pixel coordinates.

    A trial's fixations are the first ``k + 1`` slots when the target was found (``k``
    saccades), else every slot up to the last non-``(0, 0)`` one. ``(0, 0)`` *inside* a
    scanpath is a real fixation: the original loop lands on the display's corner when its
    priority map is all zero.
    """
    if fix.ndim != 3 or fix.shape[2] != 2:
        raise DataError(
            f"expected an array (trials, fixations, 2), got shape {fix.shape}", path=path
        )
    if fix.shape[0] != n_rows:
        raise DataError(f"expected {n_rows} trials, got {fix.shape[0]}", path=path)
    nonzero = np.abs(fix).sum(axis=-1) > 0
    last = np.where(nonzero.any(axis=1), fix.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)
    length = np.where(found, k + 1, last).astype(np.int64)
    if np.any(length > fix.shape[1]):
        row = int(np.flatnonzero(length > fix.shape[1])[0])
        raise DataError(
            f"found after {int(k[row])} saccades but only {fix.shape[1]} fixation slots",
            path=path,
            record=row,
        )
    if np.any(found & (last > length)):
        row = int(np.flatnonzero(found & (last > length))[0])
        raise DataError(
            f"fixations continue after the target was found (after {int(k[row])} saccades)",
            path=path,
            record=row,
        )
    real = np.arange(fix.shape[1])[None, :] < length[:, None]
    row_idx, col_idx = fix[..., 0], fix[..., 1]
    x = np.where(real, col_idx + 0.5, np.nan)
    y = np.where(real, row_idx + 0.5, np.nan)
    return x, y, length


def load_search_outputs(path: str | os.PathLike) -> xr.Dataset:
    """Load visual-search-asymmetry model outputs as a trial-level Dataset.

    Parameters
    ----------
    path : path
        One of: an ``out_data/<stimulus set>_<task>.csv`` file; a ``fix/<stimulus set>_<task>.npy``
        file (its sibling ``out_data`` CSV is read too for ``found``; fixations are
        included); or a model directory holding ``out_data/`` (all its tasks are
        concatenated, with fixations where ``fix/`` has them).

    Returns
    -------
    xarray.Dataset
        Dim ``trial``; variables ``n_fixations`` (int: saccades after the central start to
        find the target; not found = the display's set size, as in the original analysis)
        and ``found`` (bool); coords ``set_size``, ``task``, ``experiment`` (one of the six
        asymmetry experiments), ``stimulus_set``. With fixations: ``x``, ``y``
        (trial × fixation, NaN-padded, image pixels) and ``length``.

    Raises
    ------
    DataError
        For unknown file names, wrong row counts, non-one-hot rows, bad fixation arrays.

    Examples
    --------
    >>> from cogattn.data.paths import shared_data_dir
    >>> root = shared_data_dir(required=False)
    >>> if root is not None:
    ...     ds = load_search_outputs(root / "vsa_asymmetry_model_outputs" / "eccNET" / "out" / "eccNET")
    ...     print(ds.sizes["trial"], sorted(set(ds.experiment.values.tolist()))[:2])
    1272 ['curvature', 'intersection_cross']
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no search-output file or folder at {str(p)!r}")
    if p.is_dir():
        csvs = sorted((p / "out_data").glob("*.csv")) if (p / "out_data").is_dir() else []
        if not csvs:
            raise DataError(
                "expected a model folder with out_data/<stimulus set>_<task>.csv files", path=p
            )
        parts = []
        for csv in csvs:
            npy = p / "fix" / f"{csv.stem}.npy"
            parts.append(load_search_outputs(npy if npy.is_file() else csv))
        with_fix = [d for d in parts if "x" in d]
        if with_fix and len(with_fix) != len(parts):
            logger.info(
                "%s: fixations only for %d of %d tasks; dropping them", p, len(with_fix), len(parts)
            )
            parts = [d.drop_vars(["x", "y", "length", "fixation"], errors="ignore") for d in parts]
        if with_fix and len(with_fix) == len(parts):
            # displays differ in size between stimulus sets: keep per-trial image size
            for d in parts:
                side = d.attrs.pop("image_size_px")[0]
                d.coords["image_size"] = ("trial", np.full(d.sizes["trial"], side, dtype=np.int64))
        ds = xr.concat(
            parts,
            dim="trial",
            join="outer",
            combine_attrs="drop_conflicts",
            fill_value={"x": np.nan, "y": np.nan},
        )
        ds = ds.assign_coords(trial=np.arange(ds.sizes["trial"]))
        ds.attrs["source"] = str(p)
        ds.attrs["model"] = p.name
        return ds
    stimulus_set, task = _parse_stem(p)
    if p.suffix == ".csv":
        k, found = _load_csv(p)
        return _build(p, stimulus_set, task, k, found, None, str(p))
    if p.suffix == ".npy":
        try:
            fix = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise DataError(f"not a numpy array file ({err})", path=p) from err
        csv = p.parent.parent / "out_data" / f"{p.stem}.csv"
        if csv.is_file():
            k, found = _load_csv(csv)
        else:  # derive from the fixations: found iff the search stopped before the cap
            logger.info("%s: no sibling out_data CSV; deriving n_fixations from the fixations", p)
            nonzero = np.abs(fix).sum(axis=-1) > 0
            length = fix.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
            k = length - 1
            found = length < fix.shape[1]
        return _build(p, stimulus_set, task, k.astype(np.int64), found, fix, str(p))
    raise DataError(f"expected a .csv, a .npy or a model folder, got {p.suffix!r}", path=p)
