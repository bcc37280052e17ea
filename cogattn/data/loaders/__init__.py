"""File loaders converting each source's conventions into cogattn's xarray schemas.

- :func:`load_rdms`, :func:`load_rdm_stimuli`, :func:`load_rdm_categories`
  (:mod:`~cogattn.data.loaders.rdm_files`): the 92-image RDM collections.
"""

from cogattn.data.loaders.rdm_files import (
    STIMULUS_NAMES_92,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
)

__all__ = [
    "STIMULUS_NAMES_92",
    "load_rdm_categories",
    "load_rdm_stimuli",
    "load_rdms",
]
