"""Gaze: scanpath models, scanpath and saliency metrics, search-efficiency analysis.

Models are created by name (:func:`create_model`, :func:`list_models`); metrics live in
:mod:`cogattn.gaze.metrics`.
"""

from cogattn.gaze.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
