"""Sweep every registered gaze model through cogattn's check suite at a tiny size."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.gaze import create_model, list_models
from cogattn.gaze.models.nevaclip import NevaClipConfig
from cogattn.gaze.models.retinotopy import LikelihoodConfig
from cogattn.stimuli.logpolar import LogPolarConfig
from cogattn.testing.checks import check_gaze_model

# Keyword arguments that make each registered model tiny and offline (random weights).
# Every new registered model adds an entry here; the sweep fails for a model without one.
TINY_KWARGS: dict[str, dict] = {
    "centre-bias": {},
    "random": {},
    "eccnet": {"backbone": "tiny-vgg"},
    "ivsn": {"backbone": "tiny-vgg"},
    "pixelmatch": {},
    "chance-search": {},
    "nevaclip": {
        "backbone": "open_clip:cogattn-test-vit",
        "weights": None,
        "config": NevaClipConfig(n_iterations=2),
    },
    "retinotopic-cnn": {
        "backbone": "timm:test_resnet",
        "n_classes": 2,
        "input_size_px": 32,
        "logpolar": LogPolarConfig(n_radii=16, n_angles=16),
        "likelihood": LikelihoodConfig(resolution=3),
    },
}
# Extra predict() arguments a model needs (e.g. a search target).
PREDICT_KWARGS: dict[str, dict] = {
    # search models need a target image (here a 12x10 grey patch)
    **{
        name: {"task": np.full((12, 10, 3), 90, dtype=np.uint8)}
        for name in ("eccnet", "ivsn", "pixelmatch", "chance-search")
    },
}


@pytest.mark.parametrize("name", list_models())
def test_registered_model_passes_checks(name):
    assert name in TINY_KWARGS, f"add a tiny configuration for {name!r} to TINY_KWARGS"
    model = create_model(name, **TINY_KWARGS[name])
    check_gaze_model(model, **PREDICT_KWARGS.get(name, {}))


def test_unknown_model_suggests_close_match():
    with pytest.raises(KeyError, match="centre-bias"):
        create_model("centre-bais")


def test_baseline_densities_are_exact():
    import numpy as np

    img = np.zeros((10, 20, 3), dtype=np.uint8)
    uniform = create_model("random").conditional_log_density(img)
    np.testing.assert_allclose(uniform, np.full((10, 20), -np.log(200)))
    centre = create_model("centre-bias", sigma_frac=0.25).conditional_log_density(img)
    assert np.unravel_index(np.argmax(centre), centre.shape) in {(4, 9), (4, 10), (5, 9), (5, 10)}
    np.testing.assert_allclose(centre, centre[::-1, ::-1])  # symmetric about the centre
