"""Per-head attention probabilities recorded beside a model's fused attention path.

The models keep their fast path (``F.scaled_dot_product_attention`` / the native multi-head
attention kernel); nothing in the libraries is edited or monkey-patched. Hooks read the query
and key projections the model computes anyway and form ``softmax(q kᵀ · scale + mask)`` per
head on the side, in float32:

- timm :class:`timm.layers.Attention` — a forward hook on its ``qkv`` linear layer (the
  projection the model already computed) plus its ``q_norm`` / ``k_norm``; a pre-hook on the
  attention module picks up ``attn_mask`` / ``is_causal`` when they are passed.
- :class:`torch.nn.MultiheadAttention` (open_clip's ``ResidualAttentionBlock``) — a pre-hook
  reads the query/key inputs and mask and projects them with the module's ``in_proj_weight``
  (this repeats the q and k projections: the cost of recording).
- open_clip's own ``Attention`` (``CustomResidualAttentionBlock``) — the same, plus its
  ``ln_q`` / ``ln_k`` and scaled-cosine option.

Because the hooks only read tensors, the model's outputs are bit-identical with and without
recording (tested).

The helpers :func:`cls_attention_maps` and :func:`attention_rollout` post-process the
``(stimulus, layer, head, query, key)`` arrays returned by ``Backbone.attention``.

References
----------
Vaswani et al. (2017), Attention is all you need, NeurIPS. arXiv:1706.03762.
Dosovitskiy et al. (2021), An image is worth 16x16 words, ICLR. arXiv:2010.11929.
Abnar & Zuidema (2020), Quantifying attention flow in transformers, ACL. arXiv:2005.00928.
Caron et al. (2021), Emerging properties in self-supervised vision transformers (per-head CLS
attention maps), ICCV. arXiv:2104.14294.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

__all__ = [
    "attention_hooks",
    "attention_rollout",
    "cls_attention_maps",
    "is_supported_attention",
]

Sink = Callable[[torch.Tensor], None]


def _rows(query: Any, length: int, device: torch.device) -> torch.Tensor | None:
    """Query-token indices selected by ``query`` (None = all) as a 1-d long tensor."""
    if query is None:
        return None
    idx = np.atleast_1d(np.arange(length)[query])
    return torch.as_tensor(idx, dtype=torch.long, device=device)


def _softmax_probs(
    q: torch.Tensor,
    k: torch.Tensor,
    scale: float | torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    key_padding_mask: torch.Tensor | None = None,
    rows: torch.Tensor | None = None,
) -> torch.Tensor:
    """``softmax(q kᵀ · scale + mask)`` for ``q, k`` of shape ``(B, H, L, D)``, in float32.

    ``rows`` gives the positions of ``q``'s tokens in the full sequence when only some query
    tokens were kept (masks are sliced to match).
    """
    logits = (q.float() * scale) @ k.float().transpose(-2, -1)
    S = logits.shape[-1]
    positions = rows if rows is not None else torch.arange(logits.shape[-2], device=q.device)
    if is_causal:
        keys = torch.arange(S, device=logits.device)
        logits = logits.masked_fill(keys[None, :] > positions[:, None], float("-inf"))
    if attn_mask is not None:
        mask = attn_mask
        if mask.dim() == 3:  # (B*H, L, S) as nn.MultiheadAttention accepts
            mask = mask.reshape(logits.shape[0], logits.shape[1], mask.shape[-2], S)
        if rows is not None:
            mask = mask[..., rows, :]
        if mask.dtype == torch.bool:
            logits = logits.masked_fill(~mask, float("-inf"))  # SDPA: True = take part
        else:
            logits = logits + mask.float()
    if key_padding_mask is not None:
        kpm = key_padding_mask[:, None, None, :]
        if kpm.dtype == torch.bool:
            logits = logits.masked_fill(kpm, float("-inf"))  # MHA: True = ignore
        else:
            logits = logits + kpm.float()
    return logits.softmax(dim=-1)


def _timm_hooks(module: torch.nn.Module, sink: Sink, query: Any = None) -> list[Any]:
    state: dict[str, Any] = {}

    def pre(mod: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        mask = kwargs.get("attn_mask", args[1] if len(args) > 1 else None)
        state["attn_mask"] = mask
        state["is_causal"] = bool(kwargs.get("is_causal", args[2] if len(args) > 2 else False))

    def on_qkv(lin: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        B, N, _ = out.shape
        qkv = out.reshape(B, N, 3, module.num_heads, module.head_dim).permute(2, 0, 3, 1, 4)
        rows = _rows(query, N, out.device)
        q = qkv[0] if rows is None else qkv[0][:, :, rows]
        q, k = module.q_norm(q), module.k_norm(qkv[1])
        mask, causal = state.get("attn_mask"), state.get("is_causal", False)
        sink(_softmax_probs(q, k, module.scale, mask, causal, rows=rows))

    return [
        module.register_forward_pre_hook(pre, with_kwargs=True),
        module.qkv.register_forward_hook(on_qkv),
    ]


def _mha_hooks(module: torch.nn.MultiheadAttention, sink: Sink, query_sel: Any = None) -> list[Any]:
    def pre(mod: torch.nn.MultiheadAttention, args: tuple, kwargs: dict) -> None:
        names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask")
        bound = dict(zip(names, args))
        bound.update(kwargs)
        query, key = bound["query"], bound["key"]
        if not mod._qkv_same_embed_dim:
            raise NotImplementedError("attention recording needs kdim == vdim == embed_dim")
        if not mod.batch_first:
            query, key = query.transpose(0, 1), key.transpose(0, 1)
        D, H = mod.embed_dim, mod.num_heads
        w, b = mod.in_proj_weight, mod.in_proj_bias
        rows = _rows(query_sel, query.shape[1], query.device)
        if rows is not None:
            query = query[:, rows]
        q = F.linear(query, w[:D], None if b is None else b[:D])
        k = F.linear(key, w[D : 2 * D], None if b is None else b[D : 2 * D])
        B, L, _ = q.shape
        q = q.reshape(B, L, H, D // H).transpose(1, 2)
        k = k.reshape(B, k.shape[1], H, D // H).transpose(1, 2)
        mask = bound.get("attn_mask")
        if mask is not None and mask.dtype == torch.bool:
            mask = ~mask  # MHA: True = masked out; _softmax_probs: True = take part
        kpm = bound.get("key_padding_mask")
        sink(
            _softmax_probs(
                q,
                k,
                (D // H) ** -0.5,
                mask,
                bool(bound.get("is_causal", False)) and mask is None,
                kpm,
                rows=rows,
            )
        )

    return [module.register_forward_pre_hook(pre, with_kwargs=True)]


def _open_clip_attention_hooks(module: torch.nn.Module, sink: Sink, query: Any = None) -> list[Any]:
    def pre(mod: torch.nn.Module, args: tuple, kwargs: dict) -> None:
        x = args[0] if args else kwargs["x"]
        mask = kwargs.get("attn_mask", args[1] if len(args) > 1 else None)
        N, L, _ = x.shape
        q, k, _ = F.linear(x, mod.in_proj_weight, mod.in_proj_bias).chunk(3, dim=-1)
        q = q.reshape(N, L, mod.num_heads, -1).transpose(1, 2)
        k = k.reshape(N, L, mod.num_heads, -1).transpose(1, 2)
        rows = _rows(query, L, x.device)
        if rows is not None:
            q = q[:, :, rows]
        if mask is not None and mask.dtype == torch.bool:
            mask = ~mask  # open_clip Attention: True = masked out
        if mod.logit_scale is not None:
            scale = torch.clamp(mod.logit_scale.float(), max=mod.logit_scale_max).exp()
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
            sink(_softmax_probs(q, k, scale, mask, rows=rows))
        else:
            sink(_softmax_probs(mod.ln_q(q), mod.ln_k(k), mod.scale, mask, rows=rows))

    return [module.register_forward_pre_hook(pre, with_kwargs=True)]


def _kind(module: torch.nn.Module) -> str | None:
    if isinstance(module, torch.nn.MultiheadAttention):
        return "mha"
    cls = type(module)
    if cls.__module__.startswith("timm.") and cls.__name__ == "Attention":
        return "timm"
    if cls.__module__.startswith("open_clip.") and cls.__name__ == "Attention":
        return "open_clip"
    return None


def is_supported_attention(module: torch.nn.Module) -> bool:
    """Whether :func:`attention_hooks` can record ``module``'s attention probabilities."""
    return _kind(module) is not None


def attention_hooks(module: torch.nn.Module, sink: Sink, *, query: Any = None) -> list[Any]:
    """Attach read-only hooks that pass ``(B, heads, query, key)`` probabilities to ``sink``.

    ``query`` (an int, slice or sequence of ints) keeps only those query tokens, which also
    skips the work for the others. Returns the hook handles (call ``.remove()`` on each).
    """
    kind = _kind(module)
    if kind == "timm":
        return _timm_hooks(module, sink, query)
    if kind == "mha":
        return _mha_hooks(module, sink, query)  # type: ignore[arg-type]
    if kind == "open_clip":
        return _open_clip_attention_hooks(module, sink, query)
    raise NotImplementedError(
        f"recording attention from {type(module).__module__}.{type(module).__name__} is not "
        "supported (supported: timm.layers.Attention, torch.nn.MultiheadAttention, "
        "open_clip Attention)"
    )


# --------------------------------------------------------------------------- post-processing


def _check_attention_array(attn: xr.DataArray) -> None:
    need = ("stimulus", "layer", "head", "query", "key")
    if not isinstance(attn, xr.DataArray) or tuple(attn.dims) != need:
        got = getattr(attn, "dims", type(attn).__name__)
        raise ValueError(
            f"expected a DataArray with dims {need} (from Backbone.attention), got {got}"
        )


def cls_attention_maps(
    attn: xr.DataArray,
    image_size: int | tuple[int, int] | None = None,
    *,
    query: int = 0,
    renormalize: bool = False,
) -> xr.DataArray:
    """CLS-to-patch attention per head, reshaped to the patch grid and upsampled to the image.

    Parameters
    ----------
    attn : xarray.DataArray
        Output of ``Backbone.attention`` (dims ``stimulus, layer, head, query, key``) for a
        vision transformer; its ``key_kind`` coordinate and ``grid_shape`` attribute say which
        keys are patches.
    image_size : int or (int, int), optional
        Output ``(height, width)`` in pixels; bilinear upsampling. ``None`` keeps the patch grid.
    query : int
        Index of the query token (0 = the CLS token).
    renormalize : bool
        If True, rescale each map to sum to 1 over patches (the CLS token's attention to
        itself and other prefix tokens is dropped first). Otherwise the values are the raw
        attention probabilities, summing to at most 1.

    Returns
    -------
    xarray.DataArray
        Dims ``stimulus, layer, head, y, x``.

    References
    ----------
    Caron et al. (2021), arXiv:2104.14294 (per-head CLS self-attention maps of ViTs).
    """
    _check_attention_array(attn)
    if "grid_shape" not in attn.attrs or "key_kind" not in attn.coords:
        raise ValueError("attention array has no patch grid (grid_shape attr / key_kind coord)")
    gh, gw = (int(v) for v in attn.attrs["grid_shape"])
    kinds = np.asarray(attn.coords["key_kind"].values)
    patch = np.flatnonzero(kinds == "patch")
    if patch.size != gh * gw:
        raise ValueError(f"found {patch.size} patch keys, expected {gh}×{gw}")
    vals = np.asarray(attn.isel(query=query).values)[..., patch]  # (S, L, H, P)
    vals = vals.reshape(*vals.shape[:3], gh, gw)
    if renormalize:
        vals = vals / vals.sum(axis=(-2, -1), keepdims=True)
    if image_size is not None:
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        t = torch.from_numpy(np.ascontiguousarray(vals, dtype=np.float32))
        t = F.interpolate(t.reshape(-1, 1, gh, gw), size=size, mode="bilinear", align_corners=False)
        vals = t.reshape(*vals.shape[:3], *size).numpy()
    return xr.DataArray(
        vals,
        dims=("stimulus", "layer", "head", "y", "x"),
        coords={d: attn.coords[d] for d in ("stimulus", "layer", "head") if d in attn.coords},
        name="cls_attention",
        attrs={"query": int(query), "renormalized": int(renormalize), "grid_shape": [gh, gw]},
    )


def attention_rollout(
    attn: xr.DataArray, *, head_fusion: str = "mean", residual: bool = True
) -> xr.DataArray:
    """Attention rollout (Abnar & Zuidema 2020) over the layers of ``attn``, in order.

    Each layer's heads are fused (``"mean"``, ``"max"`` or ``"min"``); with ``residual`` the
    identity is added for the skip connection, ``Â = 0.5·A + 0.5·I``, and rows are
    re-normalised; the rollout is the product ``Â_L ⋯ Â_2 Â_1``, so row ``i`` gives how much
    each input token contributes to token ``i`` after the last layer.

    Parameters
    ----------
    attn : xarray.DataArray
        Dims ``stimulus, layer, head, query, key`` (``Backbone.attention`` with the layers to
        roll out, first layer first; pass all layers for the usual rollout).
    head_fusion : {"mean", "max", "min"}
        How heads are combined per layer.
    residual : bool
        Account for residual connections as in the paper.

    Returns
    -------
    xarray.DataArray
        Dims ``stimulus, query, key``; every row sums to 1.

    References
    ----------
    Abnar & Zuidema (2020), Quantifying attention flow in transformers, ACL.
    arXiv:2005.00928.
    """
    _check_attention_array(attn)
    fusions = {"mean": np.mean, "max": np.max, "min": np.min}
    if head_fusion not in fusions:
        raise ValueError(f"head_fusion must be one of {sorted(fusions)}, got {head_fusion!r}")
    a = np.asarray(attn.values, dtype=np.float64)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError("rollout needs self-attention (query and key over the same tokens)")
    fused = fusions[head_fusion](a, axis=2)  # (S, L, T, T)
    n = fused.shape[-1]
    if residual:
        fused = 0.5 * fused + 0.5 * np.eye(n)
    fused = fused / fused.sum(axis=-1, keepdims=True)
    roll = np.broadcast_to(np.eye(n), (fused.shape[0], n, n)).copy()
    for layer in range(fused.shape[1]):
        roll = fused[:, layer] @ roll
    coords = {d: attn.coords[d] for d in ("stimulus", "query", "key") if d in attn.coords}
    for name, coord in attn.coords.items():
        if name not in coords and set(coord.dims) <= {"stimulus", "query", "key"}:
            coords[name] = coord
    return xr.DataArray(
        roll,
        dims=("stimulus", "query", "key"),
        coords=coords,
        name="attention_rollout",
        attrs={**attn.attrs, "head_fusion": head_fusion, "residual": int(residual)},
    )
