"""File loaders converting each source's conventions into cogattn's xarray schemas.

- :func:`load_scanpaths` (:mod:`~cogattn.data.loaders.scanpath_files`): COCO-Search18 and
  Amazon-covers JSON, fixation-vector TSV, generic CSV/TSV.
- :func:`load_responses` (:mod:`~cogattn.data.loaders.responses_files`), :func:`to_nifti`
  (:mod:`~cogattn.data.loaders.nifti`): fMRI from NIfTI + mask (nilearn masker) or arrays +
  an ROI table (:mod:`~cogattn.data.loaders.arrays`).
- :func:`load_file`, :func:`describe_file` (:mod:`~cogattn.data.loaders.files`): any
  supported file, used by ``cogattn data info`` / ``convert``.
- :func:`load_rdms`, :func:`load_rdm_stimuli`, :func:`load_rdm_categories`
  (:mod:`~cogattn.data.loaders.rdm_files`): the 92-image RDM collections.
"""

from cogattn.data.loaders.arrays import read_roi_table
from cogattn.data.loaders.files import FileSummary, describe_file, file_kind, load_file
from cogattn.data.loaders.nifti import to_nifti
from cogattn.data.loaders.rdm_files import (
    STIMULUS_NAMES_92,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
)
from cogattn.data.loaders.responses_files import (
    RESPONSE_FORMATS,
    detect_responses_format,
    load_responses,
)
from cogattn.data.loaders.scanpath_files import (
    SCANPATH_FORMATS,
    detect_scanpath_format,
    load_scanpaths,
)

__all__ = [
    "RESPONSE_FORMATS",
    "SCANPATH_FORMATS",
    "STIMULUS_NAMES_92",
    "FileSummary",
    "describe_file",
    "detect_responses_format",
    "detect_scanpath_format",
    "file_kind",
    "load_file",
    "load_rdm_categories",
    "load_rdm_stimuli",
    "load_rdms",
    "load_responses",
    "load_scanpaths",
    "read_roi_table",
    "to_nifti",
]
