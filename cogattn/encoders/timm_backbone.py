"""``timm:<model>`` backbones: vision transformers (ViT, DeiT, …) and CNNs (VGG, ResNet, ConvNeXt).

Layer names (``Backbone.layer_names``) are the modules timm lists in ``model.feature_info``:

- ViT / DeiT: ``blocks.0 … blocks.{depth-1}`` — the residual stream after each block, before
  the final norm, as tokens ``(stimulus, token, channel)``: prefix tokens first (``cls``,
  ``dist`` for distilled DeiTs, ``reg0…`` for register tokens), then patches in row-major
  order. Attention is recorded from ``blocks.i.attn`` and labelled ``blocks.i``.
- ResNet: ``act1`` (stem), ``layer1 … layer4``; VGG: the ReLU / pooling modules
  ``features.N`` that end each stage; ConvNeXt: ``stages.0 … stages.3`` — feature maps
  ``(stimulus, channel, y, x)``.

Any other submodule path of ``backbone.model`` also works in ``features``.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

import torch

from cogattn.encoders import attention as _attn
from cogattn.encoders import weights as _weights
from cogattn.encoders.backbone import Backbone, InputSpec, TokenLayout, UnknownBackboneError

__all__ = ["TimmBackbone", "create_timm_backbone"]

logger = logging.getLogger(__name__)


class TimmBackbone(Backbone):
    """A timm model behind the :class:`~cogattn.encoders.backbone.Backbone` interface."""

    family = "timm"

    def _forward_images(self, x: torch.Tensor) -> Any:
        return self.model.forward_features(x)

    def _embed_images_torch(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_head(self.model.forward_features(x), pre_logits=True)

    def token_layout(self, image_hw: tuple[int, int]) -> TokenLayout | None:
        """Prefix tokens and patch grid of a timm vision transformer (``None`` for CNNs)."""
        m = self.model
        pe = getattr(m, "patch_embed", None)
        n_prefix = getattr(m, "num_prefix_tokens", None)
        if pe is None or n_prefix is None or not hasattr(pe, "patch_size"):
            return None
        ph, pw = pe.patch_size
        grid = (image_hw[0] // ph, image_hw[1] // pw)
        prefix: list[str] = []
        if getattr(m, "cls_token", None) is not None:
            prefix.append("cls")
        if getattr(m, "dist_token", None) is not None:
            prefix.append("dist")
        prefix += [f"reg{i}" for i in range(int(getattr(m, "num_reg_tokens", 0) or 0))]
        if len(prefix) != n_prefix:
            prefix = [f"prefix{i}" for i in range(n_prefix)]
        return TokenLayout(prefix=tuple(prefix), grid=grid)


def _unknown_model(model_name: str) -> UnknownBackboneError:
    import timm

    base = model_name.split(".")[0]
    close = difflib.get_close_matches(base, timm.list_models(), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(f'timm:{c}' for c in close)}?" if close else ""
    return UnknownBackboneError(
        f"unknown timm model {model_name!r}{hint} "
        "(list_backbones('timm:*pattern*') lists the available names)"
    )


def create_timm_backbone(
    model_name: str,
    *,
    weights: str | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    input_size: int | tuple[int, int] | None = None,
    **model_kwargs: Any,
) -> TimmBackbone:
    """Create a ``timm:<model_name>`` backbone.

    Parameters
    ----------
    model_name : str
        A ``timm.list_models()`` name, optionally with a pretrained tag
        (``"vit_small_patch16_224.augreg_in21k"``).
    weights : None, "hub" or path
        See :func:`cogattn.encoders.load_backbone`.
    device, dtype
        Where the weights live and their dtype.
    input_size : int or (int, int), optional
        Preprocessing size for models that accept any size (CNNs); defaults to the pretrained
        config's size. ViTs use their ``img_size``.
    **model_kwargs
        Passed to :func:`timm.create_model` (``img_size``, ``depth``, ``num_classes``…).
    """
    import timm
    from timm.data import create_transform, resolve_model_data_config

    if not timm.is_model(model_name):
        raise _unknown_model(model_name)
    name = f"timm:{model_name}"
    pretrained = weights == "hub"
    if pretrained:
        cfg = timm.models.get_pretrained_cfg(model_name)
        if cfg is None:
            raise _weights.WeightsUnavailableError(
                f"timm has no pretrained weights for {model_name!r}. " + _weights._guidance(name)
            )
        files = [cfg.hf_hub_filename] if cfg.hf_hub_filename else []
        files += ["model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin"]
        _weights.check_hub_available(name, hf_repo=cfg.hf_hub_id, hf_filenames=files, url=cfg.url)
    model = timm.create_model(model_name, pretrained=pretrained, **model_kwargs)
    source = _weights.finish_weights(model, weights, name)

    data_cfg = resolve_model_data_config(model)
    pe = getattr(model, "patch_embed", None)
    img_size = getattr(pe, "img_size", None) if pe is not None else None
    fixed = img_size is not None and not getattr(model, "dynamic_img_size", False)
    if fixed:
        size = tuple(int(s) for s in img_size)
        if input_size is not None and _pair(input_size) != size:
            raise ValueError(
                f"{name} is built for {size[0]}×{size[1]} px inputs; pass img_size= to build it "
                f"for {_pair(input_size)} instead of input_size="
            )
    else:
        size = _pair(input_size) if input_size is not None else tuple(data_cfg["input_size"][1:])
    if tuple(data_cfg["input_size"][1:]) != size:
        data_cfg = {**data_cfg, "input_size": (3, *size), "crop_pct": 1.0}
    transform = create_transform(**data_cfg, is_training=False)
    spec = InputSpec(
        input_size=size,  # type: ignore[arg-type]
        mean=tuple(float(v) for v in data_cfg["mean"]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in data_cfg["std"]),  # type: ignore[arg-type]
        interpolation=str(data_cfg.get("interpolation", "bicubic")),
        fixed_size=fixed,
    )
    feature_info = getattr(model, "feature_info", None) or []
    layers = [f["module"] for f in feature_info if "module" in f]
    modules = dict(model.named_modules())
    if not layers:
        layers = [n for n in modules if n.count(".") == 0 and n]
    attention_layers = {}
    for layer in layers:
        attn_path = f"{layer}.attn"
        if attn_path in modules and _attn.is_supported_attention(modules[attn_path]):
            attention_layers[layer] = attn_path
    return TimmBackbone(
        name=name,
        model=model,
        device=device,
        dtype=dtype,
        input_spec=spec,
        preprocess=transform,
        layers=layers,
        attention_layers=attention_layers,
        weights=source,
    )


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        return (size, size)
    h, w = size
    return (int(h), int(w))
