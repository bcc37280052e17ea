"""Auditory attention decoding (AAD): envelopes, linear/CCA/CNN/speaker decoders, evaluation,
simulation and an AAD-LLM-style pipeline.

Data in and out are ``Recordings`` datasets (:func:`cogattn.data.recordings`): EEG / MEG /
iEEG trials (trial × time × channel) with candidate stimulus streams and the attended index.

- features: :func:`envelope`, :func:`onset_envelope`, :func:`lag_matrix` (sign convention:
  positive lag = the neural response follows the stimulus);
- decoders (scikit-learn estimators, each with ``decide(recordings, window_s)``):
  :class:`BackwardDecoder`, :class:`ForwardTRF`, :class:`CCADecoder`, :class:`LocusCNN`,
  :class:`SpeakerClusterDecoder`, :class:`WindowClassifier`;
- evaluation: :func:`evaluate_windows` with :class:`LeaveOneTrialOut`,
  :class:`LeaveOneGroupOut`, :class:`KFoldTrials`, :class:`RandomWindowSplit`; :func:`mesd`,
  :func:`extrapolate_accuracy`, :func:`switching_simulation`;
- :func:`simulate_aad` (spec §S), :class:`AADPipeline`, MNE interop
  (:func:`recordings_from_mne`, :func:`plot_trf_topomap`).

Names are imported lazily (torch is only imported when a deep decoder is used). User guide:
``docs/aad.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    # features
    "envelope": "cogattn.brain.aad.features",
    "onset_envelope": "cogattn.brain.aad.features",
    "bandpass": "cogattn.brain.aad.features",
    "resample": "cogattn.brain.aad.features",
    "erb_space_hz": "cogattn.brain.aad.features",
    "gammatone_fir": "cogattn.brain.aad.features",
    "lag_matrix": "cogattn.brain.aad.lags",
    "lags_from_ms": "cogattn.brain.aad.lags",
    "lagged_gram": "cogattn.brain.aad.lags",
    # decoders
    "BackwardDecoder": "cogattn.brain.aad.decoders",
    "ForwardTRF": "cogattn.brain.aad.decoders",
    "CCADecoder": "cogattn.brain.aad.cca",
    "LocusCNN": "cogattn.brain.aad.cnn",
    "LocusNet": "cogattn.brain.aad.cnn",
    "SpeakerClusterDecoder": "cogattn.brain.aad.speaker",
    "SpeakerSpace": "cogattn.brain.aad.speaker",
    "BiLSTMNet": "cogattn.brain.aad.speaker",
    "add_stream_embeddings": "cogattn.brain.aad.speaker",
    "spectral_speaker_embedding": "cogattn.brain.aad.speaker",
    "estimate_f0": "cogattn.brain.aad.speaker",
    "WindowClassifier": "cogattn.brain.aad._label",
    # evaluation
    "evaluate_windows": "cogattn.brain.aad.evaluation",
    "LeaveOneTrialOut": "cogattn.brain.aad.evaluation",
    "LeaveOneGroupOut": "cogattn.brain.aad.evaluation",
    "KFoldTrials": "cogattn.brain.aad.evaluation",
    "RandomWindowSplit": "cogattn.brain.aad.evaluation",
    "segment_recordings": "cogattn.brain.aad.evaluation",
    "significance_threshold": "cogattn.brain.aad.evaluation",
    "mesd": "cogattn.brain.aad.evaluation",
    "MESDResult": "cogattn.brain.aad.evaluation",
    "extrapolate_accuracy": "cogattn.brain.aad.evaluation",
    "smooth_decisions": "cogattn.brain.aad.evaluation",
    "switching_simulation": "cogattn.brain.aad.evaluation",
    "concatenate_trials": "cogattn.brain.aad.evaluation",
    "KUL_LINEAR_REFERENCE": "cogattn.brain.aad.evaluation",
    # simulation, preprocessing, pipeline, interop
    "simulate_aad": "cogattn.brain.aad.simulate",
    "AADSimulation": "cogattn.brain.aad.simulate",
    "preprocess_recordings": "cogattn.brain.aad.interop",
    "recordings_from_arrays": "cogattn.brain.aad.interop",
    "recordings_from_mne": "cogattn.brain.aad.interop",
    "plot_trf_topomap": "cogattn.brain.aad.interop",
    "to_mne_info": "cogattn.brain.aad.interop",
    "AADPipeline": "cogattn.brain.aad.pipeline",
    "PipelineResult": "cogattn.brain.aad.pipeline",
    "IntentionToken": "cogattn.brain.aad.pipeline",
    "ListenerStep": "cogattn.brain.aad.pipeline",
    "DescribeTalker": "cogattn.brain.aad.pipeline",
    "oracle_separator": "cogattn.brain.aad.pipeline",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cogattn.brain.aad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
