"""dask scale-out: voxel chunks fitted on a (local, in-process) cluster equal an in-process fit."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cogattn.brain.ridge import RidgeEncoder
from cogattn.data import responses

distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] is the dist extra")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _problem(rng, n=60, p=9, v=101):
    X = rng.standard_normal((n, p))
    Y = X @ rng.standard_normal((p, v)) * rng.random(v) + rng.standard_normal((n, v)) + 2.0
    return X, Y


def _assert_same(a: RidgeEncoder, b: RidgeEncoder) -> None:
    np.testing.assert_array_equal(a.best_alphas_, b.best_alphas_)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=1e-6)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cv", ["loo", 4])
def test_numpy_chunks_equal_in_process(client, rng, cv):
    from cogattn.brain.distributed import fit_distributed

    X, Y = _problem(rng)
    template = RidgeEncoder(alphas=np.logspace(-1, 4, 11), cv=cv, standardize="both")
    local = RidgeEncoder(**{**template.get_params(), "voxel_chunk_size": 17}).fit(X, Y)
    dist = fit_distributed(template, X, Y, client=client, voxel_chunk_size=17)
    _assert_same(dist, local)
    np.testing.assert_allclose(dist.predict(X), local.predict(X), rtol=1e-5, atol=1e-5)


def test_dask_backed_responses_stay_on_workers(client, rng):
    from cogattn.brain.distributed import fit_distributed

    X, Y = _problem(rng, v=90)
    ds = responses(Y, stimulus=[f"s{i}" for i in range(60)], rois={"A": np.arange(30)})
    lazy = ds.chunk({"voxel": 25})
    assert lazy["response"].chunks is not None
    feats = xr.DataArray(X, dims=("stimulus", "feature"), coords={"stimulus": ds["stimulus"]})
    template = RidgeEncoder(alphas=np.logspace(-1, 4, 11))
    dist = fit_distributed(template, feats, lazy, client=client)
    local = RidgeEncoder(alphas=np.logspace(-1, 4, 11), voxel_chunk_size=25).fit(feats, ds)
    _assert_same(dist, local)
    score = dist.score(feats, ds)
    assert score.dims == ("voxel",) and score.sizes["voxel"] == 90


def test_rejects_shared_alpha(client, rng):
    from cogattn.brain.distributed import fit_distributed

    X, Y = _problem(rng, v=5)
    with pytest.raises(ValueError, match="alpha_per_target"):
        fit_distributed(RidgeEncoder(alpha_per_target=False), X, Y, client=client)
