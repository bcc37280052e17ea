"""Compare model scanpaths with human scanpaths, and humans with each other.

:func:`compare` scores every model scanpath against every human scanpath recorded on the
same image (and task) and averages over those humans — the protocol of IRL, Chen et al.
2021, Gazeformer and HAT (``reduce="mean"``). :func:`human_consistency` scores human
scanpaths against each other (the ceiling a model is judged against), with the protocol
stated in the output: ``"pairwise"`` (every ordered pair of different subjects of an
image–task; sequence-score clusters from all of them — the protocol of the reference
values in the shared data READMEs) or ``"leave-one-out"`` (each subject is treated as a
model: the clusters are refit without it). Both return an xarray Dataset ``trial ×
metric`` with the per-trial mean score (``score``) and the number of pairs behind it
(``n_pairs``); :func:`summarize` gives the means (over model trials for a comparison, over
all pairs for human consistency) and bootstrap intervals.

Metric names (``metrics=``): ``sequence_score``, ``sequence_score_duration``,
``semantic_sequence_score`` (needs ``segmentation_maps``), ``multimatch`` (expands to
``multimatch_vector``, ``multimatch_direction``, ``multimatch_length``,
``multimatch_position``, ``multimatch_duration``; each may be asked for alone),
``scanmatch``, ``scanmatch_duration``, ``sed``, ``dtw``, ``frechet``. See
:mod:`cogattn.gaze.metrics` for their definitions; options are in :class:`CompareConfig`.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from cogattn.data import validate_scanpaths
from cogattn.gaze.metrics._checks import check_option
from cogattn.gaze.metrics.alignment import (
    batch_levenshtein,
    batch_needleman_wunsch,
    batch_nw_similarity,
    grid_string,
)
from cogattn.gaze.metrics.clustering import ClusterConfig, FixationClusters, cluster_fixations
from cogattn.gaze.metrics.distances import dtw, frechet
from cogattn.gaze.metrics.multimatch import MULTIMATCH_DIMENSIONS, MultiMatchConfig, multimatch_many
from cogattn.gaze.metrics.scanmatch import scanmatch_sequence, scanmatch_substitution_matrix
from cogattn.gaze.metrics.search_efficiency import (
    cumulative_target_found,
    probability_mismatch,
    scanpath_ratio,
    tfp_auc,
)
from cogattn.gaze.metrics.sequence_score import (
    expand_by_duration,
    segmentation_string,
)

__all__ = [
    "METRICS",
    "CompareConfig",
    "compare",
    "human_consistency",
    "search_performance",
    "summarize",
]

logger = logging.getLogger(__name__)

_MM = tuple(f"multimatch_{d}" for d in MULTIMATCH_DIMENSIONS)
METRICS: dict[str, bool] = {  # name -> higher is better
    "sequence_score": True,
    "sequence_score_duration": True,
    "semantic_sequence_score": True,
    **dict.fromkeys(_MM, True),
    "scanmatch": True,
    "scanmatch_duration": True,
    "sed": False,
    "dtw": False,
    "frechet": False,
}
_GROUPS = {"multimatch": _MM}
_PROTOCOLS = ("pairwise", "leave-one-out")
_PROGRESS_MIN_PAIRS = 2000


@dataclass(frozen=True)
class CompareConfig:
    """Options of :func:`compare` and :func:`human_consistency`.

    Attributes
    ----------
    max_fixations : int or None
        Truncation of the sequence-score strings (7: Gazeformer; 6: IRL/HAT; None: all).
    tempbin_ms : float
        Time bin of the duration variants (sequence score and ScanMatch).
    image_size_px : (width, height) or None
        Frame all scanpaths are rescaled to before scoring (COCO-Search18 models use
        (512, 320)); None keeps each image's own size (model scanpaths are rescaled to
        the size of the human trials of their image).
    scanmatch_grid, scanmatch_threshold
        ScanMatch grid (xbins, ybins) and threshold (Chen et al. 2021: 16×12, 3.5).
    sed_grid : (n_columns, n_rows)
        Grid of the string edit distance (5×5).
    multimatch : MultiMatchConfig
        MultiMatch grouping and thresholds.
    clustering : ClusterConfig
        Sequence-score clustering recipe.
    """

    max_fixations: int | None = 7
    tempbin_ms: float = 50.0
    image_size_px: tuple[float, float] | None = None
    scanmatch_grid: tuple[int, int] = (16, 12)
    scanmatch_threshold: float = 3.5
    sed_grid: tuple[int, int] = (5, 5)
    multimatch: MultiMatchConfig = field(default_factory=MultiMatchConfig)
    clustering: ClusterConfig = field(default_factory=ClusterConfig)

    def to_attrs(self) -> dict[str, Any]:
        """Flat netCDF-safe description of the options."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):
                for sub, v in value.items():
                    out[f"{key}_{sub}"] = list(v) if isinstance(v, tuple) else v
            elif value is None:
                out[key] = "none"
            else:
                out[key] = list(value) if isinstance(value, tuple) else value
        for key, value in list(out.items()):
            if isinstance(value, bool):
                out[key] = int(value)
        return out


# ----------------------------------------------------------------------------- helpers
def expand_metrics(metrics: str | Sequence[str]) -> list[str]:
    """Expand metric names (``"multimatch"`` → its five dimensions) and check them."""
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError(f"metrics must name at least one of {sorted([*METRICS, *_GROUPS])}")
    out: list[str] = []
    for name in names:
        for item in _GROUPS.get(name, (name,)):
            if item not in METRICS:
                raise ValueError(
                    f"unknown metric {name!r}; choose from {sorted([*METRICS, *_GROUPS])}"
                )
            if item not in out:
                out.append(item)
    return out


def _labels(ds: xr.Dataset, name: str) -> np.ndarray:
    return np.array([str(v) for v in ds[name].values], dtype=object)


def _arrays(ds: xr.Dataset, *, with_duration: bool) -> list[np.ndarray]:
    return ds.scanpath.to_list(with_duration=with_duration and ds.scanpath.has_duration)


def _rescaled(arr: np.ndarray, size: np.ndarray, frame: np.ndarray) -> np.ndarray:
    if np.array_equal(size, frame):
        return arr
    out = arr.copy()
    out[:, 0] *= frame[0] / size[0]
    out[:, 1] *= frame[1] / size[1]
    return out


def _sizes(ds: xr.Dataset) -> np.ndarray:
    return np.stack([ds["image_width"].values, ds["image_height"].values], axis=1)


def _check_durations(names: list[str], *datasets: xr.Dataset) -> bool:
    needs = [n for n in names if n.endswith("_duration")]
    dur_needed = [n for n in needs if n != "multimatch_duration"]
    if dur_needed:
        for ds in datasets:
            if not ds.scanpath.has_duration:
                raise ValueError(
                    f"metrics {dur_needed} need fixation durations, but the dataset from "
                    f"{ds.attrs.get('source', '?')!r} has no duration_ms"
                )
    return any(ds.scanpath.has_duration for ds in datasets)


def _show(progress: bool | None, n: int) -> bool:
    return bool(progress) if progress is not None else n >= _PROGRESS_MIN_PAIRS


def _pad_strings(strings: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    width = max(int(lengths.max(initial=0)), 1)
    out = np.full((len(strings), width), -1, dtype=np.int64)
    for k, s in enumerate(strings):
        out[k, : len(s)] = s
    return out, lengths


def _string_scores(left: Sequence[np.ndarray], right: Sequence[np.ndarray]) -> np.ndarray:
    if not left:
        return np.zeros(0)
    a, la = _pad_strings(left)
    b, lb = _pad_strings(right)
    b = np.where(b < 0, -2, b)  # padding never matches padding
    return batch_nw_similarity(a, la, b, lb)


class _Strings:
    """Sequence-score strings of scanpaths under one clustering (truncate, then expand)."""

    def __init__(self, cfg: CompareConfig) -> None:
        self.cfg = cfg

    def make(self, arr: np.ndarray, labels: np.ndarray, *, duration: bool) -> np.ndarray:
        n = self.cfg.max_fixations
        lab = labels if n is None else labels[:n]
        if not duration:
            return lab
        dur = arr[: len(lab), 2]
        return expand_by_duration(lab, dur, tempbin_ms=self.cfg.tempbin_ms)


def _pair_metric_values(
    names: list[str],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    frames: np.ndarray,
    cfg: CompareConfig,
    *,
    seg_pairs: list[tuple[np.ndarray, np.ndarray] | None] | None,
    progress: bool | None,
) -> dict[str, np.ndarray]:
    """Values of the non-clustering metrics for each pair (arrays already in the frame)."""
    out: dict[str, np.ndarray] = {}
    n = len(pairs)
    mm = [m for m in names if m in _MM]
    if mm:
        values = multimatch_many(pairs, screen_size_px=frames, config=cfg.multimatch)
        for k, dim in enumerate(MULTIMATCH_DIMENSIONS):
            if f"multimatch_{dim}" in mm:
                out[f"multimatch_{dim}"] = values[:, k]
    for name in ("scanmatch", "scanmatch_duration"):
        if name in names:
            out[name] = _batched_scanmatch(
                pairs, frames, cfg, tempbin_ms=cfg.tempbin_ms if name.endswith("_duration") else 0
            )
    if "sed" in names:
        out["sed"] = _batched_strings(
            pairs,
            frames,
            lambda arr, f: grid_string(arr, screen_size_px=tuple(f), grid=cfg.sed_grid),
            lambda sa, la, sb, lb: batch_levenshtein(sa, la, sb, lb).astype(float),
        )
    funcs: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
        "dtw": lambda a, b, f: dtw(a, b),
        "frechet": lambda a, b, f: frechet(a, b),
    }
    loop = [m for m in names if m in funcs]
    if loop:
        vals = np.full((len(loop), n), np.nan)
        for k in tqdm(range(n), desc="scanpath pairs", unit="pair", disable=not _show(progress, n)):
            a, b = pairs[k]
            for mi, name in enumerate(loop):
                vals[mi, k] = funcs[name](a, b, frames[k])
        for mi, name in enumerate(loop):
            out[name] = vals[mi]
    if "semantic_sequence_score" in names:
        assert seg_pairs is not None
        left = [p[0] if p is not None else np.zeros(0, np.int64) for p in seg_pairs]
        right = [p[1] if p is not None else np.zeros(0, np.int64) for p in seg_pairs]
        scores = _string_scores(left, right)
        missing = np.array([p is None for p in seg_pairs], dtype=bool)
        scores[missing] = np.nan
        out["semantic_sequence_score"] = scores
    return out


_CHUNK_CELLS = 4_000_000


def _batched_strings(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    frames: np.ndarray,
    encode: Callable[[np.ndarray, np.ndarray], np.ndarray],
    score: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Encode each distinct scanpath once, then score string pairs in size-sorted chunks."""
    cache: dict[int, np.ndarray] = {}

    def code(arr: np.ndarray, frame: np.ndarray) -> np.ndarray:
        key = id(arr)
        if key not in cache:
            cache[key] = np.asarray(encode(arr, frame), dtype=np.int64)
        return cache[key]

    left = [code(a, f) for (a, _), f in zip(pairs, frames)]
    right = [code(b, f) for (_, b), f in zip(pairs, frames)]
    la = np.array([len(x) for x in left], dtype=np.int64)
    lb = np.array([len(x) for x in right], dtype=np.int64)
    out = np.full(len(pairs), np.nan)
    order = np.argsort(np.maximum(la, lb), kind="stable")
    start = 0
    while start < len(order):
        stop = start + 1
        while (
            stop < len(order)
            and (stop + 1 - start) * int(max(la[order[stop]], lb[order[stop]], 1)) ** 2
            <= _CHUNK_CELLS
        ):
            stop += 1
        sel = order[start:stop]
        sa, _ = _pad_strings([left[k] for k in sel])
        sb, _ = _pad_strings([right[k] for k in sel])
        out[sel] = score(sa, la[sel], sb, lb[sel])
        start = stop
    return out


def _batched_scanmatch(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    frames: np.ndarray,
    cfg: CompareConfig,
    *,
    tempbin_ms: float,
) -> np.ndarray:
    """:func:`cogattn.gaze.metrics.scanmatch` for many pairs (batched alignment)."""
    sub = scanmatch_substitution_matrix(cfg.scanmatch_grid, cfg.scanmatch_threshold)

    def score(sa: np.ndarray, la: np.ndarray, sb: np.ndarray, lb: np.ndarray) -> np.ndarray:
        sa = np.maximum(sa, 0)  # padding (-1) is never read; keep indices valid
        sb = np.maximum(sb, 0)
        f = batch_needleman_wunsch(sub[sa[:, :, None], sb[:, None, :]], la, lb)
        longest = np.maximum(la, lb)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(longest > 0, f / (sub.max() * longest), np.nan)

    return _batched_strings(
        pairs,
        frames,
        lambda arr, f: scanmatch_sequence(
            arr, screen_size_px=tuple(f), grid=cfg.scanmatch_grid, tempbin_ms=tempbin_ms
        ),
        score,
    )


def _semantic_strings(
    arr: np.ndarray, image: str, frame: np.ndarray, maps: Mapping[str, Any], cfg: CompareConfig
) -> np.ndarray | None:
    """Truncated segmentation-label string of one scanpath (None: no map for the image)."""
    if image not in maps:
        return None
    seg = np.asarray(maps[image])
    if seg.ndim != 2 or seg.dtype.kind not in "iub":
        raise ValueError(
            f"segmentation_maps[{image!r}] must be a 2-D integer label image, got "
            f"shape {seg.shape} dtype {seg.dtype}"
        )
    h, w = seg.shape
    xy = arr[:, :2] * np.array([w / frame[0], h / frame[1]])
    labels = segmentation_string(xy, seg).astype(np.int64)
    n = cfg.max_fixations
    return labels if n is None else labels[:n]


def _aggregate(
    n_trials: int, owner: np.ndarray, values: dict[str, np.ndarray], names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    score = np.full((n_trials, len(names)), np.nan)
    count = np.zeros((n_trials, len(names)), dtype=np.int64)
    for k, name in enumerate(names):
        v = values[name]
        ok = np.isfinite(v)
        sums = np.bincount(owner[ok], weights=v[ok], minlength=n_trials)
        cnt = np.bincount(owner[ok], minlength=n_trials)
        with np.errstate(invalid="ignore", divide="ignore"):
            score[:, k] = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)
        count[:, k] = cnt
    return score, count


def _result(
    ds: xr.Dataset,
    names: list[str],
    score: np.ndarray,
    count: np.ndarray,
    attrs: dict[str, Any],
) -> xr.Dataset:
    coords = {
        "trial": ds["trial"].values,
        "metric": np.array(names, dtype=object),
        "higher_is_better": ("metric", np.array([METRICS[n] for n in names], dtype=bool)),
    }
    for name in ("subject", "image", "task"):
        coords[name] = ("trial", _labels(ds, name))
    out = xr.Dataset(
        {
            "score": (("trial", "metric"), score, {"long_name": "mean score over the pairs"}),
            "n_pairs": (
                ("trial", "metric"),
                count,
                {"long_name": "number of scanpath pairs with a defined score"},
            ),
        },
        coords=coords,
        attrs=attrs,
    )
    return out


# ----------------------------------------------------------------------------- compare
def compare(
    model: xr.Dataset,
    human: xr.Dataset,
    metrics: str | Sequence[str] = ("sequence_score", "multimatch"),
    *,
    config: CompareConfig | None = None,
    clusters: dict[tuple[str, str], FixationClusters] | None = None,
    segmentation_maps: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> xr.Dataset:
    """Score model scanpaths against the human scanpaths of the same image and task.

    Each model trial is paired with every human trial on the same ``image`` (and the same
    ``task`` when the model trial has one); its score is the mean over those pairs (NaN
    pairs, e.g. MultiMatch with < 3 fixations, left out). Sequence-score clusters are
    fitted once per image–task on the human fixations (in the scoring frame).

    Parameters
    ----------
    model, human : xarray.Dataset
        ``Scanpaths`` datasets (see :func:`cogattn.data.scanpaths`).
    metrics : str or sequence of str
        Metric names (module docstring).
    config : CompareConfig, optional
        Truncation, frame size, metric options.
    clusters : dict, optional
        Cache of sequence-score clusters keyed by ``(image, task)``: used when present,
        filled when missing — pass the same dict to later calls to reuse them (with the
        same frame and clustering config).
    segmentation_maps : mapping image -> (H, W) label array, optional
        For ``semantic_sequence_score``; scanpaths are rescaled from the frame to each
        map's size. Trials on images without a map get NaN.
    progress : bool, optional
        Show a progress bar (default: only for long runs).

    Returns
    -------
    xarray.Dataset
        ``score`` and ``n_pairs`` (``trial × metric``) over the model trials, with
        ``subject``, ``image``, ``task`` and ``higher_is_better`` coords; attrs state the
        protocol and the options.

    Warns
    -----
    UserWarning
        When model trials have no human scanpath on their image (their scores are NaN).
    """
    cfg = config or CompareConfig()
    validate_scanpaths(model)
    validate_scanpaths(human)
    names = expand_metrics(metrics)
    if "semantic_sequence_score" in names and segmentation_maps is None:
        raise ValueError("semantic_sequence_score needs segmentation_maps={image: label array}")
    with_dur = _check_durations(names, model, human)
    h_arr = _arrays(human, with_duration=with_dur)
    m_arr = _arrays(model, with_duration=with_dur)
    h_img, h_task = _labels(human, "image"), _labels(human, "task")
    m_img, m_task = _labels(model, "image"), _labels(model, "task")
    h_size, m_size = _sizes(human), _sizes(model)
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_image: dict[str, list[int]] = defaultdict(list)
    for i, (im, tk) in enumerate(zip(h_img, h_task)):
        by_key[(im, tk)].append(i)
        by_image[im].append(i)

    # group of each model trial
    group_of: list[tuple[str, str] | None] = []
    groups: dict[tuple[str, str], list[int]] = {}
    for im, tk in zip(m_img, m_task):
        key = (im, tk) if tk else (im, "*")
        members = by_key.get(key, []) if tk else by_image.get(im, [])
        if members:
            groups[key] = members
            group_of.append(key)
        else:
            group_of.append(None)
    unmatched = sum(g is None for g in group_of)
    if unmatched:
        warnings.warn(
            f"{unmatched} of {len(group_of)} model trials have no human scanpath on the same "
            "image (and task); their scores are NaN",
            UserWarning,
            stacklevel=2,
        )

    frames = {
        key: (
            np.asarray(cfg.image_size_px, dtype=float)
            if cfg.image_size_px is not None
            else h_size[idx[0]]
        )
        for key, idx in groups.items()
    }
    h_frame: dict[int, np.ndarray] = {}
    for key, idx in groups.items():
        for i in idx:
            h_frame.setdefault(i, _rescaled(h_arr[i], h_size[i], frames[key]))

    owner, pair_a, pair_b, pair_frame, pair_keys, pair_h = [], [], [], [], [], []
    model_scaled: list[np.ndarray | None] = []
    for t, key in enumerate(group_of):
        if key is None:
            model_scaled.append(None)
            continue
        arr = _rescaled(m_arr[t], m_size[t], frames[key])
        model_scaled.append(arr)
        for i in groups[key]:
            owner.append(t)
            pair_a.append(arr)
            pair_b.append(h_frame[i])
            pair_frame.append(frames[key])
            pair_keys.append(key)
            pair_h.append(i)
    owner_arr = np.array(owner, dtype=np.int64)
    frames_arr = np.array(pair_frame, dtype=float).reshape(-1, 2)
    logger.info(
        "compare: %d model trials, %d image-task groups, %d model-human pairs, metrics %s",
        len(group_of),
        len(groups),
        len(owner),
        names,
    )
    values: dict[str, np.ndarray] = {}

    ss_names = [n for n in names if n in ("sequence_score", "sequence_score_duration")]
    if ss_names:
        cache = clusters if clusters is not None else {}
        strings = _Strings(cfg)
        labels_h: dict[int, np.ndarray] = {}
        labels_m: dict[int, np.ndarray] = {}
        for key in tqdm(
            list(groups), desc="clusters", unit="group", disable=not _show(progress, len(owner))
        ):
            if not any(len(h_frame[i]) for i in groups[key]):
                continue  # no human fixation on this image: nothing to cluster (NaN below)
            if key not in cache:
                cache[key] = cluster_fixations(
                    [h_frame[i] for i in groups[key]], config=cfg.clustering
                )
            for i in groups[key]:
                labels_h.setdefault(i, cache[key].labels(h_frame[i]))
        for t, key in enumerate(group_of):
            if key is not None and key in cache:
                labels_m[t] = cache[key].labels(model_scaled[t])
        no_labels = np.zeros(0, dtype=np.int64)
        # an empty human scanpath leaves the pair undefined (IRL skips empty human strings);
        # an empty model scanpath scores 0
        empty_h = np.array([len(h_frame[i]) == 0 for i in pair_h], dtype=bool)
        for name in ss_names:
            dur = name.endswith("_duration")
            left = [
                strings.make(model_scaled[t], labels_m.get(t, no_labels), duration=dur)
                for t in owner_arr
            ]
            right = [
                strings.make(h_frame[i], labels_h.get(i, no_labels), duration=dur) for i in pair_h
            ]
            scores = _string_scores(left, right)
            scores[empty_h] = np.nan
            values[name] = scores

    seg_pairs = None
    if "semantic_sequence_score" in names:
        assert segmentation_maps is not None
        sem_m = {
            t: _semantic_strings(model_scaled[t], key[0], frames[key], segmentation_maps, cfg)
            for t, key in enumerate(group_of)
            if key is not None
        }
        sem_h = {
            i: _semantic_strings(h_frame[i], key[0], frames[key], segmentation_maps, cfg)
            for key, idx in groups.items()
            for i in idx
        }
        seg_pairs = [
            None if sem_m[t] is None or sem_h[i] is None else (sem_m[t], sem_h[i])
            for t, i in zip(owner_arr, pair_h)
        ]
    values.update(
        _pair_metric_values(
            names,
            list(zip(pair_a, pair_b)),
            frames_arr,
            cfg,
            seg_pairs=seg_pairs,
            progress=progress,
        )
    )
    score, count = _aggregate(model.sizes["trial"], owner_arr, values, names)
    attrs = {
        "description": "model scanpaths scored against the human scanpaths of the same image "
        "(and task); score = mean over those humans (NaN pairs left out)",
        "protocol": "model-vs-humans",
        "model_source": str(model.attrs.get("source", "")),
        "human_source": str(human.attrs.get("source", "")),
        "n_unmatched_trials": int(unmatched),
        **cfg.to_attrs(),
    }
    return _result(model, names, score, count, attrs)


# ----------------------------------------------------------------------------- humans
def human_consistency(
    human: xr.Dataset,
    metrics: str | Sequence[str] = ("sequence_score", "multimatch"),
    *,
    protocol: str = "pairwise",
    config: CompareConfig | None = None,
    clusters: dict[tuple[str, str], FixationClusters] | None = None,
    segmentation_maps: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> xr.Dataset:
    """Score human scanpaths against the other humans of the same image and task.

    Parameters
    ----------
    human : xarray.Dataset
        ``Scanpaths`` dataset; trials are grouped by ``(image, task)``.
    metrics : str or sequence of str
        Metric names (see :func:`compare`).
    protocol : {"pairwise", "leave-one-out"}
        ``"pairwise"``: every ordered pair of different trials of a group, sequence-score
        clusters fitted on all of them (the protocol of the README reference values, e.g.
        COCO-Search18 val SS 0.4956 over 29,304 ordered pairs). ``"leave-one-out"``: each
        trial is scored like a model — clusters refit on the other trials of its group —
        against each of them (differs from pairwise only for the sequence scores).
    config, clusters, segmentation_maps, progress
        As in :func:`compare` (``clusters`` caches the pairwise clusters only).

    Returns
    -------
    xarray.Dataset
        ``score`` and ``n_pairs`` (``trial × metric``): each trial's mean over the other
        trials of its group. :func:`summarize` gives the pair-weighted mean (= the mean
        over all ordered pairs). ``attrs["protocol"]`` states the protocol.
    """
    check_option("protocol", protocol, _PROTOCOLS)
    cfg = config or CompareConfig()
    validate_scanpaths(human)
    names = expand_metrics(metrics)
    if "semantic_sequence_score" in names and segmentation_maps is None:
        raise ValueError("semantic_sequence_score needs segmentation_maps={image: label array}")
    with_dur = _check_durations(names, human)
    arrs = _arrays(human, with_duration=with_dur)
    img, task = _labels(human, "image"), _labels(human, "task")
    size = _sizes(human)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(img, task)):
        groups[key].append(i)
    frame_of = np.empty((len(arrs), 2))
    for idx in groups.values():
        frame = (
            np.asarray(cfg.image_size_px, dtype=float)
            if cfg.image_size_px is not None
            else size[idx[0]]
        )
        for i in idx:
            frame_of[i] = frame
    scaled = [_rescaled(a, size[i], frame_of[i]) for i, a in enumerate(arrs)]

    # unordered pairs i < j within groups (every metric here is symmetric)
    ui, uj = [], []
    for idx in groups.values():
        for p, i in enumerate(idx):
            for j in idx[p + 1 :]:
                ui.append(i)
                uj.append(j)
    ui_arr = np.array(ui, dtype=np.int64)
    uj_arr = np.array(uj, dtype=np.int64)
    owner = np.concatenate([ui_arr, uj_arr])
    values: dict[str, np.ndarray] = {}
    logger.info(
        "human_consistency (%s): %d trials, %d groups, %d ordered pairs, metrics %s",
        protocol,
        len(arrs),
        len(groups),
        2 * len(ui),
        names,
    )

    ss_names = [n for n in names if n in ("sequence_score", "sequence_score_duration")]
    if ss_names:
        strings = _Strings(cfg)
        show = _show(progress, len(ui))
        if protocol == "pairwise":
            cache = clusters if clusters is not None else {}
            labels: dict[int, np.ndarray] = {}
            for key in tqdm(list(groups), desc="clusters", unit="group", disable=not show):
                if not any(len(scaled[i]) for i in groups[key]):
                    continue  # no fixation to cluster: every pair is undefined
                if key not in cache:
                    cache[key] = cluster_fixations(
                        [scaled[i] for i in groups[key]], config=cfg.clustering
                    )
                for i in groups[key]:
                    labels[i] = cache[key].labels(scaled[i])
            no_labels = np.zeros(0, dtype=np.int64)
            for name in ss_names:
                dur = name.endswith("_duration")
                s = [
                    strings.make(scaled[i], labels.get(i, no_labels), duration=dur)
                    for i in range(len(scaled))
                ]
                v = _string_scores([s[i] for i in ui_arr], [s[j] for j in uj_arr])
                values[name] = np.concatenate([v, v])
        else:
            # leave-one-out: ordered pairs (i, j) scored with clusters fitted without i
            lo_i, lo_j, left = [], [], {n: [] for n in ss_names}
            right: dict[str, list[np.ndarray]] = {n: [] for n in ss_names}
            for idx in tqdm(list(groups.values()), desc="clusters", unit="group", disable=not show):
                if len(idx) < 2:
                    continue
                for i in idx:
                    others = [j for j in idx if j != i]
                    if not any(len(scaled[j]) for j in others):
                        continue
                    cl = cluster_fixations([scaled[j] for j in others], config=cfg.clustering)
                    lab_i = cl.labels(scaled[i])
                    for j in others:
                        lab_j = cl.labels(scaled[j])
                        lo_i.append(i)
                        lo_j.append(j)
                        for name in ss_names:
                            dur = name.endswith("_duration")
                            left[name].append(strings.make(scaled[i], lab_i, duration=dur))
                            right[name].append(strings.make(scaled[j], lab_j, duration=dur))
            # align with the `owner` order (pairs (i, j) then (j, i))
            for name in ss_names:
                lookup = dict(zip(zip(lo_i, lo_j), _string_scores(left[name], right[name])))
                first = [lookup.get((i, j), np.nan) for i, j in zip(ui_arr, uj_arr)]
                second = [lookup.get((j, i), np.nan) for i, j in zip(ui_arr, uj_arr)]
                values[name] = np.array(first + second, dtype=float)

        # a pair with an empty scanpath is undefined (IRL skips empty human strings)
        empty = np.array([len(a) == 0 for a in scaled], dtype=bool)
        undefined = np.concatenate([empty[ui_arr] | empty[uj_arr]] * 2)
        for name in ss_names:
            values[name][undefined] = np.nan

    seg_pairs = None
    if "semantic_sequence_score" in names:
        assert segmentation_maps is not None
        sem = [
            _semantic_strings(scaled[i], img[i], frame_of[i], segmentation_maps, cfg)
            for i in range(len(scaled))
        ]
        seg_pairs = [
            None if sem[i] is None or sem[j] is None else (sem[i], sem[j])
            for i, j in zip(ui_arr, uj_arr)
        ]
    other = _pair_metric_values(
        names,
        [(scaled[i], scaled[j]) for i, j in zip(ui_arr, uj_arr)],
        frame_of[ui_arr] if len(ui_arr) else np.zeros((0, 2)),
        cfg,
        seg_pairs=seg_pairs,
        progress=progress,
    )
    for name, v in other.items():
        values[name] = np.concatenate([v, v])
    score, count = _aggregate(human.sizes["trial"], owner, values, names)
    description = {
        "pairwise": "each human scanpath scored against every other human scanpath of the "
        "same image and task (ordered pairs; sequence-score clusters fitted on all of them)",
        "leave-one-out": "each human scanpath scored like a model against every other human "
        "scanpath of the same image and task (sequence-score clusters refit without it)",
    }[protocol]
    attrs = {
        "description": description,
        "protocol": protocol,
        "human_source": str(human.attrs.get("source", "")),
        "n_groups": len(groups),
        **cfg.to_attrs(),
    }
    return _result(human, names, score, count, attrs)


# ----------------------------------------------------------------------------- summaries
def summarize(
    result: xr.Dataset,
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    by: str | None = "image",
    weighting: str = "auto",
    seed: int | None = 0,
) -> xr.Dataset:
    """Mean per metric with a bootstrap confidence interval.

    Two conventions exist and both are used in the field: ``"pairs"`` weights each trial by
    its number of scored pairs, so the mean is the mean over all pairs (how the human
    consistency reference values are computed, e.g. COCO-Search18 SS 0.4956 over 29,304
    ordered pairs); ``"trials"`` averages the per-trial means (IRL/Gazeformer/HAT score each
    model scanpath by its mean over the humans, then average over model scanpaths).
    ``"auto"`` picks ``"trials"`` for :func:`compare` output and ``"pairs"`` for
    :func:`human_consistency`. The interval resamples ``by`` groups (default images: trials
    on one image are not independent) with replacement ``n_boot`` times (percentile
    interval).

    Parameters
    ----------
    result : xarray.Dataset
        Output of :func:`compare` or :func:`human_consistency`.
    n_boot : int
        Bootstrap resamples (0: no interval).
    ci : float
        Coverage of the interval.
    by : str or None
        Per-trial coordinate to resample (None: trials).
    weighting : {"auto", "pairs", "trials"}
        See above.
    seed : int, optional
        Random seed.

    Returns
    -------
    xarray.Dataset
        ``mean``, ``ci_low``, ``ci_high``, ``n_pairs``, ``n_trials`` over ``metric``;
        ``attrs["weighting"]`` says which mean it is.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    check_option("weighting", weighting, ("auto", "pairs", "trials"))
    if weighting == "auto":
        weighting = "trials" if result.attrs.get("protocol") == "model-vs-humans" else "pairs"
    score = result["score"].values
    n_pairs = result["n_pairs"].values.astype(float)
    ok = np.isfinite(score) & (n_pairs > 0)
    weight = n_pairs if weighting == "pairs" else ok.astype(float)
    s = np.where(ok, score, 0.0)
    w = np.where(ok, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (s * w).sum(0) / w.sum(0)
    lo = np.full(mean.shape, np.nan)
    hi = np.full(mean.shape, np.nan)
    if n_boot > 0 and score.shape[0] > 0:
        labels = (
            np.arange(score.shape[0]) if by is None else np.asarray(result[by].values).astype(str)
        )
        uniq, inv = np.unique(labels, return_inverse=True)
        sw = np.zeros((len(uniq), score.shape[1]))
        ww = np.zeros((len(uniq), score.shape[1]))
        np.add.at(sw, inv, s * w)
        np.add.at(ww, inv, w)
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
        counts = np.stack([np.bincount(d, minlength=len(uniq)) for d in draws])
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = (counts @ sw) / (counts @ ww)
        alpha = (1 - ci) / 2
        defined = np.isfinite(boot).any(axis=0)
        if defined.any():
            lo[defined] = np.nanquantile(boot[:, defined], alpha, axis=0)
            hi[defined] = np.nanquantile(boot[:, defined], 1 - alpha, axis=0)
    return xr.Dataset(
        {
            "mean": ("metric", mean),
            "ci_low": ("metric", lo),
            "ci_high": ("metric", hi),
            "n_pairs": ("metric", np.where(ok, n_pairs, 0).sum(0).astype(np.int64)),
            "n_trials": ("metric", ok.sum(0).astype(np.int64)),
        },
        coords={"metric": result["metric"].values},
        attrs={
            "weighting": weighting,
            "ci": ci,
            "n_boot": n_boot,
            "bootstrap_unit": by or "trial",
            "protocol": result.attrs.get("protocol", ""),
        },
    )


def search_performance(
    scanpaths: xr.Dataset,
    *,
    reference: xr.Dataset | None = None,
    max_steps: int = 6,
    by: str | None = "task",
) -> xr.Dataset:
    """Search-efficiency summary of a ``Scanpaths`` dataset with target boxes.

    Parameters
    ----------
    scanpaths : xarray.Dataset
        Scanpaths with ``target_bbox`` (model or human).
    reference : xarray.Dataset, optional
        Human scanpaths: adds the probability mismatch against their curve.
    max_steps : int
        Fixations after the initial one (6 for COCO-Search18).
    by : str or None
        Curves averaged over this per-trial coordinate's groups (``"task"`` as in the paper).

    Returns
    -------
    xarray.Dataset
        ``target_found`` (``fixation_number``), scalars ``tfp_auc``, ``scanpath_ratio``
        (mean over trials where it is defined) and, with a reference, ``probability_mismatch``.
    """
    cdf = cumulative_target_found(scanpaths, max_steps=max_steps, by=by)
    boxes = scanpaths["target_bbox"].values
    ratios = np.array(
        [
            scanpath_ratio(f, b, max_steps=max_steps)
            for f, b in zip(scanpaths.scanpath.iter_trials(), boxes)
        ]
    )
    out = xr.Dataset(
        {
            "target_found": cdf,
            "tfp_auc": ((), tfp_auc(cdf.values)),
            "scanpath_ratio": (
                (),
                float(np.nanmean(ratios)) if np.isfinite(ratios).any() else np.nan,
            ),
            "n_scanpath_ratio": ((), int(np.isfinite(ratios).sum())),
        },
        attrs={"max_steps": max_steps, "grouping": by or "none"},
    )
    if reference is not None:
        ref = cumulative_target_found(reference, max_steps=max_steps, by=by)
        out["probability_mismatch"] = ((), probability_mismatch(cdf.values, ref.values))
    return out
