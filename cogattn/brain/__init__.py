"""Brain: fMRI encoding and decoding, RSA, noise ceilings; :mod:`cogattn.brain.aad` for auditory
attention decoding. Public names are imported lazily (no import-time work)."""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_LAZY: dict[str, str] = {}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cogattn.brain' has no attribute {name!r}")
