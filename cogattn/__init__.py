"""cogattn: neuroscience-inspired models of attention, compared with human data.

Subpackages (imported on demand, nothing heavy runs at import time):

- :mod:`cogattn.data` — xarray schemas for human data (scanpaths, fMRI responses,
  EEG/MEG recordings, RDMs), validation, loaders and atomic I/O.
- :mod:`cogattn.stimuli` — search arrays, foveation and log-polar transforms, speech.
- :mod:`cogattn.encoders` — shared timm / open_clip / Hugging Face backbones.
- :mod:`cogattn.gaze` — scanpath models and metrics.
- :mod:`cogattn.brain` — fMRI encoders, RSA, noise ceilings; :mod:`cogattn.brain.aad` for
  auditory attention decoding.
- :mod:`cogattn.figures` — named figure recipes.
"""

__version__ = "0.1.0.dev0"
