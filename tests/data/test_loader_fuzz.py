"""Corrupted inputs: every loader either returns a dataset or raises ``DataError``.

Hypothesis mutates a small valid file of each format (JSON: dropped keys, changed types,
NaN, negatives, truncated lists, garbage; TSV/CSV: bad cells and headers; .mat/.npz/.npy:
wrong shapes and dtypes; NIfTI: truncated and flipped bytes) and feeds it to the loader.
Any other exception escaping is a bug. Examples are derandomised so CI is reproducible.
"""

from __future__ import annotations

import copy
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cogattn.data import (
    DataError,
    DataWarning,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
    load_responses,
    load_scanpaths,
    read_roi_table,
)

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

COCO_SEED = [
    {
        "name": "a.jpg",
        "subject": 1,
        "task": "car",
        "condition": "present",
        "bbox": [10, 20, 30, 40],
        "X": [840.0, 300.5, 12.0],
        "Y": [525.0, 200.0, 90.0],
        "T": [200, 150, 300],
        "length": 3,
        "correct": 1,
        "RT": 900,
        "split": "valid",
    },
    {
        "name": "b.jpg",
        "subject": 2,
        "task": "cup",
        "condition": "present",
        "bbox": [0, 0, 5, 5],
        "X": [840.0],
        "Y": [525.0],
        "T": [100],
        "length": 1,
        "correct": 0,
        "RT": 400,
        "split": "valid",
    },
]
AMAZON_SEED = {
    "1.jpg": {
        "fixations": {"1": [[10, 20], [30, 40]], "2": [[5, 5]]},
        "ground_truth": [{"xmin": 1, "xmax": 9, "ymin": 2, "ymax": 8}],
        "size": {"width": 100, "height": 80},
        "target": "target_0.jpg",
    },
    "2.jpg": {
        "fixations": {"1": [[50, 60]]},
        "ground_truth": [{"xmin": 1, "xmax": 9, "ymin": 2, "ymax": 8}],
        "size": {"width": 100, "height": 80},
        "target": "target_1.jpg",
    },
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**400), 10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)


def _locations(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _locations(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _locations(value, (*prefix, i))


def _get(obj, loc):
    for key in loc:
        obj = obj[key]
    return obj


@st.composite
def corrupted_json(draw, seed):
    obj = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        loc = draw(st.sampled_from(list(_locations(obj))))
        if not loc:
            obj = draw(json_values) if draw(st.integers(0, 9)) == 0 else obj
            continue
        parent, key = _get(obj, loc[:-1]), loc[-1]
        op = draw(st.sampled_from(["delete", "replace", "negate", "nan", "truncate", "extend"]))
        value = parent[key]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(json_values)
        elif op == "negate" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = -value - 1
        elif op == "nan":
            parent[key] = float("nan")
        elif op == "truncate" and isinstance(value, list):
            parent[key] = value[: draw(st.integers(0, max(0, len(value) - 1)))]
        elif op == "extend" and isinstance(value, list):
            value.append(draw(json_values))
    text = json.dumps(obj).encode()  # NaN is written as the (invalid) literal NaN
    tail = draw(st.sampled_from(["keep", "keep", "keep", "truncate", "garbage"]))
    if tail == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif tail == "garbage":
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.binary(min_size=1, max_size=8)) + text[pos:]
    return text


bad_cells = st.one_of(
    st.integers(-5, 2000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "NaN", "inf", "-1", "abc", "1e400", '"', "\t", ",", "true"]),
)


@st.composite
def corrupted_table(draw, seed, sep):
    """A valid table (header + rows) with 0-3 damaged cells, columns or rows."""
    header, rows = list(seed[0]), [list(r) for r in seed[1]]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["cell", "cell", "drop_col", "add_col", "drop_row", "dup_row"]))
        if op == "cell" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(bad_cells)
        elif op == "drop_col" and header:
            c = draw(st.integers(0, len(header) - 1))
            header.pop(c)
            if draw(st.booleans()):
                for row in rows:
                    row.pop(c)
        elif op == "add_col":
            header.append(draw(st.sampled_from(["foo", "", "x", "voxel", "duration"])))
            if draw(st.booleans()):
                for row in rows:
                    row.append(draw(bad_cells))
        elif op == "drop_row" and rows:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif op == "dup_row" and rows:
            rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
    data = (sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)).encode()
    tail = draw(st.sampled_from(["keep"] * 6 + ["truncate", "garbage"]))
    if tail == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif tail == "garbage":
        data = draw(st.binary(max_size=40))
    return data


FIXVEC_SEED = (
    ("start_x", "start_y", "duration"),
    (("100.5", "50", "0.2"), ("300", "200", "0.115"), ("5", "5", "0.3")),
)
CSV_SEED = (
    ("x", "y", "duration", "trial", "subject", "w", "h"),
    (
        ("10", "20", "100", "a", "s1", "100", "80"),
        ("30", "40", "150", "a", "s1", "100", "80"),
        ("5", "6", "90", "b", "s2", "50", "60"),
    ),
)
ROI_SEEDS = (
    (("voxel", "V1", "FFA"), (("0", "1", "0"), ("1", "1", "1"), ("2", "0", "1"), ("3", "0", "0"))),
    (("V1", "FFA"), (("0", "1"), ("1", "2"), ("", "3"))),
    (("roi", "voxel"), (("V1", "0"), ("V1", "1"), ("FFA", "3"))),
)


def _only_data_error(load, *args, **kwargs):
    """Call the loader; anything but a dataset, a tuple or DataError fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            out = load(*args, **kwargs)
        except DataError as err:
            assert str(err)  # a message, naming the file
            assert err.path is not None, f"DataError without a path: {err}"
            return None
    assert isinstance(out, (xr.Dataset, tuple)) or hasattr(out, "columns"), type(out)
    return out


def _write(tmp: str, name: str, data: bytes) -> Path:
    path = Path(tmp) / name
    path.write_bytes(data)
    return path


@FUZZ
@given(data=corrupted_json(COCO_SEED))
def test_coco_search18_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "coco.json", data)
        _only_data_error(load_scanpaths, path, format="coco-search18")
        _only_data_error(load_scanpaths, path, format="coco-search18", out_of_bounds="raise")


@FUZZ
@given(data=corrupted_json(AMAZON_SEED))
def test_amazon_covers_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "Amazon.json", data)
        _only_data_error(load_scanpaths, path, format="amazon-covers")


@FUZZ
@given(data=corrupted_json(COCO_SEED) | corrupted_json(AMAZON_SEED))
def test_json_format_detection_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        _only_data_error(load_scanpaths, _write(tmp, "any.json", data))


@FUZZ
@given(data=corrupted_table(FIXVEC_SEED, "\t"))
def test_fixation_tsv_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "segment_1_sub-01.tsv", data)
        _only_data_error(load_scanpaths, path, format="fixation-tsv")
        _only_data_error(load_scanpaths, Path(tmp), format="fixation-tsv")


@FUZZ
@given(data=corrupted_table(CSV_SEED, ","))
def test_csv_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "fix.csv", data)
        _only_data_error(load_scanpaths, path, format="csv", image_size_px=(100, 100))
        try:
            _only_data_error(
                load_scanpaths,
                path,
                format="csv",
                columns={"image_width": "w", "image_height": "h"},
            )
        except ValueError as err:  # argument error: the mapped columns are absent
            assert "not found" in str(err) or "image_size_px" in str(err)


@FUZZ
@given(data=st.sampled_from(ROI_SEEDS).flatmap(lambda seed: corrupted_table(seed, ",")))
def test_roi_table_fuzz(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "rois.csv", data)
        for layout in ("auto", "mask", "index", "long"):
            _only_data_error(read_roi_table, path, n_voxels=4, layout=layout)


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int16, np.bool_, np.complex64, "<U2"]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    elements=None,
)


@st.composite
def damaged_rdms(draw):
    """Valid RDM stacks (2, 4, 4), or with one defect: NaN, asymmetry, diagonal, shape, dtype."""
    x = np.arange(8.0).reshape(4, 2) ** 1.5
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    stack = np.stack([d, 2 * d])
    i, j = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    op = draw(st.sampled_from(["none", "nan", "nan_sym", "asym", "diag", "slice", "dtype", "dim"]))
    if op == "nan":
        stack[0, i, j] = np.nan
    elif op == "nan_sym":
        stack[:, i, j] = stack[:, j, i] = np.nan
    elif op == "asym":
        stack[1, i, j] += 1.0
    elif op == "diag":
        stack[0, i, i] = draw(st.floats(allow_nan=True, allow_infinity=True))
    elif op == "slice":
        stack = stack[:, : draw(st.integers(0, 4)), : draw(st.integers(0, 4))]
    elif op == "dtype":
        stack = stack.astype(draw(st.sampled_from([np.complex64, np.int8, np.bool_, "<U3"])))
    elif op == "dim":
        stack = stack[draw(st.sampled_from([0, (0, 0), None]))]
    return stack


rdm_arrays = st.one_of(damaged_rdms(), damaged_rdms(), arrays)


@FUZZ
@given(
    key=st.sampled_from(["Net_RDM", "response", "other"]),
    array=rdm_arrays,
    extra=st.booleans(),
    corrupt=st.sampled_from(["none", "none", "truncate"]),
    cut=st.floats(0, 1),
)
def test_npz_npy_fuzz(key, array, extra, corrupt, cut):
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "fmri_IT_RDMs.npz"
        contents = {key: array, **({"stimulus": np.arange(3)} if extra else {})}
        np.savez(npz, **contents)
        npy = Path(tmp) / "r.npy"
        np.save(npy, array)
        for path in (npz, npy):
            if corrupt == "truncate":
                raw = path.read_bytes()
                path.write_bytes(raw[: int(len(raw) * cut)])
            _only_data_error(load_rdms, path)
            _only_data_error(load_responses, path)


@FUZZ
@given(
    rdm=rdm_arrays.map(lambda a: a[0] if a.ndim == 3 else a),
    name=st.one_of(st.text(max_size=12), st.integers(), st.just("hIT | BE | Session: 1")),
    variable=st.sampled_from(["RDMs", "rdms_behav_92", "Models", "RDMs_mIT_hIT_fig1", "x"]),
    drop_field=st.booleans(),
    truncate=st.sampled_from([None, None, 0.1, 0.5, 0.9]),
)
def test_mat_rdm_fuzz(rdm, name, variable, drop_field, truncate):
    import scipy.io

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "92_brainRDMs.mat"
        entry = {"name": name} if drop_field else {"RDM": rdm, "name": name}
        try:
            scipy.io.savemat(path, {variable: [entry, entry]})
        except Exception:  # scipy cannot write every generated value: nothing to test
            return
        if truncate is not None:
            raw = path.read_bytes()
            path.write_bytes(raw[: int(len(raw) * truncate)])
        for sessions in ("separate", "mean"):
            _only_data_error(load_rdms, path, sessions=sessions)


@FUZZ
@given(
    image=hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.float64, np.int16]),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
    ),
    category=st.one_of(st.text(max_size=5), st.integers()),
    flag=st.one_of(st.integers(-2, 3), st.floats(allow_nan=True)),
    vectors=arrays,
    drop=st.sampled_from([None, "stimuli_92objs", "categoryVectors", "categoryLabels"]),
)
def test_mat_stimuli_fuzz(image, category, flag, vectors, drop):
    import scipy.io

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Kriegeskorte_Neuron2008_supplementalData.mat"
        obj = {
            "category": category,
            "human": flag,
            "face": 0,
            "animal": 1,
            "natural": 1,
            "image": image,
        }
        contents = {
            "stimuli_92objs": [obj, obj],
            "categoryVectors": vectors,
            "categoryLabels": np.array(["animate", "face"], dtype=object),
        }
        if drop:
            del contents[drop]
        try:
            scipy.io.savemat(path, contents)
        except Exception:  # scipy cannot write every generated value: nothing to test
            return
        _only_data_error(load_rdm_stimuli, path)
        _only_data_error(load_rdm_categories, path)


@pytest.fixture(scope="module")
def nifti_bytes():
    import nibabel as nib

    rng = np.random.default_rng(0)
    img = nib.Nifti1Image(rng.normal(size=(3, 4, 2, 5)).astype(np.float32), np.eye(4))
    img.header.set_xyzt_units("mm", "sec")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bold.nii"
        img.to_filename(path)
        return path.read_bytes()


@settings(FUZZ, max_examples=25)
@given(
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
    mask_shape=st.sampled_from([(3, 4, 2), (3, 4, 3), (2, 2)]),
    truncate=st.booleans(),
)
def test_nifti_fuzz(nifti_bytes, cut, flips, mask_shape, truncate):
    import nibabel as nib

    raw = bytearray(nifti_bytes)
    for pos, value in flips:
        raw[pos % len(raw)] = value
    if truncate:
        raw = raw[: int(len(raw) * cut)]
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "bold.nii", bytes(raw))
        mask = Path(tmp) / "mask.nii"
        nib.Nifti1Image(np.ones(mask_shape, np.uint8), np.eye(4)).to_filename(mask)
        _only_data_error(load_responses, path, mask=mask)
