"""Load or describe any supported human-data file (``cogattn data info`` / ``convert``).

:func:`load_file` picks the right loader from a path's suffix and content;
:func:`describe_file` returns a short human-readable summary (schema, sizes, subjects, tasks,
units and a few reference statistics). Files that are not data (READMEs, licences) raise a
:class:`~cogattn.data.DataError` that says so.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import schema_of
from cogattn.data.errors import DataError
from cogattn.data.loaders._common import as_path, natural_key, read_npz, reraise_as_data_error

__all__ = ["FileSummary", "describe_file", "file_kind", "load_file"]

logger = logging.getLogger(__name__)

_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
_TEXT_SUFFIXES = (".md", ".rst", ".txt", ".pdf", ".html", ".py", ".ipynb", "")
_NOT_DATA_NAMES = ("readme", "license", "licence", "copying", "notice", "original_readme")
_SEARCH_OUTPUT_DIRS = ("out_data", "fix")


@dataclass(frozen=True)
class FileSummary:
    """What :func:`describe_file` found.

    Attributes
    ----------
    path : pathlib.Path
    kind : str
        ``"scanpaths"``, ``"responses"``, ``"rdms"``, ``"recordings"``, ``"stimuli"``,
        ``"search-outputs"``, ``"dataset"`` (any other saved Dataset) or ``"folder"``.
    lines : tuple of str
        The summary, one line per item.
    """

    path: Path
    kind: str
    lines: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _not_data(path: Path) -> DataError:
    return DataError(
        "not a data file (a text document such as a README or licence); supported: scanpath "
        "JSON/TSV/CSV, RDM .mat/.npz/.npy, NIfTI, .npy/.npz responses, images, "
        "visual-search outputs (out_data/*.csv, fix/*.npy) and .nc/.zarr",
        path=path,
    )


def file_kind(path: str | os.PathLike) -> str:
    """Classify a path without loading it fully.

    Returns one of ``"saved"``, ``"scanpaths"``, ``"rdms"``, ``"responses"``, ``"stimuli"``,
    ``"search-outputs"``, ``"folder"``.

    Raises
    ------
    DataError
        For text documents and unknown suffixes.
    """
    p = as_path(path, kind="file or folder")
    name = p.name.lower()
    suffix = p.suffix.lower()
    if suffix in (".nc", ".zarr"):
        return "saved"
    if p.is_dir():
        if any(f.suffix.lower() in _IMAGE_SUFFIXES for f in p.iterdir() if f.is_file()):
            return "stimuli"
        from cogattn.data.loaders.scanpath_files import _has_fixvec_header

        tsvs = sorted(p.glob("*.tsv"))
        if tsvs and _has_fixvec_header(tsvs[0]):
            return "scanpaths"
        from cogattn.data.loaders.rdm_files import _BRAIN_MAT, _NET2BRAIN_NAME

        if (p / _BRAIN_MAT).is_file() or any(_NET2BRAIN_NAME.match(f.name) for f in p.iterdir()):
            return "rdms"
        return "folder"
    if p.parent.name in _SEARCH_OUTPUT_DIRS and suffix in (".csv", ".npy"):
        return "search-outputs"
    if suffix in _IMAGE_SUFFIXES:
        return "stimuli"
    if name.endswith((".nii", ".nii.gz")):
        return "responses"
    if suffix in (".json", ".tsv", ".csv"):
        return "scanpaths"
    if suffix == ".mat":
        return "rdms"
    if suffix in (".npy", ".npz"):
        return "rdms" if _looks_like_rdms(p) else "responses"
    if suffix in _TEXT_SUFFIXES or name.startswith(_NOT_DATA_NAMES):
        raise _not_data(p)
    raise DataError(f"unsupported file type {suffix!r}", path=p)


def _looks_like_rdms(path: Path) -> bool:
    if path.suffix.lower() == ".npz":
        arrays = read_npz(path)
        if "Net_RDM" in arrays:
            return True
        values = list(arrays.values())
        arr = values[0] if len(values) == 1 else None
    else:
        with reraise_as_data_error(path, "a NumPy .npy array"):
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
    return arr is not None and arr.ndim in (2, 3) and arr.shape[-1] == arr.shape[-2]


def _load_search_outputs(path: Path) -> xr.Dataset:
    try:
        from cogattn.data.loaders.vsa import load_search_outputs
    except ImportError as err:
        raise DataError(
            "visual-search model outputs (out_data/*.csv, fix/*.npy) are read by "
            f"cogattn.data.loaders.vsa.load_search_outputs, which is not available ({err})",
            path=path,
        ) from None
    return load_search_outputs(path)


def stimuli_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Images of a file or folder as a Dataset ``image (stimulus, y, x, channel)`` uint8.

    All images must have the same size (for a folder of mixed sizes, use
    :func:`cogattn.data.load_rdm_stimuli`, which returns a list).
    """
    from cogattn.data.loaders.rdm_files import load_rdm_stimuli

    p = as_path(path, kind="file or folder")
    images, names = load_rdm_stimuli(p)
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise DataError(
            f"images have different sizes {sorted(shapes)[:4]}: cannot stack them", path=p
        )
    return xr.Dataset(
        {"image": (("stimulus", "y", "x", "channel"), np.stack(images))},
        coords={"stimulus": np.asarray(names, dtype=object), "channel": ["R", "G", "B"]},
        attrs={"source": p.name, "description": "stimulus images, uint8 RGB"},
    )


def load_file(path: str | os.PathLike, format: str | None = None, **options: Any) -> xr.Dataset:
    """Load any supported file into an xarray Dataset.

    Parameters
    ----------
    path : path-like
        Any file :func:`file_kind` recognises.
    format : str, optional
        A scanpath format (``"coco-search18"``, ``"amazon-covers"``, ``"fixation-tsv"``,
        ``"csv"``), ``"rdms"``, ``"responses"``, ``"stimuli"``, ``"search-outputs"`` or
        ``"netcdf"``; detected when omitted.
    **options
        Passed to the loader (e.g. ``image_size_px`` for a generic CSV, ``roi`` for RDMs).
    """
    from cogattn.data.io import load
    from cogattn.data.loaders.rdm_files import load_rdms
    from cogattn.data.loaders.responses_files import load_responses
    from cogattn.data.loaders.scanpath_files import SCANPATH_FORMATS, load_scanpaths

    p = as_path(path, kind="file or folder")
    if format in SCANPATH_FORMATS and format != "netcdf":
        return load_scanpaths(p, format=format, **options)
    kind = format or file_kind(p)
    if kind in ("saved", "netcdf"):
        return load(p, **options)
    if kind == "scanpaths":
        return load_scanpaths(p, **options)
    if kind == "rdms":
        return load_rdms(p, **options)
    if kind == "responses":
        return load_responses(p, **options)
    if kind == "stimuli":
        return stimuli_dataset(p)
    if kind == "search-outputs":
        return _load_search_outputs(p)
    if kind == "folder":
        raise DataError(
            "a folder of several files: pass one file (cogattn data info FOLDER lists them)",
            path=p,
        )
    raise ValueError(
        f"unknown format {format!r}; use a scanpath format, 'rdms', 'responses', 'stimuli', "
        "'search-outputs' or 'netcdf'"
    )


# --------------------------------------------------------------------------------------
# Summaries


def _fmt_list(values: Any, limit: int = 10) -> str:
    items = [str(v) for v in values]
    if len(items) > limit:
        return ", ".join(items[: limit // 2]) + ", …, " + ", ".join(items[-(limit // 2) :])
    return ", ".join(items)


def _unique(values: np.ndarray) -> list[Any]:
    out = list(dict.fromkeys(values.tolist()))
    try:
        return sorted(out, key=lambda v: natural_key(str(v)))
    except TypeError:
        return out


def _summary_scanpaths(ds: xr.Dataset) -> list[str]:
    lengths = ds["length"].values
    lines = [
        f"schema: scanpaths (format {ds.attrs.get('format', '?')}, source {ds.attrs.get('source', '')})",
        f"trials: {ds.sizes['trial']}; fixations: {int(lengths.sum())} in total",
    ]
    for name in ("subject", "image", "task", "condition"):
        values = _unique(ds[name].values)
        lines.append(f"{name}s: {len(values)} [{_fmt_list(values)}]")
    if len(lengths):
        lines.append(
            f"fixations per trial: mean {lengths.mean():.2f}, median {np.median(lengths):g}, "
            f"min {lengths.min()}, max {lengths.max()}"
        )
    sizes = sorted({(w, h) for w, h in zip(ds["image_width"].values, ds["image_height"].values)})
    size_text = (
        f"{sizes[0][0]:g} x {sizes[0][1]:g} px"
        if len(sizes) == 1
        else f"{len(sizes)} sizes, width {min(s[0] for s in sizes):g}-{max(s[0] for s in sizes):g}, "
        f"height {min(s[1] for s in sizes):g}-{max(s[1] for s in sizes):g} px"
    )
    lines.append(f"image size: {size_text}")
    lines.append(f"coordinates: {ds.attrs.get('coordinate_convention', '')}")
    if "duration_ms" in ds:
        valid = np.arange(ds.sizes["fixation"])[None] < lengths[:, None]
        dur = ds["duration_ms"].values[valid]
        lines.append(
            f"durations: mean {dur.mean():.1f} ms, median {np.median(dur):.1f} ms, "
            f"min {dur.min():g}, max {dur.max():g} ms"
        )
    else:
        lines.append("durations: none in the source")
    n_box = int(np.isfinite(ds["target_bbox"].values).all(axis=1).sum())
    lines.append(f"target boxes [x, y, width, height] px: {n_box} of {ds.sizes['trial']} trials")
    if "source_convention" in ds.attrs:
        lines.append(f"source convention: {ds.attrs['source_convention']}")
    if "screen_px_per_deg" in ds.attrs:
        lines.append(f"screen: {ds.attrs['screen_px_per_deg']:g} px/deg")
    extra = [
        c
        for c in ds.coords
        if ds[c].dims == ("trial",)
        and c
        not in (
            "trial",
            "length",
            "image_width",
            "image_height",
            "subject",
            "image",
            "task",
            "condition",
        )
    ]
    if extra:
        lines.append(f"extra per-trial coords: {', '.join(extra)}")
    return lines


def _spearman_between_subjects(upper: np.ndarray) -> float | None:
    from scipy.stats import rankdata

    if upper.shape[0] < 2 or np.isnan(upper).any():
        return None
    ranks = np.apply_along_axis(rankdata, 1, upper)
    corr = np.corrcoef(ranks)
    iu = np.triu_indices(len(corr), k=1)
    return float(np.mean(corr[iu]))


def _summary_rdms(ds: xr.Dataset) -> list[str]:
    values = ds["dissimilarity"].values
    n = ds.sizes["stimulus"]
    off = values[:, ~np.eye(n, dtype=bool)]
    stim = ds["stimulus"].values
    lines = [
        f"schema: rdms (roi {ds['roi'].item()!r}, measure {ds.attrs.get('measure', '')!r}, "
        f"source {ds.attrs.get('source', '')})",
        f"subjects: {ds.sizes['subject']} [{_fmt_list(ds['subject'].values)}]",
        f"stimuli: {n} ({stim[0]} … {stim[-1]})",
        f"dissimilarity: min {np.nanmin(off):.4g}, max {np.nanmax(off):.4g}, "
        f"mean off-diagonal {np.nanmean(off):.4g}",
    ]
    for extra in ("participant", "session", "species"):
        if extra in ds.coords:
            lines.append(f"{extra}: [{_fmt_list(ds[extra].values)}]")
    rho = _spearman_between_subjects(ds.rdms.upper_triangle())
    if rho is not None:
        lines.append(f"mean Spearman r between subjects' upper triangles: {rho:.3f}")
    if "reference" in ds.attrs:
        lines.append(f"reference: {ds.attrs['reference']}")
    return lines


def _summary_responses(ds: xr.Dataset) -> list[str]:
    resp = ds["response"].values
    lines = [
        f"schema: responses (source {ds.attrs.get('source', '')}, space {ds.attrs.get('space', '') or '-'})",
        f"stimuli: {ds.sizes['stimulus']}; voxels: {ds.sizes['voxel']}"
        + (f"; repeats: {ds.sizes['repeat']}" if "repeat" in ds.sizes else ""),
    ]
    if ds.sizes.get("roi", 0):
        counts = ds["roi_mask"].values.sum(axis=1)
        lines.append(
            "ROIs: " + ", ".join(f"{r} ({c} vx)" for r, c in zip(ds["roi"].values, counts))
        )
    else:
        lines.append("ROIs: none")
    if "tr_s" in ds.attrs:
        lines.append(f"TR: {ds.attrs['tr_s']:g} s (stimulus = volume index)")
    if "volume_shape" in ds.attrs:
        lines.append(f"volume: {ds.attrs['volume_shape']} voxels; voxel coords i, j, k")
    if "mask" in ds.attrs:
        lines.append(f"mask: {ds.attrs['mask']}")
    lines.append(
        f"response: mean {np.nanmean(resp):.4g}, sd {np.nanstd(resp):.4g} {ds['response'].attrs.get('units', '')}".rstrip()
    )
    return lines


def _summary_recordings(ds: xr.Dataset) -> list[str]:
    return [
        "schema: recordings",
        f"trials: {ds.sizes['trial']}; channels: {ds.sizes['channel']}; "
        f"sfreq: {ds.attrs.get('sfreq_hz')} Hz",
        f"durations: {_fmt_list(np.round(ds.recordings.durations_s, 2))} s",
    ]


def _summary_generic(ds: xr.Dataset) -> list[str]:
    lines = [f"dims: {dict(ds.sizes)}"]
    for name, var in ds.data_vars.items():
        lines.append(f"variable {name}: {var.dims} {var.dtype}")
    for key, value in ds.attrs.items():
        text = str(value)
        lines.append(f"attr {key}: {text[:100]}{'…' if len(text) > 100 else ''}")
    return lines


def _summary_stimuli(p: Path) -> list[str]:
    from cogattn.data.loaders.rdm_files import load_rdm_stimuli

    images, names = load_rdm_stimuli(p)
    shapes = sorted({im.shape for im in images})
    lines = [
        f"stimuli: {len(images)} image{'s' if len(images) != 1 else ''} "
        f"({names[0]}{' … ' + names[-1] if len(names) > 1 else ''})",
        f"image shapes (H, W, C): {_fmt_list(shapes, limit=6)}, uint8 RGB",
    ]
    return lines


def _summary_folder(p: Path) -> list[str]:
    lines = [f"folder with {sum(1 for _ in p.iterdir())} entries:"]
    for entry in sorted(p.iterdir(), key=lambda e: natural_key(e.name)):
        try:
            kind = file_kind(entry)
        except DataError:
            kind = "not data"
        except OSError as err:
            kind = f"unreadable ({err})"
        lines.append(f"  {entry.name}{'/' if entry.is_dir() else ''}: {kind}")
    return lines


def describe_file(path: str | os.PathLike) -> FileSummary:
    """Summarise a data file or folder (schema, sizes, subjects, tasks, units, statistics).

    Raises
    ------
    DataError
        If the path is not a data file (e.g. a README) or is malformed.

    Examples
    --------
    >>> print(describe_file("kriegeskorte92/92_brainRDMs.mat"))  # doctest: +SKIP
    schema: rdms (roi 'hIT', measure '1 - pearson', source 92_brainRDMs.mat)
    ...
    """
    import warnings

    from cogattn.data.errors import DataWarning

    p = as_path(path, kind="file or folder")
    kind = file_kind(p)
    header = [f"{p}"]
    if kind == "folder" or (kind == "rdms" and p.is_dir()):
        return FileSummary(p, "folder", tuple(header + _summary_folder(p)))
    if kind == "stimuli" and (p.is_dir() or p.suffix.lower() in _IMAGE_SUFFIXES):
        return FileSummary(p, "stimuli", tuple(header + _summary_stimuli(p)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        ds = load_file(p)
    notes = [f"note: {w.message}" for w in caught if issubclass(w.category, DataWarning)]
    schema = schema_of(ds)
    summaries = {
        "scanpaths": _summary_scanpaths,
        "rdms": _summary_rdms,
        "responses": _summary_responses,
        "recordings": _summary_recordings,
    }
    lines = header + summaries.get(schema, _summary_generic)(ds)
    if kind == "rdms" and p.name == "Kriegeskorte_Neuron2008_supplementalData.mat":
        lines.append(
            "also holds: the 92 stimuli (load_rdm_stimuli) and category labels (load_rdm_categories)"
        )
    lines += notes
    result_kind = schema or ("search-outputs" if kind == "search-outputs" else "dataset")
    return FileSummary(p, result_kind, tuple(lines))
