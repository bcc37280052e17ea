"""Fixtures of the AAD tests: one calibrated simulation shared by the session.

BLAS and torch are limited to one thread in these tests: the decoders do many small matrix
products, which multi-threaded BLAS slows down by orders of magnitude on a loaded machine.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module", autouse=True)
def _single_blas_thread():
    """One BLAS thread within each AAD test module (torch is already on one thread for the
    whole session, see tests/conftest.py); restored afterwards."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def calibrated_sim():
    """The spec §S simulation at its calibrated default SNR (r_att ≈ 0.10–0.12).

    20 trials × 120 s (40 min per talker), 32 channels at 64 Hz; espeak-ng talkers when
    installed, else the synthetic fallback. The broadband Hilbert envelope is used instead of
    the 15-band gammatone recipe to keep the suite fast (the gammatone recipe itself is tested
    in test_envelope.py); per-trial decisions are over 120 s, as KU Leuven trials are minutes
    long.
    """
    from cogattn.brain.aad import simulate_aad

    return simulate_aad(
        n_trials=20, trial_duration_s=120.0, n_channels=32, envelope_method="hilbert", seed=0
    )


@pytest.fixture(scope="session")
def calibrated_eval(calibrated_sim):
    """Leave-one-trial-out evaluation of the default BackwardDecoder on ``calibrated_sim``."""
    from cogattn.brain.aad import BackwardDecoder, evaluate_windows

    return evaluate_windows(BackwardDecoder(), calibrated_sim, progress=False)


@pytest.fixture
def small_rec():
    """A tiny two-stream Recordings with a strong, known stimulus response (no speech)."""
    from cogattn.data import recordings

    rng = np.random.default_rng(7)
    n_tr, n_t, n_ch = 6, 640, 5
    env = rng.normal(size=(n_tr, 2, n_t))
    att = np.array([0, 1, 0, 1, 1, 0])
    pattern = rng.normal(size=n_ch)
    eeg = np.stack(
        [np.outer(np.roll(env[i, att[i]], 4), pattern) for i in range(n_tr)]
    ) + 2.0 * rng.normal(size=(n_tr, n_t, n_ch))
    return recordings(eeg, sfreq_hz=64.0, streams=env, attended=att)
