"""fMRI loaders: NIfTI + mask through nilearn, back with to_nifti; arrays + ROI tables."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from cogattn.data import (
    DataError,
    DataWarning,
    load,
    load_responses,
    read_roi_table,
    save,
    to_nifti,
)

# nibabel ships a real EPI snippet: 17x21x3 voxels of 4x4x8 mm, 20 volumes, TR 2 s (int16).
NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


@pytest.fixture(scope="module")
def epi():
    path = NIBABEL_DATA / "functional.nii"
    if not path.is_file():
        pytest.skip("nibabel's test data (tests/data/functional.nii) is not installed")
    return path


@pytest.fixture
def bold_and_mask(epi, tmp_path):
    img = nib.load(epi)
    mask = np.zeros(img.shape[:3], dtype=np.uint8)
    mask[3:9, 4:15, :2] = 1
    mask_path = tmp_path / "mask.nii.gz"
    nib.Nifti1Image(mask, img.affine).to_filename(mask_path)
    return epi, mask_path, mask.astype(bool)


def test_bold_with_mask_paths(bold_and_mask):
    bold, mask_path, mask = bold_and_mask
    ds = load_responses(bold, mask=mask_path)  # the call form the encoding code uses
    data = nib.load(bold).get_fdata()
    assert dict(ds.sizes) == {"stimulus": 20, "voxel": int(mask.sum()), "roi": 0}
    assert ds["stimulus"].values.tolist() == list(range(20))  # volume index
    assert ds.attrs["tr_s"] == 2.0  # from the header (pixdim[4] = 2, unit sec)
    assert ds.attrs["volume_shape"] == [17, 21, 3]
    np.testing.assert_allclose(ds.responses.affine, nib.load(bold).affine)
    # voxel v holds the time series at (i, j, k), compared with plain numpy indexing
    i, j, k = (ds[c].values for c in "ijk")
    np.testing.assert_allclose(ds["response"].values, data[i, j, k, :].T)
    assert mask[i, j, k].all()


def test_to_nifti_round_trip(bold_and_mask):
    bold, mask_path, mask = bold_and_mask
    ds = load_responses(bold, mask=mask_path)
    scores = np.arange(ds.sizes["voxel"], dtype=float)
    img = to_nifti(scores, like=ds)  # the call form the encoding code uses
    assert img.shape == (17, 21, 3)
    np.testing.assert_allclose(img.affine, nib.load(bold).affine)
    vol = img.get_fdata()
    np.testing.assert_allclose(vol[mask], scores)  # argwhere (C) order = masker order
    assert (vol[~mask] == 0).all()
    series = to_nifti(ds["response"], like=ds)
    assert series.shape == (17, 21, 3, 20)
    assert series.header.get_zooms()[3] == 2.0
    np.testing.assert_allclose(series.get_fdata()[mask], nib.load(bold).get_fdata()[mask])
    # a voxel subset still maps back to its own voxels
    ds = load_responses(bold, mask=mask_path, rois={"left": ds["i"].values < 5})
    sub = ds.responses.roi("left")
    vol = to_nifti(np.ones(sub.sizes["voxel"]), like=sub, fill=np.nan).get_fdata()
    assert np.nansum(vol) == sub.sizes["voxel"]
    with pytest.raises(ValueError, match="voxels"):
        to_nifti(np.ones(3), like=ds)


def test_roi_images_and_space_checks(bold_and_mask, tmp_path):
    bold, mask_path, mask = bold_and_mask
    img = nib.load(bold)
    roi_a = np.zeros(img.shape[:3], np.uint8)
    roi_a[3:5] = 1
    roi_b = np.zeros(img.shape[:3], np.uint8)
    roi_b[4:6] = 1  # overlaps roi_a at i == 4
    ds = load_responses(
        nib.load(bold),
        mask=nib.load(mask_path),
        rois={"a": nib.Nifti1Image(roi_a, img.affine), "b": nib.Nifti1Image(roi_b, img.affine)},
    )
    i = ds["i"].values
    np.testing.assert_array_equal(ds["roi_mask"].sel(roi="a").values, (i >= 3) & (i < 5))
    assert ds.responses.roi("a", "b").sizes["voxel"] == int(((i >= 3) & (i < 6)).sum())
    shifted = img.affine.copy()
    shifted[0, 3] += 4
    other = tmp_path / "other.nii.gz"
    nib.Nifti1Image(mask.astype(np.uint8), shifted).to_filename(other)
    with pytest.raises(DataError, match="space") as info:
        load_responses(bold, mask=other)
    assert "other.nii.gz" in str(info.value)
    empty = tmp_path / "empty.nii.gz"
    nib.Nifti1Image(np.zeros(img.shape[:3], np.uint8), img.affine).to_filename(empty)
    with pytest.raises(DataError, match="empty"):
        load_responses(bold, mask=empty)


def test_implausible_header_tr_warns():
    path = NIBABEL_DATA / "example4d.nii.gz"
    if not path.is_file():
        pytest.skip("nibabel's test data (tests/data/example4d.nii.gz) is not installed")
    img = nib.load(path)  # pixdim[4] = 2000 with unit "sec": milliseconds mislabelled
    mask = np.zeros(img.shape[:3], np.uint8)
    mask[60:64, 40:44, 10] = 1
    with pytest.warns(DataWarning, match="implausible"):
        ds = load_responses(img, mask=nib.Nifti1Image(mask, img.affine))
    assert "tr_s" not in ds.attrs
    assert load_responses(img, mask=nib.Nifti1Image(mask, img.affine), tr_s=2.0).attrs["tr_s"] == 2


def test_beta_maps_3d_and_labels(tmp_path, rng):
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    betas = rng.normal(size=(4, 5, 6, 3))
    path = tmp_path / "betas.nii.gz"
    nib.Nifti1Image(betas, affine).to_filename(path)
    mask = np.ones((4, 5, 6), np.uint8)
    ds = load_responses(path, mask=nib.Nifti1Image(mask, affine), stimulus=["face", "house", "car"])
    assert ds["stimulus"].values.tolist() == ["face", "house", "car"]
    one = tmp_path / "one.nii.gz"
    nib.Nifti1Image(betas[..., 0], affine).to_filename(one)
    single = load_responses(one, mask=nib.Nifti1Image(mask, affine))
    assert single.sizes["stimulus"] == 1 and "tr_s" not in single.attrs
    np.testing.assert_allclose(single["response"].values[0], betas[..., 0].ravel(), rtol=1e-6)


def test_array_npz_with_metadata_and_roi_tables(tmp_path, rng):
    data = rng.normal(size=(7, 5))
    path = tmp_path / "betas.npz"
    np.savez(
        path,
        response=data,
        stimulus=np.array([f"im{i}" for i in range(7)]),
        hemisphere=np.array(["lh", "lh", "rh", "rh", "rh"]),
        ijk=np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [4, 0, 0]]),
        affine=np.eye(4),
        volume_shape=np.array([5, 1, 1]),
    )
    mask_table = tmp_path / "rois_mask.csv"
    mask_table.write_text("voxel,V1,FFA\n0,1,0\n1,1,1\n2,0,true\n3,0,0\n4,0,0\n")
    index_table = tmp_path / "rois_index.csv"
    index_table.write_text("V1,FFA\n0,1\n1,2\n,\n")
    long_table = tmp_path / "rois_long.tsv"
    long_table.write_text("roi\tvoxel\nV1\t0\nV1\t1\nFFA\t1\nFFA\t2\n")
    expected = {"V1": [True, True, False, False, False], "FFA": [False, True, True, False, False]}
    for table in (mask_table, index_table, long_table):
        ds = load_responses(path, rois=table)
        assert ds.responses.roi_names == ["V1", "FFA"]
        for name, mask in expected.items():
            np.testing.assert_array_equal(ds["roi_mask"].sel(roi=name).values, mask)
    assert ds["hemisphere"].values.tolist() == ["lh", "lh", "rh", "rh", "rh"]
    assert ds["stimulus"].values.tolist()[0] == "im0"
    np.testing.assert_array_equal(ds["response"].values, data)
    # the volume metadata lets maps go back to NIfTI
    np.testing.assert_array_equal(to_nifti(np.arange(5.0), like=ds).get_fdata()[:, 0, 0], range(5))
    df = pd.DataFrame({"V1": [1, 1, 0, 0, 0], "FFA": [0, 1, 1, 0, 0]})
    masks, _ = read_roi_table(df, n_voxels=5)
    np.testing.assert_array_equal(masks["FFA"], expected["FFA"])


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("V1,FFA\n0,1\n1,9\n", "FFA"),  # index out of range
        ("V1,FFA\n0,x\n", "FFA"),  # not an integer
        ("V1,FFA\n,1\n0,2\n", "V1"),  # a gap inside an index column
        ("roi,voxel\nV1,-1\n", "voxel"),
    ],
)
def test_bad_roi_tables(tmp_path, text, field):
    path = tmp_path / "rois.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_roi_table(path, n_voxels=5)
    assert info.value.field == field and str(path) in str(info.value)


def test_array_npy_and_round_trip(tmp_path, rng):
    data = rng.normal(size=(6, 3, 4))
    data[0, 2] = np.nan  # a missing repeat
    np.save(tmp_path / "r.npy", data)
    ds = load_responses(tmp_path / "r.npy", rois={"A": [0, 3]})
    assert ds["response"].dims == ("stimulus", "repeat", "voxel")
    for suffix in (".nc", ".zarr"):
        out = save(ds, tmp_path / f"r{suffix}")
        assert load(out).identical(ds)
        assert load_responses(out).identical(ds)
    np.save(tmp_path / "bad.npy", np.full((3, 2), np.nan))
    with pytest.raises(DataError, match="finite") as info:
        load_responses(tmp_path / "bad.npy")
    assert "bad.npy" in str(info.value)
