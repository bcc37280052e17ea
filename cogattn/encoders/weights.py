"""Weights for shared backbones: hub availability checks, local checkpoints, saving.

Policy (see ``docs/encoders.md``):

- ``weights=None`` — random initialisation, logged at INFO level.
- ``weights="hub"`` — the library's own pretrained loading (timm / open_clip). Before calling
  the library, :func:`check_hub_available` looks for the file in the local Hugging Face /
  torch hub caches and, when it is not there, checks whether the hub can be reached at all
  (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` and a short socket probe). Offline with no
  cached file, it raises :class:`WeightsUnavailableError` within seconds instead of waiting
  for the libraries' own retries (about 47 s), with a message that says how to supply weights.
- ``weights=PATH`` — a local checkpoint file (``.pth``, ``.pt``, ``.bin``, ``.safetensors``,
  an open_clip training checkpoint with a ``state_dict`` entry) or a directory holding one.
  It is loaded strictly: missing or unexpected keys raise :class:`CheckpointMismatchError`
  listing them.

:func:`save_weights` writes a model's ``state_dict`` as ``.safetensors`` atomically; loading
it back with ``weights=PATH`` gives bit-identical parameters.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
import socket
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

__all__ = [
    "CheckpointMismatchError",
    "WeightsUnavailableError",
    "check_hub_available",
    "finish_weights",
    "hub_is_reachable",
    "load_checkpoint",
    "load_state_dict_file",
    "save_weights",
    "state_dict_hash",
]

logger = logging.getLogger(__name__)

CHECKPOINT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
# File names looked for, in order, when ``weights=`` is a directory.
_DIR_CANDIDATES = (
    "model.safetensors",
    "open_clip_model.safetensors",
    "pytorch_model.bin",
    "open_clip_pytorch_model.bin",
    "model.pth",
    "model.pt",
)
_TRUE = {"1", "true", "yes", "on"}


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights were asked for but cannot be had (offline, not cached)."""


class CheckpointMismatchError(ValueError):
    """A local checkpoint does not match the model (missing / unexpected / mis-shaped keys)."""


def _guidance(name: str) -> str:
    return (
        f"How to supply weights for {name!r}: (1) pass a local checkpoint, "
        "load_backbone(name, weights='/path/to/model.safetensors') (.pth/.pt/.bin/.safetensors, "
        "an open_clip checkpoint, or a directory holding one); (2) fill the hub cache on a "
        "machine with internet (load once with weights='hub', then copy ~/.cache/huggingface "
        "and ~/.cache/torch, or point HF_HOME / TORCH_HOME at a copy) and unset HF_HUB_OFFLINE "
        "only if the hub is reachable; (3) use weights=None for a randomly initialised model."
    )


def _env_offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_is_reachable(host: str = "huggingface.co", *, timeout_s: float = 3.0) -> bool:
    """Return whether a TCP connection to ``host:443`` opens within ``timeout_s``.

    Name resolution runs in a worker thread so that a hanging DNS lookup is bounded too.
    """

    def probe() -> bool:
        with socket.create_connection((host, 443), timeout=timeout_s):
            return True

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return bool(pool.submit(probe).result(timeout=timeout_s + 0.5))
    except Exception:  # any failure (DNS, refused, timeout) means "not reachable"
        return False
    finally:
        pool.shutdown(wait=False)


def _in_hf_cache(repo_id: str, filenames: Iterable[str]) -> str | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub ships with timm
        return None
    for filename in filenames:
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return found
    return None


def _in_torch_cache(url: str | None) -> str | None:
    if not url:
        return None
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(url.split("?")[0]).name
    return str(path) if path.is_file() else None


def check_hub_available(
    name: str,
    *,
    hf_repo: str | None,
    hf_filenames: Iterable[str] = ("model.safetensors", "pytorch_model.bin"),
    url: str | None = None,
    probe_timeout_s: float = 3.0,
) -> None:
    """Raise :class:`WeightsUnavailableError` fast when hub weights cannot be obtained.

    Parameters
    ----------
    name : str
        Backbone name, for the message.
    hf_repo : str or None
        Hugging Face repository the library downloads from (``None`` if none).
    hf_filenames : iterable of str
        File names the library looks for in that repository.
    url : str, optional
        Direct download URL (torch hub cache) used when there is no HF repository.
    probe_timeout_s : float
        Seconds allowed for the network probe.

    Notes
    -----
    A cached file means the library will find it without the network, so no probe is made.
    Otherwise the environment variables ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` or a
    failed probe of ``huggingface.co:443`` mean offline.
    """
    files = tuple(hf_filenames)
    if hf_repo and _in_hf_cache(hf_repo, files):
        return
    if _in_torch_cache(url):
        return
    if hf_repo is None and url is None:
        raise WeightsUnavailableError(
            f"{name!r} has no pretrained weights known to its library. " + _guidance(name)
        )
    where = f"Hugging Face repo {hf_repo!r} ({', '.join(files)})" if hf_repo else f"URL {url}"
    if _env_offline():
        raise WeightsUnavailableError(
            f"pretrained weights for {name!r} are not in the local cache and the hub is "
            f"disabled (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set); looked for {where}. "
            + _guidance(name)
        )
    host = "huggingface.co" if hf_repo else (url.split("/")[2] if url else "huggingface.co")
    if not hub_is_reachable(host, timeout_s=probe_timeout_s):
        raise WeightsUnavailableError(
            f"pretrained weights for {name!r} are not in the local cache and {host} cannot be "
            f"reached (no network); looked for {where}. " + _guidance(name)
        )


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint file or directory into a flat ``state_dict`` on CPU.

    Accepts safetensors files, torch pickles loaded with ``weights_only=True`` (a bare
    ``state_dict`` or a dict with a ``state_dict`` / ``model`` / ``model_state_dict`` entry, as
    written by open_clip's training script), and directories holding one of the usual file
    names. A ``module.`` prefix left by ``DistributedDataParallel`` is removed.
    """
    path = Path(path)
    if path.is_dir():
        for cand in _DIR_CANDIDATES:
            if (path / cand).is_file():
                path = path / cand
                break
        else:
            found = sorted(p.name for p in path.iterdir() if p.suffix in CHECKPOINT_SUFFIXES)
            if len(found) != 1:
                raise FileNotFoundError(
                    f"no unique checkpoint in directory {str(path)!r}: expected one of "
                    f"{', '.join(_DIR_CANDIDATES)} or a single file ending in "
                    f"{'/'.join(CHECKPOINT_SUFFIXES)}, found {found or 'none'}"
                )
            path = path / found[0]
    if not path.is_file():
        raise FileNotFoundError(
            f"weights file {str(path)!r} does not exist (weights= takes None, 'hub', or a path "
            "to a local checkpoint file or directory)"
        )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path), device="cpu")
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"could not read checkpoint {str(path)!r} as a torch file with weights_only=True "
                f"({exc}); convert it to .safetensors or a plain state_dict"
            ) from exc
    if isinstance(state, Mapping):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in state and isinstance(state[key], Mapping):
                state = state[key]
                break
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise ValueError(
            f"checkpoint {str(path)!r} does not hold a state_dict (a mapping of names to tensors)"
        )
    state = dict(state)
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def load_checkpoint(model: torch.nn.Module, path: str | os.PathLike, *, name: str = "") -> str:
    """Load a local checkpoint into ``model`` strictly; return the resolved file path.

    Raises
    ------
    CheckpointMismatchError
        Listing missing keys, unexpected keys and shape mismatches.
    """
    state = load_state_dict_file(path)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(own[k].shape) != tuple(state[k].shape)
    )
    if missing or unexpected or shapes:

        def fmt(items: list[str]) -> str:
            head = ", ".join(items[:12])
            return head + (f", … ({len(items)} in all)" if len(items) > 12 else "")

        parts = []
        if missing:
            parts.append(f"missing keys: {fmt(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {fmt(unexpected)}")
        if shapes:
            parts.append(f"shape mismatches: {fmt(shapes)}")
        raise CheckpointMismatchError(
            f"checkpoint {str(path)!r} does not match backbone {name!r} (strict loading); "
            + "; ".join(parts)
            + ". Check the model name and its keyword arguments (e.g. img_size, depth)."
        )
    model.load_state_dict(state, strict=True)
    return str(path)


def save_weights(model: torch.nn.Module, path: str | os.PathLike) -> Path:
    """Write ``model.state_dict()`` to ``path`` (``.safetensors``) atomically.

    Tensors that share storage are saved once each as separate copies, so the file reloads
    with :func:`load_checkpoint` into bit-identical parameters.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"save_weights writes .safetensors files, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(state, tmp)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def state_dict_hash(model: torch.nn.Module) -> str:
    """SHA-256 (hex, 16 chars) over every parameter and buffer: names, dtypes, shapes, bytes."""
    h = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{key}|{t.dtype}|{tuple(tensor.shape)}|".encode())
        if t.numel():
            h.update(t.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def finish_weights(model: torch.nn.Module, weights: object, name: str) -> str:
    """Load a local checkpoint or log random initialisation; return the weights source."""
    if weights is None:
        logger.info("%s: weights=None, using random initialisation", name)
        return "random"
    if weights == "hub":
        return "hub"
    if isinstance(weights, str) and weights.startswith("hub:"):
        raise ValueError(
            f"{name}: 'hub:<tag>' is for open_clip; timm takes the tag in the name (timm:arch.tag)"
        )
    try:
        path = load_checkpoint(model, weights, name=name)
    except TypeError as exc:  # not path-like
        raise TypeError(
            f"weights must be None, 'hub' or a path to a local checkpoint, got {weights!r}"
        ) from exc
    logger.info("%s: loaded weights from %s", name, path)
    return path
