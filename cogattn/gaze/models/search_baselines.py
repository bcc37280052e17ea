"""Search baselines: pixel-level template matching and chance, on the shared search loop.

Both use the same loop, oracle recognition, inhibition of return and fixation cap as eccNET
(:mod:`cogattn.gaze.models._search`), so differences in search efficiency come from the
priority maps alone — the comparison of Gupta et al. (NeurIPS 2021), whose pixelMatch and
chance baselines give mean asymmetry indices of −0.178 and −0.003.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from skimage.feature import match_template
from skimage.transform import resize

from cogattn.gaze.models._search import SearchConfig, SearchModel, SearchState

__all__ = ["ChanceSearch", "PixelMatch"]


def _grey(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64).mean(axis=-1) / 255.0


class PixelMatch(SearchModel):
    """Template matching in pixel space: fixate where the display best matches the target.

    The priority map is the zero-normalised cross-correlation of the grey-level target with
    the grey-level display (``skimage.feature.match_template`` with ``pad_input=True``), so
    the best match is at the target-sized window centred on each pixel. A target larger
    than the display is shrunk to fit. The map is computed once per display (removed
    objects are excluded by the search loop's allowed area).

    Parameters
    ----------
    search : SearchConfig, optional
    batch_size : int
    device : str
        Unused (numpy); accepted for a uniform interface.
    """

    name = "pixelmatch"

    def __init__(
        self, *, search: SearchConfig | None = None, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        super().__init__(search=search, batch_size=batch_size, device=device)

    def _prepare(self, states: Sequence[SearchState], top_down: Any) -> None:
        for st in states:
            image = _grey(st.display.image)
            target = _grey(st.display.target)
            h, w = image.shape
            th, tw = target.shape
            if th > h or tw > w:
                scale = min(h / th, w / tw)
                target = resize(
                    target, (max(int(th * scale), 1), max(int(tw * scale), 1)), anti_aliasing=True
                )
            st.cache["ncc"] = np.nan_to_num(match_template(image, target, pad_input=True), nan=-1.0)

    def _priority_maps(self, states: Sequence[SearchState], top_down: Any) -> list[np.ndarray]:
        return [st.cache["ncc"] for st in states]


class ChanceSearch(SearchModel):
    """Chance: each fixation goes to a uniformly random allowed location.

    With object IOR and equal-sized object regions (the grid arrays) this is a uniformly
    random choice among the objects not yet inspected.

    Parameters
    ----------
    search : SearchConfig, optional
    batch_size : int
    device : str
        Unused; accepted for a uniform interface.
    """

    name = "chance-search"

    def __init__(
        self, *, search: SearchConfig | None = None, batch_size: int = 8, device: str = "cpu"
    ) -> None:
        super().__init__(search=search, batch_size=batch_size, device=device)

    def _priority_maps(self, states: Sequence[SearchState], top_down: Any) -> list[np.ndarray]:
        return [self._rng.random(st.display.shape) for st in states]
