"""Human data as xarray: schemas, validation, loaders and atomic I/O.

Constructors build validated datasets from arrays (no file format needed):
:func:`scanpaths`, :func:`responses`, :func:`recordings`, :func:`rdms`. Each schema has an
accessor (``ds.scanpath``, ``ds.responses``, ``ds.recordings``, ``ds.rdms``). Bad input
raises :class:`DataError` naming the file, the record and what was expected.
"""

from cogattn.data.errors import DataError, DataWarning
from cogattn.data.io import load, save, validate
from cogattn.data.loaders import (
    RESPONSE_FORMATS,
    SCANPATH_FORMATS,
    STIMULUS_NAMES_92,
    FileSummary,
    describe_file,
    detect_responses_format,
    detect_scanpath_format,
    file_kind,
    load_file,
    load_rdm_categories,
    load_rdm_stimuli,
    load_rdms,
    load_responses,
    load_scanpaths,
    read_roi_table,
    to_nifti,
)
from cogattn.data.rdms import rdms, validate_rdms
from cogattn.data.recordings import recordings, validate_recordings
from cogattn.data.responses import responses, validate_responses
from cogattn.data.scanpaths import BBOX_FIELDS, scanpaths, validate_scanpaths

__all__ = [
    "BBOX_FIELDS",
    "RESPONSE_FORMATS",
    "SCANPATH_FORMATS",
    "STIMULUS_NAMES_92",
    "DataError",
    "DataWarning",
    "FileSummary",
    "describe_file",
    "detect_responses_format",
    "detect_scanpath_format",
    "file_kind",
    "load",
    "load_file",
    "load_rdm_categories",
    "load_rdm_stimuli",
    "load_rdms",
    "load_responses",
    "load_scanpaths",
    "rdms",
    "read_roi_table",
    "recordings",
    "responses",
    "save",
    "scanpaths",
    "to_nifti",
    "validate",
    "validate_rdms",
    "validate_recordings",
    "validate_responses",
    "validate_scanpaths",
]
