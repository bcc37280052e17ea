"""Developmental-diet experiments: (re)train the backbone on a chosen image set, then search.

Gupta et al. (NeurIPS 2021) showed that search asymmetry in eccNET depends on what the
backbone was trained on: VGG16 trained on ImageNet rotated by 90° reverses the polarity of
several asymmetries (mean asymmetry index −0.405 instead of 0.513), MNIST training removes most
of it (0.185), Places365 keeps part of it (0.213). This module gives the hook to run such
experiments: :func:`train_diet` trains (or fine-tunes) a classifier on a supplied image set —
optionally transformed, e.g. :func:`rotate_images` for the rotated diet — with a progress bar,
``device=``, and an atomic checkpoint after each epoch. The trained network (or its
checkpoint) then goes into :class:`cogattn.gaze.models.eccnet.EccNet`::

    result = train_diet("timm:vgg16", images, labels, transform=rotate_images,
                        config=DietConfig(epochs=30), device="cuda", checkpoint="rot90.pt")
    model = EccNet(result.model, device="cuda")
    # or from the checkpoint (same architecture, same number of classes):
    model = EccNet("timm:vgg16", weights="rot90.pt", backbone_kwargs={"num_classes": n_classes})
    trials = run_asymmetry_experiments(model)

The paper's own fine-tuning (AdamW, lr 1e-4, weight decay 1e-5, batch 150, 224-px crops) is
the default optimiser setting; ``freeze_features=True`` trains only the classifier head (as
their eccNET fine-tuning did).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from cogattn.stimuli.images import as_image_list

__all__ = ["DietConfig", "DietResult", "rotate_images", "train_diet"]

logger = logging.getLogger(__name__)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DietConfig:
    """Training settings (defaults: the paper's optimiser, AdamW lr 1e-4, weight decay 1e-5).

    Attributes
    ----------
    epochs : int
    batch_size : int
    lr : float
    weight_decay : float
    image_size_px : int
        Images are resized to this square size (224 in the paper).
    freeze_features : bool
        Train only the parameters outside ``model.features`` (the classifier head).
    seed : int
        Shuffling and initialisation seed.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 1e-5
    image_size_px: int = 224
    freeze_features: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.image_size_px < 8:
            raise ValueError("epochs and batch_size must be >= 1 and image_size_px >= 8")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ValueError(
                f"lr must be > 0 and weight_decay >= 0, got {self.lr}, {self.weight_decay}"
            )


@dataclass
class DietResult:
    """What :func:`train_diet` returns.

    Attributes
    ----------
    model : torch.nn.Module
        The trained network (in eval mode).
    losses : list of float
        Mean training loss per epoch.
    accuracies : list of float
        Training accuracy per epoch.
    checkpoint : pathlib.Path or None
        The saved ``state_dict`` (after the last epoch).
    """

    model: nn.Module
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    checkpoint: Path | None = None


def rotate_images(images: Any, *, quarter_turns: int = 1) -> list[np.ndarray]:
    """Rotate images by multiples of 90° counter-clockwise (the paper's rotated-ImageNet diet)."""
    arrays, _ = as_image_list(images)
    return [np.ascontiguousarray(np.rot90(a, k=quarter_turns)) for a in arrays]


def _resolve_model(model: Any, n_classes: int, device: str, weights: Any) -> nn.Module:
    if isinstance(model, nn.Module):
        return model.to(device)
    if isinstance(model, str):
        from cogattn.encoders import load_backbone

        bb = load_backbone(model, weights=weights, device=device, num_classes=n_classes)
        return bb.model
    if hasattr(model, "model") and isinstance(model.model, nn.Module):
        return model.model.to(device)
    raise TypeError(
        f"model must be a torch module, a backbone name (e.g. 'timm:vgg11') or a Backbone, got {type(model).__name__}"
    )


def _to_tensor(images: Sequence[np.ndarray], size: int) -> torch.Tensor:
    import torch.nn.functional as F

    out = []
    for img in images:
        t = torch.as_tensor(img).permute(2, 0, 1).float()[None] / 255
        if t.shape[-2:] != (size, size):
            t = F.interpolate(
                t, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        out.append(t[0])
    x = torch.stack(out)
    mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def _save_atomic(state: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def train_diet(
    model: Any,
    images: Any,
    labels: Any,
    *,
    transform: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None,
    config: DietConfig | None = None,
    device: str = "cpu",
    checkpoint: str | os.PathLike | None = None,
    weights: Any = None,
    progress: bool = True,
) -> DietResult:
    """Train (or fine-tune) a classifier on an image set — the developmental-diet hook.

    Parameters
    ----------
    model : nn.Module, backbone name or Backbone
        A classifier returning logits (e.g. ``"timm:vgg16"``, created with ``num_classes`` =
        the number of labels; a module is trained as given).
    images : images
        Paths, PIL images or arrays (see :func:`cogattn.stimuli.images.as_image_list`).
    labels : sequence of int
        Class index per image (0 .. n_classes − 1).
    transform : callable, optional
        Applied to the list of images before training (e.g. :func:`rotate_images`).
    config : DietConfig, optional
    device : str
    checkpoint : path, optional
        Where to save the ``state_dict`` (atomically, after every epoch).
    weights : None, "hub" or path
        Starting weights when ``model`` is a name (fine-tuning); ``None`` trains from scratch.
    progress : bool
        Show a tqdm bar over batches.

    Returns
    -------
    DietResult
    """
    cfg = config or DietConfig()
    arrays, _ = as_image_list(images)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if y.ndim != 1 or len(y) != len(arrays):
        raise ValueError(
            f"need one integer label per image: {len(arrays)} images, labels shape {tuple(y.shape)}"
        )
    if len(arrays) == 0:
        raise ValueError("no training images")
    if (y < 0).any():
        raise ValueError("labels must be >= 0")
    if transform is not None:
        arrays = list(transform(arrays))
        if len(arrays) != len(y):
            raise ValueError(f"transform returned {len(arrays)} images for {len(y)} labels")
    n_classes = int(y.max()) + 1
    torch.manual_seed(cfg.seed)
    net = _resolve_model(model, n_classes, device, weights)
    x = _to_tensor(arrays, cfg.image_size_px)
    for p in net.parameters():
        p.requires_grad_(True)
    if cfg.freeze_features:
        features = getattr(net, "features", None)
        if features is None:
            raise ValueError(
                "freeze_features=True needs a model with a `features` submodule (VGG family)"
            )
        for p in features.parameters():
            p.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        raise ValueError("nothing to train: every parameter is frozen")
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(cfg.seed)
    n_batches = -(-len(y) // cfg.batch_size)
    result = DietResult(model=net)
    bar = tqdm(
        total=cfg.epochs * n_batches, desc="diet training", unit="batch", disable=not progress
    )
    path = None if checkpoint is None else Path(checkpoint)
    for epoch in range(cfg.epochs):
        net.train()
        order = torch.randperm(len(y), generator=gen)
        total, correct = 0.0, 0
        for b in range(n_batches):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            xb, yb = x[idx].to(device), y[idx].to(device)
            logits = net(xb)
            if logits.ndim != 2 or logits.shape[1] < n_classes:
                raise ValueError(
                    f"the model returned outputs of shape {tuple(logits.shape)}; expected logits (batch, >= {n_classes})"
                )
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            bar.update(1)
        result.losses.append(total / len(y))
        result.accuracies.append(correct / len(y))
        logger.info(
            "diet epoch %d: loss %.4f, accuracy %.3f",
            epoch + 1,
            result.losses[-1],
            result.accuracies[-1],
        )
        if path is not None:
            result.checkpoint = _save_atomic(net.state_dict(), path)
    bar.close()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return result
