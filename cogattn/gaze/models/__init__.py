"""Gaze (scanpath) models. Create them by name with :func:`cogattn.gaze.create_model`."""

from cogattn.gaze.models.base import GazeModel

__all__ = ["GazeModel"]
