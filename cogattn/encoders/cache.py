"""On-disk cache of backbone features and attention (zarr).

Entries are keyed by ``(backbone name, weights hash, stimulus-set hash, layer)``:

- the *weights hash* is :attr:`Backbone.weights_hash` (SHA-256 over every parameter and
  buffer), so a different checkpoint, dtype or random initialisation never reads stale data;
- the *stimulus-set hash* is a SHA-256 over the preprocessed input tensor (so it also changes
  when the preprocessing changes) and the stimulus names — for texts, over the strings;
- features are stored one entry per layer, attention one entry per (layers, query) request.

Layout: ``root/<backbone>/<weights hash>/<stimulus hash>/{features,attention}/<entry>.zarr``.
Each entry is written to a temporary directory beside it and renamed into place, so a reader
never sees a half-written entry and concurrent writers of the same entry are harmless.
A changed stimulus set gets a new hash, i.e. a new entry; old entries stay until
:meth:`FeatureCache.clear` removes them.

Example
-------
>>> cache = FeatureCache("~/.cache/cogattn/features")  # doctest: +SKIP
>>> feats = cache.features(backbone, images, layers=["blocks.11"])  # computes, stores
>>> feats = cache.features(backbone, images, layers=["blocks.11"])  # reads from disk
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import xarray as xr

from cogattn.encoders.backbone import Backbone

__all__ = ["FeatureCache"]

logger = logging.getLogger(__name__)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "_"


class FeatureCache:
    """Zarr-backed cache for :meth:`Backbone.features` and :meth:`Backbone.attention`.

    Parameters
    ----------
    root : path
        Directory holding the cache (created on first write).

    Attributes
    ----------
    hits, misses : int
        Entries read from disk / computed since this object was created.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, hits={self.hits}, misses={self.misses})"

    # ------------------------------------------------------------------ keys
    @staticmethod
    def stimulus_hash(
        backbone: Backbone, inputs: torch.Tensor | Sequence[str], names: Sequence[str]
    ) -> str:
        """SHA-256 prefix of the preprocessed inputs (or texts) and their names."""
        h = hashlib.sha256()
        if isinstance(inputs, torch.Tensor):
            t = inputs.detach().to("cpu", torch.float32).contiguous()
            h.update(f"tensor|{tuple(t.shape)}|".encode())
            h.update(t.numpy().tobytes())
        else:
            for text in inputs:
                h.update(b"text|" + text.encode() + b"\x00")
        for n in names:
            h.update(b"name|" + str(n).encode() + b"\x00")
        return h.hexdigest()[:16]

    def _dir(self, backbone: Backbone, stim_hash: str, kind: str) -> Path:
        return self.root / _safe(backbone.name) / backbone.weights_hash / stim_hash / kind

    # ------------------------------------------------------------------ io
    def _read(self, path: Path) -> xr.DataArray | None:
        if not path.is_dir():
            return None
        try:
            with xr.open_zarr(path, consolidated=True, zarr_format=2) as ds:
                da = ds["values"].load()
        except Exception as exc:  # unreadable entry: recompute rather than fail
            logger.warning("cache entry %s is unreadable (%s); recomputing", path, exc)
            return None
        da.name = da.attrs.pop("_name", da.name)
        return da

    def _write(self, path: Path, da: xr.DataArray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent))
        try:
            ds = da.to_dataset(name="values")
            ds["values"].attrs["_name"] = str(da.name)
            ds.to_zarr(tmp / "entry.zarr", mode="w-", consolidated=True, zarr_format=2)
            try:
                (tmp / "entry.zarr").rename(path)
            except OSError:
                if not path.is_dir():  # a concurrent writer got there first otherwise
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ public
    def features(
        self,
        backbone: Backbone,
        images: Any,
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        progress: bool | None = None,
    ) -> dict[str, xr.DataArray]:
        """:meth:`Backbone.features` through the cache (only missing layers are computed)."""
        names = backbone._resolve_layers(layers, attention=False)
        inputs, stim = self._inputs(backbone, images)
        folder = self._dir(backbone, self.stimulus_hash(backbone, inputs, stim), "features")
        out: dict[str, xr.DataArray] = {}
        missing = []
        for n in names:
            da = self._read(folder / f"{_safe(n)}.zarr")
            if da is None:
                missing.append(n)
            else:
                out[n] = da
        self.hits += len(names) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = backbone.features(inputs, missing, batch_size=batch_size, progress=progress)
            for n, da in fresh.items():
                da = da.assign_coords(stimulus=stim)
                self._write(folder / f"{_safe(n)}.zarr", da)
                out[n] = da
        return {n: out[n] for n in names}

    def attention(
        self,
        backbone: Backbone,
        images: Any,
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        query: int | slice | Sequence[int] | None = None,
        progress: bool | None = None,
    ) -> xr.DataArray:
        """:meth:`Backbone.attention` through the cache (one entry per layers/query request)."""
        inputs, stim = self._inputs(backbone, images)
        texts = not isinstance(inputs, torch.Tensor)
        names = (
            list(backbone.text_attention_layer_names)  # type: ignore[attr-defined]
            if texts and layers is None and hasattr(backbone, "text_attention_layer_names")
            else (
                [layers]
                if isinstance(layers, str)
                else (list(layers) if layers is not None else list(backbone.attention_layer_names))
            )
        )
        req = hashlib.sha256(repr((names, repr(query))).encode()).hexdigest()[:12]
        folder = self._dir(backbone, self.stimulus_hash(backbone, inputs, stim), "attention")
        path = folder / f"{req}.zarr"
        da = self._read(path)
        if da is not None:
            self.hits += 1
            return da
        self.misses += 1
        da = backbone.attention(
            inputs if not texts else list(inputs),
            names,
            batch_size=batch_size,
            query=query,
            progress=progress,
        )
        if not texts:
            da = da.assign_coords(stimulus=stim)
        self._write(path, da)
        return da

    def _inputs(self, backbone: Backbone, images: Any) -> tuple[Any, list[str]]:
        if isinstance(images, str) and not Path(images).exists():
            return [images], [images]
        if (
            isinstance(images, (list, tuple))
            and images
            and all(isinstance(t, str) and not Path(t).exists() for t in images)
        ):
            return list(images), list(images)
        names = backbone.stimulus_names(images)
        return backbone.load_images(images), names

    def clear(self, backbone: Backbone | None = None) -> None:
        """Remove every entry (or those of one backbone name)."""
        target = self.root / _safe(backbone.name) if backbone is not None else self.root
        if target.exists():
            shutil.rmtree(target)

    def entries(self) -> list[Path]:
        """Paths of the stored entries."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.rglob("*.zarr") if ".tmp" not in p.parent.name)
