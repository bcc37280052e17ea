"""cogattn's own check suite, next to scikit-learn's ``check_estimator``.

Each ``check_*`` function raises ``AssertionError`` with a message saying what is wrong.
:func:`check_gaze_model` runs every gaze-model check; brain estimators add theirs here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "check_encoder_scores_per_target",
    "check_gaze_model",
    "check_gaze_model_log_density_normalised",
    "check_scanpath_model_sample_shape",
]


def _tiny_images(rng: np.random.Generator, shape: tuple[int, int] = (40, 56)) -> list[np.ndarray]:
    return [rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8) for _ in range(2)]


def check_scanpath_model_sample_shape(
    model: Any, *, images: list[np.ndarray] | None = None, n_fixations: int = 3, task: Any = None
) -> None:
    """``predict`` returns a valid Scanpaths dataset: one trial per image, at most
    ``n_fixations`` fixations, coordinates inside the image."""
    from cogattn.data import validate_scanpaths

    images = images or _tiny_images(np.random.default_rng(0))
    ds = model.predict(images, n_fixations=n_fixations, task=task)
    validate_scanpaths(ds)
    assert ds.sizes["trial"] == len(images), (
        f"expected {len(images)} trials, got {ds.sizes['trial']}"
    )
    assert (ds["length"].values >= 1).all(), "every scanpath needs at least one fixation"
    assert (ds["length"].values <= n_fixations).all(), (
        f"scanpaths longer than n_fixations={n_fixations}"
    )
    for i, img in enumerate(images):
        assert (
            ds["image_width"].values[i] == img.shape[1]
            and ds["image_height"].values[i] == img.shape[0]
        ), "image size coords must match the stimulus"


def check_gaze_model_log_density_normalised(model: Any, *, image: np.ndarray | None = None) -> None:
    """For models with a density: ``logsumexp`` of the conditional log-density is 0 per image,
    with and without a fixation history."""
    from scipy.special import logsumexp

    if not getattr(model, "has_density", False):
        return
    image = image if image is not None else _tiny_images(np.random.default_rng(1))[0]
    h, w = image.shape[:2]
    for xs, ys in (([], []), ([w / 2], [h / 2]), ([1.0, w - 1.0], [1.0, h - 1.0])):
        log_density = model.conditional_log_density(image, xs, ys)
        assert log_density.shape == (h, w), (
            f"density shape {log_density.shape} != image shape {(h, w)}"
        )
        total = logsumexp(log_density)
        assert abs(total) < 1e-6, f"log-density not normalised: logsumexp = {total}"


def check_gaze_model(model: Any, **kwargs: Any) -> None:
    """Run every gaze-model check on ``model``."""
    check_scanpath_model_sample_shape(model, **kwargs)
    check_gaze_model_log_density_normalised(model)


def check_encoder_scores_per_target(
    estimator: Any, *, X: Any = None, Y: Any = None, seed: int = 0
) -> None:
    """An encoder's ``score(X, Y)`` gives one finite score per target (voxel), permuting the
    targets permutes the scores, and a labelled Responses target gives a ``voxel`` DataArray.

    ``X`` (samples × features) and ``Y`` (samples × targets) default to a small linear problem.
    """
    from sklearn.base import clone

    rng = np.random.default_rng(seed)
    if X is None or Y is None:
        X = rng.standard_normal((40, 7))
        Y = X @ rng.standard_normal((7, 5)) + 0.5 * rng.standard_normal((40, 5))
    X, Y = np.asarray(X), np.asarray(Y)
    n_targets = Y.shape[1]
    scores = np.asarray(clone(estimator).fit(X, Y).score(X, Y))
    assert scores.shape == (n_targets,), (
        f"score must return one value per target: expected shape ({n_targets},), got {scores.shape}"
    )
    assert np.isfinite(scores).all(), f"non-finite scores: {scores}"
    perm = rng.permutation(n_targets)
    permuted = np.asarray(clone(estimator).fit(X, Y[:, perm]).score(X, Y[:, perm]))
    np.testing.assert_allclose(
        permuted, scores[perm], rtol=1e-4, atol=1e-6, err_msg="scores do not follow the targets"
    )
    from cogattn.data import responses

    ds = responses(Y, hemisphere="lh")
    labelled = clone(estimator).fit(X, ds).score(X, ds)
    assert getattr(labelled, "dims", None) == ("voxel",), (
        f"fitted on a Responses dataset, score must return a DataArray over 'voxel', got "
        f"{type(labelled).__name__} {getattr(labelled, 'dims', '')}"
    )
    np.testing.assert_allclose(np.asarray(labelled), scores, rtol=1e-4, atol=1e-6)
