"""Scanpath, saliency and search-efficiency metrics (pure, vectorised functions).

Pair metrics take two scanpaths as ``(n, 2)`` or ``(n, 3)`` arrays (x px, y px[, duration
ms]) and return a float (or a dict for MultiMatch); image/screen sizes are the keyword
``screen_size_px=(width, height)``. Each function's docstring states its conventions
(truncation, initial fixation, normalisation, NaN policy) and the paper it follows.
Dataset-level comparison (model vs humans, human consistency) is in
:func:`cogattn.gaze.compare` and :func:`cogattn.gaze.human_consistency`.
"""

from cogattn.gaze.metrics.alignment import (
    batch_levenshtein,
    batch_needleman_wunsch,
    batch_nw_similarity,
    grid_string,
    levenshtein,
    needleman_wunsch,
    nw_similarity,
    string_edit_distance,
)
from cogattn.gaze.metrics.asymmetry import (
    HUMAN_RT_MS,
    asymmetry_index,
    asymmetry_indices,
    human_rt_lines,
    rt_from_fixations,
    rt_slope,
)
from cogattn.gaze.metrics.behaviour import (
    BEHAVIOUR_FIELDS,
    behaviour_delta,
    behaviour_vector,
    grid_objects,
    grid_target_object,
    mean_behaviour,
)
from cogattn.gaze.metrics.clustering import (
    SS_BANDWIDTH_FACTORS,
    ClusterConfig,
    FixationClusters,
    cluster_fixations,
    estimate_bandwidth,
    mean_shift,
)
from cogattn.gaze.metrics.distances import dtw, frechet
from cogattn.gaze.metrics.multimatch import (
    MULTIMATCH_DIMENSIONS,
    MultiMatchConfig,
    multimatch,
    multimatch_many,
)
from cogattn.gaze.metrics.saliency import (
    auc,
    auc_judd,
    auc_shuffled,
    cc,
    fixation_density,
    fixation_map,
    information_gain,
    kld,
    nss,
    sim,
    to_density,
)
from cogattn.gaze.metrics.scanmatch import (
    scanmatch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
)
from cogattn.gaze.metrics.search_efficiency import (
    cumulative_target_found,
    probability_mismatch,
    scanpath_ratio,
    steps_to_target,
    target_found_cdf,
    tfp_auc,
)
from cogattn.gaze.metrics.sequence_score import (
    cluster_string,
    expand_by_duration,
    segmentation_string,
    semantic_sequence_score,
    semantic_sequence_score_with_duration,
    sequence_score,
    sequence_score_with_duration,
)

__all__ = [
    "BEHAVIOUR_FIELDS",
    "HUMAN_RT_MS",
    "MULTIMATCH_DIMENSIONS",
    "SS_BANDWIDTH_FACTORS",
    "ClusterConfig",
    "FixationClusters",
    "MultiMatchConfig",
    "asymmetry_index",
    "asymmetry_indices",
    "auc",
    "auc_judd",
    "auc_shuffled",
    "batch_levenshtein",
    "batch_needleman_wunsch",
    "batch_nw_similarity",
    "behaviour_delta",
    "behaviour_vector",
    "cc",
    "cluster_fixations",
    "cluster_string",
    "cumulative_target_found",
    "dtw",
    "estimate_bandwidth",
    "expand_by_duration",
    "fixation_density",
    "fixation_map",
    "frechet",
    "grid_objects",
    "grid_string",
    "grid_target_object",
    "human_rt_lines",
    "information_gain",
    "kld",
    "levenshtein",
    "mean_behaviour",
    "mean_shift",
    "multimatch",
    "multimatch_many",
    "needleman_wunsch",
    "nss",
    "nw_similarity",
    "probability_mismatch",
    "rt_from_fixations",
    "rt_slope",
    "scanmatch",
    "scanmatch_sequence",
    "scanmatch_substitution_matrix",
    "scanpath_ratio",
    "segmentation_string",
    "semantic_sequence_score",
    "semantic_sequence_score_with_duration",
    "sequence_score",
    "sequence_score_with_duration",
    "sim",
    "steps_to_target",
    "string_edit_distance",
    "target_found_cdf",
    "tfp_auc",
    "to_density",
]
