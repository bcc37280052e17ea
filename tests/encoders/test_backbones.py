"""Backbone API: layers, shapes and labels, embeddings, the differentiable path, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cogattn.encoders import UnknownBackboneError, list_backbones, load_backbone


def test_vit_token_features_dims_and_coords(vit, images):
    feats = vit.features(images, layers=["blocks.1", "blocks.0"], batch_size=2)
    assert list(feats) == ["blocks.1", "blocks.0"]
    da = feats["blocks.1"]
    # 64 px / 16 px patches = 4×4 grid, plus the CLS token; ViT-Tiny width 192
    assert da.dims == ("stimulus", "token", "channel")
    assert da.shape == (5, 1 + 16, 192)
    assert list(da.stimulus.values) == [f"image_{i}" for i in range(5)]
    assert da.token_kind.values[0] == "cls" and set(da.token_kind.values[1:]) == {"patch"}
    assert da.attrs["grid_shape"] == [4, 4] and da.attrs["num_prefix_tokens"] == 1
    # row-major patches: token 1 + r*4 + c is patch (r, c)
    assert da.patch_row.values[1 + 2 * 4 + 3] == 2 and da.patch_col.values[1 + 2 * 4 + 3] == 3
    assert da.dtype == np.float32 and np.isfinite(da.values).all()


def test_features_equal_torch_forward_and_batching(vit, images):
    """Batch size must not change results; features equal the differentiable path."""
    a = vit.features(images, layers="blocks.1", batch_size=2)["blocks.1"].values
    b = vit.features(images, layers="blocks.1", batch_size=5)["blocks.1"].values
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    x = vit.load_images(images)
    with torch.no_grad():
        t = vit.torch_forward(x, layers=["blocks.1"])["blocks.1"]
        # the residual stream after block 1 is what timm's own forward_features computes
        # before its final norm
        ref = vit.model.blocks(vit.model.norm_pre(vit.model._pos_embed(vit.model.patch_embed(x))))
    np.testing.assert_allclose(t.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a, ref.numpy(), rtol=1e-5, atol=1e-5)


def test_cnn_feature_maps_follow_feature_info(resnet, images):
    assert resnet.layer_names == ("act1", "layer1", "layer2", "layer3", "layer4")
    feats = resnet.features(images, batch_size=3)
    info = {f["module"]: f for f in resnet.model.feature_info}
    for name, da in feats.items():
        assert da.dims == ("stimulus", "channel", "y", "x")
        side = 64 // info[name]["reduction"]  # timm's own stride metadata
        assert da.shape == (5, info[name]["num_chs"], side, side)
    with pytest.raises(ValueError, match="no attention layers"):
        resnet.attention(images)


def test_vgg_any_submodule_is_a_layer(images):
    bb = load_backbone("timm:vgg11", input_size=32, num_classes=0)
    assert all(n.startswith("features.") for n in bb.layer_names)
    feats = bb.features(images[:2], layers=["features.0", bb.layer_names[-1]])
    assert feats["features.0"].shape == (2, 64, 32, 32)  # first conv keeps the resolution
    assert feats[bb.layer_names[-1]].shape[1] == 512


def test_open_clip_embeddings_unit_norm_and_match_model(clip_vit, images):
    e_img = clip_vit.embed_image(images, batch_size=2)
    e_txt = clip_vit.embed_text(["a photo of a cat", "a diagram", "x"])
    assert e_img.dims == ("stimulus", "embedding") and e_img.shape == (5, 32)
    assert e_txt.dims == ("text", "embedding") and e_txt.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(e_img.values, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(e_txt.values, axis=1), 1, atol=1e-5)
    # same as open_clip's own encoders (fused path), normalised
    x = clip_vit.load_images(images)
    with torch.no_grad():
        ref = torch.nn.functional.normalize(clip_vit.model.encode_image(x), dim=-1)
        tok = clip_vit.tokenizer(["a photo of a cat"])
        ref_t = torch.nn.functional.normalize(clip_vit.model.encode_text(tok), dim=-1)
    np.testing.assert_allclose(e_img.values, ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e_txt.values[0], ref_t[0].numpy(), rtol=1e-5, atol=1e-6)
    raw = clip_vit.embed_image(images[:1], normalize=False).values
    assert not np.isclose(np.linalg.norm(raw), 1.0)


def test_open_clip_tokens_and_resnet_variant(clip_vit, images):
    da = clip_vit.features(images[:2], layers=clip_vit.layer_names[-1])[clip_vit.layer_names[-1]]
    assert da.shape == (2, 17, 64) and da.token_kind.values[0] == "cls"
    rn = load_backbone("open_clip:cogattn-test-rn")
    assert rn.layer_names == tuple(f"visual.layer{i}" for i in range(1, 5))
    f = rn.features(images[:2], layers="visual.layer4")["visual.layer4"]
    assert f.dims == ("stimulus", "channel", "y", "x") and f.shape[-2:] == (2, 2)
    assert rn.embed_image(images[:2]).shape == (2, 32)


def test_differentiable_paths_give_input_gradients(vit, clip_vit, images):
    for bb in (vit, clip_vit):
        x = bb.load_images(images[:2]).requires_grad_(True)
        out = bb.torch_forward(x, layers=bb.layer_names[-1])[bb.layer_names[-1]]
        assert out.requires_grad
        out.pow(2).mean().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()
    x = clip_vit.load_images(images[:2]).requires_grad_(True)
    t = clip_vit.embed_text_torch(["a cat"])
    sim = (clip_vit.embed_image_torch(x) @ t.T).sum()
    sim.backward()
    assert x.grad.abs().sum() > 0
    # parameters stay frozen: no gradient is accumulated on them
    assert all(p.grad is None for p in clip_vit.model.parameters())


def test_normalize_matches_preprocess(vit, images):
    from PIL import Image

    x = vit.preprocess(Image.fromarray(images[0]))
    # undo the normalisation by hand and redo it with the differentiable helper
    mean = torch.tensor(vit.mean).view(3, 1, 1)
    std = torch.tensor(vit.std).view(3, 1, 1)
    x01 = x * std + mean
    torch.testing.assert_close(vit.normalize(x01[None])[0], x, rtol=1e-6, atol=1e-6)


def test_load_images_accepts_paths_pil_arrays(vit, images, tmp_path):
    from PIL import Image

    p = tmp_path / "a.png"
    Image.fromarray(images[0]).save(p)
    x_path = vit.load_images([p])
    x_pil = vit.load_images(Image.fromarray(images[0]))
    x_arr = vit.load_images(images[0])
    x_float = vit.load_images(images[0] / 255.0)
    assert x_path.shape == (1, 3, 64, 64)
    torch.testing.assert_close(x_path, x_pil)
    torch.testing.assert_close(x_arr, x_pil)
    torch.testing.assert_close(x_float, x_pil)
    feats = vit.features([p, images[1]], layers="blocks.0")["blocks.0"]
    assert list(feats.stimulus.values) == ["a.png", "image_1"]


def test_bad_inputs_give_clear_errors(vit, images):
    with pytest.raises(ValueError, match=r"shape \(H, W\)"):
        vit.features(np.zeros((2, 10, 10, 5), np.uint8))
    with pytest.raises(ValueError, match="expects images of 64×64 px"):
        vit.features(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        vit.features(torch.zeros(3, 64, 64))
    with pytest.raises(TypeError, match="float tensor"):
        vit.features(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(
        ValueError, match=r"unknown layer 'blocks\.7'.*did you mean.*valid: blocks\.0, blocks\.1"
    ):
        vit.features(images, layers=["blocks.7"])
    with pytest.raises(ValueError, match=r"unknown attention layer 'blocks\.0\.mlp'"):
        vit.attention(images, layers="blocks.0.mlp")
    with pytest.raises(ValueError, match="batch_size"):
        vit.features(images, batch_size=0)
    with pytest.raises(ValueError, match="no images"):
        vit.features([])
    with pytest.raises(TypeError, match="no text tower"):
        vit.embed_text("a cat")


def test_unknown_names_suggest_close_matches():
    with pytest.raises(UnknownBackboneError, match="did you mean timm:vit_tiny_patch16_224"):
        load_backbone("timm:vit_tiny_patch16_2244")
    with pytest.raises(KeyError, match="did you mean 'timm'"):
        load_backbone("tim:resnet18")
    with pytest.raises(ValueError, match="did you mean open_clip:ViT-B-32"):
        load_backbone("open_clip:ViT-B32")
    with pytest.raises(ValueError, match="'<family>:<model>'"):
        load_backbone("resnet18")


def test_list_backbones():
    names = list_backbones()
    assert {"timm:", "open_clip:", "hf:"} <= set(names)
    vits = list_backbones("timm:vit_tiny*")
    assert "timm:vit_tiny_patch16_224" in vits and all(n.startswith("timm:vit_tiny") for n in vits)
    assert "open_clip:ViT-B-32" in list_backbones("open_clip:ViT-B-32*")
    assert "open_clip:cogattn-test-vit" in list_backbones("*cogattn-test*")


def test_register_backbone_family(vit):
    from cogattn.encoders import register_backbone

    calls = []

    def factory(model_name, **kwargs):
        calls.append((model_name, kwargs["device"]))
        return vit

    register_backbone("mytest", factory, overwrite=True)
    assert load_backbone("mytest:anything") is vit
    assert calls == [("anything", "cpu")]
    assert "mytest:" in list_backbones("mytest*")


def test_bfloat16_weights_close_to_float32(images):
    torch.manual_seed(1)
    f32 = load_backbone("timm:vit_tiny_patch16_224", img_size=64, depth=2)
    path_state = {k: v.clone() for k, v in f32.model.state_dict().items()}
    torch.manual_seed(1)
    b16 = load_backbone("timm:vit_tiny_patch16_224", img_size=64, depth=2, dtype=torch.bfloat16)
    assert b16.dtype == torch.bfloat16
    assert all(p.dtype == torch.bfloat16 for p in b16.model.parameters())
    for k, v in b16.model.state_dict().items():  # same init, cast
        torch.testing.assert_close(v, path_state[k].to(torch.bfloat16))
    a = f32.features(images, layers="blocks.1")["blocks.1"].values
    b = b16.features(images, layers="blocks.1")["blocks.1"].values
    assert b.dtype == np.float32
    # bf16 keeps 8 mantissa bits: relative error per layer of order 1e-2
    assert np.abs(a - b).max() < 0.1 * np.abs(a).max()
    att = b16.attention(images[:2])
    np.testing.assert_allclose(att.sum("key").values, 1, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_path(vit, images):
    torch.manual_seed(0)
    gpu = load_backbone(
        "timm:vit_tiny_patch16_224", img_size=64, depth=2, device="cuda", dtype=torch.bfloat16
    )
    gpu.model.load_state_dict({k: v.to("cuda") for k, v in vit.model.state_dict().items()})
    att = gpu.attention(images)
    np.testing.assert_allclose(att.sum("key").values, 1, atol=1e-5)
    a = vit.features(images, layers="blocks.1")["blocks.1"].values
    b = gpu.features(images, layers="blocks.1")["blocks.1"].values
    assert np.abs(a - b).max() < 0.1 * np.abs(a).max()
    x = gpu.load_images(images[:1]).to("cuda").requires_grad_(True)
    gpu.embed_image_torch(x).sum().backward()
    assert x.grad is not None and x.grad.device.type == "cuda"
