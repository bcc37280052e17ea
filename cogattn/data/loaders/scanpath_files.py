"""Scanpath loaders: eye-tracking files of several sources → the ``Scanpaths`` schema.

Every loader converts its source's conventions to cogattn's (x, y in image pixels, origin
top-left, durations in ms; see :mod:`cogattn.data.scanpaths`) and rejects malformed input
with a :class:`~cogattn.data.DataError` naming the file, the record and the field.

Formats (``format=``):

``"coco-search18"``
    The official COCO-Search18 JSON (Chen et al. 2021 Sci. Rep.; Yang et al. 2020 CVPR): a
    list of records ``name, subject, task, condition, bbox [x, y, w, h], X, Y, T, length,
    correct, RT, split``. Coordinates are pixels of the 1680×1050 display the images were
    resized and zero-padded to (``X`` right, ``Y`` down, the first fixation is the initial
    centre fixation); ``T`` and ``RT`` are milliseconds. ``length`` must equal ``len(X)``.
    ``correct`` (0/1, -1 if absent), ``rt_ms`` (``RT``, NaN if absent) and ``split`` become
    per-trial coords. ``bbox`` may be missing for target-absent records (NaN box).
``"amazon-covers"``
    The Amazon book-cover search JSON (Sattar et al. 2015/2017; DFKI STI dataset): a dict
    keyed by collage name, each with ``fixations`` (participant id → ``[[x, y], ...]``,
    pixels, x right, y down; **no durations**), ``ground_truth`` (a list with at most one
    ``{xmin, xmax, ymin, ymax}`` target box, converted to ``[xmin, ymin, xmax - xmin,
    ymax - ymin]``), ``size`` (``{width, height}``, per collage) and ``target`` (file name of
    the target cover, kept as the per-trial coord ``target``). One trial per (collage,
    participant), collages and participants in natural order (``"2.jpg"`` before
    ``"10.jpg"``); ``subject`` is the participant id string.
``"fixation-tsv"``
    Fixation-vector TSV files as used by multimatch-gaze on studyforrest data (Hanke et al.
    2016 Sci. Data): header ``start_x start_y duration``; pixels of a **1280×720** screen area
    (override with ``screen_size_px=``), **duration in seconds** (converted to ``duration_ms``;
    ``duration_unit="ms"`` if yours are already ms). A folder loads every ``*.tsv`` in natural
    order, one trial per file; names like ``segment_10_sub-01.tsv`` give ``image="segment_10"``
    and ``subject="sub-01"`` (``name_pattern=`` takes another regex with named groups
    ``image`` and ``subject``).
``"csv"``
    Any CSV/TSV with one row per fixation; ``columns=`` maps cogattn names to yours (see
    :func:`load_scanpaths_csv`).

Saved datasets (``.nc``/``.zarr`` from :func:`cogattn.data.save`) load too (``format="netcdf"``).

Fixations outside the image
    COCO-Search18 validation holds 5 fixations (5 trials) outside the 1680×1050 frame (e.g.
    ``Y = 1309.5``; gaze leaving the display). With the default ``out_of_bounds="clip"`` they
    are moved to the nearest image border and a :class:`~cogattn.data.DataWarning` says how
    many, in which records and how far out; ``out_of_bounds="raise"`` refuses them with a
    :class:`~cogattn.data.DataError`. Nothing is dropped.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError, warn_data
from cogattn.data.loaders._common import (
    as_path,
    check_option,
    natural_key,
    read_json,
    reraise_as_data_error,
)
from cogattn.data.scanpaths import scanpaths

__all__ = [
    "SCANPATH_FORMATS",
    "detect_scanpath_format",
    "load_scanpaths",
    "load_scanpaths_amazon",
    "load_scanpaths_coco_search18",
    "load_scanpaths_csv",
    "load_scanpaths_fixation_tsv",
]

logger = logging.getLogger(__name__)

SCANPATH_FORMATS = ("coco-search18", "amazon-covers", "fixation-tsv", "csv", "netcdf")
COCO_SEARCH18_SIZE_PX = (1680, 1050)
STUDYFORREST_SCREEN_PX = (1280, 720)
_FIXVEC_COLUMNS = ("start_x", "start_y", "duration")
_STUDYFORREST_NAME = r"^(?P<image>.+?)_(?P<subject>sub-[A-Za-z0-9]+)$"
_OOB = ("clip", "raise")


def load_scanpaths(
    path: str | os.PathLike,
    format: str | None = None,
    **options: Any,
) -> xr.Dataset:
    """Load eye-tracking scanpaths from a file or folder into a ``Scanpaths`` dataset.

    Parameters
    ----------
    path : path-like
        A COCO-Search18 or Amazon-covers JSON, a fixation-vector TSV (or a folder of them), a
        CSV/TSV, or a ``.nc``/``.zarr`` saved by :func:`cogattn.data.save`.
    format : {"coco-search18", "amazon-covers", "fixation-tsv", "csv", "netcdf"}, optional
        Detected from the content and suffix when omitted (:func:`detect_scanpath_format`).
    **options
        Passed to the format's loader: ``out_of_bounds`` ("clip" (default) or "raise"),
        ``image_size_px`` / ``screen_size_px``, ``screen_px_per_deg``, ``duration_unit``,
        ``columns``, ``name_pattern``, ``sep``; see each ``load_scanpaths_*`` function.

    Returns
    -------
    xarray.Dataset
        ``Scanpaths`` schema.

    Raises
    ------
    DataError
        Malformed file (the message names the file, record and field).

    Examples
    --------
    >>> ds = load_scanpaths("coco_search18_fixations_TP_validation_split1.json")  # doctest: +SKIP
    >>> ds.sizes["trial"]  # doctest: +SKIP
    3258
    """
    p = as_path(path, kind="file or folder")
    if format is None and p.is_file() and p.suffix.lower() == ".json":
        data = read_json(p)  # parse once, for detection and loading
        format = _json_layout(data, p)
        options["_parsed"] = data
    elif format is None:
        format = detect_scanpath_format(p)
    check_option("format", format, SCANPATH_FORMATS)
    loaders = {
        "coco-search18": load_scanpaths_coco_search18,
        "amazon-covers": load_scanpaths_amazon,
        "fixation-tsv": load_scanpaths_fixation_tsv,
        "csv": load_scanpaths_csv,
        "netcdf": _load_saved,
    }
    return loaders[format](p, **options)


def detect_scanpath_format(path: str | os.PathLike) -> str:
    """Guess the scanpath format of ``path`` from its suffix and content.

    Raises
    ------
    DataError
        When the file is not a recognised scanpath file.
    """
    p = as_path(path, kind="file or folder")
    suffix = p.suffix.lower()
    if suffix in (".nc", ".zarr"):
        return "netcdf"
    if p.is_dir():
        tsvs = sorted(p.glob("*.tsv"))
        if tsvs and _has_fixvec_header(tsvs[0]):
            return "fixation-tsv"
        raise DataError(
            "not a scanpath folder (expected fixation-vector *.tsv files with header "
            "start_x start_y duration)",
            path=p,
        )
    if suffix == ".json":
        data = read_json(p)
        return _json_layout(data, p)
    if suffix in (".tsv", ".csv", ".txt"):
        return "fixation-tsv" if _has_fixvec_header(p) else "csv"
    raise DataError(
        f"cannot tell the scanpath format from suffix {suffix or '(none)'!r}; pass format= one of "
        f"{list(SCANPATH_FORMATS)}",
        path=p,
    )


def _json_layout(data: Any, path: Path) -> str:
    if isinstance(data, list) and data and isinstance(data[0], dict) and "X" in data[0]:
        return "coco-search18"
    if isinstance(data, dict) and data:
        first = next(iter(data.values()))
        if isinstance(first, dict) and "fixations" in first:
            return "amazon-covers"
    raise DataError(
        "unrecognised JSON layout: expected a list of COCO-Search18 records (with 'X', 'Y') "
        "or a dict of Amazon-covers entries (with 'fixations')",
        path=path,
    )


def _has_fixvec_header(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return False
    fields = [f.strip() for f in re.split(r"[\t,]", header)]
    return all(c in fields for c in _FIXVEC_COLUMNS)


def _load_saved(path: Path, **options: Any) -> xr.Dataset:
    from cogattn.data._common import schema_of
    from cogattn.data.io import load

    if options:
        raise TypeError(f"unexpected options for a saved dataset: {sorted(options)}")
    ds = load(path)
    if schema_of(ds) != "scanpaths":
        raise DataError(f"expected a 'scanpaths' dataset, got schema {schema_of(ds)!r}", path=path)
    return ds


# --------------------------------------------------------------------------------------
# Shared checks


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(value: Any, *, path: Path, record: Any, field: str) -> np.ndarray:
    """A list of finite JSON numbers → float array (bools, strings, nesting refused)."""
    if not isinstance(value, list):
        raise DataError(
            f"expected a list of numbers, got {type(value).__name__}",
            path=path,
            record=record,
            field=field,
        )
    for j, v in enumerate(value):
        if not _is_number(v):
            raise DataError(
                f"expected a number at position {j}, got {type(v).__name__} {v!r}"[:200],
                path=path,
                record=record,
                field=field,
            )
        if not math.isfinite(v):
            raise DataError(
                f"expected a finite number at position {j}, got {v!r}",
                path=path,
                record=record,
                field=field,
            )
    return np.asarray(value, dtype=np.float64)


def _apply_bounds(
    xs: list[np.ndarray],
    ys: list[np.ndarray],
    sizes: np.ndarray,
    *,
    policy: str,
    path: Path,
    records: Sequence[Any],
) -> None:
    """Clip (with a DataWarning) or refuse fixations outside the image, in place."""
    n_out = 0
    bad_records = []
    worst = 0.0
    for t, (x, y) in enumerate(zip(xs, ys)):
        w, h = sizes[t]
        dist = np.maximum.reduce([-x, x - w, -y, y - h, np.zeros_like(x)]) if len(x) else x
        outside = dist > 0
        if not outside.any():
            continue
        f = int(np.argmax(outside))
        if policy == "raise":
            field = "x" if (x[f] < 0 or x[f] > w) else "y"
            value = x[f] if field == "x" else y[f]
            raise DataError(
                f"fixation {f} at {field}={value:g} px lies outside the image "
                f"[0, {w if field == 'x' else h:g}] (pass out_of_bounds='clip' to move it to the border)",
                path=path,
                record=records[t],
                field=field,
            )
        n_out += int(outside.sum())
        worst = max(worst, float(dist.max()))
        bad_records.append(records[t])
        np.clip(x, 0, w, out=x)
        np.clip(y, 0, h, out=y)
    if n_out:
        shown = ", ".join(map(repr, bad_records[:8])) + (" ..." if len(bad_records) > 8 else "")
        warn_data(
            f"{path.name}: {n_out} fixation(s) in {len(bad_records)} record(s) lay outside the image "
            f"(up to {worst:.1f} px out; records {shown}); clipped to the image border "
            "(pass out_of_bounds='raise' to refuse them)"
        )


def _size_pair(value: Any, name: str) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (width, height) in pixels, got {value!r}") from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise ValueError(f"{name} must be positive, got {value!r}")
    return w, h


# --------------------------------------------------------------------------------------
# COCO-Search18

_COCO_REQUIRED = ("name", "subject", "task", "condition", "X", "Y", "T", "length")


def load_scanpaths_coco_search18(
    path: str | os.PathLike,
    *,
    image_size_px: tuple[float, float] = COCO_SEARCH18_SIZE_PX,
    out_of_bounds: str = "clip",
    screen_px_per_deg: float | None = None,
    _parsed: Any = None,
) -> xr.Dataset:
    """Load the official COCO-Search18 fixation JSON.

    Conventions of the source (Chen et al. 2021, Sci. Rep. 11:8776; Yang et al. 2020, CVPR):
    images resized and zero-padded to 1680×1050 px; ``X``/``Y`` in those pixels (x right,
    y down), first fixation = the initial centre fixation; ``T`` fixation durations and
    ``RT`` in ms; ``bbox = [x, y, w, h]`` of the target in px. Models (IRL, Gazeformer, HAT)
    rescale to 512×320: ``ds.scanpath.rescale(512, 320)``.

    Parameters
    ----------
    path : path-like
        The JSON file (a list of records).
    image_size_px : (width, height)
        Display/image size; the official 1680×1050 by default.
    out_of_bounds : {"clip", "raise"}
        Fixations outside the image: clip to the border with a ``DataWarning`` (default; the
        validation split has 5 such fixations) or raise ``DataError``.
    screen_px_per_deg : float, optional
        Recorded in ``attrs`` when given.

    Returns
    -------
    xarray.Dataset
        ``Scanpaths`` with extra per-trial coords ``correct`` (0/1, -1 when absent),
        ``rt_ms`` (NaN when absent) and ``split``.
    """
    check_option("out_of_bounds", out_of_bounds, _OOB)
    size = _size_pair(image_size_px, "image_size_px")
    p = as_path(path)
    data = read_json(p) if _parsed is None else _parsed
    with reraise_as_data_error(p, "COCO-Search18 JSON"):
        return _coco_from_records(data, p, size, out_of_bounds, screen_px_per_deg)


def _coco_from_records(
    data: Any, p: Path, size: tuple[float, float], out_of_bounds: str, px_per_deg: Any
) -> xr.Dataset:
    if not isinstance(data, list):
        raise DataError(f"expected a JSON list of trial records, got {type(data).__name__}", path=p)
    xs, ys, ts = [], [], []
    labels: dict[str, list[Any]] = {
        k: [] for k in ("subject", "image", "task", "condition", "split")
    }
    bboxes, correct, rts = [], [], []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise DataError(f"expected a JSON object, got {type(rec).__name__}", path=p, record=i)
        missing = [k for k in _COCO_REQUIRED if k not in rec]
        if missing:
            raise DataError(
                f"missing key(s) {missing} (a COCO-Search18 record has {list(_COCO_REQUIRED)}, "
                "bbox, correct, RT, split)",
                path=p,
                record=i,
                field=missing[0],
            )
        for key in ("name", "task", "condition"):
            if not isinstance(rec[key], str):
                raise DataError(
                    f"expected a string, got {type(rec[key]).__name__}",
                    path=p,
                    record=i,
                    field=key,
                )
        subject = rec["subject"]
        if not (
            isinstance(subject, str) or (isinstance(subject, int) and not isinstance(subject, bool))
        ):
            raise DataError(
                f"expected an integer or string subject id, got {type(subject).__name__}",
                path=p,
                record=i,
                field="subject",
            )
        x = _numbers(rec["X"], path=p, record=i, field="X")
        y = _numbers(rec["Y"], path=p, record=i, field="Y")
        t = _numbers(rec["T"], path=p, record=i, field="T")
        length = rec["length"]
        if not isinstance(length, int) or isinstance(length, bool):
            raise DataError(
                f"expected an integer, got {type(length).__name__}",
                path=p,
                record=i,
                field="length",
            )
        if not (len(x) == len(y) == len(t) == length):
            raise DataError(
                f"length={length} but X, Y, T hold {len(x)}, {len(y)}, {len(t)} values "
                "(expected all equal)",
                path=p,
                record=i,
                field="length",
            )
        if (t < 0).any():
            j = int(np.argmax(t < 0))
            raise DataError(
                f"expected durations >= 0 ms, got {t[j]:g} at fixation {j}",
                path=p,
                record=i,
                field="T",
            )
        bbox = rec.get("bbox")
        if bbox is None:
            box = np.full(4, np.nan)
        else:
            box = _numbers(bbox, path=p, record=i, field="bbox")
            if box.shape != (4,) or box[2] < 0 or box[3] < 0:
                raise DataError(
                    f"expected [x, y, width, height] with width, height >= 0, got {bbox!r}"[:200],
                    path=p,
                    record=i,
                    field="bbox",
                )
        c = rec.get("correct", -1)
        if c not in (0, 1, -1) or isinstance(c, (bool, float)):
            raise DataError(f"expected 0 or 1, got {c!r}"[:100], path=p, record=i, field="correct")
        rt = rec.get("RT")
        if rt is None:
            rt = math.nan
        elif not _is_number(rt) or not math.isfinite(rt) or rt < 0:
            raise DataError(
                f"expected a reaction time >= 0 ms, got {rt!r}"[:100], path=p, record=i, field="RT"
            )
        split = rec.get("split", "")
        if not isinstance(split, str):
            raise DataError(
                f"expected a string, got {type(split).__name__}", path=p, record=i, field="split"
            )
        xs.append(x)
        ys.append(y)
        ts.append(t)
        bboxes.append(box)
        correct.append(int(c))
        rts.append(float(rt))
        labels["subject"].append(subject)
        labels["image"].append(rec["name"])
        labels["task"].append(rec["task"])
        labels["condition"].append(rec["condition"])
        labels["split"].append(split)
    if not xs:
        raise DataError("the file holds no trial records", path=p)
    sizes = np.tile(np.asarray(size, dtype=float), (len(xs), 1))
    _apply_bounds(xs, ys, sizes, policy=out_of_bounds, path=p, records=range(len(xs)))
    subjects = labels["subject"]
    if len({type(s) for s in subjects}) > 1:
        subjects = [str(s) for s in subjects]
    ds = scanpaths(
        xs,
        ys,
        image_size_px=size,
        duration_ms=ts,
        subject=np.asarray(subjects)
        if isinstance(subjects[0], str)
        else np.asarray(subjects, dtype=np.int64),
        image=labels["image"],
        task=labels["task"],
        condition=labels["condition"],
        target_bbox=np.stack(bboxes),
        source=p.name,
        screen_px_per_deg=px_per_deg,
        attrs={
            "format": "coco-search18",
            "reference": "Chen et al. 2021 Sci Rep; Yang et al. 2020 CVPR",
            "source_convention": "1680x1050 px display (images resized + zero-padded), T and RT in ms",
        },
    )
    return ds.assign_coords(
        correct=(
            "trial",
            np.asarray(correct, dtype=np.int64),
            {"long_name": "correct response (1), error (0), unknown (-1)"},
        ),
        rt_ms=(
            "trial",
            np.asarray(rts, dtype=float),
            {"units": "ms", "long_name": "search reaction time"},
        ),
        split=("trial", np.asarray(labels["split"], dtype=object)),
    )


# --------------------------------------------------------------------------------------
# Amazon book covers


def load_scanpaths_amazon(
    path: str | os.PathLike,
    *,
    out_of_bounds: str = "clip",
    screen_px_per_deg: float | None = None,
    _parsed: Any = None,
) -> xr.Dataset:
    """Load the Amazon book-cover visual-search JSON (STI dataset / OAT).

    Conventions of the source (Sattar et al. 2015 CVPR / 2017; Stauden, Barz & Sonntag 2018
    KI; used by OAT, Fang et al. 2024 ECCV): a dict keyed by collage file name; fixations per
    participant as ``[x, y]`` pixels of the collage (x right, y down) with **no durations**;
    the target box as ``{xmin, xmax, ymin, ymax}`` px; collage ``size`` ``{width, height}``
    (~2541–2560 × 1584–1600 px, per collage). Collages are a 6 × 14 grid of 84 covers.

    Parameters
    ----------
    path : path-like
        ``Amazon.json``.
    out_of_bounds : {"clip", "raise"}
        Fixations outside the collage: clip with a ``DataWarning`` (default) or raise.
    screen_px_per_deg : float, optional
        Recorded in ``attrs`` when given.

    Returns
    -------
    xarray.Dataset
        ``Scanpaths`` without ``duration_ms``; ``subject`` = participant id (str),
        ``image`` = collage name, ``target_bbox = [xmin, ymin, xmax - xmin, ymax - ymin]``,
        extra per-trial coord ``target`` (target cover file).
    """
    check_option("out_of_bounds", out_of_bounds, _OOB)
    p = as_path(path)
    data = read_json(p) if _parsed is None else _parsed
    with reraise_as_data_error(p, "Amazon-covers JSON"):
        return _amazon_from_dict(data, p, out_of_bounds, screen_px_per_deg)


def _amazon_from_dict(data: Any, p: Path, out_of_bounds: str, px_per_deg: Any) -> xr.Dataset:
    if not isinstance(data, dict):
        raise DataError(
            f"expected a JSON object keyed by image name, got {type(data).__name__}", path=p
        )
    xs, ys, sizes, boxes, subjects, images, targets, records = [], [], [], [], [], [], [], []
    for name in sorted(data, key=natural_key):
        entry = data[name]
        if not isinstance(entry, dict):
            raise DataError(
                f"expected a JSON object, got {type(entry).__name__}", path=p, record=name
            )
        for key in ("fixations", "ground_truth", "size", "target"):
            if key not in entry:
                raise DataError(
                    "missing key (an entry has fixations, ground_truth, size, target)",
                    path=p,
                    record=name,
                    field=key,
                )
        size = entry["size"]
        if not isinstance(size, dict) or not all(k in size for k in ("width", "height")):
            raise DataError(
                f"expected {{'width': px, 'height': px}}, got {size!r}"[:200],
                path=p,
                record=name,
                field="size",
            )
        w, h = size["width"], size["height"]
        if not (
            _is_number(w)
            and _is_number(h)
            and math.isfinite(w)
            and math.isfinite(h)
            and w > 0
            and h > 0
        ):
            raise DataError(
                f"expected positive numbers, got width={w!r}, height={h!r}"[:200],
                path=p,
                record=name,
                field="size",
            )
        gt = entry["ground_truth"]
        if not isinstance(gt, list) or len(gt) > 1:
            raise DataError(
                f"expected a list with at most one target box, got {gt!r}"[:200],
                path=p,
                record=name,
                field="ground_truth",
            )
        box = np.full(4, np.nan)
        if gt:
            b = gt[0]
            keys = ("xmin", "xmax", "ymin", "ymax")
            if not isinstance(b, dict) or not all(
                k in b and _is_number(b[k]) and math.isfinite(b[k]) for k in keys
            ):
                raise DataError(
                    f"expected {{xmin, xmax, ymin, ymax}} numbers, got {b!r}"[:200],
                    path=p,
                    record=name,
                    field="ground_truth",
                )
            if b["xmax"] < b["xmin"] or b["ymax"] < b["ymin"]:
                raise DataError(
                    f"expected xmin <= xmax and ymin <= ymax, got {b!r}",
                    path=p,
                    record=name,
                    field="ground_truth",
                )
            box = np.array(
                [b["xmin"], b["ymin"], b["xmax"] - b["xmin"], b["ymax"] - b["ymin"]], dtype=float
            )
        target = entry["target"]
        if not isinstance(target, str):
            raise DataError(
                f"expected a file name, got {type(target).__name__}",
                path=p,
                record=name,
                field="target",
            )
        fixations = entry["fixations"]
        if not isinstance(fixations, dict):
            raise DataError(
                f"expected an object keyed by participant id, got {type(fixations).__name__}",
                path=p,
                record=name,
                field="fixations",
            )
        for subject in sorted(fixations, key=natural_key):
            points = fixations[subject]
            field = f"fixations[{subject!r}]"
            if not isinstance(points, list):
                raise DataError(
                    f"expected a list of [x, y] pairs, got {type(points).__name__}",
                    path=p,
                    record=name,
                    field=field,
                )
            arr = np.empty((len(points), 2))
            for j, pt in enumerate(points):
                if not (isinstance(pt, list) and len(pt) == 2):
                    raise DataError(
                        f"expected an [x, y] pair at position {j}, got {pt!r}"[:200],
                        path=p,
                        record=name,
                        field=field,
                    )
                arr[j] = _numbers(pt, path=p, record=name, field=field)
            xs.append(arr[:, 0].copy())
            ys.append(arr[:, 1].copy())
            sizes.append((float(w), float(h)))
            boxes.append(box)
            subjects.append(subject)
            images.append(name)
            targets.append(target)
            records.append(f"{name}/{subject}")
    if not xs:
        raise DataError("the file holds no scanpaths", path=p)
    size_arr = np.asarray(sizes)
    _apply_bounds(xs, ys, size_arr, policy=out_of_bounds, path=p, records=records)
    ds = scanpaths(
        xs,
        ys,
        image_size_px=size_arr,
        subject=np.asarray(subjects, dtype=object),
        image=np.asarray(images, dtype=object),
        task="search",
        condition="present",
        target_bbox=np.stack(boxes),
        source=p.name,
        screen_px_per_deg=px_per_deg,
        attrs={
            "format": "amazon-covers",
            "reference": "Sattar et al. 2015 CVPR / 2017; Stauden, Barz & Sonntag 2018 KI (STI dataset)",
            "source_convention": "collage pixels, no fixation durations; 6 x 14 grid of covers",
        },
    )
    return ds.assign_coords(target=("trial", np.asarray(targets, dtype=object)))


# --------------------------------------------------------------------------------------
# Tables: fixation-vector TSV and generic CSV


def _read_table(path: Path, sep: str | None):  # -> pandas.DataFrame
    import pandas as pd

    if sep is None:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
    with reraise_as_data_error(path, "a delimited text table"):
        with open(path, "rb") as fh:
            raw = fh.read()
        if b"\x00" in raw:
            raise DataError("binary content (NUL bytes) in a text table")
        import io

        text = raw.decode("utf-8-sig")
        if not text.strip():
            raise DataError("empty file (expected a header row)")
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _numeric_column(table: Any, column: str, *, path: Path) -> np.ndarray:
    out = np.empty(len(table))
    for row, text in enumerate(table[column].tolist()):
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise DataError(
                f"expected a number, got {text!r}"[:200], path=path, record=row + 1, field=column
            ) from None
        if not math.isfinite(value):
            raise DataError(
                f"expected a finite number, got {text!r}", path=path, record=row + 1, field=column
            )
        out[row] = value
    return out


def _to_ms(values: np.ndarray, unit: str) -> np.ndarray:
    return values * 1000.0 if unit == "s" else values


def load_scanpaths_fixation_tsv(
    path: str | os.PathLike,
    *,
    screen_size_px: tuple[float, float] = STUDYFORREST_SCREEN_PX,
    duration_unit: str = "s",
    name_pattern: str = _STUDYFORREST_NAME,
    out_of_bounds: str = "clip",
    screen_px_per_deg: float | None = None,
) -> xr.Dataset:
    """Load fixation-vector TSV file(s) (multimatch-gaze / studyforrest layout).

    Conventions of the source (multimatch-gaze, Dijkstra/Wagner et al.; data: studyforrest
    eye tracking, Hanke et al. 2016 Sci. Data, events from REMoDNaV): tab-separated with
    header ``start_x start_y duration``; coordinates in pixels of the 1280×720 screen area
    (x right, y down); ``duration`` in **seconds**.

    Parameters
    ----------
    path : path-like
        One ``.tsv`` file (one trial), or a folder: every ``*.tsv`` in natural order, one
        trial per file.
    screen_size_px : (width, height)
        The frame the coordinates refer to (default 1280×720).
    duration_unit : {"s", "ms"}
        Unit of the ``duration`` column (converted to ``duration_ms``).
    name_pattern : str
        Regex applied to each file stem; named groups ``image`` and ``subject`` fill those
        coords (default matches ``segment_10_sub-01``). Stems that do not match give
        ``image=<stem>``, ``subject=""``.
    out_of_bounds : {"clip", "raise"}
        Fixations outside the frame: clip with a ``DataWarning`` (default) or raise.
    screen_px_per_deg : float, optional
        Recorded in ``attrs`` when given.
    """
    check_option("out_of_bounds", out_of_bounds, _OOB)
    check_option("duration_unit", duration_unit, ("s", "ms"))
    size = _size_pair(screen_size_px, "screen_size_px")
    pattern = re.compile(name_pattern)
    p = as_path(path, kind="file or folder")
    files = (
        sorted((f for f in p.glob("*.tsv") if f.is_file()), key=lambda f: natural_key(f.name))
        if p.is_dir()
        else [p]
    )
    if not files:
        raise DataError("no *.tsv files in the folder", path=p)
    xs, ys, ds_, subjects, images = [], [], [], [], []
    for f in files:
        table = _read_table(f, "\t")
        missing = [c for c in _FIXVEC_COLUMNS if c not in table.columns]
        if missing:
            raise DataError(
                f"missing column(s) {missing}; expected a header {' '.join(_FIXVEC_COLUMNS)}, "
                f"got {list(table.columns)}"[:300],
                path=f,
                field=missing[0],
            )
        x = _numeric_column(table, "start_x", path=f)
        y = _numeric_column(table, "start_y", path=f)
        d = _numeric_column(table, "duration", path=f)
        if (d < 0).any():
            row = int(np.argmax(d < 0))
            raise DataError(
                f"expected a duration >= 0, got {d[row]:g} {duration_unit}",
                path=f,
                record=row + 1,
                field="duration",
            )
        if duration_unit == "s" and (d > 60).any():
            row = int(np.argmax(d > 60))
            raise DataError(
                f"a fixation of {d[row]:g} s is implausible: are the durations in ms? "
                "pass duration_unit='ms'",
                path=f,
                record=row + 1,
                field="duration",
            )
        _apply_bounds([x], [y], np.asarray([size]), policy=out_of_bounds, path=f, records=[f.name])
        m = pattern.match(f.stem)
        groups = m.groupdict() if m else {}
        xs.append(x)
        ys.append(y)
        ds_.append(_to_ms(d, duration_unit))
        images.append(groups.get("image") or f.stem)
        subjects.append(groups.get("subject") or "")
    return scanpaths(
        xs,
        ys,
        image_size_px=size,
        duration_ms=ds_,
        subject=np.asarray(subjects, dtype=object),
        image=np.asarray(images, dtype=object),
        task="free-viewing",
        source=p.name,
        screen_px_per_deg=screen_px_per_deg,
        attrs={
            "format": "fixation-tsv",
            "reference": "Hanke et al. 2016 Sci Data (studyforrest); multimatch-gaze fixation vectors",
            "source_convention": f"screen px {size[0]:g}x{size[1]:g}, duration in {duration_unit}",
        },
    )


_CSV_KEYS = (
    "x",
    "y",
    "duration",
    "trial",
    "fixation",
    "subject",
    "image",
    "task",
    "condition",
    "image_width",
    "image_height",
    "bbox_x",
    "bbox_y",
    "bbox_width",
    "bbox_height",
)


def load_scanpaths_csv(
    path: str | os.PathLike,
    *,
    columns: Mapping[str, str] | None = None,
    duration_unit: str = "ms",
    image_size_px: tuple[float, float] | None = None,
    sep: str | None = None,
    out_of_bounds: str = "clip",
    screen_px_per_deg: float | None = None,
) -> xr.Dataset:
    """Load a generic CSV/TSV with one row per fixation.

    Parameters
    ----------
    path : path-like
        The table (``.tsv`` is tab-separated, anything else comma-separated unless ``sep``).
    columns : mapping, optional
        cogattn name → your column name, for any of ``x``, ``y`` (required), ``duration``
        (alias ``duration_ms``), ``trial`` (rows with the same value form one scanpath, in
        order of first appearance; without it, rows are grouped by the ``subject``, ``image``,
        ``task`` and ``condition`` columns present, or form one trial), ``fixation`` (order
        within a trial; file order otherwise), ``subject``, ``image``, ``task``,
        ``condition``, ``image_width``, ``image_height``, ``bbox_x``, ``bbox_y``,
        ``bbox_width``, ``bbox_height``. Unmapped names default to a column of that very name
        when present (``duration_ms`` also counts for ``duration``).
    duration_unit : {"ms", "s"}
        Unit of the duration column.
    image_size_px : (width, height), optional
        Image size for every trial; otherwise the ``image_width``/``image_height`` columns
        are required.
    sep : str, optional
        Field separator.
    out_of_bounds : {"clip", "raise"}
        Fixations outside the image: clip with a ``DataWarning`` (default) or raise.
    screen_px_per_deg : float, optional
        Recorded in ``attrs`` when given.

    Examples
    --------
    >>> ds = load_scanpaths_csv(  # doctest: +SKIP
    ...     "fix.csv", columns={"x": "gx", "y": "gy", "trial": "tid"}, image_size_px=(800, 600)
    ... )
    """
    check_option("out_of_bounds", out_of_bounds, _OOB)
    check_option("duration_unit", duration_unit, ("s", "ms"))
    mapping = dict(columns or {})
    if "duration_ms" in mapping:
        mapping.setdefault("duration", mapping.pop("duration_ms"))
    unknown = sorted(set(mapping) - set(_CSV_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in columns=; valid keys: {list(_CSV_KEYS)}")
    size = None if image_size_px is None else _size_pair(image_size_px, "image_size_px")
    p = as_path(path)
    table = _read_table(p, sep)
    cols: dict[str, str] = {}
    for key in _CSV_KEYS:
        if key in mapping:
            if mapping[key] not in table.columns:
                raise DataError(
                    f"column {mapping[key]!r} (given for {key!r}) not found; columns are "
                    f"{list(table.columns)}"[:300],
                    path=p,
                    field=mapping[key],
                )
            cols[key] = mapping[key]
        elif key in table.columns:
            cols[key] = key
        elif key == "duration" and "duration_ms" in table.columns:
            cols[key] = "duration_ms"
    for key in ("x", "y"):
        if key not in cols:
            raise DataError(
                f"no {key!r} column: map it with columns={{{key!r}: '<your column>'}}; columns are "
                f"{list(table.columns)}"[:300],
                path=p,
                field=key,
            )
    if size is None and not ("image_width" in cols and "image_height" in cols):
        raise ValueError(
            "pass image_size_px=(width, height) or map image_width/image_height columns"
        )
    with reraise_as_data_error(p, "a scanpath table"):
        return _csv_to_scanpaths(
            table, cols, p, size, duration_unit, out_of_bounds, screen_px_per_deg
        )


def _csv_to_scanpaths(
    table: Any,
    cols: dict[str, str],
    p: Path,
    size: tuple[float, float] | None,
    duration_unit: str,
    out_of_bounds: str,
    px_per_deg: Any,
) -> xr.Dataset:
    x = _numeric_column(table, cols["x"], path=p)
    y = _numeric_column(table, cols["y"], path=p)
    dur = None
    if "duration" in cols:
        dur = _numeric_column(table, cols["duration"], path=p)
        if (dur < 0).any():
            row = int(np.argmax(dur < 0))
            raise DataError(
                f"expected a duration >= 0, got {dur[row]:g} {duration_unit}",
                path=p,
                record=row + 1,
                field=cols["duration"],
            )
        dur = _to_ms(dur, duration_unit)
    label_keys = [k for k in ("subject", "image", "task", "condition") if k in cols]
    if "trial" in cols:
        keys = table[cols["trial"]].tolist()
    elif label_keys:
        keys = list(zip(*(table[cols[k]].tolist() for k in label_keys)))
    else:
        keys = [0] * len(table)
    groups: dict[Any, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    if not groups:
        raise DataError("the table holds no fixation rows", path=p)
    order_col = None
    if "fixation" in cols:
        order_col = _numeric_column(table, cols["fixation"], path=p)
    per_trial_numeric = {}
    for key in ("image_width", "image_height", "bbox_x", "bbox_y", "bbox_width", "bbox_height"):
        if key in cols:
            per_trial_numeric[key] = _numeric_column(table, cols[key], path=p)
    xs, ys, ds_, labels, widths, heights, boxes, records = (
        [],
        [],
        [],
        {k: [] for k in label_keys},
        [],
        [],
        [],
        [],
    )
    for key, rows in groups.items():
        rows_arr = np.asarray(rows)
        if order_col is not None:
            rows_arr = rows_arr[np.argsort(order_col[rows_arr], kind="stable")]
        record = f"trial {key!r} (row {rows_arr[0] + 1})"
        records.append(record)
        for lab in label_keys:
            values = {table[cols[lab]].iloc[r] for r in rows_arr}
            if len(values) != 1:
                raise DataError(
                    f"expected one value per trial, got {sorted(values)[:5]}",
                    path=p,
                    record=record,
                    field=cols[lab],
                )
            labels[lab].append(values.pop())
        trial_values = {}
        for name, arr in per_trial_numeric.items():
            values = np.unique(arr[rows_arr])
            if len(values) != 1:
                raise DataError(
                    f"expected one value per trial, got {values[:5].tolist()}",
                    path=p,
                    record=record,
                    field=cols[name],
                )
            trial_values[name] = float(values[0])
        if size is not None:
            widths.append(size[0])
            heights.append(size[1])
        else:
            widths.append(trial_values["image_width"])
            heights.append(trial_values["image_height"])
            for name in ("image_width", "image_height"):
                if not trial_values[name] > 0:
                    raise DataError(
                        f"expected a positive size in px, got {trial_values[name]:g}",
                        path=p,
                        record=record,
                        field=cols[name],
                    )
        box_keys = ("bbox_x", "bbox_y", "bbox_width", "bbox_height")
        boxes.append([trial_values.get(k, np.nan) for k in box_keys])
        xs.append(x[rows_arr].copy())
        ys.append(y[rows_arr].copy())
        if dur is not None:
            ds_.append(dur[rows_arr])
    sizes = np.column_stack([widths, heights])
    _apply_bounds(xs, ys, sizes, policy=out_of_bounds, path=p, records=records)
    trial_ids = list(groups)
    kwargs = {lab: np.asarray(labels[lab], dtype=object) for lab in label_keys}
    ds = scanpaths(
        xs,
        ys,
        image_size_px=sizes,
        duration_ms=ds_ if dur is not None else None,
        target_bbox=np.asarray(boxes, dtype=float),
        source=p.name,
        screen_px_per_deg=px_per_deg,
        attrs={
            "format": "csv",
            "source_convention": f"columns {cols}; duration in {duration_unit}",
        },
        **kwargs,
    )
    if "trial" in cols:
        ds = ds.assign_coords(
            trial_id=("trial", np.asarray([str(t) for t in trial_ids], dtype=object))
        )
    return ds
