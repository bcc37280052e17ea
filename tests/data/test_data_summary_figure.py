"""The ``data-summary`` figure recipe (the first demo step)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from cogattn.figures import make_figure, replot_figure
from cogattn.figures.data_summary import compute, plot


def test_data_summary_full(shared_data, tmp_path):
    result = make_figure("data-summary", tmp_path, data_dir=str(shared_data))
    assert result.figure_path.is_file() and result.data_path.is_file()
    from cogattn.data import load

    ds = load(result.data_path)
    # counts from the READMEs: 3258 COCO-Search18 scanpaths, 600 Amazon scanpaths
    assert int(ds["coco_count"].sum()) == 3258
    assert int(ds["amazon_count"].sum()) == 600
    mean_amazon = float((ds["amazon_n_fixations"] * ds["amazon_count"]).sum() / 600)
    assert round(mean_amazon, 1) == 14.5
    assert ds.sizes["panel"] == 3 and ds.sizes["stimulus"] == 92
    # README check: mean hIT vs Cichy IT 0.56, vs EVC 0.13 (Spearman, upper triangles)
    assert float(ds["spearman_hit_vs_it"]) == pytest.approx(0.56, abs=0.01)
    assert float(ds["spearman_hit_vs_evc"]) == pytest.approx(0.13, abs=0.01)
    assert "3258 scanpaths" in result.report and "5 fixation(s)" in result.report
    pct = ds["rdm_percentile"].values
    off = ~np.eye(92, dtype=bool)
    assert pct[:, off].min() == 0 and pct[:, off].max() == 100
    again = replot_figure("data-summary", result.data_path, tmp_path / "replot")
    assert again.figure_path.is_file()


def test_data_summary_small_and_missing_folders(shared_data, tmp_path):
    ds = compute(small=True, data_dir=str(shared_data))
    assert int(ds["coco_count"].sum()) == 500 and ds.sizes["stimulus"] == 46
    partial = tmp_path / "data"
    (partial / "amazon_book_covers_sti").mkdir(parents=True)
    shutil.copy(
        shared_data / "amazon_book_covers_sti" / "Amazon.json", partial / "amazon_book_covers_sti"
    )
    ds = compute(data_dir=str(partial))
    assert "panel" not in ds.sizes and "coco_count" not in ds
    assert "not found" in ds.attrs["report"] and "kriegeskorte92" in ds.attrs["report"]
    fig = plot(ds)
    assert len(fig.axes) == 1
    with pytest.raises(FileNotFoundError, match="COGATTN_SHARED_DATA"):
        compute(data_dir=str(tmp_path / "empty"))
    with pytest.raises(TypeError, match="data_dir"):
        compute(data_root="x")
