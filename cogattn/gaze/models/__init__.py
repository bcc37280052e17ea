"""Gaze (scanpath) models. Create them by name with :func:`cogattn.gaze.create_model`."""

from typing import Any

from cogattn.gaze.models.base import GazeModel

__all__ = [
    "IVSN",
    "ChanceSearch",
    "EccNet",
    "GazeModel",
    "NevaClip",
    "PixelMatch",
    "RetinotopicCNN",
    "RetinotopicFixations",
]

# Lazy exports: model modules are imported on first access, not with the package.
_LAZY = {
    "NevaClip": "cogattn.gaze.models.nevaclip",
    "RetinotopicCNN": "cogattn.gaze.models.retinotopy",
    "RetinotopicFixations": "cogattn.gaze.models.retinotopy",
    "EccNet": "cogattn.gaze.models.eccnet",
    "IVSN": "cogattn.gaze.models.eccnet",
    "PixelMatch": "cogattn.gaze.models.search_baselines",
    "ChanceSearch": "cogattn.gaze.models.search_baselines",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
