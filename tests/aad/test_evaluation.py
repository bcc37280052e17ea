"""MESD (golden values), performance-curve extrapolation, splitters, smoothing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cogattn.brain.aad import (
    BackwardDecoder,
    LeaveOneGroupOut,
    LeaveOneTrialOut,
    LocusCNN,
    RandomWindowSplit,
    SpeakerClusterDecoder,
    evaluate_windows,
    extrapolate_accuracy,
    mesd,
    segment_recordings,
    significance_threshold,
    smooth_decisions,
)

TAU = [1, 5, 10, 20, 30, 60]
P = [0.53, 0.61, 0.69, 0.76, 0.84, 0.90]


@pytest.mark.regression
@pytest.mark.parametrize(
    ("tau", "p", "kwargs", "expected", "tau_opt", "n_states"),
    [
        # the MESD toolbox demo values (Geirnaert et al. 2020; spec §0)
        (TAU, P, {}, 49.5286, 9.5045, 5),
        (TAU, P, {"n_min": 10}, 74.884, None, None),
        (TAU, P, {"n_min": 10, "p0": 0.85, "c": 0.7}, 106.12, None, None),
        ([2, 10, 15, 25, 50], [0.58, 0.72, 0.78, 0.87, 0.96], {}, 39.668, 4.40, 7),
        (TAU, [0.51, 0.60, 0.70, 0.79, 0.88, 0.94], {}, 47.576, 9.15, 5),
    ],
)
def test_mesd_golden_values(tau, p, kwargs, expected, tau_opt, n_states):
    res = mesd(tau, p, **kwargs)
    decimals = len(str(expected).split(".")[1])
    assert round(res.mesd_s, decimals) == expected
    if tau_opt is not None:
        assert round(res.window_s, len(str(tau_opt).split(".")[1])) == tau_opt
        assert res.n_states == n_states
    if expected == 49.5286:
        assert round(res.accuracy, 4) == 0.6821


def test_mesd_edge_cases():
    assert mesd([1, 2], [0.5, 0.4]).mesd_s == np.inf
    with pytest.raises(ValueError, match="fractions"):
        mesd([1, 5], [53.0, 61.0])
    with pytest.raises(ValueError, match="equally long"):
        mesd([1, 5], [0.6])
    # unsorted input gives the same answer
    assert mesd(TAU[::-1], P[::-1]).mesd_s == pytest.approx(mesd(TAU, P).mesd_s)


def test_extrapolation_formula_hand_worked():
    rng = np.random.default_rng(0)
    ra = np.tanh(rng.normal(0.12, 0.05, 200))
    ru = np.tanh(rng.normal(0.04, 0.05, 200))
    d = np.arctanh(ra) - np.arctanh(ru)
    fs, tb = 64.0, 20.0
    # at the baseline window itself, the prediction is the normal model of d
    pred_b = extrapolate_accuracy(ra, ru, window_s=tb, sfreq_hz=fs, target_windows_s=[tb])
    assert pred_b[0] == pytest.approx(1 - stats.norm.cdf(0, d.mean(), d.std(ddof=1)))
    # at 4× the window, sd halves (1/sqrt(n)) and the bias term shrinks
    rho = ra.mean() - ru.mean()
    mu = d.mean() - rho / (2 * (tb * fs - 1)) + rho / (2 * (4 * tb * fs - 1))
    sd = d.std(ddof=1) * np.sqrt((tb * fs - 1) / (4 * tb * fs - 1))
    pred = extrapolate_accuracy(ra, ru, window_s=tb, sfreq_hz=fs, target_windows_s=[4 * tb])
    assert pred[0] == pytest.approx(1 - stats.norm.cdf(0, mu, sd))
    curve = extrapolate_accuracy(ra, ru, window_s=tb, sfreq_hz=fs, target_windows_s=[1, 5, 60])
    assert np.all(np.diff(curve) > 0)


def test_significance_threshold_binomial():
    thr = significance_threshold([100, 20])
    assert thr[0] == pytest.approx((stats.binom.ppf(0.95, 100, 0.5) + 1) / 100)
    assert stats.binom.sf(thr[1] * 20 - 1, 20, 0.5) <= 0.05


def test_splitters(small_rec):
    folds = list(LeaveOneTrialOut().split(small_rec))
    assert len(folds) == 6
    for train, test in folds:
        assert len(test) == 1 and test[0] not in train
    rec = small_rec.assign_coords(group=("trial", ["a", "a", "b", "b", "c", "c"]))
    folds = list(LeaveOneGroupOut().split(rec))
    assert [t.tolist() for _, t in folds] == [[0, 1], [2, 3], [4, 5]]
    seg = segment_recordings(small_rec, 2.0)
    assert seg.sizes["trial"] == 6 * 5 and seg.sizes["time"] == 128
    assert seg["group"].values.tolist()[:5] == ["0"] * 5


@pytest.mark.parametrize("decoder", [LocusCNN(epochs=1), SpeakerClusterDecoder(epochs=1)])
def test_random_window_split_refused_for_deep_models(small_rec, decoder):
    with pytest.raises(ValueError, match=r"[Ll]eave") as err:
        evaluate_windows(decoder, small_rec, windows_s=(1,), cv=RandomWindowSplit(segment_s=2))
    assert "trial" in str(err.value) and "inflat" in str(err.value)


def test_random_window_split_allowed_for_stimulus_decoders(small_rec, caplog):
    res = evaluate_windows(
        BackwardDecoder(), small_rec, windows_s=(2,), cv=RandomWindowSplit(segment_s=2),
        progress=False,
    )  # fmt: skip
    assert res["accuracy"].item() > 0.9
    assert "same trials" in caplog.text


def test_evaluate_windows_result_is_saveable(small_rec, tmp_path):
    from cogattn.data import load, save

    res = evaluate_windows(BackwardDecoder(), small_rec, windows_s=(1, 5, 20), progress=False)
    assert res["n_windows"].sel(window_s=20.0).item() == 0  # trials are 10 s long
    assert np.isnan(res["accuracy"].sel(window_s=20.0).item())
    path = save(res, tmp_path / "res.nc")
    back = load(path)
    np.testing.assert_array_equal(back["n_windows"].values, res["n_windows"].values)


def test_smooth_decisions_hand_worked():
    # a single outlier is removed, a sustained switch is followed
    dec = [0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1]
    out = smooth_decisions(dec, accuracy=0.7, p_switch=0.1)
    assert out[3] == 0
    assert out[-1] == 1 and out[:7].tolist() == [0] * 7
    with pytest.raises(ValueError, match="accuracy"):
        smooth_decisions(dec, accuracy=1.2, p_switch=0.1)
