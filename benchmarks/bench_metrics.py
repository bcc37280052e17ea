"""Scanpath metrics: cogattn vs multimatch-gaze and scikit-learn's MeanShift, side by side.

1. MultiMatch on the studyforrest fixation vectors (55 segment pairs, 1280×720), without
   and with grouping (TDir=45°, TDur=50 ms, TAmp=150 px; the reference fails on one
   segment with grouping, which is left out): multimatch-gaze ``docomparison`` per pair vs
   ``cogattn.gaze.metrics.multimatch`` per pair (its numba kernels, and its pure-Python
   path as used without numba) and ``multimatch_many`` on all pairs at once — identical
   values (largest difference printed), median CPU time per pair, speed ratios; then the
   single-call cost on one long pair (segment 10, 36 vs 28 fixations), and the one-off
   cost of the first call (kernels compiled, or loaded from numba's cache).
2. MultiMatch human–human on COCO-Search18 val (9,948 pairs, 512×320): multimatch-gaze on a
   random subset (per-pair time extrapolated) vs ``multimatch_many`` on all pairs.
3. Sequence-score clustering on COCO-Search18 val: the published recipe written with
   ``sklearn.cluster.MeanShift`` on a subset of image–task groups (identical clusters
   checked; time extrapolated to the 326 groups) vs cogattn's vectorised recipe, then the
   whole human–human sequence score (29,304 ordered pairs; README value 0.4956).

Usage::

    python benchmarks/bench_metrics.py            # full (several minutes: sklearn is slow)
    python benchmarks/bench_metrics.py --quick    # subsets, < 1 min
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"
FIXVEC = "studyforrest_multimatch_fixvectors"


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time over ``repeats`` runs, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _rec(a: np.ndarray):
    return np.rec.fromarrays([a[:, 0], a[:, 1], a[:, 2]], names="start_x,start_y,duration")


def studyforrest_pairs(root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    pairs = []
    for seg in range(55):
        a = np.loadtxt(root / FIXVEC / f"segment_{seg}_sub-01.tsv", skiprows=1)
        b = np.loadtxt(root / FIXVEC / f"segment_{seg}_sub-19.tsv", skiprows=1)
        a[:, 2] *= 1000.0  # seconds -> ms (MultiMatch's duration similarity is a ratio)
        b[:, 2] *= 1000.0
        pairs.append((a, b))
    return pairs


def coco_groups(root: Path) -> dict[tuple[str, str], list[np.ndarray]]:
    """Raw COCO-Search18 val scanpaths per image–task, rescaled to 512×320 (README recipe)."""
    groups: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    for r in json.loads((root / COCO).read_text()):
        groups[(r["name"], r["task"])].append(
            np.stack(
                [
                    np.array(r["X"]) * 512 / 1680,
                    np.array(r["Y"]) * 320 / 1050,
                    np.array(r["T"], float),
                ],
                axis=1,
            )
        )
    return dict(groups)


GROUPING_REF = {"grouping": True, "TDir": 45.0, "TDur": 50.0, "TAmp": 150.0}  # TDur in ms here
GROUPING = {
    "grouping": True,
    "direction_threshold_deg": 45.0,
    "duration_threshold_ms": 50.0,
    "amplitude_threshold_px": 150.0,
}


def cpu_timed(fn: Callable[[], object]) -> tuple[float, object]:
    """CPU time of one run (the machine is shared: wall time counts other processes)."""
    start = time.process_time()
    out = fn()
    return time.process_time() - start, out


@contextlib.contextmanager
def python_path() -> Iterator[None]:
    """Force :func:`multimatch`'s pure-Python path (as without numba installed)."""
    mm = importlib.import_module("cogattn.gaze.metrics.multimatch")
    loader = mm._compiled_kernels
    mm._compiled_kernels = lambda: None
    try:
        yield
    finally:
        mm._compiled_kernels = loader


def has_kernels() -> bool:
    mm = importlib.import_module("cogattn.gaze.metrics.multimatch")
    return mm._compiled_kernels() is not None


def bench_multimatch_studyforrest(root: Path, repeats: int) -> None:
    """Per pair: multimatch-gaze vs :func:`multimatch` (one call per pair; compiled and
    pure-Python) and :func:`multimatch_many` (all pairs at once), without and with
    grouping; then one long pair (segment 10, 36 vs 28 fixations) called repeatedly."""
    import multimatch_gaze

    from cogattn.gaze.metrics import MultiMatchConfig, multimatch, multimatch_many

    compiled = has_kernels()  # (compiles or loads the kernels: not timed below)
    all_pairs = studyforrest_pairs(root)
    size = (1280, 720)
    recs = [(_rec(a), _rec(b)) for a, b in all_pairs]
    for grouping in (False, True):
        ref_kw = GROUPING_REF if grouping else {}
        kw = GROUPING if grouping else {}
        keep = []
        for k, (ra, rb) in enumerate(recs):
            try:
                multimatch_gaze.docomparison(ra, rb, screensize=list(size), **ref_kw)
            except IndexError:  # the reference's amplitude pass fails on one segment
                continue
            keep.append(k)
        pairs = [all_pairs[k] for k in keep]
        config = MultiMatchConfig(**kw) if grouping else None

        def run_ref(ref_kw=ref_kw, keep=keep) -> np.ndarray:
            return np.array(
                [
                    multimatch_gaze.docomparison(*recs[k], screensize=list(size), **ref_kw)
                    for k in keep
                ],
                float,
            )

        def run_one(kw=kw, pairs=pairs) -> np.ndarray:
            return np.array(
                [list(multimatch(a, b, screen_size_px=size, **kw).values()) for a, b in pairs]
            )

        def run_python(kw=kw, pairs=pairs) -> np.ndarray:
            with python_path():
                return run_one(kw, pairs)

        def run_many(pairs=pairs, config=config) -> np.ndarray:
            return multimatch_many(pairs, screen_size_px=size, config=config)

        # interleaved rounds: on a shared machine the load drifts, so each ratio is taken
        # between runs made back to back; medians over rounds are reported
        rounds = []
        for _ in range(repeats):
            t_ref, ref = cpu_timed(run_ref)
            t_one, one = cpu_timed(run_one)
            t_py, py = cpu_timed(run_python)
            t_many, many = cpu_timed(run_many)
            rounds.append((t_ref, t_one, t_py, t_many))
        t_ref, t_one, t_py, t_many = (statistics.median(r[k] for r in rounds) for k in range(4))
        r_one, r_py, r_many = (statistics.median(r[0] / r[k] for r in rounds) for k in (1, 2, 3))
        n = len(pairs)
        label = "grouping TDir=45 TDur=50 ms TAmp=150" if grouping else "no grouping"
        print(
            f"MultiMatch, studyforrest ({n} pairs, {label}, {repeats} interleaved rounds, "
            "medians of CPU time):"
        )
        one_label = "compiled (numba)" if compiled else "numba missing: Python"
        print(f"  multimatch-gaze                   {t_ref / n * 1e3:8.3f} ms/pair")
        print(f"  cogattn multimatch, {one_label:14s}{t_one / n * 1e3:8.3f} ms/pair  x{r_one:6.1f}")
        print(f"  cogattn multimatch, pure Python   {t_py / n * 1e3:8.3f} ms/pair  x{r_py:6.1f}")
        print(
            f"  cogattn multimatch_many           {t_many / n * 1e3:8.3f} ms/pair  x{r_many:6.1f}"
        )
        print(
            "  max |difference| vs multimatch-gaze: "
            f"single {np.abs(one - ref).max():.1e}, pure Python {np.abs(py - ref).max():.1e}, "
            f"batched {np.abs(many - ref).max():.1e}"
        )
        if not grouping:
            print(
                f"  segment 10: {np.round(one[10], 4).tolist()} "
                "(README [0.9908, 0.699, 0.9893, 0.9477, 0.6556])"
            )
    bench_multimatch_single(all_pairs[10], recs[10], size, repeats)
    if compiled:
        bench_multimatch_first_call(root)


def bench_multimatch_single(pair: tuple, rec: tuple, size: tuple, repeats: int) -> None:
    """One pair (segment 10) called repeatedly: the per-call cost of :func:`multimatch`,
    compiled and pure-Python, vs multimatch-gaze."""
    import multimatch_gaze

    from cogattn.gaze.metrics import multimatch

    a, b = pair
    print(
        f"MultiMatch, one pair (segment 10, {len(a)} vs {len(b)} fixations), per call "
        f"(CPU time; {4 * repeats} interleaved rounds of the best of 3 calls, medians):"
    )
    for ref_kw, kw, label in (({}, {}, "no grouping"), (GROUPING_REF, GROUPING, "grouping")):

        def ref(ref_kw=ref_kw):
            return multimatch_gaze.docomparison(*rec, screensize=list(size), **ref_kw)

        def mine(kw=kw):
            return multimatch(a, b, screen_size_px=size, **kw)

        def mine_python(kw=kw):
            with python_path():
                return multimatch(a, b, screen_size_px=size, **kw)

        def best(fn: Callable[[], object], calls: int) -> float:
            """Best CPU time per call of 3 runs of ``calls`` calls (a single call of a few
            µs is below the clock's resolution)."""
            return min(cpu_timed(lambda: [fn() for _ in range(calls)])[0] for _ in range(3)) / calls

        times: list[tuple[float, float, float]] = []
        # alternate, so that each ratio is taken between neighbouring measurements
        for _ in range(4 * repeats):
            times.append((best(ref, 1), best(mine, 50), best(mine_python, 10)))
        t_ref, t_mine, t_py = (statistics.median(t[k] for t in times) for k in range(3))
        r_mine, r_py = (statistics.median(t[0] / t[k] for t in times) for k in (1, 2))
        want = np.array(ref(), float)
        got = np.array(list(mine().values()))
        got_py = np.array(list(mine_python().values()))
        print(
            f"  {label:12s} multimatch-gaze {t_ref * 1e3:7.3f} ms; cogattn {t_mine * 1e6:6.1f} µs "
            f"x{r_mine:6.1f} (pure Python {t_py * 1e6:6.1f} µs x{r_py:5.1f}); max |difference| "
            f"{np.abs(got - want).max():.1e} / {np.abs(got_py - want).max():.1e}"
        )


_FIRST_CALL = """
import time
import numpy as np
from cogattn.gaze.metrics import multimatch
a, b = (np.loadtxt(p, skiprows=1) for p in {paths!r})
wall, cpu = time.perf_counter(), time.process_time()
multimatch(a, b, screen_size_px=(1280, 720))
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def bench_multimatch_first_call(root: Path) -> None:
    """The one-off cost of the first :func:`multimatch` call in a fresh process: numba's
    import and the kernels' compilation (empty cache) or loading (warm cache). Run in
    subprocesses with a temporary ``NUMBA_CACHE_DIR``, so the user's cache is untouched."""
    paths = [str(root / FIXVEC / f"segment_10_sub-{s}.tsv") for s in ("01", "19")]
    code = _FIRST_CALL.format(paths=paths)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = []
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            out.append([float(v) for v in res.stdout.split()[-2:]])
    (cold_wall, cold_cpu), (warm_wall, warm_cpu) = out
    print(
        "MultiMatch, first call in a new process (numba import + kernels): "
        f"empty cache (compile) {cold_wall:.1f} s wall / {cold_cpu:.1f} s CPU; "
        f"cached {warm_wall:.2f} s wall / {warm_cpu:.2f} s CPU"
    )


def bench_multimatch_coco(groups: dict, n_ref: int, repeats: int) -> None:
    import multimatch_gaze

    from cogattn.gaze.metrics import multimatch_many

    pairs = [
        (g[i], g[j])
        for g in groups.values()
        for i in range(len(g))
        for j in range(i + 1, len(g))
        if len(g[i]) >= 3 and len(g[j]) >= 3
    ]
    pick = np.random.default_rng(0).choice(len(pairs), min(n_ref, len(pairs)), replace=False)
    t_ref, ref = timed(
        lambda: np.array(
            [
                multimatch_gaze.docomparison(
                    _rec(pairs[k][0]), _rec(pairs[k][1]), screensize=[512, 320]
                )
                for k in pick
            ],
            float,
        ),
        1,
    )
    t_many, many = timed(lambda: multimatch_many(pairs, screen_size_px=(512, 320)), repeats)
    per_ref = t_ref / len(pick)
    per_mine = t_many / len(pairs)
    print(f"MultiMatch, COCO-Search18 val human-human ({len(pairs)} pairs):")
    print(
        f"  multimatch-gaze          {per_ref * 1e3:8.3f} ms/pair (on {len(pick)} pairs)"
        f" -> {per_ref * len(pairs):.1f} s for all"
    )
    print(
        f"  cogattn multimatch_many  {per_mine * 1e3:8.3f} ms/pair, {t_many:.2f} s for all"
        f"  x{per_ref / per_mine:6.1f}"
    )
    print(f"  max |difference| on the subset: {np.abs(many[pick] - ref).max():.1e}")
    print(
        f"  mean {np.round(many.mean(0), 4).tolist()} "
        "(README [0.9408, 0.7366, 0.9286, 0.9067, 0.6807])"
    )


def _sklearn_recipe(paths: list[np.ndarray]):
    from sklearn.cluster import MeanShift, estimate_bandwidth

    x = np.concatenate([p[:, :2] for p in paths])
    bw = estimate_bandwidth(x)
    best_rate, best = -np.inf, None
    splits = np.cumsum([len(p) for p in paths])[:-1]
    for f in (0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8):
        ms = MeanShift(bandwidth=bw * f if bw > 0 else None).fit(x)
        n_b = n_w = 0
        for lab in np.split(ms.predict(x), splits):
            same = int((lab[1:] == lab[:-1]).sum())
            n_w += same
            n_b += len(lab) - 1 - same
        rate = (n_b - n_w) / len(ms.cluster_centers_)
        if rate > best_rate:
            best_rate, best = rate, ms
    return best


def bench_sequence_score(groups: dict, n_sklearn: int) -> None:
    from cogattn.gaze.metrics import batch_nw_similarity, cluster_fixations

    keys = sorted(groups)
    sub = [keys[k] for k in np.linspace(0, len(keys) - 1, n_sklearn).astype(int)]
    start = time.perf_counter()
    ref = {k: _sklearn_recipe(groups[k]) for k in sub}
    t_sk = (time.perf_counter() - start) / len(sub)
    same = all(
        np.array_equal(
            cluster_fixations(groups[k]).labels(np.concatenate(groups[k])[:, :2]),
            ref[k].predict(np.concatenate(groups[k])[:, :2]),
        )
        for k in sub
    )
    start = time.perf_counter()
    clusters = {k: cluster_fixations(groups[k]) for k in keys}
    t_cluster = time.perf_counter() - start
    left, right = [], []
    for k in keys:
        strings = [clusters[k].labels(p)[:7] for p in groups[k]]
        for i, si in enumerate(strings):
            for j, sj in enumerate(strings):
                if i != j:
                    left.append(si)
                    right.append(sj)

    def pad(strings: list[np.ndarray], fill: int) -> tuple[np.ndarray, np.ndarray]:
        out = np.full((len(strings), 7), fill)
        for k, s in enumerate(strings):
            out[k, : len(s)] = s
        return out, np.array([len(s) for s in strings])

    a, la = pad(left, -1)
    b, lb = pad(right, -2)
    ss = float(batch_nw_similarity(a, la, b, lb).mean())
    t_total = time.perf_counter() - start
    print(f"Sequence score, COCO-Search18 val ({len(keys)} image-task groups, {len(left)} pairs):")
    print(
        f"  sklearn MeanShift recipe {t_sk:8.3f} s/group (on {len(sub)} groups) -> "
        f"{t_sk * len(keys):.0f} s for all groups"
    )
    print(
        f"  cogattn recipe           {t_cluster / len(keys):8.3f} s/group, clustering "
        f"{t_cluster:.1f} s, whole SS {t_total:.1f} s  x{t_sk * len(keys) / t_cluster:6.1f}"
    )
    print(f"  identical labels on the sklearn subset: {same}")
    print(f"  human-human SS = {ss:.4f} (README 0.4956)")


def main(argv: list[str] | None = None) -> int:
    # the reference divides 0/0 for zero-length saccades (its own warning, not ours)
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="multimatch_gaze")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subsets, < 1 min")
    args = parser.parse_args(argv)
    from cogattn.data.paths import shared_data_dir

    root = shared_data_dir()
    repeats = 1 if args.quick else 5
    bench_multimatch_studyforrest(root, repeats)
    groups = coco_groups(root)
    bench_multimatch_coco(groups, n_ref=200 if args.quick else 2000, repeats=repeats)
    bench_sequence_score(groups, n_sklearn=2 if args.quick else 30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
