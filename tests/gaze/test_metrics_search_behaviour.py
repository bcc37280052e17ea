"""Search efficiency (hand-worked) and the OAT behaviour vector (Amazon covers README values)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cogattn.data import DataWarning, load_scanpaths, scanpaths
from cogattn.gaze.metrics import (
    behaviour_delta,
    behaviour_vector,
    cumulative_target_found,
    grid_objects,
    grid_target_object,
    mean_behaviour,
    nw_similarity,
    probability_mismatch,
    scanpath_ratio,
    steps_to_target,
    target_found_cdf,
    tfp_auc,
)

AMAZON = "amazon_book_covers_sti/Amazon.json"


def test_steps_and_cdf_hand_worked():
    box = [70, 70, 20, 20]  # strictly inside: 70 < x < 90
    assert steps_to_target([[80, 80]], box) == 1.0
    assert steps_to_target([[50, 50], [70, 80], [80, 80]], box) == 3.0  # x = 70 is on the edge
    assert steps_to_target([[50, 50]], box) == np.inf
    steps = [1, 2, 2, 4, np.inf]
    np.testing.assert_allclose(target_found_cdf(steps, max_steps=3), [0.2, 0.6, 0.6, 0.8])
    # per-group mean (two tasks): task a = [1, 2] -> [0.5, 1, 1]; task b = [inf] -> 0
    np.testing.assert_allclose(
        target_found_cdf([1, 2, np.inf], max_steps=2, groups=["a", "a", "b"]), [0.25, 0.5, 0.5]
    )
    assert tfp_auc([0.2, 0.6, 0.6, 0.8]) == pytest.approx(2.2)
    assert probability_mismatch([0.2, 0.6], [0.3, 0.4]) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="same fixation numbers"):
        probability_mismatch([0.2, 0.6], [0.3])
    with pytest.raises(ValueError, match="NaN"):
        target_found_cdf([1, np.nan])


def test_scanpath_ratio_hand_worked():
    box = [25, 35, 10, 10]  # centre (30, 40)
    assert scanpath_ratio([[0, 0], [30, 40]], box) == 1.0
    # detour: (0,0) -> (30,0) -> (30,40): direct 50, travelled 70
    assert scanpath_ratio([[0, 0], [30, 0], [30, 40]], box) == pytest.approx(50 / 70)
    assert np.isnan(scanpath_ratio([[30, 40]], box))  # found by the initial fixation
    assert np.isnan(scanpath_ratio([[0, 0], [1, 1]], box))  # never found
    far = [[0, 0]] * 8 + [[30, 40]]
    assert np.isnan(scanpath_ratio(far, box, max_steps=6))  # found too late
    assert scanpath_ratio(far, box, max_steps=None) == 1.0


def test_cumulative_target_found_dataset():
    ds = scanpaths(
        [[50, 80], [50, 10, 80], [10, 10]],
        [[50, 80], [50, 10, 80], [10, 10]],
        image_size_px=(100, 100),
        task=["a", "a", "b"],
        target_bbox=[70, 70, 20, 20],
    )
    cdf = cumulative_target_found(ds, max_steps=2)
    np.testing.assert_allclose(cdf.values, [0.0, 0.25, 0.5])
    assert cdf.dims == ("fixation_number",) and cdf["fixation_number"].values.tolist() == [1, 2, 3]


def test_behaviour_vector_hand_worked():
    v = behaviour_vector([3, 3, 5, 3, 7], target=7)
    assert v == {
        "target_found": 1.0,
        "length": 5.0,
        "search_ratio": 0.6,
        "refixation_ratio": 0.2,
        "revisit_ratio": 0.2,
    }
    assert v["search_ratio"] + v["refixation_ratio"] + v["revisit_ratio"] == pytest.approx(1)
    assert behaviour_vector([1], target=2)["target_found"] == 0.0
    assert behaviour_delta(v, v) == 0.0
    other = dict(v, length=10.0)  # |10 - 5| / 5 = 1 on one of five entries
    assert behaviour_delta(other, v) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="at least one fixation"):
        behaviour_vector([], target=1)


def test_grid_target_object_iou():
    # 2x2 grid on 100x100; a box mostly in the bottom-right cell
    assert grid_target_object([40, 45, 50, 50], screen_size_px=(100, 100), grid=(2, 2)) == 3
    assert grid_target_object([0, 0, 10, 10], screen_size_px=(100, 100), grid=(2, 2)) == 0


def test_amazon_covers_readme_values(shared_data):
    """README: behaviour (0.84, 14.47, 0.78, 0.17, 0.05); object-string SS 0.2009 (uniform
    6x14 grid, untruncated, ordered pairs of participants per collage)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # the file has no fixation outside
        ds = load_scanpaths(shared_data / AMAZON, format="amazon-covers")
    assert ds.sizes["trial"] == 600
    seqs, targets, images = [], [], []
    for k, fix in enumerate(ds.scanpath.iter_trials()):
        size = (float(ds["image_width"][k]), float(ds["image_height"][k]))
        seqs.append(grid_objects(fix, screen_size_px=size, grid=(14, 6)))
        targets.append(
            grid_target_object(ds["target_bbox"].values[k], screen_size_px=size, grid=(14, 6))
        )
        images.append(str(ds["image"].values[k]))
    v = mean_behaviour(seqs, targets)
    np.testing.assert_allclose(
        [round(v[k], 2) for k in v], [0.84, 14.47, 0.78, 0.17, 0.05], atol=1e-9
    )
    by_image: dict[str, list] = {}
    for img, s in zip(images, seqs):
        by_image.setdefault(img, []).append(s)
    scores = [
        nw_similarity(a, b)
        for group in by_image.values()
        for i, a in enumerate(group)
        for j, b in enumerate(group)
        if i != j
    ]
    assert len(scores) == 3000
    assert round(float(np.mean(scores)), 4) == 0.2009
