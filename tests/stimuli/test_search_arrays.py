"""Search displays: the asymmetry tasks' geometry (original generators' facts), object arrays,
user displays."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.stimuli.search_arrays import (
    ASYMMETRY_EXPERIMENTS,
    TASKS,
    SearchDisplay,
    asymmetry_displays,
    load_search_display,
    make_asymmetry_display,
    object_array,
)


def test_task_table_matches_the_spec():
    assert len(ASYMMETRY_EXPERIMENTS) == 6 and len(TASKS) == 12
    pairs = {e.name: set(e.tasks) for e in ASYMMETRY_EXPERIMENTS.values()}
    assert pairs["curvature"] == {"curve_in_lines", "line_in_curves"}
    assert pairs["intersection_tl"] == {"Ts", "Ls"}
    assert pairs["orientation_heterogeneous"] == {"hetero_t0", "hetero_t20"}
    assert TASKS["cross"].set_sizes == (3, 6, 9) and TASKS["cross"].n_per_set_size == 36
    assert TASKS["top_down"].set_sizes == (1, 6, 12)
    assert TASKS["homo_t0"].set_sizes == (1, 4, 8, 12)
    # fixation caps of the original protocol (spec): 17, 37, 10, 17
    caps = {t: TASKS[t].max_fixations for t in ("homo_t0", "curve_in_lines", "cross", "top_down")}
    assert caps == {"homo_t0": 17, "curve_in_lines": 37, "cross": 10, "top_down": 17}


@pytest.mark.parametrize(
    ("task", "side", "background"),
    # display sides of the original generators at 30 px/deg: int(view_deg * 30)
    [("homo_t20", 339, 255), ("line_in_curves", 339, 0), ("Ls", 615, 255), ("left_right", 198, 27)],
)
def test_display_geometry(task, side, background):
    size = TASKS[task].set_sizes[-1]
    d = make_asymmetry_display(task, size, rng=3)
    assert d.image.shape == (side, side, 3) and d.image.dtype == np.uint8
    assert d.background == background
    kinds = np.array(d.object_kinds)
    assert (kinds == "target").sum() == 1 and (kinds == "distractor").sum() == size - 1
    assert d.object_masks.shape[0] == TASKS[task].grid ** 2
    np.testing.assert_array_equal(
        d.target_mask, d.object_masks[np.flatnonzero(kinds == "target")[0]]
    )
    # items are drawn: each occupied cell differs from the background, empty cells do not
    for mask, kind in zip(d.object_masks, kinds):
        drawn = (d.image[mask] != background).any()
        assert drawn == (kind != "empty")
    assert d.target.shape[:2] == (int(TASKS[task].object_deg * 30),) * 2


def test_displays_are_seeded_and_scaled():
    a = asymmetry_displays("cross", n_per_set_size=2, px_per_deg=10, seed=5)
    b = asymmetry_displays("cross", n_per_set_size=2, px_per_deg=10, seed=5)
    c = asymmetry_displays("cross", n_per_set_size=2, px_per_deg=10, seed=6)
    assert len(a) == 6 and [d.set_size for d in a] == [3, 3, 6, 6, 9, 9]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b))
    assert not all(np.array_equal(x.image, y.image) for x, y in zip(a, c))
    assert a[0].image.shape == (205, 205, 3) and a[0].px_per_deg == 10
    with pytest.raises(ValueError, match="set_size"):
        make_asymmetry_display("cross", 10)
    with pytest.raises(ValueError, match="unknown asymmetry task"):
        make_asymmetry_display("crosses", 3)


def test_orientation_targets_differ_by_20_degrees():
    d0 = make_asymmetry_display("homo_t0", 1, rng=0)
    d20 = make_asymmetry_display("homo_t20", 1, rng=0)
    ink0 = np.argwhere(d0.target[..., 0] < 128)
    ink20 = np.argwhere(d20.target[..., 0] < 128)

    # principal axis of the bar's pixels, degrees clockwise from vertical
    def tilt(pts):
        cov = np.cov((pts - pts.mean(0)).T)
        v = np.linalg.eigh(cov)[1][:, -1]  # (row, col)
        return np.degrees(np.arctan2(v[1], -v[0])) % 180

    assert min(tilt(ink0), 180 - tilt(ink0)) < 1.0
    assert tilt(ink20) == pytest.approx(20.0, abs=1.0)


def test_object_array_circle_and_grid():
    objs = [np.full((8, 8, 3), 10 * i, dtype=np.uint8) for i in range(6)]
    d = object_array(
        objs, target_index=2, layout="circle", image_size_px=(100, 80), radius_frac=0.35
    )
    assert d.image.shape == (80, 100, 3) and d.set_size == 6
    # object 0 at 12 o'clock: centre (50, 40 - 28) -> box x 46..54, y 8..16
    np.testing.assert_array_equal(d.target_bbox, [*np.argwhere(d.object_masks[2])[0][::-1], 8, 8])
    assert d.object_masks[0][8:16, 46:54].all()
    np.testing.assert_array_equal(d.target, objs[2])
    g = object_array(objs, target_index=None, target=objs[0], layout="grid", image_size_px=(60, 40))
    assert g.target_mask is None and np.isnan(g.target_bbox).all()
    with pytest.raises(ValueError, match="does not fit"):
        object_array(objs, layout="circle", image_size_px=(20, 20))


def test_load_search_display_bbox_and_errors():
    img = np.zeros((30, 40, 3), dtype=np.uint8)
    d = load_search_display(img, img[:5, :5], bbox=[10, 5, 4, 6])
    assert d.target_mask.sum() == 24 and d.target_mask[5:11, 10:14].all()
    np.testing.assert_array_equal(d.target_bbox, [10, 5, 4, 6])
    with pytest.raises(ValueError, match="outside"):
        load_search_display(img, img[:5, :5], bbox=[38, 5, 4, 6])
    with pytest.raises(ValueError, match="target_mask"):
        SearchDisplay(image=img, target=img[:3, :3], target_mask=np.zeros((30, 41), bool))
