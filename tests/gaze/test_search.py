"""Search-asymmetry pipeline: published outputs reproduce the spec's indices; the full
pipeline runs end to end at a small size."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.data import DataError
from cogattn.data.loaders.vsa import load_search_outputs
from cogattn.gaze.models.eccnet import EccNet
from cogattn.gaze.models.search_baselines import ChanceSearch
from cogattn.gaze.search import (
    run_asymmetry_experiments,
    run_task,
    stack_summaries,
    summarise_search,
)


@pytest.fixture(scope="module")
def vsa(shared_data):
    return shared_data / "vsa_asymmetry_model_outputs"


@pytest.mark.regression
@pytest.mark.parametrize(
    ("model", "expected_mean"),
    [
        ("eccNET/out/eccNET", 0.513),
        ("eccNET/out/IVSN", 0.316),
        ("eccNET/out/eccNET_noecc", 0.052),
        ("eccNET/out/eccNET_Rot90", -0.405),
        ("pixelMatch", -0.178),
        ("chance", -0.003),
    ],
)
def test_asymmetry_index_from_published_outputs_matches_spec(vsa, model, expected_mean):
    summary = summarise_search(load_search_outputs(vsa / model))
    assert summary.attrs["mean_asymmetry_index"] == pytest.approx(expected_mean, abs=5e-4)
    assert summary.attrs["human_mean_asymmetry_index"] == pytest.approx(0.564, abs=5e-4)
    if model == "eccNET/out/eccNET":  # spec §1c per experiment and per-task slopes
        np.testing.assert_allclose(
            summary["asymmetry_index"].values, [1.0, 1.0, 0.495, 0.789, -1.0, 0.791], atol=5e-4
        )
        slopes = summary["slope_ms_per_item"].to_series()
        assert slopes["homo_t20"] == pytest.approx(100.4, abs=0.05)
        assert slopes["Ls"] == pytest.approx(99.3, abs=0.05)
        assert slopes["line_in_curves"] == pytest.approx(4.4, abs=0.05)
    if model == "chance":
        assert abs(summary.attrs["mean_asymmetry_index"]) < 0.01


def test_loader_conventions(vsa):
    ds = load_search_outputs(vsa / "chance" / "out_data" / "curvature_line_in_curves.csv")
    assert ds.sizes["trial"] == 90
    assert ds["set_size"].values.tolist() == [8] * 30 + [16] * 30 + [32] * 30
    notfound = ~ds["found"].values
    assert notfound.any()  # chance misses some targets: they count as the set size
    np.testing.assert_array_equal(
        ds["n_fixations"].values[notfound], ds["set_size"].values[notfound]
    )
    assert set(ds["experiment"].values.tolist()) == {"curvature"}
    # fixations: (row, col) upstream -> x = col + 0.5, y = row + 0.5; the first fixation is the
    # display centre (615 px intersection, 339 px orientation displays)
    fx = load_search_outputs(vsa / "eccNET/out/eccNET/fix/intersection_Ls.npy")
    assert (fx["x"][:, 0] == 307.5).all() and (fx["y"][:, 0] == 307.5).all()
    assert (fx["length"].values == fx["n_fixations"].values + 1).all()
    fx = load_search_outputs(vsa / "eccNET/out/IVSN/fix/categorization_homo_t0.npy")
    assert (fx["x"][:, 0] == 169.5).all() and fx.attrs["image_size_px"] == [339, 339]
    assert float(np.nanmax(fx["x"])) < 339 and float(np.nanmax(fx["y"])) < 339
    # a (0, 0) inside a scanpath is a real fixation (all-zero priority map -> corner)
    fx = load_search_outputs(vsa / "eccNET/out/eccNET_noecc/fix/lightning_dir_left_right.npy")
    n = int(fx["length"][5])
    assert n == int(fx["n_fixations"][5]) + 1 and n > 4
    assert (fx["x"][5, 3].item(), fx["y"][5, 3].item()) == (0.5, 0.5)


def test_loader_rejects_malformed_files(tmp_path, vsa):
    with pytest.raises(DataError, match="stimulus set"):
        bad = tmp_path / "orientation_homo_t0.csv"
        bad.write_text("1,0\n")
        load_search_outputs(bad)
    short = tmp_path / "curvature_curve_in_lines.csv"
    short.write_text("0,1,0\n" * 5)
    with pytest.raises(DataError, match="expected 90 rows"):
        load_search_outputs(short)
    two = tmp_path / "lightning_dir_top_down.csv"
    two.write_text("0,1,1\n" + "0,1,0\n" * 89)
    with pytest.raises(DataError, match="record 0"):
        load_search_outputs(two)
    with pytest.raises(FileNotFoundError):
        load_search_outputs(tmp_path / "missing.csv")


def test_run_task_follows_the_original_protocol():
    ds = run_task(
        ChanceSearch(), "homo_t0", set_sizes=(4, 12), n_per_set_size=3, px_per_deg=8, progress=False
    )
    assert ds.sizes["trial"] == 6 and ds["set_size"].values.tolist() == [4] * 3 + [12] * 3
    assert (ds["length"].values <= 17).all()  # cap: 16 grid cells + 1
    assert ds["found"].values.all()  # object IOR over cells: the target is always reached
    assert set(ds["stimulus_set"].values.tolist()) == {"categorization"}


def test_full_asymmetry_pipeline_runs_small():
    model = EccNet("tiny-vgg")
    trials = run_asymmetry_experiments(model, n_per_set_size=1, px_per_deg=6, progress=False)
    # one display per set size: curvature 2x3 + lighting 2x3 + intersection 4x3 + orientation 4x4
    assert trials.sizes["trial"] == 40
    assert set(trials["task"].values.tolist()) == {
        "curve_in_lines", "line_in_curves", "top_down", "left_right", "non_cross", "cross",
        "Ts", "Ls", "homo_t20", "homo_t0", "hetero_t0", "hetero_t20",
    }  # fmt: skip
    summary = summarise_search(trials)
    assert summary.sizes["experiment"] == 6
    assert np.all(np.abs(summary["asymmetry_index"].values) <= 1)
    both = stack_summaries({"eccnet": summary, "chance": summarise_search(trials)})
    assert both["asymmetry_index"].dims == ("model", "experiment")
    assert both["human_asymmetry_index"].dims == ("experiment",)
