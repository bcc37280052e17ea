"""Training-diet hook: a tiny CNN learns a tiny synthetic set; the result plugs into eccNET."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cogattn.gaze.diet import DietConfig, rotate_images, train_diet
from cogattn.gaze.models.eccnet import EccNet, tiny_vgg
from cogattn.stimuli.search_arrays import object_array


class _TinyClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = tiny_vgg(seed=1).features
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _bars(rng: np.random.Generator, n: int) -> tuple[list[np.ndarray], np.ndarray]:
    images, labels = [], []
    for i in range(n):
        img = rng.integers(0, 40, size=(32, 32, 3), dtype=np.uint8)
        pos = int(rng.integers(4, 28))
        if i % 2:
            img[:, pos - 2 : pos + 2] = 255  # vertical bar: class 1
        else:
            img[pos - 2 : pos + 2, :] = 255  # horizontal bar: class 0
        images.append(img)
        labels.append(i % 2)
    return images, np.array(labels)


def test_rotate_images_quarter_turn():
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    img[0, 5] = 255  # top-right corner
    (out,) = rotate_images([img])
    assert out.shape == (6, 4, 3) and out[0, 0, 0] == 255  # counter-clockwise: -> top-left


def test_diet_training_reduces_loss_and_feeds_eccnet(rng, tmp_path):
    images, labels = _bars(rng, 48)
    result = train_diet(
        _TinyClassifier(),
        images,
        labels,
        transform=rotate_images,  # the rotated diet: horizontal <-> vertical
        config=DietConfig(epochs=6, batch_size=16, lr=1e-2, image_size_px=32),
        checkpoint=tmp_path / "diet.pt",
        progress=False,
    )
    assert len(result.losses) == 6
    assert result.losses[-1] < 0.8 * result.losses[0]
    assert result.checkpoint.is_file()
    state = torch.load(result.checkpoint, weights_only=True)
    assert set(state) == set(result.model.state_dict())
    # the trained network is a VGG-shaped backbone for eccNET
    disp = object_array(
        [np.full((6, 6, 3), v, np.uint8) for v in (30, 220)], target_index=1, image_size_px=(32, 32)
    )
    ds = EccNet(result.model).search(disp, progress=False)
    assert ds.sizes["trial"] == 1


def test_diet_rejects_bad_labels():
    img = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="one integer label per image"):
        train_diet(_TinyClassifier(), [img, img], [0], progress=False)
    with pytest.raises(ValueError, match=">= 0"):
        train_diet(_TinyClassifier(), [img], [-1], progress=False)
