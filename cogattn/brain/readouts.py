"""Torch readouts from frozen backbone tokens to voxels (Adeli, Sun & Kriegeskorte 2025).

Three readouts share one token input ``(batch, n_tokens, n_channels)`` and one per-voxel
output head:

``"transformer"`` (:class:`CrossAttentionReadout`)
    Learned queries — one per ROI per hemisphere plus one "rest" query per hemisphere for the
    voxels in no ROI — read the tokens through **one** cross-attention decoder layer with
    **no self-attention between the queries** (DETR decoder layer, pre-norm: cross-attention
    and FFN with residuals, then a final LayerNorm). The decoder input starts at zeros; the
    learned query embedding is added to the queries (DETR ``query_pos``); keys are
    ``tokens + 2-D sine positional encoding``, values are the tokens.
``"spatial_feature"`` (:class:`SpatialFeatureReadout`)
    The factorised baseline: each query owns a learned softmax map over token positions
    (content-independent) and reads the map-weighted average token.
``"linear"`` (:class:`LinearConvReadout`)
    A strided convolution (kernel = stride, 256 channels in the paper) over the token grid,
    flattened, then one linear map to every voxel, trained with a weight-norm penalty.

Per-voxel head (:class:`MaskedVoxelHead`): one linear map ``d_model → n_voxels`` is applied to
every query output, and voxel ``v`` is predicted as ``Σ_q mask[q, v] · (w_v · t_q + b_v)``
with ``mask[q, v] = 1`` when ``v`` belongs to the query's ROI in the query's hemisphere (rest
query: ``v`` in no ROI). A voxel in several ROIs sums the predictions of those ROIs' queries
(``overlap="sum"``, the paper's code) or averages them (``overlap="mean"``). The paper uses one
``nn.Linear`` per hemisphere; one weight row per voxel with the hemisphere-specific mask is
the same parameterisation.

Deviation from the paper, for any backbone width: tokens always pass through a learned linear
projection to ``d_model`` (the paper feeds 768-d DINOv2 tokens unprojected and uses a 1×1 conv
for ResNets), followed by the LayerNorm that DETR's pre-norm encoder applies to the memory.

References
----------
Adeli H, Sun M, Kriegeskorte N (2025) Transformer brain encoders explain human high-level
visual responses. arXiv:2505.17329 (NeurIPS 2025). Carion N et al. (2020) End-to-end object
detection with transformers (DETR), ECCV.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "CrossAttentionReadout",
    "LinearConvReadout",
    "MaskedVoxelHead",
    "SpatialFeatureReadout",
    "sine_position_encoding",
]


def sine_position_encoding(
    grid_shape: tuple[int, int] | None, n_tokens: int, d_model: int, *, temperature: float = 1e4
) -> torch.Tensor:
    """2-D sine positional encoding (DETR ``PositionEmbeddingSine``, ``normalize=True``).

    Half of the ``d_model`` features encode the row, half the column, each as interleaved
    sin/cos of the position normalised to ``(0, 2π]``. Without a grid (``grid_shape=None``)
    the tokens are treated as one row.

    Returns
    -------
    torch.Tensor, shape (n_tokens, d_model)
    """
    if d_model % 4:
        raise ValueError(f"d_model must be a multiple of 4 for 2-D sine encodings, got {d_model}")
    h, w = grid_shape if grid_shape is not None else (1, n_tokens)
    if h * w != n_tokens:
        raise ValueError(f"grid {h}x{w} does not hold {n_tokens} tokens")
    eps = 1e-6
    scale = 2 * math.pi
    y = torch.arange(1, h + 1, dtype=torch.float32)[:, None].expand(h, w)
    x = torch.arange(1, w + 1, dtype=torch.float32)[None, :].expand(h, w)
    y = y / (h + eps) * scale
    x = x / (w + eps) * scale
    n_feats = d_model // 2
    dim_t = torch.arange(n_feats, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / n_feats)
    px = x[..., None] / dim_t
    py = y[..., None] / dim_t
    px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), dim=-1).flatten(-2)
    py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), dim=-1).flatten(-2)
    return torch.cat((py, px), dim=-1).reshape(n_tokens, d_model)


class MaskedVoxelHead(nn.Module):
    """Shared per-voxel linear readout of query outputs with ROI-membership masking.

    Parameters
    ----------
    d_model : int
        Width of the query outputs.
    mask : torch.Tensor (n_queries, n_voxels), bool
        ``mask[q, v]``: query ``q`` predicts voxel ``v``. Every voxel needs at least one query.
    overlap : {"sum", "mean"}
        How the predictions of several queries for one voxel combine.
    """

    def __init__(self, d_model: int, mask: torch.Tensor, *, overlap: str = "sum") -> None:
        super().__init__()
        if overlap not in ("sum", "mean"):
            raise ValueError(f"overlap must be 'sum' or 'mean', got {overlap!r}")
        mask = mask.to(torch.float32)
        counts = mask.sum(0)
        if (counts == 0).any():
            raise ValueError(f"{int((counts == 0).sum())} voxels have no query")
        if overlap == "mean":
            mask = mask / counts
        self.register_buffer("mask", mask)
        n_voxels = mask.shape[1]
        self.weight = nn.Parameter(torch.empty(n_voxels, d_model))
        self.bias = nn.Parameter(torch.zeros(n_voxels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # as nn.Linear
        bound = 1 / math.sqrt(d_model)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """``(batch, n_queries, d_model)`` → ``(batch, n_voxels)``."""
        # Σ_q m[q,v] (w_v · t_q + b_v) = w_v · (Σ_q m[q,v] t_q) + b_v Σ_q m[q,v]
        pooled = torch.einsum("bqd,qv->bvd", queries, self.mask)
        return (pooled * self.weight).sum(-1) + self.bias * self.mask.sum(0)


class _MemoryProjection(nn.Module):
    """Tokens → ``d_model`` (learned linear projection) → LayerNorm (DETR pre-norm memory)."""

    def __init__(self, n_channels: int, d_model: int) -> None:
        super().__init__()
        self.proj = nn.Linear(n_channels, d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(tokens))


class CrossAttentionReadout(nn.Module):
    """ROI queries + one cross-attention decoder layer without query self-attention.

    Parameters
    ----------
    n_channels : int
        Token width of the backbone layer.
    n_tokens : int
        Number of tokens per image.
    grid_shape : (int, int) or None
        Token grid (rows, columns) for the positional encoding.
    n_queries : int
        Number of learned queries.
    d_model, n_heads, dim_feedforward, dropout : int, int, int, float
        Decoder width, attention heads, FFN width and dropout (paper: 768, 16, 1024, 0.1).
    """

    def __init__(
        self,
        n_channels: int,
        n_tokens: int,
        grid_shape: tuple[int, int] | None,
        n_queries: int,
        *,
        d_model: int,
        n_heads: int,
        dim_feedforward: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.memory = _MemoryProjection(n_channels, d_model)
        self.register_buffer("pos", sine_position_encoding(grid_shape, n_tokens, d_model))
        self.query_embed = nn.Embedding(n_queries, d_model)
        self.norm_attn = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.dropout_attn = nn.Dropout(dropout)
        self.norm_ffn = nn.LayerNorm(d_model)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, dim_feedforward),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )
        self.dropout_ffn = nn.Dropout(dropout)
        self.norm_out = nn.LayerNorm(d_model)

    def forward(
        self, tokens: torch.Tensor, *, return_attention: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, T, C)`` → query outputs ``(B, Q, d_model)`` and optionally the attention
        weights ``(B, heads, Q, T)`` (post-softmax)."""
        memory = self.memory(tokens)
        b = tokens.shape[0]
        query_pos = self.query_embed.weight[None].expand(b, -1, -1)
        tgt = torch.zeros_like(query_pos)
        q = self.norm_attn(tgt) + query_pos
        out, weights = self.attn(
            q,
            memory + self.pos,
            memory,
            need_weights=return_attention,
            average_attn_weights=False,
        )
        tgt = tgt + self.dropout_attn(out)
        tgt = tgt + self.dropout_ffn(self.ffn(self.norm_ffn(tgt)))
        return self.norm_out(tgt), weights


class SpatialFeatureReadout(nn.Module):
    """Factorised spatial × feature readout: a learned softmax map over tokens per query."""

    def __init__(self, n_channels: int, n_tokens: int, n_queries: int, *, d_model: int) -> None:
        super().__init__()
        self.memory = _MemoryProjection(n_channels, d_model)
        self.spatial_logits = nn.Parameter(torch.zeros(n_queries, n_tokens))

    def forward(
        self, tokens: torch.Tensor, *, return_attention: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, T, C)`` → ``(B, Q, d_model)`` and optionally the maps ``(B, 1, Q, T)``."""
        memory = self.memory(tokens)
        maps = torch.softmax(self.spatial_logits, dim=-1)
        out = torch.einsum("qt,btd->bqd", maps, memory)
        weights = maps[None, None].expand(tokens.shape[0], 1, -1, -1) if return_attention else None
        return out, weights


class LinearConvReadout(nn.Module):
    """Strided conv over the token grid → flatten → linear map to every voxel.

    Parameters
    ----------
    n_channels, n_tokens : int
        Token width and count.
    grid_shape : (int, int) or None
        Token grid; ``None`` treats the tokens as one row.
    n_voxels : int
        Outputs.
    conv_channels, kernel : int
        Conv width and kernel size (= stride); paper: 256 and 3.
    """

    def __init__(
        self,
        n_channels: int,
        n_tokens: int,
        grid_shape: tuple[int, int] | None,
        n_voxels: int,
        *,
        conv_channels: int,
        kernel: int,
    ) -> None:
        super().__init__()
        h, w = grid_shape if grid_shape is not None else (1, n_tokens)
        self.grid = (h, w)
        kh, kw = min(kernel, h), min(kernel, w)
        self.conv = nn.Conv2d(n_channels, conv_channels, (kh, kw), stride=(kh, kw))
        n_flat = conv_channels * (h // kh) * (w // kw)
        self.linear = nn.Linear(n_flat, n_voxels)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, T, C)`` → ``(B, n_voxels)``."""
        b, _, c = tokens.shape
        grid = tokens.transpose(1, 2).reshape(b, c, *self.grid)
        return self.linear(self.conv(grid).flatten(1))

    def penalty(self) -> torch.Tensor:
        """Σ of the Frobenius norms of the weight matrices (the paper's ‖W‖ term)."""
        return self.conv.weight.norm() + self.linear.weight.norm()
