"""``cogattn data info`` / ``convert`` on the real files in ../shared/data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cogattn.cli import main
from cogattn.data import DataWarning, load, load_rdms, load_scanpaths

COCO = "coco_search18_tp_val/coco_search18_fixations_TP_validation_split1.json"


def _data_files(root):
    """Every file and folder under ``root``, except that only a few of the 92 stimulus images,
    the 110 studyforrest TSVs and the ~260 visual-search outputs are taken (same formats)."""
    paths = sorted(root.rglob("*"))
    images = [p for p in paths if p.parent.name == "stimuli" and p.suffix == ".jpg"]
    search = [p for p in paths if p.parent.name in ("out_data", "fix")]
    tsvs = [p for p in paths if p.suffix == ".tsv"]
    chosen = set(images[:2]) | set(search[:: max(1, len(search) // 6)]) | set(tsvs[::20])
    sampled = set(images) | set(search) | set(tsvs)
    return [p for p in [root, *paths] if p not in sampled or p in chosen]


def test_info_on_every_shared_file(shared_data, capsys):
    failures = []
    n_data = n_not_data = 0
    for path in _data_files(shared_data):
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)  # info reports them as notes
            rc = main(["data", "info", str(path)])
        out, err = capsys.readouterr()
        name = path.name.lower()
        if name.startswith(("readme", "license", "original_readme")):
            n_not_data += 1
            if rc != 2 or "not a data file" not in err:
                failures.append((path, rc, err))
        else:
            n_data += 1
            if rc != 0 or not out.strip():
                failures.append((path, rc, err))
    assert not failures, failures
    assert n_not_data == 11 and n_data > 50


def test_info_content(shared_data, capsys):
    assert main(["data", "info", str(shared_data / COCO)]) == 0
    out = capsys.readouterr().out
    assert "trials: 3258" in out and "subjects: 10" in out and "tasks: 18" in out
    assert "images: 315" in out and "mean 3.72" in out
    assert "5 fixation(s)" in out  # the clipping note
    assert main(["data", "info", str(shared_data / "kriegeskorte92" / "92_brainRDMs.mat")]) == 0
    out = capsys.readouterr().out
    assert "subjects: 8" in out and "stimuli: 92" in out and "'hIT'" in out
    assert main(["data", "info", str(shared_data / "algonauts2019_92images" / "stimuli")]) == 0
    assert "92 images" in capsys.readouterr().out
    assert main(["data", "info", str(shared_data / "kriegeskorte92")]) == 0
    assert "92_brainRDMs.mat: rdms" in capsys.readouterr().out


def test_info_missing_and_malformed(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nope.json")]) == 2
    assert "no such" in capsys.readouterr().err
    bad = tmp_path / "broken.json"
    bad.write_text('[{"name": "a.jpg", "X": [1, 2]')
    assert main(["data", "info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.json" in err and "JSON" in err


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_convert_round_trip(shared_data, tmp_path, suffix, capsys):
    src = shared_data / "amazon_book_covers_sti" / "Amazon.json"
    out = tmp_path / f"amazon{suffix}"
    assert main(["data", "convert", str(src), str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert load(out).identical(load_scanpaths(src))
    rdm_out = tmp_path / f"it{suffix}"
    alg = shared_data / "algonauts2019_92images"
    assert main(["data", "convert", str(alg), str(rdm_out), "--roi", "IT"]) == 0
    assert load(rdm_out).identical(load_rdms(alg, roi="IT"))


def test_convert_options(shared_data, tmp_path, capsys):
    table = tmp_path / "fix.csv"
    table.write_text("x,y,duration_ms,subject\n1,2,100,a\n30,4,50,a\n")
    out = tmp_path / "fix.nc"
    args = ["data", "convert", str(table), str(out), "--image-size", "20", "10"]
    assert main([*args, "--out-of-bounds", "raise"]) == 2
    assert "outside the image" in capsys.readouterr().err
    assert not out.exists()
    with pytest.warns(DataWarning, match="1 fixation"):
        assert main(args) == 0
    np.testing.assert_array_equal(load(out)["x"].values[0], [1, 20])  # clipped to the border
    licence = shared_data / "kriegeskorte92" / "LICENSE.rsatoolbox"
    assert main(["data", "convert", str(licence), str(tmp_path / "x.nc")]) == 2
    assert "not a data file" in capsys.readouterr().err
