"""File loaders converting each source's conventions into cogattn's xarray schemas.

- :func:`load_scanpaths` (:mod:`~cogattn.data.loaders.scanpath_files`): COCO-Search18 and
  Amazon-covers JSON, fixation-vector TSV, generic CSV/TSV.
- :func:`load_rdms`, :func:`load_rdm_stimuli`, :func:`load_rdm_categories`
  (:mod:`~cogattn.data.loaders.rdm_files`): the 92-image RDM collections.
"""

from cogattn.data.loaders.rdm_files import (
    STIMULUS_NAMES_92,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
)
from cogattn.data.loaders.scanpath_files import (
    SCANPATH_FORMATS,
    detect_scanpath_format,
    load_scanpaths,
)

__all__ = [
    "SCANPATH_FORMATS",
    "STIMULUS_NAMES_92",
    "detect_scanpath_format",
    "load_rdm_categories",
    "load_rdm_stimuli",
    "load_rdms",
    "load_scanpaths",
]
