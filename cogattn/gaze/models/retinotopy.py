"""Foveated retinotopy: CNN classifiers on log-polar views, and their Cartesian control.

Jérémie, Daucé & Perrinet (2024, arXiv 2402.15480; Vision 2026 10(2):17), "Foveated
retinotopy improves classification and localization in CNNs", resample each image on a
log-polar grid centred on a fixation (:mod:`cogattn.stimuli.logpolar`) and re-train an
ImageNet CNN on these "retinotopic" views, with circular padding along the polar-angle axis.
Rotations about the fixation become circular shifts of the columns and zooms become shifts of
the rows, which the convolutional network handles much better than the Cartesian originals.
Moving the fixation over the image and reading the probability of the true label at each
fixation gives a *likelihood map*, a proxy for where the object is.

This module provides

- :class:`RetinotopicCNN`: any timm CNN from :func:`cogattn.encoders.load_backbone` (or a
  ``torch.nn.Module``) wrapped with the log-polar input (``mode="logpolar"``) or the Cartesian
  control (``mode="cartesian"``: the image, optionally zoomed and translated to the fixation,
  masked to its inscribed disc) — same API for both;
- :meth:`RetinotopicCNN.fit`: classification fine-tuning on an image folder
  (``root/<class>/<image>``, torchvision ``ImageFolder`` layout) or on arrays, with a progress
  bar, a checkpoint written after every epoch and resume;
- :meth:`RetinotopicCNN.evaluate_rotation` / :meth:`RetinotopicCNN.evaluate_zoom`: accuracy
  versus rotation angle / zoom ratio;
- :meth:`RetinotopicCNN.likelihood_map` over an 11 × 11 fixation lattice and
  :func:`localization_iou` against a bounding box at 36 thresholds;
- :class:`RetinotopicFixations`: a :class:`~cogattn.gaze.models.base.GazeModel` (registered as
  ``"retinotopic-cnn"``) whose fixation density is the likelihood map of the task label.

Coordinates: fixations are given to the views in ``grid_sample``'s normalised ``(x, y)``
(``−1`` = left/top image edge, ``+1`` = right/bottom edge); maps and boxes are reported in
image pixels (origin top-left corner). Images are resized (stretched) to
``input_size_px`` × ``input_size_px`` before sampling, as in the paper's 224-px pipeline.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr
from tqdm.auto import tqdm

from cogattn.gaze.models.base import GazeModel
from cogattn.stimuli.images import as_image_list
from cogattn.stimuli.logpolar import (
    LogPolarConfig,
    cartesian_grid,
    disc_mask,
    logpolar_grid,
    normalised_to_pixels,
)

__all__ = [
    "FitConfig",
    "LikelihoodConfig",
    "RetinotopicCNN",
    "RetinotopicFixations",
    "localization_iou",
    "make_padding_circular",
]

logger = logging.getLogger(__name__)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_MODES = ("logpolar", "cartesian")


# --------------------------------------------------------------------------- configs
@dataclass(frozen=True)
class FitConfig:
    """Fine-tuning hyper-parameters (defaults: the paper's transfer-learning run).

    Attributes
    ----------
    epochs : int
        Passes over the training set (paper: 20).
    batch_size : int
        Images per step (paper: 256).
    lr : float
        Learning rate (paper: 5e-5 with SGD).
    momentum : float
        SGD momentum (paper: 0.98), or AdamW's ``beta1``.
    weight_decay : float
    optimizer : {"sgd", "adamw"}
    horizontal_flip : bool
        Random horizontal flips (paper: on).
    seed : int
        Seeds the shuffling, the flips and the head initialisation (paper: 1998).
    num_workers : int
        ``DataLoader`` workers for image folders.
    recalibrate_batchnorm : bool
        After training, re-estimate the BatchNorm running statistics with one forward pass
        over the training set (cumulative average). Short runs from random weights need it:
        the running averages then lag far behind the weights and evaluation-mode outputs
        are meaningless. Not part of the paper's recipe.
    """

    epochs: int = 20
    batch_size: int = 256
    lr: float = 5e-5
    momentum: float = 0.98
    weight_decay: float = 0.0
    optimizer: str = "sgd"
    horizontal_flip: bool = True
    seed: int = 1998
    num_workers: int = 0
    recalibrate_batchnorm: bool = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}"
            )
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class LikelihoodConfig:
    """Fixation lattice of :meth:`RetinotopicCNN.likelihood_map` (paper: 11 × 11).

    Attributes
    ----------
    resolution : int
        Fixations per side of the lattice.
    size_ratio : float
        Radius of each view relative to the image half-size (the log-polar grid runs from
        ``size_ratio`` down to the configured ``r_min``; the Cartesian view is the square of
        half-side ``size_ratio`` around the fixation).
    border : {"valid", "full"}
        Lattice extent ``linspace(−b, b)``: ``b = 1 − size_ratio`` ("valid", views stay
        inside the image) or ``b = 0.9`` ("full").
    """

    resolution: int = 11
    size_ratio: float = 0.5
    border: str = "valid"

    def __post_init__(self) -> None:
        if self.resolution < 1:
            raise ValueError(f"resolution must be >= 1, got {self.resolution}")
        if not 0 < self.size_ratio <= 1:
            raise ValueError(f"size_ratio must lie in (0, 1], got {self.size_ratio}")
        if self.border not in ("valid", "full"):
            raise ValueError(f"border must be 'valid' or 'full', got {self.border!r}")

    @property
    def extent(self) -> float:
        """Half-width ``b`` of the fixation lattice, in normalised units."""
        return 1.0 - self.size_ratio if self.border == "valid" else 0.9

    def lattice(self) -> np.ndarray:
        """Fixation centres ``(resolution, resolution, 2)`` as normalised ``(x, y)``; rows = y."""
        t = np.linspace(-self.extent, self.extent, self.resolution)
        gy, gx = np.meshgrid(t, t, indexing="ij")
        return np.stack([gx, gy], axis=-1)


# --------------------------------------------------------------------------- circular padding
def make_padding_circular(model: torch.nn.Module) -> torch.nn.Module:
    """Pad every convolution and pooling layer circularly along the width (angle) axis.

    For log-polar inputs the columns are polar angles, so the left and right borders are
    neighbours. Each ``Conv2d`` / ``MaxPool2d`` / ``AvgPool2d`` with zero padding ``(ph, pw)``
    keeps its zero padding ``ph`` along the height (eccentricity) and gets ``pw`` columns of
    circular padding from a forward pre-hook. Parameter names and shapes are unchanged, so
    checkpoints load either way. Modifies ``model`` in place and returns it.

    Raises
    ------
    ValueError
        For a layer with string padding (``"same"``) or a non-zero ``padding_mode``, which
        cannot be converted unambiguously.
    """
    n = 0
    for name, mod in model.named_modules():
        if not isinstance(mod, (torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
            continue
        if getattr(mod, "_cogattn_circular", False):
            continue
        pad = mod.padding
        if isinstance(pad, str):
            raise ValueError(
                f"layer {name!r} uses padding={pad!r}; only integer padding can be made circular"
            )
        ph, pw = (pad, pad) if isinstance(pad, int) else tuple(pad)
        if isinstance(mod, torch.nn.Conv2d) and mod.padding_mode != "zeros":
            raise ValueError(
                f"layer {name!r} already uses padding_mode={mod.padding_mode!r}; expected 'zeros'"
            )
        if pw == 0:
            continue
        mod.padding = (ph, 0)

        def hook(module: torch.nn.Module, args: tuple[Any, ...], pw: int = pw) -> tuple[Any, ...]:
            return (F.pad(args[0], (pw, pw, 0, 0), mode="circular"), *args[1:])

        mod.register_forward_pre_hook(hook)
        mod._cogattn_circular = True
        n += 1
    logger.debug("made %d layers circular along the width", n)
    return model


# --------------------------------------------------------------------------- data
def _resize_batch(arrays: Sequence[np.ndarray], size: int) -> torch.Tensor:
    """uint8 (H, W, 3) arrays -> float (N, 3, size, size) in [0, 1] (bilinear, antialiased)."""
    out = []
    for a in arrays:
        t = torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float().div(255.0)
        if t.shape[-2:] != (size, size):
            t = F.interpolate(
                t[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )[0]
        out.append(t.clamp(0.0, 1.0))
    return torch.stack(out)


class _ArrayDataset(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[i], self.labels[i]


def _save_atomic(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


# --------------------------------------------------------------------------- the classifier
class RetinotopicCNN:
    """A CNN classifier that sees images through a log-polar (or Cartesian) "retina".

    After Jérémie, Daucé & Perrinet (2024, arXiv 2402.15480). Follows the scikit-learn
    estimator contract: ``__init__`` stores the arguments, :meth:`fit` (or
    :meth:`initialize`, to use the weights as they are) builds ``model_`` and ``classes_``.

    Parameters
    ----------
    backbone : str or torch.nn.Module
        A timm CNN name for :func:`cogattn.encoders.load_backbone` (``"timm:resnet18"``, the
        paper uses ResNet18/50/101) or a CNN module with a ``reset_classifier(n)`` method or
        an output layer already of size ``len(classes)``.
    weights : None, "hub" or path
        Backbone weights (``None`` = random initialisation, logged).
    classes : sequence of str, optional
        Class names; set by :meth:`fit` from the data when omitted.
    n_classes : int, optional
        Number of classes when ``classes`` is not given (names become ``"0"``, ``"1"``…).
    mode : {"logpolar", "cartesian"}
        The retina: log-polar sampling (retinotopic model) or the Cartesian control.
    logpolar : LogPolarConfig, optional
        Log-polar grid (default ``LogPolarConfig()``, the paper's 224 × 224 from 2^0 to
        2^−5); its ``n_radii × n_angles`` is also the Cartesian view size.
    input_size_px : int
        Side to which images are resized before sampling (paper: 224).
    circular_padding : bool
        Circular padding along the angle axis (log-polar mode only; paper: on).
    mean, std : tuple of 3 floats, optional
        Input normalisation; default the backbone's (ImageNet's for a bare module).
    device : str
        Torch device.
    backbone_kwargs : dict, optional
        Extra keyword arguments for :func:`cogattn.encoders.load_backbone`.

    Attributes
    ----------
    model_ : torch.nn.Module
        The classifier (log-polar mode: with circular padding).
    classes_ : numpy.ndarray of str
        Class names, in logit order.
    logpolar_ : LogPolarConfig
        The grid in use.
    mean_, std_ : tuple of 3 floats
        Input normalisation in use.
    history_ : list of dict
        Per epoch: ``epoch``, ``loss``, ``accuracy`` (training set, running mean).
    """

    def __init__(
        self,
        backbone: str | torch.nn.Module = "timm:resnet18",
        *,
        weights: str | os.PathLike | None = None,
        classes: Sequence[str] | None = None,
        n_classes: int | None = None,
        mode: str = "logpolar",
        logpolar: LogPolarConfig | None = None,
        input_size_px: int = 224,
        circular_padding: bool = True,
        mean: tuple[float, float, float] | None = None,
        std: tuple[float, float, float] | None = None,
        device: str = "cpu",
        backbone_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.backbone = backbone
        self.weights = weights
        self.classes = classes
        self.n_classes = n_classes
        self.mode = mode
        self.logpolar = logpolar
        self.input_size_px = input_size_px
        self.circular_padding = circular_padding
        self.mean = mean
        self.std = std
        self.device = device
        self.backbone_kwargs = backbone_kwargs

    # ------------------------------------------------------------------ building
    def _validate(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}")
        if self.logpolar is not None and not isinstance(self.logpolar, LogPolarConfig):
            raise TypeError(
                f"logpolar must be a LogPolarConfig, got {type(self.logpolar).__name__}"
            )
        if self.input_size_px < 8:
            raise ValueError(f"input_size_px must be >= 8, got {self.input_size_px}")

    def _build(self, classes: Sequence[str]) -> None:
        self._validate()
        n = len(classes)
        if n < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {list(classes)}")
        if isinstance(self.backbone, torch.nn.Module):
            model = self.backbone
            mean, std = _IMAGENET_MEAN, _IMAGENET_STD
            cfg = getattr(model, "pretrained_cfg", None) or {}
            mean, std = tuple(cfg.get("mean", mean)), tuple(cfg.get("std", std))
        elif isinstance(self.backbone, str):
            from cogattn.encoders import load_backbone

            bb = load_backbone(
                self.backbone,
                weights=self.weights,
                device=self.device,
                **(self.backbone_kwargs or {}),
            )
            model, mean, std = bb.model, bb.mean, bb.std
        else:
            raise TypeError(
                f"backbone must be a backbone name or a torch.nn.Module, got {type(self.backbone).__name__}"
            )
        if hasattr(model, "reset_classifier"):
            n_out = getattr(model, "num_classes", None)
            if n_out != n:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(0)  # reproducible head without touching the global RNG
                    model.reset_classifier(n)
        model = model.to(self.device).float()
        model.requires_grad_(True)
        if self.mode == "logpolar" and self.circular_padding:
            make_padding_circular(model)
        self.model_ = model.eval()
        self.logpolar_ = self.logpolar or LogPolarConfig()
        self.classes_ = np.asarray([str(c) for c in classes])
        self.mean_ = tuple(float(m) for m in (self.mean or mean))
        self.std_ = tuple(float(s) for s in (self.std or std))
        self.history_: list[dict[str, float]] = []

    def initialize(self) -> RetinotopicCNN:
        """Build ``model_`` from the given weights without training (``classes`` or ``n_classes`` needed)."""
        self._build(self._declared_classes())
        return self

    def _declared_classes(self) -> list[str]:
        if self.classes is not None:
            return [str(c) for c in self.classes]
        if self.n_classes is not None:
            return [str(i) for i in range(int(self.n_classes))]
        raise ValueError("pass classes= or n_classes= (or call fit() with labelled data)")

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError(
                f"this {type(self).__name__} is not built yet: call fit(...) or initialize() first"
            )

    # ------------------------------------------------------------------ views
    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean_, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.as_tensor(self.std_, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def view(
        self,
        x: torch.Tensor,
        *,
        centre_xy: Any = None,
        scale: float = 1.0,
        keep_r_min: bool = False,
    ) -> torch.Tensor:
        """The retinal view of normalised images ``x`` (B, 3, S, S) at fixations.

        Parameters
        ----------
        x : tensor (B, 3, S, S)
            Normalised images (outside the image, the view reads 0 = the mean colour).
        centre_xy : array (2,) or (B, 2), optional
            Fixations in normalised coordinates (default: the centre).
        scale : float
            Radius of the view relative to the image half-size. ``scale < 1`` zooms in.
        keep_r_min : bool
            Log-polar only: keep the innermost radius fixed (the grid then runs from
            ``scale · r_max`` to ``r_min``, the paper's likelihood-map views) instead of
            scaling the whole grid (an exact zoom of the image, a shift of the rows).

        Returns
        -------
        torch.Tensor (B, 3, n_radii, n_angles)
        """
        cfg = self.logpolar_
        b = x.shape[0]
        if self.mode == "logpolar":
            if keep_r_min:
                grid = logpolar_grid(
                    cfg.with_r_max(scale * 2.0**cfg.log2_r_max), device=x.device, dtype=x.dtype
                )
            else:
                grid = logpolar_grid(cfg, device=x.device, dtype=x.dtype) * scale
        else:
            grid = cartesian_grid(
                (cfg.n_radii, cfg.n_angles), half_size=scale, device=x.device, dtype=x.dtype
            )
        grid = grid.unsqueeze(0).expand(b, -1, -1, -1)
        if centre_xy is not None:
            c = torch.as_tensor(centre_xy, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 2)
            grid = grid + c
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.mode == "cartesian":
            out = out * disc_mask((cfg.n_radii, cfg.n_angles), device=x.device, dtype=x.dtype)
        return out

    def load_images(self, images: Any) -> torch.Tensor:
        """Images (paths, PIL, arrays, or a float tensor (N, 3, H, W) in [0, 1]) -> (N, 3, S, S)."""
        s = self.input_size_px
        if isinstance(images, torch.Tensor):
            if images.ndim != 4 or images.shape[1] != 3 or not images.is_floating_point():
                raise ValueError(
                    f"expected a float tensor (N, 3, H, W) with values in [0, 1], got {tuple(images.shape)} {images.dtype}"
                )
            if images.shape[-2:] != (s, s):
                images = F.interpolate(images, size=(s, s), mode="bilinear", antialias=True)
            return images.float()
        arrays, _ = as_image_list(images)
        return _resize_batch(arrays, s)

    def forward_views(self, views: torch.Tensor) -> torch.Tensor:
        """Logits for retinal views (B, 3, n_radii, n_angles) (keeps the graph)."""
        self._check_fitted()
        return self.model_(views)

    @torch.no_grad()
    def _log_probabilities(
        self,
        x: torch.Tensor,
        *,
        centre_xy: Any = None,
        scale: float = 1.0,
        keep_r_min: bool = False,
        batch_size: int = 64,
    ) -> torch.Tensor:
        self._check_fitted()
        self.model_.eval()
        probs = []
        c_all = None if centre_xy is None else torch.as_tensor(centre_xy, dtype=torch.float32)
        for start in range(0, x.shape[0], batch_size):
            xb = self._normalize(x[start : start + batch_size].to(self.device))
            cb = None if c_all is None else c_all[start : start + batch_size].to(self.device)
            v = self.view(xb, centre_xy=cb, scale=scale, keep_r_min=keep_r_min)
            probs.append(torch.log_softmax(self.model_(v).float(), dim=1).cpu())
        return torch.cat(probs)

    # ------------------------------------------------------------------ prediction
    def predict_proba(
        self, images: Any, *, centre_xy: Any = None, scale: float = 1.0, batch_size: int = 64
    ) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` for the view at ``centre_xy`` (default centre)."""
        x = self.load_images(images)
        return (
            self._log_probabilities(x, centre_xy=centre_xy, scale=scale, batch_size=batch_size)
            .exp()
            .numpy()
        )

    def predict(self, images: Any, **kwargs: Any) -> np.ndarray:
        """Predicted class names ``(N,)`` (keyword arguments as :meth:`predict_proba`)."""
        proba = self.predict_proba(images, **kwargs)
        return self.classes_[proba.argmax(1)]

    def score(self, images: Any, labels: Any, **kwargs: Any) -> float:
        """Accuracy of :meth:`predict` against ``labels`` (names or indices)."""
        p = self.predict_proba(images, **kwargs).argmax(1)
        y = self._label_indices(labels)
        if y.shape != p.shape:
            raise ValueError(f"got {y.size} labels for {p.size} images")
        return float((p == y).mean())

    def _label_indices(self, labels: Any) -> np.ndarray:
        self._check_fitted()
        labels = np.asarray(labels)
        if labels.dtype.kind in "iu":
            idx = labels.astype(int)
            if ((idx < 0) | (idx >= len(self.classes_))).any():
                raise ValueError(
                    f"label indices must lie in [0, {len(self.classes_)}), got {labels}"
                )
            return idx
        lookup = {c: i for i, c in enumerate(self.classes_)}
        missing = sorted({str(v) for v in labels.ravel()} - set(lookup))
        if missing:
            raise ValueError(f"unknown labels {missing}; classes are {list(self.classes_)}")
        return np.array([lookup[str(v)] for v in labels.ravel()]).reshape(labels.shape)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        data: str | os.PathLike | tuple[Any, Any],
        *,
        config: FitConfig = FitConfig(),
        checkpoint: str | os.PathLike | None = None,
        resume: bool = True,
        progress: bool = True,
    ) -> RetinotopicCNN:
        """Fine-tune the whole network for classification on retinal views.

        Parameters
        ----------
        data : path or (images, labels)
            An image folder ``root/<class name>/<image file>`` (torchvision ``ImageFolder``
            layout; class order = sorted folder names), or images (anything
            :func:`cogattn.stimuli.images.as_image_list` accepts) with labels (names, or
            indices into ``classes``).
        config : FitConfig
        checkpoint : path, optional
            File written (atomically) after every epoch with the weights, the optimiser state,
            the epoch and the history.
        resume : bool
            If ``checkpoint`` exists, continue from it (its classes must match).
        progress : bool
            Show a progress bar.

        Returns
        -------
        self
        """
        if not isinstance(config, FitConfig):
            raise TypeError(f"config must be a FitConfig, got {type(config).__name__}")
        dataset, classes = self._dataset(data)
        self._build(classes)
        # seeded training without changing the caller's global RNG state
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self._train(dataset, config, checkpoint=checkpoint, resume=resume, progress=progress)
        return self

    def _train(
        self,
        dataset: torch.utils.data.Dataset,
        config: FitConfig,
        *,
        checkpoint: str | os.PathLike | None,
        resume: bool,
        progress: bool,
    ) -> None:
        gen = torch.Generator().manual_seed(config.seed)
        params = [p for p in self.model_.parameters() if p.requires_grad]
        if config.optimizer == "sgd":
            opt: torch.optim.Optimizer = torch.optim.SGD(
                params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
            )
        else:
            opt = torch.optim.AdamW(
                params,
                lr=config.lr,
                betas=(config.momentum, 0.999),
                weight_decay=config.weight_decay,
            )
        start_epoch = 0
        ckpt_path = None if checkpoint is None else Path(checkpoint)
        if ckpt_path is not None and resume and ckpt_path.is_file():
            state = torch.load(ckpt_path, map_location=self.device, weights_only=False)
            if list(state["classes"]) != list(self.classes_):
                raise ValueError(
                    f"checkpoint {str(ckpt_path)!r} was trained on classes {list(state['classes'])}, "
                    f"the data has {list(self.classes_)}; pass resume=False to start over"
                )
            self.model_.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start_epoch = int(state["epoch"]) + 1
            self.history_ = list(state["history"])
            logger.info("resuming from %s after epoch %d", ckpt_path, start_epoch)
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=config.batch_size,
            shuffle=True,
            generator=gen,
            num_workers=config.num_workers,
            drop_last=False,
        )
        for epoch in range(start_epoch, config.epochs):
            gen.manual_seed(config.seed + epoch)  # same shuffling whether resumed or not
            flip_gen = torch.Generator().manual_seed(config.seed + 10_000 + epoch)
            self.model_.train()
            total_loss, total_correct, total_n = 0.0, 0, 0
            bar = tqdm(
                loader, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, leave=False
            )
            for xb, yb in bar:
                xb = xb.to(self.device).float()
                yb = yb.to(self.device).long()
                if config.horizontal_flip:
                    flip = torch.rand(xb.shape[0], generator=flip_gen) < 0.5
                    xb = torch.where(flip.view(-1, 1, 1, 1).to(xb.device), xb.flip(-1), xb)
                logits = self.model_(self.view(self._normalize(xb)))
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total_loss += loss.item() * len(yb)
                total_correct += int((logits.argmax(1) == yb).sum())
                total_n += len(yb)
                bar.set_postfix(
                    loss=f"{total_loss / total_n:.3f}", acc=f"{total_correct / total_n:.3f}"
                )
            record = {
                "epoch": epoch + 1,
                "loss": total_loss / total_n,
                "accuracy": total_correct / total_n,
            }
            self.history_.append(record)
            logger.info(
                "epoch %d: loss %.4f, accuracy %.3f", epoch + 1, record["loss"], record["accuracy"]
            )
            if ckpt_path is not None:
                _save_atomic(
                    {
                        "model": self.model_.state_dict(),
                        "optimizer": opt.state_dict(),
                        "epoch": epoch,
                        "classes": list(self.classes_),
                        "history": self.history_,
                        "fit_config": asdict(config),
                        "mode": self.mode,
                    },
                    ckpt_path,
                )
        if config.recalibrate_batchnorm:
            self._recalibrate_batchnorm(loader, progress=progress)
        self.model_.eval()

    @torch.no_grad()
    def _recalibrate_batchnorm(self, loader: Any, *, progress: bool) -> None:
        bns = [
            m for m in self.model_.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        ]
        if not bns:
            return
        saved = [bn.momentum for bn in bns]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative moving average
        self.model_.train()
        for xb, _ in tqdm(loader, desc="batchnorm statistics", disable=not progress, leave=False):
            self.model_(self.view(self._normalize(xb.to(self.device).float())))
        for bn, mom in zip(bns, saved):
            bn.momentum = mom

    def _dataset(self, data: Any) -> tuple[torch.utils.data.Dataset, list[str]]:
        s = self.input_size_px
        if isinstance(data, (str, os.PathLike)):
            from torchvision import datasets, transforms

            root = Path(data)
            if not root.is_dir():
                raise FileNotFoundError(
                    f"no image folder at {str(root)!r} (expected root/<class>/<image>)"
                )
            tf = transforms.Compose([transforms.Resize((s, s)), transforms.ToTensor()])
            ds = datasets.ImageFolder(str(root), transform=tf)
            classes = list(ds.classes)
            if self.classes is not None and [str(c) for c in self.classes] != classes:
                raise ValueError(
                    f"classes={list(self.classes)} does not match the folders of {str(root)!r}: {classes}"
                )
            return ds, classes
        if not (isinstance(data, tuple) and len(data) == 2):
            raise TypeError("data must be an image-folder path or a tuple (images, labels)")
        images, labels = data
        x = self.load_images(images)
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"got {labels.size} labels for {x.shape[0]} images")
        if labels.dtype.kind in "iu":
            classes = (
                self._declared_classes()
                if (self.classes or self.n_classes)
                else [str(i) for i in range(int(labels.max()) + 1)]
            )
            if labels.min() < 0 or labels.max() >= len(classes):
                raise ValueError(
                    f"label indices must lie in [0, {len(classes)}), got {np.unique(labels)}"
                )
            y = labels.astype(int)
        else:
            classes = (
                [str(c) for c in self.classes]
                if self.classes is not None
                else sorted({str(v) for v in labels})
            )
            lookup = {c: i for i, c in enumerate(classes)}
            unknown = sorted({str(v) for v in labels} - set(lookup))
            if unknown:
                raise ValueError(f"labels {unknown} are not in classes {classes}")
            y = np.array([lookup[str(v)] for v in labels])
        return _ArrayDataset(x, torch.as_tensor(y)), classes

    # ------------------------------------------------------------------ robustness
    def _masked(self, x: torch.Tensor) -> torch.Tensor:
        """Images with everything outside the inscribed disc set to the mean colour."""
        s = x.shape[-1]
        mean = torch.as_tensor(self.mean_, dtype=x.dtype).view(1, 3, 1, 1)
        m = disc_mask((s, s), dtype=x.dtype)
        return x * m + mean * (1 - m)

    def evaluate_rotation(
        self,
        images: Any,
        labels: Any,
        *,
        angles_deg: Sequence[float] = tuple(np.linspace(-180, 180, 13)),
        batch_size: int = 64,
        progress: bool = False,
    ) -> xr.DataArray:
        """Accuracy versus rotation of the image about its centre.

        Images are masked to their inscribed disc first (so that rotated corners do not
        leak in, as in the paper) and rotated by bilinear resampling; the view is at the
        centre. Positive angles are counter-clockwise on screen.

        Returns
        -------
        xarray.DataArray (angle_deg)
            Fraction correct per angle.
        """
        x = self._masked(self.load_images(images))
        y = torch.as_tensor(self._label_indices(labels))
        if len(y) != x.shape[0]:
            raise ValueError(f"got {len(y)} labels for {x.shape[0]} images")
        acc = []
        for a in tqdm(list(angles_deg), desc="rotation", disable=not progress, leave=False):
            t = math.radians(float(a))
            # output pixel (u, v) reads the input at R(-a)(u, v); screen y points down
            theta = torch.tensor(
                [[math.cos(t), math.sin(t), 0.0], [-math.sin(t), math.cos(t), 0.0]], dtype=x.dtype
            )
            grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
            mean = torch.as_tensor(self.mean_, dtype=x.dtype).view(1, 3, 1, 1)
            rot = F.grid_sample(x - mean, grid, align_corners=False, padding_mode="zeros") + mean
            p = self._log_probabilities(rot, batch_size=batch_size).argmax(1)
            acc.append(float((p == y).float().mean()))
        return xr.DataArray(
            np.array(acc),
            dims=("angle_deg",),
            coords={"angle_deg": np.asarray(angles_deg, dtype=float)},
            name="accuracy",
            attrs={"mode": self.mode, "n_images": int(x.shape[0])},
        )

    def evaluate_zoom(
        self,
        images: Any,
        labels: Any,
        *,
        ratios: Sequence[float] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
        batch_size: int = 64,
        progress: bool = False,
    ) -> xr.DataArray:
        """Accuracy versus zoom about the image centre.

        A ratio ``k`` scales the retinal grid by ``k``: the image appears magnified by
        ``1 / k`` (``k < 1`` zooms in, ``k > 1`` zooms out with the mean colour around). For
        the log-polar retina this is an exact shift of the rows.

        Returns
        -------
        xarray.DataArray (zoom_ratio)
        """
        x = self.load_images(images)
        y = torch.as_tensor(self._label_indices(labels))
        if len(y) != x.shape[0]:
            raise ValueError(f"got {len(y)} labels for {x.shape[0]} images")
        acc = []
        for k in tqdm(list(ratios), desc="zoom", disable=not progress, leave=False):
            if not k > 0:
                raise ValueError(f"zoom ratios must be > 0, got {k}")
            p = self._log_probabilities(x, scale=float(k), batch_size=batch_size).argmax(1)
            acc.append(float((p == y).float().mean()))
        return xr.DataArray(
            np.array(acc),
            dims=("zoom_ratio",),
            coords={"zoom_ratio": np.asarray(ratios, dtype=float)},
            name="accuracy",
            attrs={"mode": self.mode, "n_images": int(x.shape[0])},
        )

    # ------------------------------------------------------------------ localisation
    def likelihood_map(
        self,
        image: Any,
        label: Any,
        *,
        config: LikelihoodConfig = LikelihoodConfig(),
        statistic: str = "probability",
        batch_size: int = 128,
    ) -> xr.DataArray:
        """Probability of ``label`` for views centred on each point of a fixation lattice.

        As in the paper's localisation analysis: the retina (log-polar grid from
        ``size_ratio`` down to its innermost radius, or the Cartesian square of half-side
        ``size_ratio``) is moved over an ``resolution × resolution`` lattice and the softmax
        probability of the label (summed over several labels, e.g. a category) is read at
        each fixation.

        Parameters
        ----------
        image : image
            One image (path, PIL, array).
        label : str, int or sequence of those
            Class name(s) or index(es); several are summed.
        config : LikelihoodConfig
        statistic : {"probability", "log_odds"}
            ``"probability"`` (the paper's map) or ``log(p / (1 − p))``, which keeps ranking
            fixations where a confident classifier's probability saturates at 1.

        Returns
        -------
        xarray.DataArray (y, x)
            The statistic per fixation; coords ``y``, ``x`` are the fixations in image pixels.
        """
        if statistic not in ("probability", "log_odds"):
            raise ValueError(f"statistic must be 'probability' or 'log_odds', got {statistic!r}")
        arrays, _ = as_image_list(image)
        if len(arrays) != 1:
            raise ValueError(f"likelihood_map takes one image, got {len(arrays)}")
        arr = arrays[0]
        h, w = arr.shape[:2]
        x = self.load_images([arr])
        idx = np.atleast_1d(self._label_indices(np.atleast_1d(np.asarray(label))))
        lattice = config.lattice()
        centres = torch.as_tensor(lattice.reshape(-1, 2), dtype=torch.float32)
        xs = x.expand(centres.shape[0], -1, -1, -1)
        logp = self._log_probabilities(
            xs,
            centre_xy=centres,
            scale=config.size_ratio,
            keep_r_min=True,
            batch_size=batch_size,
        )
        chosen = torch.zeros(logp.shape[1], dtype=torch.bool)
        chosen[torch.as_tensor(idx)] = True
        log_in = torch.logsumexp(logp[:, chosen], dim=1)
        if statistic == "probability":
            values = log_in.exp()
        elif chosen.all():
            values = torch.full_like(log_in, float("inf"))
        else:
            values = log_in - torch.logsumexp(logp[:, ~chosen], dim=1)
        values = values.numpy().reshape(lattice.shape[:2])
        px = normalised_to_pixels(lattice, width_px=w, height_px=h)
        return xr.DataArray(
            values,
            dims=("y", "x"),
            coords={"y": px[:, 0, 1], "x": px[0, :, 0]},
            name="likelihood",
            attrs={
                "statistic": statistic,
                "label": ",".join(self.classes_[idx]),
                "mode": self.mode,
                "size_ratio": config.size_ratio,
                "border": config.border,
                "image_width": w,
                "image_height": h,
            },
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backbone={self.backbone if isinstance(self.backbone, str) else type(self.backbone).__name__!r}, mode={self.mode!r})"


def localization_iou(
    likelihood: xr.DataArray,
    bbox_xywh: Sequence[float],
    *,
    thresholds: Sequence[float] | np.ndarray | None = None,
    normalize: bool = False,
) -> xr.DataArray:
    """IoU between the thresholded likelihood map and a box rasterised on the fixation lattice.

    The ground truth is the set of lattice fixations inside ``bbox_xywh``; the prediction at
    threshold ``θ`` is the set where the map exceeds ``θ``. IoU is ``|P ∩ G| / |P ∪ G|`` (0
    when both are empty). The paper reports the best IoU over 36 thresholds
    ``linspace(0, 1, 36)``: ``localization_iou(...).max()``.

    Parameters
    ----------
    likelihood : xarray.DataArray (y, x)
        From :meth:`RetinotopicCNN.likelihood_map` (coords in pixels).
    bbox_xywh : (x, y, width, height)
        Box in image pixels (cogattn's ``target_bbox`` convention).
    thresholds : array, optional
        Default ``linspace(0, 1, 36)``.
    normalize : bool
        Rescale the map to [0, 1] (min-max) before thresholding.

    Returns
    -------
    xarray.DataArray (threshold)
    """
    if set(likelihood.dims) != {"y", "x"}:
        raise ValueError(f"likelihood must have dims ('y', 'x'), got {likelihood.dims}")
    bx, by, bw, bh = (float(v) for v in bbox_xywh)
    if not (bw > 0 and bh > 0):
        raise ValueError(f"bbox width and height must be > 0, got {bbox_xywh}")
    m = likelihood.transpose("y", "x").values.astype(float)
    if normalize:
        span = m.max() - m.min()
        m = (m - m.min()) / span if span > 0 else np.zeros_like(m)
    yy, xx = np.meshgrid(likelihood["y"].values, likelihood["x"].values, indexing="ij")
    gt = (xx >= bx) & (xx <= bx + bw) & (yy >= by) & (yy <= by + bh)
    th = np.linspace(0.0, 1.0, 36) if thresholds is None else np.asarray(thresholds, dtype=float)
    pred = m[None] > th[:, None, None]
    inter = (pred & gt).sum((1, 2))
    union = (pred | gt).sum((1, 2))
    iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    return xr.DataArray(
        iou,
        dims=("threshold",),
        coords={"threshold": th},
        name="iou",
        attrs={"n_gt_cells": int(gt.sum())},
    )


# --------------------------------------------------------------------------- gaze model
class RetinotopicFixations(GazeModel):
    """Fixations drawn where a retinotopic classifier finds the task's class (a localisation proxy).

    The density of the next fixation is proportional to the likelihood map
    (:meth:`RetinotopicCNN.likelihood_map`) of the task label, interpolated bilinearly from
    the fixation lattice to every pixel (constant beyond the lattice) and raised to
    ``1 / temperature``. It does not depend on the fixation history. This turns the paper's
    localisation analysis into a scanpath model; it is **not** a model the paper fitted to
    eye movements.

    Parameters
    ----------
    classifier : RetinotopicCNN, optional
        A built classifier; otherwise one is created from ``classifier_kwargs`` and
        initialised (random or given weights, ``classes``/``n_classes`` required).
    likelihood : LikelihoodConfig
    temperature : float
        Sharpness of the density (smaller = more peaked).
    floor : float
        Added to the map before the power, so every pixel keeps some probability.
    task : str or int, optional
        Label used by :meth:`conditional_log_density` (default: the predicted class).
    **classifier_kwargs
        Passed to :class:`RetinotopicCNN` when ``classifier`` is None.

    Notes
    -----
    ``task`` in :meth:`predict` is the class name (or index); with no task the class
    predicted for the central view of each image is used.
    """

    has_density = True
    name = "retinotopic-cnn"

    def __init__(
        self,
        classifier: RetinotopicCNN | None = None,
        *,
        likelihood: LikelihoodConfig = LikelihoodConfig(),
        temperature: float = 1.0,
        floor: float = 1e-3,
        task: Any = None,
        **classifier_kwargs: Any,
    ) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if not floor > 0:
            raise ValueError(f"floor must be > 0, got {floor}")
        if classifier is None:
            classifier = RetinotopicCNN(**classifier_kwargs).initialize()
        elif classifier_kwargs:
            raise TypeError("pass either classifier= or classifier keyword arguments, not both")
        classifier._check_fitted()
        self.classifier = classifier
        self.likelihood = likelihood
        self.temperature = temperature
        self.floor = floor
        self.task = task

    def _label(self, image: np.ndarray, task: Any) -> Any:
        if task is None or (isinstance(task, str) and task == ""):
            return self.classifier.predict([image])[0]
        return task

    def log_density_for(self, image: np.ndarray, task: Any = None) -> np.ndarray:
        """Unnormalised log-density ``(H, W)`` for ``image`` and task label ``task``."""
        lmap = self.classifier.likelihood_map(
            image, self._label(image, task), config=self.likelihood
        )
        h, w = image.shape[:2]
        vals = np.log(lmap.values + self.floor) / self.temperature
        from scipy.interpolate import RegularGridInterpolator

        ys, xs = lmap["y"].values, lmap["x"].values
        if len(ys) == 1:
            return np.full((h, w), float(vals[0, 0]))
        interp = RegularGridInterpolator((ys, xs), vals, bounds_error=False, fill_value=None)
        py = np.clip(np.arange(h) + 0.5, ys.min(), ys.max())
        px = np.clip(np.arange(w) + 0.5, xs.min(), xs.max())
        gy, gx = np.meshgrid(py, px, indexing="ij")
        return interp(np.stack([gy, gx], -1))

    def _log_density(
        self, image: np.ndarray, x_hist: np.ndarray, y_hist: np.ndarray, t_hist: Any
    ) -> np.ndarray:
        return self.log_density_for(image, self.task)

    def _predict_one(
        self, image: np.ndarray, *, task: Any, n_fixations: int, rng: np.random.Generator
    ) -> np.ndarray:
        from scipy.special import logsumexp

        log_d = self.log_density_for(image, task)
        p = np.exp(log_d.ravel() - logsumexp(log_d))
        idx = rng.choice(p.size, size=n_fixations, p=p / p.sum())
        rows, cols = np.divmod(idx, image.shape[1])
        return np.stack([cols + 0.5, rows + 0.5], axis=1).astype(float)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.classifier!r}, temperature={self.temperature})"
