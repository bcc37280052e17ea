"""Simulated encoding data sets with known ground truth: content-dependent routing vs linear.

:func:`simulate_encoding_data` draws token grids (what a frozen backbone would give) and voxel
responses whose generating rule is known, so that encoders can be checked by recovery:

``mode="routing"`` — content-dependent spatial routing
    Every image holds one object of each class (one class per ROI) at a random, distinct grid
    location. An object token carries its class in a *marker* channel (value ``marker``) and
    its features in the remaining *content* channels. ROI ``k``'s voxels respond to the content
    features **at the location of object k** — a location that changes from image to image —
    through voxel-specific weights. No fixed linear map of the flattened tokens can follow the
    object, so ridge regression is limited, whereas a query that attends to marker ``k``
    (the transformer brain encoder of Adeli et al. 2025) can route the right token to the ROI.
``mode="linear"`` — purely linear, content-independent
    Same token statistics, but ROI ``k`` reads a **fixed** Gaussian receptive field (centre
    ``rf_centres[k]``, s.d. ``rf_sd`` grid cells): the response is a fixed linear function of
    the flattened tokens, which ridge regression can fit as well as any readout.

In both modes, voxels in two ROIs (``n_overlap`` per hemisphere, in the first two ROIs) sum the
two ROIs' drives, and "rest" voxels (in no ROI) read the mean content over all tokens (linear).
Each voxel's noise-free drive is z-scored over stimuli (``signal``) and Gaussian noise of s.d.
``noise_sd`` is added, so the expected Pearson r between a perfect prediction and the
responses — the noise ceiling — is ``1 / sqrt(1 + noise_sd²)`` for every voxel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import xarray as xr

from cogattn.data import responses as make_responses

__all__ = ["SimulatedEncodingData", "SimulationConfig", "simulate_encoding_data"]

MODES = ("routing", "linear")


@dataclass(frozen=True)
class SimulationConfig:
    """Sizes and noise of a simulated encoding data set.

    Parameters
    ----------
    n_stimuli : int
        Images.
    grid_shape : (int, int)
        Token grid (rows, columns).
    n_channels : int
        Token width; the first ``len(rois)`` channels are the object markers, the rest content.
    rois : tuple of str
        ROI names, one object class each.
    hemispheres : tuple of str
        Hemisphere labels; every ROI exists in each.
    voxels_per_roi : int
        Voxels per ROI per hemisphere that belong to that ROI only.
    n_overlap : int
        Voxels per hemisphere in both of the first two ROIs.
    n_rest : int
        Voxels per hemisphere in no ROI.
    noise_sd : float
        Noise s.d. relative to the unit s.d. of each voxel's signal.
    marker : float
        Marker-channel value of an object token.
    background_sd : float
        S.d. of the content channels of background tokens (object content has s.d. 1).
    rf_sd : float
        Receptive-field s.d. (grid cells) of the linear mode.
    """

    n_stimuli: int = 500
    grid_shape: tuple[int, int] = (6, 6)
    n_channels: int = 16
    rois: tuple[str, ...] = ("faces", "bodies", "places")
    hemispheres: tuple[str, ...] = ("lh", "rh")
    voxels_per_roi: int = 10
    n_overlap: int = 2
    n_rest: int = 4
    noise_sd: float = 0.5
    marker: float = 4.0
    background_sd: float = 0.5
    rf_sd: float = 0.8

    def __post_init__(self) -> None:
        n_tok = self.grid_shape[0] * self.grid_shape[1]
        if len(self.rois) < 1 or len(self.rois) > n_tok:
            raise ValueError(f"need 1 to {n_tok} ROIs (one object each), got {len(self.rois)}")
        if self.n_channels <= len(self.rois):
            raise ValueError(
                f"n_channels ({self.n_channels}) must exceed the number of ROIs ({len(self.rois)}): "
                "one marker channel per ROI plus content channels"
            )
        if self.n_overlap and len(self.rois) < 2:
            raise ValueError("overlapping voxels need at least 2 ROIs")
        if self.noise_sd < 0 or self.n_stimuli < 3:
            raise ValueError("noise_sd must be >= 0 and n_stimuli >= 3")


@dataclass(frozen=True)
class SimulatedEncodingData:
    """A simulated data set and its ground truth.

    Attributes
    ----------
    tokens : xarray.DataArray (stimulus, token, channel)
        Token grids, labelled like :meth:`cogattn.encoders.Backbone.features` output
        (``token_kind="patch"``, ``patch_row``, ``patch_col``, ``attrs["grid_shape"]``).
    responses : xarray.Dataset
        ``Responses`` (stimulus × voxel) with ROI masks and hemispheres.
    signal : numpy.ndarray (stimulus, voxel)
        Noise-free, z-scored drive of every voxel.
    read_location : xarray.DataArray (stimulus, roi) of int
        Token index each ROI reads for each image: the object location (routing) or the
        receptive-field centre (linear).
    weights : numpy.ndarray (voxel, content channel)
        Each voxel's weights on the content channels of what it reads (before z-scoring).
    noise_ceiling_r : float
        Expected Pearson r of a perfect prediction, ``1 / sqrt(1 + noise_sd²)``.
    mode : str
        ``"routing"`` or ``"linear"``.
    config : SimulationConfig
    """

    tokens: xr.DataArray
    responses: xr.Dataset
    signal: np.ndarray
    read_location: xr.DataArray
    weights: np.ndarray
    noise_ceiling_r: float
    mode: str
    config: SimulationConfig = field(repr=False)

    def flat_tokens(self) -> np.ndarray:
        """Tokens flattened to ``(stimulus, token·channel)`` features (for ridge)."""
        return self.tokens.values.reshape(self.tokens.shape[0], -1)

    def split(self, n_train: int) -> tuple[SimulatedEncodingData, SimulatedEncodingData]:
        """The first ``n_train`` stimuli and the rest, as two data sets."""
        n = self.tokens.shape[0]
        if not 0 < n_train < n:
            raise ValueError(f"n_train must lie in (0, {n}), got {n_train}")
        parts = []
        for sl in (slice(0, n_train), slice(n_train, n)):
            parts.append(
                SimulatedEncodingData(
                    tokens=self.tokens.isel(stimulus=sl),
                    responses=self.responses.isel(stimulus=sl),
                    signal=self.signal[sl],
                    read_location=self.read_location.isel(stimulus=sl),
                    weights=self.weights,
                    noise_ceiling_r=self.noise_ceiling_r,
                    mode=self.mode,
                    config=self.config,
                )
            )
        return parts[0], parts[1]


def _rf_centres(grid: tuple[int, int], k: int) -> np.ndarray:
    """``k`` distinct, spread-out receptive-field centres (token indices)."""
    h, w = grid
    cells = np.arange(h * w)
    picks = np.linspace(0, h * w - 1, k + 2)[1:-1].round().astype(int)
    # nudge duplicates (tiny grids) onto free cells
    out: list[int] = []
    for p in picks:
        while int(p) in out:
            p = (p + 1) % cells.size
        out.append(int(p))
    return np.array(out)


def simulate_encoding_data(
    mode: Literal["routing", "linear"],
    *,
    config: SimulationConfig | None = None,
    seed: int = 0,
) -> SimulatedEncodingData:
    """Simulate tokens and voxel responses with a known generating rule.

    Parameters
    ----------
    mode : {"routing", "linear"}
        Content-dependent spatial routing or a purely linear, content-independent readout
        (see the module docstring).
    config : SimulationConfig, optional
        Sizes and noise (defaults: 500 images, 6×6 grid, 16 channels, 3 ROIs × 2 hemispheres).
    seed : int
        Seed; the same seed gives the same tokens, locations and weights in both modes.

    Returns
    -------
    SimulatedEncodingData

    Examples
    --------
    >>> sim = simulate_encoding_data("routing", seed=0)
    >>> sim.tokens.dims, sim.responses.sizes["voxel"]
    (('stimulus', 'token', 'channel'), 72)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    cfg = config if config is not None else SimulationConfig()
    rng = np.random.default_rng(seed)
    n = cfg.n_stimuli
    h, w = cfg.grid_shape
    t = h * w
    k = len(cfg.rois)
    c_content = cfg.n_channels - k

    # tokens: background content, small marker noise; then one object per class per image
    tokens = np.empty((n, t, cfg.n_channels), dtype=np.float64)
    tokens[:, :, :k] = rng.normal(0.0, 0.3, size=(n, t, k))
    tokens[:, :, k:] = rng.normal(0.0, cfg.background_sd, size=(n, t, c_content))
    loc = np.stack([rng.choice(t, size=k, replace=False) for _ in range(n)])  # (n, k)
    rows = np.arange(n)
    for j in range(k):
        tokens[rows, loc[:, j], k:] = rng.normal(0.0, 1.0, size=(n, c_content))
        tokens[rows, loc[:, j], j] = cfg.marker
    content = tokens[:, :, k:]

    # what each ROI reads: (n, k, c_content)
    if mode == "routing":
        drive = np.stack([content[rows, loc[:, j]] for j in range(k)], axis=1)
        read = loc
    else:
        centres = _rf_centres(cfg.grid_shape, k)
        yy, xx = np.divmod(np.arange(t), w)
        drive = np.empty((n, k, c_content))
        for j, cidx in enumerate(centres):
            cy, cx = divmod(int(cidx), w)
            g = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * cfg.rf_sd**2))
            g /= g.sum()
            drive[:, j] = np.einsum("t,ntc->nc", g, content)
        read = np.broadcast_to(centres, (n, k)).copy()
    rest_drive = content.mean(axis=1)

    # voxels: per hemisphere, ROI-only voxels, overlap voxels (ROIs 0 and 1), rest voxels
    drives, hemi, member = [], [], []
    for hemisphere in cfg.hemispheres:
        for j in range(k):
            for _ in range(cfg.voxels_per_roi):
                drives.append(drive[:, j])
                hemi.append(hemisphere)
                member.append({j})
        for _ in range(cfg.n_overlap):
            drives.append(drive[:, 0] + drive[:, 1])
            hemi.append(hemisphere)
            member.append({0, 1})
        for _ in range(cfg.n_rest):
            drives.append(rest_drive)
            hemi.append(hemisphere)
            member.append(set())
    n_vox = len(drives)
    weights = rng.normal(0.0, 1.0, size=(n_vox, c_content))
    signal = np.stack([d @ wv for d, wv in zip(drives, weights)], axis=1)
    signal = (signal - signal.mean(0)) / signal.std(0)
    data = signal + cfg.noise_sd * rng.normal(size=signal.shape)
    rois = {name: np.array([j in m for m in member]) for j, name in enumerate(cfg.rois)}

    stim = np.array([f"sim_{i:04d}" for i in range(n)], dtype=object)
    resp = make_responses(
        data,
        stimulus=stim,
        rois=rois,
        hemisphere=np.array(hemi, dtype=object),
        source=f"cogattn.brain.simulate mode={mode} seed={seed}",
        attrs={"simulation_mode": mode, "noise_sd": float(cfg.noise_sd)},
    )
    tok = xr.DataArray(
        tokens.astype(np.float32),
        dims=("stimulus", "token", "channel"),
        coords={
            "stimulus": stim,
            "token": np.arange(t),
            "token_kind": ("token", np.array(["patch"] * t, dtype=object)),
            "patch_row": ("token", np.arange(t) // w),
            "patch_col": ("token", np.arange(t) % w),
        },
        attrs={"grid_shape": [h, w], "num_prefix_tokens": 0},
        name="tokens",
    )
    read_da = xr.DataArray(
        read.astype(np.int64),
        dims=("stimulus", "roi"),
        coords={"stimulus": stim, "roi": list(cfg.rois)},
        name="read_location",
        attrs={"meaning": "token index each ROI reads (row-major over the grid)"},
    )
    return SimulatedEncodingData(
        tokens=tok,
        responses=resp,
        signal=signal,
        read_location=read_da,
        weights=weights,
        noise_ceiling_r=float(1.0 / np.sqrt(1.0 + cfg.noise_sd**2)),
        mode=mode,
        config=cfg,
    )
