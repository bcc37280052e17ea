"""Visual-search displays: the six search-asymmetry experiments, generic object arrays, user displays.

The unit is :class:`SearchDisplay` (frozen): the search image, the target image, the
ground-truth target mask and the per-object masks that object-based inhibition of return
removes as a whole.

The asymmetry experiments are the six of Gupta, Zhang, Wu, Wolfe & Kreiman (NeurIPS 2021,
"Visual search asymmetry: deep nets and humans share similar inherent biases"), each a pair
of tasks whose target and distractors swap roles (12 tasks):

====  ===========================  ==================================  ==========  ======
exp   name                         paired tasks                        set sizes   n/size
====  ===========================  ==================================  ==========  ======
1     curvature                    curve_in_lines / line_in_curves     8, 16, 32   30
2     lighting_direction           top_down / left_right               1, 6, 12    30
3     intersection_cross           non_cross / cross                   3, 6, 9     36
4     intersection_tl              Ts / Ls                             3, 6, 9     36
5     orientation_homogeneous      homo_t20 / homo_t0                  1, 4, 8, 12 30
6     orientation_heterogeneous    hetero_t0 / hetero_t20              1, 4, 8, 12 30
====  ===========================  ==================================  ==========  ======

A task is named after its target (``curve_in_lines``: a curve among straight lines,
``homo_t0``: a vertical bar among bars tilted 20°, ``Ts``: a T among Ls, ...). The displays
are drawn procedurally (the original stimuli are an external download): items sit in the
cells of a square grid spanning ``view_deg`` degrees with random jitter inside their cell, as
in the original generators, and geometry is given in degrees of visual angle so that
``px_per_deg`` (30 in the paper) scales everything. They are re-creations with the documented
geometry (bar lengths, widths, angles, shading steps, grid sizes, backgrounds), not
pixel-identical copies.

Conventions: images are ``(H, W, 3)`` uint8 RGB, masks ``(H, W)`` bool, pixel ``(row, col)``
covers the continuous image area ``[col, col+1) × [row, row+1)`` (origin top-left, x right,
y down), bounding boxes are ``[x, y, width, height]`` in pixels. Orientations are in degrees
clockwise from vertical.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cogattn.stimuli.images import load_image

__all__ = [
    "ASYMMETRY_EXPERIMENTS",
    "TASKS",
    "AsymmetryExperiment",
    "SearchDisplay",
    "TaskSpec",
    "asymmetry_displays",
    "experiment_of_task",
    "load_search_display",
    "make_asymmetry_display",
    "object_array",
]

logger = logging.getLogger(__name__)

_GREY = Callable[[np.ndarray, np.ndarray], np.ndarray]


# ----------------------------------------------------------------------------- the unit
@dataclass(frozen=True, eq=False)
class SearchDisplay:
    """One visual-search trial.

    Attributes
    ----------
    image : numpy.ndarray, (H, W, 3) uint8
        The search display.
    target : numpy.ndarray, (h, w, 3) uint8
        The target image shown before the display (the model's top-down cue).
    target_mask : numpy.ndarray, (H, W) bool, or None
        Where the target is (the oracle recognition region). ``None`` for target-absent or
        unknown-target displays: recognition then never succeeds.
    object_masks : numpy.ndarray, (n_regions, H, W) bool, or None
        Regions that object-based inhibition of return removes as a whole (for the grid
        arrays: every grid cell, empty or not, as in the original experiments). ``None``:
        models fall back to square IOR.
    object_kinds : tuple of str
        Per region: ``"target"``, ``"distractor"`` or ``"empty"``.
    set_size : int
        Number of items on the display (target included).
    experiment, task : str
        Labels (``""`` for user displays).
    background : int
        Grey level of the background (removed objects are repainted with it).
    px_per_deg : float or None
        Pixels per degree of visual angle, when known (30 in the asymmetry experiments).
    name : str
        Display name (used as the ``image`` label of scanpaths).
    """

    image: np.ndarray
    target: np.ndarray
    target_mask: np.ndarray | None = None
    object_masks: np.ndarray | None = None
    object_kinds: tuple[str, ...] = ()
    set_size: int = 1
    experiment: str = ""
    task: str = ""
    background: int = 128
    px_per_deg: float | None = None
    name: str = "display"

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"SearchDisplay.image must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}"
            )
        target = np.asarray(self.target)
        if target.ndim != 3 or target.shape[2] != 3 or target.dtype != np.uint8:
            raise ValueError(
                f"SearchDisplay.target must be an (h, w, 3) uint8 array, got {target.shape} {target.dtype}"
            )
        h, w = image.shape[:2]
        if self.target_mask is not None:
            tm = np.asarray(self.target_mask)
            if tm.shape != (h, w):
                raise ValueError(f"target_mask has shape {tm.shape}, expected the image's {(h, w)}")
            if not tm.any():
                raise ValueError("target_mask is empty (use target_mask=None for no target)")
            object.__setattr__(self, "target_mask", tm.astype(bool))
        if self.object_masks is not None:
            om = np.asarray(self.object_masks)
            if om.ndim != 3 or om.shape[1:] != (h, w):
                raise ValueError(
                    f"object_masks must have shape (n_regions, {h}, {w}), got {om.shape}"
                )
            object.__setattr__(self, "object_masks", om.astype(bool))
            kinds = tuple(self.object_kinds) or ("object",) * om.shape[0]
            if len(kinds) != om.shape[0]:
                raise ValueError(
                    f"object_kinds has {len(kinds)} entries for {om.shape[0]} object masks"
                )
            object.__setattr__(self, "object_kinds", kinds)
        if self.set_size < 0:
            raise ValueError(f"set_size must be >= 0, got {self.set_size}")
        if not 0 <= int(self.background) <= 255:
            raise ValueError(f"background must be a grey level in [0, 255], got {self.background}")
        if self.px_per_deg is not None and not self.px_per_deg > 0:
            raise ValueError(f"px_per_deg must be > 0, got {self.px_per_deg}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the display in pixels."""
        return self.image.shape[0], self.image.shape[1]

    @property
    def target_bbox(self) -> np.ndarray:
        """Target bounding box ``[x, y, width, height]`` in pixels (NaN when no target)."""
        if self.target_mask is None:
            return np.full(4, np.nan)
        rows = np.flatnonzero(self.target_mask.any(axis=1))
        cols = np.flatnonzero(self.target_mask.any(axis=0))
        return np.array(
            [cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1], dtype=float
        )


# ------------------------------------------------------------------------ glyph drawing
def _render(
    ink: _GREY,
    size_px: int,
    px_per_deg: float,
    *,
    background: int,
    supersample: int = 4,
) -> np.ndarray:
    """Render a glyph into a ``size_px`` square (uint8 grey).

    ``ink(u, v)`` takes coordinates in degrees relative to the square's centre (u right,
    v down) and returns the grey level of the glyph there, or NaN for background. Each pixel
    averages ``supersample²`` samples (anti-aliasing).
    """
    s = supersample
    offsets = (np.arange(size_px * s) + 0.5) / s - size_px / 2
    v, u = np.meshgrid(offsets / px_per_deg, offsets / px_per_deg, indexing="ij")
    value = ink(u, v)
    value = np.where(np.isnan(value), float(background), value)
    value = value.reshape(size_px, s, size_px, s).mean(axis=(1, 3))
    return np.clip(np.round(value), 0, 255).astype(np.uint8)


def _rotate(u: np.ndarray, v: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in a frame rotated clockwise by ``angle_deg`` (glyph rotated clockwise)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return c * u + s * v, -s * u + c * v


def _bar(
    length_deg: float, width_deg: float, angle_deg: float, level: int
) -> _GREY:  # vertical bar at 0°, rotated clockwise
    def ink(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        ur, vr = _rotate(u, v, angle_deg)
        inside = (np.abs(ur) <= width_deg / 2) & (np.abs(vr) <= length_deg / 2)
        return np.where(inside, float(level), np.nan)

    return ink


def _arc(
    radius_deg: float, extent_rad: float, width_deg: float, angle_deg: float, level: int
) -> _GREY:
    """An arc of a circle, its chord horizontal and bulging downwards at 0°, centred in the box."""
    sagitta = radius_deg * (1 - math.cos(extent_rad / 2))

    def ink(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        ur, vr = _rotate(u, v, angle_deg)
        # circle centre above the box centre so that the arc's midpoint sits mid-box
        cy = -radius_deg + sagitta / 2
        du, dv = ur, vr - cy
        r = np.hypot(du, dv)
        theta = np.arctan2(du, dv)  # 0 straight down
        inside = (np.abs(r - radius_deg) <= width_deg / 2) & (np.abs(theta) <= extent_rad / 2)
        return np.where(inside, float(level), np.nan)

    return ink


def _union(*rects: tuple[float, float, float, float], level: int, size_deg: float) -> _GREY:
    """Union of axis-aligned rectangles ``(u0, v0, u1, v1)`` in degrees from the box's top-left."""

    def ink(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        uu, vv = u + size_deg / 2, v + size_deg / 2
        inside = np.zeros(u.shape, dtype=bool)
        for u0, v0, u1, v1 in rects:
            inside |= (uu >= u0) & (uu < u1) & (vv >= v0) & (vv < v1)
        return np.where(inside, float(level), np.nan)

    return ink


def _transform(ink: _GREY, *, k_rot90: int = 0, flip_v: bool = False) -> _GREY:
    """Rotate a glyph by multiples of 90° clockwise and/or flip it vertically."""

    def out(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        uu, vv = u, (-v if flip_v else v)
        for _ in range(k_rot90 % 4):  # inverse map of a clockwise quarter turn
            uu, vv = vv, -uu
        return ink(uu, vv)

    return out


def _shaded_disc(diameter_deg: float, light_from: str, *, steps: int = 15) -> _GREY:
    """A disc shaded in ``steps`` grey bands (0..255 in steps of 17), bright on ``light_from``."""

    def ink(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        r = diameter_deg / 2
        # distance along the lighting axis, 0 at the dark edge, 1 at the bright edge
        t = {"below": v, "above": -v, "right": u, "left": -u}[light_from] / (2 * r) + 0.5
        band = np.clip(np.floor(t * steps), 0, steps)
        level = 17.0 * band
        return np.where(u**2 + v**2 < r**2, level, np.nan)

    return ink


# -------------------------------------------------------------------- task definitions
@dataclass(frozen=True)
class TaskSpec:
    """One task of the asymmetry experiments: its grid, geometry and item pools.

    Attributes
    ----------
    name : str
        Task name (after the target).
    experiment : str
        One of :data:`ASYMMETRY_EXPERIMENTS`.
    stimulus_set : str
        File-name prefix of the original outputs (``categorization``, ``curvature``,
        ``intersection``, ``lightning_dir`` — upstream spelling).
    view_deg : float
        Side of the square display in degrees.
    grid : int
        Items sit in a ``grid × grid`` array of cells.
    object_deg : float
        Side of an item's square box in degrees (also the target image's side).
    background : int
        Background grey level.
    set_sizes : tuple of int
    n_per_set_size : int
    dog_kernels : ((int, float), (int, float))
        eccNET difference-of-Gaussians (kernel size, sigma) pairs for this experiment.
    """

    name: str
    experiment: str
    stimulus_set: str
    view_deg: float
    grid: int
    object_deg: float
    background: int
    set_sizes: tuple[int, ...]
    n_per_set_size: int
    dog_kernels: tuple[tuple[int, float], tuple[int, float]]

    @property
    def max_fixations(self) -> int:
        """Fixation cap of the original protocol: every grid cell once, plus the start."""
        return self.grid * self.grid + 1


_FAMILY = {
    # stimulus set: (view_deg, grid, object_deg, background, set sizes, n, dog kernels)
    "curvature": (11.3, 6, 1.6, 0, (8, 16, 32), 30, ((3, 1.0), (5, 3.0))),
    "lightning_dir": (6.6, 4, 1.04, 27, (1, 6, 12), 30, ((3, 0.0), (5, 1.0))),
    "intersection": (20.5, 3, 5.9, 255, (3, 6, 9), 36, ((5, 3.0), (7, 5.0))),
    "categorization": (11.3, 4, 2.3, 255, (1, 4, 8, 12), 30, ((3, 1.0), (5, 3.0))),
}

#: The six asymmetry experiments: name -> (stimulus set, (task shown first, paired task)).
#: The pair order follows the paper's figure; which task is "harder" is decided by the
#: human RT slopes (see :mod:`cogattn.gaze.metrics.asymmetry`).
_EXPERIMENT_TABLE: dict[str, tuple[str, tuple[str, str]]] = {
    "curvature": ("curvature", ("curve_in_lines", "line_in_curves")),
    "lighting_direction": ("lightning_dir", ("top_down", "left_right")),
    "intersection_cross": ("intersection", ("non_cross", "cross")),
    "intersection_tl": ("intersection", ("Ts", "Ls")),
    "orientation_homogeneous": ("categorization", ("homo_t20", "homo_t0")),
    "orientation_heterogeneous": ("categorization", ("hetero_t0", "hetero_t20")),
}


@dataclass(frozen=True)
class AsymmetryExperiment:
    """One of the six experiments: a pair of tasks with swapped target and distractors."""

    number: int
    name: str
    stimulus_set: str
    tasks: tuple[str, str]
    set_sizes: tuple[int, ...]
    n_per_set_size: int


def _build_tables() -> tuple[dict[str, AsymmetryExperiment], dict[str, TaskSpec]]:
    experiments: dict[str, AsymmetryExperiment] = {}
    tasks: dict[str, TaskSpec] = {}
    for number, (name, (family, pair)) in enumerate(_EXPERIMENT_TABLE.items(), start=1):
        view, grid, obj, bg, sizes, n, dog = _FAMILY[family]
        experiments[name] = AsymmetryExperiment(number, name, family, pair, sizes, n)
        for task in pair:
            tasks[task] = TaskSpec(task, name, family, view, grid, obj, bg, sizes, n, dog)
    return experiments, tasks


ASYMMETRY_EXPERIMENTS, TASKS = _build_tables()


def experiment_of_task(task: str) -> AsymmetryExperiment:
    """The :class:`AsymmetryExperiment` a task belongs to."""
    return ASYMMETRY_EXPERIMENTS[_task_spec(task).experiment]


def _task_spec(task: str) -> TaskSpec:
    if task not in TASKS:
        raise ValueError(f"unknown asymmetry task {task!r}; valid tasks: {sorted(TASKS)}")
    return TASKS[task]


# Geometry of the items, in degrees (from the original generators' parameters).
_ORIENT_BAR = (2.0, 0.3)  # length, width of the orientation bars
_CURVE = {"radius": 1.0, "extent": 1.3, "width": 1 / 6}  # arc radius, angular extent (rad), width
_LINE = (1.2, 1 / 6 + 1 / 30)  # straight segment length, width
_CURVATURE_ANGLES = (45.0, 90.0, 135.0, 180.0)
_HETERO_ANGLES = (80.0, 60.0, 40.0, -20.0, -40.0, -60.0, -80.0)
_STROKE, _GLYPH, _BORDER = 0.55, 5.5, 0.4  # intersection glyphs


def _intersection_glyph(kind: str, variant: int) -> _GREY:
    w, s, b = _STROKE, _GLYPH, _BORDER
    o = b / 2  # glyph drawn inside a border of b/2 on each side
    mid = s / 2
    stem = (o + mid - w / 2, o, o + mid + w / 2, o + s)  # vertical stroke through the middle
    if kind == "cross":
        rects = [stem, (o, o + 3 * w, o + s, o + 4 * w)]
    elif kind == "non_cross":
        rects = [stem, (o, o + 3 * w, o + mid, o + 4 * w), (o + mid, o + 6 * w, o + s, o + 7 * w)]
    elif kind == "T":
        rects = [(o, o, o + s, o + w), stem]
    elif kind == "L":
        rects = [(o, o, o + w, o + s), (o, o + s - w, o + s, o + s)]
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    glyph = _union(*rects, level=0, size_deg=s + b)
    if kind in ("cross", "non_cross"):  # as, flipped, transposed, transposed+flipped
        return _transform(glyph, k_rot90=variant // 2, flip_v=bool(variant % 2))
    return _transform(glyph, k_rot90=variant)  # T and L: the four quarter turns


_GlyphKey = tuple  # hashable description of a glyph, e.g. ("bar", length, width, angle, level)


def _glyph(key: _GlyphKey) -> _GREY:
    kind, *args = key
    if kind == "bar":
        return _bar(*args)
    if kind == "arc":
        return _arc(*args)
    if kind == "disc":
        return _shaded_disc(*args)
    return _intersection_glyph(*args)


@functools.lru_cache(maxsize=512)
def _rendered(key: _GlyphKey, size_px: int, px_per_deg: float, background: int) -> np.ndarray:
    glyph = _render(_glyph(key), size_px, px_per_deg, background=background)
    glyph.setflags(write=False)
    return glyph


def _item_pools(task: str, rng: np.random.Generator) -> tuple[Callable[[], _GlyphKey], ...]:
    """``(draw_target, draw_distractor)``: each call returns one (randomly varied) glyph key."""
    bar_len, bar_w = _ORIENT_BAR

    def orientation(angle: float) -> Callable[[], _GlyphKey]:
        return lambda: ("bar", bar_len, bar_w, angle, 0)

    def curve() -> _GlyphKey:
        angle = float(rng.choice(_CURVATURE_ANGLES))
        return ("arc", _CURVE["radius"], _CURVE["extent"], _CURVE["width"], angle, 255)

    def line() -> _GlyphKey:
        angle = float(rng.choice(_CURVATURE_ANGLES))
        return ("bar", _LINE[0], _LINE[1], angle + 90.0, 255)

    def glyph(kind: str) -> Callable[[], _GlyphKey]:
        return lambda: ("isect", kind, int(rng.integers(4)))

    pools: dict[str, tuple[Callable[[], _GlyphKey], Callable[[], _GlyphKey]]] = {
        "curve_in_lines": (curve, line),
        "line_in_curves": (line, curve),
        "top_down": (lambda: ("disc", 1.04, "above"), lambda: ("disc", 1.04, "below")),
        "left_right": (lambda: ("disc", 1.04, "left"), lambda: ("disc", 1.04, "right")),
        "cross": (glyph("cross"), glyph("non_cross")),
        "non_cross": (glyph("non_cross"), glyph("cross")),
        "Ts": (glyph("T"), glyph("L")),
        "Ls": (glyph("L"), glyph("T")),
        "homo_t0": (orientation(0.0), orientation(20.0)),
        "homo_t20": (orientation(20.0), orientation(0.0)),
    }
    if task in pools:
        return pools[task]
    # heterogeneous distractors: every orientation of the pool once before any repeats
    target_angle, other = (0.0, 20.0) if task == "hetero_t0" else (20.0, 0.0)
    angles = [*_HETERO_ANGLES, other]
    queue: list[float] = []

    def hetero() -> _GlyphKey:
        if not queue:
            queue.extend(rng.permutation(angles).tolist())
        return ("bar", bar_len, bar_w, queue.pop(), 0)

    return orientation(target_angle), hetero


def _to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=-1)


def make_asymmetry_display(
    task: str,
    set_size: int,
    *,
    rng: np.random.Generator | int | None = None,
    px_per_deg: float = 30.0,
    name: str | None = None,
) -> SearchDisplay:
    """Draw one display of an asymmetry task.

    Items occupy ``set_size`` distinct cells of the task's grid, chosen at random; one is the
    target. Each item is jittered inside its cell by up to (cell − item) size. Object masks are
    all grid cells (empty ones too), the target mask is the target's cell, as in the
    original experiments.

    Parameters
    ----------
    task : str
        One of :data:`TASKS` (e.g. ``"curve_in_lines"``, ``"homo_t0"``).
    set_size : int
        Number of items, 1 .. grid².
    rng : numpy Generator or int, optional
        Randomness (seed or generator).
    px_per_deg : float
        Pixels per degree (30 in the paper; smaller values give smaller, faster displays).
    name : str, optional
        Display name.

    Returns
    -------
    SearchDisplay
    """
    spec = _task_spec(task)
    rng = np.random.default_rng(rng)
    n_cells = spec.grid * spec.grid
    if not 1 <= set_size <= n_cells:
        raise ValueError(f"set_size for {task!r} must be in 1..{n_cells}, got {set_size}")
    if not px_per_deg > 0:
        raise ValueError(f"px_per_deg must be > 0, got {px_per_deg}")
    side = int(spec.view_deg * px_per_deg)
    cell = int(spec.view_deg / spec.grid * px_per_deg)
    obj = int(spec.object_deg * px_per_deg)
    if obj < 4:
        raise ValueError(
            f"px_per_deg={px_per_deg} makes {task!r} items {obj} px wide; use px_per_deg >= {math.ceil(4 / spec.object_deg)}"
        )
    jitter = max(cell - obj, 0)
    bg = spec.background
    image = np.full((side, side), bg, dtype=np.uint8)
    draw_target, draw_distractor = _item_pools(task, rng)

    cells = rng.choice(n_cells, size=set_size, replace=False)
    target_slot = int(rng.integers(set_size))
    masks = np.zeros((n_cells, side, side), dtype=bool)
    for c in range(n_cells):
        r0, c0 = (c // spec.grid) * cell, (c % spec.grid) * cell
        masks[c, r0 : r0 + cell, c0 : c0 + cell] = True
    kinds = ["empty"] * n_cells
    target_img = None
    for slot, c in enumerate(cells):
        r0 = (c // spec.grid) * cell + (int(rng.integers(jitter)) if jitter else 0)
        c0 = (c % spec.grid) * cell + (int(rng.integers(jitter)) if jitter else 0)
        is_target = slot == target_slot
        key = draw_target() if is_target else draw_distractor()
        glyph = _rendered(key, obj, float(px_per_deg), bg)
        h = min(obj, side - r0)
        w = min(obj, side - c0)
        image[r0 : r0 + h, c0 : c0 + w] = glyph[:h, :w]
        kinds[c] = "target" if is_target else "distractor"
        if is_target:
            target_img = glyph.copy()
    assert target_img is not None
    target_cell = int(cells[target_slot])
    return SearchDisplay(
        image=_to_rgb(image),
        target=_to_rgb(target_img),
        target_mask=masks[target_cell].copy(),
        object_masks=masks,
        object_kinds=tuple(kinds),
        set_size=set_size,
        experiment=spec.experiment,
        task=task,
        background=bg,
        px_per_deg=px_per_deg,
        name=name or f"{task}_n{set_size}",
    )


def asymmetry_displays(
    task: str,
    *,
    set_sizes: Sequence[int] | None = None,
    n_per_set_size: int | None = None,
    px_per_deg: float = 30.0,
    seed: int = 0,
) -> list[SearchDisplay]:
    """All displays of one task, in set-size blocks (as the original files are ordered).

    Parameters
    ----------
    task : str
        One of :data:`TASKS`.
    set_sizes : sequence of int, optional
        Default: the experiment's (see the module table).
    n_per_set_size : int, optional
        Displays per set size. Default: the experiment's (30 or 36).
    px_per_deg : float
        Display scale (30 in the paper).
    seed : int
        Seed; each task draws from its own stream, so tasks can be generated independently.

    Returns
    -------
    list of SearchDisplay
        Names are ``"<task>_n<set size>_<i>"``.
    """
    spec = _task_spec(task)
    sizes = tuple(spec.set_sizes if set_sizes is None else set_sizes)
    n = spec.n_per_set_size if n_per_set_size is None else int(n_per_set_size)
    if n < 1:
        raise ValueError(f"n_per_set_size must be >= 1, got {n}")
    task_key = sorted(TASKS).index(task)
    rng = np.random.default_rng([seed, task_key])
    return [
        make_asymmetry_display(
            task, size, rng=rng, px_per_deg=px_per_deg, name=f"{task}_n{size}_{i}"
        )
        for size in sizes
        for i in range(n)
    ]


# ------------------------------------------------------------------ generic object arrays
def object_array(
    objects: Sequence[Any],
    *,
    target_index: int | None = 0,
    target: Any = None,
    layout: str = "circle",
    image_size_px: tuple[int, int] = (512, 512),
    radius_frac: float = 0.35,
    background: int = 128,
    shuffle: bool = False,
    seed: int | None = None,
    name: str = "object_array",
    px_per_deg: float | None = None,
) -> SearchDisplay:
    """Place N object images on a circle or a grid (e.g. the ObjArr displays of Zhang et al. 2018).

    Parameters
    ----------
    objects : sequence of images
        Item images (paths, PIL images or arrays); each is placed centred in its slot.
    target_index : int or None
        Which object is the target (``None``: target-absent display).
    target : image, optional
        The target cue image (default: the target object itself; pass another exemplar for
        category search).
    layout : {"circle", "grid"}
        ``"circle"``: equally spaced on a circle of radius ``radius_frac · min(W, H)`` starting
        at 12 o'clock, clockwise; ``"grid"``: a near-square grid filling the image.
    image_size_px : (width, height)
    radius_frac : float
        Circle radius as a fraction of the smaller image side.
    background : int
        Background grey level.
    shuffle : bool
        Shuffle the slot order (with ``seed``).
    seed : int, optional
    name : str
    px_per_deg : float, optional

    Returns
    -------
    SearchDisplay
        Object masks are the placed objects' boxes (one per object); the target mask is the
        target's box.
    """
    if layout not in ("circle", "grid"):
        raise ValueError(f"layout must be 'circle' or 'grid', got {layout!r}")
    items = [load_image(o) for o in objects]
    n = len(items)
    if n == 0:
        raise ValueError("object_array needs at least one object")
    if target_index is not None and not 0 <= target_index < n:
        raise ValueError(f"target_index must be in 0..{n - 1} or None, got {target_index}")
    if target_index is None and target is None:
        raise ValueError("a target-absent display (target_index=None) needs target=<cue image>")
    width, height = (int(v) for v in image_size_px)
    order = np.arange(n)
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
    if layout == "circle":
        radius = radius_frac * min(width, height)
        angles = 2 * np.pi * np.arange(n) / n
        centres = np.stack(
            [width / 2 + radius * np.sin(angles), height / 2 - radius * np.cos(angles)], axis=1
        )
    else:
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
        cx = (np.arange(n) % cols + 0.5) * width / cols
        cy = (np.arange(n) // cols + 0.5) * height / rows
        centres = np.stack([cx, cy], axis=1)
    image = np.full((height, width, 3), background, dtype=np.uint8)
    masks = np.zeros((n, height, width), dtype=bool)
    for slot, idx in enumerate(order):
        item = items[idx]
        h, w = item.shape[:2]
        x0 = round(centres[slot, 0] - w / 2)
        y0 = round(centres[slot, 1] - h / 2)
        if x0 < 0 or y0 < 0 or x0 + w > width or y0 + h > height:
            raise ValueError(
                f"object {idx} ({w}x{h} px) does not fit at slot {slot} of a {width}x{height} display; "
                "use a larger image_size_px, a smaller radius_frac or smaller objects"
            )
        if masks[:, y0 : y0 + h, x0 : x0 + w].any():
            raise ValueError(f"object {idx} overlaps another object; objects are too large")
        image[y0 : y0 + h, x0 : x0 + w] = item
        masks[idx, y0 : y0 + h, x0 : x0 + w] = True
    kinds = tuple("target" if i == target_index else "distractor" for i in range(n))
    cue = items[target_index] if target is None else load_image(target)
    return SearchDisplay(
        image=image,
        target=cue,
        target_mask=None if target_index is None else masks[target_index].copy(),
        object_masks=masks,
        object_kinds=kinds,
        set_size=n,
        background=background,
        px_per_deg=px_per_deg,
        name=name,
    )


# ----------------------------------------------------------------------- user displays
def load_search_display(
    image: Any,
    target: Any,
    *,
    bbox: Sequence[float] | None = None,
    mask: Any = None,
    object_masks: Any = None,
    background: int | None = None,
    px_per_deg: float | None = None,
    name: str | None = None,
    task: str = "",
) -> SearchDisplay:
    """A search display from user files or arrays.

    Parameters
    ----------
    image, target : image (path, PIL image or array)
        The search display and the target cue.
    bbox : [x, y, width, height], optional
        Target bounding box in pixels (origin top-left).
    mask : array (H, W) or image path, optional
        Target mask (non-zero = target); give either ``bbox`` or ``mask`` (or neither, for
        a target-absent display).
    object_masks : array (n, H, W), optional
        Regions for object-based inhibition of return.
    background : int, optional
        Grey level used to repaint removed objects (default: the median border grey).
    px_per_deg : float, optional
    name : str, optional
        Default: the image file name, else ``"display"``.
    task : str
        Label.

    Returns
    -------
    SearchDisplay
    """
    import os
    from pathlib import Path

    img = load_image(image)
    tgt = load_image(target)
    h, w = img.shape[:2]
    if bbox is not None and mask is not None:
        raise ValueError("give either bbox or mask, not both")
    target_mask = None
    if bbox is not None:
        x, y, bw, bh = (float(v) for v in bbox)
        if bw <= 0 or bh <= 0:
            raise ValueError(f"bbox width and height must be > 0, got {list(bbox)}")
        if x < 0 or y < 0 or x + bw > w or y + bh > h:
            raise ValueError(
                f"bbox {list(bbox)} ([x, y, width, height]) lies outside the {w}x{h} image"
            )
        target_mask = np.zeros((h, w), dtype=bool)
        target_mask[int(y) : math.ceil(y + bh), int(x) : math.ceil(x + bw)] = True
    elif mask is not None:
        m = load_image(mask)[..., 0] if isinstance(mask, (str, os.PathLike)) else np.asarray(mask)
        if m.shape != (h, w):
            raise ValueError(f"mask has shape {m.shape}, expected the image's {(h, w)}")
        target_mask = m > 0
    if background is None:
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).mean(axis=1)
        background = int(np.median(border))
    if name is None:
        name = Path(image).name if isinstance(image, (str, os.PathLike)) else "display"
    return SearchDisplay(
        image=img,
        target=tgt,
        target_mask=target_mask,
        object_masks=None if object_masks is None else np.asarray(object_masks) > 0,
        set_size=0 if object_masks is None else int(np.asarray(object_masks).shape[0]),
        background=background,
        px_per_deg=px_per_deg,
        name=name,
        task=task,
    )
