"""Backbone registry: ``load_backbone``, ``register_backbone``, ``list_backbones``.

Names are ``"<family>:<model>"`` (``"timm:vit_small_patch16_224"``, ``"open_clip:ViT-B-32"``,
``"hf:/path/to/model"``). A family registers one factory under its prefix; a single fully
qualified name can also be registered (it wins over its family's factory). Third-party
packages add families through the ``cogattn.backbones`` entry-point group.

A factory is called as ``factory(model_name, weights=..., device=..., dtype=...,
**model_kwargs)`` and returns a :class:`~cogattn.encoders.backbone.Backbone`.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Callable
from typing import Any

import torch

from cogattn._registry import Registry
from cogattn.encoders.backbone import Backbone, UnknownBackboneError

__all__ = ["UnknownBackboneError", "list_backbones", "load_backbone", "register_backbone"]

_FAMILIES = Registry("backbone family", entry_point_group="cogattn.backbones")
_FAMILIES.add("timm", "cogattn.encoders.timm_backbone:create_timm_backbone")
_FAMILIES.add("open_clip", "cogattn.encoders.open_clip_backbone:create_open_clip_backbone")
_FAMILIES.add("hf", "cogattn.encoders.hf_backbone:create_hf_backbone")
_NAMED = Registry("backbone")


def register_backbone(
    prefix_or_name: str, factory: Callable[..., Backbone] | str, *, overwrite: bool = False
) -> None:
    """Register a backbone family (``"myfamily"``) or one named backbone (``"myfamily:net"``).

    Parameters
    ----------
    prefix_or_name : str
        A family prefix (no colon) — the factory receives the part after the colon — or a
        full name with a colon — the factory receives that name's model part.
    factory : callable or "module:attr" string
        ``factory(model_name, *, weights, device, dtype, **model_kwargs) -> Backbone``.
    overwrite : bool
        Replace an existing entry without the re-registration warning.
    """
    if not isinstance(prefix_or_name, str) or not prefix_or_name:
        raise TypeError("prefix_or_name must be a non-empty string")
    target = _NAMED if ":" in prefix_or_name else _FAMILIES
    target.add(prefix_or_name, factory, overwrite=overwrite)


def _split(name: str) -> tuple[str, str]:
    if not isinstance(name, str) or ":" not in name:
        families = ", ".join(f"'{f}:'" for f in _FAMILIES.names())
        raise UnknownBackboneError(
            f"backbone names look like '<family>:<model>' (families: {families}), got {name!r}"
        )
    family, _, model = name.partition(":")
    return family, model


def load_backbone(
    name: str,
    *,
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    **model_kwargs: Any,
) -> Backbone:
    """Create a shared backbone by name.

    Parameters
    ----------
    name : str
        ``"timm:<model>"``, ``"open_clip:<model>"``, ``"hf:<local dir or hub name>"`` or a
        registered name. Unknown names raise :class:`UnknownBackboneError` with close matches.
    weights : None, "hub" or path
        ``None``: random initialisation (logged at INFO). ``"hub"``: the library's own
        pretrained weights (``"hub:<tag>"`` picks an open_clip tag); offline without a cached
        copy this fails within seconds with instructions. A path: a local checkpoint file or
        directory, loaded strictly.
    device : str or torch.device
        Where the model runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    dtype : torch.dtype, optional
        Cast the weights (``torch.bfloat16`` halves memory; on CPUs with AMX — Intel Sapphire
        Rapids and later — bf16 matmuls also run faster). Outputs are returned as float32.
    **model_kwargs
        Passed to the library's constructor (timm: ``img_size``, ``depth``…).

    Returns
    -------
    Backbone
    """
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be None, 'hub' or a path, got {type(weights).__name__}")
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype such as torch.bfloat16, got {dtype!r}")
    kwargs = dict(weights=weights, device=device, dtype=dtype, **model_kwargs)
    if isinstance(name, str) and name in _NAMED:
        return _NAMED.get(name)(_split(name)[1], **kwargs)
    family, model = _split(name)
    if family not in _FAMILIES:
        close = difflib.get_close_matches(family, _FAMILIES.names(), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(f'{c!r}' for c in close)}?" if close else ""
        raise UnknownBackboneError(
            f"unknown backbone family {family!r} in {name!r}{hint} "
            f"(families: {', '.join(_FAMILIES.names())}; register more with register_backbone)"
        )
    if not model:
        raise UnknownBackboneError(f"no model name after {family + ':'!r}")
    return _FAMILIES.get(family)(model, **kwargs)


def list_backbones(pattern: str = "*") -> list[str]:
    """Registered backbone families and named backbones, plus timm / open_clip model names.

    Parameters
    ----------
    pattern : str
        Shell-style pattern over full names, e.g. ``"timm:vit_*"``, ``"open_clip:*"``,
        ``"*resnet*"``. Families appear as ``"<family>:"``; ``hf:`` accepts any local
        directory or hub name, so its models are not listed.
    """
    names = [f"{f}:" for f in _FAMILIES.names()] + _NAMED.names()
    family = pattern.split(":", 1)[0] if ":" in pattern else None
    if family in (None, "timm", "*") or fnmatch.fnmatch("timm", family or "*"):
        import timm

        names += [f"timm:{m}" for m in timm.list_models()]
    if family in (None, "open_clip", "*") or fnmatch.fnmatch("open_clip", family or "*"):
        import open_clip

        from cogattn.encoders.open_clip_backbone import register_cogattn_configs

        register_cogattn_configs()
        names += [f"open_clip:{m}" for m in open_clip.list_models()]
    return sorted({n for n in names if fnmatch.fnmatch(n, pattern)})
