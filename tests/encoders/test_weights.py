"""Weights: local checkpoints round-trip bit-exactly, strict loading, fast offline failure."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from cogattn.encoders import (
    CheckpointMismatchError,
    WeightsUnavailableError,
    load_backbone,
)
from cogattn.encoders import weights as W

TINY = {"img_size": 64, "depth": 2}


def _assert_same_state(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_safetensors_round_trip_bit_exact(vit, images, tmp_path):
    path = vit.save_weights(tmp_path / "vit.safetensors")
    torch.manual_seed(123)  # a different random init, overwritten by the checkpoint
    back = load_backbone("timm:vit_tiny_patch16_224", weights=path, **TINY)
    _assert_same_state(vit, back)
    assert back.weights == str(path)
    assert back.weights_hash == vit.weights_hash
    np.testing.assert_array_equal(
        vit.features(images, layers="blocks.1")["blocks.1"].values,
        back.features(images, layers="blocks.1")["blocks.1"].values,
    )


def test_torch_pickle_directory_and_open_clip_checkpoint(clip_vit, tmp_path):
    # an open_clip training checkpoint: {"epoch", "state_dict" with a DDP "module." prefix}
    sd = {f"module.{k}": v for k, v in clip_vit.model.state_dict().items()}
    torch.save({"epoch": 3, "state_dict": sd}, tmp_path / "epoch_3.pt")
    back = load_backbone("open_clip:cogattn-test-vit", weights=tmp_path / "epoch_3.pt")
    _assert_same_state(clip_vit, back)
    d = tmp_path / "export"
    d.mkdir()
    torch.save(clip_vit.model.state_dict(), d / "open_clip_pytorch_model.bin")
    _assert_same_state(clip_vit, load_backbone("open_clip:cogattn-test-vit", weights=d))


def test_strict_loading_lists_mismatches(vit, tmp_path):
    path = vit.save_weights(tmp_path / "depth2.safetensors")
    with pytest.raises(CheckpointMismatchError, match=r"missing keys: blocks\.2\."):
        load_backbone("timm:vit_tiny_patch16_224", weights=path, img_size=64, depth=3)
    with pytest.raises(CheckpointMismatchError, match=r"shape mismatches: pos_embed"):
        load_backbone("timm:vit_tiny_patch16_224", weights=path, img_size=32, depth=2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_backbone("timm:vit_tiny_patch16_224", weights=tmp_path / "nope.pth", **TINY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no unique checkpoint"):
        load_backbone("timm:vit_tiny_patch16_224", weights=tmp_path / "empty", **TINY)
    with pytest.raises(TypeError, match="weights must be"):
        load_backbone("timm:vit_tiny_patch16_224", weights=3, **TINY)


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch"))


@pytest.mark.parametrize(
    "name", ["timm:vit_tiny_patch16_224", "open_clip:ViT-B-32", "timm:resnet18.a1_in1k"]
)
def test_hub_offline_fails_fast_with_guidance(name, empty_caches, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as info:
        load_backbone(name, weights="hub")
    assert time.perf_counter() - t0 < 10
    msg = str(info.value)
    assert "HF_HUB_OFFLINE" in msg
    assert "weights='/path/to/model.safetensors'" in msg and "weights=None" in msg


def test_hub_unreachable_without_env_flag(empty_caches, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(W, "hub_is_reachable", lambda host, timeout_s=3.0: False)
    with pytest.raises(WeightsUnavailableError, match="cannot be reached"):
        load_backbone("timm:vit_tiny_patch16_224", weights="hub")


def test_hub_probe_is_bounded():
    t0 = time.perf_counter()
    # a non-routable address (TEST-NET-1): the probe must give up after its timeout
    assert W.hub_is_reachable("192.0.2.1", timeout_s=0.5) is False
    assert time.perf_counter() - t0 < 3


def test_hub_cached_file_is_found(tmp_path, monkeypatch):
    """With the file in the HF cache layout, the check passes without any network."""
    import huggingface_hub.constants

    repo = "timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k"
    snap = tmp_path / f"models--{repo.replace('/', '--')}" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"x")
    refs = tmp_path / f"models--{repo.replace('/', '--')}" / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    W.check_hub_available("x", hf_repo=repo, hf_filenames=["model.safetensors"])


def test_random_init_is_logged(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="cogattn.encoders"):
        load_backbone("timm:resnet18", input_size=32)
    assert any("random initialisation" in r.getMessage() for r in caplog.records)


def test_open_clip_bad_hub_tag():
    with pytest.raises(ValueError, match=r"unknown pretrained tag 'nope'.*openai"):
        load_backbone("open_clip:ViT-B-32", weights="hub:nope")
