"""Transformer brain encoder: ROI queries read frozen backbone tokens by cross-attention.

:class:`TransformerBrainEncoder` re-implements the encoder of Adeli, Sun & Kriegeskorte (2025)
from the facts in the paper and its code description (see :mod:`cogattn.brain.readouts` for
the architecture): a frozen backbone gives tokens, learned queries — one per ROI per
hemisphere plus one "rest" query per hemisphere — read them through one cross-attention
decoder layer without self-attention between queries, and a shared per-voxel linear map with
ROI-membership masking predicts every voxel. The same estimator also fits the paper's two
comparison readouts (``readout="spatial_feature"``: factorised spatial × feature;
``readout="linear"``: strided conv + linear). The cross-attention weights are the *routing
maps* (:meth:`TransformerBrainEncoder.routing_maps`): for every image, where each ROI query
reads its features from — the paper's interpretability point.

Training follows the paper: MSE summed over hemispheres, AdamW (lr 5e-4, weight decay 1e-4),
batch 16, StepLR(100, γ 0.5), gradient-norm clipping at 0.1, a random 90/10 train/validation
split of the training stimuli and model selection on the mean validation Pearson r over voxels
(early stopping with ``patience``). Responses are z-scored per voxel on the training split
(undone by :meth:`~TransformerBrainEncoder.predict`); the paper trains on NSD betas that are
already z-scored per session.

Tokens can be given precomputed (``fit(tokens, responses)``), which is how tests and
hyper-parameter sweeps avoid a backbone forward pass per epoch. Accepted token forms: a
``DataArray(stimulus, token, channel)`` from :meth:`cogattn.encoders.Backbone.features`
(prefix tokens such as CLS are dropped using the ``token_kind`` coordinate; the patch grid
comes from ``attrs["grid_shape"]``), a ``DataArray(stimulus, channel, y, x)`` CNN map
(flattened row-major into ``y·x`` tokens), or a tensor / array ``(N, T, C)`` (grid from
``grid_shape=``, else a square ``T``) or ``(N, C, H, W)``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import xarray as xr
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn
from tqdm.auto import tqdm

from cogattn.brain.metrics import pearson_r
from cogattn.brain.readouts import (
    CrossAttentionReadout,
    LinearConvReadout,
    MaskedVoxelHead,
    SpatialFeatureReadout,
)

__all__ = ["EncoderConfig", "TrainingConfig", "TransformerBrainEncoder", "tokens_from_features"]

logger = logging.getLogger(__name__)

READOUTS = ("transformer", "spatial_feature", "linear")
REST = "rest"


@dataclass(frozen=True)
class EncoderConfig:
    """Architecture of the readout (defaults = the paper's values).

    Parameters
    ----------
    readout : {"transformer", "spatial_feature", "linear"}
        Cross-attention ROI queries (the paper's model), the factorised spatial × feature
        baseline, or the strided-conv linear baseline.
    d_model : int
        Decoder width (paper: 768). Must be a multiple of ``n_heads`` and of 4.
    n_heads : int
        Cross-attention heads (paper: 16).
    dim_feedforward : int
        FFN width (paper: 1024).
    dropout : float
        Dropout in attention and FFN (paper: 0.1).
    overlap : {"sum", "mean"}
        How a voxel in several ROIs combines its ROI queries' predictions (paper code: sum).
    linear_channels, linear_kernel : int
        Conv width and kernel (= stride) of the ``linear`` readout (paper: 256, 3).
    linear_penalty : float
        Weight of the Σ‖W‖ penalty of the ``linear`` readout (paper: 0.02).
    """

    readout: Literal["transformer", "spatial_feature", "linear"] = "transformer"
    d_model: int = 768
    n_heads: int = 16
    dim_feedforward: int = 1024
    dropout: float = 0.1
    overlap: Literal["sum", "mean"] = "sum"
    linear_channels: int = 256
    linear_kernel: int = 3
    linear_penalty: float = 0.02

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.overlap not in ("sum", "mean"):
            raise ValueError(f"overlap must be 'sum' or 'mean', got {self.overlap!r}")
        if self.d_model % self.n_heads or self.d_model % 4:
            raise ValueError(
                f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads}) and of 4"
            )
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    @classmethod
    def small(cls, **changes: Any) -> EncoderConfig:
        """A scaled-down configuration for CPUs and tests (d 64, 4 heads, FFN 128)."""
        base = {"d_model": 64, "n_heads": 4, "dim_feedforward": 128, "linear_channels": 32}
        base.update(changes)
        return cls(**base)


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings (defaults = the paper's values where it gives them).

    Parameters
    ----------
    lr, weight_decay : float
        AdamW settings (paper: 5e-4, 1e-4).
    batch_size : int
        Stimuli per step (paper: 16).
    max_epochs : int
        Upper bound on epochs (paper: 15).
    patience : int or None
        Stop after this many epochs without a better validation r (``None``: run all epochs).
        The weights of the best epoch are kept either way.
    grad_clip : float or None
        Max gradient norm (paper: 0.1).
    val_fraction : float
        Fraction of training stimuli held out for model selection (paper: 0.1).
    lr_step_size, lr_gamma : int, float
        StepLR schedule, per epoch (paper: 100, 0.5 — no decay within 15 epochs).
    """

    lr: float = 5e-4
    weight_decay: float = 1e-4
    batch_size: int = 16
    max_epochs: int = 15
    patience: int | None = 5
    grad_clip: float | None = 0.1
    val_fraction: float = 0.1
    lr_step_size: int = 100
    lr_gamma: float = 0.5

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("batch_size and max_epochs must be >= 1")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"val_fraction must lie in [0, 1), got {self.val_fraction}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
def tokens_from_features(
    features: Any, *, grid_shape: tuple[int, int] | None = None
) -> tuple[torch.Tensor, tuple[int, int] | None, np.ndarray | None]:
    """Normalise precomputed features to ``(N, T, C)`` float32 tokens.

    Parameters
    ----------
    features : DataArray, tensor or array
        See the module docstring for the accepted forms.
    grid_shape : (int, int), optional
        Token grid for ``(N, T, C)`` arrays (default: square ``T``, else none).

    Returns
    -------
    tokens : torch.Tensor (N, T, C)
    grid_shape : (int, int) or None
    stimulus : array of labels or None
    """
    stimulus = None
    if isinstance(features, xr.DataArray):
        if "stimulus" in features.coords:
            stimulus = np.asarray(features["stimulus"].values)
        dims = features.dims
        if set(dims) == {"stimulus", "token", "channel"}:
            da = features.transpose("stimulus", "token", "channel")
            if "token_kind" in da.coords:
                kind = np.asarray(da["token_kind"].values).astype(str)
                patch = np.flatnonzero(kind == "patch")
                if patch.size == 0:
                    raise ValueError("the token sequence has no 'patch' tokens (token_kind)")
                if patch.size < kind.size:
                    logger.info("dropping %d prefix tokens", kind.size - patch.size)
                da = da.isel(token=patch)
            if "patch_row" in da.coords and "patch_col" in da.coords:
                rows = np.asarray(da["patch_row"].values)
                cols = np.asarray(da["patch_col"].values)
                order = np.lexsort((cols, rows))
                da = da.isel(token=order)
                grid = (int(rows.max()) + 1, int(cols.max()) + 1)
            elif "grid_shape" in da.attrs:
                grid = tuple(int(g) for g in np.ravel(da.attrs["grid_shape"]))[:2]
            else:
                grid = grid_shape
            arr = torch.as_tensor(np.asarray(da.values, dtype=np.float32))
            if grid is None:
                grid = _square_grid(arr.shape[1])
            return _check_tokens(arr, grid), grid, stimulus
        if set(dims) == {"stimulus", "channel", "y", "x"}:
            da = features.transpose("stimulus", "channel", "y", "x")
            return (
                *_maps_to_tokens(torch.as_tensor(np.asarray(da.values, dtype=np.float32))),
                stimulus,
            )
        raise ValueError(
            "expected features with dims (stimulus, token, channel) or (stimulus, channel, y, x), "
            f"got {dims}"
        )
    if isinstance(features, torch.Tensor):
        arr = features.detach().cpu().to(torch.float32)
    else:
        arr = torch.as_tensor(np.asarray(features, dtype=np.float32))
    if arr.ndim == 4:
        return (*_maps_to_tokens(arr), None)
    if arr.ndim != 3:
        raise ValueError(
            f"expected tokens (N, T, C) or maps (N, C, H, W), got shape {tuple(arr.shape)}"
        )
    grid = grid_shape if grid_shape is not None else _square_grid(arr.shape[1])
    return _check_tokens(arr, grid), grid, None


def _square_grid(n_tokens: int) -> tuple[int, int] | None:
    side = round(math.sqrt(n_tokens))
    return (side, side) if side * side == n_tokens else None


def _maps_to_tokens(maps: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    n, c, h, w = maps.shape
    return _check_tokens(maps.reshape(n, c, h * w).transpose(1, 2).contiguous(), (h, w)), (h, w)


def _check_tokens(arr: torch.Tensor, grid: tuple[int, int] | None) -> torch.Tensor:
    if grid is not None and grid[0] * grid[1] != arr.shape[1]:
        raise ValueError(f"grid_shape {grid} does not hold {arr.shape[1]} tokens")
    if not torch.isfinite(arr).all():
        raise ValueError("tokens contain NaN/inf")
    return arr


def _targets(
    y: Any, roi_mask: Any, roi_names: Sequence[str] | None, hemisphere: Any
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, dict[str, Any], np.ndarray | None]:
    """(Y (N, V), roi mask (R, V), roi names, hemisphere (V,), voxel coords, stimulus labels)."""
    from cogattn.data import validate_responses

    coords: dict[str, Any] = {}
    stimulus = None
    if isinstance(y, xr.Dataset):
        ds = validate_responses(y).responses.mean_repeats()
        values = np.asarray(ds["response"].values, dtype=np.float32)
        mask = np.asarray(ds["roi_mask"].values, dtype=bool)
        names = [str(r) for r in ds["roi"].values]
        hemi = np.asarray(ds["hemisphere"].values).astype(str)
        stimulus = np.asarray(ds["stimulus"].values)
        for name, coord in ds.coords.items():
            if coord.dims == ("voxel",):
                coords[str(name)] = ("voxel", np.asarray(coord.values))
        coords["voxel"] = np.asarray(ds["voxel"].values)
    else:
        if isinstance(y, xr.DataArray):
            y = y.values
        values = np.asarray(y, dtype=np.float32)
        if values.ndim != 2:
            raise ValueError(f"expected responses of shape (stimulus, voxel), got {values.shape}")
        n_vox = values.shape[1]
        if roi_mask is None:
            mask = np.zeros((0, n_vox), dtype=bool)
            names = []
        elif isinstance(roi_mask, Mapping):
            names = [str(k) for k in roi_mask]
            mask = np.stack([np.asarray(roi_mask[k], dtype=bool) for k in roi_mask])
        else:
            mask = np.atleast_2d(np.asarray(roi_mask, dtype=bool))
            names = (
                [str(r) for r in roi_names]
                if roi_names is not None
                else [f"roi{i}" for i in range(mask.shape[0])]
            )
        if mask.shape != (len(names), n_vox):
            raise ValueError(
                f"expected an ROI mask of shape ({len(names)}, {n_vox}), got {mask.shape}"
            )
        if hemisphere is None:
            hemi = np.full(n_vox, "", dtype=object).astype(str)
        else:
            hemi = np.broadcast_to(np.asarray(hemisphere).astype(str), (n_vox,)).copy()
        coords = {"voxel": np.arange(n_vox), "hemisphere": ("voxel", hemi)}
    if REST in names:
        raise ValueError(f"an ROI may not be called {REST!r} (reserved for voxels in no ROI)")
    if not np.isfinite(values).all():
        raise ValueError("responses contain NaN/inf")
    return values, mask, names, hemi, coords, stimulus


def _align_stimuli(
    tokens: torch.Tensor, stim_x: np.ndarray | None, stim_y: np.ndarray | None, n_y: int
) -> torch.Tensor:
    """Reorder tokens to the responses' stimulus order when both are labelled."""
    if stim_x is not None and stim_y is not None and not np.array_equal(stim_x, stim_y):
        pos = {str(s): i for i, s in enumerate(stim_x)}
        missing = [str(s) for s in stim_y if str(s) not in pos]
        if missing:
            raise ValueError(f"{len(missing)} stimuli of y have no tokens in X, e.g. {missing[:3]}")
        tokens = tokens[torch.as_tensor([pos[str(s)] for s in stim_y])]
    if tokens.shape[0] != n_y:
        raise ValueError(f"X has {tokens.shape[0]} stimuli but y has {n_y}")
    return tokens


def _queries(
    mask: np.ndarray, names: list[str], hemi: np.ndarray
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """One query per (ROI, hemisphere) holding voxels, plus one 'rest' query per hemisphere."""
    queries: list[tuple[str, str]] = []
    rows: list[np.ndarray] = []
    in_any = mask.any(axis=0) if mask.size else np.zeros(hemi.shape, dtype=bool)
    for h in sorted(set(hemi.tolist())):
        in_h = hemi == h
        for r, name in enumerate(names):
            m = mask[r] & in_h
            if m.any():
                queries.append((name, h))
                rows.append(m)
        rest = in_h & ~in_any
        if rest.any():
            queries.append((REST, h))
            rows.append(rest)
    return queries, np.stack(rows)


class _Net(nn.Module):
    def __init__(
        self,
        config: EncoderConfig,
        n_channels: int,
        n_tokens: int,
        grid: tuple[int, int] | None,
        query_mask: np.ndarray,
    ) -> None:
        super().__init__()
        self.kind = config.readout
        n_queries, n_voxels = query_mask.shape
        if config.readout == "linear":
            self.readout: nn.Module = LinearConvReadout(
                n_channels,
                n_tokens,
                grid,
                n_voxels,
                conv_channels=config.linear_channels,
                kernel=config.linear_kernel,
            )
            self.head = None
        else:
            if config.readout == "transformer":
                self.readout = CrossAttentionReadout(
                    n_channels,
                    n_tokens,
                    grid,
                    n_queries,
                    d_model=config.d_model,
                    n_heads=config.n_heads,
                    dim_feedforward=config.dim_feedforward,
                    dropout=config.dropout,
                )
            else:
                self.readout = SpatialFeatureReadout(
                    n_channels, n_tokens, n_queries, d_model=config.d_model
                )
            self.head = MaskedVoxelHead(
                config.d_model, torch.as_tensor(query_mask), overlap=config.overlap
            )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            return self.readout(tokens)
        out, _ = self.readout(tokens)
        return self.head(out)

    def attention(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            raise TypeError("the 'linear' readout has no queries, hence no routing maps")
        _, weights = self.readout(tokens, return_attention=True)
        return weights


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's CPU thread count (no-op for ``None``)."""
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"num_threads must be >= 1, got {n}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


class TransformerBrainEncoder(BaseEstimator):
    """Transformer brain encoder (Adeli, Sun & Kriegeskorte 2025), scikit-learn style.

    Parameters
    ----------
    backbone : str, Backbone or None
        A registry name for :func:`cogattn.encoders.load_backbone` (e.g.
        ``"timm:vit_tiny_patch16_224"``), a loaded backbone, or ``None`` to fit from
        precomputed tokens only. The backbone stays frozen.
    layer : str, optional
        Backbone layer whose tokens are read (default: the last of ``layer_names``).
    weights : str or None
        Passed to ``load_backbone`` (``None`` = random initialisation, logged there).
    backbone_kwargs : dict, optional
        Extra arguments for ``load_backbone`` (e.g. ``{"img_size": 64, "depth": 2}``).
    config : EncoderConfig, optional
        Readout architecture (default: the paper's; :meth:`EncoderConfig.small` for CPUs).
    training : TrainingConfig, optional
        Optimisation settings (default: the paper's).
    grid_shape : (int, int), optional
        Token grid of ``(N, T, C)`` array inputs (default: square).
    device : str
        Torch device for training and inference (default ``"cpu"``).
    checkpoint_dir : path, optional
        Where to write ``checkpoint.pt`` (atomically) after every epoch.
    resume : bool
        Continue from ``checkpoint_dir/checkpoint.pt`` when it exists and matches this
        estimator and data.
    seed : int
        Seeds initialisation, the train/validation split, shuffling and dropout.
    num_threads : int, optional
        Torch CPU threads while fitting and predicting (restored afterwards). Small readouts
        on a shared CPU run several times faster with ``1`` than with many threads.
    verbose : bool
        Progress bars.

    Attributes
    ----------
    queries_ : list of (str, str)
        ``(roi, hemisphere)`` of every query (``"rest"`` = voxels in no ROI).
    query_mask_ : ndarray (n_queries, n_voxels), bool
        Which voxels each query predicts.
    grid_shape_ : (int, int) or None
        Token grid seen in ``fit``.
    n_tokens_, n_channels_ : int
        Token count and width seen in ``fit``.
    net_ : torch.nn.Module
        The trained readout (weights of the best validation epoch).
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_r``.
    best_epoch_ : int
        Epoch whose weights were kept.
    best_val_r_ : float
        Mean validation Pearson r of that epoch.
    y_mean_, y_std_ : ndarray (n_voxels,)
        Training-split response mean and sd used to z-score targets.

    References
    ----------
    Adeli H, Sun M, Kriegeskorte N (2025) Transformer brain encoders explain human high-level
    visual responses. arXiv:2505.17329.

    Examples
    --------
    >>> import numpy as np
    >>> from cogattn.brain.simulate import simulate_encoding_data
    >>> sim = simulate_encoding_data("routing", seed=0)
    >>> enc = TransformerBrainEncoder(
    ...     config=EncoderConfig.small(), training=TrainingConfig(max_epochs=2), verbose=False
    ... ).fit(sim.tokens[:100], sim.responses.isel(stimulus=slice(0, 100)))
    >>> enc.predict(sim.tokens[100:110]).shape
    (10, 72)
    """

    def __init__(
        self,
        backbone: Any = None,
        *,
        layer: str | None = None,
        weights: str | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
        config: EncoderConfig | None = None,
        training: TrainingConfig | None = None,
        grid_shape: tuple[int, int] | None = None,
        device: str = "cpu",
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = True,
        seed: int = 0,
        num_threads: int | None = None,
        verbose: bool = True,
    ) -> None:
        self.backbone = backbone
        self.layer = layer
        self.weights = weights
        self.backbone_kwargs = backbone_kwargs
        self.config = config
        self.training = training
        self.grid_shape = grid_shape
        self.device = device
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.seed = seed
        self.num_threads = num_threads
        self.verbose = verbose

    def __getstate__(self) -> dict[str, Any]:
        # the loaded backbone (hooks, large weights) is reloaded on demand, not pickled
        state = self.__dict__.copy()
        state.pop("_backbone_obj", None)
        return state

    # ---------------------------------------------------------------- inputs
    def _config(self) -> EncoderConfig:
        cfg = self.config if self.config is not None else EncoderConfig()
        if not isinstance(cfg, EncoderConfig):
            raise TypeError(f"config must be an EncoderConfig, got {type(cfg).__name__}")
        return cfg

    def _training(self) -> TrainingConfig:
        cfg = self.training if self.training is not None else TrainingConfig()
        if not isinstance(cfg, TrainingConfig):
            raise TypeError(f"training must be a TrainingConfig, got {type(cfg).__name__}")
        return cfg

    def _load_backbone(self) -> Any:
        if getattr(self, "_backbone_obj", None) is not None:
            return self._backbone_obj
        if isinstance(self.backbone, str):
            from cogattn.encoders import load_backbone

            bb = load_backbone(
                self.backbone,
                weights=self.weights,
                device=self.device,
                **(self.backbone_kwargs or {}),
            )
        else:
            bb = self.backbone
        self._backbone_obj = bb
        return bb

    def _tokens(self, X: Any) -> tuple[torch.Tensor, tuple[int, int] | None, np.ndarray | None]:
        """Tokens from precomputed features, or from images through the backbone."""
        if self.backbone is None or isinstance(X, xr.DataArray):
            return tokens_from_features(X, grid_shape=self.grid_shape)
        bb = self._load_backbone()
        layer = self.layer or bb.layer_names[-1]
        feats = bb.features(X, layers=[layer], progress=self.verbose)[layer]
        return tokens_from_features(feats, grid_shape=self.grid_shape)

    # ---------------------------------------------------------------- fit
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        roi_mask: Any = None,
        roi_names: Sequence[str] | None = None,
        hemisphere: Any = None,
        X_val: Any = None,
        y_val: Any = None,
    ) -> TransformerBrainEncoder:
        """Train the readout.

        Parameters
        ----------
        X : images or precomputed tokens
            Images (anything :meth:`Backbone.load_images` accepts) when ``backbone`` is set;
            precomputed tokens otherwise, or whenever ``X`` is a DataArray (see the module
            docstring).
        y : Responses dataset or array (stimulus, voxel)
            A ``Responses`` dataset supplies ROI masks and hemispheres (repeats are averaged).
        roi_mask : mapping name -> bool (voxel,) or bool array (roi, voxel), optional
            ROI membership for array ``y`` (ROIs may overlap).
        roi_names : sequence of str, optional
            Names of the rows of an array ``roi_mask``.
        hemisphere : str or array (voxel,), optional
            ``"lh"``/``"rh"`` per voxel for array ``y`` (default: one hemisphere group).
        X_val, y_val : optional
            An explicit validation set (otherwise ``val_fraction`` of ``X`` is held out).

        Returns
        -------
        self
        """
        with _torch_threads(self.num_threads):
            return self._fit(X, y, roi_mask, roi_names, hemisphere, X_val, y_val)

    def _fit(
        self,
        X: Any,
        y: Any,
        roi_mask: Any,
        roi_names: Sequence[str] | None,
        hemisphere: Any,
        X_val: Any,
        y_val: Any,
    ) -> TransformerBrainEncoder:
        cfg = self._config()
        tcfg = self._training()
        device = torch.device(self.device)
        tokens, grid, stim_x = self._tokens(X)
        values, mask, names, hemi, coords, stim_y = _targets(y, roi_mask, roi_names, hemisphere)
        tokens = _align_stimuli(tokens, stim_x, stim_y, values.shape[0])
        queries, query_mask = _queries(mask, names, hemi)
        n = tokens.shape[0]
        if X_val is not None:
            if y_val is None:
                raise ValueError("X_val given without y_val")
            tok_val, _, stim_xv = self._tokens(X_val)
            val_values, *_, stim_yv = _targets(y_val, roi_mask, roi_names, hemisphere)
            tok_val = _align_stimuli(tok_val, stim_xv, stim_yv, val_values.shape[0])
            tr_idx = np.arange(n)
            tok_tr, y_tr = tokens, values
            if tok_val.shape[1:] != tokens.shape[1:] or val_values.shape[1] != values.shape[1]:
                raise ValueError(
                    "the validation set must have the training set's token and voxel shapes"
                )
        else:
            split_rng = np.random.default_rng([self.seed, 1])
            n_val = round(tcfg.val_fraction * n)
            if tcfg.val_fraction > 0 and n_val < 3:
                raise ValueError(
                    f"val_fraction={tcfg.val_fraction} leaves {n_val} validation stimuli of {n}; "
                    "need at least 3 (give more stimuli, X_val/y_val, or val_fraction=0)"
                )
            perm = split_rng.permutation(n)
            val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
            tok_tr, y_tr = tokens[tr_idx], values[tr_idx]
            tok_val, val_values = tokens[val_idx], values[val_idx]
        if y_tr.shape[0] < 2:
            raise ValueError("need at least 2 training stimuli")
        y_mean = y_tr.mean(0)
        y_std = y_tr.std(0)
        constant = y_std <= 1e-12
        if constant.any():
            logger.warning(
                "%d voxels have a constant training response; they are predicted as constant",
                int(constant.sum()),
            )
            y_std = np.where(constant, 1.0, y_std)
        self.y_mean_, self.y_std_ = y_mean.astype(np.float32), y_std.astype(np.float32)
        self.queries_ = queries
        self.query_mask_ = query_mask
        self.grid_shape_ = grid
        self.n_tokens_ = int(tokens.shape[1])
        self.n_channels_ = int(tokens.shape[2])
        self.n_voxels_ = int(values.shape[1])
        self.roi_names_ = names
        self._voxel_coords = coords
        self._hemisphere = hemi

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            net = _Net(cfg, self.n_channels_, self.n_tokens_, grid, query_mask).to(device)
        z_tr = torch.as_tensor((y_tr - self.y_mean_) / self.y_std_)
        z_val = (
            torch.as_tensor((val_values - self.y_mean_) / self.y_std_) if len(val_values) else None
        )
        groups = [torch.as_tensor(np.flatnonzero(hemi == h)) for h in sorted(set(hemi.tolist()))]
        fingerprint = {
            "config": dataclasses.asdict(cfg),
            "training": {
                k: v
                for k, v in dataclasses.asdict(tcfg).items()
                if k not in ("max_epochs", "patience")
            },
            "tokens": list(tokens.shape),
            "voxels": int(values.shape[1]),
            "queries": [list(q) for q in queries],
            "seed": int(self.seed),
            "y_checksum": float(np.round(np.float64(values.sum()), 3)),
        }
        self._train(net, tok_tr, z_tr, tok_val, z_val, groups, cfg, tcfg, device, fingerprint)
        self.net_ = net.eval()
        return self

    def _checkpoint_path(self) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        path = Path(self.checkpoint_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path / "checkpoint.pt"

    def _train(
        self,
        net: _Net,
        tok_tr: torch.Tensor,
        z_tr: torch.Tensor,
        tok_val: torch.Tensor,
        z_val: torch.Tensor | None,
        groups: list[torch.Tensor],
        cfg: EncoderConfig,
        tcfg: TrainingConfig,
        device: torch.device,
        fingerprint: dict[str, Any],
    ) -> None:
        opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
        sched = torch.optim.lr_scheduler.StepLR(
            opt, step_size=tcfg.lr_step_size, gamma=tcfg.lr_gamma
        )
        history: list[dict[str, float]] = []
        best_r, best_epoch, bad, start = -math.inf, -1, 0, 0
        best_state = copy.deepcopy(net.state_dict())
        stopped = False
        ckpt_path = self._checkpoint_path()
        if ckpt_path is not None and ckpt_path.exists() and self.resume:
            ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
            if ckpt.get("fingerprint") != fingerprint:
                raise ValueError(
                    f"checkpoint {ckpt_path} was written for another configuration or data set; "
                    "use another checkpoint_dir or resume=False"
                )
            net.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            sched.load_state_dict(ckpt["scheduler"])
            history, best_r, best_epoch = ckpt["history"], ckpt["best_r"], ckpt["best_epoch"]
            bad, best_state, stopped = ckpt["bad_epochs"], ckpt["best_state"], ckpt["stopped"]
            start = ckpt["epoch"] + 1
            logger.info("resuming from %s at epoch %d", ckpt_path, start)
        n = tok_tr.shape[0]
        bs = tcfg.batch_size
        epochs = range(start, tcfg.max_epochs) if not stopped else range(0)
        bar = tqdm(epochs, desc=f"{cfg.readout} encoder", unit="epoch", disable=not self.verbose)
        for epoch in bar:
            net.train()
            order = torch.as_tensor(np.random.default_rng([self.seed, 2, epoch]).permutation(n))
            total, count = 0.0, 0
            with torch.random.fork_rng(
                devices=[] if device.type == "cpu" else [device.index or 0],
                device_type=device.type if device.type != "cpu" else "cuda",
            ):
                torch.manual_seed(self.seed * 1_000_003 + epoch)
                for i in range(0, n, bs):
                    idx = order[i : i + bs]
                    xb = tok_tr[idx].to(device)
                    yb = z_tr[idx].to(device)
                    pred = net(xb)
                    loss = sum(((pred[:, g] - yb[:, g]) ** 2).mean() for g in groups)
                    if cfg.readout == "linear" and cfg.linear_penalty:
                        loss = loss + cfg.linear_penalty * net.readout.penalty()
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if tcfg.grad_clip:
                        nn.utils.clip_grad_norm_(net.parameters(), tcfg.grad_clip)
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                    count += len(idx)
            sched.step()
            train_loss = total / count
            if z_val is not None:
                val_pred = self._forward(net, tok_val, device).numpy()
                val_r = float(np.nanmean(pearson_r(z_val.numpy(), val_pred)))
            else:
                val_r = math.nan
            history.append({"epoch": epoch, "train_loss": train_loss, "val_r": val_r})
            improved = z_val is None or val_r > best_r
            if improved:
                best_r, best_epoch, bad = val_r, epoch, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
            stopped = tcfg.patience is not None and z_val is not None and bad >= tcfg.patience
            bar.set_postfix(loss=f"{train_loss:.3f}", val_r=f"{val_r:.3f}")
            if ckpt_path is not None:
                _atomic_torch_save(
                    {
                        "model": net.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "epoch": epoch,
                        "history": history,
                        "best_r": best_r,
                        "best_epoch": best_epoch,
                        "bad_epochs": bad,
                        "best_state": best_state,
                        "stopped": stopped,
                        "fingerprint": fingerprint,
                    },
                    ckpt_path,
                )
            if stopped:
                logger.info(
                    "early stop at epoch %d (best %d, val r %.4f)", epoch, best_epoch, best_r
                )
                break
        net.load_state_dict(best_state)
        self.history_ = history
        self.best_epoch_ = int(best_epoch)
        self.best_val_r_ = float(best_r)

    @staticmethod
    def _forward(
        net: _Net, tokens: torch.Tensor, device: torch.device, batch: int = 256
    ) -> torch.Tensor:
        was_training = net.training
        net.eval()
        outs = []
        with torch.inference_mode():
            for i in range(0, tokens.shape[0], batch):
                outs.append(net(tokens[i : i + batch].to(device)).cpu())
        net.train(was_training)
        return torch.cat(outs)

    # ---------------------------------------------------------------- predict / score
    def _check_input_tokens(self, X: Any) -> tuple[torch.Tensor, np.ndarray | None]:
        check_is_fitted(self, "net_")
        tokens, _grid, stimulus = self._tokens(X)
        if tokens.shape[1:] != (self.n_tokens_, self.n_channels_):
            raise ValueError(
                f"expected tokens of shape (N, {self.n_tokens_}, {self.n_channels_}) as in fit, "
                f"got {tuple(tokens.shape)}"
            )
        return tokens, stimulus

    def predict(self, X: Any) -> xr.DataArray:
        """Predicted responses, ``DataArray(stimulus, voxel)`` in the units of ``y``.

        Parameters
        ----------
        X : images or precomputed tokens (as in :meth:`fit`)
        """
        tokens, stimulus = self._check_input_tokens(X)
        with _torch_threads(self.num_threads):
            z = self._forward(self.net_, tokens, torch.device(self.device)).numpy()
        pred = z * self.y_std_ + self.y_mean_
        coords = dict(self._voxel_coords)
        coords["stimulus"] = stimulus if stimulus is not None else np.arange(pred.shape[0])
        return xr.DataArray(pred, dims=("stimulus", "voxel"), coords=coords, name="prediction")

    def score(self, X: Any, y: Any) -> xr.DataArray:
        """Per-voxel Pearson r between predictions and ``y``, ``DataArray(voxel)``.

        Unlike scikit-learn's scalar ``score``, encoders report one value per voxel
        (average it for a scalar).
        """
        pred = self.predict(X)
        values, *_, stim_y = _targets(y, None, None, None)
        stim_x = pred["stimulus"].values
        if stim_y is not None and not np.array_equal(stim_x, stim_y):
            order = _align_stimuli(torch.arange(len(stim_x)), stim_x, stim_y, values.shape[0])
            pred = pred.isel(stimulus=order.numpy())
        if values.shape != pred.shape:
            raise ValueError(f"y has shape {values.shape}, predictions {pred.shape}")
        r = pearson_r(values, pred)
        r.name = "r"
        r.attrs = {"scoring": "Pearson r"}
        return r

    # ---------------------------------------------------------------- routing maps
    def routing_maps(self, X: Any, *, average_heads: bool = True) -> xr.DataArray:
        """Cross-attention maps of every ROI query, per stimulus.

        Parameters
        ----------
        X : images or precomputed tokens (as in :meth:`fit`)
        average_heads : bool
            Average the heads (default) or keep a ``head`` dim.

        Returns
        -------
        xarray.DataArray
            Dims ``(stimulus, [head,] roi, hemisphere, y, x)`` with a token grid, else
            ``(..., token)``; each map sums to 1 over space; NaN for (roi, hemisphere) pairs
            without a query. ``roi`` includes ``"rest"``. For ``readout="spatial_feature"`` the
            maps are the learned (content-independent) spatial maps.
        """
        tokens, stimulus = self._check_input_tokens(X)
        device = torch.device(self.device)
        chunks = []
        self.net_.eval()
        with _torch_threads(self.num_threads), torch.inference_mode():
            for i in range(0, tokens.shape[0], 128):
                w = self.net_.attention(tokens[i : i + 128].to(device)).cpu()
                chunks.append(w.mean(1, keepdim=True) if average_heads else w)
        att = torch.cat(chunks).numpy()  # (N, H, Q, T)
        rois = [*self.roi_names_, REST]
        hemis = sorted({h for _, h in self.queries_})
        n, n_heads, _, t = att.shape
        out = np.full((n, n_heads, len(rois), len(hemis), t), np.nan, dtype=np.float32)
        for q, (roi, h) in enumerate(self.queries_):
            out[:, :, rois.index(roi), hemis.index(h)] = att[:, :, q]
        spatial_dims: tuple[str, ...]
        coords: dict[str, Any] = {
            "stimulus": stimulus if stimulus is not None else np.arange(n),
            "roi": rois,
            "hemisphere": hemis,
        }
        if self.grid_shape_ is not None:
            out = out.reshape(*out.shape[:-1], *self.grid_shape_)
            spatial_dims = ("y", "x")
            coords["y"] = np.arange(self.grid_shape_[0])
            coords["x"] = np.arange(self.grid_shape_[1])
        else:
            spatial_dims = ("token",)
            coords["token"] = np.arange(t)
        dims: tuple[str, ...] = ("stimulus", "head", "roi", "hemisphere", *spatial_dims)
        da = xr.DataArray(out, dims=dims, coords=coords, name="routing")
        da.attrs["readout"] = self._config().readout
        return da.isel(head=0, drop=True) if average_heads else da
