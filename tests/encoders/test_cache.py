"""Feature cache: hit / miss, invalidation on changed stimuli or weights, atomic entries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cogattn.encoders import FeatureCache, load_backbone


def test_features_hit_miss_and_invalidation(vit, images, tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path / "cache")
    first = cache.features(vit, images, layers=["blocks.0", "blocks.1"])
    assert (cache.hits, cache.misses) == (0, 2)
    assert len(cache.entries()) == 2

    calls = []
    original = type(vit).features

    def counting(self, *args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("layers"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(vit), "features", counting)
    second = cache.features(vit, images, layers=["blocks.1", "blocks.0"])
    assert calls == [] and (cache.hits, cache.misses) == (2, 2)  # read from disk
    for n in ("blocks.0", "blocks.1"):
        np.testing.assert_array_equal(first[n].values, second[n].values)
        assert second[n].dims == first[n].dims and second[n].attrs["grid_shape"] == [4, 4]
        assert list(second[n].token_kind.values) == list(first[n].token_kind.values)

    changed = images.copy()
    changed[2, 10, 10, 0] ^= 0xFF  # one pixel of one image
    cache.features(vit, changed, layers=["blocks.1"])
    assert calls == [["blocks.1"]] and cache.misses == 3  # new stimulus set: recomputed
    # only the missing layer of a known set is computed
    cache.features(vit, images, layers=["blocks.0", "blocks.1"])
    assert len(calls) == 1


def test_weights_change_is_a_miss(vit, images, tmp_path):
    cache = FeatureCache(tmp_path)
    cache.features(vit, images[:2], layers="blocks.0")
    torch.manual_seed(99)
    other = load_backbone("timm:vit_tiny_patch16_224", img_size=64, depth=2)
    assert other.weights_hash != vit.weights_hash
    cache.features(other, images[:2], layers="blocks.0")
    assert cache.misses == 2 and cache.hits == 0


def test_attention_and_text_entries(clip_vit, images, tmp_path):
    cache = FeatureCache(tmp_path)
    a1 = cache.attention(clip_vit, images[:3], query=0)
    a2 = cache.attention(clip_vit, images[:3], query=0)
    assert (cache.hits, cache.misses) == (1, 1)
    np.testing.assert_array_equal(a1.values, a2.values)
    assert a2.dims == ("stimulus", "layer", "head", "query", "key")
    assert list(a2.layer.values) == list(clip_vit.attention_layer_names)
    cache.attention(clip_vit, images[:3])  # a different request (all queries): a miss
    assert cache.misses == 2
    t1 = cache.attention(clip_vit, ["a cat", "a dog"])
    t2 = cache.attention(clip_vit, ["a cat", "a dog"])
    np.testing.assert_array_equal(t1.values, t2.values)
    assert cache.hits == 2
    cache.clear()
    assert cache.entries() == []


def test_no_partial_entries_on_failure(vit, images, tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("xarray.Dataset.to_zarr", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.features(vit, images[:1], layers="blocks.0")
    assert cache.entries() == []
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
