"""Registry of gaze models: ``create_model(name, **kwargs)`` and ``list_models(pattern)``.

Built-in models are listed lazily in ``_BUILTIN`` (``"module:attr"``), so importing
:mod:`cogattn.gaze` costs nothing until a model is created. Third-party packages register
through ``entry_points(group="cogattn.models")``; in code, use :func:`register_model`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cogattn._registry import Registry

__all__ = ["create_model", "list_models", "register_model"]

_REGISTRY = Registry("gaze model", entry_point_group="cogattn.models")

# name -> "module:attr" of a class or factory accepting keyword arguments.
_BUILTIN: dict[str, str] = {
    "centre-bias": "cogattn.gaze.models.baselines:CentreBias",
    "random": "cogattn.gaze.models.baselines:RandomScanpath",
    "eccnet": "cogattn.gaze.models.eccnet:EccNet",
    "ivsn": "cogattn.gaze.models.eccnet:IVSN",
    "pixelmatch": "cogattn.gaze.models.search_baselines:PixelMatch",
    "chance-search": "cogattn.gaze.models.search_baselines:ChanceSearch",
    "nevaclip": "cogattn.gaze.models.nevaclip:NevaClip",
    "retinotopic-cnn": "cogattn.gaze.models.retinotopy:RetinotopicFixations",
}
for _name, _target in _BUILTIN.items():
    _REGISTRY.add(_name, _target)


def register_model(
    name: str, *, overwrite: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering a gaze-model class or factory under ``name`` (warns on re-use)."""
    return _REGISTRY.register(name, overwrite=overwrite)


def create_model(name: str, **kwargs: Any) -> Any:
    """Create a registered gaze model, e.g. ``create_model("eccnet", device="cuda")``.

    Raises
    ------
    KeyError
        For an unknown name, with close matches suggested.
    """
    return _REGISTRY.get(name)(**kwargs)


def list_models(pattern: str = "*") -> list[str]:
    """Names of registered gaze models matching a shell-style pattern."""
    return _REGISTRY.names(pattern)
