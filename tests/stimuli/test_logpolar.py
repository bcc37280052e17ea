"""Log-polar grids: geometry (rotation = column shift, zoom = row shift), translation, inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cogattn.stimuli.logpolar import (
    LogPolarConfig,
    cartesian_grid,
    inverse_logpolar,
    logpolar_grid,
    logpolar_transform,
    normalised_to_pixels,
    pixels_to_normalised,
    rows_per_octave,
)


def test_default_grid_matches_spec():
    # spec §3a: radii logspace(0, -5, 224, base 2), angles linspace(0, 2pi, 225)[:-1]
    grid = logpolar_grid().double()
    rs = 2.0 ** np.linspace(0, -5, 224)
    ts = np.linspace(0, 2 * np.pi, 225)[:-1]
    np.testing.assert_allclose(grid[..., 0], np.outer(rs, np.cos(ts)), atol=1e-6)
    np.testing.assert_allclose(grid[..., 1], np.outer(rs, np.sin(ts)), atol=1e-6)
    assert grid.shape == (224, 224, 2)


def test_grid_rotation_is_column_shift_and_scaling_is_row_shift():
    cfg = LogPolarConfig(n_radii=51, n_angles=36)
    grid = logpolar_grid(cfg, dtype=torch.float64)
    k = 5
    a = 2 * math.pi * k / cfg.n_angles
    rot = torch.tensor(
        [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64
    )
    rotated = grid @ rot.T
    torch.testing.assert_close(rotated, torch.roll(grid, shifts=-k, dims=1))
    assert rows_per_octave(cfg) == 10
    torch.testing.assert_close(grid[:-10] / 2, grid[10:])


def _smooth_image(size, zoom=1.0):
    # analytic, low-frequency image f(x, y) evaluated at pixel centres (normalised units);
    # `zoom` renders f(x / zoom, y / zoom), i.e. the image magnified about its centre.
    u = (np.arange(size) + 0.5) / size * 2 - 1
    x, y = np.meshgrid(u / zoom, u / zoom)
    r = np.hypot(x, y)
    channels = [
        3 * (x**3 - 3 * x * y**2) * np.exp(-(r**2)),  # r^3 cos(3θ): smooth
        np.sin(2.0 * x) * np.cos(1.5 * y),
        np.exp(-((x - 0.2) ** 2 + (y + 0.1) ** 2) / 0.3),
    ]
    return torch.as_tensor(np.stack(channels)[None], dtype=torch.float64)


def test_image_rotation_by_90_degrees_is_quarter_column_shift(rng):
    cfg = LogPolarConfig(n_radii=20, n_angles=32)
    img = torch.as_tensor(rng.random((1, 3, 40, 40)))
    rotated = torch.rot90(img, k=1, dims=(-2, -1))  # counter-clockwise on screen
    lp = logpolar_transform(img, cfg)
    lp_rot = logpolar_transform(rotated, cfg)
    # rot90: new(x, y) = old(-y, x) in centred coords, so new(r, θ) = old(r, θ + 90°)
    torch.testing.assert_close(lp_rot, torch.roll(lp, shifts=-8, dims=-1))
    assert not torch.allclose(lp_rot, lp, atol=1e-3)


def test_image_zoom_is_row_shift():
    cfg = LogPolarConfig(n_radii=51, n_angles=48, log2_r_max=-0.5, log2_r_min=-5.5)
    img = _smooth_image(256)
    zoomed = _smooth_image(256, zoom=2.0)  # magnified x2: new(r) = old(r / 2)
    lp, lp_zoom = logpolar_transform(img, cfg), logpolar_transform(zoomed, cfg)
    np.testing.assert_allclose(lp_zoom[..., :-10, :], lp[..., 10:, :], atol=2e-3)
    assert np.abs((lp_zoom - lp).numpy()).max() > 0.1  # the unshifted views differ


def test_translation_to_fixation(rng):
    cfg = LogPolarConfig(n_radii=16, n_angles=24, log2_r_max=-2)
    img = torch.as_tensor(rng.random((2, 3, 64, 64)))
    centre_px = np.array([[16.0, 48.0], [40.0, 24.0]])
    centre = pixels_to_normalised(centre_px, width_px=64, height_px=64)
    np.testing.assert_allclose(normalised_to_pixels(centre, width_px=64, height_px=64), centre_px)
    lp = logpolar_transform(img, cfg, centre_xy=centre)
    # the same view, computed by shifting the image so the fixation lands on the centre
    shifted = torch.stack(
        [torch.roll(img[0], (-16, 16), (-2, -1)), torch.roll(img[1], (8, -8), (-2, -1))]
    )
    torch.testing.assert_close(lp, logpolar_transform(shifted, cfg))


def test_inverse_mapping_recovers_smooth_image():
    cfg = LogPolarConfig(n_radii=128, n_angles=256)
    img = _smooth_image(64)
    back = inverse_logpolar(logpolar_transform(img, cfg), (64, 64), cfg)
    grid = cartesian_grid((64, 64), dtype=torch.float64)
    r = grid.pow(2).sum(-1).sqrt()
    inside = (r > 0.1) & (r < 0.95)
    np.testing.assert_allclose(back[0][:, inside], img[0][:, inside], atol=0.02)
    assert torch.isnan(back[0][:, r > 1.01]).all()  # outside the sampled disc


def test_bad_config_raises():
    with pytest.raises(ValueError, match="log2_r_min"):
        LogPolarConfig(log2_r_max=-5, log2_r_min=0)
    with pytest.raises(ValueError, match="centre_xy"):
        logpolar_transform(torch.zeros(1, 3, 8, 8), LogPolarConfig(8, 8), centre_xy=[[0, 0, 0]])
