"""RDM loaders on the real 92-image collections (counts from the folders' READMEs)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from cogattn.data import (
    STIMULUS_NAMES_92,
    DataError,
    load,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
    save,
)


@pytest.fixture(scope="module")
def k92(shared_data):
    return shared_data / "kriegeskorte92"


@pytest.fixture(scope="module")
def alg(shared_data):
    return shared_data / "algonauts2019_92images"


def test_kriegeskorte_brain_rdms_subjects_and_sessions(k92):
    # README: 4 subjects (BE, KO, SN, TI) x 2 sessions, human IT, 92x92, 1 - Pearson r.
    ds = load_rdms(k92 / "92_brainRDMs.mat")
    assert dict(ds.sizes) == {"subject": 8, "stimulus": 92, "stimulus_": 92}
    assert str(ds["roi"].values) == "hIT"
    assert ds.attrs["measure"] == "1 - pearson"
    assert sorted(set(ds["participant"].values)) == ["BE", "KO", "SN", "TI"]
    assert ds["session"].values.tolist() == [1, 2] * 4
    assert ds["stimulus"].values.tolist() == list(STIMULUS_NAMES_92)
    mean = load_rdms(k92 / "92_brainRDMs.mat", sessions="mean")
    assert mean["subject"].values.tolist() == ["BE", "KO", "SN", "TI"]
    be = ds["dissimilarity"].values[:2].mean(axis=0)
    np.testing.assert_allclose(mean["dissimilarity"].values[0], be)
    # a folder means its brain RDMs
    assert load_rdms(k92).sizes["subject"] == 8


def test_kriegeskorte_condensed_vectors_use_squareform_order(k92):
    # The paper's monkey-IT group RDM is stored twice: condensed in the supplement and square
    # in the model RDMs ("monkeyIT"). Expanding with the squareform convention must give the
    # square copy exactly, which checks the vector ordering.
    sup = load_rdms(k92 / "Kriegeskorte_Neuron2008_supplementalData.mat")
    assert sup["subject"].values.tolist() == ["mIT_674neurons", "hITvisStim_316vx"]
    assert sup["species"].values.tolist() == ["monkey", "human"]
    models = load_rdms(k92 / "92_modelRDMs.mat")
    assert models.sizes["subject"] == 8 and str(models["roi"].values) == "model"
    np.testing.assert_array_equal(
        sup["dissimilarity"].values[0], models["dissimilarity"].sel(subject="monkeyIT").values
    )
    np.testing.assert_array_equal(
        squareform(sup["dissimilarity"].values[1], checks=False),
        sup.rdms.upper_triangle()[1],
    )
    assert load_rdms(k92, roi="mIT")["subject"].values.tolist() == ["mIT_674neurons"]


def test_behavioural_rdms(k92):
    ds = load_rdms(k92 / "92_behavRDMs.mat")
    assert ds.sizes["subject"] == 16  # README: 16 subjects
    assert str(ds["roi"].values) == "behaviour"


@pytest.mark.parametrize("roi", ["IT", "EVC"])
def test_algonauts_rdms(alg, roi):
    # README: key Net_RDM, float64 (15, 92, 92) per ROI.
    ds = load_rdms(alg / f"fmri_{roi}_RDMs.npz")
    assert dict(ds.sizes) == {"subject": 15, "stimulus": 92, "stimulus_": 92}
    assert str(ds["roi"].values) == roi
    raw = np.load(alg / f"fmri_{roi}_RDMs.npz")["Net_RDM"]
    np.testing.assert_array_equal(ds["dissimilarity"].values, raw)
    assert load_rdms(alg, roi=roi.lower()).identical(ds)


def test_mean_it_rdms_agree_across_collections(k92, alg):
    # README check: mean hIT (Kriegeskorte) vs mean IT (Cichy) Spearman r = 0.56; vs EVC 0.13.
    from scipy.stats import spearmanr

    hit = load_rdms(k92).rdms.mean()
    iu = np.triu_indices(92, k=1)
    it = load_rdms(alg, roi="IT").rdms.mean()
    evc = load_rdms(alg, roi="EVC").rdms.mean()
    assert spearmanr(hit[iu], it[iu])[0] == pytest.approx(0.56, abs=0.01)
    assert spearmanr(hit[iu], evc[iu])[0] == pytest.approx(0.13, abs=0.01)


def test_folder_needs_roi_when_ambiguous(alg):
    with pytest.raises(ValueError, match="EVC"):
        load_rdms(alg)


def test_stimuli_same_images_same_order(k92, alg):
    ki, kn = load_rdm_stimuli(k92)
    ai, an = load_rdm_stimuli(alg)
    assert kn == an == list(STIMULUS_NAMES_92)
    assert all(im.shape == (175, 175, 3) and im.dtype == np.uint8 for im in ki + ai)
    # kriegeskorte images sit on grey (128), the algonauts JPEGs on white: compare the
    # foreground only; each image's nearest neighbour in the other set is itself.
    k = np.stack(ki)[:, ::3, ::3].astype(float)
    a = np.stack(ai)[:, ::3, ::3].astype(float)
    fg = (~(k == 128).all(-1)).astype(float)[..., None]
    diff = np.abs(k[:, None] - a[None]) * fg[:, None]
    dist = diff.sum(axis=(2, 3, 4)) / fg.sum(axis=(1, 2, 3))[:, None]
    assert (dist.argmin(axis=1) == np.arange(92)).all()
    assert load_rdm_stimuli(alg / "stimuli" / "image_03.jpg")[1] == ["image_03"]


def test_categories(k92, alg):
    cats = load_rdm_categories(k92)
    assert cats.shape[0] == 92
    assert cats.index[0] == "image_01"
    # 92-image layout: 12 human bodies, 12 human faces, 12 animal bodies, 12 animal faces.
    counts = cats["category"].value_counts()
    for name in ("human bodypart", "human face", "nonhuman bodypart", "nonhuman face"):
        assert counts[name] == 12
    assert (cats["animate"] == cats["animal"]).all()
    with pytest.raises(DataError, match="kriegeskorte92"):
        load_rdm_categories(alg)


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_rdms_round_trip(k92, tmp_path, suffix):
    ds = load_rdms(k92 / "92_brainRDMs.mat")
    out = save(ds, tmp_path / f"rdms{suffix}")
    back = load(out)
    assert back.identical(ds)
    assert load_rdms(out).identical(ds)


def test_generic_npy_and_condensed_mat(tmp_path, rng):
    import scipy.io

    x = rng.normal(size=(6, 4))
    d = squareform(np.linalg.norm(x[:, None] - x[None], axis=-1), checks=False)
    np.save(tmp_path / "one.npy", squareform(d))
    ds = load_rdms(tmp_path / "one.npy", roi="V1")
    assert str(ds["roi"].values) == "V1" and ds.sizes["subject"] == 1
    scipy.io.savemat(tmp_path / "c.mat", {"rdm": {"RDM": d, "name": "toy"}})
    ds = load_rdms(tmp_path / "c.mat")
    np.testing.assert_allclose(ds["dissimilarity"].values[0], squareform(d))
    assert ds["subject"].values.tolist() == ["toy"]


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.ones((3, 4, 4)), "diagonal"),
        (np.array([[[0, 1, 2], [1.5, 0, 1], [2, 1, 0]]]), "symmetric"),
        (np.zeros((2, 3, 4)), "square"),
        (np.array([[[0, np.inf], [np.inf, 0]]]), "finite"),
    ],
)
def test_bad_rdms_raise_data_error(tmp_path, array, match):
    path = tmp_path / "fmri_IT_RDMs.npz"
    np.savez(path, Net_RDM=array)
    with pytest.raises(DataError, match=match) as info:
        load_rdms(path)
    assert str(path) in str(info.value)
