"""Needleman–Wunsch, Levenshtein, string edit distance: hand-worked cases and invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cogattn.gaze.metrics import (
    batch_levenshtein,
    batch_needleman_wunsch,
    batch_nw_similarity,
    grid_string,
    levenshtein,
    needleman_wunsch,
    nw_similarity,
    string_edit_distance,
)


def _nw_reference(a, b, sub, gap):
    """Textbook O(n·m) Needleman–Wunsch with explicit loops (independent of the vectorised one)."""
    f = np.zeros((len(a) + 1, len(b) + 1))
    f[:, 0] = gap * np.arange(len(a) + 1)
    f[0, :] = gap * np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            f[i, j] = max(
                f[i - 1, j - 1] + sub(a[i - 1], b[j - 1]), f[i - 1, j] + gap, f[i, j - 1] + gap
            )
    return f[-1, -1]


def test_nw_hand_worked_01_gap0():
    # "ABCBDAB" vs "BDCABA": the longest common subsequence has length 4 (e.g. BCBA)
    assert needleman_wunsch("ABCBDAB", "BDCABA") == 4.0
    assert nw_similarity("ABCBDAB", "BDCABA") == pytest.approx(4 / 7)
    # one string inside the other: all of the shorter one aligns
    assert nw_similarity([1, 2, 3, 4, 5], [2, 4]) == pytest.approx(2 / 5)
    assert nw_similarity([], [1]) == 0.0
    assert np.isnan(nw_similarity([], []))


def test_nw_hand_worked_matrix_and_gap():
    # substitution matrix: match 2, mismatch -1; gap -1. A = [0, 1], B = [0, 0, 1]
    # best: align 0-0, gap, 1-1 -> 2 - 1 + 2 = 3
    sub = np.array([[2.0, -1.0], [-1.0, 2.0]])
    assert needleman_wunsch([0, 1], [0, 0, 1], substitution=sub, gap=-1.0) == 3.0
    with pytest.raises(ValueError, match="index the substitution matrix"):
        needleman_wunsch([0, 2], [0], substitution=sub)


@pytest.mark.parametrize("gap", [0.0, -0.5, -2.0])
def test_nw_matches_textbook_loops(rng, gap):
    sub = rng.normal(size=(5, 5))
    for _ in range(20):
        a = rng.integers(0, 5, rng.integers(0, 9)).tolist()
        b = rng.integers(0, 5, rng.integers(0, 9)).tolist()
        ref = _nw_reference(a, b, lambda x, y: sub[x, y], gap)
        assert needleman_wunsch(a, b, substitution=sub, gap=gap) == pytest.approx(ref)
        assert needleman_wunsch(
            a, b, substitution=lambda x, y: sub[x, y], gap=gap
        ) == pytest.approx(ref)


def test_batch_equals_single_and_is_symmetric(rng):
    n = 300
    la = rng.integers(0, 8, n)
    lb = rng.integers(0, 8, n)
    a = rng.integers(0, 4, (n, 7))
    b = rng.integers(0, 4, (n, 7))
    got = batch_nw_similarity(a, la, b, lb)
    want = np.array([nw_similarity(a[k, : la[k]], b[k, : lb[k]]) for k in range(n)])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)])
    np.testing.assert_allclose(batch_nw_similarity(b, lb, a, la), got)
    assert ((got[~np.isnan(got)] >= 0) & (got[~np.isnan(got)] <= 1)).all()


def test_batch_scored_alignments_equal_single(rng):
    n = 150
    la = rng.integers(0, 7, n)
    lb = rng.integers(0, 7, n)
    a = rng.integers(0, 4, (n, 6))
    b = rng.integers(0, 4, (n, 6))
    sub = rng.normal(size=(4, 4))
    got = batch_needleman_wunsch(sub[a[:, :, None], b[:, None, :]], la, lb)
    want = [needleman_wunsch(a[k, : la[k]], b[k, : lb[k]], substitution=sub) for k in range(n)]
    np.testing.assert_allclose(got, want)
    got = batch_levenshtein(a, la, b, lb)
    want = [levenshtein(a[k, : la[k]], b[k, : lb[k]]) for k in range(n)]
    np.testing.assert_array_equal(got, want)


def test_levenshtein_hand_worked_and_bruteforce(rng):
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("flaw", "lawn") == 2
    # brute force over all edit scripts is costly; check metric axioms on random strings
    for _ in range(30):
        a, b, c = (rng.integers(0, 3, rng.integers(0, 6)).tolist() for _ in range(3))
        assert levenshtein(a, a) == 0
        assert levenshtein(a, b) == levenshtein(b, a)
        assert levenshtein(a, c) <= levenshtein(a, b) + levenshtein(b, c)
        assert abs(len(a) - len(b)) <= levenshtein(a, b) <= max(len(a), len(b))


def test_grid_string_and_sed():
    # 5x5 grid on 100x100: cells of 20 px; (10, 10) -> 0, (99, 10) -> 4, (10, 99) -> 20,
    # a fixation on the far edge stays in the last cell
    seq = grid_string(
        [[10, 10], [99, 10], [10, 99], [100, 100]], screen_size_px=(100, 100), grid=(5, 5)
    )
    assert seq.tolist() == [0, 4, 20, 24]
    a = [[10, 10], [50, 50], [90, 90]]
    b = [[10, 10], [90, 90]]
    assert string_edit_distance(a, a, screen_size_px=(100, 100)) == 0
    assert string_edit_distance(a, b, screen_size_px=(100, 100)) == 1  # one deletion
    assert string_edit_distance(a, b, screen_size_px=(100, 100), normalize=True) == pytest.approx(
        1 / 3
    )
    with pytest.raises(ValueError, match="grid"):
        string_edit_distance(a, b, screen_size_px=(100, 100), grid=(0, 5))
    with pytest.raises(TypeError, match="screen_size_px"):
        string_edit_distance(a, b, screen_size_px=None)
    with pytest.raises(ValueError, match=r"shape \(n, 2\) or \(n, 3\)"):
        string_edit_distance(np.zeros((3, 4)), b, screen_size_px=(100, 100))


def test_exhaustive_tiny_lcs():
    """0/1 NW with gap 0 = longest common subsequence, checked by enumeration."""
    for a in itertools.product(range(2), repeat=3):
        for b in itertools.product(range(2), repeat=2):
            best = 0
            for k in range(len(b) + 1):
                for sub_b in itertools.combinations(b, k):
                    for sub_a in itertools.combinations(a, k):
                        if sub_a == sub_b:
                            best = max(best, k)
            assert needleman_wunsch(a, b) == best
