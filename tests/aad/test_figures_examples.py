"""The AAD figures (small) and gallery examples (``COGATTN_EXAMPLE_SMALL=1``)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from cogattn.data import load
from cogattn.figures import make_figure

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "brain"


@pytest.mark.parametrize("name", ["aad-window-accuracy", "aad-trf"])
def test_figure_small(name, tmp_path):
    res = make_figure(name, tmp_path, small=True)
    assert res.figure_path.exists() and res.data_path.exists()
    ds = load(res.data_path)
    assert ds.attrs["report"]
    if name == "aad-window-accuracy":
        acc = ds["accuracy"].values
        assert np.nanmax(acc) > 0.9 and ds["kul_accuracy"].sel(kul_window_s=60.0) == 0.895
    else:
        assert ds.attrs["r_recovered_attended"] > 0.7


@pytest.mark.parametrize("script", ["plot_aad_window_accuracy.py", "plot_aad_trf.py"])
def test_example_runs_small(script, monkeypatch):
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
