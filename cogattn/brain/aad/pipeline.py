"""An AAD-LLM-style pipeline: mixture + brain signal → attended talker → listener step.

AAD-LLM (Jiang et al. 2025; auditory spec §1) answers questions about the talker a listener
attends to: ``A = MachineListener(Q, S, I)`` with the scene ``S`` (a mixture), a question ``Q``
and the intention ``I`` decoded from the brain. Its modules, and their counterparts here:

1. **attention decoding** from the neural recording — any fitted decoder of
   :mod:`cogattn.brain.aad`: an envelope decoder (:class:`BackwardDecoder`, :class:`ForwardTRF`,
   :class:`CCADecoder`) scores each candidate source by matching its envelope with the EEG;
   the :class:`SpeakerClusterDecoder` (AAD-LLM's own choice) predicts the speaker cluster of
   the attended talker and the source in that cluster is chosen;
2. **selection** of the attended stream from separated sources — given directly, or produced
   by a user-supplied ``separator(mixture, sfreq_hz) -> (n_sources, n_samples)`` (AAD-LLM
   uses a speaker-conditioned extractor; :func:`oracle_separator` returns known sources, for
   simulations);
3. a **listener-conditioned** step receiving the attended stream and an
   :class:`IntentionToken` (in AAD-LLM, an intention token fed to Qwen2-Audio). Any callable
   following :class:`ListenerStep` plugs in (e.g. an audio LLM). The default,
   :class:`DescribeTalker`, answers "describe the attended talker" locally: F0 (pitch),
   speaking rate, energy, and a transcript when a local ASR callable is supplied.

No network access and no model weights are needed for the default path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr
from scipy import signal

from cogattn.brain.aad.features import envelope
from cogattn.brain.aad.speaker import estimate_f0, spectral_speaker_embedding
from cogattn.data import recordings

__all__ = [
    "AADPipeline",
    "DescribeTalker",
    "IntentionToken",
    "ListenerStep",
    "PipelineResult",
    "oracle_separator",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntentionToken:
    """What the brain decoder tells the listener step.

    Attributes
    ----------
    stream : int
        Index of the attended source.
    confidence : float
        Score margin between the best and the second-best source (0 = undecided).
    scores : tuple of float
        Mean decision score of every source.
    task : str
        The question / instruction (AAD-LLM's prompt), e.g. ``"describe"``.
    cluster : int or None
        Predicted speaker cluster (speaker-cluster decoder only).
    centroid : tuple of float or None
        Its centroid in the speaker space.
    """

    stream: int
    confidence: float
    scores: tuple[float, ...]
    task: str = "describe"
    cluster: int | None = None
    centroid: tuple[float, ...] | None = None


@runtime_checkable
class ListenerStep(Protocol):
    """The downstream step: ``step(audio, sfreq_hz, intention) -> answer``."""

    def __call__(self, audio: np.ndarray, sfreq_hz: float, intention: IntentionToken) -> Any:
        """Answer ``intention.task`` about the attended ``audio``."""
        ...


@dataclass
class DescribeTalker:
    """Describe the attended talker from its audio, computed locally.

    Returns a dict: ``f0_hz`` (median autocorrelation F0 of voiced frames), ``pitch``
    (``"low"`` below ``pitch_boundary_hz``, else ``"high"``; 165 Hz separates typical adult
    male and female voices), ``speaking_rate_hz`` (peak of the envelope modulation spectrum in
    2–8 Hz, a syllable-rate proxy), ``energy_db`` (RMS level re full scale), ``duration_s``,
    ``voiced_fraction``, ``transcript`` (from ``asr(audio, sfreq_hz)`` when given, else
    None), ``stream`` and ``confidence`` from the intention.
    """

    asr: Callable[[np.ndarray, float], str] | None = None
    pitch_boundary_hz: float = 165.0

    def __call__(self, audio: np.ndarray, sfreq_hz: float, intention: IntentionToken) -> dict:
        """Describe ``audio``."""
        x = np.asarray(audio, dtype=float).ravel()
        f0 = estimate_f0(x, sfreq_hz=sfreq_hz)
        voiced = np.isfinite(f0)
        f0_med = float(np.nanmedian(f0)) if voiced.any() else float("nan")
        env = envelope(x, sfreq_hz, method="hilbert", out_sfreq_hz=32.0, band_hz=None)
        env = env - env.mean()
        freqs, pxx = signal.welch(env, fs=32.0, nperseg=min(256, env.size))
        band = (freqs >= 2) & (freqs <= 8)
        rate = float(freqs[band][np.argmax(pxx[band])]) if band.any() else float("nan")
        rms = float(np.sqrt(np.mean(x**2)))
        return {
            "task": intention.task,
            "stream": intention.stream,
            "confidence": intention.confidence,
            "f0_hz": f0_med,
            "pitch": "unknown" if not np.isfinite(f0_med) else
            ("low" if f0_med < self.pitch_boundary_hz else "high"),
            "speaking_rate_hz": rate,
            "energy_db": 20 * np.log10(rms) if rms > 0 else float("-inf"),
            "duration_s": x.size / sfreq_hz,
            "voiced_fraction": float(voiced.mean()),
            "transcript": None if self.asr is None else self.asr(x, sfreq_hz),
        }  # fmt: skip


def oracle_separator(sources: Any) -> Callable[[np.ndarray, float], np.ndarray]:
    """A separator that returns known ``sources`` (n_sources, n_samples), for simulations."""
    src = np.asarray(sources, dtype=float)
    if src.ndim != 2:
        raise ValueError(f"expected sources (n_sources, n_samples), got {src.shape}")

    def separate(mixture: np.ndarray, sfreq_hz: float) -> np.ndarray:
        if np.asarray(mixture).shape[-1] != src.shape[1]:
            raise ValueError("the oracle sources and the mixture differ in length")
        return src

    return separate


@dataclass
class PipelineResult:
    """Output of :meth:`AADPipeline.run`."""

    attended_stream: int
    attended_audio: np.ndarray
    sources: np.ndarray
    intention: IntentionToken
    answer: Any
    decisions: xr.Dataset
    extra: dict = field(default_factory=dict)


class AADPipeline:
    """Mixture audio + neural recording → decoded attended talker → listener step.

    Parameters
    ----------
    decoder : fitted AAD decoder
        An envelope decoder or a :class:`SpeakerClusterDecoder`, fitted on ``Recordings`` at
        the EEG rate used in :meth:`run`.
    separator : callable, optional
        ``separator(mixture, sfreq_hz) -> (n_sources, n_samples)``; not needed when
        ``sources=`` is passed to :meth:`run`.
    listener : ListenerStep, optional
        Default :class:`DescribeTalker`.
    envelope_method : str
        Envelope of each source (must match the decoder's training streams).
    speaker_embedding : callable
        ``f(audio, sfreq_hz=...) -> vector`` for the speaker-cluster decoder (default
        :func:`spectral_speaker_embedding`; pass an x-vector model for real use).
    """

    def __init__(
        self,
        decoder: Any,
        *,
        separator: Callable[[np.ndarray, float], np.ndarray] | None = None,
        listener: ListenerStep | None = None,
        envelope_method: str = "gammatone-powerlaw",
        speaker_embedding: Callable[..., np.ndarray] = spectral_speaker_embedding,
    ) -> None:
        self.decoder = decoder
        self.separator = separator
        self.listener = listener if listener is not None else DescribeTalker()
        self.envelope_method = envelope_method
        self.speaker_embedding = speaker_embedding

    def run(
        self,
        mixture: np.ndarray,
        *,
        audio_sfreq_hz: float,
        eeg: np.ndarray,
        eeg_sfreq_hz: float,
        sources: np.ndarray | None = None,
        task: str = "describe",
        window_s: float | None = None,
    ) -> PipelineResult:
        """Decode the attended talker in ``mixture`` from ``eeg`` and answer ``task``.

        Parameters
        ----------
        mixture : array (n_samples,)
            The acoustic scene.
        audio_sfreq_hz : float
        eeg : array (time, channel)
            Neural recording aligned with the mixture (same start).
        eeg_sfreq_hz : float
        sources : array (n_sources, n_samples), optional
            Separated sources; otherwise ``separator(mixture)`` is used.
        task : str
            Passed to the listener in the intention token.
        window_s : float, optional
            Decision window; default: the whole recording (scores are averaged over windows).
        """
        from cogattn.brain.aad.speaker import SpeakerClusterDecoder, add_stream_embeddings

        mix = np.asarray(mixture, dtype=float).ravel()
        if sources is None:
            if self.separator is None:
                raise ValueError("give sources= or construct the pipeline with a separator")
            sources = self.separator(mix, audio_sfreq_hz)
        src = np.asarray(sources, dtype=float)
        if src.ndim != 2 or src.shape[0] < 2:
            raise ValueError(f"expected at least 2 sources (n_sources, n_samples), got {src.shape}")
        e = np.asarray(eeg, dtype=float)
        if e.ndim != 2:
            raise ValueError(f"expected eeg (time, channel), got {e.shape}")
        envs = np.stack(
            [
                envelope(s, audio_sfreq_hz, method=self.envelope_method, out_sfreq_hz=eeg_sfreq_hz)
                for s in src
            ]
        )
        n = min(envs.shape[1], e.shape[0])
        if abs(envs.shape[1] - e.shape[0]) > eeg_sfreq_hz:
            raise ValueError(
                f"audio ({envs.shape[1] / eeg_sfreq_hz:.1f} s) and EEG "
                f"({e.shape[0] / eeg_sfreq_hz:.1f} s) differ by more than 1 s"
            )
        rec = recordings(
            e[None, :n], sfreq_hz=eeg_sfreq_hz, streams=envs[None, :, :n], attended=[-1],
            source="AADPipeline",
        )  # fmt: skip
        cluster = centroid = None
        if isinstance(self.decoder, SpeakerClusterDecoder):
            emb = np.stack([self.speaker_embedding(s, sfreq_hz=audio_sfreq_hz) for s in src])
            rec = add_stream_embeddings(rec, emb[None])
        win = n / eeg_sfreq_hz if window_s is None else window_s
        dec = self.decoder.decide(rec, window_s=win)
        if dec.sizes["window"] == 0:
            raise ValueError(f"the recording is shorter than the decision window ({win} s)")
        scores = dec["scores"].values.mean(axis=0)
        order = np.argsort(scores)[::-1]
        att = int(order[0])
        margin = float(scores[order[0]] - scores[order[1]])
        if isinstance(self.decoder, SpeakerClusterDecoder):
            clusters = self.decoder.speaker_space_.assign(rec["stream_embedding"].values[0])
            cluster = int(clusters[att])
            centroid = tuple(float(v) for v in self.decoder.speaker_space_.centroids_[cluster])
        token = IntentionToken(
            stream=att, confidence=margin, scores=tuple(float(s) for s in scores), task=task,
            cluster=cluster, centroid=centroid,
        )  # fmt: skip
        logger.info("AADPipeline: attended source %d (scores %s)", att, np.round(scores, 3))
        answer = self.listener(src[att], audio_sfreq_hz, token)
        return PipelineResult(att, src[att], src, token, answer, dec)
