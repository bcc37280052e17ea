"""Voxelwise ridge with per-voxel alphas: cogattn vs himalaya vs scikit-learn, side by side.

Same data for everyone (float32, correlated features with a decaying spectrum, voxels with
varied SNR), the same alpha grid, and the same cross-validation scheme per pair:

- ``cogattn RidgeEncoder(cv="loo")``  vs  ``sklearn RidgeCV(alpha_per_target=True)`` (exact
  leave-one-out, the sklearn default);
- ``cogattn RidgeEncoder(cv=5)``      vs  ``himalaya RidgeCV(cv=5, fit_intercept=True)``
  (5-fold, contiguous blocks; himalaya's numpy backend, or torch_cuda with ``--device cuda``).

Printed per case: fit time (median over repeats), speed-up over the peer, the largest
prediction difference (relative to the prediction standard deviation) over voxels whose
selected alphas agree, the fraction of voxels whose selected alpha agrees, and — where they
differ — the largest relative CV-score gap between the two choices (float32 near-ties:
~1e-6 or less; both choices are then equally good).

Usage::

    python benchmarks/bench_ridge.py            # N 500×P 100×V 2000, N 2000×P 768×V 20000,
                                                # N 9000×P 768×V 2000 (NSD-like N)
    python benchmarks/bench_ridge.py --quick    # small sizes, < 1 min
    python benchmarks/bench_ridge.py --threads 2 --device cuda
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable

import numpy as np

ALPHAS = np.logspace(-1, 7, 17)
CASES = {
    "small": (500, 100, 2000),
    "large": (2000, 768, 20000),
    # NSD-like number of training images (fewer voxels to keep the peers' run time sane)
    "nsd-like": (9000, 768, 2000),
}
QUICK_CASES = {"quick-small": (300, 64, 1000), "quick-medium": (600, 200, 2500)}


def make_data(n: int, p: int, v: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated features (power-law spectrum) and voxels with SNR from ~0 to high."""
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((p, p)) * (np.arange(1, p + 1) ** -0.5)[:, None]
    X = (rng.standard_normal((n, p)) @ mix).astype(np.float32)
    X /= X.std(0)
    W = rng.standard_normal((p, v)).astype(np.float32) / np.sqrt(p)
    snr = np.logspace(-2, 1, v).astype(np.float32)
    Y = (X @ W) * np.sqrt(snr) + rng.standard_normal((n, v)).astype(np.float32) + 1.0
    return X, Y.astype(np.float32)


class _Numpy:
    """Wrap a himalaya model so that ``predict`` returns numpy whatever the backend."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, X: np.ndarray) -> np.ndarray:
        pred = self.model.predict(X)
        return np.asarray(pred.cpu() if hasattr(pred, "cpu") else pred)


def timed_pair(
    ours: Callable[[], object], peer: Callable[[], object], repeats: int
) -> tuple[float, object, float, object]:
    """Median times of two fits, interleaved (ours, peer, ours, peer, …) so that a change of
    machine load affects both alike."""
    t_ours, t_peer, out_ours, out_peer = [], [], None, None
    for _ in range(repeats):
        start = time.perf_counter()
        out_ours = ours()
        t_ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        out_peer = peer()
        t_peer.append(time.perf_counter() - start)
    return statistics.median(t_ours), out_ours, statistics.median(t_peer), out_peer


def compare(model, peer, X: np.ndarray, peer_alphas: np.ndarray) -> tuple[float, float, float]:
    """Max |Δpred|/sd over voxels whose alphas agree, fraction agreeing, and the largest
    relative CV-score gap (by cogattn's criterion) between the two choices where they differ:
    ~1e-6 means a float32 near-tie, not a different optimum."""
    pred = np.asarray(model.predict(X), dtype=np.float64)
    ref = np.asarray(peer.predict(X), dtype=np.float64)
    same = np.isclose(model.best_alphas_, peer_alphas, rtol=1e-4)
    rel = float(np.max(np.abs(pred - ref)[:, same], initial=0.0) / np.std(ref))
    gap = 0.0
    if not same.all():
        idx = np.flatnonzero(~same)
        theirs = np.abs(np.log(model.alphas_)[:, None] - np.log(peer_alphas[idx])[None, :])
        theirs = theirs.argmin(0)
        ours = model.cv_scores_[model.best_alpha_index_[idx], idx]
        other = model.cv_scores_[theirs, idx]
        gap = float(np.max(np.abs(ours - other) / np.abs(ours)))
    return rel, float(same.mean()), gap


def run_case(name: str, n: int, p: int, v: int, *, repeats: int, device: str, peers: set) -> None:
    from cogattn.brain.ridge import RidgeEncoder

    X, Y = make_data(n, p, v)
    print(f"\n== {name}: N={n} P={p} V={v}, {len(ALPHAS)} alphas, float32, device={device}")
    print(
        f"{'method':42s} {'time (s)':>9s} {'speed-up':>9s} {'max|Δpred|/sd':>14s} "
        f"{'alpha agree':>12s} {'tie gap':>9s}"
    )

    # warm-up (library loading, thread pools) so that the first timing is not penalised
    RidgeEncoder(alphas=ALPHAS, device=device).fit(X[:50, :10], Y[:50, :10])

    if "sklearn" in peers:
        from sklearn.linear_model import RidgeCV

        t_ours, ours, t_peer, peer = timed_pair(
            lambda: RidgeEncoder(alphas=ALPHAS, cv="loo", device=device).fit(X, Y),
            lambda: RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X, Y),
            repeats,
        )
        rel, agree, gap = compare(ours, peer, X, np.asarray(peer.alpha_))
        print(
            f"{'cogattn RidgeEncoder(cv=loo)':42s} {t_ours:9.2f} {t_peer / t_ours:8.1f}x "
            f"{rel:14.2e} {agree:12.4f} {gap:9.1e}"
        )
        print(f"{'sklearn RidgeCV(alpha_per_target) [LOO]':42s} {t_peer:9.2f} {'1.0x':>9s}")

    if "himalaya" in peers:
        from himalaya.backend import set_backend
        from himalaya.ridge import RidgeCV as HimalayaRidgeCV

        backend = "torch_cuda" if device.startswith("cuda") else "numpy"
        set_backend(backend, on_error="raise")
        t_ours, ours, t_peer, peer = timed_pair(
            lambda: RidgeEncoder(alphas=ALPHAS, cv=5, device=device).fit(X, Y),
            lambda: HimalayaRidgeCV(alphas=ALPHAS.astype(np.float32), cv=5, fit_intercept=True).fit(
                X, Y
            ),
            repeats,
        )
        peer_alphas = np.asarray(
            peer.best_alphas_.cpu() if hasattr(peer.best_alphas_, "cpu") else peer.best_alphas_
        )
        rel, agree, gap = compare(ours, _Numpy(peer), X, peer_alphas)
        print(
            f"{'cogattn RidgeEncoder(cv=5)':42s} {t_ours:9.2f} {t_peer / t_ours:8.1f}x "
            f"{rel:14.2e} {agree:12.4f} {gap:9.1e}"
        )
        print(f"{'himalaya RidgeCV(cv=5) [' + backend + ']':42s} {t_peer:9.2f} {'1.0x':>9s}")
        set_backend("numpy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (< 1 min)")
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats (median)")
    parser.add_argument("--device", default="cpu", help="torch device for cogattn (cpu, cuda)")
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS/torch threads")
    parser.add_argument(
        "--peers", default="sklearn,himalaya", help="comma-separated: sklearn,himalaya"
    )
    parser.add_argument("--cases", default=None, help="comma-separated case names to run")
    args = parser.parse_args(argv)

    # import every library before limiting threads: threadpoolctl only limits the BLAS/OpenMP
    # libraries already loaded (scipy's own OpenBLAS comes with himalaya / sklearn.linear_model)
    import scipy.linalg  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import torch

    with contextlib.suppress(ImportError):
        import himalaya.ridge  # noqa: F401

    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        limiter = threadpool_limits(args.threads)
    cases = QUICK_CASES if args.quick else CASES
    if args.cases:
        cases = {k: v for k, v in {**CASES, **QUICK_CASES}.items() if k in args.cases.split(",")}
    repeats = args.repeats or (1 if args.quick else 3)
    peers = set(args.peers.split(","))
    print(
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, repeats={repeats} "
        "(times are medians; speed-up = peer time / cogattn time)"
    )
    for name, (n, p, v) in cases.items():
        run_case(name, n, p, v, repeats=repeats, device=args.device, peers=peers)
    if limiter is not None:
        limiter.unregister()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
