"""Transformer brain encoder: recovery on simulated data, routing maps, readouts, checkpoints.

Expected values come from the simulations' known ground truth (planted read locations, the
noise ceiling 1 / sqrt(1 + noise_sd²)) and from ridge regression (cogattn.brain.RidgeEncoder)
fitted on the same flattened tokens.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cogattn.brain import RidgeEncoder
from cogattn.brain.readouts import MaskedVoxelHead, sine_position_encoding
from cogattn.brain.simulate import SimulationConfig, simulate_encoding_data
from cogattn.brain.transformer_encoder import (
    EncoderConfig,
    TrainingConfig,
    TransformerBrainEncoder,
    tokens_from_features,
)

SIM = SimulationConfig(n_stimuli=600, grid_shape=(4, 4), n_channels=10)
N_TRAIN = 480
CFG = EncoderConfig.small(d_model=32, n_heads=4, dim_feedforward=64)
TRAIN = TrainingConfig(lr=3e-3, batch_size=32, max_epochs=20, patience=None)
ALPHAS = np.logspace(-2, 5, 15)
#: Stated tolerance for "matches ridge on purely linear data" (mean r over voxels).
LINEAR_TOLERANCE = 0.06


def _fit_both(mode):
    sim = simulate_encoding_data(mode, config=SIM, seed=0)
    train, test = sim.split(N_TRAIN)
    ridge = RidgeEncoder(alphas=ALPHAS).fit(train.tokens, train.responses)
    r_ridge = float(np.nanmean(ridge.score(test.tokens, test.responses)))
    enc = TransformerBrainEncoder(
        config=CFG, training=TRAIN, num_threads=1, verbose=False, seed=0
    ).fit(train.tokens, train.responses)
    r_enc = float(np.nanmean(enc.score(test.tokens, test.responses)))
    return sim, test, enc, r_ridge, r_enc


@pytest.fixture(scope="module")
def routing_fit():
    return _fit_both("routing")


@pytest.fixture(scope="module")
def linear_fit():
    return _fit_both("linear")


@pytest.mark.regression
def test_beats_ridge_on_content_dependent_routing(routing_fit):
    sim, _, _, r_ridge, r_enc = routing_fit
    ceiling = sim.noise_ceiling_r
    assert r_enc >= 0.85 * ceiling, (r_enc, ceiling)
    assert r_enc - r_ridge >= 0.3, (r_enc, r_ridge)


@pytest.mark.regression
def test_matches_ridge_on_linear_data(linear_fit):
    sim, _, _, r_ridge, r_enc = linear_fit
    assert r_ridge >= 0.85 * sim.noise_ceiling_r  # ridge is the right model here
    assert abs(r_enc - r_ridge) <= LINEAR_TOLERANCE, (r_enc, r_ridge)


def test_routing_maps_peak_at_planted_locations(routing_fit):
    _sim, test, enc, _, _ = routing_fit
    maps = enc.routing_maps(test.tokens)
    assert maps.dims == ("stimulus", "roi", "hemisphere", "y", "x")
    assert list(maps["roi"].values) == [*SIM.rois, "rest"]
    sums = maps.sum(["y", "x"]).values
    np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    for roi in SIM.rois:
        planted = test.read_location.sel(roi=roi).values
        for hemi in SIM.hemispheres:
            flat = maps.sel(roi=roi, hemisphere=hemi).values.reshape(len(planted), -1)
            hit = (flat.argmax(1) == planted).mean()
            assert hit >= 0.9, (roi, hemi, hit)
    per_head = enc.routing_maps(test.tokens.isel(stimulus=slice(0, 3)), average_heads=False)
    assert per_head.sizes["head"] == CFG.n_heads


def test_predict_and_score_are_labelled(routing_fit):
    _, test, enc, _, _ = routing_fit
    pred = enc.predict(test.tokens)
    assert pred.dims == ("stimulus", "voxel")
    assert pred.shape == (test.tokens.sizes["stimulus"], test.responses.sizes["voxel"])
    np.testing.assert_array_equal(pred["stimulus"].values, test.tokens["stimulus"].values)
    np.testing.assert_array_equal(pred["hemisphere"].values, test.responses["hemisphere"].values)
    r = enc.score(test.tokens, test.responses)
    assert r.dims == ("voxel",)
    # stimulus order of X is aligned to y by label
    shuffled = test.tokens.isel(stimulus=np.arange(test.tokens.sizes["stimulus"])[::-1])
    np.testing.assert_allclose(enc.score(shuffled, test.responses), r, atol=1e-6)
    assert enc.best_epoch_ >= 0 and len(enc.history_) == TRAIN.max_epochs
    restored = pickle.loads(pickle.dumps(enc))
    xr.testing.assert_allclose(restored.predict(test.tokens), pred)
    with pytest.raises(ValueError, match="tokens of shape"):
        enc.predict(np.zeros((2, 9, SIM.n_channels), np.float32))


def test_estimator_contract():
    enc = TransformerBrainEncoder(config=CFG, device="cpu")
    assert clone(enc).get_params()["config"] == CFG
    with pytest.raises(NotFittedError):
        enc.predict(np.zeros((2, 16, 10), np.float32))
    with pytest.raises(ValueError, match="readout"):
        EncoderConfig(readout="mlp")
    with pytest.raises(ValueError, match="multiple"):
        EncoderConfig(d_model=30, n_heads=4)


def _tiny():
    cfg = SimulationConfig(n_stimuli=60, grid_shape=(3, 3), n_channels=6, voxels_per_roi=3)
    return simulate_encoding_data("routing", config=cfg, seed=1)


@pytest.mark.parametrize("readout", ["spatial_feature", "linear"])
def test_comparison_readouts_fit_and_predict(readout):
    sim = _tiny()
    cfg = EncoderConfig.small(readout=readout, d_model=16, n_heads=2, linear_channels=8)
    enc = TransformerBrainEncoder(
        config=cfg, training=TrainingConfig(max_epochs=2), num_threads=1, verbose=False
    ).fit(sim.tokens, sim.responses)
    assert enc.predict(sim.tokens).shape == (60, sim.responses.sizes["voxel"])
    if readout == "linear":
        with pytest.raises(TypeError, match="routing"):
            enc.routing_maps(sim.tokens)
    else:
        maps = enc.routing_maps(sim.tokens.isel(stimulus=slice(0, 2)))
        # the factorised readout's maps do not depend on the image
        np.testing.assert_allclose(maps.isel(stimulus=0), maps.isel(stimulus=1))


def test_checkpoint_resume_reproduces_an_uninterrupted_run(tmp_path):
    sim = _tiny()
    cfg = EncoderConfig.small(d_model=16, n_heads=2, dim_feedforward=32)

    def make(epochs, ckpt=None):
        return TransformerBrainEncoder(
            config=cfg,
            training=TrainingConfig(max_epochs=epochs, patience=None, batch_size=8),
            checkpoint_dir=ckpt,
            num_threads=1,
            verbose=False,
        )

    straight = make(3).fit(sim.tokens, sim.responses)
    make(2, tmp_path).fit(sim.tokens, sim.responses)
    assert (tmp_path / "checkpoint.pt").is_file()
    resumed = make(3, tmp_path).fit(sim.tokens, sim.responses)
    assert [h["epoch"] for h in resumed.history_] == [0, 1, 2]
    for k, v in straight.net_.state_dict().items():
        torch.testing.assert_close(resumed.net_.state_dict()[k], v)
    other = TransformerBrainEncoder(
        config=EncoderConfig.small(d_model=32, n_heads=2),
        training=TrainingConfig(max_epochs=3),
        checkpoint_dir=tmp_path,
        verbose=False,
    )
    with pytest.raises(ValueError, match="another configuration"):
        other.fit(sim.tokens, sim.responses)


def test_masked_voxel_head_overlap_hand_worked():
    # 2 queries, 3 voxels: v0 in q0, v1 in q1, v2 in both
    mask = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=torch.bool)
    q = torch.tensor([[[1.0, 0.0], [0.0, 2.0]]])  # (batch 1, 2 queries, d 2)
    for overlap, expected in [("sum", [1 + 0.5, 2 * 2 + 0.5, 1 + 2 * 2 + 2 * 0.5])]:
        head = MaskedVoxelHead(2, mask, overlap=overlap)
        with torch.no_grad():
            head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 2.0]]))
            head.bias.fill_(0.5)
        np.testing.assert_allclose(head(q)[0].detach().numpy(), expected)
    head = MaskedVoxelHead(2, mask, overlap="mean")
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 2.0]]))
        head.bias.fill_(0.5)
    np.testing.assert_allclose(head(q)[0].detach().numpy(), [1.5, 4.5, (1 + 4) / 2 + 0.5])
    with pytest.raises(ValueError, match="no query"):
        MaskedVoxelHead(2, torch.tensor([[1, 0]], dtype=torch.bool))


def test_sine_position_encoding_follows_detr():
    pe = sine_position_encoding((2, 3), 6, 8)
    assert pe.shape == (6, 8)
    # token (row 1, col 2) -> y = 2/2·2π, x = 3/3·2π; dims: [y sin, y cos, ...] then x
    y = 2 / (2 + 1e-6) * 2 * np.pi
    x = 3 / (3 + 1e-6) * 2 * np.pi
    dim_t = 1e4 ** (2 * (np.arange(4) // 2) / 4)
    expected_y = [
        np.sin(y / dim_t[0]),
        np.cos(y / dim_t[1]),
        np.sin(y / dim_t[2]),
        np.cos(y / dim_t[3]),
    ]
    expected_x = [
        np.sin(x / dim_t[0]),
        np.cos(x / dim_t[1]),
        np.sin(x / dim_t[2]),
        np.cos(x / dim_t[3]),
    ]
    np.testing.assert_allclose(pe[5].numpy(), expected_y + expected_x, atol=1e-5)
    assert len({tuple(np.round(r, 5)) for r in pe.numpy()}) == 6


def test_tokens_from_feature_forms(rng):
    maps = xr.DataArray(
        rng.normal(size=(2, 5, 3, 4)).astype(np.float32), dims=("stimulus", "channel", "y", "x")
    )
    tok, grid, _ = tokens_from_features(maps)
    assert grid == (3, 4) and tok.shape == (2, 12, 5)
    # row-major: token 1·4 + 2 is pixel (1, 2)
    np.testing.assert_allclose(tok[1, 6].numpy(), maps.values[1, :, 1, 2])
    kinds = np.array(["cls", "patch", "patch", "patch", "patch"], dtype=object)
    seq = xr.DataArray(
        rng.normal(size=(2, 5, 3)).astype(np.float32),
        dims=("stimulus", "token", "channel"),
        coords={
            "token_kind": ("token", kinds),
            "patch_row": ("token", [-1, 0, 0, 1, 1]),
            "patch_col": ("token", [-1, 0, 1, 0, 1]),
        },
    )
    tok, grid, _ = tokens_from_features(seq)
    assert grid == (2, 2) and tok.shape == (2, 4, 3)
    np.testing.assert_allclose(tok[:, 0].numpy(), seq.values[:, 1])
    tok, grid, _ = tokens_from_features(np.zeros((2, 7, 3)))
    assert grid is None


@pytest.mark.slow
def test_fits_from_images_through_a_backbone(rng):
    """End to end with a tiny random-weight ViT (tokens are recomputed from images)."""
    images = [rng.integers(0, 255, (48, 48, 3), dtype=np.uint8) for _ in range(20)]
    y = rng.normal(size=(20, 6))
    enc = TransformerBrainEncoder(
        "timm:vit_tiny_patch16_224",
        layer="blocks.1",
        backbone_kwargs={"img_size": 64, "depth": 2},
        config=EncoderConfig.small(d_model=16, n_heads=2),
        training=TrainingConfig(max_epochs=1, val_fraction=0.2),
        num_threads=1,
        verbose=False,
    ).fit(images, y, roi_mask={"A": [1, 1, 1, 0, 0, 0]}, hemisphere="lh")
    assert enc.grid_shape_ == (4, 4) and enc.n_tokens_ == 16
    assert enc.queries_ == [("A", "lh"), ("rest", "lh")]
    maps = enc.routing_maps(images[:2])
    assert maps.sizes["y"] == 4 and maps.sizes["x"] == 4


def test_encoder_comparison_figure_small(tmp_path):
    from cogattn.figures import make_figure, replot_figure

    result = make_figure("encoder-comparison", tmp_path, small=True)
    assert result.figure_path.is_file() and "routing" in result.report
    ds = xr.open_dataset(result.data_path)
    assert ds["r_mean"].dims == ("mode", "model", "roi")
    assert set(ds["model"].values) == {"ridge", "spatial_feature", "transformer"}
    assert "rest" in ds["roi"].values
    ds.close()
    assert replot_figure(
        "encoder-comparison", result.data_path, tmp_path / "re"
    ).figure_path.is_file()


def test_encoder_comparison_example_runs_small(monkeypatch):
    import runpy
    from pathlib import Path

    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    path = Path(__file__).resolve().parents[2] / "examples" / "brain" / "plot_encoder_comparison.py"
    runpy.run_path(str(path), run_name="__main__")
