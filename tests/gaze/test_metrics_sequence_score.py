"""Sequence score: MeanShift clustering equal to scikit-learn, the published recipe, and the
COCO-Search18 val human-human reference value (0.4956, shared data README)."""

from __future__ import annotations

import json
import warnings
from collections import defaultdict

import numpy as np
import pytest
from sklearn.cluster import MeanShift
from sklearn.cluster import estimate_bandwidth as sk_estimate_bandwidth

from cogattn.gaze.metrics import (
    SS_BANDWIDTH_FACTORS,
    cluster_fixations,
    estimate_bandwidth,
    mean_shift,
    semantic_sequence_score,
    semantic_sequence_score_with_duration,
    sequence_score,
    sequence_score_with_duration,
)
from cogattn.gaze.metrics.alignment import batch_nw_similarity

COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"


@pytest.fixture(scope="module")
def coco_groups(shared_data):
    """Raw COCO-Search18 val fixations per (image, task), rescaled to 512x320 exactly as the
    README recipe does (x*512/1680, y*320/1050, no clipping)."""
    records = json.loads((shared_data / COCO).read_text())
    groups = defaultdict(list)
    for r in records:
        xy = np.stack([np.array(r["X"]) * 512 / 1680, np.array(r["Y"]) * 320 / 1050], axis=1)
        groups[(r["name"], r["task"])].append(xy)
    return dict(groups)


def _sklearn_recipe(paths):
    """The published recipe, written with scikit-learn (Scanpath_Prediction issue #24)."""
    x = np.concatenate(paths)
    bw = sk_estimate_bandwidth(x)
    best_rate, best = -np.inf, None
    for f in SS_BANDWIDTH_FACTORS:
        ms = MeanShift(bandwidth=bw * f).fit(x)
        n_b = n_w = 0
        splits = np.cumsum([len(p) for p in paths])[:-1]
        for lab in np.split(ms.predict(x), splits):  # = predict per scanpath, one call
            same = int((lab[1:] == lab[:-1]).sum())
            n_w += same
            n_b += len(lab) - 1 - same
        rate = (n_b - n_w) / len(ms.cluster_centers_)
        if rate > best_rate:
            best_rate, best = rate, ms
    return best


def test_mean_shift_equals_sklearn_on_real_groups(coco_groups):
    keys = sorted(coco_groups)
    for key in (keys[0], keys[250]):
        x = np.concatenate(coco_groups[key])
        bw = sk_estimate_bandwidth(x)
        assert estimate_bandwidth(x) == pytest.approx(bw, rel=1e-12)
        for f in (0.2, 1.0, 1.8):
            ref = MeanShift(bandwidth=bw * f).fit(x)
            centres, labels = mean_shift(x, bandwidth=bw * f)
            assert centres.shape == ref.cluster_centers_.shape
            np.testing.assert_allclose(centres, ref.cluster_centers_, rtol=0, atol=1e-9)
            np.testing.assert_array_equal(labels, ref.labels_)
            np.testing.assert_array_equal(labels, ref.predict(x))


def test_mean_shift_equals_sklearn_synthetic(rng):
    # duplicated points (the initial centre fixation), well separated blobs, ties in intensity
    blobs = np.concatenate(
        [
            np.repeat([[256.0, 160.0]], 8, axis=0),
            rng.normal([100, 80], 6, (9, 2)),
            rng.normal([400, 250], 6, (9, 2)),
            rng.uniform(0, 512, (6, 2)),
        ]
    )
    for bw in (3.0, 20.0, 60.0, 400.0):
        ref = MeanShift(bandwidth=bw).fit(blobs)
        centres, labels = mean_shift(blobs, bandwidth=bw)
        np.testing.assert_allclose(centres, ref.cluster_centers_, atol=1e-9)
        np.testing.assert_array_equal(labels, ref.labels_)
    # bandwidth 0 (all-identical neighbourhoods): one cluster per distinct point
    centres, labels = mean_shift(np.array([[1.0, 1.0], [1.0, 1.0], [5.0, 5.0]]), bandwidth=0.0)
    assert len(centres) == 2 and labels[0] == labels[1] != labels[2]
    with pytest.raises(ValueError, match="bandwidth"):
        mean_shift(blobs, bandwidth=-1.0)


def test_cluster_recipe_equals_sklearn_recipe(coco_groups):
    # the smallest group keeps scikit-learn's per-seed loops short (the test budget)
    key = min(sorted(coco_groups), key=lambda k: sum(len(p) for p in coco_groups[k]))
    for paths in (coco_groups[key],):
        ref = _sklearn_recipe(paths)
        mine = cluster_fixations(paths)
        np.testing.assert_allclose(mine.centers, ref.cluster_centers_, atol=1e-9)
        x = np.concatenate(paths)
        np.testing.assert_array_equal(mine.labels(x), ref.predict(x))


def test_coco_val_human_human_sequence_score_reference(coco_groups):
    """README: 0.4956 over 29,304 ordered pairs (strings truncated to 7, flat pair mean)."""
    left, right = [], []
    for paths in coco_groups.values():
        cl = cluster_fixations(paths)
        strings = [cl.labels(p)[:7] for p in paths]
        for i, si in enumerate(strings):
            for j, sj in enumerate(strings):
                if i != j:
                    left.append(si)
                    right.append(sj)
    assert len(left) == 29304

    def pad(strings, fill):
        out = np.full((len(strings), 7), fill)
        for k, s in enumerate(strings):
            out[k, : len(s)] = s
        return out, np.array([len(s) for s in strings])

    a, la = pad(left, -1)
    b, lb = pad(right, -2)
    assert round(float(batch_nw_similarity(a, la, b, lb).mean()), 4) == 0.4956


def test_sequence_score_hand_worked_and_invariants():
    centres = np.array([[10.0, 10.0], [90.0, 10.0], [50.0, 80.0]])
    a = np.array([[12, 9], [88, 12], [51, 79], [11, 12]])  # 0 1 2 0
    b = np.array([[11, 11], [49, 81], [92, 8]])  # 0 2 1
    # LCS(0120, 021) = 2 -> 2 / 4
    assert sequence_score(a, b, clusters=centres) == pytest.approx(0.5)
    assert sequence_score(b, a, clusters=centres) == pytest.approx(0.5)
    assert sequence_score(a, a, clusters=centres) == 1.0
    # truncation to 2: 01 vs 02 -> 1 / 2
    assert sequence_score(a, b, clusters=centres, max_fixations=2) == pytest.approx(0.5)
    assert sequence_score(a[:3], b, clusters=centres, max_fixations=None) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="max_fixations"):
        sequence_score(a, b, clusters=centres, max_fixations=0)
    with pytest.raises(ValueError, match="clusters"):
        sequence_score(a, b, clusters=np.zeros((0, 2)))


def test_sequence_score_with_duration_hand_worked():
    centres = np.array([[10.0, 10.0], [90.0, 10.0]])
    # a: 0 for 120 ms (2 bins), 1 for 60 ms (1 bin) -> 0 0 1
    # b: 0 for 49 ms (0 bins), 1 for 160 ms (3 bins) -> 1 1 1 ; LCS 1 / 3
    a = np.array([[10, 10, 120], [90, 10, 60]])
    b = np.array([[10, 10, 49], [90, 10, 160]])
    assert sequence_score_with_duration(a, b, clusters=centres) == pytest.approx(1 / 3)
    assert sequence_score_with_duration(a, a, clusters=centres) == 1.0
    # every fixation shorter than one bin: both strings empty -> NaN (documented)
    short = np.array([[10, 10, 10.0], [90, 10, 20.0]])
    assert np.isnan(sequence_score_with_duration(short, short, clusters=centres))
    with pytest.raises(ValueError, match="durations"):
        sequence_score_with_duration(a[:, :2], b, clusters=centres)


def test_semantic_sequence_score_hand_worked():
    seg = np.zeros((10, 20), dtype=int)
    seg[:, 10:] = 7  # right half is category 7
    a = [[2, 2], [15, 5], [3, 9]]  # 0 7 0
    b = [[15, 1], [19.9, 9.9], [20, 10]]  # 7 7 7 (the far corner takes the last pixel)
    assert semantic_sequence_score(a, b, segmentation_map=seg) == pytest.approx(1 / 3)
    assert semantic_sequence_score(a, a, segmentation_map=seg) == 1.0
    ad = np.c_[np.array(a, float), [100, 100, 100]]
    bd = np.c_[np.array(b, float), [50, 50, 50]]
    # 0 0 7 7 0 0 vs 7 7 7 -> LCS 2 / 6
    assert semantic_sequence_score_with_duration(ad, bd, segmentation_map=seg) == pytest.approx(
        2 / 6
    )
    with pytest.raises(ValueError, match="outside the segmentation map"):
        semantic_sequence_score([[25, 2]], a, segmentation_map=seg)


def test_cluster_fixations_checks_input():
    with pytest.raises(ValueError, match="at least one fixation"):
        cluster_fixations([])
    with pytest.raises(ValueError, match="finite"):
        cluster_fixations([np.array([[1.0, np.nan]])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl = cluster_fixations([np.array([[5.0, 5.0], [5.0, 5.0]])])  # bandwidth 0
    assert len(cl.centers) == 1
