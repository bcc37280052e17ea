"""eccNET: eccentricity pooling (spec worked consequences), VGG surgery, search loop invariants."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cogattn.gaze import create_model
from cogattn.gaze.models._search import SearchConfig
from cogattn.gaze.models.eccnet import (
    IVSN,
    EccentricityConfig,
    EccentricityPool2d,
    EccNet,
    EccVGG,
    combine_attention,
    ring_masks,
    same_pool2d,
    tiny_vgg,
)
from cogattn.gaze.models.search_baselines import ChanceSearch, PixelMatch, pixel_match_map
from cogattn.stimuli.search_arrays import SearchDisplay, object_array


# ------------------------------------------------------------------ ring masks (spec §1a)
def test_ring_masks_1600px_match_spec_worked_consequences():
    # spec: for a 1600x1600 input, layers 1-2 have 23-24 rings all of size 2 (slope 0);
    # layers 3-5 have 22 rings with pool sizes 2,3,3,4,... up to 14-15 at the border.
    sizes = {layer: ring_masks(1600 // 2 ** (layer - 1), layer)[1] for layer in range(1, 6)}
    assert len(sizes[1]) == 24 and len(sizes[2]) == 23
    assert set(sizes[1].tolist()) == {2} and set(sizes[2].tolist()) == {2}
    for layer in (3, 4, 5):
        assert len(sizes[layer]) == 22
        assert sizes[layer][:4].tolist() == [2, 3, 3, 4]
        assert np.all(np.diff(sizes[layer]) >= 0)  # pool size grows with eccentricity
    assert sizes[3][-1] == 14 and sizes[4][-1] == 15 and sizes[5][-1] == 15


def test_ring_masks_224px_collapse_to_plain_pooling():
    # spec: for a 224 input the fovea covers the map at every layer -> plain 2x2 pooling
    for layer in range(1, 6):
        masks, sizes = ring_masks(224 // 2 ** (layer - 1), layer)
        assert sizes.tolist() == [2]
        assert masks.shape == (1, 112 // 2 ** (layer - 1), 112 // 2 ** (layer - 1))
        assert masks.all()


def test_ring_masks_partition_the_map():
    masks, _ = ring_masks(400, 3)
    assert masks.shape == (22, 200, 200)
    np.testing.assert_array_equal(masks.sum(axis=0), 1)  # disjoint and covering
    assert masks[0, 100, 100] and masks[-1, 0, 0]  # fovea at the centre, border outside


# ------------------------------------------------------------------ pooling primitives
def test_same_pool2d_hand_worked():
    x = torch.arange(9.0).view(1, 1, 3, 3)
    # TF 'same': output ceil(3/2)=2, the extra padding at bottom/right, averages of valid cells
    np.testing.assert_allclose(same_pool2d(x, 2, 2, "avg")[0, 0], [[2.0, 3.5], [6.5, 8.0]])
    np.testing.assert_allclose(same_pool2d(x, 2, 2, "max")[0, 0], [[4.0, 5.0], [7.0, 8.0]])
    # size 3: one pixel of padding on each side
    np.testing.assert_allclose(same_pool2d(x, 3, 2, "avg")[0, 0], [[2.0, 3.0], [5.0, 6.0]])


def test_eccentricity_pool_is_plain_pool_at_224_and_keeps_constants():
    pool = EccentricityPool2d(3, EccentricityConfig())
    x = torch.rand(1, 2, 56, 56)
    torch.testing.assert_close(pool(x), same_pool2d(x, 2, 2, "avg"))
    big = EccentricityPool2d(3, EccentricityConfig())  # 400 px at layer 3: rings up to 14 px
    const = torch.full((1, 1, 400, 400), 3.0)
    torch.testing.assert_close(big(const), torch.full((1, 1, 200, 200), 3.0))


# ------------------------------------------------------------------ network surgery
def test_eccvgg_map_resolutions():
    net = EccVGG(tiny_vgg(), EccentricityConfig(), ecc_depth=5)
    stim = net.stimulus_maps(torch.rand(2, 3, 80, 80))
    assert [tuple(m.shape[-2:]) for m in stim] == [(5, 5)] * 3  # 1/16
    assert [m.shape[1] for m in stim] == [16, 16, 16]
    tgt = net.target_maps(torch.rand(1, 3, 64, 64))
    assert [tuple(m.shape[-2:]) for m in tgt] == [(2, 2)] * 3  # 1/32: 64 px target -> 2x2


def test_timm_vgg_is_supported_and_other_architectures_are_rejected():
    timm = pytest.importorskip("timm")
    vgg = timm.create_model("vgg11", pretrained=False, mlp_ratio=0.01)
    net = EccVGG(vgg, EccentricityConfig())
    assert len(net.blocks) == 5
    resnet = timm.create_model("resnet10t", pretrained=False)
    with pytest.raises(ValueError, match="VGG"):
        EccVGG(resnet, EccentricityConfig())


def test_eccnet_through_the_backbone_registry_is_marked_untrained(caplog):
    model = EccNet("timm:vgg11", backbone_kwargs={"mlp_ratio": 0.01})
    assert model.weights_untrained
    disp = object_array([_square(8, v) for v in (40, 200)], target_index=1, image_size_px=(40, 40))
    ds = model.search(disp, progress=False)
    assert ds.attrs["weights_untrained"] == 1


def test_combine_attention_peaks_at_the_matching_location():
    # block maps: one channel, a bump at (3, 5); kernel 1x1 -> attention = the map itself
    maps = [torch.zeros(1, 8, 10) for _ in range(3)]
    for m in maps:
        m[0, 3, 5] = 1.0
    kernels = [torch.ones(1, 1, 1) for _ in range(3)]
    from cogattn.gaze.models.eccnet import TopDownConfig

    att = combine_attention(maps, kernels, TopDownConfig(dog_iterations=0))
    assert np.unravel_index(int(att.argmax()), att.shape) == (3, 5)
    assert float(att.max()) == pytest.approx(1.0)


def test_pixel_match_alignment_hand_worked():
    mean = np.array([123.68, 116.779, 103.939])
    img = np.broadcast_to(mean, (12, 15, 3)).copy()
    img[4, 9] += 100
    for k in (3, 4):  # odd and even kernels: TF 'same' puts the kernel's (k-1)//2 at the pixel
        tgt = np.broadcast_to(mean, (k, k, 3)).copy()
        tgt[(k - 1) // 2, (k - 1) // 2] += 1
        out = pixel_match_map(img, tgt, blur=(1, 0.0))
        assert np.unravel_index(np.argmax(out), out.shape) == (4, 9)


# ------------------------------------------------------------------ search loop
def _square(side: int, value: int) -> np.ndarray:
    return np.full((side, side, 3), value, dtype=np.uint8)


def _grid_display(target_index: int | None, n: int = 9) -> SearchDisplay:
    objects = [_square(10, 40 + 20 * i) for i in range(n)]
    return object_array(
        objects,
        target_index=target_index,
        target=_square(10, 255) if target_index is None else None,
        layout="grid",
        image_size_px=(48, 48),
        background=128,
    )


MODELS = {
    "eccnet": lambda: EccNet("tiny-vgg"),
    "ivsn": lambda: IVSN("tiny-vgg"),
    "pixelmatch": PixelMatch,
    "chance-search": ChanceSearch,
}


@pytest.mark.parametrize("name", list(MODELS))
def test_target_at_the_centre_is_found_at_the_first_fixation(name):
    disp = _grid_display(target_index=4)  # 3x3 grid: object 4 is at the centre
    ds = MODELS[name]().search(disp, progress=False)
    assert bool(ds["found"][0]) and int(ds["length"][0]) == 1 and int(ds["n_fixations"][0]) == 0
    assert (ds["x"][0, 0], ds["y"][0, 0]) == (24.5, 24.5)  # pixel (24, 24) centre


@pytest.mark.parametrize("name", list(MODELS))
def test_object_ior_never_revisits_an_inhibited_object(name):
    disp = _grid_display(target_index=None)  # target absent: exhaustive search
    ds = MODELS[name]().search(disp, progress=False)
    n = int(ds["length"][0])
    # the central first fixation inspects object 4; each later one removes another object;
    # the search stops when none is left (before the cap of 9 + 1)
    assert n == 9
    rows = ds["y"][0, :n].values.astype(int)
    cols = ds["x"][0, :n].values.astype(int)
    hit = [int(np.flatnonzero(disp.object_masks[:, r, c])[0]) for r, c in zip(rows, cols)]
    assert len(set(hit)) == 9  # all nine objects, none twice
    assert not bool(ds["found"][0]) and int(ds["n_fixations"][0]) == 9  # not found: set size


@pytest.mark.parametrize("cap", [1, 3])
def test_fixation_cap_holds(cap):
    disp = _grid_display(target_index=None)
    for make in MODELS.values():
        ds = make().search([disp, disp], max_fixations=cap, progress=False)
        assert (ds["length"].values == cap).all()
    ds = ChanceSearch(search=SearchConfig(max_fixations=cap)).search(disp, progress=False)
    assert int(ds["length"][0]) == cap


def test_square_ior_without_object_masks_and_plain_image_predict():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, size=(30, 41, 3), dtype=np.uint8)
    model = create_model("eccnet", backbone="tiny-vgg")
    ds = model.predict([img, img], task=img[5:15, 5:15], n_fixations=6)
    assert ds.sizes["trial"] == 2 and (ds["length"].values == 6).all()
    xy = set(zip(ds["x"][0].values.tolist(), ds["y"][0].values.tolist()))
    assert len(xy) == 6  # square IOR: never the same pixel twice
    with pytest.raises(TypeError, match="target"):
        model.predict(img)
    with pytest.raises(ValueError, match="object masks"):
        model.search(
            SearchDisplay(image=img, target=img[:4, :4]),
            config=SearchConfig(ior="object"),
            progress=False,
        )


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="layer_weighting"):
        from cogattn.gaze.models.eccnet import TopDownConfig

        TopDownConfig(layer_weighting="nl")
    with pytest.raises(ValueError, match="ior"):
        SearchConfig(ior="circle")
    with pytest.raises(TypeError, match="backbone"):
        EccNet(backbone=3.5)
