"""Fit-to-new-dataset: design helpers (hand-worked), the CLI on a synthetic BOLD run inside the
MNI152 mask with known weights (readable NIfTI outputs, recovery), per-stimulus responses with
a noise ceiling, the backbone path, and the example script."""

from __future__ import annotations

import runpy
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cogattn.brain.design import delay_features, events_to_design, read_events, standardize
from cogattn.brain.fit_dataset import FitConfig, r_threshold, simulate_dataset
from cogattn.brain.metrics import ncsnr_to_nc
from cogattn.cli import main
from cogattn.data import DataError, responses, save

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------- design (hand-worked)
def test_delay_features_respects_runs():
    X = np.arange(1.0, 7.0)[:, None]  # two runs of 3 volumes
    out = delay_features(X, (0, 1, 2), runs=[0, 0, 0, 1, 1, 1])
    expected = [[1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 0, 0], [5, 4, 0], [6, 5, 4]]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(delay_features(X, (-1,))[:, 0], [2, 3, 4, 5, 6, 0])
    with pytest.raises(ValueError, match="repeated"):
        delay_features(X, (1, 1))


def test_events_to_design_overlap_weights_and_warnings():
    ev = pd.DataFrame(
        {"onset": [0.5, 4.0, 7.0], "duration": [3.0, 0.0, 2.0], "stimulus": ["a", "b", "a"]}
    )
    feats = {"a": [1.0, 0.0], "b": [0.0, 10.0]}
    with pytest.warns(UserWarning, match="cut"):
        out = events_to_design(ev, feats, n_volumes=4, tr_s=2.0)
    # a: [0.5, 3.5) -> 1.5 s in volume 0 (0.75), 1.5 s in volume 1 (0.75); b: impulse in
    # volume 2; second a: [7, 8) (cut at 8 s) -> 0.5 of volume 3
    np.testing.assert_allclose(out, [[0.75, 0], [0.75, 0], [0, 10], [0.5, 0]])
    late = pd.DataFrame({"onset": [9.0], "duration": [1.0], "stimulus": ["a"]})
    with pytest.warns(UserWarning, match="left out"):
        assert not events_to_design(late, feats, n_volumes=4, tr_s=2.0).any()
    with pytest.raises(DataError, match="no features"):
        events_to_design(ev.assign(stimulus="zzz"), feats, n_volumes=4, tr_s=2.0)


def test_read_events_validates(tmp_path):
    path = tmp_path / "ev.tsv"
    path.write_text("onset\tduration\tstim_file\n0\t1\tx.png\n")
    assert read_events(path)["stimulus"].tolist() == ["x.png"]
    bad = tmp_path / "bad.csv"
    bad.write_text("onset,duration,stimulus\n-1,1,x.png\n")
    with pytest.raises(DataError, match="onset"):
        read_events(bad)
    bad.write_text("onset,stimulus\n0,x.png\n")
    with pytest.raises(DataError, match="duration"):
        read_events(bad)


def test_standardize_uses_training_statistics(rng):
    train, test = rng.normal(3, 2, (50, 4)), rng.normal(3, 2, (10, 4))
    z_train, z_test = standardize(train, test)
    np.testing.assert_allclose(z_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z_test, (test - train.mean(0)) / train.std(0))


# ---------------------------------------------------------------------- CLI on a BOLD run
@pytest.fixture(scope="module")
def bold_fit(tmp_path_factory):
    root = tmp_path_factory.mktemp("bold")
    sim = simulate_dataset(
        root / "data", downsample=6, n_stimuli=16, n_repeats=4, signal_sd=3.0, seed=1
    )
    p = sim.paths
    code = main(
        [
            "brain",
            "fit",
            "--bold",
            str(p["bold"]),
            "--mask",
            str(p["mask"]),
            "--events",
            str(p["events"]),
            "--features",
            str(p["features"]),
            "--roi",
            f"visual={p['roi_visual']}",
            "--roi",
            f"frontal={p['roi_frontal']}",
            "--out",
            str(root / "fit"),
        ]
    )
    assert code == 0
    return sim, root / "fit"


def test_cli_writes_readable_outputs(bold_fit):
    sim, out = bold_fit
    mask = nib.load(sim.paths["mask"])
    ijk = np.argwhere(np.asarray(mask.dataobj) > 0)
    for name in ("score_r", "best_alpha"):
        img = nib.load(out / f"{name}.nii.gz")
        assert img.shape == mask.shape
        np.testing.assert_allclose(img.affine, mask.affine)
    r = np.asarray(nib.load(out / "score_r.nii.gz").dataobj)[tuple(ijk.T)]
    assert r[sim.signal].mean() > 0.6
    assert abs(r[~sim.signal].mean()) < 0.1
    table = pd.read_csv(out / "roi_summary.csv")
    assert table["roi"].tolist() == ["all", "visual", "frontal"]
    assert table.set_index("roi").loc["visual", "r_mean"] > 0.6
    scores = xr.open_dataset(out / "scores.nc", engine="h5netcdf")
    np.testing.assert_allclose(scores["r"].values, r, atol=1e-6)
    assert (out / "score_map.png").stat().st_size > 10_000
    assert not list(out.glob(".*tmp*")), "temporary files left behind"


def test_cli_recovers_known_weights_and_alphas(bold_fit):
    import joblib

    sim, out = bold_fit
    model = joblib.load(out / "model.joblib")
    sig = sim.signal
    corr = np.corrcoef(model.coef_[sig].ravel(), sim.weights[sig].ravel())[0, 1]
    assert corr > 0.8
    # noise voxels want the strongest regularisation, signal voxels much less
    assert np.median(model.best_alphas_[~sig]) == model.alphas_[-1]
    assert np.median(model.best_alphas_[sig]) <= 1e-3 * model.alphas_[-1]
    mask = nib.load(sim.paths["mask"])
    ijk = np.argwhere(np.asarray(mask.dataobj) > 0)
    alpha_map = np.asarray(nib.load(out / "best_alpha.nii.gz").dataobj)[tuple(ijk.T)]
    np.testing.assert_allclose(alpha_map, model.best_alphas_, rtol=1e-6)


# ---------------------------------------------------------------------- per-stimulus responses
def test_cli_responses_netcdf_with_noise_ceiling(tmp_path, rng):
    n_stim, n_rep, p, shape = 120, 3, 6, (5, 4, 3)
    ijk = np.argwhere(np.ones(shape, dtype=bool))
    n_vox = len(ijk)
    feats = rng.standard_normal((n_stim, p))
    gain = np.where(np.arange(n_vox) < n_vox // 2, 1.0, 0.0)
    signal = feats @ rng.standard_normal((p, n_vox)) / np.sqrt(p) * gain
    trials = signal[:, None, :] + rng.standard_normal((n_stim, n_rep, n_vox))
    names = [f"img{i:03d}.png" for i in range(n_stim)]
    ncsnr = np.where(gain > 0, 1.0, 0.05)
    ds = responses(
        trials,
        stimulus=names,
        ijk=ijk,
        affine=np.diag([3.0, 3.0, 3.0, 1.0]),
        volume_shape=shape,
        ncsnr=ncsnr,
        rois={"signal": gain > 0},
    )
    save(ds, tmp_path / "resp.nc")
    fa = xr.DataArray(feats, dims=("stimulus", "feature"), coords={"stimulus": names})
    save(fa.to_dataset(name="feats"), tmp_path / "feats.nc")
    args = ["brain", "fit", "--responses", str(tmp_path / "resp.nc")]
    args += ["--features", str(tmp_path / "feats.nc"), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    scores = xr.open_dataset(tmp_path / "out" / "scores.nc", engine="h5netcdf")
    # NC from the spec formula with the test images' 3 trials
    np.testing.assert_allclose(scores["nc"].values, ncsnr_to_nc(ncsnr, 3), rtol=1e-12)
    expected = np.minimum(scores["r"].values ** 2 / scores["nc"].values, 1.0)
    np.testing.assert_allclose(scores["score"].values, expected, rtol=1e-12)
    assert scores["r"].values[gain > 0].mean() > 0.5
    img = nib.load(tmp_path / "out" / "score_nc.nii.gz")
    assert img.shape == shape
    assert scores.attrs["cv"] == "loo"


def test_cli_rejects_ambiguous_inputs(tmp_path, capsys):
    code = main(["brain", "fit", "--out", str(tmp_path), "--features", "f.nc"])
    assert code == 2
    assert "exactly one of --bold" in capsys.readouterr().err
    with pytest.raises(ValueError, match="test_fraction"):
        FitConfig(test_fraction=1.0)


def test_r_threshold_matches_t_test():
    from scipy import stats

    n, r = 50, r_threshold(50)
    t = r * np.sqrt((n - 2) / (1 - r**2))
    assert stats.t.sf(t, n - 2) == pytest.approx(0.001)


# ---------------------------------------------------------------------- backbone features
def test_cli_backbone_features(tmp_path):
    kwargs = {"img_size": 32, "depth": 2}
    sim = simulate_dataset(
        tmp_path / "data",
        downsample=8,
        n_stimuli=12,
        n_repeats=4,
        signal_sd=3.0,
        backbone="timm:vit_tiny_patch16_224",
        layer="blocks.1",
        backbone_kwargs=kwargs,
    )
    p = sim.paths
    args = ["brain", "fit", "--bold", str(p["bold"]), "--mask", str(p["mask"])]
    args += ["--events", str(p["events"]), "--stimuli", str(p["stimuli"])]
    args += ["--backbone", "timm:vit_tiny_patch16_224", "--layer", "blocks.1"]
    args += [
        "--weights",
        str(p["backbone_weights"]),
        "--backbone-kwargs",
        '{"img_size": 32, "depth": 2}',
    ]
    args += ["--out", str(tmp_path / "fit")]
    assert main(args) == 0
    scores = xr.open_dataset(tmp_path / "fit" / "scores.nc", engine="h5netcdf")
    r = scores["r"].values
    assert r[sim.signal].mean() > 0.5 > abs(r[~sim.signal].mean())
    assert scores.attrs["n_train"] + scores.attrs["n_test"] < nib.load(p["bold"]).shape[3]


# ---------------------------------------------------------------------- example + figure
def test_example_runs_small(monkeypatch, tmp_path):
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    monkeypatch.chdir(tmp_path)
    ns = runpy.run_path(str(ROOT / "examples" / "brain" / "plot_glass_brain_scores.py"))
    assert "fig" in ns


def test_figure_recipe_small():
    from cogattn.figures import get_recipe

    recipe = get_recipe("glass-brain-scores")
    ds = recipe.compute(small=True)
    assert "signal voxels" in ds.attrs["report"]
    r, sig = ds["r"].values, ds["signal"].values.astype(bool)
    assert r[sig].mean() > r[~sig].mean() + 0.2
    fig = recipe.plot(ds)
    assert len(fig.axes) >= 2


def test_features_file_with_several_variables_needs_layer(tmp_path):
    from cogattn.brain.fit_dataset import load_features

    ds = xr.Dataset(
        {
            "a": (("stimulus", "feature"), np.zeros((3, 2))),
            "b": (("stimulus", "c", "y"), np.zeros((3, 2, 2))),
        },
        coords={"stimulus": ["x", "y", "z"]},
    )
    save(ds, tmp_path / "f.nc")
    with pytest.raises(DataError, match="pick one"):
        load_features(tmp_path / "f.nc")
    assert load_features(tmp_path / "f.nc", layer="b").shape == (3, 4)
