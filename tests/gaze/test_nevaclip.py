"""NevaClip: coordinate conversion, gradient towards a planted target, scanpaths, ablations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cogattn.data import validate_scanpaths
from cogattn.gaze.models.nevaclip import NevaClip, NevaClipConfig
from cogattn.stimuli.foveation import FoveationConfig, Foveator, pixels_to_rc


class TextureEmbedder:
    """A hand-built differentiable "encoder": its first embedding axis measures fine texture.

    ``e = (100 · mean high-pass energy, 1)``; the caption "texture" embeds to ``(1, 0)`` and
    the generic prompt to ``(0, 1)``. Foveating on a textured patch reveals its texture (the
    periphery is blurred), so the "texture" caption is most similar when the fovea is on the
    patch, and the generic prompt when the fovea is away from it.
    """

    input_size = (48, 48)
    name = "texture-embedder"

    def normalize(self, x):
        return x

    def embed_image_torch(self, x):
        high = x - F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        energy = 100 * high.pow(2).mean((1, 2, 3))
        return torch.stack([energy, torch.ones_like(energy)], dim=1)

    def embed_text_torch(self, texts):
        table = {"texture": [1.0, 0.0], "a photo": [0.0, 1.0]}
        return torch.tensor([table[t] for t in texts])


PATCH_ROWS, PATCH_COLS = slice(8, 18), slice(30, 40)  # textured patch, pixel rows / cols


def _textured_image(size=48):
    img = np.full((size, size, 3), 128, dtype=np.uint8)
    yy, xx = np.mgrid[:size, :size]
    checker = ((yy + xx) % 2 * 2 - 1)[..., None] * 100
    img[PATCH_ROWS, PATCH_COLS] = (128 + checker[PATCH_ROWS, PATCH_COLS]).astype(np.uint8)
    return img


def _patch_centre_xy():
    return np.array(
        [(PATCH_COLS.start + PATCH_COLS.stop) / 2, (PATCH_ROWS.start + PATCH_ROWS.stop) / 2]
    )


@pytest.fixture(scope="module")
def model():
    return NevaClip(TextureEmbedder(), config=NevaClipConfig(n_iterations=20))


def test_gradient_is_finite_and_points_to_the_planted_patch(model):
    emb = model.backbone
    x = model.load_images([_textured_image()])
    fov = Foveator(x, model.foveation_)
    target = torch.tensor([[1.0, 0.0]])
    patch_rc = torch.as_tensor(pixels_to_rc(_patch_centre_xy(), width_px=48, height_px=48)).float()
    starts = torch.tensor([[0.0, 0.0], [0.6, -0.6], [0.8, 0.5], [-0.2, -0.8], [-0.9, 0.9]])
    for p0 in starts:
        p = p0[None].clone().requires_grad_(True)
        loss = 1 - F.cosine_similarity(emb.embed_image_torch(fov(p)), target)
        (grad,) = torch.autograd.grad(loss.sum(), p)
        assert torch.isfinite(grad).all()
        towards = patch_rc - p0
        assert float(-grad[0] @ towards) > 0, (
            f"descent from {p0.tolist()} does not head to the patch"
        )


def test_captioned_scanpath_lands_on_the_patch_generic_prompt_avoids_it(model):
    img = _textured_image()
    ds = model.predict([img, img], task=["texture", ""], n_fixations=3, seed=1)
    validate_scanpaths(ds)
    x0, y0 = ds["x"].values[0, 0], ds["y"].values[0, 0]
    assert (
        PATCH_COLS.start - 2 <= x0 <= PATCH_COLS.stop + 2
        and PATCH_ROWS.start - 2 <= y0 <= PATCH_ROWS.stop + 2
    )
    # free viewing ("a photo" = (0, 1)) prefers the blurred patch: fixate far from it
    d_free = np.hypot(
        *(np.array([ds["x"].values[1, 0], ds["y"].values[1, 0]]) - _patch_centre_xy())
    )
    assert d_free > 12
    assert list(ds["task"].values) == ["texture", ""]
    assert list(ds["caption"].values) == ["texture", "a photo"]
    assert list(ds["condition"].values) == ["correct", "correct"]


def test_caption_ablations_and_targets(model):
    img = _textured_image()
    other = model.predict(
        [img, img, img], task=["texture", "a photo", "a photo"], n_fixations=1, caption_mode="other"
    )
    used = list(other["caption"].values)
    assert list(other["task"].values) == ["texture", "a photo", "a photo"]  # as requested
    assert used[0] == "a photo" and "texture" in used[1:]  # a derangement of the captions
    none = model.predict([img], task="texture", n_fixations=1, caption_mode="none")
    assert none["caption"].values[0] == "a photo" and none["condition"].values[0] == "none"
    emb = model.predict([img], target_embeddings=[[1.0, 0.0]], n_fixations=1)
    assert emb["condition"].values[0] == "embedding-target"
    np.testing.assert_allclose(
        emb["x"].values, model.predict([img], task="texture", n_fixations=1)["x"].values
    )
    with pytest.raises(ValueError, match="at least two"):
        model.predict([img], task="texture", caption_mode="other")
    with pytest.raises(ValueError, match="caption_mode"):
        model.predict([img], caption_mode="wrong")


def test_rc_to_image_pixel_conversion_hand_worked():
    emb = TextureEmbedder()
    stretch = NevaClip(emb)
    # S = 48; stretch: x = (0.5 + (col + 1)/2 * 47) * W / 48
    xy = stretch.rc_to_image_pixels(
        np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]), width_px=200, height_px=100
    )
    np.testing.assert_allclose(
        xy, [[0.5 * 200 / 48, 0.5 * 100 / 48], [47.5 * 200 / 48, 47.5 * 100 / 48], [100, 50]]
    )
    crop = NevaClip(emb, config=NevaClipConfig(resize="centre-crop"))
    # 100 × 200 image -> resized 48 × 96, crop columns 24..72: x = (x_in + 24) * 200 / 96
    xy = crop.rc_to_image_pixels(np.array([[-1.0, -1.0], [0.0, 0.0]]), width_px=200, height_px=100)
    np.testing.assert_allclose(xy, [[24.5 * 200 / 96, 0.5 * 100 / 48], [100, 50]])


def test_blur_scaled_to_input_size():
    cfg = NevaClipConfig()
    assert cfg.foveation_for(224) == FoveationConfig()  # spec values at 224 px
    small = cfg.foveation_for(112)
    assert small.blur_kernel_px == 21 and small.blur_sigma_px == pytest.approx(5.0)


def test_open_clip_backbone_runs_and_gives_valid_scanpaths():
    model = NevaClip(
        "open_clip:cogattn-test-vit", weights=None, config=NevaClipConfig(n_iterations=2)
    )
    rng = np.random.default_rng(0)
    imgs = [
        rng.integers(0, 256, (50, 70, 3), dtype=np.uint8),
        rng.integers(0, 256, (64, 40, 3), dtype=np.uint8),
    ]
    ds = model.predict(imgs, task=["a red car", "a dog"], n_fixations=3)
    validate_scanpaths(ds)
    assert ds.sizes["fixation"] == 3 and (ds["length"].values == 3).all()
    assert ds["image_width"].values.tolist() == [70, 40]


def test_bad_backbone_raises():
    with pytest.raises(TypeError, match="embed_image_torch"):
        NevaClip(object())


def test_scanpaths_are_accepted_by_compare(model):
    from cogattn.data import scanpaths
    from cogattn.gaze import compare

    img = _textured_image()
    pred = model.predict([img], task="texture", n_fixations=3)
    # a "human" on the same image and caption, fixating the patch centre then two corners
    cx, cy = _patch_centre_xy()
    human = scanpaths(
        [[cx, 5.0, 40.0]],
        [[cy, 40.0, 40.0]],
        image_size_px=(48, 48),
        image=["image_0"],
        task=["texture"],
        subject="h1",
    )
    scores = compare(pred, human, ["dtw", "frechet"])
    assert scores["n_pairs"].values.tolist() == [[1, 1]]
    assert np.isfinite(scores["score"].values).all()
    # the DTW distance equals a direct computation on the same fixation lists
    from cogattn.gaze.metrics import dtw

    model_xy = np.stack([pred["x"].values[0], pred["y"].values[0]], 1)
    human_xy = np.array([[cx, cy], [5.0, 40.0], [40.0, 40.0]])
    assert scores["score"].sel(metric="dtw").item() == pytest.approx(dtw(model_xy, human_xy))


def test_figure_and_example_run_small(tmp_path, monkeypatch):
    import runpy
    from pathlib import Path

    from cogattn.data import load
    from cogattn.figures import make_figure

    result = make_figure("nevaclip-scanpaths", tmp_path, small=True)
    assert result.figure_path.is_file()
    ds = load(result.data_path)
    assert ds.sizes["path"] == 3 and list(ds["kind"].values) == [
        "caption",
        "caption",
        "free viewing",
    ]
    assert "random weights" in ds.attrs["report"]
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    root = Path(__file__).resolve().parents[2]
    ns = runpy.run_path(str(root / "examples" / "gaze" / "plot_nevaclip.py"))
    validate_scanpaths(ns["paths"])
