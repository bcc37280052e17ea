"""Saliency-map metrics: hand-worked cases, invariants, and scipy/scikit-learn references.

pysaliency (the Tübingen reference) does not import with the setuptools in this
environment (it needs ``pkg_resources``), so the checks use independent references:
``sklearn.metrics.roc_auc_score`` for the ROC areas, ``numpy.corrcoef`` for CC and
``scipy.stats.entropy`` for the KL divergence.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy
from sklearn.metrics import roc_auc_score

from cogattn.gaze.metrics import (
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


def test_nss_hand_worked():
    smap = np.array([[0.0, 1.0], [0.0, 1.0]])  # mean 0.5, std 0.5
    assert nss(smap, [[1.5, 0.5]]) == pytest.approx(1.0)
    assert nss(smap, [[0.2, 0.2], [1.2, 1.2]]) == pytest.approx(0.0)
    assert nss(np.ones((3, 3)), [[1, 1]]) == 0.0  # constant map: no information
    # a fixation exactly on the far edge takes the last pixel
    assert nss(smap, [[2.0, 2.0]]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="outside the map"):
        nss(smap, [[3.0, 0.0]])


def test_auc_variants_match_sklearn(rng):
    smap = rng.integers(0, 5, (12, 15)).astype(float)  # many ties
    fix = np.c_[rng.uniform(0, 15, 20), rng.uniform(0, 12, 20)]
    other = np.c_[rng.uniform(0, 15, 30), rng.uniform(0, 12, 30)]
    pos = smap[fix[:, 1].astype(int), fix[:, 0].astype(int)]
    neg = smap.ravel()
    ref = roc_auc_score(np.r_[np.ones(pos.size), np.zeros(neg.size)], np.r_[pos, neg])
    assert auc(smap, fix) == pytest.approx(ref)
    oneg = smap[other[:, 1].astype(int), other[:, 0].astype(int)]
    ref = roc_auc_score(np.r_[np.ones(pos.size), np.zeros(oneg.size)], np.r_[pos, oneg])
    assert auc_shuffled(smap, fix, other) == pytest.approx(ref)
    assert auc(np.ones((4, 4)), [[1, 1]]) == pytest.approx(0.5)


def test_auc_judd_hand_worked():
    smap = np.array([[1.0, 2.0], [3.0, 4.0]])
    # fixated pixel = the maximum: (0,0) -> (0,1) -> (1,1): area 1
    assert auc_judd(smap, [[1.5, 1.5]], jitter=False) == pytest.approx(1.0)
    # fixated pixel of value 2: threshold 1/3 after rescaling, 3 pixels above it ->
    # fp = (3 - 1) / 3, tp = 1: area 2/3
    assert auc_judd(smap, [[1.5, 0.5]], jitter=False) == pytest.approx(2 / 3)
    # the same pixel fixated twice counts once (binary fixation map)
    assert auc_judd(smap, [[1.5, 0.5], [1.2, 0.2]], jitter=False) == pytest.approx(2 / 3)
    assert np.isnan(auc_judd(np.ones((3, 3)), [[1, 1]], jitter=False))
    j = auc_judd(smap, [[1.5, 0.5]], jitter=True, seed=3)
    assert j == pytest.approx(2 / 3, abs=1e-6)
    assert fixation_map([[1.5, 0.5], [1.2, 0.2]], (2, 2)).sum() == 1


def test_cc_sim_kld_ig(rng):
    a = rng.random((8, 9))
    b = rng.random((8, 9))
    assert cc(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    assert cc(a, a) == pytest.approx(1.0) and cc(a, -a) == pytest.approx(-1.0)
    assert cc(a, b) == pytest.approx(cc(b, a))
    assert cc(a, np.ones_like(a)) == 0.0
    # SIM
    assert sim(a, a) == pytest.approx(1.0)
    assert sim(a, b) == pytest.approx(sim(b, a))
    assert sim([[1.0, 0.0]], [[0.0, 1.0]]) == 0.0
    assert sim([[1.0, 1.0]], [[1.0, 0.0]]) == pytest.approx(0.5)
    # KLD: 0 for identical maps, = KL(q || p) for positive maps (up to the regulariser)
    assert kld(a, a) == pytest.approx(0.0, abs=1e-12)
    p, q = to_density(a), to_density(b)
    assert kld(a, b) == pytest.approx(entropy(q.ravel(), p.ravel()), rel=1e-9)
    assert kld([[0.5, 0.5]], [[1.0, 0.0]]) == pytest.approx(np.log(2))
    # information gain in bits: all mass on the fixated pixel vs uniform over 4 pixels = 2
    dens = np.zeros((2, 2))
    dens[1, 0] = 1.0
    assert information_gain(dens, [[0.5, 1.5]]) == pytest.approx(2.0)
    assert information_gain(a, [[1, 1], [3, 2]], baseline=a) == pytest.approx(0.0)
    fd = fixation_density([[2, 3], [6, 6]], (8, 9), sigma_px=1.5)
    assert fd.sum() == pytest.approx(1.0) and fd[3, 2] > fd[0, 8]
    with pytest.raises(ValueError, match="same shape"):
        sim(a, b[:, :3])
    with pytest.raises(ValueError, match="2-D map"):
        nss(np.zeros(5), [[0, 0]])
