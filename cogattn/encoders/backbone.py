"""The :class:`Backbone` wrapper shared by every family (timm, open_clip, Hugging Face).

A backbone holds a frozen torch module in eval mode, its preprocessing, and named layers.
Features and attention are recorded with read-only forward hooks on named submodules, so the
model runs its own (fused) code path; the forward pass stops as soon as everything asked for
has been recorded.

Conventions
-----------
- A *layer name* is the ``named_modules()`` path of a submodule of :attr:`Backbone.model`
  (``"blocks.3"`` for a timm ViT, ``"layer2"`` for a ResNet, ``"visual.transformer.resblocks.0"``
  for open_clip). :attr:`Backbone.layer_names` lists the documented ones; any other submodule
  path also works for :meth:`Backbone.features`.
- Feature maps are ``DataArray(stimulus, channel, y, x)``; token sequences are
  ``DataArray(stimulus, token, channel)`` with a ``token_kind`` coordinate (``"cls"``,
  ``"reg0"``, ``"dist"``… for prefix tokens, ``"patch"`` for patches), ``patch_row`` /
  ``patch_col`` coordinates (−1 for prefix tokens) and the patch grid in ``attrs["grid_shape"]``.
- Attention is ``DataArray(stimulus, layer, head, query, key)``, post-softmax probabilities
  per head, computed in float32 (see :mod:`cogattn.encoders.attention`).
- :meth:`features`, :meth:`attention` and ``embed_*`` run under ``torch.inference_mode`` and
  return float32 numpy-backed arrays. The ``*_torch`` methods keep the autograd graph so that
  gradients with respect to the input image can be taken.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from cogattn.encoders import attention as _attn
from cogattn.encoders import weights as _weights

__all__ = ["Backbone", "InputSpec", "TokenLayout", "UnknownBackboneError"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputSpec:
    """The input contract of a backbone.

    Parameters
    ----------
    input_size : (int, int)
        ``(height, width)`` in pixels of the preprocessed image.
    mean, std : tuple of 3 floats
        Per-channel normalisation applied after scaling pixels to [0, 1].
    interpolation : str
        Resize interpolation of the model's own transform.
    fixed_size : bool
        Whether the model only accepts ``input_size`` (e.g. ViTs with learned position
        embeddings) or any size (CNNs).
    """

    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    fixed_size: bool = True


@dataclass(frozen=True)
class TokenLayout:
    """Which tokens of a vision transformer's sequence are prefix tokens and which are patches.

    Parameters
    ----------
    prefix : tuple of str
        Names of the tokens before the patches (``("cls",)``, ``("cls", "dist")``…).
    grid : (int, int)
        Patch grid ``(rows, cols)``; patches follow the prefix in row-major order.
    """

    prefix: tuple[str, ...]
    grid: tuple[int, int]

    @property
    def n_tokens(self) -> int:
        """Total sequence length."""
        return len(self.prefix) + self.grid[0] * self.grid[1]

    def coords(self) -> dict[str, np.ndarray]:
        """``token_kind``, ``patch_row``, ``patch_col`` per token."""
        n_p = len(self.prefix)
        rows, cols = np.divmod(np.arange(self.grid[0] * self.grid[1]), self.grid[1])
        kind = np.array([*self.prefix, *(["patch"] * rows.size)], dtype=object).astype(str)
        return {
            "token_kind": kind,
            "patch_row": np.concatenate([np.full(n_p, -1), rows]),
            "patch_col": np.concatenate([np.full(n_p, -1), cols]),
        }


class UnknownBackboneError(ValueError, KeyError):
    """An unknown backbone name (both a ``ValueError`` and a ``KeyError``), with close matches."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class _StopForward(Exception):
    """Raised from a hook once everything requested has been recorded."""


def _suggest(name: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else ""


def _is_image_like_sequence(images: Any) -> bool:
    return not isinstance(images, (str, os.PathLike, np.ndarray, torch.Tensor)) and not hasattr(
        images, "convert"
    )


class Backbone:
    """A frozen vision (and possibly text) model with named layers and its preprocessing.

    Create one with :func:`cogattn.encoders.load_backbone`. Subclasses set the family-specific
    parts: how to run the image model (:meth:`_forward_images`), the token layout, the
    pooled image embedding and, for CLIP models, the text tower.

    Attributes
    ----------
    name : str
        Full registry name, e.g. ``"timm:vit_small_patch16_224"``.
    model : torch.nn.Module
        The wrapped module, in eval mode, parameters frozen (``requires_grad=False``). Call
        ``backbone.model.requires_grad_(True)`` to fine-tune.
    device : torch.device
    dtype : torch.dtype
        Dtype of the weights (inputs are cast to it).
    input_spec : InputSpec
    preprocess : callable
        The model's own transform: PIL image → normalised ``(3, H, W)`` float tensor.
    weights : str
        Where the weights came from: ``"random"``, ``"hub"`` or the checkpoint path.
    """

    family = "base"
    _any_submodule = True  # features() also accepts any submodule path

    def __init__(
        self,
        *,
        name: str,
        model: torch.nn.Module,
        device: str | torch.device,
        dtype: torch.dtype | None,
        input_spec: InputSpec | None,
        preprocess: Callable[[Any], torch.Tensor] | None,
        layers: Sequence[str],
        attention_layers: dict[str, str] | None = None,
        weights: str = "random",
    ) -> None:
        self.name = name
        self.device = torch.device(device)
        model = model.to(device=self.device)
        if dtype is not None:
            model = model.to(dtype=dtype)
        model.eval().requires_grad_(False)
        self.model = model
        self.dtype = next(iter(model.parameters())).dtype if dtype is None else dtype
        self.input_spec = input_spec
        self.preprocess = preprocess
        self._layers = tuple(layers)
        self._attention_layers = dict(attention_layers or {})
        self.weights = weights
        self._weights_hash: str | None = None
        self._modules = dict(model.named_modules())

    # ------------------------------------------------------------------ description
    @property
    def layer_names(self) -> tuple[str, ...]:
        """Documented layer names, in forward order (see the module docstring)."""
        return self._layers

    @property
    def attention_layer_names(self) -> tuple[str, ...]:
        """Layers whose attention :meth:`attention` can record (a subset of the blocks)."""
        return tuple(self._attention_layers)

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the preprocessed image."""
        return self.input_spec.input_size

    @property
    def mean(self) -> tuple[float, float, float]:
        """Per-channel normalisation mean."""
        return self.input_spec.mean

    @property
    def std(self) -> tuple[float, float, float]:
        """Per-channel normalisation standard deviation."""
        return self.input_spec.std

    @property
    def weights_hash(self) -> str:
        """SHA-256 prefix of all parameters and buffers (computed once, on first use)."""
        if self._weights_hash is None:
            self._weights_hash = _weights.state_dict_hash(self.model)
        return self._weights_hash

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, weights={self.weights!r}, "
            f"device={str(self.device)!r}, dtype={self.dtype}, n_layers={len(self._layers)})"
        )

    def save_weights(self, path: str | os.PathLike) -> Path:
        """Write the weights to a ``.safetensors`` file (atomic).

        ``load_backbone(self.name, weights=path, **same_model_kwargs)`` restores them
        bit-exactly.
        """
        return _weights.save_weights(self.model, path)

    # ------------------------------------------------------------------ inputs
    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable ``(x - mean) / std`` for ``(N, 3, H, W)`` images scaled to [0, 1]."""
        mean = torch.as_tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.as_tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def _check_tensor(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                f"expected a preprocessed image batch of shape (N, 3, H, W), got {tuple(x.shape)}; "
                "pass raw images (paths, PIL images, (H, W, 3) arrays) to have them preprocessed"
            )
        if not x.is_floating_point():
            raise TypeError(
                f"expected a float tensor (normalised with the backbone's mean/std), got {x.dtype}; "
                "pass uint8 images as numpy arrays or PIL images to have them preprocessed"
            )
        if self.input_spec.fixed_size and tuple(x.shape[-2:]) != tuple(self.input_size):
            raise ValueError(
                f"{self.name} expects images of {self.input_size[0]}×{self.input_size[1]} px, "
                f"got {x.shape[-2]}×{x.shape[-1]}; use backbone.load_images(...) to resize"
            )
        return x

    def _iter_batches(
        self,
        images: Any,
        batch_size: int,
        *,
        progress: bool | None,
        desc: str,
    ) -> Iterator[tuple[torch.Tensor, list[str]]]:
        from cogattn.stimuli.images import as_image_list

        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(images, torch.Tensor):
            x = self._check_tensor(images)
            n = x.shape[0]

            def get(start: int) -> tuple[torch.Tensor, list[str]]:
                stop = min(start + batch_size, n)
                return x[start:stop], [f"image_{i}" for i in range(start, stop)]
        else:
            if isinstance(images, np.ndarray) and images.ndim == 4:
                items: list[Any] = list(images)
            elif _is_image_like_sequence(images):
                items = list(images)
            else:
                items = [images]
            n = len(items)

            def get(start: int) -> tuple[torch.Tensor, list[str]]:
                chunk = items[start : start + batch_size]
                arrays, names = as_image_list(chunk)
                names = [
                    nm if isinstance(it, (str, os.PathLike)) else f"image_{start + i}"
                    for i, (nm, it) in enumerate(zip(names, chunk))
                ]
                return self._preprocess_arrays(arrays), names

        if n == 0:
            raise ValueError("no images given")
        starts = range(0, n, batch_size)
        show = (len(starts) >= 4) if progress is None else progress
        for start in tqdm(starts, desc=desc, disable=not show, leave=False):
            yield get(start)

    def _preprocess_arrays(self, arrays: Sequence[np.ndarray]) -> torch.Tensor:
        from PIL import Image

        return torch.stack([self.preprocess(Image.fromarray(a)) for a in arrays])

    def load_images(self, images: Any) -> torch.Tensor:
        """Preprocess images into a ``(N, 3, H, W)`` float32 tensor on CPU.

        Parameters
        ----------
        images : path, PIL image, array, sequence of those, or tensor
            Paths, PIL images, ``(H, W[, C])`` uint8 / [0, 1] float arrays, an ``(N, H, W, C)``
            batch array, or an already preprocessed ``(N, 3, H, W)`` tensor (checked, returned
            as is).
        """
        if isinstance(images, torch.Tensor):
            return self._check_tensor(images)
        batches = [x for x, _ in self._iter_batches(images, 256, progress=False, desc="")]
        return torch.cat(batches)

    def stimulus_names(self, images: Any) -> list[str]:
        """The ``stimulus`` coordinate :meth:`features` would give these images."""
        if isinstance(images, torch.Tensor):
            return [f"image_{i}" for i in range(images.shape[0])]
        if (isinstance(images, np.ndarray) and images.ndim == 4) or _is_image_like_sequence(images):
            items = list(images)
        else:
            items = [images]
        return [
            Path(it).name if isinstance(it, (str, os.PathLike)) else f"image_{i}"
            for i, it in enumerate(items)
        ]

    # ------------------------------------------------------------------ recording
    def _resolve_layers(self, layers: str | Sequence[str] | None, *, attention: bool) -> list[str]:
        valid = self.attention_layer_names if attention else self._layers
        if layers is None:
            if not valid:
                raise ValueError(
                    f"{self.name} has no "
                    + ("attention layers" if attention else "documented layers")
                    + " (attention is recorded from transformer blocks only)"
                )
            return list(valid)
        names = [layers] if isinstance(layers, str) else list(layers)
        if not names:
            raise ValueError("layers is empty; pass None for all layers")
        for nm in names:
            if not isinstance(nm, str):
                raise TypeError(f"layer names are strings, got {nm!r}")
            ok = nm in valid or (
                not attention and self._any_submodule and nm in self._modules and nm != ""
            )
            if not ok:
                what = "attention layer" if attention else "layer"
                raise ValueError(
                    f"unknown {what} {nm!r} for {self.name}{_suggest(nm, valid)} "
                    f"(valid: {', '.join(valid) if valid else 'none'}"
                    + (
                        "; any submodule path of backbone.model also works"
                        if self._any_submodule and not attention
                        else ""
                    )
                    + ")"
                )
        if len(set(names)) != len(names):
            raise ValueError(f"layers contains duplicates: {names}")
        return names

    def _fix_layout(self, layer: str, out: torch.Tensor) -> torch.Tensor:
        """Bring a recorded output to batch-first layout (overridden where needed)."""
        return out

    @contextlib.contextmanager
    def _hooks(
        self,
        layers: Sequence[str],
        attention_layers: Sequence[str],
        *,
        keep_graph: bool,
        stop_early: bool,
        attn_map: dict[str, str] | None = None,
        query: Any = None,
    ) -> Iterator[dict[str, dict[str, torch.Tensor]]]:
        attn_map = self._attention_layers if attn_map is None else attn_map
        feats: dict[str, torch.Tensor] = {}
        attns: dict[str, torch.Tensor] = {}
        pending = {("f", n) for n in layers} | {("a", n) for n in attention_layers}
        handles: list[Any] = []

        def done(key: tuple[str, str]) -> None:
            pending.discard(key)
            if stop_early and not pending:
                raise _StopForward

        def store(t: torch.Tensor) -> torch.Tensor:
            return t if keep_graph else t.detach().to("cpu", torch.float32, copy=True)

        def feat_hook(name: str) -> Callable[..., None]:
            def hook(mod: torch.nn.Module, args: Any, out: Any) -> None:
                if name in feats:
                    return
                t = out[0] if isinstance(out, (tuple, list)) else out
                feats[name] = store(self._fix_layout(name, t))
                done(("f", name))

            return hook

        def attn_sink(name: str) -> Callable[[torch.Tensor], None]:
            def sink(p: torch.Tensor) -> None:
                if name in attns:
                    return
                attns[name] = store(p)
                done(("a", name))

            return sink

        try:
            for name in layers:
                handles.append(self._modules[name].register_forward_hook(feat_hook(name)))
            for name in attention_layers:
                module = self._modules[attn_map[name]]
                handles.extend(_attn.attention_hooks(module, attn_sink(name), query=query))
            yield {"features": feats, "attention": attns}
        finally:
            for h in handles:
                h.remove()

    @contextlib.contextmanager
    def recording(
        self,
        layers: str | Sequence[str] | None = (),
        attention_layers: str | Sequence[str] | None = (),
    ) -> Iterator[dict[str, dict[str, torch.Tensor]]]:
        """Record layer outputs and attention during forward passes you run yourself.

        Yields ``{"features": {layer: tensor}, "attention": {layer: (B, H, Q, K) tensor}}``,
        filled by the first forward pass inside the block. Tensors keep the autograd graph.
        The model's own outputs are unchanged (hooks only read tensors).

        Examples
        --------
        >>> with bb.recording(attention_layers="blocks.0") as rec:  # doctest: +SKIP
        ...     logits = bb.model(x)
        >>> rec["attention"]["blocks.0"].shape  # doctest: +SKIP
        """
        lyr = [] if layers == () else self._resolve_layers(layers, attention=False)
        att = (
            [] if attention_layers == () else self._resolve_layers(attention_layers, attention=True)
        )
        with self._hooks(lyr, att, keep_graph=True, stop_early=False) as rec:
            yield rec

    def _forward_images(self, x: torch.Tensor) -> Any:
        """Run the image model on a preprocessed batch (family specific)."""
        return self.model(x)

    def _run(
        self,
        x: torch.Tensor,
        layers: Sequence[str],
        attention_layers: Sequence[str] = (),
        *,
        keep_graph: bool = False,
        forward: Callable[[torch.Tensor], Any] | None = None,
        attn_map: dict[str, str] | None = None,
        query: Any = None,
    ) -> dict[str, dict[str, torch.Tensor]]:
        """Run ``forward`` (default: the image model) with hooks, stopping once all is recorded."""
        if forward is None:
            forward = self._forward_images
            x = x.to(device=self.device, dtype=self.dtype)
        with (
            self._hooks(
                layers,
                attention_layers,
                keep_graph=keep_graph,
                stop_early=True,
                attn_map=attn_map,
                query=query,
            ) as rec,
            contextlib.suppress(_StopForward),
        ):
            forward(x)
        missing = [n for n in layers if n not in rec["features"]]
        missing += [n for n in attention_layers if n not in rec["attention"]]
        if missing:
            raise RuntimeError(f"layers {missing} were not reached by {self.name}'s forward pass")
        return rec

    # ------------------------------------------------------------------ differentiable path
    def torch_forward(
        self, x: torch.Tensor, layers: str | Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Layer outputs for a preprocessed batch, keeping the autograd graph.

        Parameters
        ----------
        x : torch.Tensor
            ``(N, 3, H, W)`` model input (already normalised: see :meth:`normalize`), on any
            device; it is moved to :attr:`device` and cast to :attr:`dtype` differentiably.
        layers : str or sequence of str, optional
            Layer names (default: all :attr:`layer_names`).

        Returns
        -------
        dict of str to torch.Tensor
            Raw outputs (``(N, C, H, W)`` maps or ``(N, T, C)`` tokens) in the model dtype.
            Not run under ``inference_mode``; wrap in ``torch.no_grad()`` if no graph is needed.
        """
        names = self._resolve_layers(layers, attention=False)
        return self._run(self._check_tensor(x), names, keep_graph=True)["features"]

    def embed_image_torch(self, x: torch.Tensor, *, normalize: bool = True) -> torch.Tensor:
        """Pooled image embedding ``(N, D)`` keeping the autograd graph (see :meth:`embed_image`)."""
        x = self._check_tensor(x).to(device=self.device, dtype=self.dtype)
        emb = self._embed_images_torch(x)
        return torch.nn.functional.normalize(emb, dim=-1) if normalize else emb

    def _embed_images_torch(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no image embedding")

    def embed_text_torch(
        self, texts: str | Sequence[str], *, normalize: bool = True
    ) -> torch.Tensor:
        """Text embedding ``(N, D)`` keeping the autograd graph (CLIP-style models only)."""
        raise TypeError(
            f"{self.name} has no text tower (embed_text needs an open_clip or hf: model)"
        )

    @property
    def tokenizer(self) -> Any:
        """The text tokenizer (CLIP-style and Hugging Face models only)."""
        raise TypeError(f"{self.name} has no text tower, hence no tokenizer")

    # ------------------------------------------------------------------ labelled outputs
    def token_layout(self, image_hw: tuple[int, int]) -> TokenLayout | None:
        """Prefix / patch layout of the token sequence for an input of ``image_hw`` pixels."""
        return None

    def _to_dataarray(
        self, layer: str, values: np.ndarray, stimuli: list[str], image_hw: tuple[int, int]
    ) -> xr.DataArray:
        attrs: dict[str, Any] = {
            "backbone": self.name,
            "layer": layer,
            "weights": self.weights,
            "input_size": list(image_hw),
        }
        if values.ndim == 4:
            return xr.DataArray(
                values,
                dims=("stimulus", "channel", "y", "x"),
                coords={"stimulus": stimuli},
                name=layer,
                attrs=attrs,
            )
        if values.ndim == 3:
            coords: dict[str, Any] = {"stimulus": stimuli, "token": np.arange(values.shape[1])}
            layout = self.token_layout(image_hw)
            if layout is not None and layout.n_tokens == values.shape[1]:
                coords.update({k: ("token", v) for k, v in layout.coords().items()})
                attrs.update(grid_shape=list(layout.grid), num_prefix_tokens=len(layout.prefix))
            return xr.DataArray(
                values,
                dims=("stimulus", "token", "channel"),
                coords=coords,
                name=layer,
                attrs=attrs,
            )
        if values.ndim == 2:
            return xr.DataArray(
                values,
                dims=("stimulus", "channel"),
                coords={"stimulus": stimuli},
                name=layer,
                attrs=attrs,
            )
        dims = ("stimulus", *[f"dim_{i}" for i in range(1, values.ndim)])
        return xr.DataArray(
            values, dims=dims, coords={"stimulus": stimuli}, name=layer, attrs=attrs
        )

    def features(
        self,
        images: Any,
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        progress: bool | None = None,
    ) -> dict[str, xr.DataArray]:
        """Layer outputs for a set of images, as labelled arrays.

        Parameters
        ----------
        images : paths, PIL images, arrays or a preprocessed tensor
            See :meth:`load_images`.
        layers : str or sequence of str, optional
            Layer names (default: all :attr:`layer_names`); unknown names raise with the list
            of valid ones.
        batch_size : int
            Images per forward pass.
        progress : bool, optional
            Show a tqdm bar (default: when there are 4 batches or more).

        Returns
        -------
        dict of str to xarray.DataArray
            ``(stimulus, channel, y, x)`` for maps, ``(stimulus, token, channel)`` for token
            sequences (see the module docstring for the token coordinates), float32.
        """
        names = self._resolve_layers(layers, attention=False)
        chunks: dict[str, list[np.ndarray]] = {n: [] for n in names}
        stimuli: list[str] = []
        hw: tuple[int, int] = self.input_size
        with torch.inference_mode():
            for xb, nb in self._iter_batches(
                images, batch_size, progress=progress, desc="features"
            ):
                hw = (int(xb.shape[-2]), int(xb.shape[-1]))
                rec = self._run(xb, names)
                for n in names:
                    chunks[n].append(rec["features"][n].numpy())
                stimuli.extend(nb)
        return {n: self._to_dataarray(n, np.concatenate(chunks[n]), stimuli, hw) for n in names}

    def attention(
        self,
        images: Any,
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        query: int | slice | Sequence[int] | None = None,
        progress: bool | None = None,
    ) -> xr.DataArray:
        """Post-softmax attention probabilities per head.

        Parameters
        ----------
        images : images or preprocessed tensor (texts for CLIP / ``hf:`` models)
            See :meth:`load_images`.
        layers : str or sequence of str, optional
            Attention layers (default: all of :attr:`attention_layer_names`).
        batch_size : int
            Images per forward pass.
        query : int, slice or sequence of int, optional
            Keep only these query tokens (e.g. ``0`` for the CLS row) to save memory; the
            ``query`` coordinate keeps the original token indices.
        progress : bool, optional
            Show a tqdm bar (default: when there are 4 batches or more).

        Returns
        -------
        xarray.DataArray
            Dims ``(stimulus, layer, head, query, key)``, float32; every row sums to 1 over
            ``key``. Coordinates ``query_kind`` / ``key_kind`` (and ``patch_row`` /
            ``patch_col`` along ``key``) label prefix and patch tokens; ``attrs["grid_shape"]``
            gives the patch grid.
        """
        if (isinstance(images, str) and not Path(images).exists()) or (
            _is_image_like_sequence(images)
            and len(images) > 0
            and all(isinstance(t, str) and not Path(t).exists() for t in images)
        ):
            return self._text_attention(images, layers, batch_size=batch_size, query=query)
        names = self._resolve_layers(layers, attention=True)
        chunks: list[np.ndarray] = []
        stimuli: list[str] = []
        hw = self.input_size
        q_index: np.ndarray | None = None
        with torch.inference_mode():
            for xb, nb in self._iter_batches(
                images, batch_size, progress=progress, desc="attention"
            ):
                hw = (int(xb.shape[-2]), int(xb.shape[-1]))
                rec = self._run(xb, [], names, query=query)["attention"]
                shapes = {tuple(rec[n].shape) for n in names}
                if len(shapes) != 1:
                    raise ValueError(f"selected layers have different attention shapes: {shapes}")
                arr = torch.stack([rec[n] for n in names], dim=1).numpy()  # (B, L, H, Q, K)
                if q_index is None:
                    q_index = np.arange(arr.shape[-1])
                    q_index = np.atleast_1d(q_index[query]) if query is not None else q_index
                chunks.append(arr)
                stimuli.extend(nb)
        return self._attention_dataarray(np.concatenate(chunks), names, stimuli, hw, q_index)

    def _attention_dataarray(
        self,
        values: np.ndarray,
        layers: list[str],
        stimuli: list[str],
        image_hw: tuple[int, int],
        q_index: np.ndarray | None,
    ) -> xr.DataArray:
        n_keys = values.shape[-1]
        q_index = np.arange(values.shape[3]) if q_index is None else q_index
        coords: dict[str, Any] = {
            "stimulus": stimuli,
            "layer": layers,
            "head": np.arange(values.shape[2]),
            "query": q_index,
            "key": np.arange(n_keys),
        }
        attrs: dict[str, Any] = {
            "backbone": self.name,
            "weights": self.weights,
            "input_size": list(image_hw),
            "description": "post-softmax attention probabilities per head; rows sum to 1 over key",
        }
        layout = self.token_layout(image_hw)
        if layout is not None and layout.n_tokens == n_keys:
            tc = layout.coords()
            coords["key_kind"] = ("key", tc["token_kind"])
            coords["patch_row"] = ("key", tc["patch_row"])
            coords["patch_col"] = ("key", tc["patch_col"])
            coords["query_kind"] = ("query", tc["token_kind"][q_index])
            attrs.update(grid_shape=list(layout.grid), num_prefix_tokens=len(layout.prefix))
        return xr.DataArray(
            values,
            dims=("stimulus", "layer", "head", "query", "key"),
            coords=coords,
            name="attention",
            attrs=attrs,
        )

    def _text_attention(
        self, texts: Any, layers: Any, *, batch_size: int, query: Any
    ) -> xr.DataArray:
        raise TypeError(
            f"{self.name} has no text tower; pass images to attention() (strings are read as "
            "image paths only when the files exist)"
        )

    def embed_image(
        self,
        images: Any,
        *,
        normalize: bool = True,
        batch_size: int = 32,
        progress: bool | None = None,
    ) -> xr.DataArray:
        """Pooled image embeddings ``DataArray(stimulus, embedding)``, float32.

        For CLIP models this is the image tower's projected embedding (comparable with
        :meth:`embed_text`); for timm models the pooled pre-logits features. ``normalize``
        scales each row to unit L2 norm.
        """
        chunks, stimuli = [], []
        with torch.inference_mode():
            for xb, nb in self._iter_batches(images, batch_size, progress=progress, desc="embed"):
                emb = self.embed_image_torch(xb, normalize=normalize)
                chunks.append(emb.float().cpu().numpy())
                stimuli.extend(nb)
        return xr.DataArray(
            np.concatenate(chunks),
            dims=("stimulus", "embedding"),
            coords={"stimulus": stimuli},
            name="image_embedding",
            attrs={"backbone": self.name, "weights": self.weights, "normalized": int(normalize)},
        )

    def embed_text(
        self, texts: str | Sequence[str], *, normalize: bool = True, batch_size: int = 256
    ) -> xr.DataArray:
        """Text embeddings ``DataArray(text, embedding)`` (CLIP-style and ``hf:`` models)."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a string or a non-empty sequence of strings")
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                emb = self.embed_text_torch(texts[start : start + batch_size], normalize=normalize)
                chunks.append(emb.float().cpu().numpy())
        return xr.DataArray(
            np.concatenate(chunks),
            dims=("text", "embedding"),
            coords={"text": texts},
            name="text_embedding",
            attrs={"backbone": self.name, "weights": self.weights, "normalized": int(normalize)},
        )
