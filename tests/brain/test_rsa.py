"""RSA: RDMs, Spearman / Kendall τa comparisons, noise ceilings and layer profiles.

References: scipy (pdist, spearmanr, kendalltau), a brute-force O(n²) τa, hand-worked cases,
rsatoolbox (the reference implementation the conventions follow) and the real 92-image
subject RDMs.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from scipy.spatial.distance import pdist, squareform

from cogattn.brain import rsa
from cogattn.data import load_rdms, rdms, validate_rdms


def _brute_tau_a(x, y):
    n = len(x)
    s = sum(
        np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in itertools.combinations(range(n), 2)
    )
    return s / (n * (n - 1) / 2)


def _random_rdms(rng, n_subjects, n, noise=1.0, n_features=20):
    """Subject RDMs sharing a common geometry plus subject noise."""
    base = rng.normal(size=(n, n_features))
    out = []
    for _ in range(n_subjects):
        out.append(squareform(pdist(base + noise * rng.normal(size=base.shape), "correlation")))
    return np.stack(out)


# ------------------------------------------------------------------------------ RDMs
@pytest.mark.parametrize(
    ("measure", "scipy_metric", "scale"),
    [
        ("correlation", "correlation", None),
        ("cosine", "cosine", None),
        ("euclidean", "euclidean", None),
        ("sqeuclidean", "sqeuclidean", "per_feature"),
    ],
)
def test_compute_rdm_matches_scipy_pdist(rng, measure, scipy_metric, scale):
    x = rng.normal(size=(9, 4, 5))
    ds = rsa.compute_rdm(x, measure=measure, roi="layer1")
    validate_rdms(ds)
    expected = squareform(pdist(x.reshape(9, -1), scipy_metric))
    if scale == "per_feature":
        expected = expected / 20
    np.testing.assert_allclose(ds["dissimilarity"].values[0], expected, atol=1e-10)
    assert ds.attrs["measure"]
    assert str(ds["roi"].values) == "layer1"


def test_compute_rdm_keeps_dataarray_labels_and_rejects_constant_rows(rng):
    da = xr.DataArray(
        rng.normal(size=(5, 7)), dims=("stimulus", "channel"), coords={"stimulus": list("abcde")}
    )
    ds = rsa.compute_rdm(da)
    assert ds["stimulus"].values.tolist() == list("abcde")
    x = rng.normal(size=(4, 6))
    x[2] = 3.0
    with pytest.raises(ValueError, match="constant"):
        rsa.compute_rdm(x, measure="correlation")
    with pytest.raises(ValueError, match="unknown measure"):
        rsa.compute_rdm(x, measure="manhattan")
    with pytest.raises(ValueError, match="at least 3"):
        rsa.compute_rdm(x[:2])


def test_compute_rdms_per_layer(rng):
    feats = {"a": rng.normal(size=(6, 3)), "b": rng.normal(size=(6, 2, 2))}
    out = rsa.compute_rdms(feats)
    assert list(out) == ["a", "b"]
    assert str(out["b"]["roi"].values) == "b"


# ------------------------------------------------------------------------------ comparisons
def test_kendall_tau_a_hand_worked_case():
    # pairs of [1,2,3,4] vs [1,2,2,4]: 5 concordant, 0 discordant, 1 tied in y -> 5/6
    assert rsa.kendall_tau_a([1, 2, 3, 4], [1, 2, 2, 4]) == pytest.approx(5 / 6)
    # reversed order: all 6 pairs discordant
    assert rsa.kendall_tau_a([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # a constant vector ties every pair: tau-a = 0 (tau-b would be undefined)
    assert rsa.kendall_tau_a([1, 2, 3], [5, 5, 5]) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_kendall_tau_a_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, 40).astype(float)
    y = rng.integers(0, 6, 40).astype(float)
    assert rsa.kendall_tau_a(x, y) == pytest.approx(_brute_tau_a(x, y), abs=1e-12)


def test_kendall_tau_a_equals_scipy_tau_b_without_ties(rng):
    x, y = rng.normal(size=50), rng.normal(size=50)
    expected = scipy.stats.kendalltau(x, y).statistic
    assert rsa.kendall_tau_a(x, y) == pytest.approx(expected, abs=1e-12)


def test_compare_rdms_spearman_matches_scipy_and_invariants(rng):
    stack = _random_rdms(rng, 3, 10)
    iu = np.triu_indices(10, 1)
    sim = rsa.compare_rdms(stack, stack, method="spearman")
    for i, j in itertools.product(range(3), range(3)):
        expected = scipy.stats.spearmanr(stack[i][iu], stack[j][iu]).statistic
        assert sim[i, j] == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(np.diag(sim), 1.0)
    for method in rsa.COMPARISON_METHODS:
        # an RDM compared with itself is 1; monotone transforms change nothing
        assert rsa.compare_rdms(stack[0], stack[0], method=method)[0, 0] == pytest.approx(1.0)
        base = rsa.compare_rdms(stack[0], stack[1], method=method)[0, 0]
        for f in (np.sqrt, np.exp, lambda d: 3 * d**3 + 1):
            transformed = f(stack[1])
            np.fill_diagonal(transformed, 0.0)
            assert rsa.compare_rdms(stack[0], transformed, method=method)[0, 0] == pytest.approx(
                base, abs=1e-12
            )


def test_compare_rdms_drops_nan_pairs(rng):
    a, b = _random_rdms(rng, 2, 8)
    b_nan = b.copy()
    b_nan[1, 5] = b_nan[5, 1] = np.nan
    va, vb = rsa.rdm_vectors(a)[0], rsa.rdm_vectors(b)[0]
    # pair (1, 5) has condensed index 8 * 1 - 1 * 2 // 2 + (5 - 1 - 1) = 10
    mask = np.arange(28) != 10
    expected = scipy.stats.spearmanr(va[mask], vb[mask]).statistic
    assert rsa.compare_rdms(a, b_nan)[0, 0] == pytest.approx(expected)
    assert rsa.compare_rdms(a, b_nan, method="tau_a")[0, 0] == pytest.approx(
        _brute_tau_a(va[mask], vb[mask])
    )


def test_compare_rdms_errors(rng):
    a = _random_rdms(rng, 1, 6)[0]
    b = _random_rdms(rng, 1, 7)[0]
    with pytest.raises(ValueError, match="different sizes"):
        rsa.compare_rdms(a, b)
    with pytest.raises(ValueError, match="unknown comparison"):
        rsa.compare_rdms(a, a, method="pearson")
    with pytest.raises(ValueError, match="n\\(n-1\\)/2"):
        rsa.rdm_vectors(np.zeros(7))


# ------------------------------------------------------------------------------ noise ceilings
def test_noise_ceiling_identical_subjects_is_one(rng):
    rdm = _random_rdms(rng, 1, 9)[0]
    nc = rsa.rdm_noise_ceiling(np.stack([rdm] * 4), method="tau_a")
    assert float(nc["lower"]) == pytest.approx(1.0)
    assert float(nc["upper"]) == pytest.approx(1.0)


def test_noise_ceiling_follows_the_documented_definitions(rng):
    """Reference: the rsatoolbox / Net2Brain definitions written out with scipy."""
    stack = _random_rdms(rng, 5, 11, noise=2.0)
    iu = np.triu_indices(11, 1)
    vec = stack[:, iu[0], iu[1]]
    ranks = np.stack([scipy.stats.rankdata(v) for v in vec])
    lower, upper = [], []
    for s in range(5):
        rest = np.delete(ranks, s, axis=0).mean(0)
        lower.append(scipy.stats.spearmanr(rest, vec[s]).statistic)
        upper.append(scipy.stats.spearmanr(ranks.mean(0), vec[s]).statistic)
    nc = rsa.rdm_noise_ceiling(stack)
    assert nc.attrs["convention"] == "rsatoolbox"
    assert "Spearman" in nc.attrs["definition"]
    assert float(nc["lower"]) == pytest.approx(np.mean(lower), abs=1e-12)
    assert float(nc["upper"]) == pytest.approx(np.mean(upper), abs=1e-12)
    # Net2Brain: squared Spearman r with the plain (unranked) mean RDM
    lower2 = [
        scipy.stats.spearmanr(np.delete(vec, s, 0).mean(0), vec[s]).statistic ** 2 for s in range(5)
    ]
    upper2 = [scipy.stats.spearmanr(vec.mean(0), vec[s]).statistic ** 2 for s in range(5)]
    nc2 = rsa.rdm_noise_ceiling(stack, convention="net2brain")
    assert nc2.attrs["convention"] == "net2brain"
    assert "squared" in nc2.attrs["definition"]
    assert float(nc2["lower"]) == pytest.approx(np.mean(lower2), abs=1e-12)
    assert float(nc2["upper"]) == pytest.approx(np.mean(upper2), abs=1e-12)
    with pytest.raises(ValueError, match="spearman"):
        rsa.rdm_noise_ceiling(stack, convention="net2brain", method="tau_a")
    with pytest.raises(ValueError, match="at least 2"):
        rsa.rdm_noise_ceiling(stack[:1])


def test_noise_ceiling_groups_sessions_of_one_subject(rng):
    stack = _random_rdms(rng, 6, 9, noise=1.5)
    ds = rdms(stack, subject=["a", "a", "b", "b", "c", "c"])
    grouped = rsa.rdm_noise_ceiling(ds)
    assert grouped.attrs["n_subjects"] == 3
    # leaving out subject "a" drops both of its RDMs: recompute by hand
    vec = rsa.rdm_vectors(stack)
    ranks = np.stack([scipy.stats.rankdata(v) for v in vec])
    groups = np.array([0, 0, 1, 1, 2, 2])
    lower = [
        np.mean(
            [
                scipy.stats.spearmanr(ranks[groups != g].mean(0), vec[i]).statistic
                for i in np.flatnonzero(groups == g)
            ]
        )
        for g in range(3)
    ]
    assert float(grouped["lower"]) == pytest.approx(np.mean(lower), abs=1e-12)


@pytest.fixture(scope="module")
def brain_rdms_92(shared_data):
    return {
        "hIT (Kriegeskorte 2008)": load_rdms(shared_data / "kriegeskorte92"),
        "EVC (Cichy 2014)": load_rdms(shared_data / "algonauts2019_92images", roi="EVC"),
        "IT (Cichy 2014)": load_rdms(shared_data / "algonauts2019_92images", roi="IT"),
    }


@pytest.mark.regression
def test_noise_ceilings_on_the_92_image_subject_rdms(brain_rdms_92):
    for name, ds in brain_rdms_92.items():
        group = "participant" if "participant" in ds.coords else None
        for method, convention in [
            ("spearman", "rsatoolbox"),
            ("tau_a", "rsatoolbox"),
            ("spearman", "net2brain"),
        ]:
            nc = rsa.rdm_noise_ceiling(ds, method=method, convention=convention, group=group)
            lo, up = float(nc["lower"]), float(nc["upper"])
            assert 0.0 <= lo <= up <= 1.0, (name, method, convention, lo, up)
            assert nc.attrs["convention"] == convention


@pytest.mark.regression
def test_matches_rsatoolbox_on_real_rdms(shared_data):
    """Reference implementation: rsatoolbox's compare and boot_noise_ceiling."""
    rt_rdm = pytest.importorskip("rsatoolbox.rdm", reason="rsatoolbox (reference) not installed")
    rt_inf = pytest.importorskip("rsatoolbox.inference")
    brain = load_rdms(shared_data / "kriegeskorte92")
    models = load_rdms(shared_data / "kriegeskorte92" / "92_modelRDMs.mat")
    bvals = brain["dissimilarity"].values
    mvals = models["dissimilarity"].values
    participants = [str(p) for p in brain["participant"].values]
    ref = rt_rdm.RDMs(bvals, rdm_descriptors={"subject": participants})
    ref_models = rt_rdm.RDMs(mvals)
    for ours, theirs in [("spearman", "spearman"), ("tau_a", "tau-a")]:
        np.testing.assert_allclose(
            rsa.compare_rdms(models, brain, method=ours),
            rt_rdm.compare(ref_models, ref, method=theirs),
            atol=1e-12,
        )
        with warnings.catch_warnings():  # rsatoolbox warns that tau ceilings use mean ranks
            warnings.simplefilter("ignore")
            lo, up = rt_inf.boot_noise_ceiling(ref, method=theirs, rdm_descriptor="subject")
        nc = rsa.rdm_noise_ceiling(brain, method=ours, group="participant")
        assert float(nc["lower"]) == pytest.approx(lo, abs=1e-12)
        assert float(nc["upper"]) == pytest.approx(up, abs=1e-12)
    # a bootstrap resample with repeated stimuli: rsatoolbox marks copy-pairs NaN and drops them
    idx = np.random.default_rng(3).integers(0, 92, 92)
    sub_ref = ref.subsample_pattern("index", idx)
    sub_models = ref_models.subsample_pattern("index", idx)
    expected = rt_rdm.compare(sub_models, sub_ref, method="spearman")
    pairs = rsa.resampled_pair_index(idx, 92)
    got = rsa.compare_vectors(
        rsa.rdm_vectors(models)[:, pairs], rsa.rdm_vectors(brain)[:, pairs], method="spearman"
    )
    np.testing.assert_allclose(got, expected, atol=1e-12)


# ------------------------------------------------------------------------------ profiles
def test_resampled_pair_index_hand_worked():
    # n=4, draws [0, 0, 2, 3]: positions (0,1) are copies of stimulus 0 -> dropped;
    # the others map to pairs (0,2),(0,3),(0,2),(0,3),(2,3) = condensed 1, 2, 1, 2, 5
    np.testing.assert_array_equal(rsa.resampled_pair_index([0, 0, 2, 3], 4), [1, 2, 1, 2, 5])
    np.testing.assert_array_equal(rsa.resampled_pair_index([0, 1, 2, 3], 4), np.arange(6))
    with pytest.raises(ValueError, match="indices"):
        rsa.resampled_pair_index([0, 4], 4)


def test_rsa_profile_ranks_layers_and_reports_conventions(rng):
    n = 14
    base = rng.normal(size=(n, 30))
    subjects = np.stack(
        [
            squareform(pdist(base + 1.0 * rng.normal(size=base.shape), "correlation"))
            for _ in range(5)
        ]
    )
    layers = {
        "good": squareform(pdist(base, "correlation")),
        "noisy": squareform(pdist(base + 3.0 * rng.normal(size=base.shape), "correlation")),
        "random": squareform(pdist(rng.normal(size=base.shape), "correlation")),
    }
    prof = rsa.rsa_profile(layers, {"roiA": subjects}, n_bootstrap=60, seed=1, verbose=False)
    assert prof["score"].dims == ("layer", "roi")
    s = prof["score"].sel(roi="roiA").values
    assert s[0] > s[1] > s[2]
    assert (prof["ci_low"] <= prof["score"]).all() and (prof["score"] <= prof["ci_high"]).all()
    assert prof.attrs["convention"] == "rsatoolbox" and prof.attrs["method"] == "spearman"
    nc = rsa.rdm_noise_ceiling(subjects)
    assert float(prof["noise_lower"].sel(roi="roiA")) == pytest.approx(float(nc["lower"]))
    # the score is the mean over subjects of Spearman r
    expected = np.mean(rsa.compare_rdms(layers["good"], subjects))
    assert s[0] == pytest.approx(expected)
    sq = rsa.rsa_profile(layers, {"roiA": subjects}, convention="net2brain", n_bootstrap=0)
    assert sq.attrs["convention"] == "net2brain"
    assert float(sq["score"].sel(layer="good", roi="roiA")) == pytest.approx(
        np.mean(rsa.compare_rdms(layers["good"], subjects) ** 2)
    )
    assert np.isnan(sq["ci_low"]).all()
    with pytest.raises(ValueError, match="stimuli"):
        rsa.rsa_profile({"x": layers["good"][:5, :5]}, {"roiA": subjects}, n_bootstrap=0)
    labels = [f"s{i}" for i in range(n)]
    brain = rdms(subjects, stimulus=labels)
    model = rsa.compute_rdm(base, stimulus=labels)
    rsa.rsa_profile({"m": model}, {"roiA": brain}, n_bootstrap=0)  # same order: fine
    order = np.arange(n)[::-1]
    shuffled = model.isel(stimulus=order, stimulus_=order)
    with pytest.raises(ValueError, match="different orders"):
        rsa.rsa_profile({"m": shuffled}, {"roiA": brain}, n_bootstrap=0)


def test_fast_bootstrap_ranks_equal_explicit_resampling(rng):
    """The weighted-rank shortcut equals Spearman on explicitly resampled entries (with ties)."""
    stack = _random_rdms(rng, 4, 12)
    vec = rsa.rdm_vectors(stack)
    vec[0] = np.round(vec[0], 1)  # ties
    for seed in range(5):
        idx = np.random.default_rng(seed).integers(0, 12, 12)
        pairs = rsa.resampled_pair_index(idx, 12)
        w = np.bincount(pairs, minlength=vec.shape[1]).astype(float)
        ranks = rsa._WeightedSpearman(vec).ranks(w)
        got = rsa._weighted_pearson(ranks[:2], ranks[2:], w)
        expected = rsa.compare_vectors(vec[:2, pairs], vec[2:, pairs])
        np.testing.assert_allclose(got, expected, atol=1e-12)


# ------------------------------------------------------------------------------ figure, example
def test_rsa_profile_figure_small(tmp_path, shared_data, monkeypatch):
    from cogattn.figures import make_figure, replot_figure

    monkeypatch.setenv("COGATTN_SHARED_DATA", str(shared_data))
    result = make_figure("rsa-profile", tmp_path, small=True)
    assert result.figure_path.is_file() and result.data_path.is_file()
    assert "RANDOM" in result.report and "noise ceiling" in result.report
    ds = xr.open_dataset(result.data_path)
    assert ds["score"].dims == ("layer", "roi") and "pixels" in ds["layer"].values
    assert ds.attrs["convention"] == "rsatoolbox"
    assert ((ds["noise_lower"] >= 0) & (ds["noise_lower"] <= ds["noise_upper"])).all()
    ds.close()
    again = replot_figure("rsa-profile", result.data_path, tmp_path / "replot")
    assert again.figure_path.is_file()


def test_rsa_profile_example_runs_small(shared_data, monkeypatch):
    import runpy
    from pathlib import Path

    monkeypatch.setenv("COGATTN_SHARED_DATA", str(shared_data))
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    path = Path(__file__).resolve().parents[2] / "examples" / "brain" / "plot_rsa_profile.py"
    runpy.run_path(str(path), run_name="__main__")
