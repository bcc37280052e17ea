"""Shared test fixtures: offline hubs, Agg plots, seeded RNG, and the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

if os.environ.get("COGATTN_REQUIRE_ALL_DEPS") == "1":
    # `make test` (and so CI) installs every extra the tests use: there, a reference package
    # that fails to import must fail the test instead of skipping it quietly.
    import importlib

    def _import_or_fail(
        modname: str, minversion: str | None = None, reason: str | None = None, **_: object
    ):
        return importlib.import_module(modname)

    pytest.importorskip = _import_or_fail

_SHARED_DATA = Path(
    os.environ.get("COGATTN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real human data in ``../shared/data`` (skipped with a reason when absent).

    CI always has this folder beside the checkout; a user's clone may not. Point
    ``COGATTN_SHARED_DATA`` at another copy to use it.
    """
    if not _SHARED_DATA.is_dir():
        pytest.skip(
            f"real-data folder {_SHARED_DATA} not found (it sits beside the checkout in CI; "
            "set COGATTN_SHARED_DATA to use a copy elsewhere)"
        )
    return _SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator (fresh per test)."""
    return np.random.default_rng(20261123)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run torch on one intra-op thread during tests.

    The test models are tiny: one thread is as fast as two on an idle machine, and on a
    shared 2-core machine two threads spin-wait on each other (measured ~10x slower under
    load). Library code never changes the thread count; users keep torch's default.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
