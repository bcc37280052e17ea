"""Schema constructors, validation, accessors and atomic save/load round-trips."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cogattn.data import DataError, load, rdms, recordings, responses, save, scanpaths


def _scanpaths():
    return scanpaths(
        [[10, 20, 30], [5]],
        [[1, 2, 3], [4]],
        image_size_px=(64, 48),
        duration_ms=[[100, 200, 300], [50]],
        subject=[1, 2],
        task="car",
        target_bbox=[[1, 2, 3, 4], [np.nan] * 4],
    )


def test_scanpaths_layout_and_accessor():
    ds = _scanpaths()
    assert ds["x"].dims == ("trial", "fixation")
    assert ds["length"].values.tolist() == [3, 1]
    assert np.isnan(ds["x"].values[1, 1:]).all()
    np.testing.assert_array_equal(
        ds.scanpath.trial(0, with_duration=True), [[10, 1, 100], [20, 2, 200], [30, 3, 300]]
    )
    assert ds.scanpath.select(subject=2).sizes["trial"] == 1
    half = ds.scanpath.rescale(32, 24)
    np.testing.assert_allclose(half["x"].values[0], [5, 10, 15])
    np.testing.assert_allclose(half["target_bbox"].values[0], [0.5, 1, 1.5, 2])
    assert ds.scanpath.truncate(2)["length"].values.tolist() == [2, 1]
    # a fixation on the border stays on the border despite floating-point rounding
    border = scanpaths([[1680.0]], [[1050.0]], image_size_px=(1680, 1050)).scanpath.rescale(
        512, 320
    )
    assert border["x"].item() == 512 and border["y"].item() == 320
    assert len(ds.scanpath.to_dataframe()) == 4


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": [[10, 100]], "y": [[1, 2]]}, "x"),  # outside the 64-px-wide image
        ({"x": [[10, -1]], "y": [[1, 2]]}, "x"),
        ({"x": [[10, np.nan, 3]], "y": [[1, np.nan, 3]]}, "x"),  # NaN inside a trial
        ({"x": [[10]], "y": [[1, 2]]}, "y"),
        ({"x": [[10, 20]], "y": [[1, 2]], "duration_ms": [[10, -5]]}, "duration_ms"),
        ({"x": [["a"]], "y": [[1]]}, "x"),
    ],
)
def test_scanpaths_rejects_bad_input(kwargs, field):
    with pytest.raises(DataError) as info:
        scanpaths(image_size_px=(64, 48), **kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_scanpaths_clip_warns():
    with pytest.warns(UserWarning, match="1 fixation"):
        ds = scanpaths([[10, 70]], [[1, 2]], image_size_px=(64, 48), out_of_bounds="clip")
    assert ds["x"].values[0, 1] == 64


def test_responses_rois_and_repeats(rng):
    data = rng.normal(size=(5, 3, 4))
    data[0, 2] = np.nan  # stimulus 0 has only two repeats
    ds = responses(
        data, rois={"V1": [0, 1], "FFA": np.array([False, True, True, False])}, hemisphere="lh"
    )
    assert ds.responses.roi("V1", "FFA").sizes["voxel"] == 3
    mean = ds.responses.mean_repeats()
    np.testing.assert_allclose(mean["response"].values[0], data[0, :2].mean(axis=0))
    with pytest.raises(DataError, match="finite"):
        responses(np.array([[np.nan, 1.0]]))
    with pytest.raises(KeyError, match="V1"):
        ds.responses.roi("V4")


def test_recordings_ragged_and_checks(rng):
    ds = recordings(
        [rng.normal(size=(10, 3)), rng.normal(size=(8, 3))],
        sfreq_hz=64,
        streams=[rng.normal(size=(2, 10)), rng.normal(size=(2, 8))],
        attended=[0, 1],
    )
    assert ds["n_samples"].values.tolist() == [10, 8]
    eeg, streams, att = ds.recordings.trial(1)
    assert eeg.shape == (8, 3) and streams.shape == (2, 8, 1) and att == 1
    with pytest.raises(DataError, match="attended"):
        recordings(
            rng.normal(size=(2, 8, 3)),
            sfreq_hz=64,
            streams=rng.normal(size=(2, 2, 8)),
            attended=[0, 2],
        )
    with pytest.raises(DataError, match="samples"):
        recordings(rng.normal(size=(2, 8, 3)), sfreq_hz=64, streams=rng.normal(size=(2, 2, 7)))


def test_rdms_checks():
    d = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], float)
    ds = rdms(np.stack([d, 2 * d]), roi="IT", subject=["a", "b"])
    np.testing.assert_array_equal(ds.rdms.upper_triangle(), [[1, 2, 3], [2, 4, 6]])
    with pytest.raises(DataError, match="symmetric"):
        rdms(d + np.triu(np.ones((3, 3)), 1))
    with pytest.raises(DataError, match="diagonal"):
        rdms(d + np.eye(3))


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_save_load_round_trip(tmp_path, rng, suffix):
    datasets = [
        _scanpaths(),
        responses(
            rng.normal(size=(4, 3)),
            rois={"V1": [0]},
            affine=np.eye(4),
            volume_shape=(3, 1, 1),
            space="native",
        ),
        recordings(
            rng.normal(size=(2, 8, 3)),
            sfreq_hz=64,
            streams=rng.normal(size=(2, 2, 8)),
            attended=[0, 1],
        ),
        rdms(np.array([[0, 1], [1, 0.0]]), roi="IT"),
    ]
    for i, ds in enumerate(datasets):
        path = tmp_path / f"d{i}{suffix}"
        save(ds, path)
        save(ds, path)  # overwriting is atomic too
        xr.testing.assert_identical(load(path), ds)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], (
        "temporary files left behind"
    )


def test_load_reports_schema_errors(tmp_path):
    ds = _scanpaths()
    ds["x"].values[0, 0] = 1000.0
    path = tmp_path / "bad.nc"
    save(ds, path)
    with pytest.raises(DataError, match=r"bad\.nc"):
        load(path)
