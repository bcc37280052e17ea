"""Fit voxelwise encoding models to a new fMRI dataset (the ``cogattn brain fit`` workflow).

Two kinds of input, one pipeline:

- **a BOLD run** (4-D NIfTI + mask, or a Responses dataset whose ``stimulus`` is the volume
  index and ``attrs["tr_s"]`` the TR) **plus an events table** (``onset``, ``duration`` in
  seconds, ``stimulus`` = a file name in the stimulus folder; BIDS-like). The design is built by
  placing each stimulus's features at the volumes its presentation overlaps
  (:func:`cogattn.brain.design.events_to_design`), then FIR delays (default 1–4 TRs). The last
  ``test_fraction`` of the run is held out (after a gap of ``max(delays)`` volumes so that no
  test volume shares a delayed stimulus window with the training volumes' responses), and the
  alphas are chosen by contiguous k-fold CV on the rest (LOO is biased on autocorrelated
  series);
- **per-stimulus responses** (a Responses netCDF of betas, ``stimulus`` = image names, with or
  without single-trial ``repeat``s): features are matched to the stimulus names, a random
  ``test_fraction`` of the stimuli is held out, and alphas are chosen by exact LOO. With an
  ``ncsnr`` coordinate (NSD), the noise ceiling and the noise-normalised score are added.

Features come from a backbone layer (:func:`cogattn.encoders.load_backbone`, pooled over
space/tokens by default) or from a netCDF file (``stimulus × …``). The outputs of
:func:`write_fit_outputs` are the fitted model (``model.joblib``), per-voxel maps as NIfTI
(``score_r.nii.gz``, ``best_alpha.nii.gz``, and ``score_nc.nii.gz`` when a noise ceiling
exists), all per-voxel results as netCDF (``scores.nc``), a nilearn glass-brain figure
(``score_map.png``) and an ROI table (``roi_summary.csv``). Every file is written atomically.

:func:`simulate_dataset` writes a synthetic dataset with known weights inside nilearn's
bundled MNI152 brain mask (no download), for trying and testing all of the above.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from cogattn.brain.design import (
    _check_delays,
    delay_features,
    events_to_design,
    feature_table,
    read_events,
    validate_events,
)
from cogattn.brain.metrics import encoding_scores, roi_summary
from cogattn.brain.ridge import RidgeEncoder
from cogattn.data.errors import DataError

__all__ = [
    "FitConfig",
    "FitResult",
    "SimulatedDataset",
    "backbone_features",
    "fit_responses",
    "load_features",
    "plot_score_map",
    "pool_features",
    "r_threshold",
    "run_fit",
    "simulate_dataset",
    "simulated_fit",
    "write_fit_outputs",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    """Options of the fit-to-new-dataset workflow.

    Attributes
    ----------
    alphas : tuple of float, optional
        Ridge grid (default :data:`cogattn.brain.ridge.DEFAULT_ALPHAS`).
    cv : "loo", int or None
        Alpha selection; None: 5-fold (contiguous) for time series, "loo" for per-stimulus
        responses.
    delays_tr : tuple of int
        FIR delays in TRs (time series only).
    test_fraction : float
        Held-out share of the volumes (the end of the run) or of the stimuli (random).
    standardize : {None, "x", "y", "both"}
        Standardisation inside :class:`RidgeEncoder` (training statistics only).
    pool : {"mean", "none"}
        Backbone features: average over spatial/token dims (keep channels) or flatten all.
    seed : int
        Seed of the random stimulus split.
    device, dtype, voxel_chunk_size
        Passed to :class:`RidgeEncoder`.
    """

    alphas: tuple[float, ...] | None = None
    cv: int | str | None = None
    delays_tr: tuple[int, ...] = (1, 2, 3, 4)
    test_fraction: float = 0.2
    standardize: str | None = "x"
    pool: str = "mean"
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    voxel_chunk_size: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.pool not in ("mean", "none"):
            raise ValueError(f"pool must be 'mean' or 'none', got {self.pool!r}")
        _check_delays(self.delays_tr)


@dataclass
class FitResult:
    """What :func:`fit_responses` returns.

    Attributes
    ----------
    model : RidgeEncoder
        Fitted on the training part (inputs: the design rows, delays included).
    scores : xarray.Dataset
        Per voxel: test ``r`` and ``r2``, ``best_alpha``, ``cv_score`` and, with a noise
        ceiling, ``nc`` and ``score`` (r²/NC capped at 1); voxel coords and volume attrs.
    roi_table : pandas.DataFrame
        :func:`cogattn.brain.metrics.roi_summary` of the scores (an ``all`` row first).
    responses : xarray.Dataset
        The Responses the model was fitted to (its voxel coordinates map results to NIfTI).
    train_index, test_index : ndarray of int
        Rows (volumes or stimuli) used for fitting and for testing.
    info : dict
        Mode, sizes, delays, feature description (written to ``fit_info.json``).
    """

    model: RidgeEncoder
    scores: xr.Dataset
    roi_table: pd.DataFrame
    responses: xr.Dataset
    train_index: np.ndarray
    test_index: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------- features
def pool_features(features: xr.DataArray, pool: str = "mean") -> xr.DataArray:
    """Reduce a layer's features to ``(stimulus, feature)``.

    ``"mean"`` averages every dim except ``stimulus`` and the channel dim (``channel`` if
    present, else the last one): spatial maps ``(stimulus, channel, y, x)`` and token
    sequences ``(stimulus, token, channel)`` both become channel vectors. ``"none"`` flattens.
    """
    if "stimulus" not in features.dims:
        raise ValueError(f"features need a 'stimulus' dim, got dims {features.dims}")
    other = [d for d in features.dims if d != "stimulus"]
    if pool == "mean" and len(other) > 1:
        keep = "channel" if "channel" in other else other[-1]
        features = features.mean([d for d in other if d != keep])
        other = [keep]
    elif pool not in ("mean", "none"):
        raise ValueError(f"pool must be 'mean' or 'none', got {pool!r}")
    values = features.transpose("stimulus", *other).values.reshape(features.sizes["stimulus"], -1)
    return xr.DataArray(
        values.astype(np.float32),
        dims=("stimulus", "feature"),
        coords={"stimulus": features["stimulus"].values},
        attrs=dict(features.attrs),
        name=features.name,
    )


def backbone_features(
    stimuli_dir: str | Path,
    names: list[str],
    *,
    backbone: str,
    layer: str,
    weights: str | None = "hub",
    device: str = "cpu",
    pool: str = "mean",
    backbone_kwargs: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Features of the named image files in ``stimuli_dir`` from one backbone layer.

    Returns
    -------
    DataArray (stimulus, feature)
        ``stimulus`` holds the file names, as in the events table.
    """
    from cogattn.encoders import load_backbone

    folder = Path(stimuli_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"stimulus folder not found: {folder}")
    paths, missing = [], []
    for name in names:
        path = folder / name
        (paths if path.is_file() else missing).append(path)
    if missing:
        raise DataError(
            f"{len(missing)} stimulus file(s) not found in {folder}, e.g. {[p.name for p in missing[:3]]}",
            path=folder,
            field="stimulus",
        )
    model = load_backbone(backbone, weights=weights, device=device, **(backbone_kwargs or {}))
    feats = model.features([str(p) for p in paths], layers=[layer])[layer]
    feats = feats.assign_coords(stimulus=[p.name for p in paths])
    out = pool_features(feats, pool)
    out.attrs.update({"backbone": backbone, "layer": layer, "weights": str(weights)})
    return out


def load_features(path: str | Path, *, layer: str | None = None) -> xr.DataArray:
    """Features from a netCDF file: a DataArray, or one variable of a Dataset (``layer``).

    The array needs a ``stimulus`` dim whose labels match the events' / responses' stimuli;
    other dims are flattened.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"features file not found: {path}")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    names = list(ds.data_vars)
    if layer is not None:
        if layer not in names:
            raise DataError(f"no variable {layer!r}; available: {names}", path=path, field=layer)
        da = ds[layer]
    elif len(names) == 1:
        da = ds[names[0]]
    else:
        raise DataError(f"{len(names)} variables {names}: pick one with layer=", path=path)
    if "stimulus" not in da.dims:
        raise DataError(f"expected a 'stimulus' dim, got dims {da.dims}", path=path)
    return pool_features(da, "none") if da.ndim != 2 or "feature" not in da.dims else da


def _match_features(features: xr.DataArray, names: list[str]) -> xr.DataArray:
    """Features in the order of ``names`` (exact labels, else file stems)."""
    labels = [str(s) for s in features["stimulus"].values]
    index = {s: i for i, s in enumerate(labels)}
    if not all(n in index for n in names):
        stems = {Path(s).stem: i for i, s in enumerate(labels)}
        if all(Path(n).stem in stems for n in names):
            index = {n: stems[Path(n).stem] for n in names}
        else:
            missing = [n for n in names if n not in index][:3]
            raise DataError(
                f"no features for stimulus {missing} (features exist for e.g. {labels[:3]})",
                field="stimulus",
            )
    rows = [index[n] if n in index else index[Path(n).stem] for n in names]
    return features.isel(stimulus=rows).assign_coords(stimulus=names)


# ---------------------------------------------------------------------- fitting
def fit_responses(
    responses: xr.Dataset,
    features: xr.DataArray,
    *,
    events: pd.DataFrame | str | Path | None = None,
    config: FitConfig | None = None,
) -> FitResult:
    """Fit a :class:`RidgeEncoder` to a Responses dataset and score it on held-out data.

    Parameters
    ----------
    responses : xarray.Dataset
        Responses schema: a BOLD run (with ``events``; ``attrs["tr_s"]`` needed) or
        per-stimulus responses (without ``events``).
    features : DataArray (stimulus, feature)
        Features per stimulus (see :func:`backbone_features`, :func:`load_features`).
    events : DataFrame or path, optional
        Events table of the run (time-series mode).
    config : FitConfig, optional
        Options.

    Returns
    -------
    FitResult
    """
    from cogattn.data import validate_responses

    config = config or FitConfig()
    validate_responses(responses)
    if features.ndim != 2:
        features = pool_features(features, config.pool)
    timeseries = events is not None
    if timeseries:
        if "repeat" in responses["response"].dims:
            raise DataError("a BOLD run cannot have a 'repeat' dim", field="response")
        tr_s = responses.attrs.get("tr_s")
        if tr_s is None or not np.isfinite(float(tr_s)) or float(tr_s) <= 0:
            raise DataError(
                "the BOLD responses have no repetition time (attrs['tr_s']); pass --tr / tr_s=",
                field="tr_s",
            )
        tr_s = float(tr_s)
        table = validate_events(events) if isinstance(events, pd.DataFrame) else read_events(events)
        n_vol = responses.sizes["stimulus"]
        names = sorted(set(table["stimulus"]))
        feats = _match_features(features, names)
        design = events_to_design(table, feats, n_volumes=n_vol, tr_s=tr_s)
        X = delay_features(design, config.delays_tr)
        n_test = max(1, math.ceil(config.test_fraction * n_vol))
        gap = max(0, max(config.delays_tr))
        test = np.arange(n_vol - n_test, n_vol)
        train = np.arange(0, max(0, n_vol - n_test - gap))
        cv = 5 if config.cv is None else config.cv
        Y = responses["response"].transpose("stimulus", "voxel").values
        mode = "timeseries"
    else:
        ds_mean = responses.responses.mean_repeats()
        names = [str(s) for s in ds_mean["stimulus"].values]
        X = _match_features(features, names).values
        n = len(names)
        n_test = max(1, round(config.test_fraction * n))
        perm = np.random.default_rng(config.seed).permutation(n)
        test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
        cv = "loo" if config.cv is None else config.cv
        Y = ds_mean["response"].transpose("stimulus", "voxel").values
        mode = "stimuli"
    if len(train) < 3:
        raise DataError(
            f"only {len(train)} training rows after holding out {len(test)} for testing; "
            "use a longer run / more stimuli or a smaller test_fraction"
        )
    model = RidgeEncoder(
        alphas=config.alphas,
        cv=cv,
        standardize=config.standardize,
        device=config.device,
        dtype=config.dtype,
        voxel_chunk_size=config.voxel_chunk_size,
    )
    target = xr.DataArray(
        Y[train],
        dims=("sample", "voxel"),
        coords={k: c.variable for k, c in responses.coords.items() if c.dims == ("voxel",)},
    )
    logger.info(
        "fitting %s: %d train / %d test rows, %d features, %d voxels, cv=%s",
        mode,
        len(train),
        len(test),
        X.shape[1],
        Y.shape[1],
        cv,
    )
    model.fit(X[train], target)
    pred = model.predict(X[test]).values
    if mode == "stimuli":
        truth = responses.isel(stimulus=test)
        scores = encoding_scores(truth, pred)
    else:
        scores = encoding_scores(Y[test], pred)
    summary = model.voxel_summary()
    scores["best_alpha"] = ("voxel", summary["best_alpha"].values)
    scores["cv_score"] = ("voxel", summary["cv_score"].values)
    scores = scores.assign_coords(
        {k: c.variable for k, c in responses.coords.items() if c.dims == ("voxel",)}
    )
    scores.attrs.update(
        {k: responses.attrs[k] for k in ("affine", "volume_shape", "space") if k in responses.attrs}
    )
    scores.attrs.update({"mode": mode, "cv": str(cv), "n_train": len(train), "n_test": len(test)})
    variables = [v for v in ("r", "r2", "score") if v in scores]
    table = roi_summary(scores[variables], responses).to_dataframe().reset_index()
    info = {
        "mode": mode,
        "n_train": len(train),
        "n_test": len(test),
        "n_features": int(X.shape[1]),
        "n_voxels": int(Y.shape[1]),
        "cv": str(cv),
        "delays_tr": list(config.delays_tr) if mode == "timeseries" else None,
        "features": {k: str(v) for k, v in features.attrs.items()},
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "solver": model.solver_,
        "design": (
            "events_to_design + delay_features(delays_tr): pass the delayed design to predict"
            if mode == "timeseries"
            else "features matched to responses' stimuli (rows)"
        ),
    }
    return FitResult(model, scores, table, responses, train, test, info)


# ---------------------------------------------------------------------- outputs
def _atomic_path(path: Path) -> Path:
    suffix = "".join(path.suffixes)
    return path.with_name(f".{path.name[: -len(suffix) or None]}.tmp{os.getpid()}{suffix}")


def _write_nifti(img: Any, path: Path) -> Path:
    tmp = _atomic_path(path)
    img.to_filename(str(tmp))
    tmp.replace(path)
    return path


def write_fit_outputs(
    result: FitResult, out_dir: str | Path, *, figure: bool = True
) -> dict[str, Path]:
    """Write the model, maps, tables and figure of a :class:`FitResult` into ``out_dir``.

    Returns
    -------
    dict of str to Path
        ``model``, ``info``, ``scores``, ``roi_summary`` and, for volumetric data,
        ``score_r``, ``best_alpha`` (+ ``score_nc``) NIfTI files and the ``figure``.
    """
    import joblib

    from cogattn.data import save, to_nifti

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    tmp = _atomic_path(out / "model.joblib")
    joblib.dump(result.model, tmp)
    tmp.replace(out / "model.joblib")
    written["model"] = out / "model.joblib"
    tmp = _atomic_path(out / "fit_info.json")
    tmp.write_text(json.dumps(result.info, indent=2, default=str) + "\n")
    tmp.replace(out / "fit_info.json")
    written["info"] = out / "fit_info.json"
    written["scores"] = save(result.scores, out / "scores.nc")
    tmp = _atomic_path(out / "roi_summary.csv")
    result.roi_table.to_csv(tmp, index=False)
    tmp.replace(out / "roi_summary.csv")
    written["roi_summary"] = out / "roi_summary.csv"

    like = result.responses
    volumetric = all(c in like.coords for c in "ijk") and "affine" in like.attrs
    if not volumetric:
        logger.info("responses are not volumetric (no i/j/k + affine): no NIfTI maps or figure")
        return written
    maps = {"score_r": "r", "best_alpha": "best_alpha"}
    if "score" in result.scores:
        maps["score_nc"] = "score"
    for name, var in maps.items():
        values = np.nan_to_num(result.scores[var].values.astype(np.float32))
        written[name] = _write_nifti(to_nifti(values, like=like), out / f"{name}.nii.gz")
    if figure:
        import matplotlib.pyplot as plt

        n_test = int(result.scores.attrs.get("n_test", 0))
        fig = plot_score_map(result.scores, like=like, threshold=r_threshold(n_test) or None)
        tmp = _atomic_path(out / "score_map.png")
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        plt.close(fig)
        tmp.replace(out / "score_map.png")
        written["figure"] = out / "score_map.png"
    return written


def r_threshold(n_samples: int, *, p_value: float = 0.001) -> float:
    """Pearson r above which a one-sided test rejects r = 0 at ``p_value`` (uncorrected,
    independent samples): ``t / sqrt(n - 2 + t²)`` with ``t`` the Student-t quantile."""
    from scipy import stats

    if n_samples < 3:
        return float("nan")
    t = stats.t.ppf(1 - p_value, n_samples - 2)
    return float(t / np.sqrt(n_samples - 2 + t**2))


def plot_score_map(
    scores: xr.Dataset,
    *,
    like: xr.Dataset | None = None,
    variable: str = "r",
    threshold: float | None = None,
    groups: dict[str, np.ndarray] | None = None,
    title: str | None = None,
    figure: Any = None,
) -> Any:
    """Glass brain (nilearn ``plot_glass_brain``) and histogram of a per-voxel score map.

    Parameters
    ----------
    scores : xarray.Dataset
        Per-voxel variables (e.g. from :func:`fit_responses`).
    like : xarray.Dataset, optional
        Voxel geometry (``i``, ``j``, ``k`` coords, ``affine`` / ``volume_shape`` attrs);
        default ``scores`` itself.
    variable : str
        Variable to map.
    threshold : float, optional
        Hide voxels with ``|value|`` below it on the glass brain (drawn on the histogram).
    groups : dict of str to bool array, optional
        Voxel groups drawn as separate histograms (e.g. ground-truth signal voxels).
    title : str, optional
    figure : matplotlib Figure, optional
        Figure to draw into (default: a new one).
    """
    import matplotlib.pyplot as plt
    from nilearn import plotting

    from cogattn.data import to_nifti

    like = scores if like is None else like
    values = scores[variable].values.astype(np.float32)
    img = to_nifti(np.nan_to_num(values), like=like)
    fig = figure or plt.figure(figsize=(10, 4.2))
    ax_brain = fig.add_axes([0.0, 0.05, 0.66, 0.9])
    ax_hist = fig.add_axes([0.74, 0.18, 0.24, 0.68])
    finite = values[np.isfinite(values)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    plotting.plot_glass_brain(
        img,
        axes=ax_brain,
        colorbar=True,
        plot_abs=False,
        cmap="RdBu_r",
        vmin=-vmax,
        vmax=vmax,
        threshold=threshold,
        title=title or f"held-out {variable} per voxel",
    )
    bins = np.linspace(finite.min() if finite.size else -1, finite.max() if finite.size else 1, 41)
    if groups:
        for name, members in groups.items():
            sel = np.asarray(members, dtype=bool) & np.isfinite(values)
            ax_hist.hist(values[sel], bins=bins, alpha=0.6, label=f"{name} ({sel.sum()})")
        ax_hist.legend(fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    else:
        ax_hist.hist(finite, bins=bins, color="0.3")
    if threshold is not None:
        for sign in (-1, 1):
            ax_hist.axvline(sign * threshold, color="k", ls="--", lw=0.8)
    ax_hist.set_xlabel(f"held-out {variable}")
    ax_hist.set_ylabel("voxels")
    return fig


# ---------------------------------------------------------------------- orchestration
def run_fit(
    *,
    out_dir: str | Path,
    bold: str | Path | None = None,
    mask: str | Path | None = None,
    responses: str | Path | xr.Dataset | None = None,
    events: str | Path | None = None,
    stimuli: str | Path | None = None,
    backbone: str | None = None,
    layer: str | None = None,
    weights: str | None = "hub",
    backbone_kwargs: dict[str, Any] | None = None,
    features: str | Path | None = None,
    rois: dict[str, str | Path] | None = None,
    tr_s: float | None = None,
    config: FitConfig | None = None,
) -> tuple[FitResult, dict[str, Path]]:
    """Load inputs, compute or read features, fit, score and write everything (CLI backend).

    Exactly one of ``bold`` (with ``mask``) or ``responses``; exactly one of ``features`` or
    (``stimuli``, ``backbone``, ``layer``).
    """
    from cogattn.data import load_responses

    config = config or FitConfig()
    if (bold is None) == (responses is None):
        raise ValueError("give exactly one of --bold (4-D NIfTI) or --responses (netCDF)")
    if features is None and not (stimuli and backbone and layer):
        raise ValueError("give --features F.nc, or --stimuli DIR with --backbone NAME --layer L")
    if bold is not None:
        options: dict[str, Any] = {}
        if tr_s is not None:
            options["tr_s"] = tr_s
        ds = load_responses(bold, mask=mask, rois=rois or None, **options)
    elif isinstance(responses, xr.Dataset):
        ds = responses
    else:
        ds = load_responses(responses)
    if tr_s is not None:
        ds.attrs["tr_s"] = float(tr_s)
    table = read_events(events) if events is not None else None
    if table is not None:
        names = sorted(set(table["stimulus"]))
    else:
        names = [str(s) for s in ds["stimulus"].values]
    if features is not None:
        feats = load_features(features, layer=layer)
    else:
        feats = backbone_features(
            stimuli,
            names,
            backbone=backbone,
            layer=layer,
            weights=weights,
            device=config.device,
            pool=config.pool,
            backbone_kwargs=backbone_kwargs,
        )
    result = fit_responses(ds, feats, events=table, config=config)
    written = write_fit_outputs(result, out_dir)
    return result, written


# ---------------------------------------------------------------------- simulation
@dataclass
class SimulatedDataset:
    """Files and ground truth written by :func:`simulate_dataset`.

    Attributes
    ----------
    paths : dict of str to Path
        ``bold``, ``mask``, ``events``, ``stimuli`` (folder), ``features``, one
        ``roi_<name>`` mask per ROI and, with a backbone, ``backbone_weights`` (the random
        weights used, a ``.safetensors`` file for ``--weights``).
    weights : ndarray (n_voxels, n_delays * n_features)
        True FIR weights on the delayed design (delay-major columns, in the units of the
        features written to ``features``), zero for noise voxels, in the mask's voxel order.
    signal : ndarray (n_voxels,) of bool
        Voxels that carry stimulus-driven signal (the ``visual`` ROI).
    noise_sd : float
        Noise standard deviation of every voxel.
    tr_s : float
    delays_tr : tuple of int
    """

    paths: dict[str, Path]
    weights: np.ndarray
    signal: np.ndarray
    noise_sd: float
    tr_s: float
    delays_tr: tuple[int, ...]


def simulate_dataset(
    out_dir: str | Path,
    *,
    downsample: int = 4,
    n_stimuli: int = 24,
    n_repeats: int = 3,
    n_features: int = 16,
    tr_s: float = 2.0,
    isi_s: float = 4.0,
    duration_s: float = 2.0,
    delays_tr: tuple[int, ...] = (1, 2, 3, 4),
    hrf: tuple[float, ...] = (0.6, 1.0, 0.5, 0.2),
    signal_sd: float = 1.0,
    noise_sd: float = 1.0,
    image_size: int = 32,
    backbone: str | None = None,
    layer: str | None = None,
    backbone_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
) -> SimulatedDataset:
    """Write a synthetic BOLD run with known voxelwise weights inside the MNI152 brain mask.

    The mask is nilearn's bundled ``load_mni152_brain_mask(resolution=2)`` (no download),
    subsampled every ``downsample`` voxels (2 mm × ``downsample``). Voxels with world ``y``
    below -60 mm (occipital) form the ``visual`` ROI and carry signal; voxels with ``y`` above
    +20 mm form a ``frontal`` ROI (noise only). Stimuli are random images (PNG); each is shown
    ``n_repeats`` times in random order, one every ``isi_s`` seconds for ``duration_s``.
    Features are Gaussian (``n_features`` per stimulus), or a backbone layer's pooled features
    of the images when ``backbone`` is given. The BOLD signal of a visual voxel is
    ``Σ_d hrf[d] · design(t - delays[d]) @ w_v`` with ``w_v,j ~ N(0, 1/p) / sd(feature j)``,
    scaled so that the visual voxels' signal has standard deviation ``signal_sd``, plus
    Gaussian noise of ``noise_sd`` and a baseline of 100.

    Returns
    -------
    SimulatedDataset
    """
    import nibabel as nib
    from nilearn.datasets import load_mni152_brain_mask
    from PIL import Image

    delays = _check_delays(delays_tr)
    if len(hrf) != len(delays):
        raise ValueError(f"hrf needs one weight per delay ({len(delays)}), got {len(hrf)}")
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    (out / "stimuli").mkdir(parents=True, exist_ok=True)

    # mask: bundled MNI152 brain mask, subsampled
    mni = load_mni152_brain_mask(resolution=2)
    f = int(downsample)
    data = np.asarray(mni.dataobj)[::f, ::f, ::f] > 0
    affine = mni.affine.copy()
    affine[:3, :3] *= f
    ijk = np.argwhere(data)
    xyz = nib.affines.apply_affine(affine, ijk)
    visual = xyz[:, 1] < -60
    frontal = xyz[:, 1] > 20
    n_vox = len(ijk)

    # stimuli and events
    names = [f"stim{i:03d}.png" for i in range(n_stimuli)]
    for name in names:
        pixels = rng.integers(0, 256, size=(image_size, image_size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(out / "stimuli" / name)
    order = np.concatenate([rng.permutation(n_stimuli) for _ in range(n_repeats)])
    onsets = np.arange(len(order)) * isi_s + isi_s
    events = pd.DataFrame(
        {"onset": onsets, "duration": duration_s, "stimulus": [names[i] for i in order]}
    )
    n_vol = math.ceil((onsets[-1] + duration_s) / tr_s) + max(delays) + 4

    # features
    paths_extra: dict[str, Path] = {}
    if backbone is None:
        feats = xr.DataArray(
            rng.standard_normal((n_stimuli, n_features)).astype(np.float32),
            dims=("stimulus", "feature"),
            coords={"stimulus": names},
            name="features",
            attrs={"source": "simulated Gaussian features"},
        )
    else:
        if layer is None:
            raise ValueError("simulate_dataset(backbone=...) needs layer=")
        from cogattn.encoders import load_backbone

        # random weights, saved so that `cogattn brain fit --weights PATH` sees the same model
        weights_path = load_backbone(
            backbone, weights=None, **(backbone_kwargs or {})
        ).save_weights(out / "backbone.safetensors")
        paths_extra["backbone_weights"] = weights_path
        feats = backbone_features(
            out / "stimuli",
            names,
            backbone=backbone,
            layer=layer,
            weights=str(weights_path),
            backbone_kwargs=backbone_kwargs,
        )
    _, matrix = feature_table(feats)
    design = events_to_design(events, feats, n_volumes=n_vol, tr_s=tr_s)
    X = delay_features(design, delays)  # (n_vol, D * p)
    p = matrix.shape[1]
    feature_sd = np.where(matrix.std(0) > 0, matrix.std(0), 1.0)
    w = rng.standard_normal((p, n_vox)) / np.sqrt(p) / feature_sd[:, None] * visual[None, :]
    fir = np.concatenate([h * w for h in hrf], axis=0)  # (D * p, n_vox), delay-major
    signal = X @ fir
    sd = signal[:, visual].std() if visual.any() else 1.0
    gain = signal_sd / sd if sd > 0 else 1.0
    fir *= gain
    bold = 100.0 + X @ fir + noise_sd * rng.standard_normal((n_vol, n_vox))

    vol = np.zeros((*data.shape, n_vol), dtype=np.float32)
    vol[ijk[:, 0], ijk[:, 1], ijk[:, 2], :] = bold.T
    img = nib.Nifti1Image(vol, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_zooms((*img.header.get_zooms()[:3], tr_s))
    paths: dict[str, Path] = {"stimuli": out / "stimuli", **paths_extra}
    paths["bold"] = _write_nifti(img, out / "bold.nii.gz")
    paths["mask"] = _write_nifti(
        nib.Nifti1Image(data.astype(np.uint8), affine), out / "mask.nii.gz"
    )
    for roi, members in (("visual", visual), ("frontal", frontal)):
        m = np.zeros(data.shape, dtype=np.uint8)
        m[tuple(ijk[members].T)] = 1
        paths[f"roi_{roi}"] = _write_nifti(nib.Nifti1Image(m, affine), out / f"roi_{roi}.nii.gz")
    tmp = _atomic_path(out / "events.csv")
    events.to_csv(tmp, index=False)
    tmp.replace(out / "events.csv")
    paths["events"] = out / "events.csv"
    from cogattn.data import save

    paths["features"] = save(feats.to_dataset(name="features"), out / "features.nc")
    return SimulatedDataset(
        paths=paths,
        weights=fir.T.astype(np.float32),
        signal=visual,
        noise_sd=float(noise_sd),
        tr_s=float(tr_s),
        delays_tr=delays,
    )


def simulated_fit(
    *,
    small: bool = False,
    device: str = "cpu",
    seed: int = 0,
    out_dir: str | Path | None = None,
) -> tuple[SimulatedDataset, FitResult]:
    """Simulate a dataset (:func:`simulate_dataset`) and fit it (:func:`run_fit`), in a
    temporary folder unless ``out_dir`` is given. Used by the figure and the example."""
    kwargs = {"downsample": 6, "n_stimuli": 16} if small else {"n_repeats": 5}
    with tempfile.TemporaryDirectory(prefix="cogattn-sim-") as tmp:
        root = Path(out_dir) if out_dir is not None else Path(tmp)
        sim = simulate_dataset(root / "data", seed=seed, **kwargs)
        result, _ = run_fit(
            out_dir=root / "fit",
            bold=sim.paths["bold"],
            mask=sim.paths["mask"],
            events=sim.paths["events"],
            features=sim.paths["features"],
            rois={"visual": sim.paths["roi_visual"], "frontal": sim.paths["roi_frontal"]},
            config=FitConfig(device=device, delays_tr=sim.delays_tr, seed=seed),
        )
    return sim, result
