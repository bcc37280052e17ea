"""``hf:<local dir or hub name>`` backbones: text encoders and decoder LMs through transformers.

Layer names: ``embeddings`` (the input to the first layer) and ``layer.0 … layer.{N-1}`` —
the hidden states transformers returns with ``output_hidden_states=True`` (``hidden_states[i+1]``
is ``layer.i``). Attention layers are ``layer.0 … layer.{N-1}``.

Weights (the same policy as the other families):

- ``weights=None`` — random initialisation from the model's ``config.json`` (logged);
- ``weights="hub"`` — ``AutoModel.from_pretrained(name)``; for a local directory this reads
  the weights stored in it (no network). For a hub name that is not cached, offline, it fails
  within seconds with instructions;
- ``weights=PATH`` — the architecture from ``name``'s config, the weights from a local
  checkpoint, loaded strictly.

Texts are tokenised with padding; per-token outputs are padded with NaN beyond each text's
length (``n_tokens`` coordinate), and the tokens themselves are in the ``token_text``
coordinate. Attention comes from transformers' ``output_attentions=True`` with the eager
attention implementation switched on for the call (the fused SDPA kernel does not return
probabilities); hidden states of that pass agree with the fused path to ~1e-5.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from cogattn.encoders import weights as _weights
from cogattn.encoders.backbone import Backbone, UnknownBackboneError

__all__ = ["HFBackbone", "create_hf_backbone"]

logger = logging.getLogger(__name__)

POOLINGS = ("mean", "cls", "last")


class HFBackbone(Backbone):
    """A transformers text model behind the :class:`~cogattn.encoders.backbone.Backbone` API.

    Inputs are texts (a string or a sequence of strings). ``embed_text`` mean-pools the last
    hidden state over real tokens by default (the sentence-transformers convention for
    MiniLM / BERT-style encoders); ``pooling="last"`` suits decoder LMs.
    """

    family = "hf"
    _any_submodule = False

    def __init__(self, *, tokenizer: Any, pooling: str = "mean", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._tok = tokenizer
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling

    @property
    def tokenizer(self) -> Any:
        """The transformers tokenizer."""
        return self._tok

    @property
    def input_size(self) -> tuple[int, int]:  # type: ignore[override]
        """Not defined for text models."""
        raise TypeError(f"{self.name} is a text model: it has no image input size")

    def load_images(self, images: Any) -> torch.Tensor:
        """Not defined for text models."""
        raise TypeError(f"{self.name} is a text model; pass texts to features()/attention()")

    def _encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        enc = self._tok(list(texts), padding=True, truncation=True, return_tensors="pt")
        return {k: v.to(self.device) for k, v in enc.items()}

    @staticmethod
    def _texts(texts: Any) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if isinstance(texts, (torch.Tensor, np.ndarray)):
            raise TypeError("hf: backbones take texts (a string or a sequence of strings)")
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a string or a non-empty sequence of strings")
        return texts

    def _batches(
        self, texts: list[str], batch_size: int, progress: bool | None, desc: str
    ) -> Iterator[list[str]]:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        starts = range(0, len(texts), batch_size)
        show = (len(starts) >= 4) if progress is None else progress
        for s in tqdm(starts, desc=desc, disable=not show, leave=False):
            yield texts[s : s + batch_size]

    def _hidden(self, enc: dict[str, torch.Tensor], *, attentions: bool = False) -> Any:
        return self.model(**enc, output_hidden_states=True, output_attentions=attentions)

    @contextlib.contextmanager
    def _eager(self) -> Iterator[None]:
        before = getattr(self.model.config, "_attn_implementation", None)
        if before in (None, "eager"):
            yield
            return
        if not hasattr(self.model, "set_attn_implementation"):
            raise RuntimeError(
                f"this transformers version cannot switch {self.name} to eager attention at run "
                "time; load it with load_backbone(name, attn_implementation='eager') to record "
                "attention"
            )
        self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            self.model.set_attn_implementation(before)

    def _pool(self, h: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
        if pooling == "cls":
            return h[:, 0]
        m = mask.to(h.dtype)[..., None]
        if pooling == "mean":
            return (h * m).sum(1) / m.sum(1).clamp(min=1)
        last = mask.sum(1) - 1  # right padding: last real token
        if getattr(self._tok, "padding_side", "right") == "left":
            last = torch.full_like(last, mask.shape[1] - 1)
        return h[torch.arange(h.shape[0], device=h.device), last]

    # ------------------------------------------------------------------ differentiable path
    def torch_forward(  # type: ignore[override]
        self, texts: str | Sequence[str], layers: str | Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        """Hidden states ``(N, T, C)`` per layer for texts, keeping the autograd graph."""
        names = self._resolve_layers(layers, attention=False)
        out = self._hidden(self._encode(self._texts(texts)))
        idx = {n: i for i, n in enumerate(self._layers)}
        return {n: out.hidden_states[idx[n]] for n in names}

    def embed_text_torch(
        self, texts: str | Sequence[str], *, normalize: bool = True
    ) -> torch.Tensor:
        """Pooled last hidden state ``(N, C)`` (``self.pooling``), keeping the graph."""
        enc = self._encode(self._texts(texts))
        out = self._hidden(enc)
        emb = self._pool(out.hidden_states[-1], enc["attention_mask"], self.pooling)
        return torch.nn.functional.normalize(emb, dim=-1) if normalize else emb

    def embed_image_torch(self, x: torch.Tensor, *, normalize: bool = True) -> torch.Tensor:
        """Not defined for text models."""
        raise TypeError(f"{self.name} is a text model: it has no image embedding")

    def embed_image(self, images: Any, **kwargs: Any) -> xr.DataArray:
        """Not defined for text models."""
        raise TypeError(f"{self.name} is a text model: it has no image embedding")

    # ------------------------------------------------------------------ labelled outputs
    def _token_coords(
        self, ids: list[np.ndarray], lengths: list[int], texts: list[str], width: int
    ) -> dict[str, Any]:
        tok_text = np.full((len(ids), width), "", dtype=object)
        for i, row in enumerate(ids):
            toks = self._tok.convert_ids_to_tokens(row[: lengths[i]].tolist())
            tok_text[i, : len(toks)] = toks
        return {
            "stimulus": texts,
            "token": np.arange(width),
            "token_text": (("stimulus", "token"), tok_text.astype(str)),
            "n_tokens": ("stimulus", np.asarray(lengths)),
        }

    def features(  # type: ignore[override]
        self,
        texts: str | Sequence[str],
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        pooling: str | None = None,
        progress: bool | None = None,
    ) -> dict[str, xr.DataArray]:
        """Hidden states per layer.

        Parameters
        ----------
        texts : str or sequence of str
        layers : str or sequence of str, optional
            ``embeddings``, ``layer.i`` (default: all).
        batch_size : int
        pooling : {"mean", "cls", "last"}, optional
            Pool over real tokens and return ``(stimulus, channel)``; by default return
            ``(stimulus, token, channel)``, NaN beyond each text's ``n_tokens``.
        progress : bool, optional
        """
        texts = self._texts(texts)
        names = self._resolve_layers(layers, attention=False)
        if pooling is not None and pooling not in POOLINGS:
            raise ValueError(f"pooling must be None or one of {POOLINGS}, got {pooling!r}")
        idx = {n: i for i, n in enumerate(self._layers)}
        chunks: dict[str, list[np.ndarray]] = {n: [] for n in names}
        ids: list[np.ndarray] = []
        lengths: list[int] = []
        with torch.inference_mode():
            for batch in self._batches(texts, batch_size, progress, "features"):
                enc = self._encode(batch)
                out = self._hidden(enc)
                mask = enc["attention_mask"]
                for n in names:
                    h = out.hidden_states[idx[n]]
                    if pooling is not None:
                        chunks[n].append(self._pool(h, mask, pooling).float().cpu().numpy())
                    else:
                        hn = h.float().cpu().numpy()
                        hn[~mask.bool().cpu().numpy()] = np.nan
                        chunks[n].append(hn)
                ids.extend(enc["input_ids"].cpu().numpy())
                lengths.extend(mask.sum(1).cpu().tolist())
        attrs = {"backbone": self.name, "weights": self.weights}
        result = {}
        for n in names:
            if pooling is not None:
                result[n] = xr.DataArray(
                    np.concatenate(chunks[n]),
                    dims=("stimulus", "channel"),
                    coords={"stimulus": texts, "n_tokens": ("stimulus", np.asarray(lengths))},
                    name=n,
                    attrs={**attrs, "layer": n, "pooling": pooling},
                )
                continue
            width = max(c.shape[1] for c in chunks[n])
            vals = np.full((len(texts), width, chunks[n][0].shape[-1]), np.nan, np.float32)
            row = 0
            for c in chunks[n]:
                vals[row : row + c.shape[0], : c.shape[1]] = c
                row += c.shape[0]
            result[n] = xr.DataArray(
                vals,
                dims=("stimulus", "token", "channel"),
                coords=self._token_coords(ids, lengths, texts, width),
                name=n,
                attrs={**attrs, "layer": n},
            )
        return result

    def attention(  # type: ignore[override]
        self,
        texts: str | Sequence[str],
        layers: str | Sequence[str] | None = None,
        *,
        batch_size: int = 32,
        query: int | slice | Sequence[int] | None = None,
        progress: bool | None = None,
    ) -> xr.DataArray:
        """Attention probabilities per head ``(stimulus, layer, head, query, key)``.

        Rows of real tokens sum to 1 over real keys; padded positions are NaN (they lie
        beyond the ``n_tokens`` coordinate).
        """
        texts = self._texts(texts)
        names = self._resolve_layers(layers, attention=True)
        idx = {n: i for i, n in enumerate(self._attention_layers)}
        chunks: list[np.ndarray] = []
        ids: list[np.ndarray] = []
        lengths: list[int] = []
        with torch.inference_mode(), self._eager():
            for batch in self._batches(texts, batch_size, progress, "attention"):
                enc = self._encode(batch)
                out = self._hidden(enc, attentions=True)
                if not out.attentions or out.attentions[0] is None:
                    raise RuntimeError(f"{self.name} returned no attention probabilities")
                a = torch.stack([out.attentions[idx[n]] for n in names], 1).float().cpu().numpy()
                real = enc["attention_mask"].bool().cpu().numpy()
                keep = real[:, None, None, :, None] & real[:, None, None, None, :]
                chunks.append(np.where(keep, a, np.nan).astype(np.float32))
                ids.extend(enc["input_ids"].cpu().numpy())
                lengths.extend(real.sum(1).tolist())
        width = max(c.shape[-1] for c in chunks)
        n_heads = chunks[0].shape[2]
        vals = np.full((len(texts), len(names), n_heads, width, width), np.nan, np.float32)
        row = 0
        for c in chunks:
            vals[row : row + c.shape[0], :, :, : c.shape[3], : c.shape[4]] = c
            row += c.shape[0]
        q_index = np.arange(width)
        if query is not None:
            q_index = np.atleast_1d(q_index[query])
            vals = vals[:, :, :, q_index]
        tc = self._token_coords(ids, lengths, texts, width)
        return xr.DataArray(
            vals,
            dims=("stimulus", "layer", "head", "query", "key"),
            coords={
                "stimulus": texts,
                "layer": names,
                "head": np.arange(n_heads),
                "query": q_index,
                "key": np.arange(width),
                "key_text": (("stimulus", "key"), tc["token_text"][1]),
                "n_tokens": tc["n_tokens"],
            },
            name="attention",
            attrs={
                "backbone": self.name,
                "weights": self.weights,
                "modality": "text",
                "description": "post-softmax attention per head; NaN beyond n_tokens",
            },
        )

    def embed_text(
        self,
        texts: str | Sequence[str],
        *,
        normalize: bool = True,
        batch_size: int = 32,
    ) -> xr.DataArray:
        """Pooled text embeddings ``DataArray(text, embedding)`` (pooling: ``self.pooling``)."""
        return super().embed_text(texts, normalize=normalize, batch_size=batch_size)


def _local_dir(name: str) -> Path | None:
    p = Path(name).expanduser()
    return p if p.is_dir() else None


def create_hf_backbone(
    model_name: str,
    *,
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    pooling: str = "mean",
    **model_kwargs: Any,
) -> HFBackbone:
    """Create an ``hf:<local dir or hub name>`` backbone (see the module docstring)."""
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("hf: backbones need transformers: pip install 'cogattn[text]'") from exc

    name = f"hf:{model_name}"
    local = _local_dir(model_name)
    if local is None:
        if "/" not in model_name and not model_name.replace("-", "").replace("_", "").isalnum():
            raise UnknownBackboneError(
                f"{name!r}: not a local directory and not a hub name ('org/model')"
            )
        # every use (config, tokenizer, weights) needs the hub files: check they can be had
        _weights.check_hub_available(
            name,
            hf_repo=model_name,
            hf_filenames=("config.json",),
            url=None,
        )
    elif not (local / "config.json").is_file():
        raise FileNotFoundError(
            f"{str(local)!r} has no config.json: hf: directories are transformers model "
            "folders (config.json, tokenizer files, model.safetensors)"
        )
    offline = local is not None or _weights._env_offline()
    src = str(local) if local is not None else model_name
    tokenizer = transformers.AutoTokenizer.from_pretrained(src, local_files_only=offline)
    if weights == "hub":
        model = transformers.AutoModel.from_pretrained(
            src, local_files_only=offline, **model_kwargs
        )
        source = "hub" if local is None else str(local)
    else:
        impl = model_kwargs.pop("attn_implementation", None)
        config = transformers.AutoConfig.from_pretrained(
            src, local_files_only=offline, **model_kwargs
        )
        extra = {"attn_implementation": impl} if impl else {}
        model = transformers.AutoModel.from_config(config, **extra)
        source = _weights.finish_weights(model, weights, name)
    n_layers = int(model.config.num_hidden_layers)
    layers = ["embeddings", *[f"layer.{i}" for i in range(n_layers)]]
    return HFBackbone(
        name=name,
        model=model,
        device=device,
        dtype=dtype,
        input_spec=None,
        preprocess=None,
        layers=layers,
        attention_layers={f"layer.{i}": f"layer.{i}" for i in range(n_layers)},
        weights=source,
        tokenizer=tokenizer,
        pooling=pooling,
    )
