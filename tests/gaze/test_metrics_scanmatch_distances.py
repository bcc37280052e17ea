"""ScanMatch (hand-worked cases), DTW and discrete Fréchet (brute force over alignments)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cogattn.gaze.metrics import (
    dtw,
    frechet,
    scanmatch,
    scanmatch_sequence,
    scanmatch_substitution_matrix,
)


def test_substitution_matrix_hand_worked():
    # 3x1 grid, cell distances 0/1/2, max 2, threshold 1.5: S = |d - 2| - 0.5
    s = scanmatch_substitution_matrix((3, 1), threshold=1.5)
    np.testing.assert_allclose(s, [[1.5, 0.5, -0.5], [0.5, 1.5, 0.5], [-0.5, 0.5, 1.5]])
    # 2x2 grid: the diagonal neighbour is sqrt(2) away
    s = scanmatch_substitution_matrix((2, 2), threshold=1.0)
    d = np.sqrt(2)
    assert s[0, 3] == pytest.approx(abs(d - d) - (d - 1.0))


def test_sequence_coding():
    # 2x1 grid on 100x50: x < 50 -> cell 0; the right edge stays in the last cell
    seq = scanmatch_sequence(
        [[49.9, 10], [50, 10], [100, 50], [0, 0]], screen_size_px=(100, 50), grid=(2, 1)
    )
    assert seq.tolist() == [0, 1, 1, 0]
    # 2x2 grid: row-major symbols
    seq = scanmatch_sequence(
        [[10, 10], [60, 10], [10, 60], [60, 60]], screen_size_px=(100, 100), grid=(2, 2)
    )
    assert seq.tolist() == [0, 1, 2, 3]
    # time bins: round(250/100) = 2 (half to even), round(149/100) = 1, round(40/100) = 0
    seq = scanmatch_sequence(
        [[10, 10, 250], [60, 10, 149], [10, 60, 40]],
        screen_size_px=(100, 100),
        grid=(2, 2),
        tempbin_ms=100,
    )
    assert seq.tolist() == [0, 0, 1]


def test_scanmatch_hand_worked():
    size = (150, 50)
    cell = {0: [10, 10], 1: [60, 10], 2: [110, 10]}  # 3x1 grid of 50 px cells
    kw = {"screen_size_px": size, "grid": (3, 1), "threshold": 1.5}
    a = [cell[0], cell[2]]
    assert scanmatch(a, a, **kw) == 1.0
    # 0 2 vs 1 1: aligned 0-1 (0.5) and 2-1 (0.5) = 1.0, / (1.5 * 2)
    assert scanmatch(a, [cell[1], cell[1]], **kw) == pytest.approx(1 / 3)
    # 0 vs 2: substitution -0.5 < gap 0 -> nothing aligned
    assert scanmatch([cell[0]], [cell[2]], **kw) == 0.0
    # 0 1 vs 1: align 1-1 = 1.5 / (1.5 * 2)
    assert scanmatch([cell[0], cell[1]], [cell[1]], **kw) == pytest.approx(0.5)
    # negative gap: 0 2 vs 0 -> 0-0 (1.5) + one gap (-1) = 0.5, / 3
    assert scanmatch(a, [cell[0]], gap=-1.0, **kw) == pytest.approx(0.5 / 3)
    # with durations: [0, 0] vs [0] -> 1.5 / (1.5 * 2)
    ad = [[*cell[0], 250]]
    bd = [[*cell[0], 149]]
    assert scanmatch(ad, bd, tempbin_ms=100, **kw) == pytest.approx(0.5)
    assert np.isnan(scanmatch([[*cell[0], 10]], [[*cell[1], 10]], tempbin_ms=100, **kw))
    # symmetry
    b = [cell[1], cell[2], cell[0]]
    assert scanmatch(a, b, **kw) == pytest.approx(scanmatch(b, a, **kw))
    with pytest.raises(ValueError, match="durations"):
        scanmatch(a, a, tempbin_ms=50, **kw)


def _paths(n, m):
    """All monotone alignment paths (right, down, diagonal steps) from (0,0) to (n-1,m-1)."""

    def walk(i, j):
        if (i, j) == (n - 1, m - 1):
            yield [(i, j)]
            return
        for di, dj in ((0, 1), (1, 0), (1, 1)):
            if i + di < n and j + dj < m:
                for rest in walk(i + di, j + dj):
                    yield [(i, j), *rest]

    return list(walk(0, 0))


def test_dtw_and_frechet_equal_brute_force(rng):
    for n, m in itertools.product(range(1, 5), range(1, 5)):
        a = rng.uniform(0, 100, (n, 2))
        b = rng.uniform(0, 100, (m, 2))
        cost = np.linalg.norm(a[:, None] - b[None], axis=2)
        paths = _paths(n, m)
        assert dtw(a, b) == pytest.approx(min(sum(cost[c] for c in p) for p in paths))
        assert frechet(a, b) == pytest.approx(min(max(cost[c] for c in p) for p in paths))


def test_distance_invariants(rng):
    a = rng.uniform(0, 500, (7, 3))
    b = rng.uniform(0, 500, (4, 3))
    assert dtw(a, a) == 0.0 and frechet(a, a) == 0.0
    assert dtw(a, b) == pytest.approx(dtw(b, a))
    assert frechet(a, b) == pytest.approx(frechet(b, a))
    assert frechet(a, b) <= dtw(a, b)
    # a translated copy: Fréchet = the shift
    assert frechet(a, a + np.array([3.0, 4.0, 0.0])) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="at least 1 fixations"):
        dtw(np.zeros((0, 2)), b)
