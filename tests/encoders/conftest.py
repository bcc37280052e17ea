"""Tiny random-weight backbones shared by the encoder tests (module-scoped: built once)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cogattn.encoders import load_backbone


@pytest.fixture(scope="session")
def vit():
    """timm ViT-Tiny at 64 px with 2 blocks: 4×4 patches + CLS, 3 heads, width 192."""
    torch.manual_seed(0)
    return load_backbone("timm:vit_tiny_patch16_224", img_size=64, depth=2)


@pytest.fixture(scope="session")
def resnet():
    """timm ResNet-18 preprocessing to 64 px."""
    torch.manual_seed(0)
    return load_backbone("timm:resnet18", input_size=64)


@pytest.fixture(scope="session")
def clip_vit():
    """open_clip tiny ViT config shipped with cogattn (64 px, 2+2 blocks)."""
    torch.manual_seed(0)
    return load_backbone("open_clip:cogattn-test-vit")


@pytest.fixture(scope="session")
def images():
    """Five random RGB images of a size no model uses natively (preprocessing must resize)."""
    return np.random.default_rng(7).integers(0, 256, size=(5, 72, 88, 3), dtype=np.uint8)
