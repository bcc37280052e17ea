"""NevaClip: CLIP-guided foveated exploration (Zanca et al. 2023, arXiv 2305.12380).

NevaClip wraps a frozen CLIP image encoder in NeVA's foveation
(:mod:`cogattn.stimuli.foveation`) and chooses each fixation so that the *foveated* image's
CLIP embedding is as similar as possible to a target embedding — the CLIP text embedding of a
caption of the image (captioning task), or of a generic prompt (free viewing), or any image
embedding. Per fixation (spec: 10 fixations × 20 iterations, lr 0.1):

1. start every image's fixation ``p`` at the centre ``(0, 0)``;
2. repeat ``n_iterations`` times: foveate at ``p`` (with the memory ``R`` of earlier
   fixations), compute ``L = 1 − cos(CLIP(foveated), target)``, keep the best ``p`` so far
   per image, step ``p ← p − lr · sign(∂L/∂p)`` and, with random restarts, re-draw ``p``
   uniformly in ``[−1, 1]²`` for the images whose loss did not improve;
3. commit the best ``p`` as the fixation and update the memory ``R ← forgetting · R + g(p)``.

Coordinates: the optimisation runs in NeVA's ``(row, col)`` in ``[−1, 1]`` on the model's
input grid (``linspace(−1, 1, S)``, see :func:`cogattn.stimuli.foveation.rc_to_pixels`);
:meth:`NevaClip.predict` converts explicitly to image pixels ``(x, y)`` (origin top-left
corner) through :meth:`NevaClip.rc_to_image_pixels`.

Any differentiable image embedder works, not only CLIP: ``backbone`` may be a
:class:`cogattn.encoders.Backbone` name / instance or any object with the same small
interface (``input_size``, ``normalize(x)``, ``embed_image_torch(x)`` and, for captions,
``embed_text_torch(texts)``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from tqdm.auto import tqdm

from cogattn.data import scanpaths
from cogattn.gaze.models.base import GazeModel
from cogattn.stimuli.foveation import FoveationConfig, Foveator, rc_to_pixels
from cogattn.stimuli.images import as_image_list

__all__ = ["CAPTION_MODES", "NevaClip", "NevaClipConfig"]

logger = logging.getLogger(__name__)

CAPTION_MODES = ("correct", "other", "none")
_RESIZE = ("stretch", "centre-crop")


@dataclass(frozen=True)
class NevaClipConfig:
    """NevaClip hyper-parameters (defaults: NevaClip ``main.py``).

    Attributes
    ----------
    n_iterations : int
        Signed-gradient steps per fixation (spec: 20).
    lr : float
        Step of the fixation update in normalised units (spec: 0.1).
    random_restarts : bool
        Re-draw the position of images whose loss did not improve (spec: on).
    foveation : FoveationConfig
        Blur and fovea parameters at ``reference_size_px`` (spec: 41 px / σ 10 px blur,
        σ_f 0.2, forgetting 0).
    reference_size_px : int
        Input size the blur kernel and σ refer to (224 in the paper). For models with another
        input size ``S`` both are scaled by ``S / reference_size_px`` (kernel kept odd), so
        the blur covers the same fraction of the image.
    generic_prompt : str
        Caption used for free viewing (no task) and for the ``"none"`` caption ablation.
    resize : {"stretch", "centre-crop"}
        How images are brought to the model's square input. ``"stretch"`` (default) keeps the
        whole image visible (fixations can land anywhere); ``"centre-crop"`` is CLIP's own
        preprocessing, as in the original code, and never fixates outside the central square.
    clamp : bool
        Keep the fixation inside ``[−1, 1]²`` after every step, so that scanpaths stay on the
        image (the original code does not clamp; its fixations can leave the image).
    batch_size : int
        Images optimised together.
    """

    n_iterations: int = 20
    lr: float = 0.1
    random_restarts: bool = True
    foveation: FoveationConfig = field(default_factory=FoveationConfig)
    reference_size_px: int = 224
    generic_prompt: str = "a photo"
    resize: str = "stretch"
    clamp: bool = True
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.n_iterations < 1:
            raise ValueError(f"n_iterations must be >= 1, got {self.n_iterations}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.resize not in _RESIZE:
            raise ValueError(f"resize must be one of {_RESIZE}, got {self.resize!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.reference_size_px < 1:
            raise ValueError(f"reference_size_px must be >= 1, got {self.reference_size_px}")

    def foveation_for(self, size_px: int) -> FoveationConfig:
        """The foveation parameters scaled to an input of ``size_px`` pixels."""
        f = size_px / self.reference_size_px
        if f == 1:
            return self.foveation
        kernel = max(1, round(self.foveation.blur_kernel_px * f))
        kernel += 1 - kernel % 2  # keep it odd
        return replace(
            self.foveation, blur_kernel_px=kernel, blur_sigma_px=self.foveation.blur_sigma_px * f
        )


class NevaClip(GazeModel):
    """CLIP-guided foveated scanpaths (NevaClip, Zanca et al. 2023, arXiv 2305.12380).

    Parameters
    ----------
    backbone : str or embedder
        An ``open_clip:`` backbone name for :func:`cogattn.encoders.load_backbone` (the paper
        uses ``"open_clip:RN50"``; ``"open_clip:ViT-B-32"`` works too), a loaded
        :class:`~cogattn.encoders.Backbone`, or any object with ``input_size`` (h, w),
        ``normalize(x)`` (images in [0, 1] → model input), a differentiable
        ``embed_image_torch(x) -> (N, D)`` and, for captions, ``embed_text_torch(texts)``.
    weights : None, "hub" or path
        Backbone weights (``None`` = random initialisation, for tests and benchmarks only).
    device : str
        Torch device for the backbone and the optimisation.
    dtype : torch.dtype, optional
        Backbone weight dtype (``torch.bfloat16`` on GPUs).
    config : NevaClipConfig, optional
    caption_mode : {"correct", "other", "none"}
        Default caption ablation of :meth:`predict` (see there).
    backbone_kwargs : dict, optional
        Extra arguments for :func:`cogattn.encoders.load_backbone`.

    Examples
    --------
    >>> from skimage import data
    >>> model = NevaClip("open_clip:RN50", weights="hub")  # doctest: +SKIP
    >>> sp = model.predict(data.astronaut(), task="an astronaut with a flag")  # doctest: +SKIP
    """

    name = "nevaclip"

    def __init__(
        self,
        backbone: Any = "open_clip:RN50",
        *,
        weights: str | os.PathLike | None = "hub",
        device: str = "cpu",
        dtype: torch.dtype | None = None,
        config: NevaClipConfig | None = None,
        caption_mode: str = "correct",
        backbone_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if caption_mode not in CAPTION_MODES:
            raise ValueError(f"caption_mode must be one of {CAPTION_MODES}, got {caption_mode!r}")
        if config is not None and not isinstance(config, NevaClipConfig):
            raise TypeError(f"config must be a NevaClipConfig, got {type(config).__name__}")
        self.config = config or NevaClipConfig()
        self.caption_mode = caption_mode
        self.device = device
        if isinstance(backbone, str):
            from cogattn.encoders import load_backbone

            self.backbone = load_backbone(
                backbone, weights=weights, device=device, dtype=dtype, **(backbone_kwargs or {})
            )
        else:
            missing = [
                a
                for a in ("input_size", "normalize", "embed_image_torch")
                if not hasattr(backbone, a)
            ]
            if missing:
                raise TypeError(
                    f"backbone must be a backbone name or an embedder with input_size, normalize() "
                    f"and embed_image_torch(); {type(backbone).__name__} lacks {missing}"
                )
            self.backbone = backbone
        h, w = tuple(self.backbone.input_size)
        if h != w:
            raise ValueError(f"NevaClip needs a square model input, got {h}×{w}")
        self.input_size_px = int(h)
        self.foveation_ = self.config.foveation_for(self.input_size_px)

    # ------------------------------------------------------------------ geometry
    def _resize_plan(self, height_px: int, width_px: int) -> tuple[int, int, int, int]:
        """``(resized_h, resized_w, top, left)`` of the model input inside the resized image."""
        s = self.input_size_px
        if self.config.resize == "stretch":
            return s, s, 0, 0
        scale = s / min(height_px, width_px)
        rh, rw = max(s, round(height_px * scale)), max(s, round(width_px * scale))
        return rh, rw, (rh - s) // 2, (rw - s) // 2

    def load_images(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """uint8 ``(H, W, 3)`` arrays → model inputs in [0, 1], ``(N, 3, S, S)`` float32."""
        s = self.input_size_px
        out = []
        for a in images:
            t = torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float().div(255.0)[None]
            rh, rw, top, left = self._resize_plan(*a.shape[:2])
            if t.shape[-2:] != (rh, rw):
                t = F.interpolate(
                    t, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False
                )
            out.append(t[0, :, top : top + s, left : left + s].clamp(0.0, 1.0))
        return torch.stack(out)

    def rc_to_image_pixels(
        self, rc: np.ndarray | torch.Tensor, *, width_px: int, height_px: int
    ) -> np.ndarray:
        """NeVA ``(row, col)`` on the model input → ``(x, y)`` pixels of the original image.

        ``rc`` is first placed on the ``S × S`` input grid (:func:`rc_to_pixels`: ``−1`` and
        ``+1`` are the centres of the first and last input pixels), then mapped through the
        resize (and crop) that produced the input.
        """
        s = self.input_size_px
        xy_in = rc_to_pixels(rc, width_px=s, height_px=s)
        rh, rw, top, left = self._resize_plan(height_px, width_px)
        x = (xy_in[..., 0] + left) * width_px / rw
        y = (xy_in[..., 1] + top) * height_px / rh
        return np.stack([x, y], axis=-1)

    # ------------------------------------------------------------------ targets
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Unit-norm target embeddings of captions ``(N, D)`` (no graph)."""
        if not hasattr(self.backbone, "embed_text_torch"):
            raise TypeError(
                f"{type(self.backbone).__name__} has no text tower (embed_text_torch); pass "
                "target_images= or target_embeddings= instead of captions"
            )
        with torch.no_grad():
            emb = self.backbone.embed_text_torch(list(texts))
        return F.normalize(emb.float(), dim=-1)

    def embed_images(self, images: Any) -> torch.Tensor:
        """Unit-norm target embeddings of (unfoveated) images ``(N, D)``."""
        arrays, _ = as_image_list(images)
        x = self.backbone.normalize(self.load_images(arrays).to(self.device))
        with torch.no_grad():
            emb = self.backbone.embed_image_torch(x)
        return F.normalize(emb.float(), dim=-1)

    # ------------------------------------------------------------------ optimisation
    def fixate_batch(
        self,
        x: torch.Tensor,
        targets: torch.Tensor,
        *,
        n_fixations: int,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run NevaClip on one batch of model inputs.

        Parameters
        ----------
        x : tensor (B, 3, S, S)
            Images in [0, 1] at the model's input size.
        targets : tensor (B, D)
            Target embeddings (normalised inside).
        n_fixations : int
        generator : torch.Generator, optional
            CPU generator for the random restarts.

        Returns
        -------
        fixations_rc : tensor (B, n_fixations, 2)
            Best ``(row, col)`` per fixation, NeVA convention.
        losses : tensor (B, n_fixations)
            Best ``1 − cos`` per fixation.
        """
        cfg = self.config
        b = x.shape[0]
        if targets.shape[0] != b:
            raise ValueError(f"got {targets.shape[0]} targets for {b} images")
        dev = x.device
        xn = self.backbone.normalize(x)
        fov = Foveator(xn, self.foveation_)
        tgt = F.normalize(targets.to(dev).float(), dim=-1)
        fixations, losses = [], []
        for _ in range(n_fixations):
            p = torch.zeros(b, 2, device=dev)
            best_loss = torch.full((b,), float("inf"), device=dev)
            best_p = p.clone()
            for _ in range(cfg.n_iterations):
                p = p.detach().requires_grad_(True)
                emb = self.backbone.embed_image_torch(fov(p))
                loss = 1.0 - F.cosine_similarity(emb.float(), tgt, dim=-1)
                (grad,) = torch.autograd.grad(loss.sum(), p)
                with torch.no_grad():
                    improved = loss < best_loss
                    best_loss = torch.where(improved, loss, best_loss)
                    best_p = torch.where(improved[:, None], p, best_p)
                    p = p - cfg.lr * torch.sign(grad)
                    if cfg.random_restarts and not bool(improved.all()):
                        fresh = torch.rand(b, 2, generator=generator).mul_(2).sub_(1).to(dev)
                        p = torch.where(improved[:, None], p, fresh)
                    if cfg.clamp:
                        p = p.clamp(-1.0, 1.0)
            fov.fixate(best_p)
            fixations.append(best_p.detach())
            losses.append(best_loss.detach())
        return torch.stack(fixations, 1), torch.stack(losses, 1)

    # ------------------------------------------------------------------ scanpaths
    def _captions(self, tasks: list[Any], caption_mode: str, rng: np.random.Generator) -> list[str]:
        prompt = self.config.generic_prompt
        if caption_mode == "none":
            return [prompt] * len(tasks)
        caps = [prompt if t is None or t == "" else str(t) for t in tasks]
        if caption_mode == "correct":
            return caps
        # "other": every image gets the caption of a different image (a random derangement)
        n = len(caps)
        if n < 2:
            raise ValueError("caption_mode='other' needs at least two stimuli to swap captions")
        while True:
            perm = rng.permutation(n)
            if (perm != np.arange(n)).all():
                return [caps[j] for j in perm]

    def predict(
        self,
        stimuli: Any,
        *,
        task: Any = None,
        n_fixations: int = 10,
        seed: int | None = 0,
        subject: str | None = None,
        caption_mode: str | None = None,
        target_images: Any = None,
        target_embeddings: Any = None,
        progress: bool | None = None,
    ) -> xr.Dataset:
        """Predict one scanpath per stimulus.

        Parameters
        ----------
        stimuli : image or sequence of images
        task : str or sequence of str, optional
            Caption per stimulus; ``None`` or ``""`` = free viewing (the generic prompt).
        n_fixations : int
            Fixations per scanpath (spec: 10).
        seed : int, optional
            Seeds the random restarts and the ``"other"`` caption permutation.
        subject : str, optional
            ``subject`` label (default ``"nevaclip"``).
        caption_mode : {"correct", "other", "none"}, optional
            Caption ablation (default: the model's ``caption_mode``): each image's own caption,
            the caption of another image of the batch (a random derangement), or the generic
            prompt for all. The paper finds that wrong captions give near-random scanpaths.
        target_images : images, optional
            Use the CLIP image embedding of these images (one per stimulus) as targets
            instead of captions.
        target_embeddings : array (n_stimuli, D), optional
            Use these embeddings as targets.
        progress : bool, optional
            Progress bar over batches (default: when there are 4 or more).

        Returns
        -------
        xarray.Dataset
            ``Scanpaths`` in image pixels, no durations. ``task`` is the task as requested
            (``""`` for free viewing), so that :func:`cogattn.gaze.compare` pairs every
            scanpath with the humans of its own image and caption even under an ablation;
            the extra per-trial coordinate ``caption`` holds the caption actually used
            (``""`` for image/embedding targets) and ``condition`` the caption mode
            (``"image-target"`` / ``"embedding-target"`` for those).
        """
        if n_fixations < 1:
            raise ValueError(f"n_fixations must be >= 1, got {n_fixations}")
        mode = self.caption_mode if caption_mode is None else caption_mode
        if mode not in CAPTION_MODES:
            raise ValueError(f"caption_mode must be one of {CAPTION_MODES}, got {mode!r}")
        images, names = as_image_list(stimuli)
        n = len(images)
        tasks = [task] * n if task is None or isinstance(task, str) else list(task)
        if len(tasks) != n:
            raise ValueError(f"got {len(tasks)} tasks for {n} stimuli")
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        if target_images is not None and target_embeddings is not None:
            raise ValueError("pass at most one of target_images and target_embeddings")
        if target_embeddings is not None:
            targets = torch.as_tensor(np.asarray(target_embeddings), dtype=torch.float32)
            if targets.ndim != 2 or targets.shape[0] != n:
                raise ValueError(
                    f"target_embeddings must have shape ({n}, D), got {tuple(targets.shape)}"
                )
            used, condition = [""] * n, "embedding-target"
        elif target_images is not None:
            targets = self.embed_images(target_images).cpu()
            if targets.shape[0] != n:
                raise ValueError(f"got {targets.shape[0]} target images for {n} stimuli")
            used, condition = [""] * n, "image-target"
        else:
            used = self._captions(tasks, mode, rng)
            unique = sorted(set(used))
            emb = self.embed_texts(unique).cpu()
            targets = emb[[unique.index(c) for c in used]]
            condition = mode
        bs = self.config.batch_size
        starts = list(range(0, n, bs))
        show = len(starts) >= 4 if progress is None else progress
        xy = np.empty((n, n_fixations, 2))
        final_loss = np.empty((n, n_fixations))
        for start in tqdm(starts, desc="nevaclip", disable=not show, leave=False):
            chunk = images[start : start + bs]
            x = self.load_images(chunk).to(self.device)
            rc, loss = self.fixate_batch(
                x, targets[start : start + bs], n_fixations=n_fixations, generator=gen
            )
            rc = rc.cpu().numpy()
            for i, img in enumerate(chunk):
                xy[start + i] = self.rc_to_image_pixels(
                    rc[i], width_px=img.shape[1], height_px=img.shape[0]
                )
            final_loss[start : start + len(chunk)] = loss.cpu().numpy()
        sizes = np.array([[img.shape[1], img.shape[0]] for img in images], dtype=float)
        logger.info("nevaclip: %d scanpaths, mean final loss %.4f", n, float(final_loss.mean()))
        ds = scanpaths(
            xy[..., 0],
            xy[..., 1],
            image_size_px=sizes,
            image=names,
            task=["" if t is None else str(t) for t in tasks],
            subject=self.name if subject is None else subject,
            condition=condition,
            source=self.name,
            attrs={
                "backbone": str(getattr(self.backbone, "name", type(self.backbone).__name__)),
                "n_iterations": self.config.n_iterations,
                "lr": self.config.lr,
                "fovea_sigma": self.foveation_.fovea_sigma,
                "blur_sigma_px": self.foveation_.blur_sigma_px,
                "resize": self.config.resize,
            },
        )
        return ds.assign_coords(caption=("trial", np.asarray(used, dtype=object)))

    def _predict_one(
        self, image: np.ndarray, *, task: Any, n_fixations: int, rng: np.random.Generator
    ) -> np.ndarray:
        ds = self.predict(
            [image], task=task, n_fixations=n_fixations, seed=int(rng.integers(2**31))
        )
        return np.stack([ds["x"].values[0], ds["y"].values[0]], axis=1)

    def __repr__(self) -> str:
        name = getattr(self.backbone, "name", type(self.backbone).__name__)
        return f"NevaClip(backbone={name!r}, caption_mode={self.caption_mode!r}, config={self.config!r})"
