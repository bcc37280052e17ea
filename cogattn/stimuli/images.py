"""Turn the many ways users hold images (paths, PIL images, arrays) into one form."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["as_image_list", "load_image"]


def load_image(item: Any) -> np.ndarray:
    """Return one image as an ``(H, W, 3)`` uint8 array.

    Accepts a path, a PIL image, or an array ``(H, W)``, ``(H, W, 1|3|4)`` (uint8, or float in
    [0, 1]). Grey images are repeated to RGB; alpha is dropped.
    """
    if isinstance(item, (str, os.PathLike)):
        from PIL import Image

        path = Path(item)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {str(path)!r}")
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    if hasattr(item, "convert") and hasattr(item, "size"):  # PIL image
        return np.asarray(item.convert("RGB"))
    arr = np.asarray(item)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {arr.shape}"
        )
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    arr = arr[..., :3]
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("image contains NaN or inf")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            raise ValueError(f"float images must lie in [0, 1], got range [{lo:g}, {hi:g}]")
        return np.round(arr * 255).astype(np.uint8)
    if arr.dtype.kind in "iu":
        if arr.min() < 0 or arr.max() > 255:
            raise ValueError(
                f"integer images must lie in [0, 255], got range [{arr.min()}, {arr.max()}]"
            )
        return arr.astype(np.uint8)
    raise ValueError(f"unsupported image dtype {arr.dtype}")


def as_image_list(stimuli: Any) -> tuple[list[np.ndarray], list[str]]:
    """Normalise stimuli to a list of ``(H, W, 3)`` uint8 arrays and a list of names.

    ``stimuli`` may be one image (path, PIL image, ``(H, W[, C])`` array), a batch array
    ``(N, H, W, C)``, or a sequence of images. Names are file names for paths and
    ``"image_<i>"`` otherwise.
    """
    if isinstance(stimuli, np.ndarray) and stimuli.ndim == 4:
        items: Sequence[Any] = list(stimuli)
    elif (
        isinstance(stimuli, (str, os.PathLike))
        or hasattr(stimuli, "convert")
        or (isinstance(stimuli, np.ndarray) and stimuli.ndim in (2, 3))
    ):
        items = [stimuli]
    else:
        items = list(stimuli)
    images = [load_image(item) for item in items]
    names = [
        Path(item).name if isinstance(item, (str, os.PathLike)) else f"image_{i}"
        for i, item in enumerate(items)
    ]
    return images, names
