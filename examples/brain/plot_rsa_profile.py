"""
Layer-wise RSA profile against human IT and EVC (92 images)
===========================================================

Compare every layer of a backbone with human fMRI RDMs of the 92-image set (Kriegeskorte et
al. 2008; Cichy et al. 2014): one RDM per layer (1 − Pearson r), the mean Spearman r over
subjects with bootstrap CIs over stimuli, and the subject-level noise ceilings of Nili et al.
(2014) as implemented in rsatoolbox.

Without internet or a local checkpoint the backbone has **random** weights (a control), and
the figure title says so. Set ``COGATTN_EXAMPLE_SMALL=1`` for a tiny run.
"""

# %%
# Load the human RDMs and the stimuli
# -----------------------------------
import os

import matplotlib.pyplot as plt

from cogattn.brain import compute_rdms, rdm_noise_ceiling, rsa_profile
from cogattn.data import load_rdm_stimuli, load_rdms
from cogattn.data.paths import shared_data_dir
from cogattn.encoders import WeightsUnavailableError, load_backbone
from cogattn.figures.rsa_profile import plot

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
root = shared_data_dir()
brain = {
    "EVC (Cichy 2014)": load_rdms(root / "algonauts2019_92images", roi="EVC"),
    "IT (Cichy 2014)": load_rdms(root / "algonauts2019_92images", roi="IT"),
    "hIT (Kriegeskorte 2008)": load_rdms(root / "kriegeskorte92"),
}
images, names = load_rdm_stimuli(root / "algonauts2019_92images")

# %%
# Noise ceilings: how well could any model do?
# ---------------------------------------------
# The two sessions of each Kriegeskorte participant are left out together.
nc = rdm_noise_ceiling(brain["hIT (Kriegeskorte 2008)"], group="participant")
print(f"hIT ceiling: [{float(nc['lower']):.3f}, {float(nc['upper']):.3f}]")

# %%
# Layer RDMs of a backbone
# ------------------------
if SMALL:
    bb = load_backbone("timm:vit_tiny_patch16_224", weights=None, img_size=64, depth=2)
    weights = "random"
else:
    try:
        bb = load_backbone("timm:resnet18", weights="hub")
        weights = "pretrained"
    except WeightsUnavailableError:
        bb = load_backbone("timm:resnet18", weights=None)
        weights = "random"
model_rdms = compute_rdms(bb.features(images, layers=list(bb.layer_names)), stimulus=names)

# %%
# The profile and its figure
# --------------------------
profile = rsa_profile(
    model_rdms,
    brain,
    group={"hIT (Kriegeskorte 2008)": "participant"},
    n_bootstrap=20 if SMALL else 1000,
)
profile.attrs.update(backbone=bb.name, random_weights=int(weights == "random"), metric="Spearman r")
fig = plot(profile)
print(profile["score"].to_pandas().round(3))
plt.show()
