"""Voxelwise ridge regression with one regularisation strength per voxel: :class:`RidgeEncoder`.

The model every fMRI encoding paper starts from (Naselaris et al. 2011, *NeuroImage*;
Huth et al. 2016, *Nature*; Dupré la Tour et al. 2022, *NeuroImage*, himalaya): for each voxel
``v``, ``y_v = X β_v + b_v`` with ``β_v`` minimising ``||y_v - X β - b||² + α_v ||β||²``, the
intercept ``b_v`` unpenalised, and ``α_v`` chosen from a grid by cross-validation.

How it is computed
------------------
One thin SVD of the centred design, ``X_c = U S Vᵀ`` (rank ``r ≤ min(n, p)``), serves every
voxel and every alpha. It is obtained from the eigendecomposition of the smaller Gram matrix,
``X_cᵀX_c`` (*primal*, when ``n ≥ p``) or ``X_c X_cᵀ`` (*kernel*/dual, when ``p > n``), in
float64. With ``d_j(α) = s_j² / (s_j² + α)``:

- **exact leave-one-out** (``cv="loo"``, the default; Allen 1974, *Technometrics*; Golub, Heath
  & Wahba 1979; the same criterion as scikit-learn's ``RidgeCV``): the hat matrix is
  ``H_α = U diag(d(α)) Uᵀ + 11ᵀ/n`` (the last term is the unpenalised intercept), and the LOO
  residual of sample ``i`` is ``(y_i - ŷ_i) / (1 - H_ii)``. For all alphas at once this needs
  ``Z = UᵀY`` once and, per alpha, one matrix product ``U diag(d) Z`` — no refit per sample;
- **k-fold** (``cv=int`` or a scikit-learn splitter; himalaya's convention): one thin SVD per
  training fold (centred on the training fold), validation predictions for every alpha from
  ``(X_val - μ_train) V diag(s / (s² + α)) Uᵀ Y_train``; the criterion is the validation
  mean squared error averaged over folds;
- **refit**: ``β_v = V diag(s / (s² + α_v)) Z_v`` on all the data, ``b_v = ȳ_v - x̄ β_v``.

Voxels are processed in chunks (memory is bounded by ``voxel_chunk_size``); the heavy steps are
large matrix products in the compute dtype (float32 by default) on ``device`` (CPU or GPU,
through torch). The primal and kernel routes give the same predictions up to float rounding.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import torch
import xarray as xr
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from tqdm.auto import tqdm

from cogattn.brain.design import _check_delays, delay_features

__all__ = ["DEFAULT_ALPHAS", "RidgeEncoder"]

logger = logging.getLogger(__name__)

#: Default alpha grid: half-decade steps from 0.1 to 1e7 (17 values). Suited to z-scored
#: features (``s² ≈ n × feature variance``); widen it for raw, unscaled features.
DEFAULT_ALPHAS = np.logspace(-1, 7, 17)

# Working-set target of the (alphas × samples × voxels) residual buffer of one chunk, and of
# the bases pre-scaled for every alpha.
_WORK_BYTES = 256 * 2**20


@dataclass
class _Basis:
    """Thin SVD ``X_c = U diag(s) Vᵀ`` of a centred design (compute dtype, on device)."""

    U: torch.Tensor  # (n, r)
    s: torch.Tensor  # (r,)
    V: torch.Tensor  # (p, r)


@dataclass
class _Fold:
    train: torch.Tensor  # (n_train,) indices
    val: torch.Tensor  # (n_val,) indices
    U: torch.Tensor  # (n_train, r)
    M: torch.Tensor  # (n_val, r) = (X_val - μ_train) V
    g: torch.Tensor  # (r, k) = s / (s² + α)
    Mg: torch.Tensor | None  # (k, n_val, r) M * g[:, a] for every alpha (when small)


def _scaled(B: torch.Tensor, coeffs: torch.Tensor, a0: int = 0, a1: int | None = None) -> Any:
    """``B`` scaled column-wise for alphas ``a0:a1``: (n_alphas, rows, r)."""
    return B[None, :, :] * coeffs[:, a0:a1].T[:, None, :]


def _maybe_scaled(B: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor | None:
    """:func:`_scaled` for every alpha when it fits in the working set, else None."""
    if B.numel() * coeffs.shape[1] * B.element_size() > _WORK_BYTES:
        return None
    return _scaled(B, coeffs)


@dataclass
class _Prepared:
    """What every voxel chunk shares (see :meth:`RidgeEncoder._prepare`); picklable."""

    basis: _Basis
    plan: _LooPlan | None
    folds: list[_Fold] | None
    g: torch.Tensor  # (r, k) refit filter s / (s² + α)
    alphas: np.ndarray
    solver: str
    x_mean: np.ndarray
    x_scale: np.ndarray
    fit_intercept: bool
    dtype: torch.dtype
    device: torch.device
    n: int
    p: int

    @property
    def itemsize(self) -> int:
        return 4 if self.dtype == torch.float32 else 8

    @property
    def np_dtype(self) -> type:
        return np.float32 if self.dtype == torch.float32 else np.float64


@dataclass
class _BlockResult:
    cv_scores: np.ndarray  # (k, m)
    best: np.ndarray  # (m,)
    coef: np.ndarray | None  # (p, m) in scaled units
    Z: torch.Tensor | None  # (r, m) kept for a shared-alpha refit


def _fit_block(
    prep: _Prepared, Y: np.ndarray, y_mean: np.ndarray, y_scale: np.ndarray, *, refit: bool = True
) -> _BlockResult:
    """CV scores, best alphas and (if ``refit``) weights for one chunk of voxels."""
    Yc = torch.as_tensor((Y - y_mean) / y_scale, dtype=prep.dtype, device=prep.device)
    Z = _mm(prep.basis.U.T, Yc)
    if prep.plan is not None:
        scores = _loo_scores(prep.basis, prep.plan, Yc, Z)
    else:
        scores = _kfold_scores(prep.folds, Yc, prep.fit_intercept)
    del Yc
    best = np.argmax(scores, axis=0)
    if not refit:
        return _BlockResult(scores, best, None, Z.cpu())
    return _BlockResult(scores, best, _refit(prep, Z, best), None)


def _mm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Matrix product; on CPU through numpy's BLAS (zero-copy views).

    torch's bundled MKL can run several times slower than numpy's OpenBLAS on some CPUs (e.g.
    AMD EPYC, where it measured ~2x slower single-threaded here), and these products are
    nearly all of the work. On other devices, torch.
    """
    if a.device.type == "cpu":
        res = np.matmul(a.numpy(), b.numpy(), out=None if out is None else out.numpy())
        return out if out is not None else torch.from_numpy(res)
    return a @ b if out is None else torch.mm(a, b, out=out)


def _eigh(G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric eigendecomposition (numpy's LAPACK on CPU, torch elsewhere)."""
    if G.device.type == "cpu":
        w, v = np.linalg.eigh(G.numpy())
        return torch.from_numpy(w), torch.from_numpy(v)
    return torch.linalg.eigh(G)


def _thin_svd(Xc: torch.Tensor, solver: str) -> _Basis:
    """Thin SVD of a float64 centred design through the smaller Gram matrix (float64 result).

    Singular values with ``s² ≤ max(n, p) · eps · s_max²`` are dropped (numerically zero; their
    ridge weight ``s²/(s²+α)`` is negligible for any positive alpha).
    """
    n, p = Xc.shape
    if solver == "primal":
        evals, evecs = _eigh(_mm(Xc.T, Xc))
    else:
        evals, evecs = _eigh(_mm(Xc, Xc.T))
    top = float(evals.max()) if evals.numel() else 0.0
    if top > 0:
        keep = evals > max(n, p) * torch.finfo(torch.float64).eps * top
    else:
        keep = torch.zeros_like(evals, dtype=torch.bool)
    evals, evecs = evals[keep].flip(0), evecs[:, keep].flip(1)
    s = evals.sqrt()
    if solver == "primal":
        V = evecs
        U = _mm(Xc, V) / s
    else:
        U = evecs
        V = _mm(Xc.T, U) / s
    return _Basis(U=U, s=s, V=V)


def _cast(basis: _Basis, dtype: torch.dtype) -> _Basis:
    return _Basis(U=basis.U.to(dtype), s=basis.s.to(dtype), V=basis.V.to(dtype))


@dataclass
class _LooPlan:
    """What exact LOO needs for every alpha, computed once per fit (see :func:`_loo_plan`)."""

    c: torch.Tensor  # (r, k) 1 - d = α / (s² + α), compute dtype
    w: torch.Tensor  # (k, n) 1 / (1 - H_ii)², compute dtype
    full: bool  # the basis spans the whole (centred) sample space: Y_perp = 0 exactly
    Uc: torch.Tensor | None  # (k, n, r) U * c[:, a] for every alpha (when small)


def _loo_plan(
    basis64: _Basis, basis: _Basis, alphas: torch.Tensor, intercept: bool, dtype: torch.dtype
) -> _LooPlan:
    """Leverages for every alpha, in float64, written to avoid cancellation.

    ``1 - H_ii(α) = Σ_j U_ij² α/(s_j²+α) + (1 - 1/n - Σ_j U_ij²)``: the first term is exact for
    small alphas, the second is the leverage outside the basis (zero when it spans the space).
    """
    U, s = basis64.U, basis64.s
    n, r = U.shape
    c = alphas[None, :] / (s[:, None] ** 2 + alphas[None, :])  # (r, k)
    U2 = U**2
    outside = (1.0 - (1.0 / n if intercept else 0.0)) - U2.sum(1)  # (n,)
    full = r >= n - (1 if intercept else 0)
    if full:
        outside = torch.zeros_like(outside)
    one_minus_h = _mm(U2, c) + outside.clamp_min(0.0)[:, None]
    w = 1.0 / one_minus_h.clamp_min(1e-300) ** 2
    c = c.to(dtype)
    return _LooPlan(c=c, w=w.T.contiguous().to(dtype), full=full, Uc=_maybe_scaled(basis.U, c))


class RidgeEncoder(RegressorMixin, BaseEstimator):
    """Multi-target ridge regression with one alpha per target (voxel), chosen by exact LOO or k-fold.

    Parameters
    ----------
    alphas : array-like of float > 0, optional
        Grid of regularisation strengths (default :data:`DEFAULT_ALPHAS`,
        ``np.logspace(-1, 7, 17)``). The penalty is ``α ||β||²`` on the (possibly
        standardised, delayed) features, as in scikit-learn's and himalaya's ``RidgeCV``.
    cv : "loo", int or scikit-learn splitter, default "loo"
        ``"loo"``: exact efficient leave-one-out (criterion of scikit-learn ``RidgeCV``).
        An int ``k``: ``KFold(k)`` (contiguous blocks, no shuffling — the right default for
        time series; himalaya's convention); a splitter or an iterable of (train, val) index
        pairs is used as given (``groups`` passed to ``fit`` reach the splitter).
        For autocorrelated time series prefer k-fold over LOO.
    alpha_per_target : bool, default True
        One alpha per voxel (True) or one alpha shared by all voxels (the alpha with the best
        CV score averaged over voxels).
    fit_intercept : bool, default True
        Fit an unpenalised intercept per voxel (centre X and Y). If False, X and Y are used as
        given (they should be centred).
    standardize : {None, "x", "y", "both"}, default None
        Scale X columns and/or Y columns to unit variance, with statistics from the training
        data (``fit``) only. ``coef_`` and predictions are always in the original units. Scaling
        Y changes only the shared-alpha choice (``alpha_per_target=False``) and the units of
        ``cv_scores_``.
    delays_tr : sequence of int, optional
        FIR delays in TRs (e.g. ``(1, 2, 3, 4)``) applied to X in ``fit`` and ``predict``
        (rows must be consecutive volumes of one run; see
        :func:`cogattn.brain.design.delay_features`).
    solver : {"auto", "primal", "kernel"}, default "auto"
        Decompose ``XᵀX`` (primal) or ``XXᵀ`` (kernel). ``"auto"``: primal when
        ``n_samples ≥ n_features`` else kernel. Both give the same predictions.
    scoring : {"r", "r2"}, default "r"
        Per-voxel metric returned by :meth:`score`: Pearson correlation or coefficient of
        determination.
    voxel_chunk_size : int, optional
        Voxels processed at once. Memory is about ``(n_alphas + 3) × n_samples × chunk``
        numbers (alphas are batched so that the residual buffer stays near 256 MiB).
        Default: chosen so that the whole working set stays near 256 MiB.
    device : str, default "cpu"
        Torch device for the computation (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    dtype : {"float32", "float64"}, default "float32"
        Compute dtype of the heavy matrix products (the decomposition is always float64).
        ``coef_`` has this dtype.
    verbose : int, default 0
        ``> 0``: show a progress bar over voxel chunks.

    Attributes
    ----------
    coef_ : ndarray (n_targets, n_features_delayed) or (n_features_delayed,)
        Weights in the original feature units (scikit-learn layout: one row per voxel). With
        delays, columns are delay-major ``[X(t-d_1) | X(t-d_2) | …]``.
    intercept_ : ndarray (n_targets,) or float
    best_alphas_ : ndarray (n_targets,) or float
        Selected alpha of each voxel.
    best_alpha_index_ : ndarray (n_targets,)
        Index of the selected alpha in ``alphas_``.
    cv_scores_ : ndarray (n_alphas, n_targets)
        Cross-validation score (negative mean squared error, higher is better) of every alpha
        for every voxel: LOO squared error averaged over samples, or validation MSE averaged
        over folds.
    alphas_ : ndarray (n_alphas,)
        The alpha grid used.
    solver_ : str
        ``"primal"`` or ``"kernel"``.
    n_features_in_ : int
        Number of input features (before delays).
    targets_ : xarray.Dataset or None
        Voxel coordinates (and attrs such as ``affine``) when fitted on a Responses dataset
        or a DataArray; ``predict`` and ``score`` then return labelled DataArrays.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> Y = X @ rng.standard_normal((5, 3)) + 0.1 * rng.standard_normal((60, 3))
    >>> model = RidgeEncoder(alphas=[0.1, 1.0, 10.0]).fit(X, Y)
    >>> model.coef_.shape, model.best_alphas_.shape
    ((3, 5), (3,))
    >>> bool((model.score(X, Y) > 0.99).all())
    True
    """

    _parameter_constraints: dict = {  # noqa: RUF012 (scikit-learn convention)
        "alphas": ["array-like", None],
        "cv": [StrOptions({"loo"}), Interval(Integral, 2, None, closed="left"), "cv_object"],
        "alpha_per_target": ["boolean"],
        "fit_intercept": ["boolean"],
        "standardize": [StrOptions({"x", "y", "both"}), None],
        "delays_tr": ["array-like", None],
        "solver": [StrOptions({"auto", "primal", "kernel"})],
        "scoring": [StrOptions({"r", "r2"})],
        "voxel_chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str, torch.device],
        "dtype": [StrOptions({"float32", "float64"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alphas: Any = None,
        *,
        cv: Any = "loo",
        alpha_per_target: bool = True,
        fit_intercept: bool = True,
        standardize: str | None = None,
        delays_tr: Any = None,
        solver: str = "auto",
        scoring: str = "r",
        voxel_chunk_size: int | None = None,
        device: str = "cpu",
        dtype: str = "float32",
        verbose: int = 0,
    ) -> None:
        self.alphas = alphas
        self.cv = cv
        self.alpha_per_target = alpha_per_target
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.delays_tr = delays_tr
        self.solver = solver
        self.scoring = scoring
        self.voxel_chunk_size = voxel_chunk_size
        self.device = device
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ sklearn tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, groups: Any = None) -> RidgeEncoder:
        """Choose one alpha per voxel by cross-validation and fit the weights on all the data.

        Parameters
        ----------
        X : array (n_samples, n_features) or DataArray (sample dim first or named like y's)
            Features (a DataArray's non-sample dims are flattened).
        y : array (n_samples,) or (n_samples, n_targets), DataArray, or Responses Dataset
            Responses; a Responses dataset with a ``repeat`` dim is averaged over repeats.
        groups : array (n_samples,), optional
            Group labels passed to the CV splitter (e.g. runs, for ``GroupKFold``).

        Returns
        -------
        self
        """
        X_arr, Y, ravel = self._validated_inputs(X, y)
        prep = self._prepare(X_arr, groups)
        y_mean, y_scale = self._y_stats(Y)
        n, v = Y.shape
        chunk = self.voxel_chunk_size or _auto_chunk(n, prep.itemsize, len(prep.alphas))
        coef = np.empty((prep.p, v), dtype=prep.np_dtype)
        cv_scores = np.empty((len(prep.alphas), v), dtype=np.float64)
        best = np.empty(v, dtype=np.int64)
        Zs: list[torch.Tensor] = []  # kept only for a shared alpha (refit after all chunks)
        starts = range(0, v, chunk)
        for start in tqdm(
            starts, desc="ridge voxel chunks", disable=self.verbose <= 0 or len(starts) < 2
        ):
            sl = slice(start, min(start + chunk, v))
            out = _fit_block(prep, Y[:, sl], y_mean[sl], y_scale[sl], refit=self.alpha_per_target)
            cv_scores[:, sl] = out.cv_scores
            if self.alpha_per_target:
                coef[:, sl], best[sl] = out.coef, out.best
            else:
                Zs.append(out.Z)
        if not self.alpha_per_target:
            best[:] = int(np.argmax(cv_scores.mean(1)))
            for z, start in zip(Zs, starts):
                sl = slice(start, min(start + chunk, v))
                coef[:, sl] = _refit(prep, z.to(prep.device), best[sl])
        return self._finish(prep, coef, cv_scores, best, y_mean, y_scale, ravel)

    # ------------------------------------------------------------------ fit steps
    # (also used by cogattn.brain.distributed to fit voxel chunks on a dask cluster)
    def _validated_inputs(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
        """Validate parameters and data; record the target labels. Returns (X, Y 2-D, ravel)."""
        self._validate_params()
        X_arr, y_arr, targets, sample_dim, target_dim = _unpack_xy(X, y)
        X_arr, y_arr = validate_data(
            self,
            X_arr,
            y_arr,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            ensure_min_samples=2,
        )
        self.targets_ = targets
        self._sample_dim = sample_dim
        self._target_dim = target_dim
        ravel = y_arr.ndim == 1
        return X_arr, (y_arr[:, None] if ravel else y_arr), ravel

    def _prepare(self, X_arr: np.ndarray, groups: Any = None) -> _Prepared:
        """Everything shared by all voxels: delays, scaling, decompositions, CV plan."""
        alphas = self._check_alphas()
        if self.delays_tr is not None:
            X_arr = delay_features(X_arr, _check_delays(self.delays_tr))
        n, p = X_arr.shape
        dtype = torch.float32 if self.dtype == "float32" else torch.float64
        device = torch.device(self.device)
        solver = self.solver if self.solver != "auto" else ("primal" if n >= p else "kernel")
        if solver == "primal" and p > n:
            logger.info(
                "solver='primal' with more features (%d) than samples (%d): 'kernel' is faster",
                p,
                n,
            )
        X64 = np.asarray(X_arr, dtype=np.float64)
        x_mean = X64.mean(0) if self.fit_intercept else np.zeros(p)
        x_scale = np.ones(p)
        if self.standardize in ("x", "both"):
            sd = X64.std(0)
            x_scale = np.where(sd > 0, sd, 1.0)
        Xs_t = torch.as_tensor((X64 - x_mean) / x_scale, dtype=torch.float64, device=device)
        basis64 = _thin_svd(Xs_t, solver)
        basis = _cast(basis64, dtype)
        alphas_t = torch.as_tensor(alphas, dtype=torch.float64, device=device)
        loo = isinstance(self.cv, str) and self.cv == "loo"
        plan = _loo_plan(basis64, basis, alphas_t, self.fit_intercept, dtype) if loo else None
        folds = None if loo else self._make_folds(Xs_t, alphas_t, dtype, n, groups)
        s = basis64.s
        g = (s[:, None] / (s[:, None] ** 2 + alphas_t[None, :])).to(dtype)  # refit filter
        return _Prepared(
            basis=basis,
            plan=plan,
            folds=folds,
            g=g,
            alphas=alphas,
            solver=solver,
            x_mean=x_mean,
            x_scale=x_scale,
            fit_intercept=self.fit_intercept,
            dtype=dtype,
            device=device,
            n=n,
            p=p,
        )

    def _y_stats(self, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = Y.shape[1]
        y_mean = Y.mean(0, dtype=np.float64) if self.fit_intercept else np.zeros(v)
        y_scale = np.ones(v)
        if self.standardize in ("y", "both"):
            sd = Y.std(0, dtype=np.float64)
            y_scale = np.where(sd > 0, sd, 1.0)
        return y_mean, y_scale

    def _finish(
        self,
        prep: _Prepared,
        coef: np.ndarray,
        cv_scores: np.ndarray,
        best: np.ndarray,
        y_mean: np.ndarray,
        y_scale: np.ndarray,
        ravel: bool,
    ) -> RidgeEncoder:
        """Back to original units and set the fitted attributes."""
        # y = ((x - x_mean) / x_scale) @ B * y_scale + y_mean
        coef *= (y_scale[None, :] / prep.x_scale[:, None]).astype(coef.dtype)
        intercept = (y_mean - prep.x_mean @ coef).astype(coef.dtype)
        alphas = prep.alphas
        self.alphas_ = alphas
        self.solver_ = prep.solver
        self.best_alpha_index_ = best
        self.cv_scores_ = cv_scores
        if ravel:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
            self.best_alphas_ = float(alphas[best[0]])
        else:
            self.coef_ = coef.T
            self.intercept_ = intercept
            self.best_alphas_ = alphas[best]
        at_edge = float(np.mean((best == 0) | (best == len(alphas) - 1)))
        if len(alphas) > 1 and at_edge > 0.5:
            logger.info(
                "%.0f%% of targets chose an alpha at the edge of the grid [%g, %g]; "
                "noise-only voxels do this, otherwise consider widening the grid",
                100 * at_edge,
                alphas[0],
                alphas[-1],
            )
        return self

    def _check_alphas(self) -> np.ndarray:
        alphas = DEFAULT_ALPHAS if self.alphas is None else self.alphas
        arr = np.asarray(alphas, dtype=np.float64).ravel()
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(
                f"alphas must be a non-empty sequence of finite values > 0, got {alphas!r}"
            )
        return arr

    def _make_folds(
        self, Xs: torch.Tensor, alphas: torch.Tensor, dtype: torch.dtype, n: int, groups: Any
    ) -> list[_Fold]:
        cv = check_cv(self.cv)
        folds = []
        for train, val in cv.split(np.zeros((n, 1)), None, groups):
            train, val = np.asarray(train), np.asarray(val)
            if len(train) < 2 or len(val) < 1:
                raise ValueError(
                    f"every CV split needs ≥ 2 training and ≥ 1 validation samples, got "
                    f"{len(train)} and {len(val)}"
                )
            tr = torch.as_tensor(train, device=Xs.device)
            va = torch.as_tensor(val, device=Xs.device)
            Xt = Xs[tr]
            mu = Xt.mean(0) if self.fit_intercept else torch.zeros_like(Xt[0])
            sub_solver = "primal" if len(train) >= Xs.shape[1] else "kernel"
            b = _thin_svd(Xt - mu, sub_solver)
            M = _mm(Xs[va] - mu, b.V).to(dtype)
            g = (b.s[:, None] / (b.s[:, None] ** 2 + alphas[None, :])).to(dtype)
            folds.append(_Fold(tr, va, b.U.to(dtype), M, g, _maybe_scaled(M, g)))
        return folds

    # ------------------------------------------------------------------ predict / score
    def predict(self, X: Any) -> Any:
        """Predicted responses.

        Returns
        -------
        ndarray (n_samples, n_targets) or (n_samples,), or DataArray (sample, voxel)
            A DataArray carrying the voxel coordinates when the model was fitted on a
            Responses dataset or a DataArray.
        """
        check_is_fitted(self)
        X_arr, sample_index = _unpack_x(X, getattr(self, "_sample_dim", None))
        X_arr = validate_data(self, X_arr, reset=False, dtype=(np.float64, np.float32))
        if self.delays_tr is not None:
            X_arr = delay_features(X_arr, _check_delays(self.delays_tr))
        coef = self.coef_
        pred = X_arr @ (coef.T if coef.ndim == 2 else coef) + self.intercept_
        if self.targets_ is None:
            return pred
        return self._wrap(pred, sample_index)

    def score(self, X: Any, y: Any, *, scoring: str | None = None) -> Any:
        """Per-voxel accuracy of the predictions of ``X`` against ``y``.

        Parameters
        ----------
        X : array or DataArray
            Features.
        y : array, DataArray or Responses Dataset
            Measured responses (averaged over repeats if it has a ``repeat`` dim).
        scoring : {"r", "r2"}, optional
            Overrides the ``scoring`` parameter.

        Returns
        -------
        float, ndarray (n_targets,) or DataArray (voxel,)
            Pearson r or R² per voxel (a float for a single target).
        """
        from cogattn.brain.metrics import pearson_r, r2_score

        scoring = scoring or self.scoring
        if scoring not in ("r", "r2"):
            raise ValueError(f"scoring must be 'r' or 'r2', got {scoring!r}")
        pred = self.predict(X)
        pred_arr = np.asarray(pred.values if isinstance(pred, xr.DataArray) else pred)
        y_arr = _unpack_y(y)[0]
        if y_arr.shape != pred_arr.shape:
            raise ValueError(
                f"y has shape {y_arr.shape} but the predictions have shape {pred_arr.shape}"
            )
        fn = pearson_r if scoring == "r" else r2_score
        values = fn(y_arr, pred_arr)
        if np.ndim(values) == 0:
            return float(values)
        if self.targets_ is None:
            return values
        out = self._wrap(values[None, :], None).isel({self._sample_dim: 0}, drop=True)
        out.name = scoring
        out.attrs["scoring"] = "Pearson r" if scoring == "r" else "R²"
        return out

    def voxel_summary(self) -> xr.Dataset:
        """Fitted per-voxel quantities as a Dataset: best alpha and its CV score.

        Carries the voxel coordinates (and ``affine`` etc.) when fitted on labelled data.
        """
        check_is_fitted(self)
        best = np.atleast_1d(self.best_alphas_)
        idx = np.atleast_1d(self.best_alpha_index_)
        cv_best = self.cv_scores_[idx, np.arange(idx.size)]
        dim = self._target_dim if self.targets_ is not None else "voxel"
        ds = xr.Dataset(
            {
                "best_alpha": ((dim,), best.astype(np.float64)),
                "cv_score": ((dim,), cv_best, {"long_name": "CV negative mean squared error"}),
            }
        )
        if self.targets_ is not None:
            ds = ds.assign_coords(self.targets_.coords)
            ds.attrs.update(self.targets_.attrs)
        return ds

    def _wrap(self, values: np.ndarray, sample_index: Any) -> xr.DataArray:
        targets = self.targets_
        tdim = self._target_dim
        sdim = self._sample_dim or "sample"
        if values.ndim == 1:
            values = values[:, None]
        coords: dict[str, Any] = {
            name: c.variable for name, c in targets.coords.items() if set(c.dims) <= {tdim}
        }
        coords[sdim] = np.arange(values.shape[0]) if sample_index is None else sample_index
        da = xr.DataArray(values, dims=(sdim, tdim), coords=coords)
        da.attrs.update({k: v for k, v in targets.attrs.items() if k != "cogattn_schema"})
        return da


# ---------------------------------------------------------------------- numerical kernels
def _alpha_batch(rows: int, m: int, k: int, itemsize: int) -> int:
    """How many alphas share one batched product (buffer ``b × rows × m`` ≤ working set)."""
    return int(max(1, min(k, _WORK_BYTES // max(1, rows * m * itemsize))))


def _residual_sums(
    B: torch.Tensor,
    Z: torch.Tensor,
    offset: torch.Tensor | None,
    weights: torch.Tensor,
    buf: torch.Tensor,
) -> torch.Tensor:
    """``Σ_i w_ai (offset + B_a Z)_iv²`` for a batch of alphas.

    ``B`` is ``(b, rows, r)`` (the basis scaled for ``b`` alphas), ``weights`` ``(b, rows)``.
    One large matrix product ``(b·rows × r) @ (r × m)`` (much faster on CPU than a batched
    product), then in-place add/square and a batched weighted sum: ``(b, m)``.
    """
    b, rows, r = B.shape
    m = Z.shape[1]
    R = _mm(B.reshape(b * rows, r), Z, out=buf[: b * rows]).view(b, rows, m)
    if offset is not None:
        R.add_(offset)
    R.square_()
    return torch.bmm(weights[:, None, :], R)[:, 0, :]


def _loo_scores(basis: _Basis, plan: _LooPlan, Yc: torch.Tensor, Z: torch.Tensor) -> np.ndarray:
    """Negative mean squared exact-LOO error, (n_alphas, n_chunk).

    Residuals are formed as ``Y_perp + U diag(α/(s²+α)) Z`` (``Y_perp = Y - U Z``, exactly 0
    when the basis spans the sample space): no cancellation when the fit nearly interpolates.
    Alphas are batched into a few large products.
    """
    n, m = Yc.shape
    k = plan.c.shape[1]
    out = torch.empty((k, m), dtype=Yc.dtype, device=Yc.device)
    Yp = None if plan.full else Yc - _mm(basis.U, Z)
    step = _alpha_batch(n, m, k, Yc.element_size())
    buf = torch.empty((step * n, m), dtype=Yc.dtype, device=Yc.device)
    for a0 in range(0, k, step):
        a1 = min(k, a0 + step)
        Uc = plan.Uc[a0:a1] if plan.Uc is not None else _scaled(basis.U, plan.c, a0, a1)
        out[a0:a1] = _residual_sums(Uc, Z, Yp, plan.w[a0:a1], buf)  # Σ_i w_i r_i²
    return (-out.to(torch.float64) / n).cpu().numpy()


def _kfold_scores(folds: list[_Fold], Yc: torch.Tensor, intercept: bool) -> np.ndarray:
    """Negative validation MSE averaged over folds, (n_alphas, n_chunk)."""
    k = folds[0].g.shape[1]
    m = Yc.shape[1]
    total = torch.zeros((k, m), dtype=torch.float64, device=Yc.device)
    for f in folds:
        Yt = Yc.index_select(0, f.train)
        Z = _mm(f.U.T, Yt)  # U ⊥ 1 (centred on the training fold): no need to centre Yt
        Yv = Yc.index_select(0, f.val)
        if intercept:
            Yv -= Yt.mean(0)
        del Yt
        nv = f.M.shape[0]
        step = _alpha_batch(nv, m, k, Yc.element_size())
        buf = torch.empty((step * nv, m), dtype=Yc.dtype, device=Yc.device)
        ones = torch.full((step, nv), 1.0 / nv, dtype=Yc.dtype, device=Yc.device)
        Yv.neg_()  # residual = -(Y_val - prediction): the sign does not matter once squared
        for a0 in range(0, k, step):
            a1 = min(k, a0 + step)
            Mg = f.Mg[a0:a1] if f.Mg is not None else _scaled(f.M, f.g, a0, a1)
            sums = _residual_sums(Mg, Z, Yv, ones[: a1 - a0], buf)
            total[a0:a1] += sums.to(torch.float64)
    return (-total / len(folds)).cpu().numpy()


def _refit(prep: _Prepared, Z: torch.Tensor, best: np.ndarray) -> np.ndarray:
    """Weights ``V diag(s/(s²+α_v)) Z_v`` for each column's chosen alpha, (p, n_chunk)."""
    idx = torch.as_tensor(best, device=Z.device, dtype=torch.long)
    return _mm(prep.basis.V, prep.g[:, idx] * Z).cpu().numpy()


# ---------------------------------------------------------------------- input handling
def _unpack_y(y: Any) -> tuple[Any, xr.Dataset | None, str | None, str | None, Any]:
    """Responses Dataset / DataArray / array -> (array, targets template, sample dim, target dim, sample index)."""
    if isinstance(y, xr.Dataset):
        if "response" not in y.data_vars:
            raise ValueError(
                "y is an xarray.Dataset without a 'response' variable; pass a Responses "
                "dataset (cogattn.data.responses) or a DataArray"
            )
        if "repeat" in y["response"].dims:
            y = y.responses.mean_repeats()
        da = y["response"]
        sdim = next(d for d in da.dims if d != "voxel") if "voxel" in da.dims else da.dims[0]
        tdim = "voxel" if "voxel" in da.dims else da.dims[1]
        da = da.transpose(sdim, tdim)
        template = y.drop_vars(list(y.data_vars)).drop_dims(sdim, errors="ignore")
        return da.values, template, sdim, tdim, da[sdim].values
    if isinstance(y, xr.DataArray):
        if y.ndim == 1:
            return y.values, None, y.dims[0], None, y[y.dims[0]].values
        if y.ndim != 2:
            raise ValueError(f"y DataArray must be 1-D or 2-D (sample, target), got dims {y.dims}")
        sdim, tdim = y.dims
        template = y.coords.to_dataset().drop_dims(sdim, errors="ignore")
        for name in (tdim,):
            if name not in template.coords:
                template = template.assign_coords({name: np.arange(y.sizes[name])})
        template.attrs.update(y.attrs)
        return y.values, template, sdim, tdim, y[sdim].values
    return y, None, None, None, None


def _unpack_x(X: Any, sample_dim: str | None) -> tuple[Any, Any]:
    """Features as a 2-D array (flattening non-sample dims) and their sample labels."""
    if isinstance(X, xr.Dataset):
        raise TypeError(
            "X must be an array or a DataArray, got an xarray.Dataset; select one variable "
            "(e.g. a layer's features)"
        )
    if isinstance(X, xr.DataArray):
        sdim = sample_dim if sample_dim in X.dims else X.dims[0]
        X = X.transpose(sdim, ...)
        arr = X.values
        index = X[sdim].values if sdim in X.coords else np.arange(arr.shape[0])
        return (arr.reshape(arr.shape[0], -1) if arr.ndim > 2 else arr), index
    return X, None


def _unpack_xy(X: Any, y: Any) -> tuple[Any, Any, xr.Dataset | None, str | None, str | None]:
    y_arr, template, sdim, tdim, y_index = _unpack_y(y)
    if (
        isinstance(X, xr.DataArray)
        and sdim is not None
        and sdim in X.coords
        and y_index is not None
        and not np.array_equal(X[sdim].values, y_index)
    ):
        missing = np.setdiff1d(y_index, X[sdim].values)
        if missing.size:
            raise ValueError(
                f"{missing.size} {sdim}(s) of y have no features in X, e.g. {missing[:3].tolist()}"
            )
        X = X.sel({sdim: y_index})
    X_arr, _ = _unpack_x(X, sdim)
    if template is None:
        tdim = None
    return X_arr, y_arr, template, sdim, tdim


def _auto_chunk(n: int, itemsize: int, k: int) -> int:
    """Voxels per chunk so that the chunk's buffers (about ``(k + 3) × n × chunk`` numbers)
    stay near the working-set target."""
    return max(64, math.floor(_WORK_BYTES / (max(n, 1) * itemsize * (k + 3))))
