"""The visual-search loop shared by eccNET, IVSN and the search baselines (batched over displays).

A search model supplies a *priority map* over the display for the current fixation of each
display; the loop does the rest, following the protocol of Zhang et al. (2018) and Gupta et
al. (2021):

- the first fixation is the display centre (pixel ``(H // 2, W // 2)``);
- the next fixation is the maximum of the priority map over the display locations that are
  still allowed (ties: first in raster order);
- **inhibition of return (IOR)**: with object masks (``ior="object"``), every object region
  containing the new fixation is removed from the allowed area and repainted with the
  display's background (the model no longer sees it); otherwise (``"square"``) an
  ``ior_size_px`` square around the fixation is removed;
- **recognition is an oracle**: the target is found when the ``recognition_size_px`` square
  centred on the fixation overlaps the target mask;
- the search stops when the target is found, when ``max_fixations`` fixations (the first
  included) have been made, or when no allowed location is left (not found).

In the original object-IOR protocol (the asymmetry experiments) the initial central fixation
is neither recognised nor inhibited; in the square-IOR protocol it is both. That is
``recognise_first_fixation`` (default True; the asymmetry runner sets False).

Outputs are ``Scanpaths`` datasets (x, y = pixel centre, i.e. ``col + 0.5``, ``row + 0.5``)
with two extra per-trial variables: ``found`` and ``n_fixations`` — the number of fixations
after the first needed to land on the target (= saccades; the quantity the RT mapping was
fitted on), or, when the target was not found, the display's set size (the original analysis
convention; the number of fixations made − 1 when the set size is unknown).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from cogattn.data import scanpaths
from cogattn.gaze.models.base import GazeModel
from cogattn.stimuli.images import as_image_list, load_image
from cogattn.stimuli.search_arrays import SearchDisplay

__all__ = ["SearchConfig", "SearchModel", "SearchState"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchConfig:
    """Search-loop parameters.

    Attributes
    ----------
    max_fixations : int or None
        Fixation cap, the first (central) fixation included. ``None``: the number of object
        regions + 1 when the display has object masks (the asymmetry protocol: every grid cell
        once), else 10.
    ior : {"auto", "object", "square"}
        Inhibition of return: whole objects (needs ``object_masks``), squares, or objects when
        available.
    ior_size_px : int
        Side of the IOR square (10 px in the asymmetry experiments, 64 px for Waldo /
        NaturalDesign, 45 px for object arrays in the original code).
    recognition_size_px : int or None
        Side of the oracle recognition window (default ``ior_size_px``).
    recognise_first_fixation : bool
        Check (and inhibit) the initial central fixation.
    corner_bias_px : int or None
        Margin added around the display in the field of view (64 px at 30 px/deg in the
        original; ``None`` scales 64 px by ``px_per_deg / 30``).
    rerender_removed_objects : bool
        Repaint objects removed by object IOR with the background (original behaviour).
    """

    max_fixations: int | None = None
    ior: str = "auto"
    ior_size_px: int = 10
    recognition_size_px: int | None = None
    recognise_first_fixation: bool = True
    corner_bias_px: int | None = None
    rerender_removed_objects: bool = True

    def __post_init__(self) -> None:
        if self.ior not in ("auto", "object", "square"):
            raise ValueError(f"ior must be 'auto', 'object' or 'square', got {self.ior!r}")
        if self.max_fixations is not None and self.max_fixations < 1:
            raise ValueError(f"max_fixations must be >= 1, got {self.max_fixations}")
        if self.ior_size_px < 1:
            raise ValueError(f"ior_size_px must be >= 1, got {self.ior_size_px}")
        if self.recognition_size_px is not None and self.recognition_size_px < 1:
            raise ValueError(f"recognition_size_px must be >= 1, got {self.recognition_size_px}")
        if self.corner_bias_px is not None and self.corner_bias_px < 0:
            raise ValueError(f"corner_bias_px must be >= 0, got {self.corner_bias_px}")


@dataclass
class SearchState:
    """Mutable state of one display during a search (used by models' priority-map hooks)."""

    display: SearchDisplay
    config: SearchConfig
    max_fixations: int
    px_per_deg: float
    image: np.ndarray = field(init=False)
    allowed: np.ndarray = field(init=False)
    fixations: list[tuple[int, int]] = field(default_factory=list)
    found: bool = False
    done: bool = False
    cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = self.display
        self.image = d.image.copy()
        h, w = d.shape
        if self.object_ior:
            self.allowed = d.object_masks.any(axis=0)
        else:
            self.allowed = np.ones((h, w), dtype=bool)
        cb = self.config.corner_bias_px
        self.corner_bias = round(64 * self.px_per_deg / 30) if cb is None else int(cb)
        self.pad = max(h, w) + self.corner_bias

    @property
    def object_ior(self) -> bool:
        """Whether IOR removes whole objects."""
        if self.config.ior == "square":
            return False
        if self.display.object_masks is None:
            if self.config.ior == "object":
                raise ValueError(
                    f"ior='object' needs object masks, display {self.display.name!r} has none"
                )
            return False
        return True

    @property
    def fov_side(self) -> int:
        """Side of the square field of view in pixels, ``2 · (max(H, W) + corner_bias)``."""
        return 2 * self.pad

    @property
    def fixation(self) -> tuple[int, int]:
        """Current fixation ``(row, col)``."""
        return self.fixations[-1]

    def field_of_view(self) -> np.ndarray:
        """The (current, IOR-repainted) display padded with background, centred on the fixation."""
        r, c = self.fixation
        p = self.pad
        h, w = self.image.shape[:2]
        padded = np.full((h + 2 * p, w + 2 * p, 3), self.display.background, dtype=np.uint8)
        padded[p : p + h, p : p + w] = self.image
        return padded[r : r + 2 * p, c : c + 2 * p]

    def crop_to_display(self, fov_map: np.ndarray) -> np.ndarray:
        """The part of a field-of-view map that lies on the display, as an ``(H, W)`` map."""
        r, c = self.fixation
        p = self.pad
        h, w = self.image.shape[:2]
        return fov_map[p - r : p - r + h, p - c : p - c + w]

    # -------------------------------------------------------------- loop operations
    def recognised(self) -> bool:
        """Oracle recognition at the current fixation."""
        tm = self.display.target_mask
        if tm is None:
            return False
        s = self.config.recognition_size_px or self.config.ior_size_px
        r, c = self.fixation
        r0, c0 = max(r - s // 2, 0), max(c - s // 2, 0)
        return bool(tm[r0 : r - s // 2 + s, c0 : c - s // 2 + s].any())

    def inhibit(self) -> None:
        """Inhibition of return at the current fixation."""
        r, c = self.fixation
        if self.object_ior:
            hit = self.display.object_masks[:, r, c]
            for region in self.display.object_masks[hit]:
                self.allowed &= ~region
                if self.config.rerender_removed_objects:
                    self.image[region] = self.display.background
        else:
            s = self.config.ior_size_px
            r0, c0 = max(r - s // 2, 0), max(c - s // 2, 0)
            self.allowed[r0 : r - s // 2 + s, c0 : c - s // 2 + s] = False

    def step(self, priority: np.ndarray) -> None:
        """Choose the next fixation from a priority map ``(H, W)``, inhibit, recognise."""
        if priority.shape != self.allowed.shape:
            raise RuntimeError(
                f"priority map has shape {priority.shape}, expected {self.allowed.shape}"
            )
        if not self.allowed.any():
            self.done = True
            return
        masked = np.where(self.allowed, np.nan_to_num(priority, nan=-np.inf), -np.inf)
        idx = int(np.argmax(masked))
        if not self.allowed.flat[idx]:  # every allowed value is -inf: take the first allowed
            idx = int(np.flatnonzero(self.allowed)[0])
        self.fixations.append(divmod(idx, self.allowed.shape[1]))
        self.inhibit()
        if self.recognised():
            self.found = True
            self.done = True
        elif len(self.fixations) >= self.max_fixations:
            self.done = True

    def n_fixations_to_target(self) -> int:
        """Fixations after the first to find the target (not found: set size, or fixations − 1)."""
        if self.found:
            return len(self.fixations) - 1
        return self.display.set_size if self.display.set_size > 0 else len(self.fixations) - 1


def _is_display_sequence(stimuli: Any) -> bool:
    if isinstance(stimuli, SearchDisplay):
        return True
    if isinstance(stimuli, (str, os.PathLike, np.ndarray)):
        return False
    try:
        items = list(stimuli)
    except TypeError:
        return False
    return bool(items) and all(isinstance(s, SearchDisplay) for s in items)


def _border_grey(img: np.ndarray) -> int:
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).mean(axis=1)
    return int(np.median(border))


def as_displays(stimuli: Any, task: Any = None) -> list[SearchDisplay]:
    """Search displays from :class:`SearchDisplay` objects, or images + target images (``task=``)."""
    if _is_display_sequence(stimuli):
        if task is not None:
            raise ValueError(
                "the targets come from the SearchDisplay objects; do not pass task= as well"
            )
        return [stimuli] if isinstance(stimuli, SearchDisplay) else list(stimuli)
    images, names = as_image_list(stimuli)
    if task is None:
        raise TypeError(
            "search models need a target: pass SearchDisplay objects "
            "(cogattn.stimuli.search_arrays) or task=<target image or one target image per display>"
        )
    single = (
        isinstance(task, (str, os.PathLike))
        or (isinstance(task, np.ndarray) and task.ndim in (2, 3))
        or hasattr(task, "convert")
    )
    targets = [load_image(task)] * len(images) if single else [load_image(t) for t in task]
    if len(targets) != len(images):
        raise ValueError(f"got {len(targets)} target images for {len(images)} displays")
    return [
        SearchDisplay(image=img, target=tgt, background=_border_grey(img), name=name, task="search")
        for img, tgt, name in zip(images, targets, names)
    ]


class SearchModel(GazeModel):
    """Base class of target-guided search models: a batched search loop over displays.

    Subclasses implement ``_priority_maps(states, *, top_down, rng) -> list of (H, W) arrays``
    (higher = fixate sooner) and optionally ``_prepare(states, *, top_down)`` (per-display
    set-up, e.g. target features) and ``_group_key(state)`` (displays whose maps can be
    computed in one batch).

    Parameters
    ----------
    search : SearchConfig, optional
    batch_size : int
        Displays per batch.
    device : str
        Torch device for models that use one.
    """

    has_density = False
    name = "search-model"
    weights_untrained = False

    def __init__(
        self, *, search: SearchConfig | None = None, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.search_config = search or SearchConfig()
        self.batch_size = batch_size
        self.device = device

    # ---------------------------------------------------------------------- hooks
    def _prepare(self, states: Sequence[SearchState], top_down: Any) -> None:
        return None

    def _priority_maps(
        self, states: Sequence[SearchState], top_down: Any
    ) -> list[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _group_key(self, state: SearchState) -> Any:
        return state.display.shape

    # ---------------------------------------------------------------------- API
    def predict(
        self,
        stimuli: Any,
        *,
        task: Any = None,
        n_fixations: int | None = None,
        seed: int | None = 0,
        subject: str | None = None,
    ) -> xr.Dataset:
        """Search each display; one scanpath per display.

        Parameters
        ----------
        stimuli : SearchDisplay, sequence of SearchDisplay, or images
            With plain images, give the target image(s) as ``task``.
        task : image or sequence of images, optional
            Target image(s) for plain-image stimuli.
        n_fixations : int, optional
            Fixation cap (the first fixation included); default from the search config.
        seed : int, optional
            Seed for stochastic models.
        subject : str, optional
            ``subject`` label (default: the model name).

        Returns
        -------
        xarray.Dataset
            ``Scanpaths`` plus per-trial ``found`` and ``n_fixations`` (see :meth:`search`).
        """
        return self.search(
            as_displays(stimuli, task), max_fixations=n_fixations, seed=seed, subject=subject
        )

    def search(
        self,
        displays: Sequence[SearchDisplay] | SearchDisplay,
        *,
        max_fixations: int | None = None,
        config: SearchConfig | None = None,
        top_down: Any = None,
        seed: int | None = 0,
        subject: str | None = None,
        progress: bool = True,
    ) -> xr.Dataset:
        """Run the search loop on displays (batched).

        Parameters
        ----------
        displays : SearchDisplay or sequence of SearchDisplay
        max_fixations : int, optional
            Overrides the config's cap.
        config : SearchConfig, optional
            Overrides the model's search config for this call.
        top_down : optional
            Model-specific per-call options (eccNET: a ``TopDownConfig``).
        seed : int, optional
        subject : str, optional
        progress : bool
            Show a tqdm bar (displays finished).

        Returns
        -------
        xarray.Dataset
            ``Scanpaths`` (trial × fixation) with per-trial variables ``found`` (bool) and
            ``n_fixations`` (int; see the module docstring) and coords ``set_size``,
            ``experiment``.
        """
        displays = [displays] if isinstance(displays, SearchDisplay) else list(displays)
        if not displays:
            raise ValueError("no displays to search")
        cfg = config or self.search_config
        if max_fixations is not None:
            cfg = replace(cfg, max_fixations=int(max_fixations))
        self._rng = np.random.default_rng(seed)
        default_ppd = getattr(getattr(self, "eccentricity", None), "px_per_deg", 30.0)
        states = []
        for d in displays:
            cap = cfg.max_fixations
            if cap is None:
                cap = d.object_masks.shape[0] + 1 if d.object_masks is not None else 10
            states.append(SearchState(d, cfg, cap, d.px_per_deg or default_ppd))
        for chunk in self._batches(states):
            self._prepare(chunk, top_down)
        bar = tqdm(
            total=len(states), desc=f"{self.name} search", unit="display", disable=not progress
        )
        for st in states:
            h, w = st.display.shape
            st.fixations.append((h // 2, w // 2))
            if cfg.recognise_first_fixation:
                st.inhibit()
                st.found = st.done = st.recognised()
            if len(st.fixations) >= st.max_fixations:
                st.done = True
            bar.update(int(st.done))
        while True:
            active = [st for st in states if not st.done]
            if not active:
                break
            for chunk in self._batches(active):
                maps = self._priority_maps(chunk, top_down)
                for st, m in zip(chunk, maps):
                    st.step(np.asarray(m, dtype=np.float64))
                    bar.update(int(st.done))
        bar.close()
        return self._to_dataset(states, subject)

    def _batches(self, states: Sequence[SearchState]) -> list[list[SearchState]]:
        groups: dict[Any, list[SearchState]] = {}
        for st in states:
            groups.setdefault(self._group_key(st), []).append(st)
        return [
            g[i : i + self.batch_size]
            for g in groups.values()
            for i in range(0, len(g), self.batch_size)
        ]

    def _to_dataset(self, states: Sequence[SearchState], subject: str | None) -> xr.Dataset:
        xs = [np.array([c for _, c in st.fixations], dtype=float) + 0.5 for st in states]
        ys = [np.array([r for r, _ in st.fixations], dtype=float) + 0.5 for st in states]
        ds = scanpaths(
            xs,
            ys,
            image_size_px=np.array([[st.display.shape[1], st.display.shape[0]] for st in states]),
            subject=self.name if subject is None else subject,
            image=[st.display.name for st in states],
            task=[st.display.task for st in states],
            condition="model",
            target_bbox=np.stack([st.display.target_bbox for st in states]),
            source=self.name,
            attrs={
                "model": self.name,
                "weights_untrained": int(bool(self.weights_untrained)),
                "search_config": repr(states[0].config),
            },
        )
        ds["found"] = (
            "trial",
            np.array([st.found for st in states]),
            {"long_name": "target found"},
        )
        ds["n_fixations"] = (
            "trial",
            np.array([st.n_fixations_to_target() for st in states], dtype=np.int64),
            {
                "long_name": "fixations after the first to find the target",
                "not_found": "set size of the display (original analysis convention)",
            },
        )
        return ds.assign_coords(
            set_size=("trial", np.array([st.display.set_size for st in states], dtype=np.int64)),
            experiment=("trial", [st.display.experiment for st in states]),
        )
