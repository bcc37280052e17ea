"""cogattn.gaze.compare / human_consistency / summarize, the CLI, the figure and the example."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cogattn.data import DataWarning, load, load_scanpaths, save, scanpaths
from cogattn.gaze import compare, human_consistency
from cogattn.gaze.compare import CompareConfig, search_performance, summarize
from cogattn.gaze.metrics import (
    cluster_fixations,
    dtw,
    frechet,
    multimatch,
    scanmatch,
    sequence_score,
    sequence_score_with_duration,
    string_edit_distance,
)

COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def toy():
    """Two images x 4 subjects, 3-6 fixations with durations, 200x100 px."""
    g = np.random.default_rng(7)
    xs, ys, ds_, subj, img = [], [], [], [], []
    for image in ("a.jpg", "b.jpg"):
        for s in range(4):
            n = int(g.integers(3, 7))
            xs.append(g.uniform(0, 200, n))
            ys.append(g.uniform(0, 100, n))
            ds_.append(g.uniform(60, 400, n))
            subj.append(f"s{s}")
            img.append(image)
    return scanpaths(
        xs,
        ys,
        duration_ms=ds_,
        image_size_px=(200, 100),
        subject=subj,
        image=img,
        task="cup",
        target_bbox=[150, 10, 30, 30],
        source="toy",
    )


def _group(ds, image):
    idx = np.flatnonzero(ds["image"].values == image)
    return idx, [ds.scanpath.trial(int(i), with_duration=True) for i in idx]


def test_compare_equals_pair_functions(toy):
    model = toy.isel(trial=[0, 5])  # copies of a human trial of each image
    model = model.assign_coords(subject=("trial", np.array(["m", "m"], dtype=object)))
    metrics = [
        "sequence_score",
        "sequence_score_duration",
        "multimatch",
        "scanmatch",
        "scanmatch_duration",
        "sed",
        "dtw",
        "frechet",
    ]
    out = compare(model, toy, metrics)
    assert out["score"].dims == ("trial", "metric")
    assert out.attrs["protocol"] == "model-vs-humans"
    for t, image in enumerate(("a.jpg", "b.jpg")):
        _, humans = _group(toy, image)
        m = model.scanpath.trial(t, with_duration=True)
        cl = cluster_fixations(humans)
        want = {
            "sequence_score": np.mean([sequence_score(m, h, clusters=cl) for h in humans]),
            "sequence_score_duration": np.mean(
                [sequence_score_with_duration(m, h, clusters=cl) for h in humans]
            ),
            "multimatch_position": np.mean(
                [multimatch(m, h, screen_size_px=(200, 100))["position"] for h in humans]
            ),
            "scanmatch": np.mean([scanmatch(m, h, screen_size_px=(200, 100)) for h in humans]),
            "scanmatch_duration": np.mean(
                [scanmatch(m, h, screen_size_px=(200, 100), tempbin_ms=50) for h in humans]
            ),
            "sed": np.mean([string_edit_distance(m, h, screen_size_px=(200, 100)) for h in humans]),
            "dtw": np.mean([dtw(m, h) for h in humans]),
            "frechet": np.mean([frechet(m, h) for h in humans]),
        }
        for name, value in want.items():
            assert out["score"].sel(metric=name).values[t] == pytest.approx(value), name
        assert (out["n_pairs"].sel(metric="sequence_score").values == 4).all()
    assert bool(out["higher_is_better"].sel(metric="dtw")) is False
    assert out["image"].values.tolist() == ["a.jpg", "b.jpg"]


def test_semantic_sequence_score_dataset(toy):
    from cogattn.gaze.metrics import semantic_sequence_score

    seg = np.zeros((50, 100), dtype=np.int64)  # maps at half the image resolution
    seg[:, 50:] = 3
    seg[25:, :] += 10
    maps = {"a.jpg": seg, "b.jpg": seg[::-1]}
    res = human_consistency(toy, "semantic_sequence_score", segmentation_maps=maps)
    idx, humans = _group(toy, "a.jpg")
    half = [h[:, :2] / 2 for h in humans]
    want = np.mean([semantic_sequence_score(half[0], h, segmentation_map=seg) for h in half[1:]])
    assert res["score"].values[idx[0], 0] == pytest.approx(want)
    out = compare(toy.isel(trial=[0]), toy, "semantic_sequence_score", segmentation_maps={})
    assert np.isnan(out["score"].values).all()  # no map for the image: undefined


def test_empty_scanpaths():
    """An empty human scanpath leaves sequence-score pairs undefined (IRL skips empty human
    strings); an empty model scanpath scores 0 (it matches nothing)."""
    human = scanpaths(
        [[10, 50, 90], [], [12, 52]],
        [[10, 10, 10], [], [11, 11]],
        image_size_px=(100, 100),
        image="a",
        task="t",
    )
    model = scanpaths([[]], [[]], image_size_px=(100, 100), image="a", task="t")
    out = compare(model, human, ["sequence_score", "sed"])
    assert out["score"].sel(metric="sequence_score").item() == 0.0
    assert out["n_pairs"].sel(metric="sequence_score").item() == 2
    assert out["n_pairs"].sel(metric="sed").item() == 3  # defined for empty strings too
    hc = human_consistency(human, "sequence_score")
    assert hc["n_pairs"].values.ravel().tolist() == [1, 0, 1]


def test_compare_rescales_model_to_human_frame(toy):
    model = toy.isel(trial=[1]).scanpath.rescale(100, 50)
    ref = compare(toy.isel(trial=[1]), toy, ["sequence_score", "multimatch_vector"])
    got = compare(model, toy, ["sequence_score", "multimatch_vector"])
    np.testing.assert_allclose(got["score"].values, ref["score"].values, atol=1e-9)


def test_compare_unmatched_and_bad_input(toy):
    other = toy.isel(trial=[0]).assign_coords(image=("trial", np.array(["z.jpg"], dtype=object)))
    with pytest.warns(UserWarning, match="no human scanpath"):
        out = compare(other, toy, "sequence_score")
    assert np.isnan(out["score"].values).all() and out.attrs["n_unmatched_trials"] == 1
    with pytest.raises(ValueError, match="unknown metric"):
        compare(toy, toy, ["sequence-score"])
    no_dur = scanpaths(
        [[1, 2, 3]], [[1, 2, 3]], image_size_px=(200, 100), image="a.jpg", task="cup"
    )
    with pytest.raises(ValueError, match="need fixation durations"):
        compare(no_dur, toy, "scanmatch_duration")
    with pytest.raises(ValueError, match="protocol"):
        human_consistency(toy, "sequence_score", protocol="all")
    with pytest.raises(ValueError, match="segmentation_maps"):
        human_consistency(toy, "semantic_sequence_score")


def test_human_consistency_protocols(toy):
    pw = human_consistency(toy, ["sequence_score", "multimatch_vector"], protocol="pairwise")
    loo = human_consistency(toy, ["sequence_score", "multimatch_vector"], protocol="leave-one-out")
    assert pw.attrs["protocol"] == "pairwise" and loo.attrs["protocol"] == "leave-one-out"
    idx, humans = _group(toy, "a.jpg")
    cl_all = cluster_fixations(humans)
    for k, i in enumerate(idx):
        others = [h for j, h in enumerate(humans) if j != k]
        want_pw = np.mean([sequence_score(humans[k], h, clusters=cl_all) for h in others])
        cl_wo = cluster_fixations(others)
        want_loo = np.mean([sequence_score(humans[k], h, clusters=cl_wo) for h in others])
        assert pw["score"].sel(metric="sequence_score").values[i] == pytest.approx(want_pw)
        assert loo["score"].sel(metric="sequence_score").values[i] == pytest.approx(want_loo)
    # metrics without clustering do not depend on the protocol
    np.testing.assert_allclose(
        pw["score"].sel(metric="multimatch_vector"), loo["score"].sel(metric="multimatch_vector")
    )
    assert (pw["n_pairs"].sel(metric="sequence_score").values == 3).all()


def test_summarize_pair_weighted_mean_and_ci(toy):
    res = human_consistency(toy.isel(trial=[0, 1, 2, 4, 5]), ["dtw"])
    # trials of image a have 2 partners, those of image b 1: the pair mean weights them
    s = summarize(res, n_boot=200, seed=1)
    vals = res["score"].values[:, 0]
    n = res["n_pairs"].values[:, 0]
    assert s["mean"].item() == pytest.approx((vals * n).sum() / n.sum())
    assert s["ci_low"].item() <= s["mean"].item() <= s["ci_high"].item()
    assert s.attrs["bootstrap_unit"] == "image" and s.attrs["weighting"] == "pairs"
    t = summarize(res, n_boot=0, weighting="trials")
    assert t["mean"].item() == pytest.approx(vals.mean())
    # model-vs-humans output: each model trial counts once (IRL/Gazeformer convention)
    cmp = compare(toy.isel(trial=[0, 5]), toy.isel(trial=[0, 1, 2, 4, 5]), ["dtw"])
    assert summarize(cmp, n_boot=0).attrs["weighting"] == "trials"
    assert summarize(cmp, n_boot=0)["mean"].item() == pytest.approx(cmp["score"].values.mean())


def test_search_performance(toy):
    perf = search_performance(toy, reference=toy, max_steps=3)
    assert perf["probability_mismatch"].item() == 0.0
    assert perf["tfp_auc"].item() == pytest.approx(perf["target_found"].values.sum())


@pytest.fixture(scope="module")
def coco(shared_data):
    with pytest.warns(DataWarning, match="outside the image"):
        return load_scanpaths(shared_data / COCO, format="coco-search18")


def test_coco_val_human_consistency_readme_values(coco):
    """Through the loader (5 border fixations clipped by it), the pairwise protocol gives
    the README values within 1e-4 (they were computed on the unclipped raw file; the exact
    recipe is checked in test_metrics_sequence_score / test_metrics_multimatch)."""
    res = human_consistency(
        coco, ["sequence_score", "multimatch"], config=CompareConfig(image_size_px=(512, 320))
    )
    s = summarize(res, n_boot=0)
    assert s["n_pairs"].sel(metric="sequence_score").item() == 29304
    assert s["n_pairs"].sel(metric="multimatch_vector").item() == 2 * 9948
    assert s["mean"].sel(metric="sequence_score").item() == pytest.approx(0.4956, abs=1e-4)
    np.testing.assert_allclose(
        s["mean"].sel(
            metric=[
                f"multimatch_{d}" for d in ("vector", "direction", "length", "position", "duration")
            ]
        ),
        [0.9408, 0.7366, 0.9286, 0.9067, 0.6807],
        atol=1e-4,
    )
    assert res.attrs["protocol"] == "pairwise"


def test_cli_compare_and_consistency(coco, tmp_path):
    from cogattn.cli import main

    keys = sorted(set(zip(coco["image"].values, coco["task"].values)))[:3]
    keep = [(i, t) in set(keys) for i, t in zip(coco["image"].values, coco["task"].values)]
    human = coco.isel(trial=np.flatnonzero(keep))
    save(human, tmp_path / "human.nc")
    model = human.isel(trial=[0, 10, 20]).assign_coords(
        subject=("trial", np.array(["model"] * 3, dtype=object))
    )
    save(model, tmp_path / "model.nc")
    out = tmp_path / "cmp"
    rc = main(
        [
            "gaze",
            "compare",
            str(tmp_path / "model.nc"),
            str(tmp_path / "human.nc"),
            "--metric",
            "sequence_score",
            "--metric",
            "scanmatch",
            "--image-size",
            "512",
            "320",
            "--n-boot",
            "50",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    scores = load(out / "scores.nc")
    assert scores["score"].shape == (3, 2)
    assert (out / "summary.csv").read_text().startswith("metric,mean")
    rc = main(
        [
            "gaze",
            "consistency",
            str(tmp_path / "human.nc"),
            "--protocol",
            "leave-one-out",
            "--metric",
            "sequence_score",
            "--n-boot",
            "20",
            "--out",
            str(tmp_path / "hc"),
        ]
    )
    assert rc == 0
    assert load(tmp_path / "hc" / "scores.nc").attrs["protocol"] == "leave-one-out"
    assert main(["gaze", "compare", "x.nc", "y.nc", "--out", str(tmp_path / "z")]) == 2


def test_figure_small(shared_data, tmp_path):
    from cogattn.figures import make_figure, replot_figure

    # the loader's DataWarning (5 clipped fixations) is caught by the recipe and reported;
    # pytest turns any other warning from cogattn into an error
    result = make_figure("compare-scanpaths", tmp_path, small=True)
    assert "clipped" in result.report
    assert result.figure_path.is_file() and result.data_path.is_file()
    ds = xr.load_dataset(result.data_path)
    assert ds["source"].values.tolist() == ["human", "centre-bias", "random"]
    # humans agree with each other more than the baselines agree with them
    ss = ds["mean"].sel(metric="sequence_score")
    assert ss.sel(source="human") > ss.sel(source="random")
    assert "sequence_score" in result.report
    assert replot_figure(
        "compare-scanpaths", result.data_path, tmp_path / "re"
    ).figure_path.is_file()


def test_example_runs_small(shared_data, monkeypatch):
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    ns = runpy.run_path(str(ROOT / "examples" / "gaze" / "plot_compare_scanpaths.py"))
    assert set(ns["results"]) == {"human", "centre-bias", "random"}
