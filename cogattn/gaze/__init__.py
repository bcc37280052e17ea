"""Gaze: scanpath models, scanpath and saliency metrics, search-efficiency analysis.

Models are created by name (:func:`create_model`, :func:`list_models`); metrics live in
:mod:`cogattn.gaze.metrics`; :func:`compare` and :func:`human_consistency` score model and
human scanpaths against human ones.
"""

from cogattn.gaze.compare import compare, human_consistency
from cogattn.gaze.registry import create_model, list_models, register_model

__all__ = ["compare", "create_model", "human_consistency", "list_models", "register_model"]
