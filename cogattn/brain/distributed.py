"""Scale-out: fit the voxel chunks of a :class:`~cogattn.brain.RidgeEncoder` on a dask cluster.

Voxels are independent given the design, so a fit splits cleanly: the client computes the
shared part once (delays, scaling, the SVD of the design, the CV plan — small: it depends on
the samples and features only), broadcasts it to the workers, and each worker fits one chunk
of voxels (CV scores for every alpha, best alpha, weights). The chunks are gathered into one
fitted ``RidgeEncoder`` whose attributes equal those of an in-process fit (the same arithmetic
runs per chunk; see ``tests/brain/test_distributed.py``).

Responses whose data are dask arrays (e.g. ``load(path).chunk({"voxel": 5000})`` or a zarr
store) are never gathered on the client: each worker computes its own chunk of the array.

Example
-------
>>> from dask.distributed import Client, LocalCluster          # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=4))                   # doctest: +SKIP
>>> model = fit_distributed(RidgeEncoder(cv=5), X, responses_ds,  # doctest: +SKIP
...                         client=client, voxel_chunk_size=5000)
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np
import xarray as xr
from sklearn.base import clone
from sklearn.utils.validation import validate_data
from tqdm.auto import tqdm

from cogattn.brain.ridge import RidgeEncoder, _fit_block, _Prepared, _unpack_xy

__all__ = ["fit_distributed"]

logger = logging.getLogger(__name__)

_DEFAULT_CHUNK = 5000


def _lazy_targets(y: Any) -> tuple[Any, xr.Dataset, str, str, Any] | None:
    """(dask array (samples, voxels), template, sample dim, target dim, sample index) when
    ``y`` is a Responses Dataset / DataArray backed by dask, else None."""
    da = y["response"] if isinstance(y, xr.Dataset) and "response" in y.data_vars else y
    if not isinstance(da, xr.DataArray) or da.chunks is None or da.ndim != 2:
        return None
    tdim = "voxel" if "voxel" in da.dims else da.dims[1]
    sdim = next(d for d in da.dims if d != tdim)
    da = da.transpose(sdim, tdim)
    if isinstance(y, xr.Dataset):
        template = y.drop_vars(list(y.data_vars)).drop_dims(sdim, errors="ignore")
    else:
        template = da.coords.to_dataset().drop_dims(sdim, errors="ignore")
        template.attrs.update(da.attrs)
    if tdim not in template.coords:
        template = template.assign_coords({tdim: np.arange(da.sizes[tdim])})
    return da.data, template, sdim, tdim, da[sdim].values


def _fit_raw_block(
    prep: _Prepared, Y: Any, fit_intercept: bool, scale_y: bool
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Worker task: statistics of one raw voxel chunk, then :func:`_fit_block`."""
    Y = np.asarray(Y)
    if not np.isfinite(Y).all():
        raise ValueError("responses contain NaN or inf (mask bad voxels before fitting)")
    v = Y.shape[1]
    y_mean = Y.mean(0, dtype=np.float64) if fit_intercept else np.zeros(v)
    y_scale = np.ones(v)
    if scale_y:
        sd = Y.std(0, dtype=np.float64)
        y_scale = np.where(sd > 0, sd, 1.0)
    return _fit_block(prep, Y, y_mean, y_scale, refit=True), y_mean, y_scale


def fit_distributed(
    estimator: RidgeEncoder,
    X: Any,
    y: Any,
    *,
    client: Any = None,
    voxel_chunk_size: int | None = None,
    groups: Any = None,
) -> RidgeEncoder:
    """Fit a :class:`~cogattn.brain.RidgeEncoder` with voxel chunks spread over a dask cluster.

    Parameters
    ----------
    estimator : RidgeEncoder
        Unfitted template (cloned; its parameters are used as given). ``alpha_per_target``
        must be True (a shared alpha needs every voxel's CV scores before any refit).
    X : array or DataArray (samples, features)
        Features (gathered on the client: they are small compared with the voxels).
    y : array, DataArray or Responses Dataset (samples, voxels)
        Responses. When backed by dask, each worker computes its own chunk.
    client : dask.distributed.Client, optional
        Default: the current client (``distributed.get_client()``).
    voxel_chunk_size : int, optional
        Voxels per task. Default: the dask chunks of ``y`` along voxels, else the estimator's
        ``voxel_chunk_size``, else 5000.
    groups : array (n_samples,), optional
        Passed to the CV splitter.

    Returns
    -------
    RidgeEncoder
        Fitted, with the same attributes as ``estimator.fit(X, y)``.
    """
    from dask.distributed import get_client

    if not isinstance(estimator, RidgeEncoder):
        raise TypeError(f"estimator must be a RidgeEncoder, got {type(estimator).__name__}")
    if not estimator.alpha_per_target:
        raise ValueError(
            "fit_distributed needs alpha_per_target=True (a shared alpha needs every voxel's "
            "CV scores before the refit); fit in-process instead"
        )
    scale_y = estimator.standardize in ("y", "both")
    est = clone(estimator)
    client = client or get_client()

    lazy = _lazy_targets(y)
    if lazy is None:
        X_arr, Y, ravel = est._validated_inputs(X, y)
        n, v = Y.shape
        bounds = None
    else:
        Y, template, sdim, tdim, y_index = lazy
        # align X to y's sample labels with a tiny stand-in for y (y itself stays lazy)
        stub = xr.DataArray(np.zeros((len(y_index), 1)), dims=(sdim, "_stub"))
        X_arr = _unpack_xy(X, stub.assign_coords({sdim: y_index}))[0]
        est._validate_params()
        X_arr = validate_data(est, X_arr, dtype=(np.float64, np.float32), ensure_min_samples=2)
        n, v = Y.shape
        if X_arr.shape[0] != n:
            raise ValueError(f"X has {X_arr.shape[0]} samples but y has {n}")
        est.targets_ = template
        est._sample_dim, est._target_dim = sdim, tdim
        ravel = False
        voxel_chunks = Y.chunks[1]
        bounds = np.concatenate([[0], np.cumsum(voxel_chunks)])

    chunk = voxel_chunk_size or estimator.voxel_chunk_size or _DEFAULT_CHUNK
    if voxel_chunk_size is not None or bounds is None:
        bounds = np.unique(np.concatenate([np.arange(0, v, chunk), [v]]))
    prep = est._prepare(X_arr, groups)
    if prep.device.type != "cpu":
        logger.info("workers compute on %s (each needs access to that device)", prep.device)
    prep_future = client.scatter(prep, broadcast=True)
    futures = []
    for a, b in itertools.pairwise(bounds):
        block = Y[:, a:b]
        if lazy is not None:
            block = client.compute(block)  # computed on a worker, never on the client
        futures.append(
            client.submit(
                _fit_raw_block, prep_future, block, est.fit_intercept, scale_y, pure=False
            )
        )
    logger.info("fit_distributed: %d voxel chunks on %s", len(futures), client)

    k = len(prep.alphas)
    coef = np.empty((prep.p, v), dtype=prep.np_dtype)
    cv_scores = np.empty((k, v), dtype=np.float64)
    best = np.empty(v, dtype=np.int64)
    y_mean = np.empty(v)
    y_scale = np.empty(v)
    for (a, b), fut in tqdm(
        zip(itertools.pairwise(bounds), futures),
        total=len(futures),
        desc="voxel chunks",
        disable=est.verbose <= 0,
    ):
        res, mean, scale = fut.result()
        coef[:, a:b], cv_scores[:, a:b], best[a:b] = res.coef, res.cv_scores, res.best
        y_mean[a:b], y_scale[a:b] = mean, scale
    client.cancel(prep_future)
    return est._finish(prep, coef, cv_scores, best, y_mean, y_scale, ravel)
