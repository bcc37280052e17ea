"""Speech for auditory-attention simulations: espeak-ng talkers, or a synthetic fallback.

**espeak-ng** (formant text-to-speech, GPL, a system package: ``apt-get install espeak-ng``;
``make system-deps`` tries it) gives intelligible talkers whose envelopes have realistic
syllabic modulations (espeak's modulation spectrum peaks near 3 Hz, natural speech near
4–5 Hz). Text is seeded random sentences (6–14 words) from a fixed vocabulary, synthesised in
one call per talker (< 1 s per 20 min of speech).

When espeak-ng is not installed (or fails), :func:`synthesize` with ``source="auto"`` falls
back to :func:`synthetic_speech` and **logs a warning**; the source actually used is returned
in :attr:`Speech.source` and recorded by the simulation in its dataset attributes.

**The synthetic speech-like source** (documented, deterministic given the seed):

- syllables of Gamma-distributed duration (shape 4, mean ``1 / syllable_rate_hz``), grouped in
  words of 1–3 syllables and sentences of 6–14 words, with 60–200 ms pauses between words
  and 250–600 ms between sentences — so the envelope has a syllabic (~4 Hz) modulation
  spectrum and a slower phrasal one;
- each syllable: a Hann-shaped amplitude contour with a log-normal peak level;
- a voiced glottal pulse train at ``f0_hz`` with sentence-level declination (−15 %), a
  random intonation walk and 1 % jitter, spectrally tilted (one-pole low-pass);
- three formant resonators per syllable drawn from a table of English vowels, scaled by
  ``formant_scale`` (≈1.17 for a female voice);
- an unvoiced fricative noise burst (high-passed noise, 40–90 ms) at the onset of 40 % of
  syllables.

It is *not* intelligible speech; it has the envelope statistics that matter for envelope-based
attention decoding and a known F0 (for testing pitch descriptions).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

__all__ = [
    "DEFAULT_TALKERS",
    "Speech",
    "Talker",
    "espeak_available",
    "espeak_speech",
    "random_sentences",
    "synthesize",
    "synthetic_speech",
]

logger = logging.getLogger(__name__)

_WORDS = (
    "the a man woman child teacher doctor farmer sailor painter house garden river forest "
    "mountain valley city road bridge market window door table letter story song paper "
    "water stone cloud light morning evening winter summer dog horse bird cat old young "
    "small big quiet bright dark green golden heavy gentle walks sees finds brings opens "
    "carries watches follows remembers writes reads sings builds slowly quickly often "
    "never always again under over near behind across through beside before after with "
    "without because while then every some many few"
)
_VOCABULARY = tuple(_WORDS.split())

# English vowel formants (Hz), adult male (Peterson & Barney 1952, rounded)
_VOWELS = np.array(
    [
        [270, 2290, 3010],
        [390, 1990, 2550],
        [530, 1840, 2480],
        [660, 1720, 2410],
        [730, 1090, 2440],
        [570, 840, 2410],
        [440, 1020, 2240],
        [300, 870, 2240],
        [640, 1190, 2390],
        [490, 1350, 1690],
    ],
    dtype=float,
)


@dataclass(frozen=True)
class Talker:
    """A simulated talker.

    Parameters
    ----------
    name : str
        Label (used as the stream name).
    espeak_voice : str
        espeak-ng voice, e.g. ``"en-us+m3"`` (male variant 3), ``"en-us+f3"``.
    rate_wpm : int
        espeak-ng speaking rate in words per minute (``-s``).
    pitch : int
        espeak-ng base pitch 0–99 (``-p``).
    f0_hz : float
        Mean F0 of the synthetic fallback.
    formant_scale : float
        Formant scaling of the synthetic fallback (1 male, ≈1.17 female).
    syllable_rate_hz : float
        Syllable rate of the synthetic fallback.
    """

    name: str = "male"
    espeak_voice: str = "en-us+m3"
    rate_wpm: int = 165
    pitch: int = 40
    f0_hz: float = 110.0
    formant_scale: float = 1.0
    syllable_rate_hz: float = 4.0


DEFAULT_TALKERS: tuple[Talker, Talker] = (
    Talker("male", "en-us+m3", 165, 40, 110.0, 1.0, 4.2),
    Talker("female", "en-us+f3", 150, 60, 210.0, 1.17, 3.8),
)


@dataclass
class Speech:
    """Synthesised speech: ``audio`` (mono float in [-1, 1]) at ``sfreq_hz``."""

    audio: np.ndarray
    sfreq_hz: float
    source: str
    talker: Talker
    text: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.audio.size / self.sfreq_hz


def espeak_available() -> bool:
    """True if the ``espeak-ng`` executable is on the PATH."""
    return shutil.which("espeak-ng") is not None


def random_sentences(n_words: int, *, seed: int = 0) -> list[str]:
    """Seeded random sentences (6–14 words each) totalling at least ``n_words`` words."""
    rng = np.random.default_rng(seed)
    out, total = [], 0
    while total < n_words:
        k = int(rng.integers(6, 15))
        words = [str(w) for w in rng.choice(_VOCABULARY, size=k)]
        out.append(" ".join(words).capitalize() + ".")
        total += k
    return out


def espeak_speech(
    text: str, *, talker: Talker, timeout_s: float = 300.0
) -> tuple[np.ndarray, float]:
    """Run espeak-ng on ``text``; return ``(audio float64 in [-1, 1], sfreq_hz)``.

    Raises ``RuntimeError`` when espeak-ng is missing or fails.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        cmd = [
            exe, "-v", talker.espeak_voice, "-s", str(int(talker.rate_wpm)),
            "-p", str(int(talker.pitch)), "-w", str(out),
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, input=text.encode(), capture_output=True, timeout=timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise RuntimeError(f"espeak-ng failed to run: {err}") from err
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"espeak-ng exited with {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}"
            )
        sfreq, audio = wavfile.read(out)
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return audio / 32768.0, float(sfreq)


def synthetic_speech(
    duration_s: float,
    *,
    sfreq_hz: float = 16000.0,
    talker: Talker = DEFAULT_TALKERS[0],
    seed: int = 0,
) -> np.ndarray:
    """Deterministic speech-like waveform (see the module docstring for the recipe)."""
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if sfreq_hz < 8000:
        raise ValueError(f"sfreq_hz must be at least 8000 Hz, got {sfreq_hz}")
    rng = np.random.default_rng(seed)
    n_total = round(duration_s * sfreq_hz)
    out = np.zeros(n_total)
    fs = float(sfreq_hz)
    t_pos = int(rng.uniform(0.05, 0.3) * fs)
    mean_syl = 1.0 / talker.syllable_rate_hz
    while t_pos < n_total:
        n_words = int(rng.integers(6, 15))
        sentence_start = t_pos
        sent_syl = []
        for _ in range(n_words):
            for _ in range(int(rng.choice([1, 1, 2, 2, 3]))):
                dur = int(rng.gamma(4.0, mean_syl / 4.0) * fs)
                dur = max(dur, int(0.06 * fs))
                sent_syl.append((t_pos, dur))
                t_pos += dur
            t_pos += int(rng.uniform(0.06, 0.2) * fs)
        sent_len = max(t_pos - sentence_start, 1)
        walk = np.cumsum(rng.normal(0, 0.02, size=len(sent_syl)))
        for k, (start, dur) in enumerate(sent_syl):
            if start >= n_total:
                break
            dur = min(dur, n_total - start)
            frac = (start - sentence_start) / sent_len
            f0 = talker.f0_hz * (1.05 - 0.15 * frac) * np.exp(walk[k])
            out[start : start + dur] += _syllable(dur, fs, f0, talker.formant_scale, rng)
        t_pos += int(rng.uniform(0.25, 0.6) * fs)
    peak = np.max(np.abs(out))
    return out / peak * 0.9 if peak > 0 else out


def _syllable(n: int, fs: float, f0: float, formant_scale: float, rng: np.random.Generator):
    # glottal pulse train with jitter
    periods = []
    pos = 0.0
    while pos < n:
        periods.append(int(pos))
        pos += fs / (f0 * (1 + rng.normal(0, 0.01)))
    src = np.zeros(n)
    src[np.asarray(periods, dtype=int)] = 1.0
    src = signal.lfilter([1.0], [1.0, -0.95], src)  # spectral tilt
    src -= src.mean()
    formants = _VOWELS[rng.integers(len(_VOWELS))] * formant_scale
    y = np.zeros(n)
    for fc, bw in zip(formants, (80.0, 110.0, 160.0)):
        if fc >= fs / 2 - 100:
            continue
        r = np.exp(-np.pi * bw / fs)
        a = [1.0, -2 * r * np.cos(2 * np.pi * fc / fs), r * r]
        y += signal.lfilter([1 - r], a, src)
    if rng.random() < 0.4:
        m = min(n, int(rng.uniform(0.04, 0.09) * fs))
        noise = rng.normal(size=m)
        b, a = signal.butter(2, min(3000.0, fs / 2 - 500), btype="highpass", fs=fs)
        y[:m] += 0.4 * signal.lfilter(b, a, noise) * np.std(y) / 0.5
    contour = np.hanning(n + 2)[1:-1]
    level = np.exp(rng.normal(0, 0.35))
    y *= contour * level
    return y / (np.std(y) + 1e-12) * 0.1


def synthesize(
    duration_s: float,
    *,
    talker: Talker = DEFAULT_TALKERS[0],
    seed: int = 0,
    source: str = "auto",
    sfreq_hz: float | None = None,
) -> Speech:
    """Speech of one talker, exactly ``duration_s`` long.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    talker : Talker
        Voice settings.
    seed : int
        Seeds the text (espeak-ng) or the synthetic source.
    source : {"auto", "espeak", "synthetic"}
        ``"auto"``: espeak-ng when installed, else the synthetic fallback with a logged
        warning. ``"espeak"`` raises ``RuntimeError`` when espeak-ng is unavailable.
    sfreq_hz : float, optional
        Output rate (default: espeak-ng's native 22050 Hz, or 16 kHz for the synthetic source).

    Returns
    -------
    Speech
        ``source`` is ``"espeak-ng"`` or ``"synthetic"``.
    """
    if source not in ("auto", "espeak", "synthetic"):
        raise ValueError(f"source must be 'auto', 'espeak' or 'synthetic', got {source!r}")
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s}")
    if source in ("auto", "espeak"):
        try:
            return _espeak_duration(duration_s, talker=talker, seed=seed, sfreq_hz=sfreq_hz)
        except RuntimeError as err:
            if source == "espeak":
                raise
            logger.warning(
                "espeak-ng unavailable (%s); using the synthetic speech-like fallback "
                "(see cogattn.stimuli.speech)",
                err,
            )
    fs = 16000.0 if sfreq_hz is None else float(sfreq_hz)
    audio = synthetic_speech(duration_s, sfreq_hz=fs, talker=talker, seed=seed)
    return Speech(audio, fs, "synthetic", talker, "", {"f0_hz": talker.f0_hz})


def _espeak_duration(duration_s: float, *, talker: Talker, seed: int, sfreq_hz: float | None):
    chunks, texts = [], []
    total = 0.0
    sfreq = None
    k = 0
    while total < duration_s:
        remaining = duration_s - total
        n_words = int(remaining * talker.rate_wpm / 60 * 1.1) + 10
        text = " ".join(random_sentences(n_words, seed=seed * 1000 + k))
        audio, sfreq = espeak_speech(text, talker=talker)
        chunks.append(audio)
        texts.append(text)
        total += audio.size / sfreq
        k += 1
        if k > 20:
            raise RuntimeError("espeak-ng produced too little audio")
    audio = np.concatenate(chunks)[: round(duration_s * sfreq)]
    if sfreq_hz is not None and not np.isclose(sfreq_hz, sfreq):
        ratio = Fraction(float(sfreq_hz) / sfreq).limit_denominator(10_000)
        audio = signal.resample_poly(audio, ratio.numerator, ratio.denominator)
        sfreq = float(sfreq_hz)
    n = round(duration_s * sfreq)
    if audio.size < n:
        audio = np.concatenate([audio, np.zeros(n - audio.size)])
    return Speech(audio[:n], float(sfreq), "espeak-ng", talker, " ".join(texts))
