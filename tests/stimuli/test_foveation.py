"""NeVA foveation: fidelity at the fixation, blur in the periphery, memory, gradients, coordinates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from cogattn.stimuli.foveation import (
    FoveationConfig,
    Foveator,
    fovea_mask,
    foveate,
    gaussian_blur,
    pixels_to_rc,
    rc_to_pixels,
    update_memory,
)


@pytest.fixture
def image(rng):
    return torch.as_tensor(rng.random((2, 3, 48, 56)), dtype=torch.float64)


def test_blur_matches_scipy_reference(image):
    # scipy's gaussian_filter with mode="mirror" is reflection padding without edge repetition
    # (torch's "reflect"); truncate=20/10 gives the same 41-tap kernel.
    cfg = FoveationConfig(blur_kernel_px=21, blur_sigma_px=4.0)
    ours = gaussian_blur(image, kernel_px=cfg.blur_kernel_px, sigma_px=cfg.blur_sigma_px).numpy()
    ref = gaussian_filter(image.numpy(), sigma=(0, 0, 4.0, 4.0), mode="mirror", truncate=10 / 4)
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_foveation_intact_at_fixation_blurred_in_periphery(image):
    cfg = FoveationConfig(blur_kernel_px=21, blur_sigma_px=4.0)
    xy = np.array([[20.5, 10.5], [40.5, 30.5]])  # pixel centres (x, y)
    rc = torch.as_tensor(pixels_to_rc(xy, width_px=56, height_px=48))
    out = foveate(image, rc, config=cfg)
    blurred = gaussian_blur(image, kernel_px=21, sigma_px=4.0)
    for b, (x, y) in enumerate(xy.astype(int)):
        # mask = 1 at the fixation pixel: the image is untouched there
        np.testing.assert_allclose(out[b, :, y, x], image[b, :, y, x], atol=1e-12)
    # the far corner (distance > 1.4 normalised units, mask < exp(-10)) is the blurred image
    np.testing.assert_allclose(out[0, :, -1, -1], blurred[0, :, -1, -1], atol=1e-4)
    np.testing.assert_allclose(out[1, :, 0, 0], blurred[1, :, 0, 0], atol=1e-4)
    # hand-worked blend weight half-way: gate = 1 - exp(-d^2 / sigma_f)
    rc0 = rc[0].numpy()
    cols = np.linspace(-1, 1, 56)
    d2 = (cols[5] - rc0[1]) ** 2 + (-1 - rc0[0]) ** 2
    gate = 1 - np.exp(-d2 / 0.2)
    expected = image[0, :, 0, 5] + gate * (blurred[0, :, 0, 5] - image[0, :, 0, 5])
    np.testing.assert_allclose(out[0, :, 0, 5], expected, atol=1e-12)


def test_memory_keeps_previous_fixation_sharp(image):
    cfg = FoveationConfig(blur_kernel_px=21, blur_sigma_px=4.0, forgetting=0.5)
    fov = Foveator(image, cfg)
    first = torch.tensor([[-0.8, -0.8], [-0.8, -0.8]], dtype=torch.float64)
    fov.fixate(first)
    out = fov(torch.tensor([[0.8, 0.8], [0.8, 0.8]], dtype=torch.float64))
    np.testing.assert_allclose(
        out[:, :, 4, 4], image[:, :, 4, 4], atol=0.02
    )  # near the old fixation
    # forgetting: R <- 0.5 R + g
    second = torch.zeros(2, 2, dtype=torch.float64)
    mem = update_memory(fov.memory, second, (48, 56), cfg)
    expected = 0.5 * fovea_mask(first, (48, 56), cfg) + fovea_mask(second, (48, 56), cfg)
    torch.testing.assert_close(mem, expected)


def test_gradient_wrt_fixation_is_finite(image):
    rc = torch.tensor([[0.1, -0.2], [0.3, 0.4]], dtype=torch.float64, requires_grad=True)
    out = foveate(image, rc, config=FoveationConfig(blur_kernel_px=21, blur_sigma_px=4.0))
    out.pow(2).sum().backward()
    assert torch.isfinite(rc.grad).all() and (rc.grad.abs() > 0).all()


def test_gradient_matches_finite_differences(image):
    cfg = FoveationConfig(blur_kernel_px=21, blur_sigma_px=4.0)
    w = torch.as_tensor(np.random.default_rng(3).random(image.shape))

    def f(rc):
        return (foveate(image, rc, config=cfg) * w).sum()

    rc = torch.tensor([[0.1, -0.2], [0.3, 0.4]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (rc,), eps=1e-6, atol=1e-5)


def test_rc_pixel_conversion_hand_worked():
    # -1 is the first pixel's centre, +1 the last one's, 0 the image centre
    rc = np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [-1.0, 1.0]])
    xy = rc_to_pixels(rc, width_px=224, height_px=100)
    np.testing.assert_allclose(xy, [[0.5, 0.5], [223.5, 99.5], [112.0, 50.0], [223.5, 0.5]])
    np.testing.assert_allclose(pixels_to_rc(xy, width_px=224, height_px=100), rc)
    # the mask peaks at the pixel the conversion names
    mask = fovea_mask(
        torch.as_tensor(pixels_to_rc([[30.5, 70.5]], width_px=224, height_px=100)), (100, 224)
    )
    assert np.unravel_index(int(mask[0].argmax()), (100, 224)) == (70, 30)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="odd"):
        FoveationConfig(blur_kernel_px=40)
    with pytest.raises(ValueError, match="too small"):
        gaussian_blur(torch.zeros(1, 3, 10, 10), kernel_px=41, sigma_px=10)
    with pytest.raises(ValueError, match="fixation_rc"):
        foveate(
            torch.zeros(2, 3, 30, 30), torch.zeros(3, 2), config=FoveationConfig(blur_kernel_px=5)
        )
