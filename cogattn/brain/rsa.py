"""Representational similarity analysis (RSA): RDMs, RDM comparison, noise ceilings, profiles.

Conventions (they follow rsatoolbox, Schütt et al. 2023, and Nili et al. 2014 unless named
otherwise; every output names the convention it used in its ``attrs``):

* **RDM vectors** are the condensed upper triangles (``k = 1``) in row-major order, i.e.
  ``numpy.triu_indices(n, 1)`` = :func:`scipy.spatial.distance.squareform` order = rsatoolbox's
  ``RDMs.get_vectors()``. NaN marks a missing pair and is dropped pairwise in comparisons.
* **Dissimilarity measures** (:func:`compute_rdm`): ``"correlation"`` = 1 − Pearson r between
  two stimuli's feature vectors (rsatoolbox ``calc_rdm(method="correlation")``), ``"cosine"`` =
  1 − cosine similarity, ``"euclidean"`` = Euclidean distance (:func:`scipy.spatial.distance.pdist`),
  ``"sqeuclidean"`` = squared Euclidean distance divided by the number of features (what
  rsatoolbox calls ``"euclidean"``). The two Euclidean variants are monotone transforms of each
  other, so rank-based comparisons (Spearman, Kendall τa) give identical results for both.
* **Comparisons** (:func:`compare_rdms`): ``"spearman"`` = Pearson correlation of the
  tie-averaged ranks (rsatoolbox ``compare_spearman``, = :func:`scipy.stats.spearmanr`);
  ``"tau_a"`` = Kendall's τa = (concordant − discordant) / (m (m − 1) / 2) over all m entry
  pairs, where a pair tied in either vector counts as neither concordant nor discordant
  (rsatoolbox ``compare_kendall_tau_a``; Nili et al. 2014 recommend it when a model RDM predicts
  ties, e.g. categorical models).
* **Noise ceilings** (:func:`rdm_noise_ceiling`), convention ``"rsatoolbox"`` (default;
  rsatoolbox ``inference.boot_noise_ceiling``): the subject RDMs are *pooled* in the way that
  maximises the chosen comparison — for Spearman and τa each RDM is rank-transformed and the
  ranks are averaged (rsatoolbox ``pool_rdm``). Upper bound = mean over subjects of
  ``compare(pool(all RDMs), RDM_s)``; lower bound = mean over subjects of
  ``compare(pool(all RDMs except subject s), RDM_s)`` (leave one subject out). When one subject
  has several RDMs (sessions), pass ``group`` so that all of them are left out together; each
  subject's value is then the mean over its RDMs. The model score is the mean over all subject
  RDMs of ``compare(model, RDM_s)`` (rsatoolbox ``eval_fixed``).
* Convention ``"net2brain"`` (Net2Brain ``evaluations/rsa.py`` and ``noiseceiling.py``; the
  Algonauts-2019 evaluation): the model score is the mean over subjects of the **squared**
  Spearman r ("R²"), the ceilings are means of squared Spearman r with the plain (unranked)
  mean RDM of all subjects (upper) or of the other subjects (lower), and ``percent_of_lower``
  = 100 × score / lower ceiling (Net2Brain's ``area_percentNC``). Defined for Spearman only.
* **Bootstrap over stimuli** (:func:`rsa_profile`): stimuli are resampled with replacement; a
  stimulus drawn twice gives a pair of copies whose dissimilarity is a trivial zero, so those
  entries are dropped (rsatoolbox ``RDMs.subsample_pattern`` sets them to NaN), while pairs of
  distinct stimuli enter as often as they were drawn. The CI is the percentile interval of the
  bootstrap distribution of the model score.

References
----------
Kriegeskorte N, Mur M, Bandettini P (2008) Representational similarity analysis. Front Syst
Neurosci 2:4. Nili H, Wingfield C, Walther A, Su L, Marslen-Wilson W, Kriegeskorte N (2014) A
toolbox for representational similarity analysis. PLoS Comput Biol 10:e1003553. Schütt HH,
Kipnis AD, Diedrichsen J, Kriegeskorte N (2023) Statistical inference on representational
geometries. eLife 12:e82566 (rsatoolbox). Bersch D, Dwivedi K, Vilas M, Cichy RM, Roig G (2022)
Net2Brain. arXiv:2208.09677.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import scipy.stats
import xarray as xr
from tqdm.auto import tqdm

from cogattn.data import rdms as make_rdms

__all__ = [
    "COMPARISON_METHODS",
    "CONVENTIONS",
    "MEASURES",
    "compare_rdms",
    "compare_vectors",
    "compute_rdm",
    "compute_rdms",
    "kendall_tau_a",
    "model_rdm_scores",
    "rdm_noise_ceiling",
    "rdm_vectors",
    "resampled_pair_index",
    "rsa_profile",
]

logger = logging.getLogger(__name__)

MEASURES = ("correlation", "cosine", "euclidean", "sqeuclidean")
COMPARISON_METHODS = ("spearman", "tau_a")
CONVENTIONS = ("rsatoolbox", "net2brain")

_MEASURE_NAMES = {
    "correlation": "1 - pearson",
    "cosine": "1 - cosine",
    "euclidean": "euclidean",
    "sqeuclidean": "squared euclidean / n_features",
}

_DEFINITIONS = {
    ("rsatoolbox", "spearman"): (
        "mean over subject RDMs of Spearman r(model, subject) (rsatoolbox eval_fixed); ceilings "
        "from rank-averaged subject RDMs, lower = leave-one-subject-out, upper = all subjects "
        "(rsatoolbox boot_noise_ceiling, Nili et al. 2014)"
    ),
    ("rsatoolbox", "tau_a"): (
        "mean over subject RDMs of Kendall tau-a(model, subject) (rsatoolbox eval_fixed); "
        "ceilings from rank-averaged subject RDMs, lower = leave-one-subject-out, upper = all "
        "subjects (rsatoolbox boot_noise_ceiling, Nili et al. 2014)"
    ),
    ("net2brain", "spearman"): (
        "mean over subject RDMs of squared Spearman r(model, subject) (Net2Brain R^2); ceilings "
        "= mean squared Spearman r of each subject with the plain mean RDM of the other subjects "
        "(lower) or of all subjects (upper)"
    ),
}

Method = Literal["spearman", "tau_a"]
Convention = Literal["rsatoolbox", "net2brain"]


# --------------------------------------------------------------------------------------------
# RDMs from features
# --------------------------------------------------------------------------------------------
def _features_matrix(features: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(stimulus, n_features) float64 matrix and stimulus labels (or None)."""
    labels = None
    if isinstance(features, xr.DataArray):
        if "stimulus" not in features.dims:
            raise ValueError(
                f"expected a DataArray with a 'stimulus' dim, got dims {features.dims}"
            )
        features = features.transpose("stimulus", ...)
        if "stimulus" in features.coords:
            labels = np.asarray(features["stimulus"].values)
        arr = np.asarray(features.values)
    elif hasattr(features, "detach") and hasattr(features, "cpu"):  # torch tensor
        arr = features.detach().cpu().float().numpy()
    else:
        arr = np.asarray(features)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"expected numeric features, got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(
            f"expected features of shape (stimulus, ...) with at least 2 dims, got {arr.shape}"
        )
    arr = arr.reshape(arr.shape[0], -1).astype(np.float64, copy=False)
    if arr.shape[0] < 3:
        raise ValueError(f"an RDM needs at least 3 stimuli, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        bad = sorted({int(i) for i in np.argwhere(~np.isfinite(arr))[:, 0]})[:5]
        raise ValueError(f"features contain NaN/inf (stimulus rows {bad}...)")
    return arr, labels


def _dissimilarity(x: np.ndarray, measure: str) -> np.ndarray:
    if measure in ("correlation", "cosine"):
        if measure == "correlation":
            x = x - x.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(x, axis=1)
        zero = np.flatnonzero(norm <= 1e-12 * max(1.0, float(norm.max())))
        if zero.size:
            raise ValueError(
                f"{measure} distance is undefined for stimuli whose feature vector is "
                f"{'constant' if measure == 'correlation' else 'zero'} (rows {zero[:5].tolist()}); "
                "use measure='euclidean'"
            )
        x = x / norm[:, None]
        d = 1.0 - x @ x.T
    elif measure in ("euclidean", "sqeuclidean"):
        sq = np.einsum("ij,ij->i", x, x)
        d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
        d = np.sqrt(d) if measure == "euclidean" else d / x.shape[1]
    else:
        raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")
    d = 0.5 * (d + d.T)
    np.fill_diagonal(d, 0.0)
    return d


def compute_rdm(
    features: Any,
    *,
    measure: str = "correlation",
    stimulus: Sequence[Any] | None = None,
    roi: str = "",
    subject: str = "model",
    source: str = "",
) -> xr.Dataset:
    """An RDM from one set of features, as an ``RDMs`` dataset with one subject.

    Parameters
    ----------
    features : array, tensor or xarray.DataArray, shape (stimulus, ...)
        Activations; every dim after the first is flattened into one feature vector per
        stimulus. A DataArray must have a ``stimulus`` dim (its labels are kept).
    measure : {"correlation", "cosine", "euclidean", "sqeuclidean"}
        Dissimilarity (see the module docstring; ``"correlation"`` is 1 − Pearson r as in
        Kriegeskorte et al. 2008).
    stimulus : sequence, optional
        Stimulus labels (default: the DataArray's, else ``0 .. n-1``).
    roi : str
        What the RDM describes (e.g. the layer name); stored as the ``roi`` coord.
    subject : str
        Label of the single RDM along ``subject``.
    source : str
        Provenance (e.g. the backbone name).

    Returns
    -------
    xarray.Dataset
        The ``rdms`` schema (see :mod:`cogattn.data.rdms`), ``attrs["measure"]`` named.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [3.0, 2.0, 1.0]])
    >>> compute_rdm(x)["dissimilarity"].values[0].round(3)
    array([[0.   , 0.018, 2.   ],
           [0.018, 0.   , 1.982],
           [2.   , 1.982, 0.   ]])
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")
    x, labels = _features_matrix(features)
    if stimulus is not None:
        labels = np.asarray(stimulus)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"expected {x.shape[0]} stimulus labels, got shape {labels.shape}")
    d = _dissimilarity(x, measure)
    return make_rdms(
        d,
        subject=[subject],
        stimulus=labels,
        roi=roi,
        measure=_MEASURE_NAMES[measure],
        source=source,
        attrs={"n_features": int(x.shape[1])},
    )


def compute_rdms(
    features: Mapping[str, Any],
    *,
    measure: str = "correlation",
    stimulus: Sequence[Any] | None = None,
    source: str = "",
) -> dict[str, xr.Dataset]:
    """One RDM per layer: ``{layer: compute_rdm(features[layer], roi=layer)}``.

    Parameters
    ----------
    features : mapping of layer name -> features (stimulus, ...)
        E.g. the dict returned by ``Backbone.features(images, layers=[...])``.
    measure : str
        See :func:`compute_rdm`.
    stimulus : sequence, optional
        Stimulus labels for every RDM (default: each feature array's own).
    source : str
        Provenance stored in every RDM.
    """
    if not isinstance(features, Mapping) or not features:
        raise TypeError("expected a non-empty mapping of layer name -> features")
    return {
        str(name): compute_rdm(f, measure=measure, stimulus=stimulus, roi=str(name), source=source)
        for name, f in features.items()
    }


# --------------------------------------------------------------------------------------------
# RDM vectors and comparisons
# --------------------------------------------------------------------------------------------
def _n_from_length(m: int) -> int:
    n = round((1 + np.sqrt(1 + 8 * m)) / 2)
    if n * (n - 1) // 2 != m:
        raise ValueError(f"a condensed RDM vector has n(n-1)/2 entries; {m} is not such a number")
    return n


def rdm_vectors(rdm: Any) -> np.ndarray:
    """Condensed upper triangles, shape ``(n_rdms, n (n - 1) / 2)``, float64.

    Accepts an ``RDMs`` dataset (all subjects), a DataArray with dims ``(..., stimulus,
    stimulus_)``, a square matrix ``(n, n)`` (always read as one RDM), a stack ``(k, n, n)``,
    one condensed vector ``(m,)`` or condensed vectors ``(k, m)`` with ``k`` ≠ ``m``.
    """
    if isinstance(rdm, xr.Dataset):
        if "dissimilarity" not in rdm:
            raise ValueError("expected an RDMs dataset with a 'dissimilarity' variable")
        rdm = rdm["dissimilarity"]
    if isinstance(rdm, xr.DataArray):
        arr = np.asarray(rdm.values, dtype=np.float64)
        if arr.ndim == 2:
            arr = arr[None]
        arr = arr.reshape(-1, *arr.shape[-2:])
        return _triu(arr)
    arr = np.asarray(rdm, dtype=np.float64)
    if arr.ndim == 3:
        return _triu(arr)
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        return _triu(arr[None])
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise ValueError(f"cannot read RDMs from an array of shape {arr.shape}")
    _n_from_length(arr.shape[1])
    return arr


def _triu(stack: np.ndarray) -> np.ndarray:
    n = stack.shape[-1]
    if stack.shape[-2] != n:
        raise ValueError(f"expected square RDMs, got {stack.shape[-2]}x{n}")
    if n < 3:
        raise ValueError(f"an RDM comparison needs at least 3 stimuli, got {n}")
    filled = np.nan_to_num(stack, nan=0.0)
    if np.abs(filled - filled.transpose(0, 2, 1)).max() > 1e-6 * max(
        1.0, float(np.abs(filled).max())
    ):
        raise ValueError("expected symmetric RDMs (d[i, j] == d[j, i])")
    iu = np.triu_indices(n, 1)
    return stack[:, iu[0], iu[1]]


def _rank_rows(v: np.ndarray) -> np.ndarray:
    """Tie-averaged ranks per row (NaN kept as NaN)."""
    if not np.isnan(v).any():
        return scipy.stats.rankdata(v, axis=1)
    out = np.full(v.shape, np.nan)
    for i, row in enumerate(v):
        ok = ~np.isnan(row)
        out[i, ok] = scipy.stats.rankdata(row[ok])
    return out


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between every row of ``a`` and every row of ``b`` (no NaN)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a @ b.T) / np.outer(na, nb)
    return np.clip(r, -1.0, 1.0)


def kendall_tau_a(x: Any, y: Any) -> float:
    """Kendall's τa between two vectors (rsatoolbox's definition).

    τa = (n_concordant − n_discordant) / (m (m − 1) / 2), where a pair tied in ``x`` or in
    ``y`` is neither concordant nor discordant but still counts in the denominator (unlike
    τb, which shrinks the denominator for ties). Computed in O(m log m) from SciPy's τb:
    ``C − D = τb · sqrt((M − T_x)(M − T_y))`` with ``M = m (m − 1) / 2`` and ``T`` the number
    of pairs tied within each vector. Pairs where either value is NaN are dropped.

    Parameters
    ----------
    x, y : array-like (m,)
        Two vectors (e.g. condensed RDMs).

    Returns
    -------
    float

    References
    ----------
    Kendall MG (1938) Biometrika 30:81. Nili et al. (2014) PLoS Comput Biol 10:e1003553.

    Examples
    --------
    >>> kendall_tau_a([1, 2, 3, 4], [1, 2, 2, 4])  # 5 concordant, 0 discordant, 1 tie / 6
    0.8333333333333334
    """
    xv = np.asarray(x, dtype=np.float64).ravel()
    yv = np.asarray(y, dtype=np.float64).ravel()
    if xv.shape != yv.shape:
        raise ValueError(f"expected vectors of equal length, got {xv.shape} and {yv.shape}")
    ok = ~(np.isnan(xv) | np.isnan(yv))
    xv, yv = xv[ok], yv[ok]
    m = xv.size
    if m < 2:
        raise ValueError(f"Kendall's tau-a needs at least 2 non-NaN pairs, got {m}")
    total = m * (m - 1) / 2
    tx = _tied_pairs(xv)
    ty = _tied_pairs(yv)
    if tx == total or ty == total:
        return 0.0  # every pair is tied in one vector: no concordant or discordant pairs
    tau_b = scipy.stats.kendalltau(xv, yv, variant="b").statistic
    c_minus_d = float(tau_b) * np.sqrt((total - tx) * (total - ty))
    return float(np.clip(c_minus_d / total, -1.0, 1.0))


def _tied_pairs(v: np.ndarray) -> float:
    _, counts = np.unique(v, return_counts=True)
    return float((counts * (counts - 1) // 2).sum())


def compare_vectors(a: Any, b: Any, method: str = "spearman") -> np.ndarray:
    """Similarity of every row of ``a`` with every row of ``b``: shape (len(a), len(b)).

    The low-level form of :func:`compare_rdms` on RDM *entries*: the rows need not be full
    condensed RDMs (e.g. the entries of a bootstrap resample, see
    :func:`resampled_pair_index`). NaN entries are dropped pairwise.
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"RDMs of different sizes: {a.shape[1]} vs {b.shape[1]} entries")
    has_nan = np.isnan(a).any() or np.isnan(b).any()
    if method == "spearman":
        if not has_nan:
            return _pearson_rows(_rank_rows(a), _rank_rows(b))
        out = np.empty((a.shape[0], b.shape[0]))
        for i, va in enumerate(a):
            for j, vb in enumerate(b):
                ok = ~(np.isnan(va) | np.isnan(vb))
                out[i, j] = _pearson_rows(
                    scipy.stats.rankdata(va[ok])[None], scipy.stats.rankdata(vb[ok])[None]
                )[0, 0]
        return out
    if method == "tau_a":
        return np.array([[kendall_tau_a(va, vb) for vb in b] for va in a])
    raise ValueError(f"unknown comparison method {method!r}; expected one of {COMPARISON_METHODS}")


def compare_rdms(rdm1: Any, rdm2: Any, *, method: Method = "spearman") -> np.ndarray:
    """Similarity of every RDM in ``rdm1`` with every RDM in ``rdm2``.

    Parameters
    ----------
    rdm1, rdm2 : RDMs dataset, DataArray, square matrix, stack or condensed vectors
        See :func:`rdm_vectors` for the accepted forms. Both must describe the same stimuli
        in the same order.
    method : {"spearman", "tau_a"}
        ``"spearman"``: Pearson r of tie-averaged ranks (rsatoolbox ``compare_spearman``);
        ``"tau_a"``: Kendall's τa (rsatoolbox ``compare_kendall_tau_a``, see
        :func:`kendall_tau_a`). Pairs that are NaN in either RDM are dropped.

    Returns
    -------
    numpy.ndarray, shape (n_rdms1, n_rdms2)

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]], float)
    >>> compare_rdms(d, d ** 2, method="spearman")  # monotone transform: identical ranks
    array([[1.]])
    """
    if method not in COMPARISON_METHODS:
        raise ValueError(
            f"unknown comparison method {method!r}; expected one of {COMPARISON_METHODS}"
        )
    return compare_vectors(rdm_vectors(rdm1), rdm_vectors(rdm2), method)


# --------------------------------------------------------------------------------------------
# Subject RDMs: groups, pooling, noise ceilings and model scores
# --------------------------------------------------------------------------------------------
def _subject_vectors(
    subject_rdms: Any, group: str | Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors (k, m), group id per RDM (k,), labels of the RDMs (k,))."""
    if isinstance(subject_rdms, xr.Dataset):
        vec = rdm_vectors(subject_rdms)
        labels = np.asarray(subject_rdms["subject"].values).astype(str)
        if isinstance(group, str):
            if group not in subject_rdms.coords:
                raise ValueError(
                    f"group={group!r} is not a coordinate of the RDMs dataset; "
                    f"available: {sorted(map(str, subject_rdms.coords))}"
                )
            grp = np.asarray(subject_rdms[group].values)
            if grp.shape != (vec.shape[0],):
                raise ValueError(f"coordinate {group!r} must lie along 'subject'")
        elif group is None:
            grp = labels
        else:
            grp = np.asarray(group)
    else:
        vec = rdm_vectors(subject_rdms)
        labels = np.arange(vec.shape[0]).astype(str)
        if isinstance(group, str):
            raise ValueError("group given by name needs an RDMs dataset with that coordinate")
        grp = labels if group is None else np.asarray(group)
    if grp.shape != (vec.shape[0],):
        raise ValueError(f"expected {vec.shape[0]} group labels, got shape {grp.shape}")
    _, grp_id = np.unique(grp.astype(str), return_inverse=True)
    if grp_id.max() < 1:
        raise ValueError("noise ceilings need RDMs from at least 2 subjects (groups)")
    return vec, grp_id, labels


def _pool(vectors: np.ndarray, convention: str) -> np.ndarray:
    """The pooled (average) RDM vector, shape (1, m)."""
    if convention == "rsatoolbox":
        vectors = _rank_rows(vectors)  # rsatoolbox pool_rdm for 'spearman' / 'tau-a'
    with np.errstate(invalid="ignore"):
        pooled = vectors.mean(axis=0, keepdims=True)  # NaN where any RDM misses the pair
    return pooled


def _check_method_convention(method: str, convention: str) -> None:
    if method not in COMPARISON_METHODS:
        raise ValueError(
            f"unknown comparison method {method!r}; expected one of {COMPARISON_METHODS}"
        )
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; expected one of {CONVENTIONS}")
    if convention == "net2brain" and method != "spearman":
        raise ValueError(
            "convention 'net2brain' (squared Spearman r) is defined for method='spearman' only"
        )


def _transform(sim: np.ndarray, convention: str) -> np.ndarray:
    return sim**2 if convention == "net2brain" else sim


def _ceiling_vectors(
    vec: np.ndarray, grp_id: np.ndarray, method: str, convention: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group lower and upper ceiling values (each the mean over that group's RDMs)."""
    n_groups = int(grp_id.max()) + 1
    pooled_all = _pool(vec, convention)
    lower = np.empty(n_groups)
    upper = np.empty(n_groups)
    for g in range(n_groups):
        test = vec[grp_id == g]
        pooled_rest = _pool(vec[grp_id != g], convention)
        lower[g] = _transform(compare_vectors(pooled_rest, test, method), convention).mean()
        upper[g] = _transform(compare_vectors(pooled_all, test, method), convention).mean()
    return lower, upper


def rdm_noise_ceiling(
    subject_rdms: Any,
    *,
    method: Method = "spearman",
    convention: Convention = "rsatoolbox",
    group: str | Sequence[Any] | None = None,
) -> xr.Dataset:
    """Lower and upper noise ceilings from subject RDMs (Nili et al. 2014).

    Parameters
    ----------
    subject_rdms : RDMs dataset or stack (k, n, n)
        One RDM per subject (or per subject × session; see ``group``).
    method : {"spearman", "tau_a"}
        RDM comparison.
    convention : {"rsatoolbox", "net2brain"}
        ``"rsatoolbox"``: mean r (or τa), subject RDMs pooled by averaging their ranks;
        ``"net2brain"``: mean squared Spearman r, subject RDMs pooled by their plain mean.
        See the module docstring for the exact definitions.
    group : str or sequence, optional
        Which RDMs belong to the same subject: the name of a coordinate along ``subject``
        of the dataset, or one label per RDM. Default: the ``subject`` labels (each distinct
        label is one subject; repeated labels are grouped).

    Returns
    -------
    xarray.Dataset
        Scalars ``lower`` and ``upper``; ``lower_per_subject`` / ``upper_per_subject`` along
        ``group``; attrs ``method``, ``convention``, ``definition``, ``n_subjects``.

    References
    ----------
    Nili et al. (2014) PLoS Comput Biol 10:e1003553; rsatoolbox ``boot_noise_ceiling``;
    Net2Brain ``NoiseCeiling``.
    """
    _check_method_convention(method, convention)
    vec, grp_id, labels = _subject_vectors(subject_rdms, group)
    lower, upper = _ceiling_vectors(vec, grp_id, method, convention)
    first = [str(labels[np.flatnonzero(grp_id == g)[0]]) for g in range(lower.size)]
    return xr.Dataset(
        {
            "lower": ((), float(lower.mean())),
            "upper": ((), float(upper.mean())),
            "lower_per_subject": (("group",), lower),
            "upper_per_subject": (("group",), upper),
        },
        coords={"group": np.arange(lower.size), "group_first_rdm": ("group", first)},
        attrs={
            "method": method,
            "convention": convention,
            "definition": _DEFINITIONS[(convention, method)],
            "n_subjects": int(lower.size),
            "n_rdms": int(vec.shape[0]),
        },
    )


def model_rdm_scores(
    model_rdm: Any,
    subject_rdms: Any,
    *,
    method: Method = "spearman",
    convention: Convention = "rsatoolbox",
) -> np.ndarray:
    """Per-subject-RDM evaluations of each model RDM: shape (n_models, n_subject_rdms).

    Under ``"rsatoolbox"`` these are r (or τa); under ``"net2brain"`` squared Spearman r.
    The model score of either convention is the mean over the last axis.
    """
    _check_method_convention(method, convention)
    return _transform(
        compare_vectors(rdm_vectors(model_rdm), rdm_vectors(subject_rdms), method), convention
    )


# --------------------------------------------------------------------------------------------
# Layer-wise profiles with bootstrap CIs over stimuli
# --------------------------------------------------------------------------------------------
def _condensed_index(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Index of pair (a, b), a < b, in the condensed vector of an n x n RDM."""
    return n * a - a * (a + 1) // 2 + (b - a - 1)


def resampled_pair_index(idx: Any, n: int) -> np.ndarray:
    """Condensed-vector indices of the RDM entries of a resample of ``n`` stimuli.

    Parameters
    ----------
    idx : array of int
        The drawn stimuli (with replacement), e.g. ``rng.integers(0, n, n)``.
    n : int
        Number of stimuli of the full RDM.

    Returns
    -------
    numpy.ndarray of int
        One entry per pair of drawn positions ``p < q``, in row-major order, except pairs of
        copies of the same stimulus (their dissimilarity is a trivial zero; rsatoolbox
        ``RDMs.subsample_pattern`` sets them to NaN and comparisons drop them). Pairs of
        distinct stimuli drawn several times appear several times.
    """
    idx = np.asarray(idx, dtype=np.int64)
    if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
        raise ValueError(f"idx must be a 1-D array of stimulus indices in [0, {n})")
    p, q = np.triu_indices(idx.size, 1)
    a, b = idx[p], idx[q]
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    return _condensed_index(lo, hi, n)


def _stimulus_labels(value: Any) -> list[str] | None:
    if isinstance(value, (xr.Dataset, xr.DataArray)) and "stimulus" in value.coords:
        return [str(v) for v in np.asarray(value["stimulus"].values)]
    return None


def _check_stimulus_order(model_rdms: Mapping[str, Any], brain_rdms: Mapping[str, Any]) -> None:
    """Refuse RDMs that hold the same stimuli in different orders (a silent mismatch)."""
    labelled = [
        (f"model {k!r}", lab) for k, v in model_rdms.items() if (lab := _stimulus_labels(v))
    ] + [(f"ROI {k!r}", lab) for k, v in brain_rdms.items() if (lab := _stimulus_labels(v))]
    for (name_a, a), (name_b, b) in itertools.combinations(labelled, 2):
        if a != b and sorted(a) == sorted(b):
            raise ValueError(
                f"{name_a} and {name_b} hold the same stimuli in different orders; reorder one "
                "with ds.sel(stimulus=order, stimulus_=order)"
            )


class _WeightedSpearman:
    """Spearman r of resampled RDM entries without re-sorting (fast bootstrap path).

    A bootstrap resample repeats entry ``k`` of the condensed vectors ``w_k`` times. The
    tie-averaged rank of a value ``x`` in the resampled vector is
    ``Σ_{x_j < x} w_j + (Σ_{x_j = x} w_j + 1) / 2``, computed from one sort of the original
    vectors; Pearson r of the ranks then weights every entry by ``w_k``. The result equals
    :func:`compare_vectors` on the explicitly resampled entries (tested).
    """

    def __init__(self, vectors: np.ndarray) -> None:
        self.rows, self.m = vectors.shape
        self.order = np.argsort(vectors, axis=1, kind="stable")
        sv = np.take_along_axis(vectors, self.order, axis=1)
        new = np.ones(sv.shape, dtype=bool)
        new[:, 1:] = sv[:, 1:] != sv[:, :-1]
        self.new = new.ravel()
        self.gid = np.cumsum(self.new) - 1  # tie groups never span rows (each row starts one)

    def ranks(self, w: np.ndarray) -> np.ndarray:
        ws = w[self.order].ravel()
        excl = (np.cumsum(ws.reshape(self.rows, self.m), axis=1).ravel() - ws)[self.new]
        total = np.bincount(self.gid, weights=ws)
        sorted_ranks = (excl[self.gid] + (total[self.gid] + 1) / 2).reshape(self.rows, self.m)
        out = np.empty_like(sorted_ranks)
        np.put_along_axis(out, self.order, sorted_ranks, axis=1)
        return out


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson r between rows of ``a`` and rows of ``b``, entry ``k`` counted ``w_k`` times."""
    tw = w.sum()
    a = a - (a @ w)[:, None] / tw
    b = b - (b @ w)[:, None] / tw
    cov = (a * w) @ b.T
    va = np.einsum("ij,ij,j->i", a, a, w)
    vb = np.einsum("ij,ij,j->i", b, b, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(cov / np.sqrt(np.outer(va, vb)), -1.0, 1.0)


def rsa_profile(
    model_rdms: Mapping[str, Any],
    brain_rdms: Mapping[str, Any],
    *,
    method: Method = "spearman",
    convention: Convention = "rsatoolbox",
    group: Mapping[str, str | Sequence[Any] | None] | str | None = None,
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    verbose: bool = True,
) -> xr.Dataset:
    """Layer-wise model-vs-brain RSA profile with bootstrap CIs over stimuli.

    Parameters
    ----------
    model_rdms : mapping of layer name -> RDM (dataset, matrix or condensed vector)
        One RDM per model layer (e.g. from :func:`compute_rdms`), all over the same stimuli.
    brain_rdms : mapping of ROI name -> subject RDMs (RDMs dataset or stack)
        Subject RDMs per brain region; same stimuli in the same order as the model RDMs.
    method, convention :
        See :func:`rdm_noise_ceiling`.
    group : mapping ROI -> group spec, a coordinate name for all ROIs, or None
        Which RDMs belong to one subject (see :func:`rdm_noise_ceiling`).
    n_bootstrap : int
        Bootstrap resamples of the stimuli (0 disables the CIs). Each resample recomputes the
        model score on the resampled pairs (copies of one stimulus dropped).
    ci : float
        Central percentile interval of the bootstrap distribution.
    seed : int
        Seed of the resampling.
    verbose : bool
        Show a progress bar over bootstrap samples.

    Returns
    -------
    xarray.Dataset
        dims ``layer × roi``: ``score`` (mean over subject RDMs; r, τa or r² per the
        convention), ``ci_low``, ``ci_high``, ``sem`` (standard error over subjects);
        per ROI ``noise_lower``, ``noise_upper``, ``n_subjects``; ``percent_of_lower``
        (100 × score / lower ceiling). attrs name ``method``, ``convention``, ``definition``,
        ``ci``, ``n_bootstrap`` and the bootstrap scheme.

    References
    ----------
    Nili et al. (2014); Schütt et al. (2023) eLife 12:e82566 (bootstrap over stimuli).
    """
    _check_method_convention(method, convention)
    if not model_rdms or not brain_rdms:
        raise ValueError("expected at least one model RDM and one brain ROI")
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie in (0, 1), got {ci}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    layers = [str(k) for k in model_rdms]
    rois = [str(k) for k in brain_rdms]
    _check_stimulus_order(model_rdms, brain_rdms)
    model_vec = np.concatenate([rdm_vectors(model_rdms[k]) for k in model_rdms])
    if model_vec.shape[0] != len(layers):
        raise ValueError("each model entry must hold exactly one RDM")
    m = model_vec.shape[1]
    n = _n_from_length(m)
    subj: list[tuple[np.ndarray, np.ndarray]] = []
    for roi_name, value in brain_rdms.items():
        grp = group.get(roi_name) if isinstance(group, Mapping) else group
        vec, grp_id, _ = _subject_vectors(value, grp)
        if vec.shape[1] != m:
            raise ValueError(
                f"ROI {roi_name!r} has RDMs over {_n_from_length(vec.shape[1])} stimuli, the "
                f"model RDMs over {n}"
            )
        subj.append((vec, grp_id))

    def scores(idx: np.ndarray | None) -> np.ndarray:
        out = np.empty((len(layers), len(rois)))
        mv = model_vec if idx is None else model_vec[:, idx]
        for r, (vec, _) in enumerate(subj):
            sv = vec if idx is None else vec[:, idx]
            out[:, r] = _transform(compare_vectors(mv, sv, method), convention).mean(axis=1)
        return out

    score = scores(None)
    sem = np.empty_like(score)
    lower = np.empty(len(rois))
    upper = np.empty(len(rois))
    n_subjects = np.empty(len(rois), dtype=np.int64)
    for r, (vec, grp_id) in enumerate(subj):
        per = _transform(compare_vectors(model_vec, vec, method), convention)
        # standard error over subjects (the per-subject value averages that subject's RDMs)
        per_group = np.stack(
            [per[:, grp_id == g].mean(axis=1) for g in range(int(grp_id.max()) + 1)], axis=1
        )
        sem[:, r] = per_group.std(axis=1, ddof=1) / np.sqrt(per_group.shape[1])
        lo, up = _ceiling_vectors(vec, grp_id, method, convention)
        lower[r], upper[r] = lo.mean(), up.mean()
        n_subjects[r] = lo.size
    ci_low = np.full_like(score, np.nan)
    ci_high = np.full_like(score, np.nan)
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        boot = np.empty((n_bootstrap, len(layers), len(rois)))
        fast = method == "spearman" and not (
            np.isnan(model_vec).any() or any(np.isnan(v).any() for v, _ in subj)
        )
        if fast:
            model_ranker = _WeightedSpearman(model_vec)
            subj_rankers = [_WeightedSpearman(v) for v, _ in subj]
        for b in tqdm(range(n_bootstrap), desc="RSA bootstrap", disable=not verbose, leave=False):
            pairs = resampled_pair_index(rng.integers(0, n, size=n), n)
            if not fast:
                boot[b] = scores(pairs)
                continue
            w = np.bincount(pairs, minlength=m).astype(np.float64)
            mr = model_ranker.ranks(w)
            for r, ranker in enumerate(subj_rankers):
                sim = _weighted_pearson(mr, ranker.ranks(w), w)
                boot[b, :, r] = _transform(sim, convention).mean(axis=1)
        alpha = (1 - ci) / 2
        ci_low, ci_high = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = 100 * score / lower[None, :]
    return xr.Dataset(
        {
            "score": (("layer", "roi"), score),
            "ci_low": (("layer", "roi"), ci_low),
            "ci_high": (("layer", "roi"), ci_high),
            "sem": (("layer", "roi"), sem),
            "percent_of_lower": (("layer", "roi"), percent),
            "noise_lower": (("roi",), lower),
            "noise_upper": (("roi",), upper),
            "n_subjects": (("roi",), n_subjects),
        },
        coords={"layer": layers, "roi": rois},
        attrs={
            "method": method,
            "convention": convention,
            "definition": _DEFINITIONS[(convention, method)],
            "ci": float(ci),
            "n_bootstrap": int(n_bootstrap),
            "bootstrap": (
                "stimuli resampled with replacement; entries between copies of the same stimulus "
                "dropped (rsatoolbox subsample_pattern); percentile interval of the model score"
            ),
            "seed": int(seed),
        },
    )
