"""``open_clip:<model>`` backbones: CLIP image and text towers (ViT and ResNet variants).

Layer names (``Backbone.layer_names``) are module paths inside the CLIP model:

- ViT image towers: ``visual.transformer.resblocks.0 … resblocks.{N-1}`` — tokens
  ``(stimulus, token, channel)``, the class token first, then patches row by row; attention is
  recorded from each block's ``attn`` (``nn.MultiheadAttention``) and labelled with the block.
- ResNet image towers (``RN50``…): ``visual.layer1 … visual.layer4`` — maps
  ``(stimulus, channel, y, x)``; no attention layers (the attention pool is not recorded).
- timm-based image towers: ``visual.trunk.<timm feature_info module>``.
- Text tower attention (``attention(texts)``): ``transformer.resblocks.i`` (or
  ``text.transformer.resblocks.i`` for models with a custom text tower); causal attention
  over the tokenised, zero-padded sequence.

``embed_image`` / ``embed_text`` give the projected CLIP embeddings (unit norm by default), so
``embed_image(x) @ embed_text(t).T`` are the CLIP cosine similarities.

``weights="hub"`` uses the ``openai`` tag where there is one, otherwise the first tag listed
by ``open_clip.list_pretrained_tags_by_model``; ``weights="hub:<tag>"`` picks one.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

import numpy as np
import torch
import xarray as xr

from cogattn.encoders import attention as _attn
from cogattn.encoders import weights as _weights
from cogattn.encoders.backbone import Backbone, InputSpec, TokenLayout, UnknownBackboneError

__all__ = ["OpenClipBackbone", "create_open_clip_backbone", "register_cogattn_configs"]

logger = logging.getLogger(__name__)


def register_cogattn_configs() -> None:
    """Make cogattn's tiny open_clip configs (``cogattn-test-vit``, ``-rn``) known to open_clip."""
    import open_clip

    if "cogattn-test-vit" in open_clip.list_models():
        return
    open_clip.add_model_config(str(files("cogattn.encoders") / "configs" / "open_clip"))


class OpenClipBackbone(Backbone):
    """An open_clip CLIP model behind the :class:`~cogattn.encoders.backbone.Backbone` interface."""

    family = "open_clip"

    def __init__(
        self,
        *,
        model_name: str,
        text_attention_layers: dict[str, str],
        transpose_layers: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._model_name = model_name
        self._text_attention_layers = dict(text_attention_layers)
        self._transpose = set(transpose_layers)
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        """open_clip's tokenizer for this model (list of str → ``(N, context_length)`` ids)."""
        if self._tokenizer is None:
            import open_clip

            self._tokenizer = open_clip.get_tokenizer(self._model_name)
        return self._tokenizer

    @property
    def text_attention_layer_names(self) -> tuple[str, ...]:
        """Text-tower blocks whose attention ``attention(texts)`` records."""
        return tuple(self._text_attention_layers)

    def _fix_layout(self, layer: str, out: torch.Tensor) -> torch.Tensor:
        return out.transpose(0, 1) if layer in self._transpose else out

    def _forward_images(self, x: torch.Tensor) -> Any:
        return self.model.encode_image(x)

    def _embed_images_torch(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(x)

    def _tokenize(self, texts: str | Sequence[str]) -> torch.Tensor:
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a string or a non-empty sequence of strings")
        return self.tokenizer(texts).to(self.device)

    def embed_text_torch(
        self, texts: str | Sequence[str], *, normalize: bool = True
    ) -> torch.Tensor:
        """Projected text embeddings ``(N, D)`` keeping the autograd graph."""
        emb = self.model.encode_text(self._tokenize(texts))
        return torch.nn.functional.normalize(emb, dim=-1) if normalize else emb

    def token_layout(self, image_hw: tuple[int, int]) -> TokenLayout | None:
        """Class token then patches, for ViT image towers (``None`` otherwise)."""
        visual = self.model.visual
        if not hasattr(visual, "class_embedding") or not hasattr(visual, "patch_size"):
            return None
        ph, pw = visual.patch_size
        return TokenLayout(prefix=("cls",), grid=(image_hw[0] // ph, image_hw[1] // pw))

    def _text_attention(
        self, texts: Any, layers: Any, *, batch_size: int, query: Any
    ) -> xr.DataArray:
        if not self._text_attention_layers:
            raise ValueError(f"{self.name} has no recordable text attention layers")
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        valid = self.text_attention_layer_names
        names = (
            list(valid)
            if layers is None
            else ([layers] if isinstance(layers, str) else list(layers))
        )
        for nm in names:
            if nm not in valid:
                raise ValueError(
                    f"unknown text attention layer {nm!r} for {self.name} (valid: {', '.join(valid)})"
                )
        chunks, ids = [], []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                tokens = self._tokenize(texts[start : start + batch_size])
                rec = self._run(
                    tokens,
                    [],
                    names,
                    forward=self.model.encode_text,
                    attn_map=self._text_attention_layers,
                    query=query,
                )
                chunks.append(torch.stack([rec["attention"][n] for n in names], 1).numpy())
                ids.append(tokens.cpu().numpy())
        values = np.concatenate(chunks)
        token_ids = np.concatenate(ids)
        q_index = np.arange(values.shape[-1])
        if query is not None:
            q_index = np.atleast_1d(q_index[query])
        da = self._attention_dataarray(values, names, texts, self.input_size, q_index)
        da = da.assign_coords(token_id=(("stimulus", "key"), token_ids))
        da.attrs.pop("input_size", None)
        da.attrs["modality"] = "text"
        return da


def _unknown_model(model_name: str) -> UnknownBackboneError:
    import open_clip

    close = difflib.get_close_matches(model_name, open_clip.list_models(), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(f'open_clip:{c}' for c in close)}?" if close else ""
    return UnknownBackboneError(
        f"unknown open_clip model {model_name!r}{hint} "
        "(list_backbones('open_clip:*') lists the available names)"
    )


def _hub_tag(model_name: str, weights: str) -> str:
    import open_clip

    tags = open_clip.list_pretrained_tags_by_model(model_name)
    name = f"open_clip:{model_name}"
    if weights == "hub":
        if not tags:
            raise _weights.WeightsUnavailableError(
                f"open_clip lists no pretrained weights for {model_name!r}. "
                + _weights._guidance(name)
            )
        return "openai" if "openai" in tags else tags[0]
    tag = weights.split(":", 1)[1]
    if tag not in tags:
        raise ValueError(
            f"unknown pretrained tag {tag!r} for {name} (available: {', '.join(tags) or 'none'})"
        )
    return tag


def create_open_clip_backbone(
    model_name: str,
    *,
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    **model_kwargs: Any,
) -> OpenClipBackbone:
    """Create an ``open_clip:<model_name>`` backbone.

    Parameters
    ----------
    model_name : str
        An ``open_clip.list_models()`` name (``"ViT-B-32"``, ``"RN50"``, or cogattn's tiny
        ``"cogattn-test-vit"`` / ``"cogattn-test-rn"`` test configs).
    weights : None, "hub", "hub:<tag>" or path
        See :func:`cogattn.encoders.load_backbone`.
    device, dtype
        Where the weights live and their dtype.
    **model_kwargs
        Passed to :func:`open_clip.create_model_and_transforms` (``force_image_size``…).
    """
    import open_clip

    register_cogattn_configs()
    if model_name not in open_clip.list_models():
        raise _unknown_model(model_name)
    name = f"open_clip:{model_name}"
    tag = None
    if isinstance(weights, str) and (weights == "hub" or weights.startswith("hub:")):
        tag = _hub_tag(model_name, weights)
        cfg = open_clip.get_pretrained_cfg(model_name, tag)
        repo = (cfg.get("hf_hub") or "").strip("/") or None
        _weights.check_hub_available(
            name,
            hf_repo=repo,
            hf_filenames=("open_clip_model.safetensors", "open_clip_pytorch_model.bin"),
            url=cfg.get("url") or None,
        )
    model, _, preprocess = open_clip.create_model_and_transforms(
        model_name, pretrained=tag, **model_kwargs
    )
    if tag is not None:
        source = f"hub:{tag}"
    else:
        source = _weights.finish_weights(model, weights, name)

    pp = open_clip.get_model_preprocess_cfg(model)
    size = pp.get("size", 224)
    size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    spec = InputSpec(
        input_size=size,  # type: ignore[arg-type]
        mean=tuple(float(v) for v in pp.get("mean", open_clip.OPENAI_DATASET_MEAN)),  # type: ignore[arg-type]
        std=tuple(float(v) for v in pp.get("std", open_clip.OPENAI_DATASET_STD)),  # type: ignore[arg-type]
        interpolation=str(pp.get("interpolation", "bicubic")),
        fixed_size=True,
    )
    modules = dict(model.named_modules())
    visual = model.visual
    layers: list[str] = []
    transpose: list[str] = []
    if hasattr(visual, "transformer") and hasattr(visual.transformer, "resblocks"):
        n = len(visual.transformer.resblocks)
        layers = [f"visual.transformer.resblocks.{i}" for i in range(n)]
        if not getattr(visual.transformer, "batch_first", True):
            transpose = list(layers)
    elif hasattr(visual, "trunk"):
        info = getattr(visual.trunk, "feature_info", None) or []
        layers = [f"visual.trunk.{f['module']}" for f in info if "module" in f]
    else:
        layers = [f"visual.layer{i}" for i in range(1, 5) if f"visual.layer{i}" in modules]
    attention_layers = {
        ly: f"{ly}.attn"
        for ly in layers
        if f"{ly}.attn" in modules and _attn.is_supported_attention(modules[f"{ly}.attn"])
    }
    text_prefix = "text.transformer" if "text.transformer.resblocks" in modules else "transformer"
    text_attention = {}
    i = 0
    while f"{text_prefix}.resblocks.{i}.attn" in modules:
        mod = modules[f"{text_prefix}.resblocks.{i}.attn"]
        if _attn.is_supported_attention(mod):
            text_attention[f"{text_prefix}.resblocks.{i}"] = f"{text_prefix}.resblocks.{i}.attn"
        i += 1
    return OpenClipBackbone(
        name=name,
        model=model,
        device=device,
        dtype=dtype,
        input_spec=spec,
        preprocess=preprocess,
        layers=layers,
        attention_layers=attention_layers,
        weights=source,
        model_name=model_name,
        text_attention_layers=text_attention,
        transpose_layers=transpose,
    )
