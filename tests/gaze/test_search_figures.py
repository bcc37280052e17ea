"""search-asymmetry and search-displays figures and their gallery examples (small sizes)."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path

import pytest

from cogattn.data import load
from cogattn.figures import make_figure, replot_figure

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "gaze"


def test_search_asymmetry_figure_warns_loudly_when_untrained(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="cogattn.figures.search_asymmetry"):
        result = make_figure(
            "search-asymmetry",
            tmp_path,
            small=True,
            experiments=["lighting_direction", "intersection_cross"],
            progress=False,
        )
    assert "UNTRAINED" in caplog.text
    assert result.figure_path.is_file() and result.data_path.is_file()
    assert "UNTRAINED" in result.report and "pipeline check" in result.report
    ds = load(result.data_path)
    assert "UNTRAINED" in ds.attrs["title"] and ds.attrs["weights_untrained"] == 1
    assert ds["asymmetry_index"].dims == ("model", "experiment")
    assert ds.sizes["experiment"] == 2
    models = ds["model"].values.tolist()
    assert {"eccNET (this run)", "chance (this run)", "pixelMatch (this run)"} <= set(models)
    if "eccNET (published)" in models:  # shared data present: reference bars
        published = float(ds["mean_asymmetry_index"].sel(model="eccNET (published)"))
        # over experiments 2 and 3 only: (1.000 + 0.495) / 2 (spec §1c per-experiment values)
        assert published == pytest.approx((1.0 + 0.495) / 2, abs=1e-3)
    again = replot_figure("search-asymmetry", result.data_path, tmp_path / "replot")
    assert again.figure_path.is_file()


def test_search_displays_figure(tmp_path):
    result = make_figure("search-displays", tmp_path, small=True)
    ds = load(result.data_path)
    assert ds.sizes["task"] == 12
    assert int(ds["height"].sel(task="cross")) == int(20.5 * 6)  # 20.5 deg at 6 px/deg


@pytest.mark.parametrize("name", ["plot_search_asymmetry.py", "plot_search_displays.py"])
def test_examples_run_small(name, monkeypatch):
    monkeypatch.setenv("COGATTN_EXAMPLE_SMALL", "1")
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert namespace["fig"] is not None
