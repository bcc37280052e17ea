"""Loaders for representational dissimilarity matrices (RDMs) and the 92-image stimulus set.

Two real RDM collections share one stimulus set, the 92 object images of Kriegeskorte et al.
(2008), in the same order:

``kriegeskorte92`` (MATLAB RSA-toolbox demo data; Kriegeskorte, Mur et al. 2008, Neuron 60:1126;
Mur et al. 2013, Front. Psychol.)
    - ``92_brainRDMs.mat``: variable ``RDMs``, a 4 × 2 struct array (subject × session) of human
      IT RDMs (``1 - Pearson r`` between voxel patterns), names ``"hIT | BE | Session: 1"``.
      By default each session is kept as its own entry: ``subject`` labels ``"BE-s1"``,
      ``"BE-s2"``, ..., with the extra coords ``participant`` (``"BE"``) and ``session`` (1, 2)
      along ``subject``. ``sessions="mean"`` averages the two sessions of each participant
      (labels ``"BE"``, ``"KO"``, ``"SN"``, ``"TI"``) — use that when subjects must be
      independent (leave-one-subject-out noise ceilings).
    - ``Kriegeskorte_Neuron2008_supplementalData.mat``: ``RDMs_mIT_hIT_fig1``, the two group RDMs
      of the paper's Fig. 1 (monkey IT, 674 neurons; human IT, 316 voxels) stored as condensed
      upper-triangle vectors of 4186 = 92·91/2 values (MATLAB ``squareform`` order, the same as
      :func:`scipy.spatial.distance.squareform`); returned as square matrices with ``subject``
      labels ``"mIT_674neurons"`` and ``"hITvisStim_316vx"``, ``roi="IT"`` and a ``species``
      coord. ``roi="mIT"`` or ``roi="hIT"`` selects one of them.
    - ``92_behavRDMs.mat``: ``rdms_behav_92``, 16 subjects' dissimilarity judgements
      (``roi="behaviour"``).
    - ``92_modelRDMs.mat``: ``Models``, 8 model RDMs (animacy, FaceBodyManmadeNatobj, monkeyIT,
      EVA, HMAX, V1, Silhouette, RADON); the model names are the ``subject`` labels and
      ``roi="model"``.

``algonauts2019_92images`` (Net2Brain copy of the Algonauts 2019 test set; fMRI of Cichy,
Pantazis & Oliva 2014, Nat. Neurosci.)
    - ``fmri_EVC_RDMs.npz`` / ``fmri_IT_RDMs.npz``: key ``Net_RDM``, float64 (15, 92, 92), one
      RDM per subject (``1 - Pearson r``); the ROI comes from the file name.

The 92 stimuli are labelled ``"image_01"`` … ``"image_92"`` in both collections (the algonauts
JPEG names), so RDMs from either folder and model RDMs computed on
:func:`load_rdm_stimuli` images line up on the ``stimulus`` coord.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cogattn.data.errors import DataError
from cogattn.data.loaders._common import (
    as_path,
    check_option,
    mat_field,
    natural_key,
    read_mat,
    read_npy,
    read_npz,
    reraise_as_data_error,
)
from cogattn.data.rdms import rdms

__all__ = [
    "N_92",
    "STIMULUS_NAMES_92",
    "load_rdm_categories",
    "load_rdm_stimuli",
    "load_rdms",
]

logger = logging.getLogger(__name__)

N_92 = 92
#: Labels of the 92 Kriegeskorte/Cichy stimuli (the algonauts JPEG file stems), in order.
STIMULUS_NAMES_92: tuple[str, ...] = tuple(f"image_{i:02d}" for i in range(1, N_92 + 1))

_BRAIN_MAT = "92_brainRDMs.mat"
_SUPPLEMENT_MAT = "Kriegeskorte_Neuron2008_supplementalData.mat"
_NET2BRAIN_KEY = "Net_RDM"
_NET2BRAIN_NAME = re.compile(r"^fmri_(?P<roi>[A-Za-z0-9]+)_RDMs\.npz$")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
_MEASURE_PEARSON = "1 - pearson"


@dataclass
class _Entry:
    name: str
    matrix: np.ndarray
    roi: str = ""


def load_rdms(
    path: str | os.PathLike,
    *,
    roi: str | None = None,
    sessions: str = "separate",
) -> xr.Dataset:
    """Load RDMs from a file (or a folder holding one) into an ``RDMs`` dataset.

    Supported: the ``kriegeskorte92`` ``.mat`` files, the Net2Brain / algonauts ``.npz`` files
    (key ``Net_RDM``), any ``.npz`` with one array or ``.npy`` of shape ``(subject, n, n)`` or
    ``(n, n)``, any ``.mat`` holding struct arrays with an ``RDM`` field (square or condensed)
    or square numeric matrices, and ``.nc`` / ``.zarr`` written by :func:`cogattn.data.save`.
    The module docstring states the conventions of each real file.

    Parameters
    ----------
    path : path-like
        A file, or a folder: ``kriegeskorte92/`` means ``92_brainRDMs.mat`` (``roi`` None or
        ``"hIT"``; ``"mIT"`` means the supplemental file); ``algonauts2019_92images/`` needs
        ``roi="IT"`` or ``roi="EVC"`` (the ``fmri_<ROI>_RDMs.npz`` file).
    roi : str, optional
        Which region to load where a file or folder holds several (case-insensitive). For
        files that do not record their region (a plain ``.npy``), it is the label given to
        the result.
    sessions : {"separate", "mean"}
        For ``92_brainRDMs.mat``: keep the two sessions of each participant as separate
        entries (default), or average them (4 subjects).

    Returns
    -------
    xarray.Dataset
        ``RDMs`` schema (``subject × stimulus × stimulus_``, scalar coord ``roi``, attrs
        ``measure`` and ``source``).

    Raises
    ------
    DataError
        When the file is malformed (not square, not symmetric, non-zero diagonal, NaN/inf,
        unreadable), naming the file and the entry.

    Examples
    --------
    >>> ds = load_rdms("kriegeskorte92/92_brainRDMs.mat")  # doctest: +SKIP
    >>> ds.sizes["subject"], ds["participant"].values[:2].tolist()  # doctest: +SKIP
    (8, ['BE', 'BE'])
    """
    check_option("sessions", sessions, ("separate", "mean"))
    if roi is not None and not isinstance(roi, str):
        raise TypeError(f"roi must be a str or None, got {type(roi).__name__}")
    p = as_path(path, kind="file or folder")
    if p.is_dir() and p.suffix.lower() != ".zarr":
        p, roi = _file_in_folder(p, roi)
    suffix = p.suffix.lower()
    if suffix in (".nc", ".zarr"):
        return _load_saved(p, roi)
    if suffix == ".npz":
        return _load_npz(p, roi)
    if suffix == ".npy":
        return _load_npy(p, roi)
    if suffix == ".mat":
        return _load_mat(p, roi, sessions)
    raise DataError(
        f"not an RDM file (expected .mat, .npz, .npy, .nc or .zarr, got {suffix or 'no suffix'!r})",
        path=p,
    )


def _file_in_folder(folder: Path, roi: str | None) -> tuple[Path, str | None]:
    if (folder / _BRAIN_MAT).is_file() or (folder / _SUPPLEMENT_MAT).is_file():
        if (roi is None or roi.lower() == "hit") and (folder / _BRAIN_MAT).is_file():
            return folder / _BRAIN_MAT, None
        if (
            roi is not None
            and roi.lower() in ("mit", "it")
            and (folder / _SUPPLEMENT_MAT).is_file()
        ):
            return folder / _SUPPLEMENT_MAT, roi
        raise ValueError(
            f"{str(folder)!r} holds the Kriegeskorte 2008 RDMs: roi must be None or 'hIT' "
            f"({_BRAIN_MAT}), 'mIT' or 'IT' ({_SUPPLEMENT_MAT}), got {roi!r}; "
            "pass a file path for the behavioural or model RDMs"
        )
    npz = {}
    for f in sorted(folder.glob("*.npz")):
        m = _NET2BRAIN_NAME.match(f.name)
        if m:
            npz[m.group("roi").lower()] = (m.group("roi"), f)
    if npz:
        available = sorted(v[0] for v in npz.values())
        if roi is None or roi.lower() not in npz:
            raise ValueError(
                f"{str(folder)!r} holds RDMs for several regions: pass roi= one of {available}, got {roi!r}"
            )
        return npz[roi.lower()][1], None
    raise ValueError(
        f"no known RDM file in folder {str(folder)!r} (expected {_BRAIN_MAT} or fmri_<ROI>_RDMs.npz); "
        "pass the path of an RDM file"
    )


def _stimulus_labels(n: int) -> Any:
    return list(STIMULUS_NAMES_92) if n == N_92 else None


def _square(value: Any, *, path: Path, record: Any, field: str) -> np.ndarray:
    """A square float matrix from a square array or a condensed upper-triangle vector."""
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "iufb":
            raise TypeError(f"dtype {raw.dtype}")
        arr = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"expected a real-valued numeric matrix, got {type(value).__name__} "
            f"{getattr(value, 'dtype', '')}".rstrip(),
            path=path,
            record=record,
            field=field,
        ) from None
    if arr.ndim == 1:
        m = arr.shape[0]
        n = round((1 + float(np.sqrt(1 + 8 * m))) / 2)
        if m == 0 or n * (n - 1) // 2 != m:
            raise DataError(
                f"a 1-D RDM must be a condensed upper triangle of n*(n-1)/2 values, got {m} values",
                path=path,
                record=record,
                field=field,
            )
        out = np.zeros((n, n))
        iu = np.triu_indices(n, k=1)
        out[iu] = arr
        out[(iu[1], iu[0])] = arr
        return out
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2:
        raise DataError(
            f"expected a square (n, n) matrix with n >= 2 or a condensed vector, got shape {arr.shape}",
            path=path,
            record=record,
            field=field,
        )
    return arr


def _build(
    entries: list[_Entry],
    *,
    path: Path,
    roi: str,
    measure: str,
    variable: str,
    attrs: dict[str, Any] | None = None,
    extra_coords: dict[str, Any] | None = None,
) -> xr.Dataset:
    if not entries:
        raise DataError("no RDMs found", path=path, field=variable)
    sizes = {e.matrix.shape[0] for e in entries}
    if len(sizes) != 1:
        raise DataError(
            f"all RDMs must have the same number of stimuli, got sizes {sorted(sizes)}",
            path=path,
            field=variable,
        )
    stack = np.stack([e.matrix for e in entries])
    with reraise_as_data_error(path, "RDMs"):
        try:
            ds = rdms(
                stack,
                subject=[e.name for e in entries],
                stimulus=_stimulus_labels(stack.shape[1]),
                roi=roi,
                measure=measure,
                source=path.name,
                attrs=attrs,
            )
        except DataError as err:
            record = err.record
            if isinstance(record, int) and 0 <= record < len(entries):
                record = entries[record].name
            raise DataError(err.reason, path=path, record=record, field=variable) from None
    if extra_coords:
        ds = ds.assign_coords({k: ("subject", np.asarray(v)) for k, v in extra_coords.items()})
    return ds


def _load_saved(path: Path, roi: str | None) -> xr.Dataset:
    from cogattn.data._common import schema_of
    from cogattn.data.io import load

    ds = load(path)
    if schema_of(ds) != "rdms":
        raise DataError(f"expected an 'rdms' dataset, got schema {schema_of(ds)!r}", path=path)
    if roi is not None and str(ds["roi"].values).lower() != roi.lower():
        raise ValueError(f"{str(path)!r} holds roi {str(ds['roi'].values)!r}, not {roi!r}")
    return ds


def _array_entries(arr: np.ndarray, *, path: Path, field: str) -> list[_Entry]:
    if arr.dtype.kind not in "iufb":
        raise DataError(f"expected a numeric array, got dtype {arr.dtype}", path=path, field=field)
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2]:
        raise DataError(
            f"expected (subject, n, n) or (n, n) square matrices, got shape {arr.shape}",
            path=path,
            field=field,
        )
    return [_Entry(f"{i}", _square(m, path=path, record=i, field=field)) for i, m in enumerate(arr)]


def _load_npz(path: Path, roi: str | None) -> xr.Dataset:
    arrays = read_npz(path)
    if _NET2BRAIN_KEY in arrays:
        key = _NET2BRAIN_KEY
    elif len(arrays) == 1:
        key = next(iter(arrays))
    else:
        raise DataError(
            f"expected the key {_NET2BRAIN_KEY!r} or a single array, got keys {sorted(arrays)}",
            path=path,
        )
    m = _NET2BRAIN_NAME.match(path.name)
    file_roi = m.group("roi") if m else None
    if file_roi is not None and roi is not None and roi.lower() != file_roi.lower():
        raise ValueError(f"{str(path)!r} holds roi {file_roi!r}, not {roi!r}")
    entries = _array_entries(arrays[key], path=path, field=key)
    for i, e in enumerate(entries):
        e.name = f"sub-{i + 1:02d}" if key == _NET2BRAIN_KEY else str(i)
    attrs = {}
    measure = ""
    if key == _NET2BRAIN_KEY:
        measure = _MEASURE_PEARSON
        attrs["reference"] = (
            "Cichy, Pantazis & Oliva 2014 Nat Neurosci (fMRI); Algonauts 2019 via Net2Brain"
        )
        attrs["species"] = "human"
    return _build(
        entries,
        path=path,
        roi=file_roi or roi or "",
        measure=measure,
        variable=key,
        attrs=attrs,
    )


def _load_npy(path: Path, roi: str | None) -> xr.Dataset:
    arr = read_npy(path)
    entries = _array_entries(arr, path=path, field="array")
    return _build(entries, path=path, roi=roi or "", measure="", variable="array")


def _struct_entries(value: Any, *, path: Path, variable: str) -> list[_Entry]:
    items = list(np.ravel(value)) if isinstance(value, np.ndarray) else [value]
    entries = []
    for i, item in enumerate(items):
        matrix = mat_field(item, "RDM", path=path, record=i, variable=variable)
        name = getattr(item, "name", str(i)) if "name" in getattr(item, "_fieldnames", []) else i
        if not isinstance(name, str):
            name = str(i)
        entries.append(_Entry(name.strip(), _square(matrix, path=path, record=i, field=variable)))
    return entries


def _is_struct_array(value: Any) -> bool:
    if hasattr(value, "_fieldnames"):
        return "RDM" in value._fieldnames
    if isinstance(value, np.ndarray) and value.dtype == object and value.size:
        first = value.flat[0]
        return hasattr(first, "_fieldnames") and "RDM" in first._fieldnames
    return False


def _load_mat(path: Path, roi: str | None, sessions: str) -> xr.Dataset:
    data = read_mat(path)
    if "RDMs" in data and _is_struct_array(data["RDMs"]):
        return _brain_rdms(path, data["RDMs"], roi, sessions)
    if "RDMs_mIT_hIT_fig1" in data:
        return _supplement_rdms(path, data["RDMs_mIT_hIT_fig1"], roi)
    if "rdms_behav_92" in data:
        entries = _struct_entries(data["rdms_behav_92"], path=path, variable="rdms_behav_92")
        for e in entries:
            e.name = e.name.split("|")[-1].strip()
        _check_roi(path, roi, ("behaviour", "behavior"))
        return _build(
            entries,
            path=path,
            roi="behaviour",
            measure="dissimilarity judgements (multi-arrangement)",
            variable="rdms_behav_92",
            attrs={"reference": "Mur et al. 2013 Front Psychol", "species": "human"},
        )
    if "Models" in data and _is_struct_array(data["Models"]):
        entries = _struct_entries(data["Models"], path=path, variable="Models")
        _check_roi(path, roi, ("model",))
        return _build(
            entries,
            path=path,
            roi="model",
            measure="per model (categorical 0/1 or 1 - pearson); subject = model name",
            variable="Models",
            attrs={"reference": "Kriegeskorte et al. 2008 Neuron (RSA toolbox demo models)"},
        )
    # Generic .mat: a single struct array with an RDM field, or square numeric matrices.
    structs = [k for k, v in data.items() if _is_struct_array(v)]
    if len(structs) == 1:
        entries = _struct_entries(data[structs[0]], path=path, variable=structs[0])
        return _build(entries, path=path, roi=roi or "", measure="", variable=structs[0])
    numeric = {
        k: v
        for k, v in data.items()
        if isinstance(v, np.ndarray) and v.dtype.kind in "iuf" and v.ndim in (2, 3)
    }
    if len(structs) == 0 and len(numeric) == 1:
        key = next(iter(numeric))
        entries = _array_entries(numeric[key], path=path, field=key)
        return _build(entries, path=path, roi=roi or "", measure="", variable=key)
    raise DataError(
        "no RDMs found: expected a variable 'RDMs', 'RDMs_mIT_hIT_fig1', 'rdms_behav_92', "
        "'Models', one struct array with an 'RDM' field, or one numeric (n, n) / (s, n, n) "
        f"array; got variables {sorted(data)}",
        path=path,
    )


def _check_roi(path: Path, roi: str | None, accepted: tuple[str, ...]) -> None:
    if roi is not None and roi.lower() not in accepted:
        raise ValueError(f"{str(path)!r} holds roi {accepted[0]!r}, not {roi!r}")


_BRAIN_NAME = re.compile(
    r"^\s*(?P<roi>[^|]+?)\s*\|\s*(?P<subject>[^|]+?)\s*\|\s*Session:\s*(?P<session>\d+)\s*$"
)


def _brain_rdms(path: Path, value: Any, roi: str | None, sessions: str) -> xr.Dataset:
    entries = _struct_entries(value, path=path, variable="RDMs")
    participants, session_ids, rois = [], [], set()
    for i, e in enumerate(entries):
        m = _BRAIN_NAME.match(e.name)
        if not m:
            raise DataError(
                f"expected a name like 'hIT | BE | Session: 1', got {e.name!r}",
                path=path,
                record=i,
                field="RDMs.name",
            )
        participants.append(m.group("subject"))
        session_ids.append(int(m.group("session")))
        rois.add(m.group("roi"))
    if len(rois) != 1:
        raise DataError(f"expected one region, got {sorted(rois)}", path=path, field="RDMs.name")
    region = rois.pop()
    _check_roi(path, roi, (region.lower(),))
    attrs = {
        "reference": "Kriegeskorte, Mur et al. 2008 Neuron 60:1126 (human IT fMRI)",
        "species": "human",
    }
    if sessions == "separate":
        for e, p, s in zip(entries, participants, session_ids):
            e.name = f"{p}-s{s}"
        attrs["sessions"] = "separate (subject = participant-session; see coords)"
        return _build(
            entries,
            path=path,
            roi=region,
            measure=_MEASURE_PEARSON,
            variable="RDMs",
            attrs=attrs,
            extra_coords={
                "participant": np.array(participants, dtype=object),
                "session": np.array(session_ids, dtype=np.int64),
            },
        )
    order = list(dict.fromkeys(participants))
    averaged = []
    counts = []
    for p in order:
        members = [e.matrix for e, q in zip(entries, participants) if q == p]
        counts.append(len(members))
        averaged.append(_Entry(p, np.mean(members, axis=0)))
    attrs["sessions"] = "mean over sessions per participant"
    attrs["n_sessions_averaged"] = [int(c) for c in counts]
    return _build(
        averaged,
        path=path,
        roi=region,
        measure=_MEASURE_PEARSON,
        variable="RDMs",
        attrs=attrs,
    )


def _supplement_rdms(path: Path, value: Any, roi: str | None) -> xr.Dataset:
    entries = _struct_entries(value, path=path, variable="RDMs_mIT_hIT_fig1")
    species = []
    for e in entries:
        species.append(
            "monkey"
            if e.name.lower().startswith("mit")
            else "human"
            if e.name.lower().startswith("hit")
            else ""
        )
    if roi is not None:
        key = roi.lower()
        if key not in ("it", "mit", "hit"):
            raise ValueError(f"{str(path)!r} holds roi 'IT' (and 'mIT' / 'hIT'), not {roi!r}")
        if key != "it":
            keep = [i for i, e in enumerate(entries) if e.name.lower().startswith(key)]
            if not keep:
                raise DataError(f"no entry named {roi}*", path=path, field="RDMs_mIT_hIT_fig1")
            entries = [entries[i] for i in keep]
            species = [species[i] for i in keep]
    return _build(
        entries,
        path=path,
        roi="IT",
        measure=_MEASURE_PEARSON,
        variable="RDMs_mIT_hIT_fig1",
        attrs={
            "reference": "Kriegeskorte, Mur et al. 2008 Neuron 60:1126, Fig. 1 (group RDMs)",
            "note": "condensed vectors expanded with the squareform convention",
        },
        extra_coords={"species": np.array(species, dtype=object)},
    )


# --------------------------------------------------------------------------------------
# Stimuli and categories


def _supplement_file(p: Path) -> Path | None:
    if p.is_file() and p.suffix.lower() == ".mat":
        return p
    if p.is_dir() and (p / _SUPPLEMENT_MAT).is_file():
        return p / _SUPPLEMENT_MAT
    return None


def _image_folder(p: Path) -> Path | None:
    for folder in (p / "stimuli", p):
        if folder.is_dir() and any(
            f.suffix.lower() in _IMAGE_SUFFIXES for f in folder.iterdir() if f.is_file()
        ):
            return folder
    return None


def load_rdm_stimuli(path: str | os.PathLike) -> tuple[list[np.ndarray], list[str]]:
    """Load the stimulus images of an RDM collection, in RDM order.

    Parameters
    ----------
    path : path-like
        ``kriegeskorte92/`` (or its ``Kriegeskorte_Neuron2008_supplementalData.mat``): the 92
        images embedded as ``stimuli_92objs[i].image`` (uint8 175×175×3); or
        ``algonauts2019_92images/`` (or its ``stimuli/`` folder, or any folder of images): the
        image files in natural order (``image_2`` before ``image_10``).

    Returns
    -------
    images : list of numpy.ndarray
        ``(H, W, 3)`` uint8 RGB arrays.
    names : list of str
        ``"image_01"`` … ``"image_92"`` for the 92-image set (the same labels as the
        ``stimulus`` coord of :func:`load_rdms`); file stems for other folders.

    Examples
    --------
    >>> images, names = load_rdm_stimuli("kriegeskorte92")  # doctest: +SKIP
    >>> len(images), images[0].shape, names[0]  # doctest: +SKIP
    (92, (175, 175, 3), 'image_01')
    """
    p = as_path(path, kind="file or folder")
    mat = _supplement_file(p)
    if mat is not None:
        data = read_mat(mat)
        if "stimuli_92objs" not in data:
            raise DataError(
                f"missing variable 'stimuli_92objs' (got {sorted(data)})",
                path=mat,
                field="stimuli_92objs",
            )
        items = np.ravel(np.asarray(data["stimuli_92objs"], dtype=object))
        images = []
        for i, item in enumerate(items):
            img = np.asarray(
                mat_field(item, "image", path=mat, record=i, variable="stimuli_92objs")
            )
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
                raise DataError(
                    f"expected a uint8 (H, W, 3) image, got {img.dtype} {img.shape}",
                    path=mat,
                    record=i,
                    field="stimuli_92objs.image",
                )
            images.append(np.ascontiguousarray(img))
        names = (
            list(STIMULUS_NAMES_92)
            if len(images) == N_92
            else [f"image_{i + 1:02d}" for i in range(len(images))]
        )
        return images, names
    if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES:
        files = [p]
    else:
        folder = _image_folder(p) if p.is_dir() else None
        if folder is None:
            raise DataError(
                f"no stimuli found: expected {_SUPPLEMENT_MAT}, a 'stimuli/' folder or image files "
                f"({', '.join(_IMAGE_SUFFIXES)})",
                path=p,
            )
        files = sorted(
            (f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in _IMAGE_SUFFIXES),
            key=lambda f: natural_key(f.name),
        )
    images = [_read_image(f) for f in files]
    names = [f.stem for f in files]
    return images, names


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    with reraise_as_data_error(path, "an image"), Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def load_rdm_categories(path: str | os.PathLike):  # -> pandas.DataFrame
    """Category labels of the 92 Kriegeskorte stimuli.

    Parameters
    ----------
    path : path-like
        ``kriegeskorte92/`` or its ``Kriegeskorte_Neuron2008_supplementalData.mat``. (The
        algonauts folder holds no labels; its images are the same, in the same order, so use
        the kriegeskorte92 labels for it.)

    Returns
    -------
    pandas.DataFrame
        One row per stimulus, indexed by ``"image_01"`` … ``"image_92"``: ``category`` (str,
        e.g. ``"human face"``), booleans ``human``, ``face``, ``animal``, ``natural`` (from
        ``stimuli_92objs``) and one boolean column per ``categoryLabels`` entry
        (``animate``, ``inanim``, ``human``, ... from ``categoryVectors``; columns whose name
        repeats one above get a ``cat_`` prefix).
    """
    import pandas as pd

    p = as_path(path, kind="file or folder")
    mat = _supplement_file(p)
    if mat is None:
        raise DataError(
            f"no category labels here: expected {_SUPPLEMENT_MAT} (the algonauts folder has the "
            "same 92 images in the same order but no labels; use the kriegeskorte92 folder)",
            path=p,
        )
    data = read_mat(mat)
    for key in ("stimuli_92objs", "categoryVectors", "categoryLabels"):
        if key not in data:
            raise DataError(f"missing variable (got {sorted(data)})", path=mat, field=key)
    items = np.ravel(np.asarray(data["stimuli_92objs"], dtype=object))
    table: dict[str, list[Any]] = {"category": []}
    flags = ("human", "face", "animal", "natural")
    for f in flags:
        table[f] = []
    for i, item in enumerate(items):
        cat = mat_field(item, "category", path=mat, record=i, variable="stimuli_92objs")
        if not isinstance(cat, str):
            raise DataError(
                f"expected a string, got {type(cat).__name__}",
                path=mat,
                record=i,
                field="stimuli_92objs.category",
            )
        table["category"].append(cat)
        for f in flags:
            v = mat_field(item, f, path=mat, record=i, variable="stimuli_92objs")
            if np.ndim(v) != 0 or v not in (0, 1):
                raise DataError(
                    f"expected 0 or 1, got {v!r}", path=mat, record=i, field=f"stimuli_92objs.{f}"
                )
            table[f].append(bool(v))
    vectors = np.asarray(data["categoryVectors"])
    labels = [str(s) for s in np.ravel(np.asarray(data["categoryLabels"], dtype=object))]
    if vectors.ndim != 2 or vectors.shape != (len(items), len(labels)):
        raise DataError(
            f"expected shape ({len(items)}, {len(labels)}) (stimulus × label), got {vectors.shape}",
            path=mat,
            field="categoryVectors",
        )
    for j, label in enumerate(labels):
        column = f"cat_{label}" if label in table else label
        table[column] = [bool(v) for v in vectors[:, j]]
    index = (
        list(STIMULUS_NAMES_92)
        if len(items) == N_92
        else [f"image_{i + 1:02d}" for i in range(len(items))]
    )
    return pd.DataFrame(table, index=pd.Index(index, name="stimulus"))
