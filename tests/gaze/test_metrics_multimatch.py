"""MultiMatch: equal to multimatch-gaze (the reference package), README values, invariants.

The single-pair tests run twice (fixture ``impl``): with the numba kernels (the ``fast``
extra, in dev) and with the pure-Python path (forced by replacing the kernel loader, as
when numba is missing); both must equal the reference and each other, bitwise.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import sys
import warnings
from collections import defaultdict

import numpy as np
import pytest

from cogattn.data import load_scanpaths
from cogattn.gaze.metrics import (
    MULTIMATCH_DIMENSIONS,
    MultiMatchConfig,
    multimatch,
    multimatch_many,
)

mmg = pytest.importorskip(
    "multimatch_gaze", reason="multimatch-gaze (the reference implementation) is in the dev extra"
)

MM = importlib.import_module("cogattn.gaze.metrics.multimatch")
FIXVEC = "studyforrest_multimatch_fixvectors"
# the reference package divides 0/0 for zero-length saccades (its own warning, not cogattn's)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"


def _rec(a):
    a = np.asarray(a, float)
    return np.rec.fromarrays([a[:, 0], a[:, 1], a[:, 2]], names="start_x,start_y,duration")


def _ref(a, b, size, **kw):
    return np.array(mmg.docomparison(_rec(a), _rec(b), screensize=list(size), **kw), float)


def _mine(a, b, size, **kw):
    return np.array(list(multimatch(a, b, screen_size_px=size, **kw).values()))


def _kernels():
    pytest.importorskip(
        "numba", reason="numba (the 'fast' extra, in dev) compiles the single-pair kernels"
    )
    kernels = MM._compiled_kernels()
    assert kernels is not None, "numba imports but the MultiMatch kernels do not"
    return kernels


@pytest.fixture(params=["compiled", "python"])
def impl(request, monkeypatch):
    """Run the test with the numba kernels, then with the pure-Python path."""
    if request.param == "compiled":
        _kernels()
    else:
        monkeypatch.setattr(MM, "_compiled_kernels", lambda: None)
    return request.param


def _python(a, b, size, **kw):
    """The pure-Python path, whatever is installed."""
    kernels = MM._compiled_kernels
    MM._compiled_kernels = lambda: None
    try:
        return _mine(a, b, size, **kw)
    finally:
        MM._compiled_kernels = kernels


def _same(got, want, msg=""):
    """Bitwise equal (NaN where NaN)."""
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=msg, strict=True)


GROUP_45 = {
    "grouping": True,
    "direction_threshold_deg": 45.0,
    "duration_threshold_ms": 50.0,
    "amplitude_threshold_px": 100.0,
}


GROUP_REF_150 = {"grouping": True, "TDir": 45.0, "TDur": 50.0, "TAmp": 150.0}
GROUP_150 = {**GROUP_45, "amplitude_threshold_px": 150.0}


@pytest.fixture(scope="module")
def studyforrest(shared_data):
    """The 55 segment pairs as loaded by cogattn (durations converted to ms)."""
    ds = load_scanpaths(shared_data / FIXVEC, format="fixation-tsv")
    trials = {
        (str(im), str(s)): ds.scanpath.trial(k, with_duration=True)
        for k, (im, s) in enumerate(zip(ds["image"].values, ds["subject"].values))
    }
    segments = sorted({im for im, _ in trials}, key=lambda s: int(s.split("_")[1]))
    return [(trials[(seg, "sub-01")], trials[(seg, "sub-19")]) for seg in segments]


@pytest.fixture(scope="module")
def studyforrest_reference(studyforrest):
    """multimatch-gaze on every pair, without and with grouping (``None`` where the
    reference fails: its amplitude pass raises IndexError on one segment)."""
    plain, grouped = [], []
    for a, b in studyforrest:
        plain.append(_ref(a, b, (1280, 720)))
        try:
            grouped.append(_ref(a, b, (1280, 720), **GROUP_REF_150))
        except IndexError:
            grouped.append(None)
    return plain, grouped


def test_studyforrest_readme_values(studyforrest, impl):
    a, b = studyforrest[10]
    assert len(a) == 36 and len(b) == 28
    got = multimatch(a, b, screen_size_px=(1280, 720))
    assert list(got) == list(MULTIMATCH_DIMENSIONS)
    np.testing.assert_allclose(
        list(got.values()), [0.9908, 0.6990, 0.9893, 0.9477, 0.6556], atol=5e-5
    )
    grouped = multimatch(a, b, screen_size_px=(1280, 720), **GROUP_150)
    np.testing.assert_allclose(
        list(grouped.values()), [0.9900, 0.7036, 0.9863, 0.9525, 0.7225], atol=5e-5
    )


def test_equals_multimatch_gaze_on_studyforrest(studyforrest, studyforrest_reference, impl):
    plain, grouped = studyforrest_reference
    n_grouped = 0
    for k, (a, b) in enumerate(studyforrest):
        _same(_mine(a, b, (1280, 720)), plain[k], f"segment {k}")
        if grouped[k] is not None:
            _same(_mine(a, b, (1280, 720), **GROUP_150), grouped[k], f"segment {k}, grouping")
            n_grouped += 1
    assert n_grouped >= 50
    batch = multimatch_many(studyforrest, screen_size_px=(1280, 720))
    _same(batch, np.array(plain))


@pytest.fixture(scope="module")
def random_pairs():
    """Random pairs (a third on a coarse grid: many equal saccades, so exact ties in the
    alignment) and the reference's values, without and with grouping."""
    rng = np.random.default_rng(7)
    pairs, refs, refs_g = [], [], []
    for k in range(120):
        na, nb = rng.integers(3, 14, 2)
        a = np.c_[rng.uniform(0, 512, (na, 2)), rng.uniform(40, 500, na)]
        b = np.c_[rng.uniform(0, 512, (nb, 2)), rng.uniform(40, 500, nb)]
        if k % 3 == 0:
            a[:, :2] = np.round(a[:, :2] / 128) * 128
            b[:, :2] = np.round(b[:, :2] / 128) * 128
        if k % 10 == 0:
            b = a.copy()
        pairs.append((a, b))
        refs.append(_ref(a, b, (512, 320)))
        try:
            refs_g.append(_ref(a, b, (512, 320), grouping=True, TDir=30.0, TDur=250.0, TAmp=100.0))
        except (IndexError, ValueError):
            # the reference fails on some pairs (its amplitude pass; acos of a rounded
            # cosine above 1 for collinear grid saccades): skip those
            refs_g.append(None)
    return pairs, np.array(refs), refs_g


def test_equals_multimatch_gaze_random_pairs_with_ties(random_pairs, impl):
    pairs, refs, refs_g = random_pairs
    kw = {
        "grouping": True,
        "direction_threshold_deg": 30.0,
        "duration_threshold_ms": 250.0,
        "amplitude_threshold_px": 100.0,
    }
    for k, (a, b) in enumerate(pairs):
        if refs_g[k] is not None:
            _same(_mine(a, b, (512, 320), **kw), refs_g[k], f"pair {k}")
    assert sum(r is not None for r in refs_g) >= 80
    _same(np.array([_mine(a, b, (512, 320)) for a, b in pairs]), refs)
    _same(multimatch_many(pairs, screen_size_px=(512, 320)), refs)


def _reference_path(cost):
    """The reference's alignment of a cost matrix: its graph, its call of SciPy's Dijkstra."""
    from multimatch_gaze import multimatch_gaze as ref

    n, m = cost.shape
    graph = ref.createdirectedgraph((n, m), cost, np.arange(n * m).reshape(n, m))
    path, _ = ref.dijkstra(*graph, 0, n * m - 1)
    return [int(p) // m for p in path], [int(p) % m for p in path]


def _grid_scanpath(rng, n, steps):
    """Fixations reached by steps drawn from ``steps`` (px): equal saccades, equal costs."""
    xy = 300 + np.cumsum(steps[rng.integers(0, len(steps), n)], axis=0)
    return np.c_[xy, rng.choice([40.0, 50.0, 200.0], n)]  # durations at TDur = 50 too


def test_alignment_ties_equal_multimatch_gaze(rng, monkeypatch, impl):
    """Tie-heavy cost matrices (saccades from a few grid steps, so many equal costs and
    equal path sums): the Python alignment takes the reference's path, tie-breaking
    included, and its cells' costs; the compiled one takes the same path wherever it
    finds no exact tie, and finds a tie exactly where the Python one does."""
    kernels = MM._compiled_kernels() if impl == "compiled" else None
    n_ties = []
    original = MM._dijkstra_path
    monkeypatch.setattr(MM, "_dijkstra_path", lambda cost: n_ties.append(1) or original(cost))
    steps = np.array([[100, 0], [0, 100], [100, 100], [-100, 0], [0, 0]])
    n_compiled = 0
    for _ in range(150):
        a, b = (_grid_scanpath(rng, int(rng.integers(3, 16)), steps) for _ in range(2))
        la, lb = np.diff(a[:, :2], axis=0), np.diff(b[:, :2], axis=0)
        cost = np.sqrt(
            (la[:, None, 0] - lb[None, :, 0]) ** 2 + (la[:, None, 1] - lb[None, :, 1]) ** 2
        )
        ties_before = len(n_ties)
        path_i, path_j, costs = MM._align(cost)
        reference = _reference_path(cost)
        assert (path_i, path_j) == reference
        assert costs == cost[path_i, path_j].tolist()
        if kernels is not None:
            feat = np.empty((7, len(a) + len(b)))
            assert kernels.fill_features(a, b, feat) == 0
            tie, ci, cj = kernels.align(feat, len(a) - 1, len(a), len(b) - 1)
            assert tie == (len(n_ties) > ties_before)  # the same exact ties
            if not tie:
                assert (ci.tolist(), cj.tolist()) == reference
                n_compiled += 1
    assert len(n_ties) > 30  # the exact-tie fallback was exercised (and agreed)
    assert kernels is None or n_compiled > 30


def test_tie_heavy_scanpaths_equal_multimatch_gaze(rng, impl):
    """Whole comparisons on grid scanpaths (exact ties in the alignment; 45° turns, 100 px
    saccades and 50 ms fixations exactly at the grouping thresholds): single pair and batch
    equal the reference, with and without grouping."""
    steps = np.array([[100, 0], [0, 100], [100, 100], [60, 80], [-60, 80], [0, 0], [70, 70]])
    kw_ref = {"grouping": True, "TDir": 45.0, "TDur": 50.0, "TAmp": 100.0}
    config = MultiMatchConfig(True, 45.0, 50.0, 100.0)
    pairs, refs, pairs_g, refs_g = [], [], [], []
    for _ in range(60):
        a, b = (_grid_scanpath(rng, int(rng.integers(3, 14)), steps) for _ in range(2))
        pairs.append((a, b))
        refs.append(_ref(a, b, (1024, 768)))
        try:
            refs_g.append(_ref(a, b, (1024, 768), **kw_ref))
        except IndexError:  # the reference's amplitude pass can fail; skip that pair
            continue
        pairs_g.append((a, b))
    assert len(pairs_g) >= 40
    for ps, rs, one_kw, cfg in ((pairs, refs, {}, None), (pairs_g, refs_g, GROUP_45, config)):
        single = np.array([_mine(a, b, (1024, 768), **one_kw) for a, b in ps])
        _same(single, np.array(rs))
        _same(multimatch_many(ps, screen_size_px=(1024, 768), config=cfg), single)


def test_compiled_equals_python_path(rng, monkeypatch):
    """The numba kernels and the pure-Python path, bitwise, on random, rounded and grid
    scanpaths, with and without grouping; both of the kernels' hand-backs are exercised
    (a merge angle within 1e-3° of the threshold, an exact tie in the trace-back)."""
    _kernels()
    calls = {"_group_lists": 0, "_dijkstra_path": 0}
    for name in calls:
        original = getattr(MM, name)

        def counted(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(MM, name, counted)
    steps = np.array([[100, 0], [0, 100], [100, 100], [60, 80], [-60, 80], [0, 0], [-100, 0]])
    configs = [
        {},
        GROUP_45,
        {**GROUP_45, "direction_threshold_deg": 30.0, "duration_threshold_ms": 250.0},
        {"grouping": True},  # zero thresholds: only parallel saccades merge (hand-back)
    ]
    for k in range(240):
        na, nb = (int(v) for v in rng.integers(3, 30, 2))
        if k % 3 == 0:
            a, b = _grid_scanpath(rng, na, steps), _grid_scanpath(rng, nb, steps)
        else:
            a = np.c_[rng.uniform(0, 800, (na, 2)), rng.uniform(20, 400, na)]
            b = np.c_[rng.uniform(0, 800, (nb, 2)), rng.uniform(20, 400, nb)]
            if k % 3 == 1:  # integer pixels and ms
                a, b = np.round(a), np.round(b)
        for kw in configs:
            got = _mine(a, b, (1024, 768), **kw)
            _same(got, _python(a, b, (1024, 768), **kw), f"pair {k}, {kw}")
    assert calls["_group_lists"] > 5 and calls["_dijkstra_path"] > 20


def _pow_sensitive_saccades(rng, n):
    """Saccades ``(vx, vy)`` whose length ``sqrt(vx ** 2 + vy ** 2)`` with the C ``pow``
    (the reference's) differs from ``sqrt(vx * vx + vy * vy)`` (~0.04 % of values)."""
    out = []
    while len(out) < n:
        vx, vy = (float(v) for v in rng.uniform(-800, 800, 2))
        if math.hypot(vx, vy) > 60 and math.sqrt(vx**2 + vy**2) != math.sqrt(vx * vx + vy * vy):
            out.append((vx, vy))
    return out


def test_compiled_simplification_equals_python(rng):
    """The grouping kernel's simplified saccades equal the Python lists' bitwise: on
    random scanpaths with thresholds that merge most saccades, and on merges built to
    give lengths where the C ``pow`` of the reference and ``vx * vx`` differ (a zero
    saccade absorbed by the next one in the amplitude pass; the last-saccade rule)."""
    kernels = _kernels()

    def check(a, b, t_dir, t_dur, t_amp):
        feat = np.empty((7, len(a) + len(b)))
        assert kernels.fill_features(a, b, feat) == 0
        below, not_ = MM._cosine_bounds(t_dir)
        decided, table, n1, n2 = kernels.group_pair(
            feat, len(a), len(b), t_dur, t_amp, below, not_, 2.0
        )
        if not decided:  # an angle within 1e-3° of the threshold (rare here)
            return 0
        want, w1, w2 = MM._group_lists(
            feat, len(a), len(b), MultiMatchConfig(True, t_dir, t_dur, t_amp)
        )
        assert (n1, n2) == (w1, w2)
        _same(np.delete(table, 5, axis=0), np.delete(want, 5, axis=0))
        return len(a) + len(b) - 2 - n1 - n2

    n_merged = 0
    for t_dir, t_dur, t_amp in ((60.0, 300.0, 200.0), (179.0, 1e9, 1e9), (20.0, 1e9, 50.0)):
        for _ in range(150):
            na, nb = (int(v) for v in rng.integers(3, 25, 2))
            a = np.c_[rng.uniform(0, 1000, (na, 2)), rng.uniform(20, 400, na)]
            b = np.c_[rng.uniform(0, 1000, (nb, 2)), rng.uniform(20, 400, nb)]
            n_merged += check(a, b, t_dir, t_dur, t_amp)
    assert n_merged > 2_000
    for vx, vy in _pow_sensitive_saccades(rng, 20):
        # a: saccades (0, 0), (vx, vy), (400, 0), (0, 400); the first absorbs the second
        a = np.array(
            [[0, 0, 10], [0, 0, 10], [vx, vy, 500], [vx + 400, vy, 500], [vx + 400, vy + 400, 500]]
        )
        # b: saccades (400, 0), (vx, vy), (0, 0); the last rule sums the last two
        b = np.array([[-400, 0, 500], [0, 0, 500], [vx, vy, 500], [vx, vy, 10]])
        assert check(a, b, 1.0, 100.0, 50.0) == 2


def test_input_forms_and_errors(rng, impl):
    """Lists, integers, float32, other strides and byte orders, read-only arrays give the
    float64 array's values; bad values are named."""
    a = np.c_[rng.uniform(0, 640, (9, 2)), rng.uniform(50, 400, 9)]
    b = np.c_[rng.uniform(0, 640, (6, 2)), rng.uniform(50, 400, 6)]
    frozen = a.copy()
    frozen.flags.writeable = False
    want = _mine(a, b, (640, 480))
    for form in (
        a.tolist(),
        np.asfortranarray(a),
        frozen,
        a.astype(">f8"),
        np.repeat(a, 2, axis=1)[:, ::2],
        np.ascontiguousarray(a[::-1])[::-1],
    ):
        _same(_mine(form, b, (640, 480)), want)
        _same(_mine(b, form, (640, 480)), _mine(b, a, (640, 480)))
    ints = np.round(a).astype(int)
    _same(_mine(ints, b, (640, 480)), _mine(np.round(a), b, (640, 480)))
    _same(
        _mine(a.astype(np.float32), b, (640, 480)), _mine(a.astype(np.float32) * 1.0, b, (640, 480))
    )
    with pytest.raises(ValueError, match=r"b: expected finite numbers, found \[nan"):
        multimatch(a, np.r_[b, [[np.nan, 1.0, 100.0]]], screen_size_px=(640, 480))
    with pytest.raises(ValueError, match=r"a: expected durations >= 0 ms, got -1.0 at fixation 2"):
        multimatch(np.r_[a[:2], [[1.0, 1.0, -1.0]]], b, screen_size_px=(640, 480))
    with pytest.raises(ValueError, match="expected shape"):
        multimatch(a[:, :1], b, screen_size_px=(640, 480))


def test_without_numba_python_path_and_one_debug_message(monkeypatch, caplog, rng):
    """numba missing: the pure-Python path, one debug message, no warning."""
    a = np.c_[rng.uniform(0, 640, (9, 2)), rng.uniform(50, 400, 9)]
    b = np.c_[rng.uniform(0, 640, (6, 2)), rng.uniform(50, 400, 6)]
    want = _python(a, b, (640, 480))
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.delitem(sys.modules, "cogattn.gaze.metrics._multimatch_numba", raising=False)
    monkeypatch.delattr(
        importlib.import_module("cogattn.gaze.metrics"), "_multimatch_numba", raising=False
    )
    MM._compiled_kernels.cache_clear()
    try:
        with warnings.catch_warnings(), caplog.at_level(logging.DEBUG, logger=MM.__name__):
            warnings.simplefilter("error")
            got = [_mine(a, b, (640, 480)) for _ in range(3)]
            assert MM._compiled_kernels() is None
    finally:
        MM._compiled_kernels.cache_clear()  # (the next call imports the kernels again)
    for g in got:
        _same(g, want)
    messages = [r for r in caplog.records if "numba" in r.getMessage()]
    assert len(messages) == 1 and messages[0].levelno == logging.DEBUG


def test_invariants(rng, impl):
    a = np.c_[rng.uniform(0, 640, (9, 2)), rng.uniform(50, 400, 9)]
    b = np.c_[rng.uniform(0, 640, (6, 2)), rng.uniform(50, 400, 6)]
    same = multimatch(a, a, screen_size_px=(640, 480))
    assert all(v == pytest.approx(1.0) for v in same.values())
    ab = _mine(a, b, (640, 480))
    ba = _mine(b, a, (640, 480))
    np.testing.assert_allclose(ab, ba, atol=1e-12)
    assert ((ab >= 0) & (ab <= 1)).all()
    # fewer than 3 fixations: NaN on every dimension (the reference's convention)
    assert all(np.isnan(v) for v in multimatch(a[:2], b, screen_size_px=(640, 480)).values())
    assert all(np.isnan(v) for v in multimatch([], b, screen_size_px=(640, 480)).values())
    # no durations: the duration dimension is NaN, the others are defined
    nd = multimatch(a[:, :2], b[:, :2], screen_size_px=(640, 480))
    assert np.isnan(nd["duration"]) and np.isfinite(nd["vector"])
    _same(_mine(a[:, :2], b, (640, 480))[:4], ab[:4])
    with pytest.raises(ValueError, match="screen_size_px"):
        multimatch(a, b, screen_size_px=(0, 480))
    assert MultiMatchConfig().grouping is False


def test_coco_val_human_human_multimatch_reference(shared_data):
    """README: [0.9408, 0.7366, 0.9286, 0.9067, 0.6807] over the 9,948 unordered pairs with
    >= 3 fixations (raw coordinates rescaled to 512x320, no grouping); the recipe is checked
    on the raw file, and a subset against multimatch-gaze directly."""
    groups = defaultdict(list)
    for r in json.loads((shared_data / COCO).read_text()):
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
    pairs = [
        (g[i], g[j])
        for g in groups.values()
        for i in range(len(g))
        for j in range(i + 1, len(g))
        if len(g[i]) >= 3 and len(g[j]) >= 3
    ]
    assert len(pairs) == 9948
    values = multimatch_many(pairs, screen_size_px=(512, 320))
    np.testing.assert_array_equal(
        np.round(values.mean(axis=0), 4), [0.9408, 0.7366, 0.9286, 0.9067, 0.6807]
    )
    pick = np.random.default_rng(0).choice(len(pairs), 150, replace=False)
    ref = np.array([_ref(*pairs[k], (512, 320)) for k in pick])
    np.testing.assert_allclose(values[pick], ref, atol=1e-12)


def test_many_mixed_lengths_equal_single_calls(rng, impl):
    """Short and long pairs in one batch (with numba: batched and compiled routes) give the
    single-pair values, in the input order."""

    def sp(n):
        return np.column_stack(
            [rng.uniform(0, 800, n), rng.uniform(0, 600, n), rng.uniform(80, 400, n)]
        )

    pairs = [(sp(n), sp(m)) for n, m in [(4, 5), (20, 18), (2, 7), (30, 6), (8, 9), (15, 40)]]
    single = np.array([_mine(a, b, (800, 600)) for a, b in pairs])
    _same(multimatch_many(pairs, screen_size_px=(800, 600)), single)
    assert np.isnan(single[2]).all()  # < 3 fixations
