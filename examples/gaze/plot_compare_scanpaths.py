"""
Compare model scanpaths with human search scanpaths
====================================================

Score two baseline models (a centre bias and uniformly random fixations) against the
COCO-Search18 target-present validation scanpaths, next to the human-human consistency
ceiling, with the metrics the scanpath-prediction papers report: the sequence score
(MeanShift clusters per image and task), MultiMatch and ScanMatch — plus the cumulative
probability of having found the target.

Set ``COGATTN_EXAMPLE_SMALL=1`` for a quick run on 12 image-task groups.
"""

# %%
# Load the human scanpaths
# ------------------------
# ``load_scanpaths`` converts the official JSON to the ``Scanpaths`` schema (x, y in image
# pixels of the 1680x1050 display, durations in ms). A few fixations lie outside the
# display; the loader clips them to the border and says so with a warning.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

from cogattn.data import DataWarning, load_scanpaths, scanpaths
from cogattn.data.paths import shared_data_dir
from cogattn.gaze import compare, create_model, human_consistency
from cogattn.gaze.compare import CompareConfig, summarize

SMALL = os.environ.get("COGATTN_EXAMPLE_SMALL") == "1"
path = shared_data_dir() / "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DataWarning)  # 5 border fixations clipped (see above)
    human = load_scanpaths(path, format="coco-search18")
if SMALL:
    keys = sorted(set(zip(human["image"].values, human["task"].values)))[:12]
    keep = [(i, t) in set(keys) for i, t in zip(human["image"].values, human["task"].values)]
    human = human.isel(trial=np.flatnonzero(keep))
print(human.sizes["trial"], "human scanpaths")

# %%
# Human consistency (the ceiling)
# -------------------------------
# Every human scanpath is scored against the other subjects of the same image and task.
# Scores are computed in the 512x320 frame the COCO-Search18 models use; the sequence
# score truncates strings to 7 fixations (Gazeformer's convention).
config = CompareConfig(image_size_px=(512, 320), max_fixations=7)
metrics = ["sequence_score", "multimatch_vector", "multimatch_direction", "scanmatch"]
clusters: dict = {}  # sequence-score clusters, fitted once per image-task and reused
ceiling = human_consistency(human, metrics, protocol="pairwise", config=config, clusters=clusters)
print(summarize(ceiling, n_boot=200).to_dataframe())

# %%
# Baseline model scanpaths
# ------------------------
# The baselines ignore the image content, so a blank 512x320 stimulus stands in for each
# COCO image; each prediction is labelled with the image and task it stands for.
images = human["image"].values.astype(str)
tasks = human["task"].values.astype(str)
groups = sorted(set(zip(images, tasks)))
blank = np.zeros((320, 512, 3), dtype=np.uint8)
results = {"human": summarize(ceiling, n_boot=200)}
for name in ("centre-bias", "random"):
    model = create_model(name)
    fixations = [
        model.predict(blank, task=task, n_fixations=4, seed=k).scanpath.trial(0)
        for k, (_, task) in enumerate(groups)
    ]
    pred = scanpaths(
        [f[:, 0] for f in fixations],
        [f[:, 1] for f in fixations],
        image_size_px=(512, 320),
        image=[g[0] for g in groups],
        task=[g[1] for g in groups],
        subject=name,
        source=name,
    )
    scores = compare(pred, human, metrics, config=config, clusters=clusters)
    results[name] = summarize(scores, n_boot=200)

# %%
# Plot: mean similarity to the humans, 95 % bootstrap intervals over images
# -------------------------------------------------------------------------
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
width = 0.27
for k, (name, summary) in enumerate(results.items()):
    mean = summary["mean"].values
    err = np.vstack([mean - summary["ci_low"].values, summary["ci_high"].values - mean])
    ax.bar(np.arange(len(metrics)) + (k - 1) * width, mean, width, yerr=err, capsize=2, label=name)
ax.set_xticks(np.arange(len(metrics)))
ax.set_xticklabels([m.replace("_", " ") for m in metrics])
ax.set_ylabel("similarity to human scanpaths")
ax.legend(frameon=False)
ax.set_title("COCO-Search18 val: baselines vs human consistency")
