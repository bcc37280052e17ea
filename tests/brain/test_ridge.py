"""RidgeEncoder: reference implementations (scikit-learn RidgeCV, himalaya RidgeCV), recovery of
known weights and alphas, invariances, labelled I/O and scikit-learn's estimator checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from cogattn.brain import ridge as ridge_module
from cogattn.brain.design import delay_features
from cogattn.brain.ridge import RidgeEncoder, _fit_block
from cogattn.data import responses

ALPHAS = np.logspace(-2, 4, 13)


def _data(rng, n, p, v, *, noise=2.0, offset=5.0):
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, v)) * (rng.random(v) < 0.8) * rng.random(v) * 0.5
    Y = X @ W + noise * rng.standard_normal((n, v)) + offset
    return X, Y, W


@pytest.mark.parametrize(("n", "p"), [(90, 17), (31, 64)])
@pytest.mark.parametrize("solver", ["primal", "kernel"])
def test_matches_sklearn_ridgecv_loo_float64(rng, n, p, solver):
    X, Y, _ = _data(rng, n, p, 23)
    ref = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X, Y)
    model = RidgeEncoder(alphas=ALPHAS, dtype="float64", solver=solver).fit(X, Y)
    np.testing.assert_array_equal(model.best_alphas_, ref.alpha_)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-5, rtol=0)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=1e-5, rtol=0)
    # the LOO criterion itself: sklearn's best_score_ is -mean squared LOO error
    np.testing.assert_allclose(model.cv_scores_.max(0), ref.best_score_, rtol=1e-8)
    assert model.solver_ == solver


def test_float32_default_matches_float64(rng):
    X, Y, _ = _data(rng, 41, 70, 30)  # p > n: the nearly-interpolating regime
    m64 = RidgeEncoder(alphas=ALPHAS, dtype="float64").fit(X, Y)
    m32 = RidgeEncoder(alphas=ALPHAS).fit(X, Y)
    assert m32.coef_.dtype == np.float32
    np.testing.assert_array_equal(m32.best_alphas_, m64.best_alphas_)
    np.testing.assert_allclose(m32.predict(X), m64.predict(X), atol=1e-4 * np.abs(Y).max())


def test_shared_alpha_and_no_intercept_match_sklearn(rng):
    X, Y, _ = _data(rng, 60, 12, 9, offset=0.0)
    ref = RidgeCV(alphas=ALPHAS, alpha_per_target=False).fit(X, Y)
    model = RidgeEncoder(alphas=ALPHAS, alpha_per_target=False, dtype="float64").fit(X, Y)
    assert np.all(model.best_alphas_ == ref.alpha_)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), atol=1e-8)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    ref = RidgeCV(alphas=ALPHAS, alpha_per_target=True, fit_intercept=False).fit(Xc, Yc)
    model = RidgeEncoder(alphas=ALPHAS, fit_intercept=False, dtype="float64").fit(Xc, Yc)
    np.testing.assert_array_equal(model.best_alphas_, ref.alpha_)
    np.testing.assert_allclose(model.predict(Xc), ref.predict(Xc), atol=1e-8)


def test_kfold_matches_himalaya(rng):
    himalaya = pytest.importorskip("himalaya.ridge", reason="himalaya is the k-fold reference")
    X, Y, _ = _data(rng, 100, 15, 21)
    ref = himalaya.RidgeCV(alphas=ALPHAS, cv=5, fit_intercept=True).fit(X, Y)
    model = RidgeEncoder(alphas=ALPHAS, cv=5, dtype="float64").fit(X, Y)
    np.testing.assert_allclose(model.best_alphas_, ref.best_alphas_, rtol=1e-6)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), atol=1e-8)
    # himalaya's cv_scores_ is the (negative MSE) score of the chosen alpha
    best = model.cv_scores_[model.best_alpha_index_, np.arange(Y.shape[1])]
    np.testing.assert_allclose(best, ref.cv_scores_, rtol=1e-6)


def test_kfold_kernel_equals_primal_and_groups(rng):
    X, Y, _ = _data(rng, 36, 50, 8)
    groups = np.repeat(np.arange(4), 9)
    cv = GroupKFold(n_splits=4)
    a = RidgeEncoder(alphas=ALPHAS, cv=cv, dtype="float64", solver="primal").fit(X, Y, groups)
    b = RidgeEncoder(alphas=ALPHAS, cv=cv, dtype="float64", solver="kernel").fit(X, Y, groups)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=1e-8)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-8)


def test_recovers_known_weights_and_alphas(rng):
    """Bayesian ridge: with weights ~ N(0, τ²) and noise σ², the optimal alpha is σ²/τ²."""
    n, p, per_group = 400, 40, 40
    true_log_alpha = np.repeat([0.0, 1.0, 2.0, 3.0], per_group)  # σ²/τ², σ = 1
    tau = 10 ** (-true_log_alpha / 2)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, tau.size)) * tau
    Y = X @ W + rng.standard_normal((n, tau.size)) + 3.0
    alphas = np.logspace(-2, 5, 29)
    model = RidgeEncoder(alphas=alphas, dtype="float64").fit(X, Y)
    chosen = np.log10(model.best_alphas_)
    for g in range(4):
        med = np.median(chosen[g * per_group : (g + 1) * per_group])
        assert abs(med - true_log_alpha[g * per_group]) <= 0.35, (g, med)
    # high-SNR voxels: weights and intercept recovered
    hi = slice(0, per_group)
    corr = np.corrcoef(model.coef_[hi].ravel(), W[:, hi].T.ravel())[0, 1]
    assert corr > 0.97
    np.testing.assert_allclose(model.intercept_[hi], 3.0, atol=0.2)


def test_chunking_and_voxel_permutation_invariance(rng):
    X, Y, _ = _data(rng, 50, 20, 31)
    full = RidgeEncoder(alphas=ALPHAS).fit(X, Y)
    chunked = RidgeEncoder(alphas=ALPHAS, voxel_chunk_size=7).fit(X, Y)
    np.testing.assert_array_equal(chunked.best_alphas_, full.best_alphas_)
    np.testing.assert_allclose(chunked.coef_, full.coef_, rtol=1e-5, atol=1e-6)
    perm = rng.permutation(Y.shape[1])
    permuted = RidgeEncoder(alphas=ALPHAS).fit(X, Y[:, perm])
    np.testing.assert_array_equal(permuted.best_alphas_, full.best_alphas_[perm])
    np.testing.assert_allclose(permuted.coef_, full.coef_[perm], rtol=1e-5, atol=1e-6)


def test_standardize_x_equals_sklearn_on_scaled_features(rng):
    X, Y, _ = _data(rng, 70, 10, 12)
    X = X * rng.uniform(0.1, 20, size=10) + rng.uniform(-5, 5, size=10)
    scaler = StandardScaler().fit(X)
    ref = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(scaler.transform(X), Y)
    model = RidgeEncoder(alphas=ALPHAS, standardize="x", dtype="float64").fit(X, Y)
    np.testing.assert_array_equal(model.best_alphas_, ref.alpha_)
    X_new = rng.standard_normal((5, 10))
    np.testing.assert_allclose(
        model.predict(X_new), ref.predict(scaler.transform(X_new)), atol=1e-8
    )
    # scaling Y changes nothing per voxel (alpha choice is scale-invariant per target)
    both = RidgeEncoder(alphas=ALPHAS, standardize="both", dtype="float64").fit(X, Y)
    np.testing.assert_allclose(both.predict(X_new), model.predict(X_new), atol=1e-8)


def test_fir_delays_equal_explicit_delayed_design(rng):
    X, Y, _ = _data(rng, 80, 6, 5)
    delays = (1, 2, 3)
    model = RidgeEncoder(alphas=ALPHAS, delays_tr=delays, dtype="float64").fit(X, Y)
    ref = RidgeEncoder(alphas=ALPHAS, dtype="float64").fit(delay_features(X, delays), Y)
    assert model.n_features_in_ == 6 and model.coef_.shape == (5, 18)
    np.testing.assert_allclose(model.predict(X), ref.predict(delay_features(X, delays)))


def test_labelled_responses_in_and_out(rng):
    X, Y, _ = _data(rng, 40, 8, 6)
    ds = responses(
        Y,
        stimulus=[f"im{i}" for i in range(40)],
        rois={"V1": [0, 1, 2], "FFA": [2, 3]},
        hemisphere=["lh", "lh", "rh", "rh", "lh", "rh"],
        ncsnr=np.linspace(0.1, 0.6, 6),
    )
    feats = xr.DataArray(
        X.reshape(40, 2, 4)[::-1],  # reversed order and a 3-D layout: aligned and flattened
        dims=("stimulus", "token", "channel"),
        coords={"stimulus": [f"im{i}" for i in range(40)][::-1]},
    )
    model = RidgeEncoder(alphas=ALPHAS, dtype="float64").fit(feats, ds)
    ref = RidgeEncoder(alphas=ALPHAS, dtype="float64").fit(X.reshape(40, 2, 4).reshape(40, 8), Y)
    pred = model.predict(feats)
    assert isinstance(pred, xr.DataArray) and pred.dims == ("stimulus", "voxel")
    np.testing.assert_array_equal(pred["hemisphere"].values, ds["hemisphere"].values)
    np.testing.assert_allclose(
        pred.sel(stimulus=ds["stimulus"].values).values, ref.predict(X), atol=1e-8
    )
    score = model.score(feats.sel(stimulus=ds["stimulus"].values), ds)
    assert isinstance(score, xr.DataArray) and score.dims == ("voxel",)
    np.testing.assert_allclose(score.values, ref.score(X, Y), atol=1e-10)
    summary = model.voxel_summary()
    np.testing.assert_array_equal(summary["best_alpha"].values, ref.best_alphas_)
    bad = feats.assign_coords(stimulus=[f"x{i}" for i in range(40)])
    with pytest.raises(ValueError, match="have no features"):
        RidgeEncoder().fit(bad, ds)


def test_scoring_options(rng):
    X, Y, _ = _data(rng, 50, 5, 4)
    model = RidgeEncoder(alphas=ALPHAS).fit(X, Y)
    pred = model.predict(X)
    r = [np.corrcoef(pred[:, j], Y[:, j])[0, 1] for j in range(4)]
    np.testing.assert_allclose(model.score(X, Y), r, rtol=1e-5)
    from sklearn.metrics import r2_score

    np.testing.assert_allclose(
        model.score(X, Y, scoring="r2"), r2_score(Y, pred, multioutput="raw_values"), rtol=1e-5
    )
    assert isinstance(RidgeEncoder().fit(X, Y[:, 0]).score(X, Y[:, 0]), float)


def test_bad_arguments_raise_clear_errors(rng):
    X, Y, _ = _data(rng, 20, 3, 2)
    with pytest.raises(ValueError, match="alphas must be"):
        RidgeEncoder(alphas=[1.0, -1.0]).fit(X, Y)
    with pytest.raises(ValueError, match="1 sample"):
        RidgeEncoder().fit(X[:1], Y[:1])
    with pytest.raises(ValueError, match="solver"):
        RidgeEncoder(solver="qr").fit(X, Y)
    with pytest.raises(ValueError, match="delays_tr"):
        RidgeEncoder(delays_tr=(1, 1)).fit(X, Y)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(rng):
    X, Y, _ = _data(rng, 300, 40, 500)
    cpu = RidgeEncoder(alphas=ALPHAS).fit(X, Y)
    gpu = RidgeEncoder(alphas=ALPHAS, device="cuda").fit(X, Y)
    np.testing.assert_array_equal(gpu.best_alphas_, cpu.best_alphas_)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), atol=1e-3)


# scikit-learn's estimator checks on a small instance ---------------------------------------
def _expected_failures(estimator):
    return {}


@parametrize_with_checks(
    [RidgeEncoder(alphas=[0.1, 1.0, 10.0])], expected_failed_checks=_expected_failures
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_cogattn_encoder_checks():
    from cogattn.testing.checks import check_encoder_scores_per_target

    check_encoder_scores_per_target(RidgeEncoder(alphas=ALPHAS))
    check_encoder_scores_per_target(RidgeEncoder(alphas=ALPHAS, cv=3, scoring="r2"))


# the exact-to-tolerance fast paths ---------------------------------------------------------
def _spectral_data(rng, n, p, v):
    """Correlated features with a power-law spectrum (singular values over several decades, as
    for DNN features) and voxels from noise-only to high SNR."""
    mix = rng.standard_normal((p, p)) * np.arange(1, p + 1)[:, None] ** -1.0
    X = rng.standard_normal((n, p)) @ mix
    W = rng.standard_normal((p, v)) / np.sqrt(p)
    Y = (X / X.std(0)) @ W * np.logspace(-1.5, 1, v) + rng.standard_normal((n, v)) + 2.0
    return X, Y


def _fit_parts(est, X, Y, *, lowrank):
    X_arr, Y_arr, _ = est._validated_inputs(X, Y)
    prep = est._prepare(X_arr, lowrank=lowrank)
    y_mean, y_scale = est._y_stats(Y_arr)
    return prep, _fit_block(prep, Y_arr, y_mean, y_scale)


@pytest.mark.parametrize(("n", "p"), [(400, 260), (240, 400)])
@pytest.mark.parametrize("cv", ["loo", 5])
def test_lowrank_products_match_exact(rng, monkeypatch, n, p, cv):
    """Blocked low-rank filter products (float32): same alphas and CV scores as the exact ones.

    Tolerance: CV scores to 1e-5 relative, i.e. within float32 rounding of the exact products
    (~1e-6 here); both also match the float64 exact computation to that tolerance.
    """
    monkeypatch.setattr(ridge_module, "_LOWRANK_GAIN", 10.0)  # take it whatever it saves
    X, Y = _spectral_data(rng, n, p, 40)
    alphas = np.logspace(-1, 7, 17)
    est = RidgeEncoder(alphas=alphas, cv=cv)
    prep, low = _fit_parts(est, X, Y, lowrank=True)
    prods = [prep.plan.prod] if prep.plan is not None else [f.prod for f in prep.folds]
    assert all(pr.mix is not None for pr in prods)  # the low-rank form was used…
    assert all(pr.mix.shape[1] - 1 < len(alphas) * len(pr.blocks) for pr in prods)  # …truncated
    _, exact = _fit_parts(est, X, Y, lowrank=False)
    _, ref = _fit_parts(RidgeEncoder(alphas=alphas, cv=cv, dtype="float64"), X, Y, lowrank=False)
    np.testing.assert_array_equal(low.best, exact.best)
    np.testing.assert_array_equal(low.best, ref.best)
    np.testing.assert_allclose(low.cv_scores, exact.cv_scores, rtol=1e-5)
    np.testing.assert_allclose(low.cv_scores, ref.cv_scores, rtol=1e-5)
    np.testing.assert_allclose(low.coef, ref.coef, atol=1e-4 * np.abs(ref.coef).max())


def _kfold_reference(X, Y, alphas, splits, intercept=True):
    """Validation MSE averaged over folds from one scikit-learn Ridge fit per fold and alpha."""
    from sklearn.linear_model import Ridge

    out = np.zeros((len(alphas), Y.shape[1]))
    for train, val in splits:
        for a, alpha in enumerate(alphas):
            ridge = Ridge(alpha=alpha, fit_intercept=intercept)
            pred = ridge.fit(X[train], Y[train]).predict(X[val])
            out[a] += ((Y[val] - pred) ** 2).mean(0)
    return -out / len(splits)


def test_kfold_downdate_and_its_fallback_match_per_fold_refits(rng):
    """k-fold solutions downdated from the full-data SVD, and the direct route for a fold whose
    validation block holds nearly all of one feature (downdating would amplify rounding)."""
    X, Y, _ = _data(rng, 100, 12, 9)
    X[20:, 0] *= 1e-4  # feature 0 lives in the first fold's rows only
    est = RidgeEncoder(alphas=ALPHAS, cv=5, dtype="float64")
    prep, res = _fit_parts(est, X, Y, lowrank=True)
    assert prep.folds[0].T is None  # ill-conditioned: direct route
    assert all(f.T is not None for f in prep.folds[1:])  # downdated
    splits = [(f.train.numpy(), f.val.numpy()) for f in prep.folds]
    ref = _kfold_reference(X, Y, ALPHAS, splits)
    np.testing.assert_allclose(res.cv_scores, ref, rtol=1e-8)
    np.testing.assert_array_equal(res.best, ref.argmax(0))
    _, res32 = _fit_parts(RidgeEncoder(alphas=ALPHAS, cv=5), X, Y, lowrank=True)
    np.testing.assert_allclose(res32.cv_scores, ref, rtol=1e-4)


@pytest.mark.parametrize("shuffle", [False, True])
def test_kfold_contiguous_and_shuffled_folds_match_per_fold_refits(rng, shuffle):
    """Contiguous validation blocks are read as views, shuffled ones by index: both routes
    give the per-fold refit scores (with and without an intercept)."""
    from sklearn.model_selection import KFold

    X, Y, _ = _data(rng, 60, 10, 6)
    cv = KFold(5, shuffle=True, random_state=0) if shuffle else KFold(5)
    est = RidgeEncoder(alphas=ALPHAS, cv=cv, dtype="float64")
    prep, res = _fit_parts(est, X, Y, lowrank=True)
    assert all((f.val_slice is not None) != shuffle for f in prep.folds)
    splits = list(cv.split(X))
    np.testing.assert_allclose(res.cv_scores, _kfold_reference(X, Y, ALPHAS, splits), rtol=1e-8)
    Yc = Y - Y.mean(0)  # without intercept, on data centred beforehand: same per-fold refits
    Xc = X - X.mean(0)
    est0 = RidgeEncoder(alphas=ALPHAS, cv=cv, dtype="float64", fit_intercept=False)
    _, res0 = _fit_parts(est0, Xc, Yc, lowrank=True)
    ref0 = _kfold_reference(Xc, Yc, ALPHAS, splits, intercept=False)
    np.testing.assert_allclose(res0.cv_scores, ref0, rtol=1e-8)


def test_torch_threads_held_at_one_during_cpu_fit_and_restored(rng, monkeypatch):
    """BLAS owns the cores during a CPU fit; torch's setting comes back after, also on error."""
    import cogattn.brain.ridge as ridge_mod

    X, Y, _ = _data(rng, 40, 8, 5)
    seen = []
    real_mm = ridge_mod._mm

    def spy(a, b, out=None):
        seen.append(torch.get_num_threads())
        return real_mm(a, b, out)

    monkeypatch.setattr(ridge_mod, "_mm", spy)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        RidgeEncoder(alphas=ALPHAS, cv=3).fit(X, Y)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2

        def boom(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(ridge_mod, "_kfold_scores", boom)
        with pytest.raises(RuntimeError, match="boom"):
            RidgeEncoder(alphas=ALPHAS, cv=3).fit(X, Y)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)
