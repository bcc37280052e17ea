"""Retinotopic CNN: circular padding, training (folder, checkpoint, resume), robustness
curves, likelihood maps that find a synthetic object, IoU, and the gaze-model wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
import xarray as xr
from PIL import Image

from cogattn.gaze.models.retinotopy import (
    FitConfig,
    LikelihoodConfig,
    RetinotopicCNN,
    RetinotopicFixations,
    localization_iou,
    make_padding_circular,
)
from cogattn.stimuli.logpolar import LogPolarConfig

SIZE = 32
LP = LogPolarConfig(n_radii=16, n_angles=16)
FIT = FitConfig(epochs=3, batch_size=32, lr=0.01, momentum=0.9, recalibrate_batchnorm=True)


def _disc_images(rng, n, *, size=SIZE, r_range=(2.0, 5.3)):
    """Half the images hold a red disc (class "disc") on low-contrast noise, half are "empty"."""
    imgs, labels, boxes = [], [], []
    yy, xx = np.mgrid[:size, :size] + 0.5
    for i in range(n):
        img = rng.uniform(0.3, 0.7, (size, size, 3))
        box = (np.nan,) * 4
        if i % 2 == 0:
            r = rng.uniform(*r_range)
            cx, cy = rng.uniform(r, size - r, 2)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = (0.9, 0.1, 0.1)
            box = (cx - r, cy - r, 2 * r, 2 * r)
        imgs.append((img * 255).astype(np.uint8))
        labels.append("disc" if i % 2 == 0 else "empty")
        boxes.append(box)
    return np.stack(imgs), np.array(labels), np.array(boxes)


def _write_folder(root, images, labels):
    for i, (img, lab) in enumerate(zip(images, labels)):
        (root / lab).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root / lab / f"{i:03d}.png")
    return root


def _net():
    torch.manual_seed(0)
    return timm.create_model("test_resnet")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = np.random.default_rng(0)
    images, labels, _ = _disc_images(rng, 128)
    root = _write_folder(tmp_path_factory.mktemp("discs"), images, labels)
    model = RetinotopicCNN(_net(), logpolar=LP, input_size_px=SIZE)
    return model.fit(root, config=FIT, progress=False)


def test_trained_classifier_generalises(trained):
    assert list(trained.classes_) == ["disc", "empty"]  # ImageFolder order
    assert len(trained.history_) == 3
    images, labels, _ = _disc_images(np.random.default_rng(1), 48)
    assert trained.score(images, labels) >= 0.8  # chance is 0.5


def test_likelihood_map_peaks_inside_the_object_box(trained):
    images, _, boxes = _disc_images(np.random.default_rng(2), 16, r_range=(2.0, 4.0))
    cfg = LikelihoodConfig(resolution=11, size_ratio=0.2)
    best, control = [], []
    for i in range(0, 16, 2):
        lmap = trained.likelihood_map(images[i], "disc", config=cfg)
        assert lmap.dims == ("y", "x") and lmap.shape == (11, 11)
        # the probability saturates over a plateau around the object: its peak is the
        # centroid of the cells above 0.5
        w = np.clip(lmap.values - 0.5, 0, None)
        assert w.sum() > 0, "the object was not detected from any fixation"
        yy, xx = np.meshgrid(lmap["y"].values, lmap["x"].values, indexing="ij")
        px, py = (w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()
        bx, by, bw, bh = boxes[i]
        assert bx <= px <= bx + bw and by <= py <= by + bh, (
            f"image {i}: peak ({px:.1f}, {py:.1f}) not in box {boxes[i]}"
        )
        best.append(float(localization_iou(lmap, boxes[i]).max()))
        control.append(float(localization_iou(lmap, boxes[(i + 2) % 16]).max()))
    # the box of the image itself is found far better than the box of another image
    assert np.mean(best) > np.mean(control) + 0.3


def test_localization_iou_hand_worked():
    lmap = xr.DataArray(
        np.array([[0.1, 0.2, 0.9], [0.3, 0.8, 0.7], [0.0, 0.1, 0.6]]),
        dims=("y", "x"),
        coords={"y": [5.0, 15.0, 25.0], "x": [5.0, 15.0, 25.0]},
    )
    box = (10.0, 0.0, 20.0, 20.0)  # covers cells (0,1) (0,2) (1,1) (1,2)
    iou = localization_iou(lmap, box, thresholds=[0.0, 0.5, 0.75, 0.85, 0.95])
    # >0.0: 8 cells (all but the 0.0) vs 4 in GT -> 4/8; >0.5: {0.9,0.8,0.7,0.6} -> 3/5;
    # >0.75: {0.9, 0.8} -> 2/4; >0.85: {0.9} -> 1/4; >0.95: empty -> 0/4
    np.testing.assert_allclose(iou.values, [0.5, 0.6, 0.5, 0.25, 0.0])
    assert localization_iou(lmap, box).sizes["threshold"] == 36


def test_circular_padding_makes_half_turns_exact(rng):
    lp = LogPolarConfig(n_radii=16, n_angles=64)  # 180° = 32 columns = the network stride
    imgs = rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    half_turn = np.rot90(imgs, k=2, axes=(1, 2))
    circ = RetinotopicCNN(_net(), n_classes=3, logpolar=lp, input_size_px=SIZE).initialize()
    np.testing.assert_allclose(circ.predict_proba(half_turn), circ.predict_proba(imgs), atol=1e-5)
    flat = RetinotopicCNN(
        _net(), n_classes=3, logpolar=lp, input_size_px=SIZE, circular_padding=False
    )
    flat.initialize()
    assert np.abs(flat.predict_proba(half_turn) - flat.predict_proba(imgs)).max() > 1e-4
    # parameter names are untouched, so checkpoints load with or without the padding
    assert circ.model_.state_dict().keys() == flat.model_.state_dict().keys()


def test_make_padding_circular_wraps_only_the_width():
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    torch.nn.init.ones_(conv.weight)
    make_padding_circular(conv)
    x = torch.zeros(1, 1, 4, 5)
    x[0, 0, 1, 0] = 1.0  # left column: its neighbour across the border is the last column
    out = conv(x)[0, 0]
    assert out[1, -1] == 1 and out[0, -1] == 1 and out[2, -1] == 1
    x = torch.zeros(1, 1, 4, 5)
    x[0, 0, 0, 2] = 1.0  # top row: no wrap to the bottom row
    assert conv(x)[0, 0, -1].abs().sum() == 0


def test_robustness_curves(trained):
    images, labels, _ = _disc_images(np.random.default_rng(3), 24)
    rot = trained.evaluate_rotation(images, labels, angles_deg=[0.0, 90.0, 180.0])
    assert rot.dims == ("angle_deg",) and rot.sizes["angle_deg"] == 3
    masked = trained._masked(trained.load_images(images))
    assert rot.sel(angle_deg=0.0) == pytest.approx(trained.score(masked, labels))
    zoom = trained.evaluate_zoom(images, labels, ratios=[0.5, 1.0, 2.0])
    assert zoom.sel(zoom_ratio=1.0) == pytest.approx(trained.score(images, labels))
    assert ((zoom >= 0) & (zoom <= 1)).all()


def test_cartesian_control_same_api():
    rng = np.random.default_rng(4)
    images, labels, _ = _disc_images(rng, 32)
    cart = RetinotopicCNN(_net(), mode="cartesian", logpolar=LP, input_size_px=SIZE)
    cart.fit((images, labels), config=FitConfig(epochs=1, batch_size=16, lr=0.01), progress=False)
    lmap = cart.likelihood_map(images[0], "disc", config=LikelihoodConfig(resolution=5))
    assert lmap.shape == (5, 5) and ((lmap >= 0) & (lmap <= 1)).all()
    # the Cartesian view at scale 1 is the image masked to its inscribed disc
    x = cart._normalize(cart.load_images(images[:1]))
    v = cart.view(x)
    inside = LP.n_radii  # view pixel centres sample the image bilinearly, as a plain resize
    ref = torch.nn.functional.interpolate(x, size=(inside, inside), mode="bilinear")
    disc = torch.from_numpy(np.hypot(*np.meshgrid(np.arange(16) - 7.5, np.arange(16) - 7.5)) <= 8)
    torch.testing.assert_close(v[0][:, disc], ref[0][:, disc])
    assert torch.all(v[0][:, ~disc] == 0)  # outside the inscribed disc: the mean colour


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path):
    images, labels, _ = _disc_images(np.random.default_rng(5), 24)
    cfg2 = FitConfig(epochs=2, batch_size=8, lr=0.01, momentum=0.9)
    straight = RetinotopicCNN(_net(), logpolar=LP, input_size_px=SIZE)
    straight.fit((images, labels), config=cfg2, progress=False)
    ckpt = tmp_path / "ckpt.pt"
    first = RetinotopicCNN(_net(), logpolar=LP, input_size_px=SIZE)
    first.fit(
        (images, labels),
        config=FitConfig(**{**cfg2.__dict__, "epochs": 1}),
        checkpoint=ckpt,
        progress=False,
    )
    assert ckpt.is_file()
    resumed = RetinotopicCNN(_net(), logpolar=LP, input_size_px=SIZE)
    resumed.fit((images, labels), config=cfg2, checkpoint=ckpt, progress=False)
    assert [h["epoch"] for h in resumed.history_] == [1, 2]
    for (k, a), b in zip(
        straight.model_.state_dict().items(), resumed.model_.state_dict().values()
    ):
        torch.testing.assert_close(a, b, msg=f"parameter {k} differs after resume")
    with pytest.raises(ValueError, match="classes"):
        RetinotopicCNN(_net(), logpolar=LP, input_size_px=SIZE).fit(
            (images, np.where(labels == "disc", "a", "b")),
            config=cfg2,
            checkpoint=ckpt,
            progress=False,
        )


def test_backbone_registry_name_and_gaze_wrapper(trained):
    cnn = RetinotopicCNN(
        "timm:test_resnet", n_classes=2, logpolar=LP, input_size_px=SIZE
    ).initialize()
    assert cnn.predict_proba(np.zeros((40, 30, 3), np.uint8)).shape == (1, 2)
    images, _, boxes = _disc_images(np.random.default_rng(6), 2, r_range=(3.0, 4.0))
    gaze = RetinotopicFixations(
        trained,
        likelihood=LikelihoodConfig(resolution=7, size_ratio=0.2),
        task="disc",
        temperature=0.1,
    )
    log_d = gaze.conditional_log_density(images[0])
    yy, xx = np.unravel_index(np.argmax(log_d), log_d.shape)
    bx, by, bw, bh = boxes[0]
    assert np.hypot(xx + 0.5 - (bx + bw / 2), yy + 0.5 - (by + bh / 2)) < SIZE / 4
    ds = gaze.predict(images, task="disc", n_fixations=4)
    assert ds.sizes["trial"] == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        RetinotopicCNN(_net(), mode="polar", n_classes=2).initialize()
    with pytest.raises(RuntimeError, match="fit"):
        RetinotopicCNN(_net(), n_classes=2).predict(np.zeros((8, 8, 3), np.uint8))
    cnn = RetinotopicCNN(_net(), n_classes=2, logpolar=LP, input_size_px=SIZE).initialize()
    with pytest.raises(ValueError, match="unknown labels"):
        cnn.likelihood_map(np.zeros((8, 8, 3), np.uint8), "cat")
    with pytest.raises(ValueError, match="size_ratio"):
        LikelihoodConfig(size_ratio=1.5)


def test_figure_and_examples_run_small(tmp_path, monkeypatch):
    import runpy
    from pathlib import Path

    from cogattn.data import load
    from cogattn.figures import make_figure, replot_figure

    result = make_figure("retinotopy", tmp_path, small=True)
    ds = load(result.data_path)
    assert ds["logpolar_view"].shape == (3, 224, 224, 3)
    assert set(ds["mode"].values) == {"logpolar", "cartesian"}
    assert ds.sizes["threshold"] == 36
    assert replot_figure("retinotopy", result.data_path, tmp_path / "again").figure_path.is_file()
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    root = Path(__file__).resolve().parents[2] / "examples" / "gaze"
    ns = runpy.run_path(str(root / "plot_retinotopy_views.py"))
    assert float(ns["err"]) < 1e-5  # rotation by 90° = quarter column shift
    ns = runpy.run_path(str(root / "plot_retinotopy_robustness.py"))
    assert ns["lmap"].shape == (11, 11)
