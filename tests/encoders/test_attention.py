"""Attention recording: equals the libraries' own (unfused) probabilities, leaves outputs
unchanged, rows sum to 1; CLS maps and rollout against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from cogattn.encoders import attention_rollout, cls_attention_maps


def _timm_reference_probs(vit, x):
    """Probabilities from timm's own non-fused path: the input of each block's attn_drop."""
    probs, handles = {}, []
    blocks = vit.model.blocks
    for i, blk in enumerate(blocks):
        handles.append(
            blk.attn.attn_drop.register_forward_hook(
                lambda m, args, out, i=i: probs.__setitem__(f"blocks.{i}", args[0].clone())
            )
        )
        blk.attn.fused_attn = False
    try:
        with torch.no_grad():
            logits = vit.model(x)
    finally:
        for blk in blocks:
            blk.attn.fused_attn = True
        for h in handles:
            h.remove()
    return probs, logits


def test_timm_attention_matches_unfused_reference(vit, images):
    att = vit.attention(images, batch_size=2)
    assert att.dims == ("stimulus", "layer", "head", "query", "key")
    assert att.shape == (5, 2, 3, 17, 17)  # ViT-Tiny: 3 heads; 16 patches + CLS
    assert list(att.layer.values) == ["blocks.0", "blocks.1"]
    np.testing.assert_allclose(att.sum("key").values, 1.0, atol=1e-5)
    assert (att.values >= 0).all()
    ref, _ = _timm_reference_probs(vit, vit.load_images(images))
    for layer in att.layer.values:
        np.testing.assert_allclose(
            att.sel(layer=layer).values, ref[layer].numpy(), rtol=1e-4, atol=1e-6
        )
    assert att.key_kind.values[0] == "cls" and att.attrs["grid_shape"] == [4, 4]


def test_recording_does_not_change_outputs(vit, clip_vit, images):
    """Bit-identical logits / embeddings with and without extraction (fused path kept)."""
    x = vit.load_images(images)
    with torch.no_grad():
        plain = vit.model(x)
        with vit.recording(layers=None, attention_layers=None) as rec:
            recorded = vit.model(x)
    assert torch.equal(plain, recorded)
    assert set(rec["attention"]) == {"blocks.0", "blocks.1"}
    assert vit.model.blocks[0].attn.fused_attn  # nothing switched the fused kernel off
    _, unfused_logits = _timm_reference_probs(vit, x)
    torch.testing.assert_close(unfused_logits, plain, rtol=1e-4, atol=1e-5)

    xc = clip_vit.load_images(images)
    tok = clip_vit.tokenizer(["a cat", "two dogs"])
    with torch.no_grad():
        e_img, e_txt = clip_vit.model.encode_image(xc), clip_vit.model.encode_text(tok)
        with clip_vit.recording(attention_layers=None):
            e_img2 = clip_vit.model.encode_image(xc)
        att = clip_vit.attention(images)
        txt_att = clip_vit.attention(["a cat", "two dogs"])
        e_txt2 = clip_vit.model.encode_text(tok)
    assert torch.equal(e_img, e_img2) and torch.equal(e_txt, e_txt2)
    assert att.shape[0] == 5 and txt_att.shape[0] == 2


def test_open_clip_attention_matches_torch_mha_weights(clip_vit, images):
    """Reference: torch's own nn.MultiheadAttention with need_weights=True per head."""
    att = clip_vit.attention(images)
    np.testing.assert_allclose(att.sum("key").values, 1.0, atol=1e-5)
    x = clip_vit.load_images(images)
    inputs = {}
    blocks = clip_vit.model.visual.transformer.resblocks
    hs = [
        b.attn.register_forward_pre_hook(lambda m, a, i=i: inputs.__setitem__(i, a[0].clone()))
        for i, b in enumerate(blocks)
    ]
    with torch.no_grad():
        clip_vit.model.encode_image(x)
        for h in hs:
            h.remove()
        for i, b in enumerate(blocks):
            q = inputs[i]
            _, w = b.attn(q, q, q, need_weights=True, average_attn_weights=False)
            np.testing.assert_allclose(att.isel(layer=i).values, w.numpy(), rtol=1e-4, atol=1e-6)


def test_text_attention_is_causal(clip_vit):
    att = clip_vit.attention(["a photo of a cat", "dog"])
    assert att.dims == ("stimulus", "layer", "head", "query", "key")
    assert att.shape == (2, 2, 2, 16, 16)  # 2 text blocks, 2 heads, context 16
    vals = att.values
    np.testing.assert_allclose(vals.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(vals, k=1) == 0)  # no query attends to a later token
    assert att.token_id.dims == ("stimulus", "key")
    assert att.attrs["modality"] == "text"


def test_query_selection_keeps_original_indices(vit, images):
    full = vit.attention(images[:2], layers="blocks.1")
    cls = vit.attention(images[:2], layers="blocks.1", query=0)
    assert cls.shape == (2, 1, 3, 1, 17) and list(cls["query"].values) == [0]
    np.testing.assert_allclose(cls.values, full.isel(query=[0]).values, rtol=1e-5, atol=1e-7)
    assert cls.query_kind.values.tolist() == ["cls"]


def test_query_selection_with_masks(clip_vit, images):
    """Selected query rows equal the same rows of the full matrix (causal text mask too)."""
    texts = ["a photo of a cat", "dog"]
    full = clip_vit.attention(texts)
    some = clip_vit.attention(texts, query=[3, 1, 7])
    assert list(some["query"].values) == [3, 1, 7]
    np.testing.assert_allclose(some.values, full.isel(query=[3, 1, 7]).values, atol=1e-7)
    sl = clip_vit.attention(images[:2], query=slice(0, 17, 4))
    np.testing.assert_allclose(
        sl.values, clip_vit.attention(images[:2]).isel(query=slice(0, 17, 4)).values, atol=1e-7
    )


def _toy_attention(values: np.ndarray, grid=(2, 2)) -> xr.DataArray:
    n_tok = values.shape[-1]
    kinds = np.array(["cls"] + ["patch"] * (n_tok - 1))
    return xr.DataArray(
        values,
        dims=("stimulus", "layer", "head", "query", "key"),
        coords={"key_kind": ("key", kinds), "query_kind": ("query", kinds)},
        attrs={"grid_shape": list(grid)},
    )


def test_cls_attention_maps_hand_worked():
    # CLS (token 0) of head 0 attends only to patch (row 1, col 0) = token 1 + 2 = 3;
    # head 1 splits 0.5 / 0.5 between itself and patch (0, 1) = token 2.
    a = np.zeros((1, 1, 2, 5, 5))
    a[0, 0, 0, 0, 3] = 1.0
    a[0, 0, 1, 0, 0] = 0.5
    a[0, 0, 1, 0, 2] = 0.5
    maps = cls_attention_maps(_toy_attention(a))
    assert maps.dims == ("stimulus", "layer", "head", "y", "x")
    np.testing.assert_array_equal(maps.values[0, 0, 0], [[0, 0], [1, 0]])
    np.testing.assert_array_equal(maps.values[0, 0, 1], [[0, 0.5], [0, 0]])
    renorm = cls_attention_maps(_toy_attention(a), renormalize=True)
    np.testing.assert_array_equal(renorm.values[0, 0, 1], [[0, 1], [0, 0]])
    up = cls_attention_maps(_toy_attention(a), image_size=(8, 6))
    assert up.shape == (1, 1, 2, 8, 6)
    # bilinear upsampling of a constant-free map keeps the mass where it was: bottom-left
    assert up.values[0, 0, 0, -1, 0] == up.values[0, 0, 0].max()
    assert up.values[0, 0, 0, 0, -1] == 0


def test_attention_rollout_hand_worked():
    # two tokens; layer 1 copies token 1 into token 0, layer 2 is identity-like uniform
    a1 = np.array([[0.0, 1.0], [0.0, 1.0]])
    a2 = np.array([[0.5, 0.5], [0.5, 0.5]])
    att = _toy_attention(np.stack([a1, a2])[None, :, None], grid=(1, 1))
    # by hand with residual: Â1 = [[.5,.5],[0,1]], Â2 = [[.75,.25],[.25,.75]]
    # Â2·Â1 = [[.375, .625], [.125, .875]]
    roll = attention_rollout(att)
    assert roll.dims == ("stimulus", "query", "key")
    np.testing.assert_allclose(roll.values[0], [[0.375, 0.625], [0.125, 0.875]])
    no_res = attention_rollout(att, residual=False)
    np.testing.assert_allclose(no_res.values[0], a2 @ a1)
    with pytest.raises(ValueError, match="head_fusion"):
        attention_rollout(att, head_fusion="median")


def test_rollout_rows_sum_to_one_on_real_attention(vit, images):
    roll = attention_rollout(vit.attention(images[:2]))
    np.testing.assert_allclose(roll.sum("key").values, 1.0, atol=1e-6)
    maps = cls_attention_maps(vit.attention(images[:2]), image_size=64)
    assert maps.shape == (2, 2, 3, 64, 64)
