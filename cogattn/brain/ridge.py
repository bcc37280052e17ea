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
On CPU the products run on numpy's BLAS threads, and torch's own thread pool is held at one
thread for the duration of a fit (restored afterwards) so that the two pools do not compete
for the cores.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
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

# Cost model of the filtered products (see :class:`_Products`), in multiply-adds per element
# of a ``rows × voxels`` output plane: the fixed cost of a matrix product's output element
# (products with a short inner dimension run slower per multiply-add), reading an intermediate
# plane of the low-rank form back in the combination (memory-bound), and squaring and summing
# a residual. Rough CPU values (OpenBLAS, float32, measured here); they only decide which of
# the two exact-to-tolerance forms is used.
_GEMM_COST = 50
_PLANE_COST = 40
_RESID_COST = 8
# Low-rank form: smallest block of components, most blocks, and the speed-up it must promise.
_MIN_BLOCK = 16
_MAX_BLOCKS = 64
_LOWRANK_GAIN = 0.9
# Downdated fold solutions are used only when they amplify rounding by at most this factor.
_MAX_DOWNDATE_NORM = 4.0


@dataclass
class _Basis:
    """Thin SVD ``X_c = U diag(s) Vᵀ`` of a centred design (compute dtype, on device)."""

    U: torch.Tensor | None  # (n, r)
    s: torch.Tensor  # (r,)
    V: torch.Tensor  # (p, r)


@dataclass
class _Products:
    """``P_a = L diag(F[a]) R`` for every alpha ``a``, with the left side prepared once.

    ``L`` is ``(rows, r)``, the filter ``F`` is ``(k, r)``, ``R`` (``(r, m)``, one column per
    voxel) comes later, per voxel chunk. Two forms, whichever costs fewer operations:

    - exact (``mix is None``): ``k`` products of inner size ``r`` with ``L`` pre-scaled for every
      alpha (``scaled``, ``(k, rows, r)``, or built per alpha batch from ``left``/``filt``);
    - blocked low rank: the components (sorted by singular value) are cut into contiguous
      blocks ``J_g`` and each block of the filter is factored, ``F[:, J_g] ≈ B_g A_gᵀ`` (rank
      ``q_g``, truncation error below the compute dtype's eps relative to each alpha's largest
      filter value in the block); then ``P_a = Σ_g Σ_l B_g[a, l] W_gl`` with
      ``W_gl = L[:, J_g] diag(A_g[:, l]) R[J_g]``: ``Σ q_g`` products of inner size ``|J_g|``
      and one small combination, instead of ``k`` products of inner size ``r``.
    """

    rows: int
    k: int
    left: torch.Tensor | None  # exact, built per batch: (rows, r)
    filt: torch.Tensor | None  # exact, built per batch: (k, r)
    scaled: torch.Tensor | None  # exact: (k, rows, r) L * F[a]
    blocks: list[tuple[int, int, torch.Tensor]] | None  # low rank: (j0, j1, (q_g*rows, j1-j0))
    mix: torch.Tensor | None  # low rank: (k, q + 1) = [B_1 … B_G | -1] (last: the offset plane)


@dataclass
class _Fold:
    """One CV split: validation products and how to get ``Z_f = U_fᵀ Ỹ_train`` for a chunk.

    Direct: ``Z_f = U_fᵀ Y_train`` (``U`` set). Downdate (``T`` set; primal solver, the split
    partitions the samples): from the full-data ``Z = UᵀY``,
    ``Z_f = T (Z - Ũ_valᵀ Y_val)`` with ``T = S_f⁻¹ V_fᵀ V S`` and
    ``Ũ_val = (I + 11ᵀ/n_train) U_val`` (removing the validation rows' contribution to
    ``XᵀY``, centring included): ``(n_val + r_f)·r`` instead of ``n_train·r_f`` per voxel.
    ``T`` is bounded by ``1/σ_min`` of the training rows of ``U``; a fold whose validation
    block holds nearly all of some direction is computed directly instead.
    """

    val: torch.Tensor  # (n_val,) indices
    train: torch.Tensor  # (n_train,) indices
    prod: _Products  # left (X_val - μ_train) V_f / s_f, filter s_f² / (s_f² + α)
    U: torch.Tensor | None  # (n_train, r_f)
    T: torch.Tensor | None  # (r_f, r)
    Uv: torch.Tensor | None  # (n_val, r) U_val
    cu: torch.Tensor | None  # (r,) U_valᵀ 1 / n_train (centring; None without intercept)
    val_slice: slice | None = None  # the validation rows when contiguous (views, no copies)

    def val_rows(self, Y: torch.Tensor) -> torch.Tensor:
        """The validation rows of ``Y``: a view when they are contiguous, else a copy."""
        return Y[self.val_slice] if self.val_slice is not None else Y.index_select(0, self.val)


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


class _Workspace:
    """Reusable scratch buffers (flat tensors), kept across voxel chunks.

    Large fresh allocations are mapped lazily by the OS, so every chunk would otherwise pay a
    page fault per 4 KiB of its buffers on first touch (~0.1 s per 150 MB here).
    """

    def __init__(self) -> None:
        self._bufs: dict[str, torch.Tensor] = {}

    def get(self, name: str, numel: int, like: torch.Tensor) -> torch.Tensor:
        buf = self._bufs.get(name)
        if (
            buf is None
            or buf.numel() < numel
            or buf.dtype != like.dtype
            or buf.device != like.device
        ):
            self._bufs.pop(name, None)
            buf = torch.empty(numel, dtype=like.dtype, device=like.device)
            self._bufs[name] = buf
        return buf[:numel]


def _fit_block(
    prep: _Prepared,
    Y: np.ndarray,
    y_mean: np.ndarray,
    y_scale: np.ndarray,
    *,
    refit: bool = True,
    work: _Workspace | None = None,
) -> _BlockResult:
    """CV scores, best alphas and (if ``refit``) weights for one chunk of voxels."""
    with _blas_owns_cpu(prep.device):
        return _fit_block_impl(prep, Y, y_mean, y_scale, refit=refit, work=work)


def _fit_block_impl(
    prep: _Prepared,
    Y: np.ndarray,
    y_mean: np.ndarray,
    y_scale: np.ndarray,
    *,
    refit: bool,
    work: _Workspace | None,
) -> _BlockResult:
    work = work if work is not None else _Workspace()
    Yc = torch.as_tensor((Y - y_mean) / y_scale, dtype=prep.dtype, device=prep.device)
    if prep.plan is not None:
        Z = _mm(prep.basis.U.T, Yc)
        scores = _loo_scores(prep.plan, Yc, Z, work)
    else:
        scores, Z = _kfold_scores(prep.folds, Yc, prep.basis.U, prep.fit_intercept, work)
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


@contextlib.contextmanager
def _blas_owns_cpu(device: torch.device) -> Iterator[None]:
    """On CPU, hold torch's intra-op thread pool at one thread for the duration.

    The heavy products run on numpy's BLAS threads (:func:`_mm`); torch's OpenMP pool, used for
    the elementwise steps between them, would otherwise compete with BLAS threads that are
    still spinning after a product. Measured on a 2-core machine: the N 500 × P 100 × V 2 000
    5-fold fit ran 5× faster, the N 2 000 × P 768 × V 20 000 one 1.25× faster. The setting is
    process-wide, so it is restored on exit (also on error). No effect on other devices.
    """
    old = torch.get_num_threads()
    if device.type != "cpu" or old == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _eigh(G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric eigendecomposition (numpy's LAPACK on CPU, torch elsewhere)."""
    if G.device.type == "cpu":
        w, v = np.linalg.eigh(G.numpy())
        return torch.from_numpy(w), torch.from_numpy(v)
    return torch.linalg.eigh(G)


def _thin_svd(
    Xc: torch.Tensor | None,
    solver: str,
    *,
    gram: torch.Tensor | None = None,
    need_u: bool = True,
    shape: tuple[int, int] | None = None,
) -> _Basis:
    """Thin SVD of a float64 centred design through the smaller Gram matrix (float64 result).

    Singular values with ``s² ≤ max(n, p) · eps · s_max²`` are dropped (numerically zero; their
    ridge weight ``s²/(s²+α)`` is negligible for any positive alpha). The primal Gram ``XcᵀXc``
    may be given (then ``Xc`` may be None with its ``shape`` given and ``need_u=False``);
    ``need_u=False`` skips ``U`` for the primal solver.
    """
    n, p = Xc.shape if Xc is not None else shape
    if gram is None:
        gram = _mm(Xc.T, Xc) if solver == "primal" else _mm(Xc, Xc.T)
    evals, evecs = _eigh(gram)
    top = float(evals.max()) if evals.numel() else 0.0
    if top > 0:
        keep = evals > max(n, p) * torch.finfo(torch.float64).eps * top
    else:
        keep = torch.zeros_like(evals, dtype=torch.bool)
    evals, evecs = evals[keep].flip(0), evecs[:, keep].flip(1)
    s = evals.sqrt()
    if solver == "primal":
        V = evecs
        U = _mm(Xc, V) / s if need_u else None
    else:
        U = evecs
        V = _mm(Xc.T, U) / s
    return _Basis(U=U, s=s, V=V)


def _cast(basis: _Basis, dtype: torch.dtype) -> _Basis:
    return _Basis(U=basis.U.to(dtype), s=basis.s.to(dtype), V=basis.V.to(dtype))


def _factor_block(F: np.ndarray, tol: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Rank-``q`` factorisation ``F ≈ B Aᵀ`` of a ``(k, len)`` filter block (float64).

    Each alpha's row is normalised by its largest value first, so the truncation error of every
    entry is at most ``tol`` times the largest filter value of its alpha in the block (a
    relative, not absolute, bound: large-alpha rows, whose filters are tiny, keep their digits).
    """
    rho = np.abs(F).max(1)
    rho = np.where(rho > 0, rho, 1.0)
    u, sv, vt = np.linalg.svd(F / rho[:, None], full_matrices=False)
    q = int(np.count_nonzero(sv > tol))
    return q, rho[:, None] * u[:, :q], vt[:q].T * sv[:q]


def _lowrank_blocks(
    F: np.ndarray, tol: float
) -> tuple[float, list[tuple[int, int, np.ndarray, np.ndarray]]]:
    """Cheapest split of the components into contiguous blocks with low-rank filters.

    Recursive bisection: a range is split in two when the two halves' low-rank products cost
    less than its own (:data:`_PLANE_COST` per intermediate plane). Returns the cost
    (multiply-adds per row and voxel) and the blocks ``(j0, j1, B, A)``.
    """
    r = F.shape[1]
    min_size = max(_MIN_BLOCK, -(-r // _MAX_BLOCKS))

    def split(j0: int, j1: int) -> tuple[float, list]:
        q, B, A = _factor_block(F[:, j0:j1], tol)
        whole = q * (j1 - j0 + _GEMM_COST + _PLANE_COST)
        if j1 - j0 < 2 * min_size:
            return whole, [(j0, j1, B, A)]
        h = (j0 + j1) // 2
        c1, b1 = split(j0, h)
        c2, b2 = split(h, j1)
        if c1 + c2 < whole:
            return c1 + c2, b1 + b2
        return whole, [(j0, j1, B, A)]

    return split(0, r)


def _products(
    left64: torch.Tensor, filt64: torch.Tensor, dtype: torch.dtype, *, lowrank: bool = True
) -> _Products:
    """Prepare ``L diag(F[a]) R`` for every alpha (see :class:`_Products`) in ``dtype``.

    The low-rank form is used when it promises to be at least 10 % cheaper than the exact one;
    its truncation tolerance is the compute dtype's eps (in float64 that leaves little to
    truncate and the exact form is chosen; in float32 the truncation error is below the
    rounding of the exact products, see ``docs/brain_encoding.md``).
    """
    rows, r = left64.shape
    k = filt64.shape[0]
    exact_cost = k * (r + _GEMM_COST + _RESID_COST)
    if lowrank and k > 2 and r >= 2 * _MIN_BLOCK:
        F = filt64.cpu().numpy()
        cost, blocks = _lowrank_blocks(F, float(torch.finfo(dtype).eps))
        cost += k * (_GEMM_COST + _RESID_COST) + _PLANE_COST  # combination, offset plane
        blocks = [b for b in blocks if b[2].shape[1] > 0]
        if blocks and cost < _LOWRANK_GAIN * exact_cost:
            dev = left64.device
            lefts, mixes = [], []
            for j0, j1, B, A in blocks:
                At = torch.as_tensor(A.T, device=dev)  # (q, len)
                Lg = left64[None, :, j0:j1] * At[:, None, :]  # (q, rows, len)
                lefts.append((j0, j1, Lg.reshape(-1, j1 - j0).to(dtype).contiguous()))
                mixes.append(torch.as_tensor(B, device=dev))
            mixes.append(-torch.ones((k, 1), dtype=torch.float64, device=dev))
            mix = torch.cat(mixes, 1).to(dtype).contiguous()
            return _Products(rows, k, None, None, None, lefts, mix)
    left, filt = left64.to(dtype), filt64.to(dtype).contiguous()
    if rows * r * k * left.element_size() <= _WORK_BYTES:
        scaled = (left[None, :, :] * filt[:, None, :]).contiguous()
        return _Products(rows, k, None, None, scaled, None, None)
    return _Products(rows, k, left.contiguous(), filt, None, None, None)


@dataclass
class _LooPlan:
    """What exact LOO needs for every alpha, computed once per fit (see :func:`_loo_plan`)."""

    prod: _Products  # U diag(c) (full) or U diag(d) (offset Y) for every alpha
    w: torch.Tensor  # (k, n) 1 / (1 - H_ii)², compute dtype
    full: bool  # the basis spans the whole (centred) sample space: Y = U Z exactly


def _loo_plan(
    basis64: _Basis, alphas: torch.Tensor, intercept: bool, dtype: torch.dtype, lowrank: bool
) -> _LooPlan:
    """Leverages for every alpha, in float64, written to avoid cancellation.

    ``1 - H_ii(α) = Σ_j U_ij² α/(s_j²+α) + (1 - 1/n - Σ_j U_ij²)``: the first term is exact for
    small alphas, the second is the leverage outside the basis (zero when it spans the space).
    The LOO residuals before weighting are ``U diag(α/(s²+α)) Z`` when the basis spans the
    (centred) sample space — no cancellation when the fit nearly interpolates — and
    ``Y - U diag(s²/(s²+α)) Z`` otherwise.
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
    filt = c.T if full else (s[None, :] ** 2 / (s[None, :] ** 2 + alphas[:, None]))
    prod = _products(U, filt.contiguous(), dtype, lowrank=lowrank)
    return _LooPlan(prod=prod, w=w.T.contiguous().to(dtype), full=full)


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
        work = _Workspace()
        for start in tqdm(
            starts, desc="ridge voxel chunks", disable=self.verbose <= 0 or len(starts) < 2
        ):
            sl = slice(start, min(start + chunk, v))
            out = _fit_block(
                prep, Y[:, sl], y_mean[sl], y_scale[sl], refit=self.alpha_per_target, work=work
            )
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

    def _prepare(self, X_arr: np.ndarray, groups: Any = None, *, lowrank: bool = True) -> _Prepared:
        """Everything shared by all voxels: delays, scaling, decompositions, CV plan.

        ``lowrank=False`` forces the exact filtered products (see :class:`_Products`); used by
        the tests to compare the two forms.
        """
        with _blas_owns_cpu(torch.device(self.device)):
            return self._prepare_impl(X_arr, groups, lowrank)

    def _prepare_impl(self, X_arr: np.ndarray, groups: Any, lowrank: bool) -> _Prepared:
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
        gram = _mm(Xs_t.T, Xs_t) if solver == "primal" else None
        basis64 = _thin_svd(Xs_t, solver, gram=gram)
        basis = _cast(basis64, dtype)
        alphas_t = torch.as_tensor(alphas, dtype=torch.float64, device=device)
        loo = isinstance(self.cv, str) and self.cv == "loo"
        plan = _loo_plan(basis64, alphas_t, self.fit_intercept, dtype, lowrank) if loo else None
        folds = (
            None if loo else self._make_folds(Xs_t, basis64, gram, alphas_t, dtype, groups, lowrank)
        )
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
        self,
        Xs: torch.Tensor,
        basis64: _Basis,
        gram: torch.Tensor | None,
        alphas: torch.Tensor,
        dtype: torch.dtype,
        groups: Any,
        lowrank: bool,
    ) -> list[_Fold]:
        """Per split: the training fold's SVD, validation products, route to ``Z_f``.

        With the primal full-data solver (``gram = XsᵀXs`` given), each fold's Gram is the full
        one minus the validation rows' (and the change of centring), and ``Z_f`` is downdated
        from the full-data ``Z`` when that is cheaper and well conditioned (see :class:`_Fold`).
        """
        n, p = Xs.shape
        r = basis64.s.numel()
        cv = check_cv(self.cv)
        folds = []
        for train, val in cv.split(np.zeros((n, 1)), None, groups):
            train, val = np.asarray(train), np.asarray(val)
            if len(train) < 2 or len(val) < 1:
                raise ValueError(
                    f"every CV split needs ≥ 2 training and ≥ 1 validation samples, got "
                    f"{len(train)} and {len(val)}"
                )
            nt, nv = len(train), len(val)
            # the split partitions the samples: fold quantities are downdates of full-data ones
            partition = nt + nv == n and np.unique(np.concatenate([train, val])).size == n
            tr = torch.as_tensor(train, device=Xs.device)
            va = torch.as_tensor(val, device=Xs.device)
            Xv = Xs[va]
            primal = nt >= p
            if not self.fit_intercept:
                mu = torch.zeros_like(Xv[0])
            elif partition:  # Xs is centred on all samples: mean(train) = -Σ_val / n_train
                mu = -Xv.sum(0) / nt
            else:
                mu = Xs[tr].mean(0)
            if primal and gram is not None and partition:
                # XtᵀXt = XsᵀXs - XvᵀXv; centring on the fold removes n_train·μμᵀ
                g_f = gram - _mm(Xv.T, Xv) - nt * torch.outer(mu, mu)
                b = _thin_svd(None, "primal", gram=g_f, need_u=False, shape=(nt, p))
            else:
                b = _thin_svd(Xs[tr] - mu, "primal" if primal else "kernel", need_u=False)
            s2 = b.s**2
            d = s2[None, :] / (s2[None, :] + alphas[:, None])  # (k, r_f)
            M = _mm(Xv - mu, b.V) / b.s  # validation rows in the fold's basis
            prod = _products(M, d, dtype, lowrank=lowrank)
            rf = b.s.numel()
            T = None
            if gram is not None and partition and (nv + rf) * r < nt * rf:
                # downdate of the full-data solution (see _Fold); only if well conditioned
                T = _mm(b.V.T, basis64.V) * (basis64.s[None, :] / b.s[:, None])
                if _spectral_norm(T) > _MAX_DOWNDATE_NORM:
                    T = None
            contiguous = bool(np.all(np.diff(val) == 1))
            vs = slice(int(val[0]), int(val[-1]) + 1) if contiguous else None
            if T is not None:
                Uv = basis64.U[va]
                cu = (Uv.sum(0) / nt).to(dtype) if self.fit_intercept else None
                folds.append(_Fold(va, tr, prod, None, T.to(dtype), Uv.to(dtype), cu, vs))
            else:
                U = b.U if b.U is not None else _mm(Xs[tr] - mu, b.V) / b.s
                folds.append(_Fold(va, tr, prod, U.to(dtype), None, None, None, vs))
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


def _spectral_norm(T: torch.Tensor, iters: int = 50) -> float:
    """Largest singular value of ``T`` by power iteration on ``TᵀT`` (float64)."""
    x = torch.linspace(1.0, 2.0, T.shape[1], dtype=T.dtype, device=T.device)
    norm = 0.0
    for _ in range(iters):
        x = T.T @ (T @ x)
        norm = float(x.norm())
        if norm == 0.0:
            return 0.0
        x = x / norm
    return math.sqrt(norm)


def _sq_sums(
    prod: _Products,
    R: torch.Tensor,
    offset: torch.Tensor | None,
    weights: torch.Tensor,
    work: _Workspace,
) -> torch.Tensor:
    """``Σ_i w_ai (L diag(F[a]) R - offset)_iv²`` for every alpha ``a``: (k, m) float64.

    ``R`` is ``(r, m)``, ``offset`` ``(rows, m)`` or None, ``weights`` ``(k, rows)``.
    """
    rows, k = prod.rows, prod.k
    m = R.shape[1]
    out = torch.empty((k, m), dtype=torch.float64, device=R.device)
    itemsize = R.element_size()
    if prod.mix is None:  # exact: alphas batched into a few large products
        step = _alpha_batch(rows, m, k, itemsize)
        buf = work.get("residuals", step * rows * m, R).view(step * rows, m)
        for a0 in range(0, k, step):
            a1 = min(k, a0 + step)
            if prod.scaled is not None:
                B = prod.scaled[a0:a1]
            else:
                B = (prod.left[None, :, :] * prod.filt[a0:a1, None, :]).contiguous()
            P = _mm(B.reshape((a1 - a0) * rows, -1), R, out=buf[: (a1 - a0) * rows])
            P = P.view(a1 - a0, rows, m)
            if offset is not None:
                P.sub_(offset)
            P.square_()
            out[a0:a1] = torch.bmm(weights[a0:a1, None, :], P)[:, 0, :]
        return out
    # blocked low rank: intermediate planes W (q [+ offset], rows, vb), then one combination
    q = prod.mix.shape[1] - 1
    planes = q + (offset is not None)
    mix = prod.mix if offset is not None else prod.mix[:, :q]
    vb = int(max(1, min(m, _WORK_BYTES // (rows * itemsize * (planes + k)))))
    wbuf = work.get("planes", planes * rows * vb, R)
    rbuf = work.get("residuals", k * rows * vb, R)
    for v0 in range(0, m, vb):
        w = min(vb, m - v0)
        W = wbuf[: planes * rows * w].view(planes, rows, w)
        o = 0
        for j0, j1, Lg in prod.blocks:
            qg = Lg.shape[0] // rows
            _mm(Lg, R[j0:j1, v0 : v0 + w], out=W[o : o + qg].view(qg * rows, w))
            o += qg
        if offset is not None:
            W[q].copy_(offset[:, v0 : v0 + w])
        P = _mm(mix, W.view(planes, rows * w), out=rbuf[: k * rows * w].view(k, rows * w))
        P = P.view(k, rows, w)
        P.square_()
        out[:, v0 : v0 + w] = torch.bmm(weights[:, None, :], P)[:, 0, :]
    return out


def _loo_scores(plan: _LooPlan, Yc: torch.Tensor, Z: torch.Tensor, work: _Workspace) -> np.ndarray:
    """Negative mean squared exact-LOO error, (n_alphas, n_chunk)."""
    n = Yc.shape[0]
    sums = _sq_sums(plan.prod, Z, None if plan.full else Yc, plan.w, work)  # Σ_i w_i r_i²
    return (-sums / n).cpu().numpy()


def _kfold_scores(
    folds: list[_Fold], Yc: torch.Tensor, U: torch.Tensor, intercept: bool, work: _Workspace
) -> tuple[np.ndarray, torch.Tensor]:
    """Negative validation MSE averaged over folds (n_alphas, n_chunk), and ``Z = UᵀYc``.

    When every fold is downdated (so the validation sets partition the samples), ``Z`` is the
    sum of the folds' ``U_valᵀ Y_val``, which the downdates need anyway.
    """
    k = folds[0].prod.k
    total = torch.zeros((k, Yc.shape[1]), dtype=torch.float64, device=Yc.device)
    down = all(f.T is not None for f in folds)
    Yvs = [f.val_rows(Yc) for f in folds]  # views where the validation rows are contiguous
    Zv = [_mm(f.Uv.T, Yv) for f, Yv in zip(folds, Yvs)] if down else None
    Z = _sum(Zv) if down else _mm(U.T, Yc)
    for i, f in enumerate(folds):
        Yv = Yvs[i]
        nt, nv = len(f.train), len(f.val)
        if f.T is not None:
            Zt = Z - (Zv[i] if down else _mm(f.Uv.T, Yv))
            if intercept:
                Zt -= torch.outer(f.cu, Yv.sum(0))
            Zf = _mm(f.T, Zt)
        else:  # U_f ⊥ 1 (centred on the training fold): no need to centre Y_train
            Zf = _mm(f.U.T, Yc.index_select(0, f.train))
        if intercept:  # centred on the training fold: Y_val - mean(Y_train), as Σ_all Yc = 0
            Yv = Yv + Yv.sum(0) / nt  # a new tensor: Yv may be a view of Yc
        weights = torch.full((k, nv), 1.0 / nv, dtype=Yc.dtype, device=Yc.device)
        total += _sq_sums(f.prod, Zf, Yv, weights, work)
    return (-total / len(folds)).cpu().numpy(), Z


def _sum(parts: list[torch.Tensor]) -> torch.Tensor:
    out = parts[0].clone()
    for x in parts[1:]:
        out += x
    return out


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
