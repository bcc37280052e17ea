"""Scanpath loaders: real files checked against their READMEs, plus unit conventions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cogattn.data import (
    DataError,
    DataWarning,
    detect_scanpath_format,
    load,
    load_scanpaths,
    save,
)

COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
AMAZON = "amazon_book_covers_sti/Amazon.json"
FORREST = "studyforrest_multimatch_fixvectors"


@pytest.fixture(scope="module")
def coco(shared_data):
    with pytest.warns(DataWarning, match="5 fixation"):
        return load_scanpaths(shared_data / COCO)


@pytest.fixture(scope="module")
def amazon(shared_data):
    return load_scanpaths(shared_data / AMAZON)


def test_coco_search18_counts_match_readme(coco, shared_data):
    # README: 3258 scanpaths, 315 images, 18 target categories, 10 subjects, mean length 3.7.
    assert coco.sizes["trial"] == 3258
    assert len(np.unique(coco["image"].values)) == 315
    assert len(np.unique(coco["task"].values)) == 18
    assert sorted(np.unique(coco["subject"].values).tolist()) == list(range(1, 11))
    assert round(float(coco["length"].mean()), 1) == 3.7
    assert set(coco["condition"].values) == {"present"}
    assert set(coco["split"].values) == {"valid"}
    assert coco.attrs["format"] == "coco-search18"
    assert (coco["image_width"] == 1680).all() and (coco["image_height"] == 1050).all()


def test_coco_search18_fields_match_raw_records(coco, shared_data):
    raw = json.loads((shared_data / COCO).read_text())
    for i in (0, 1234, 3257):
        rec = raw[i]
        n = rec["length"]
        assert int(coco["length"][i]) == n == len(rec["X"])
        np.testing.assert_allclose(coco["duration_ms"].values[i, :n], rec["T"])
        np.testing.assert_allclose(coco["target_bbox"].values[i], rec["bbox"])
        assert coco["image"].values[i] == rec["name"]
        assert int(coco["correct"][i]) == rec["correct"]
        assert float(coco["rt_ms"][i]) == rec["RT"]
    # record 0 is inside the image: coordinates kept exactly (no rescaling, no clipping)
    np.testing.assert_allclose(coco["x"].values[0, : raw[0]["length"]], raw[0]["X"])
    np.testing.assert_allclose(coco["y"].values[0, : raw[0]["length"]], raw[0]["Y"])
    # record 2717 has Y = 1309.5 at fixation 11: clipped to the bottom border (1050)
    assert raw[2717]["Y"][11] == 1309.5
    assert coco["y"].values[2717, 11] == 1050


def test_coco_search18_out_of_bounds_raise(shared_data):
    with pytest.raises(DataError) as info:
        load_scanpaths(shared_data / COCO, out_of_bounds="raise")
    assert info.value.record == 1777 and info.value.field == "y"
    assert "coco_search18" in str(info.value)


def test_amazon_counts_and_bbox_conversion(amazon, shared_data):
    # README: 600 scanpaths over 100 collages, mean 14.5 fixations (min 2, max 91), 6 per collage.
    assert amazon.sizes["trial"] == 600
    assert len(np.unique(amazon["image"].values)) == 100
    lengths = amazon["length"].values
    assert round(lengths.mean(), 1) == 14.5
    assert lengths.min() == 2 and lengths.max() == 91
    assert "duration_ms" not in amazon  # the source has no durations
    assert sorted(set(amazon["subject"].values)) == ["1", "2", "3", "4", "5", "6"]
    raw = json.loads((shared_data / AMAZON).read_text())
    first = amazon.scanpath.select(image="1.jpg", subject="1")
    gt = raw["1.jpg"]["ground_truth"][0]
    np.testing.assert_array_equal(
        first["target_bbox"].values[0],
        [gt["xmin"], gt["ymin"], gt["xmax"] - gt["xmin"], gt["ymax"] - gt["ymin"]],
    )
    np.testing.assert_array_equal(first.scanpath.trial(0), raw["1.jpg"]["fixations"]["1"])
    assert first["image_width"].item() == raw["1.jpg"]["size"]["width"]
    assert first["target"].item() == raw["1.jpg"]["target"]


def test_amazon_bbox_hand_worked(tmp_path):
    doc = {
        "2.jpg": {
            "fixations": {"1": [[10, 20], [30, 40]]},
            "ground_truth": [{"xmin": 10, "xmax": 40, "ymin": 5, "ymax": 25}],
            "size": {"width": 100, "height": 50},
            "target": "t.jpg",
        },
        "10.jpg": {
            "fixations": {"2": [[1, 1]], "1": [[2, 2]]},
            "ground_truth": [],
            "size": {"width": 100, "height": 50},
            "target": "t.jpg",
        },
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    ds = load_scanpaths(path)
    assert detect_scanpath_format(path) == "amazon-covers"
    # natural order: 2.jpg before 10.jpg; participants sorted
    assert ds["image"].values.tolist() == ["2.jpg", "10.jpg", "10.jpg"]
    assert ds["subject"].values.tolist() == ["1", "1", "2"]
    np.testing.assert_array_equal(ds["target_bbox"].values[0], [10, 5, 30, 20])
    assert np.isnan(ds["target_bbox"].values[1]).all()


def test_fixation_tsv_seconds_to_ms(shared_data):
    one = shared_data / FORREST / "segment_10_sub-01.tsv"
    ds = load_scanpaths(one)
    assert detect_scanpath_format(one) == "fixation-tsv"
    # README: segment_10 has 36 (sub-01) vs 28 (sub-19) fixations.
    assert ds["length"].values.tolist() == [36]
    assert ds["subject"].item() == "sub-01" and ds["image"].item() == "segment_10"
    rows = [line.split("\t") for line in one.read_text().splitlines()[1:]]
    np.testing.assert_allclose(ds["duration_ms"].values[0], [float(r[2]) * 1000 for r in rows])
    np.testing.assert_allclose(ds["x"].values[0], [float(r[0]) for r in rows])
    assert (ds["image_width"] == 1280).all() and (ds["image_height"] == 720).all()
    other = load_scanpaths(shared_data / FORREST / "segment_10_sub-19.tsv")
    assert other["length"].values.tolist() == [28]


def test_fixation_tsv_folder_one_trial_per_file(shared_data):
    ds = load_scanpaths(shared_data / FORREST)
    assert ds.sizes["trial"] == 110  # 55 segments x 2 subjects
    assert sorted(set(ds["subject"].values)) == ["sub-01", "sub-19"]
    assert len(set(ds["image"].values)) == 55
    seg10 = ds.scanpath.select(image="segment_10")
    assert dict(zip(seg10["subject"].values, seg10["length"].values)) == {
        "sub-01": 36,
        "sub-19": 28,
    }
    # natural order: segment_2 comes before segment_10
    images = list(dict.fromkeys(ds["image"].values))
    assert images.index("segment_2") < images.index("segment_10")


def test_fixation_tsv_options(tmp_path):
    path = tmp_path / "run1.tsv"
    path.write_text("start_x\tstart_y\tduration\n100\t50\t250\n1900\t60\t100\n")
    ds = load_scanpaths(path, duration_unit="ms", screen_size_px=(1920, 1080))
    np.testing.assert_array_equal(ds["duration_ms"].values[0], [250, 100])
    assert ds["image"].item() == "run1" and ds["subject"].item() == ""
    with pytest.warns(DataWarning, match="1 fixation"):
        clipped = load_scanpaths(path, duration_unit="ms")
    assert clipped["x"].values[0, 1] == 1280
    with pytest.raises(DataError, match="duration_unit='ms'"):
        load_scanpaths(path)  # 250 "seconds" is not a fixation


def test_csv_with_column_mapping(tmp_path):
    path = tmp_path / "fix.csv"
    path.write_text(
        "tid,who,pic,ord,gx,gy,dur_s,w,h\n"
        "a,s1,img1,2,30,40,0.2,100,80\n"
        "a,s1,img1,1,10,20,0.1,100,80\n"
        "b,s2,img2,1,5,6,0.3,50,60\n"
    )
    ds = load_scanpaths(
        path,
        format="csv",
        columns={
            "trial": "tid",
            "subject": "who",
            "image": "pic",
            "fixation": "ord",
            "x": "gx",
            "y": "gy",
            "duration": "dur_s",
            "image_width": "w",
            "image_height": "h",
        },
        duration_unit="s",
    )
    assert ds["length"].values.tolist() == [2, 1]
    np.testing.assert_array_equal(ds.scanpath.trial(0), [[10, 20], [30, 40]])  # sorted by ord
    np.testing.assert_allclose(ds["duration_ms"].values[0], [100, 200])
    assert ds["image_width"].values.tolist() == [100, 50]
    assert ds["trial_id"].values.tolist() == ["a", "b"]
    assert ds["subject"].values.tolist() == ["s1", "s2"]


def test_csv_defaults_and_errors(tmp_path):
    path = tmp_path / "fix.tsv"
    path.write_text("x\ty\tduration_ms\tsubject\n1\t2\t100\tA\n3\t4\t50\tA\n5\t6\t70\tB\n")
    ds = load_scanpaths(path, format="csv", image_size_px=(10, 10))
    assert ds["length"].values.tolist() == [2, 1]  # grouped by subject
    with pytest.raises(ValueError, match="image_size_px"):
        load_scanpaths(path, format="csv")
    with pytest.raises(ValueError, match="unknown key"):
        load_scanpaths(path, format="csv", image_size_px=(10, 10), columns={"xx": "x"})
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nfoo,3\n")
    with pytest.raises(DataError) as info:
        load_scanpaths(bad, image_size_px=(10, 10))
    assert info.value.record == 2 and info.value.field == "x"


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
@pytest.mark.parametrize("name", ["coco", "amazon", "forrest"])
def test_scanpaths_round_trip(name, suffix, request, shared_data, tmp_path):
    ds = (
        load_scanpaths(shared_data / FORREST)
        if name == "forrest"
        else request.getfixturevalue(name)
    )
    out = save(ds, tmp_path / f"{name}{suffix}")
    back = load(out)
    assert back.identical(ds)
    assert load_scanpaths(out).identical(ds)
