"""Figure ``rsa-profile``: layer-wise RSA of a backbone against human IT and EVC (92 images).

The 92 object images of Kriegeskorte et al. (2008) go through a backbone; one correlation-
distance RDM (1 − Pearson r) per layer — plus the preprocessed pixels as a baseline "layer" —
is compared with the subject RDMs of three regions: human IT of Kriegeskorte et al. (2008;
4 participants × 2 sessions, sessions grouped per participant) and EVC and IT of Cichy et al.
(2014; 15 subjects, Algonauts 2019 / Net2Brain copy). Each panel shows the mean over subjects
of Spearman r (or the Net2Brain squared-r convention) per layer with a 95 % bootstrap CI over
stimuli, and the grey band between the lower (leave-one-subject-out) and upper (all-subject)
noise ceilings. Definitions: :mod:`cogattn.brain.rsa`.

Weights: the default backbone (``timm:resnet18``) is asked for its pretrained weights
(``weights="hub"``); where they cannot be had (offline, no cache) the recipe falls back to
**random weights**, logs a warning, and says so in the figure title and the report — a
random network is a control, not a model of the ventral stream.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)

_K92 = "kriegeskorte92"
_ALG = "algonauts2019_92images"
_PIXELS = "pixels"
_OPTIONS = {
    "backbone",
    "weights",
    "backbone_kwargs",
    "layers",
    "method",
    "convention",
    "n_bootstrap",
    "data_dir",
    "seed",
}


def _load_backbone(name: str, weights: Any, kwargs: dict[str, Any], device: str) -> tuple[Any, str]:
    from cogattn.encoders import WeightsUnavailableError, load_backbone

    if weights is None:
        return load_backbone(name, weights=None, device=device, **kwargs), "random (asked for)"
    try:
        return load_backbone(name, weights=weights, device=device, **kwargs), str(weights)
    except WeightsUnavailableError as err:
        logger.warning(
            "rsa-profile: pretrained weights for %s unavailable (%s); using RANDOM weights",
            name,
            str(err).splitlines()[0],
        )
        return (
            load_backbone(name, weights=None, device=device, **kwargs),
            "random (pretrained weights unavailable)",
        )


def compute(*, small: bool = False, device: str = "cpu", **options: Any) -> xr.Dataset:
    """Backbone RDMs vs the 92-image subject RDMs (see the module docstring).

    Parameters
    ----------
    small : bool
        Tiny path for CI: a 2-block random ViT-tiny at 64 px and 20 bootstrap samples.
    device : str
        Torch device of the backbone.
    **options
        ``backbone`` (default ``"timm:resnet18"``), ``weights`` (``"hub"``; ``None`` =
        random), ``backbone_kwargs`` (dict), ``layers`` (default: all ``layer_names``),
        ``method`` (``"spearman"`` | ``"tau_a"``), ``convention`` (``"rsatoolbox"`` |
        ``"net2brain"``), ``n_bootstrap`` (default 1000), ``seed``, ``data_dir``.
    """
    from cogattn.brain.rsa import compute_rdm, compute_rdms, rsa_profile
    from cogattn.data import load_rdm_stimuli, load_rdms
    from cogattn.data.paths import shared_data_dir

    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise TypeError(f"unexpected option(s) {unknown}; rsa-profile takes {sorted(_OPTIONS)}")
    if small:
        name = options.get("backbone", "timm:vit_tiny_patch16_224")
        kwargs = options.get("backbone_kwargs", {"img_size": 64, "depth": 2})
        weights = options.get("weights")
        n_boot = int(options.get("n_bootstrap", 20))
    else:
        name = options.get("backbone", "timm:resnet18")
        kwargs = options.get("backbone_kwargs") or {}
        weights = options.get("weights", "hub")
        n_boot = int(options.get("n_bootstrap", 1000))
    method = options.get("method", "spearman")
    convention = options.get("convention", "rsatoolbox")
    seed = int(options.get("seed", 0))
    root = Path(options["data_dir"]) if options.get("data_dir") else shared_data_dir()

    brain = {
        "EVC (Cichy 2014)": load_rdms(root / _ALG, roi="EVC"),
        "IT (Cichy 2014)": load_rdms(root / _ALG, roi="IT"),
        "hIT (Kriegeskorte 2008)": load_rdms(root / _K92),
    }
    group = {"hIT (Kriegeskorte 2008)": "participant"}
    images, names = load_rdm_stimuli(root / _ALG)
    for roi, ds in brain.items():
        labels = [str(s) for s in ds["stimulus"].values]
        if labels != list(names):
            raise ValueError(f"{roi}: RDM stimuli do not match the image order of {root / _ALG}")

    bb, weights_used = _load_backbone(name, weights, kwargs, device)
    layers = list(options.get("layers") or bb.layer_names)
    feats = bb.features(images, layers=layers)
    model_rdms = {_PIXELS: compute_rdm(bb.load_images(images).numpy(), stimulus=names, roi=_PIXELS)}
    model_rdms.update(compute_rdms(feats, stimulus=names, source=name))
    prof = rsa_profile(
        model_rdms,
        brain,
        method=method,
        convention=convention,
        group=group,
        n_bootstrap=n_boot,
        seed=seed,
    )
    random = weights_used.startswith("random")
    metric = {"spearman": "Spearman r", "tau_a": "Kendall tau-a"}[method]
    if convention == "net2brain":
        metric = "squared Spearman r (Net2Brain R^2)"
    report = [
        f"RSA profile of {name} (weights: {weights_used}) on the 92-image set"
        + (" — small run" if small else ""),
        f"- score: mean over subjects of {metric}; convention {convention}: {prof.attrs['definition']}",
        f"- CIs: {prof.attrs['ci']:.0%} percentile bootstrap over stimuli, {n_boot} samples",
    ]
    for roi in prof["roi"].values:
        sub = prof.sel(roi=roi)
        best = str(sub["score"].idxmax("layer").values)
        report.append(
            f"- {roi}: noise ceiling [{float(sub['noise_lower']):.3f}, "
            f"{float(sub['noise_upper']):.3f}] ({int(sub['n_subjects'])} subjects); best layer "
            f"{best}: {float(sub['score'].sel(layer=best)):.3f} "
            f"[{float(sub['ci_low'].sel(layer=best)):.3f}, {float(sub['ci_high'].sel(layer=best)):.3f}]"
        )
    if random:
        report.append(
            "- NOTE: RANDOM backbone weights — a control, not a trained model; supply weights "
            "(weights='hub' online or a local checkpoint path) for a real profile."
        )
    prof.attrs.update(
        report="\n".join(report),
        backbone=name,
        weights=weights_used,
        random_weights=int(random),
        metric=metric,
        data_dir=str(root),
        small=int(small),
    )
    return prof


def plot(ds: xr.Dataset):  # -> matplotlib.figure.Figure
    """One panel per ROI: layer profile with bootstrap CI and the noise-ceiling band."""
    import matplotlib.pyplot as plt

    rois = [str(r) for r in ds["roi"].values]
    layers = [str(la) for la in ds["layer"].values]
    x = np.arange(len(layers))
    fig, axes = plt.subplots(
        1, len(rois), figsize=(3.8 * len(rois), 3.6), sharey=True, layout="constrained"
    )
    axes = np.atleast_1d(axes)
    for ax, roi in zip(axes, rois):
        sub = ds.sel(roi=roi)
        lo, up = float(sub["noise_lower"]), float(sub["noise_upper"])
        ax.axhspan(lo, up, color="0.85", label="noise ceiling")
        score = sub["score"].values
        ax.fill_between(x, sub["ci_low"].values, sub["ci_high"].values, alpha=0.3, color="tab:blue")
        ax.plot(x, score, "o-", color="tab:blue", label="model")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks(x, layers, rotation=45, ha="right")
        ax.set_title(f"{roi}\n{int(sub['n_subjects'])} subjects", fontsize=10)
        ax.set_xlabel("layer")
    axes[0].set_ylabel(str(ds.attrs.get("metric", "RDM correlation")))
    axes[0].legend(loc="upper left", fontsize=8)
    title = f"{ds.attrs.get('backbone', 'model')} vs human 92-image RDMs"
    if int(ds.attrs.get("random_weights", 0)):
        title += " — RANDOM weights (control)"
    fig.suptitle(title, fontsize=11)
    return fig


RECIPE = FigureRecipe(
    name="rsa-profile",
    compute=compute,
    plot=plot,
    description="Layer-wise RSA of a backbone vs human IT/EVC (92 images) with noise ceilings",
)
