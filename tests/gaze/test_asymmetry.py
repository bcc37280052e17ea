"""Asymmetry metrics: RT mapping, slopes, asymmetry index, human RT lines (spec §1b-c)."""

from __future__ import annotations

import numpy as np
import pytest

from cogattn.gaze.metrics import asymmetry_index, human_rt_lines, rt_from_fixations, rt_slope
from cogattn.gaze.metrics.asymmetry import asymmetry_indices, human_slopes, mean_rt_by_set_size


def test_rt_mapping_is_the_published_linear_fit():
    np.testing.assert_allclose(rt_from_fixations([0, 1, 4]), [376.271, 628.63, 1385.707])
    with pytest.raises(ValueError, match=">= 0"):
        rt_from_fixations([-1])


def test_asymmetry_index_hand_cases():
    assert asymmetry_index(30.0, 10.0) == pytest.approx(0.5)
    assert asymmetry_index(10.0, 30.0) == pytest.approx(-0.5)
    assert asymmetry_index(-5.0, 20.0) == -1.0  # negative slopes count as 0
    assert asymmetry_index(0.0, -2.0) == 0.0  # both 0 -> 0


def test_rt_slope_matches_least_squares():
    x = np.array([1, 4, 8, 12])
    y = np.array([400.0, 470.0, 520.0, 610.0])
    assert rt_slope(x, y) == pytest.approx(np.polyfit(x, y, 1)[0])
    with pytest.raises(ValueError, match="equal"):
        rt_slope([3, 3], [1.0, 2.0])


def test_mean_rt_by_set_size():
    sizes, mean, sem = mean_rt_by_set_size([1.0, 3.0, 10.0, 10.0], [2, 2, 5, 5])
    assert sizes.tolist() == [2, 5] and mean.tolist() == [2.0, 10.0]
    np.testing.assert_allclose(sem, [1 / np.sqrt(2), 0.0])


def test_human_lines_and_indices_match_the_spec():
    hs = human_slopes()
    # lines given as equations in the spec: the slopes are exact
    assert hs["cross"] == pytest.approx(96.0) and hs["non_cross"] == pytest.approx(45.0)
    assert hs["Ls"] == pytest.approx(33.0) and hs["Ts"] == pytest.approx(14.0)
    # digitised lines (spec §1c "human" slopes): curve 0.8 / line 7.6, top_down 4.2, ...
    assert hs["curve_in_lines"] == pytest.approx(0.8, abs=0.05)
    assert hs["left_right"] == pytest.approx(23.9, abs=0.05)
    assert hs["hetero_t20"] == pytest.approx(71.1, abs=0.05)
    ai = asymmetry_indices(hs)
    np.testing.assert_allclose(
        list(ai.values()), [0.809, 0.701, 0.362, 0.404, 0.611, 0.500], atol=5e-4
    )
    assert np.mean(list(ai.values())) == pytest.approx(0.564, abs=5e-4)
    lines = human_rt_lines()
    assert lines["rt_ms"].sel(task="cross", set_size=6).item() == 541 + 96 * 6
    assert np.isnan(lines["rt_ms"].sel(task="cross", set_size=1).item())
