"""Encoding scores and noise ceilings (vectorised, per voxel).

Conventions
-----------
- Arrays are ``(n_samples, n_voxels)`` (samples = stimuli or time points) unless stated;
  every function also takes 1-D input (one voxel) and labelled ``xarray.DataArray`` input, in
  which case the result keeps the voxel coordinates.
- **Pearson r** per voxel over samples (:func:`pearson_r`); NaN for a constant column.
- **R²** per voxel (:func:`r2_score`): ``1 - SS_res / SS_tot``, as scikit-learn's
  ``r2_score(multioutput="raw_values")`` (a constant true column scores 1 if predicted
  exactly, else 0).
- **NSD noise ceiling** (Allen et al. 2022, *Nat. Neurosci.*; formula as used by the
  Algonauts 2023 / transformer-brain-encoder evaluation code):
  ``NC = ncsnr² / (ncsnr² + 1/n)`` for test responses averaged over ``n`` repeats; for
  unequal repeats ``1/n`` becomes the mean over test images of ``1/n_i``
  (``(A/1 + B/2 + C/3)/(A + B + C)`` for A, B, C images with 1, 2, 3 trials).
  NC is a fraction of variance in ``[0, 1]`` here (NSD files store percent: use
  ``percent=True``).
- **ncsnr from repeats** (:func:`ncsnr_from_repeats`, NSD's definition): noise variance =
  pooled variance across repeats of each stimulus (ddof 1, weighted by ``n_i - 1``); total
  variance = variance of all single trials (ddof 1); signal variance =
  ``max(total - noise, 0)``; ``ncsnr = sqrt(signal) / sqrt(noise)``. NSD z-scores betas per
  session before this; do that first to reproduce NSD's files.
- **Noise-normalised score** (:func:`noise_normalized_score`, Algonauts 2023):
  ``min(r² / max(NC, 1e-14), 1)`` — the fraction of explainable variance explained. As in
  the reference code, ``r²`` makes a negative correlation count as positive; pass
  ``negative="zero"`` to score ``r < 0`` as 0.
- **Explainable variance** for repeated time series (:func:`explainable_variance`; as in
  the gallantlab voxelwise tutorials, Sahani & Linden 2003): z-score each repeat in time,
  ``ev = var_t(mean over repeats) / mean over repeats(var_t)``; bias-corrected
  ``ev - (1 - ev) / (n_repeats - 1)``.
- **Split-half reliability** (:func:`split_half_reliability`): Pearson r between the means of
  two halves of the repeats, averaged over random splits, optionally Spearman–Brown
  corrected to the full number of repeats: ``2r / (1 + r)``.
- **Per-ROI summaries** (:func:`roi_summary`): one row per ROI from a boolean
  ``roi × voxel`` mask; overlapping ROIs each count a shared voxel; NaN scores are ignored
  and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "encoding_scores",
    "explainable_variance",
    "nc_denominator",
    "ncsnr_from_repeats",
    "ncsnr_to_nc",
    "noise_normalized_score",
    "pearson_r",
    "r2_score",
    "roi_summary",
    "split_half_reliability",
]


# ---------------------------------------------------------------------- helpers
def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, xr.DataArray | None]:
    """Arrays (n, v) from arrays or DataArrays; the labelled template (if any) for the output."""
    template = None
    for a in (y_true, y_pred):
        if isinstance(a, xr.DataArray) and template is None:
            template = a
    t = np.asarray(y_true.values if isinstance(y_true, xr.DataArray) else y_true, dtype=np.float64)
    p = np.asarray(y_pred.values if isinstance(y_pred, xr.DataArray) else y_pred, dtype=np.float64)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}")
    if t.ndim not in (1, 2):
        raise ValueError(f"expected 1-D or 2-D (samples, voxels) arrays, got shape {t.shape}")
    if t.shape[0] < 2:
        raise ValueError(f"need at least 2 samples, got {t.shape[0]}")
    return t, p, template


def _label(values: np.ndarray, template: xr.DataArray | None, name: str) -> Any:
    if np.ndim(values) == 0:
        return float(values)
    if template is None or template.ndim != 2:
        return values
    vdim = template.dims[1]
    coords = {k: c.variable for k, c in template.coords.items() if set(c.dims) <= {vdim}}
    return xr.DataArray(values, dims=(vdim,), coords=coords, name=name, attrs=dict(template.attrs))


# ---------------------------------------------------------------------- prediction accuracy
def pearson_r(y_true: Any, y_pred: Any) -> Any:
    """Pearson correlation between measured and predicted responses, per voxel.

    Parameters
    ----------
    y_true, y_pred : array (n_samples,) or (n_samples, n_voxels), or DataArray
        Measured and predicted responses (samples along the first axis).

    Returns
    -------
    float, ndarray (n_voxels,) or DataArray (voxel,)
        NaN for a voxel whose measured or predicted values are constant.

    Examples
    --------
    >>> pearson_r([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    0.9933992677987828
    """
    t, p, template = _pair(y_true, y_pred)
    tc = t - t.mean(0)
    pc = p - p.mean(0)
    num = (tc * pc).sum(0)
    den = np.sqrt((tc**2).sum(0) * (pc**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return _label(np.clip(r, -1.0, 1.0), template, "r")


def r2_score(y_true: Any, y_pred: Any) -> Any:
    """Coefficient of determination per voxel, ``1 - SS_res / SS_tot``.

    Same values as ``sklearn.metrics.r2_score(y_true, y_pred, multioutput="raw_values")``
    (a voxel with constant ``y_true`` scores 1 if predicted exactly, else 0). Can be negative.

    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    t, p, template = _pair(y_true, y_pred)
    ss_res = ((t - p) ** 2).sum(0)
    ss_tot = ((t - t.mean(0)) ** 2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    r2 = np.where((ss_tot == 0) & (ss_res == 0), 1.0, r2)
    return _label(r2, template, "r2")


# ---------------------------------------------------------------------- noise ceilings
def nc_denominator(n_repeats: Any) -> float:
    """The ``1/n`` term of the NSD noise ceiling for test images with ``n_repeats`` trials each.

    Parameters
    ----------
    n_repeats : int or array of int
        Trials averaged per test image: one number (all images alike) or one per image.

    Returns
    -------
    float
        ``mean_i(1 / n_i)``, e.g. ``(A/1 + B/2 + C/3) / (A + B + C)``.

    Examples
    --------
    >>> nc_denominator(3)
    0.3333333333333333
    >>> nc_denominator([1, 2, 2, 3])  # A=1, B=2, C=1: (1 + 2/2 + 1/3) / 4
    0.5833333333333333
    """
    arr = np.atleast_1d(np.asarray(n_repeats, dtype=np.float64))
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 1) or np.any(arr % 1):
        raise ValueError(f"n_repeats must be whole numbers ≥ 1, got {n_repeats!r}")
    return float(np.mean(1.0 / arr))


def ncsnr_to_nc(ncsnr: Any, n_repeats: Any = 1, *, percent: bool = False) -> Any:
    """Noise ceiling from NSD's noise-ceiling SNR: ``ncsnr² / (ncsnr² + mean(1/n_i))``.

    Parameters
    ----------
    ncsnr : float, array or DataArray (voxel,)
        Noise-ceiling SNR per voxel (≥ 0; NaN passes through).
    n_repeats : int or array of int, default 1
        Trials averaged per test image (see :func:`nc_denominator`). NSD's shared images
        averaged over 3 trials: ``n_repeats=3``.
    percent : bool, default False
        Return percent of variance (NSD's file convention) instead of a fraction.

    Returns
    -------
    float, ndarray or DataArray
        Fraction (or percent) of the variance of the trial-averaged response that is
        stimulus-driven (Allen et al. 2022).

    Examples
    --------
    >>> ncsnr_to_nc(1.0, 3)  # 1 / (1 + 1/3)
    0.75
    """
    denom = nc_denominator(n_repeats)
    if isinstance(ncsnr, xr.DataArray):
        values = ncsnr_to_nc(ncsnr.values, n_repeats, percent=percent)
        return ncsnr.copy(data=np.asarray(values)).rename("nc")
    s = np.asarray(ncsnr, dtype=np.float64)
    if np.any(s[np.isfinite(s)] < 0):
        raise ValueError("ncsnr must be ≥ 0 (it is a ratio of standard deviations)")
    nc = s**2 / (s**2 + denom)
    nc = nc * 100.0 if percent else nc
    return float(nc) if nc.ndim == 0 else nc


def ncsnr_from_repeats(data: Any) -> Any:
    """Estimate NSD's noise-ceiling SNR per voxel from single-trial responses.

    Parameters
    ----------
    data : array (n_stimuli, n_repeats, n_voxels), or a Responses Dataset with a ``repeat`` dim
        Single-trial responses; NaN marks a missing repeat (unequal repeats are allowed).
        Stimuli with a single trial add to the total variance but not to the noise estimate.

    Returns
    -------
    ndarray (n_voxels,) or DataArray (voxel,)
        ``sqrt(max(var_total - var_noise, 0)) / sqrt(var_noise)`` (Allen et al. 2022).

    Raises
    ------
    ValueError
        When no stimulus has two or more trials (the noise cannot be estimated).
    """
    template = None
    if isinstance(data, xr.Dataset):
        if "repeat" not in data["response"].dims:
            raise ValueError("the Responses dataset has no 'repeat' dim (single trials needed)")
        template = data
        data = data["response"].transpose("stimulus", "repeat", "voxel").values
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"expected (stimuli, repeats, voxels), got shape {arr.shape}")
    counts = np.isfinite(arr).sum(1)  # (stim, vox)
    mean = np.nanmean(np.where(counts[:, None, :] > 0, arr, 0.0), axis=1)
    dev2 = np.where(np.isfinite(arr), (arr - mean[:, None, :]) ** 2, 0.0).sum(1)  # (stim, vox)
    dof = np.clip(counts - 1, 0, None).sum(0)
    if np.any(dof == 0):
        raise ValueError("need at least one stimulus with two or more trials to estimate noise")
    noise_var = dev2.sum(0) / dof
    trials = arr.reshape(-1, arr.shape[2])
    total_var = np.nanvar(trials, axis=0, ddof=1)
    signal_var = np.clip(total_var - noise_var, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        ncsnr = np.sqrt(signal_var) / np.sqrt(noise_var)
    if template is not None:
        return xr.DataArray(
            ncsnr,
            dims=("voxel",),
            coords={k: c.variable for k, c in template.coords.items() if c.dims == ("voxel",)},
            name="ncsnr",
        )
    return ncsnr


def noise_normalized_score(r: Any, nc: Any, *, negative: str = "square") -> Any:
    """Noise-ceiling-normalised accuracy ``min(r² / max(NC, 1e-14), 1)`` (Algonauts 2023).

    Parameters
    ----------
    r : float, array or DataArray
        Pearson r per voxel (test set, trial-averaged responses).
    nc : float, array or DataArray
        Noise ceiling per voxel as a fraction (see :func:`ncsnr_to_nc`); NaN where unknown.
    negative : {"square", "zero"}, default "square"
        ``"square"`` follows the reference formula (``r²``, so ``r = -0.5`` scores like
        ``0.5``); ``"zero"`` scores ``r < 0`` as 0.

    Returns
    -------
    float, ndarray or DataArray
        Fraction of explainable variance explained, in ``[0, 1]`` (×100 for the Algonauts
        leaderboard number).

    Examples
    --------
    >>> noise_normalized_score(0.5, 0.5)
    0.5
    >>> noise_normalized_score(0.9, 0.5)  # capped
    1.0
    """
    if negative not in ("square", "zero"):
        raise ValueError(f"negative must be 'square' or 'zero', got {negative!r}")
    template = r if isinstance(r, xr.DataArray) else None
    r_arr = np.asarray(r.values if isinstance(r, xr.DataArray) else r, dtype=np.float64)
    nc_arr = np.asarray(nc.values if isinstance(nc, xr.DataArray) else nc, dtype=np.float64)
    if np.any(nc_arr[np.isfinite(nc_arr)] > 1.0 + 1e-9):
        raise ValueError("nc must be a fraction in [0, 1]; got values > 1 (percent? divide by 100)")
    r2 = r_arr**2
    if negative == "zero":
        r2 = np.where(r_arr < 0, 0.0, r2)
    score = np.minimum(r2 / np.maximum(nc_arr, 1e-14), 1.0)
    score = np.where(np.isnan(r_arr) | np.isnan(nc_arr), np.nan, score)
    if template is not None:
        return template.copy(data=score).rename("score")
    return float(score) if score.ndim == 0 else score


def encoding_scores(
    y_true: Any, y_pred: Any, *, ncsnr: Any = None, n_repeats: Any = 1
) -> xr.Dataset:
    """Pearson r, R², and (with ``ncsnr``) noise ceiling and normalised score, per voxel.

    Parameters
    ----------
    y_true : array, DataArray or Responses Dataset
        Measured test responses (a Responses dataset with ``repeat`` is averaged over repeats;
        its ``ncsnr`` coordinate is used when ``ncsnr`` is not given, and the number of
        non-missing repeats per stimulus gives ``n_repeats``).
    y_pred : array or DataArray (samples, voxels)
        Predictions.
    ncsnr : array (voxels,), optional
        NSD noise-ceiling SNR per voxel.
    n_repeats : int or array of int, default 1
        Trials averaged per test image (ignored when taken from a Responses dataset).

    Returns
    -------
    xarray.Dataset
        Variables ``r``, ``r2`` and, when a finite ncsnr is available, ``nc`` (fraction) and
        ``score`` (= :func:`noise_normalized_score`), along ``voxel``.
    """
    coords: dict[str, Any] = {}
    if isinstance(y_true, xr.Dataset):
        ds = y_true
        if "repeat" in ds["response"].dims:
            resp = ds["response"].transpose("stimulus", "repeat", "voxel").values
            n_repeats = np.isfinite(resp).sum(1).max(1)
            ds = ds.responses.mean_repeats()
        if ncsnr is None and "ncsnr" in ds.coords and np.isfinite(ds["ncsnr"].values).any():
            ncsnr = ds["ncsnr"].values
        coords = {k: c.variable for k, c in ds.coords.items() if c.dims == ("voxel",)}
        y_true = ds["response"].transpose("stimulus", "voxel").values
    t = np.asarray(y_true.values if isinstance(y_true, xr.DataArray) else y_true, dtype=float)
    p = np.asarray(y_pred.values if isinstance(y_pred, xr.DataArray) else y_pred, dtype=float)
    if t.ndim == 1:
        t, p = t[:, None], p[:, None]
    out = xr.Dataset(
        {"r": ("voxel", pearson_r(t, p)), "r2": ("voxel", r2_score(t, p))}, coords=coords
    )
    if ncsnr is not None:
        nc = ncsnr_to_nc(np.asarray(ncsnr, dtype=float), n_repeats)
        out["nc"] = ("voxel", nc)
        out["score"] = ("voxel", noise_normalized_score(out["r"].values, nc))
        out.attrs["nc_denominator"] = nc_denominator(n_repeats)
    return out


# ---------------------------------------------------------------------- time series
def _repeats_array(data: Any) -> np.ndarray:
    arr = np.asarray(data.values if isinstance(data, xr.DataArray) else data, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[0] < 2:
        raise ValueError(
            f"expected (n_repeats ≥ 2, n_times, n_voxels) responses, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError("repeated time series must be finite (no missing repeats here)")
    return arr


def explainable_variance(data: Any, *, bias_correction: bool = True) -> np.ndarray:
    """Explainable variance of repeated time series, per voxel.

    Parameters
    ----------
    data : array (n_repeats, n_times, n_voxels)
        The same stimulus sequence presented ``n_repeats`` times.
    bias_correction : bool, default True
        Subtract the finite-repeat bias: ``ev - (1 - ev) / (n_repeats - 1)``.

    Returns
    -------
    ndarray (n_voxels,)
        Fraction of variance shared across repeats (Sahani & Linden 2003; gallantlab
        voxelwise tutorials). Constant repeats give NaN.
    """
    arr = _repeats_array(data)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (arr - arr.mean(1, keepdims=True)) / arr.std(1, keepdims=True)
        ev = z.mean(0).var(0) / z.var(1).mean(0)
    if bias_correction:
        ev = ev - (1.0 - ev) / (arr.shape[0] - 1)
    return ev


def split_half_reliability(
    data: Any, *, n_splits: int = 20, spearman_brown: bool = True, seed: int | None = 0
) -> np.ndarray:
    """Split-half reliability of repeated responses, per voxel.

    Parameters
    ----------
    data : array (n_repeats, n_samples, n_voxels)
        Repeats of the same stimuli (time points or images).
    n_splits : int, default 20
        Random halvings averaged (with 2 or 3 repeats every distinct split is used once).
    spearman_brown : bool, default True
        Correct to the reliability of the mean of all repeats: ``2r / (1 + r)``.
    seed : int, optional
        Seed of the random halvings.

    Returns
    -------
    ndarray (n_voxels,)
        Mean split-half correlation (Spearman–Brown corrected if asked).
    """
    arr = _repeats_array(data)
    n_rep = arr.shape[0]
    rng = np.random.default_rng(seed)
    half = n_rep // 2
    if n_rep == 2:
        splits = [np.array([0])]
    elif n_rep == 3:  # every distinct 1-vs-2 split
        splits = [np.array([i]) for i in range(3)]
    else:
        splits = [rng.permutation(n_rep)[:half] for _ in range(n_splits)]
    rs = []
    for a in splits:
        b = np.setdiff1d(np.arange(n_rep), a)
        rs.append(pearson_r(arr[a].mean(0), arr[b].mean(0)))
    r = np.nanmean(np.stack(rs), axis=0) if rs else np.full(arr.shape[2], np.nan)
    if spearman_brown:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = 2 * r / (1 + r)
    return r


# ---------------------------------------------------------------------- ROI summaries
def roi_summary(
    values: Any,
    rois: Any,
    *,
    by_hemisphere: bool = False,
    hemisphere: Any = None,
) -> xr.Dataset:
    """Summarise per-voxel values within each ROI (overlapping ROIs allowed).

    Parameters
    ----------
    values : array or DataArray (voxel,), or a Dataset of such variables
        Per-voxel values (scores, r, NC, …). With a Dataset every variable is summarised.
    rois : Responses Dataset, DataArray (roi, voxel) of bool, or mapping name -> mask/indices
        ROI membership. A Responses dataset's ``roi_mask`` (and ``hemisphere``) are used.
    by_hemisphere : bool, default False
        Add a ``hemisphere`` dim (``"lh"``, ``"rh"``) to the summary.
    hemisphere : array (voxel,), optional
        Hemisphere labels (default: from ``rois`` or ``values`` coordinates).

    Returns
    -------
    xarray.Dataset
        Dims ``roi`` (plus ``hemisphere``); for each variable ``X``: ``X_mean``,
        ``X_median``, ``X_sem`` (NaN-aware), and ``n_voxels`` (members) and ``n_finite``.
        An ``"all"`` row summarises every voxel.
    """
    if isinstance(values, xr.Dataset):
        variables = {k: np.asarray(v.values, dtype=float) for k, v in values.data_vars.items()}
        source_coords = values.coords
    elif isinstance(values, xr.DataArray):
        variables = {str(values.name or "value"): np.asarray(values.values, dtype=float)}
        source_coords = values.coords
    else:
        variables = {"value": np.asarray(values, dtype=float)}
        source_coords = {}
    n_vox = next(iter(variables.values())).shape[0]
    for k, v in variables.items():
        if v.shape != (n_vox,):
            raise ValueError(f"{k}: expected one value per voxel ({n_vox}), got shape {v.shape}")
    names, masks = _roi_masks(rois, n_vox)
    names = ["all", *names]
    masks = np.vstack([np.ones((1, n_vox), dtype=bool), masks])
    if hemisphere is None:
        for src in (rois, source_coords):
            if isinstance(src, (xr.Dataset, xr.DataArray)) and "hemisphere" in src.coords:
                hemisphere = src["hemisphere"].values
                break
    hemis: list[str] = ["lh", "rh"] if by_hemisphere else []
    if by_hemisphere:
        if hemisphere is None:
            raise ValueError("by_hemisphere=True needs hemisphere labels per voxel")
        hemisphere = np.asarray(hemisphere).astype(str)
    groups = [masks] if not by_hemisphere else [masks & (hemisphere == h)[None, :] for h in hemis]
    data: dict[str, Any] = {}
    dims = ("roi",) if not by_hemisphere else ("roi", "hemisphere")

    def stack(fn):
        arrs = [np.array([fn(m) for m in g]) for g in groups]
        return arrs[0] if not by_hemisphere else np.stack(arrs, axis=1)

    data["n_voxels"] = (dims, stack(lambda m: int(m.sum())))
    for k, v in variables.items():
        finite = np.isfinite(v)
        data[f"{k}_mean"] = (dims, stack(lambda m, v=v, f=finite: _stat(v[m & f], np.mean)))
        data[f"{k}_median"] = (dims, stack(lambda m, v=v, f=finite: _stat(v[m & f], np.median)))
        data[f"{k}_sem"] = (dims, stack(lambda m, v=v, f=finite: _sem(v[m & f])))
        data[f"{k}_n_finite"] = (dims, stack(lambda m, f=finite: int((m & f).sum())))
    coords: dict[str, Any] = {"roi": np.array(names, dtype=object)}
    if by_hemisphere:
        coords["hemisphere"] = np.array(hemis, dtype=object)
    return xr.Dataset(data, coords=coords)


def _stat(x: np.ndarray, fn) -> float:
    return float(fn(x)) if x.size else np.nan


def _sem(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan


def _roi_masks(rois: Any, n_vox: int) -> tuple[list[str], np.ndarray]:
    if isinstance(rois, xr.Dataset):
        if "roi_mask" not in rois.coords and "roi_mask" not in rois:
            raise ValueError("the Dataset has no 'roi_mask' (roi × voxel) to summarise by")
        rois = rois["roi_mask"]
    if isinstance(rois, xr.DataArray):
        if rois.ndim != 2 or "roi" not in rois.dims:
            raise ValueError(f"expected a (roi, voxel) boolean mask, got dims {rois.dims}")
        rois = rois.transpose("roi", ...)
        masks = np.asarray(rois.values, dtype=bool)
        names = (
            [str(n) for n in rois["roi"].values]
            if "roi" in rois.coords
            else [f"roi{i}" for i in range(masks.shape[0])]
        )
    elif isinstance(rois, Mapping):
        names, rows = [], []
        for name, m in rois.items():
            arr = np.asarray(m)
            if arr.dtype == bool:
                if arr.shape != (n_vox,):
                    raise ValueError(
                        f"ROI {name!r}: mask has shape {arr.shape}, expected ({n_vox},)"
                    )
                rows.append(arr)
            else:
                row = np.zeros(n_vox, dtype=bool)
                row[arr.astype(np.int64)] = True
                rows.append(row)
            names.append(str(name))
        masks = np.vstack(rows) if rows else np.zeros((0, n_vox), dtype=bool)
    elif rois is None:
        return [], np.zeros((0, n_vox), dtype=bool)
    else:
        raise TypeError(
            f"rois must be a Responses Dataset, a (roi, voxel) DataArray or a mapping, got {type(rois).__name__}"
        )
    if masks.shape[1] != n_vox:
        raise ValueError(f"ROI masks cover {masks.shape[1]} voxels but values have {n_vox}")
    return names, masks
