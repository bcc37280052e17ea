"""Brain: fMRI encoding and decoding, RSA, noise ceilings; :mod:`cogattn.brain.aad` for auditory
attention decoding. Public names are imported lazily (no import-time work)."""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "RidgeEncoder": "cogattn.brain.ridge",
    "delay_features": "cogattn.brain.design",
    "events_to_design": "cogattn.brain.design",
    "read_events": "cogattn.brain.design",
    "pearson_r": "cogattn.brain.metrics",
    "r2_score": "cogattn.brain.metrics",
    "ncsnr_to_nc": "cogattn.brain.metrics",
    "ncsnr_from_repeats": "cogattn.brain.metrics",
    "noise_normalized_score": "cogattn.brain.metrics",
    "encoding_scores": "cogattn.brain.metrics",
    "explainable_variance": "cogattn.brain.metrics",
    "split_half_reliability": "cogattn.brain.metrics",
    "roi_summary": "cogattn.brain.metrics",
    "FitConfig": "cogattn.brain.fit_dataset",
    "fit_responses": "cogattn.brain.fit_dataset",
    "run_fit": "cogattn.brain.fit_dataset",
    "simulate_dataset": "cogattn.brain.fit_dataset",
    "fit_distributed": "cogattn.brain.distributed",
    "compute_rdm": "cogattn.brain.rsa",
    "compute_rdms": "cogattn.brain.rsa",
    "compare_rdms": "cogattn.brain.rsa",
    "kendall_tau_a": "cogattn.brain.rsa",
    "model_rdm_scores": "cogattn.brain.rsa",
    "rdm_noise_ceiling": "cogattn.brain.rsa",
    "rdm_vectors": "cogattn.brain.rsa",
    "rsa_profile": "cogattn.brain.rsa",
    "TransformerBrainEncoder": "cogattn.brain.transformer_encoder",
    "EncoderConfig": "cogattn.brain.transformer_encoder",
    "TrainingConfig": "cogattn.brain.transformer_encoder",
    "SimulationConfig": "cogattn.brain.simulate",
    "simulate_encoding_data": "cogattn.brain.simulate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cogattn.brain' has no attribute {name!r}")
