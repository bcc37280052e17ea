"""Figure ``aad-window-accuracy``: auditory attention decoding accuracy vs decision window.

The simulated two-talker experiment of the cogattn auditory spec §S (espeak-ng talkers, or
the synthetic fallback; P1-N1-P2 TRFs; 1/f noise at the calibrated SNR) is decoded with the
backward (stimulus-reconstruction) decoder of O'Sullivan et al. (2015), 0–250 ms lags,
leave-one-trial-out. Panel (a): accuracy vs window length, the binomial significance
threshold, the KU Leuven linear-decoder curve (Geirnaert et al. 2025; spec §0) and the curve
predicted from the 20-s correlations alone (performance-curve model), with the MESD of both
curves (Geirnaert et al. 2020). Panel (b): per-trial correlation of the reconstruction with the
attended vs the unattended envelope.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from cogattn.figures._registry import FigureRecipe

__all__ = ["RECIPE", "compute", "plot"]

logger = logging.getLogger(__name__)


def compute(
    *,
    small: bool = False,
    device: str = "cpu",
    n_trials: int | None = None,
    trial_duration_s: float | None = None,
    snr_db: float | None = None,
    n_channels: int = 32,
    envelope_method: str | None = None,
    seed: int = 0,
    **options: Any,
) -> xr.Dataset:
    """Simulate, decode with leave-one-trial-out, and collect the curves.

    Parameters
    ----------
    small : bool
        6 trials × 60 s, 16 channels, Hilbert envelopes, −30 dB (CI size).
    device : str
        Unused (the linear decoder runs on numpy).
    n_trials, trial_duration_s, snr_db, n_channels, envelope_method, seed
        Simulation settings (defaults: 20 trials × 120 s, the calibrated SNR, 32 channels,
        the KU Leuven gammatone envelope).
    """
    from cogattn.brain.aad import (
        AADSimulation,
        BackwardDecoder,
        evaluate_windows,
        extrapolate_accuracy,
        mesd,
        simulate_aad,
    )
    from cogattn.brain.aad.evaluation import KUL_LINEAR_REFERENCE

    if options:
        raise TypeError(f"unknown options for aad-window-accuracy: {sorted(options)}")
    cfg = AADSimulation()
    ds = simulate_aad(
        n_trials=n_trials or (6 if small else 20),
        trial_duration_s=trial_duration_s or (60.0 if small else 120.0),
        n_channels=16 if small else n_channels,
        snr_db=(-30.0 if small else cfg.snr_db) if snr_db is None else snr_db,
        envelope_method=envelope_method or ("hilbert" if small else "gammatone-powerlaw"),
        seed=seed,
    )
    windows = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
    res = evaluate_windows(BackwardDecoder(), ds, windows_s=windows, progress=False)
    ts = res["trial_scores"].values
    att = res["attended"].values
    idx = np.arange(att.size)
    r_att, r_un = ts[idx, att], ts[idx, 1 - att]
    # performance-curve model from the 20-s windows alone
    sel = res["window_length_s"].values == 20.0
    wa = res["window_trial"].values[sel]
    sc = res["window_scores"].values[sel]
    a20 = att[wa]
    pred = extrapolate_accuracy(
        sc[np.arange(a20.size), a20], sc[np.arange(a20.size), 1 - a20],
        window_s=20.0, sfreq_hz=float(ds.attrs["sfreq_hz"]), target_windows_s=windows,
    )  # fmt: skip
    kul_w = np.array(sorted(KUL_LINEAR_REFERENCE))
    kul_a = np.array([KUL_LINEAR_REFERENCE[w] for w in kul_w])
    kul_mesd = mesd(kul_w, kul_a)
    out = xr.Dataset(
        {
            "accuracy": ("window_s", res["accuracy"].values),
            "n_windows": ("window_s", res["n_windows"].values),
            "significance_threshold": ("window_s", res["significance_threshold"].values),
            "predicted_from_20s": ("window_s", pred),
            "kul_accuracy": ("kul_window_s", kul_a),
            "r_attended": ("trial", r_att),
            "r_unattended": ("trial", r_un),
        },
        coords={
            "window_s": np.asarray(windows),
            "kul_window_s": kul_w,
            "trial": np.arange(att.size),
        },
        attrs={
            "mesd_s": float(res.attrs["mesd_s"]),
            "mesd_window_s": float(res.attrs["mesd_window_s"]),
            "kul_mesd_s": float(kul_mesd.mesd_s),
            "speech_source": ds.attrs["speech_source"],
            "snr_db": float(ds.attrs["snr_db"]),
            "n_channels": int(ds.sizes["channel"]),
            "envelope_method": ds.attrs["envelope_method"],
        },
    )
    acc = {float(k): float(v) for k, v in zip(windows, np.round(100 * res["accuracy"].values, 1))}
    out.attrs["report"] = (
        f"Simulated {att.size} trials × {ds.sizes['time'] / ds.attrs['sfreq_hz']:.0f} s "
        f"({ds.attrs['speech_source']} talkers, {out.attrs['n_channels']} channels, "
        f"SNR {out.attrs['snr_db']:.0f} dB), backward decoder 0–250 ms, leave-one-trial-out.\n"
        f"- r_att {r_att.mean():.3f}, r_unatt {r_un.mean():.3f} (KU Leuven linear: 0.116, 0.035); "
        f"r_att > r_unatt in {100 * np.mean(r_att > r_un):.0f} % of trials\n"
        f"- accuracy (%) per window (s): {acc}\n"
        f"- KU Leuven linear reference (%): "
        f"{dict(zip(kul_w.tolist(), np.round(100 * kul_a, 1).tolist()))}\n"
        f"- MESD {out.attrs['mesd_s']:.1f} s (KU Leuven curve: {kul_mesd.mesd_s:.1f} s)"
    )
    return out


def plot(ds: xr.Dataset):
    """Two panels: accuracy vs window length; per-trial r_att vs r_unatt."""
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.6, 1]})
    w = ds["window_s"].values
    ax.plot(w, 100 * ds["accuracy"].values, "o-", color="C0", label="simulation (LOTO)")
    ax.plot(
        w, 100 * ds["predicted_from_20s"].values, ":", color="C0",
        label="predicted from 20-s correlations",
    )  # fmt: skip
    ax.plot(
        ds["kul_window_s"].values, 100 * ds["kul_accuracy"].values, "s--", color="C3",
        label="KU Leuven linear decoder",
    )  # fmt: skip
    ax.plot(w, 100 * ds["significance_threshold"].values, color="0.6", lw=1, label="p < 0.05")
    ax.axhline(50, color="0.8", lw=0.8)
    ax.set_xscale("log")
    ax.set_xticks(w, [f"{v:g}" for v in w])
    ax.set_xlabel("decision window (s)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(45, 101)
    ax.set_title(
        f"(a) MESD {ds.attrs['mesd_s']:.1f} s  (KU Leuven {ds.attrs['kul_mesd_s']:.1f} s)",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower right")
    ra, ru = ds["r_attended"].values, ds["r_unattended"].values
    lim = [min(ra.min(), ru.min(), 0) - 0.02, max(ra.max(), ru.max()) + 0.02]
    bx.plot(lim, lim, color="0.7", lw=0.8)
    bx.scatter(ru, ra, s=18, color="C0")
    bx.set_xlim(lim)
    bx.set_ylim(lim)
    bx.set_xlabel("r with unattended envelope")
    bx.set_ylabel("r with attended envelope")
    bx.set_title(f"(b) per trial: r_att > r_unatt in {100 * np.mean(ra > ru):.0f} %", fontsize=10)
    fig.suptitle(
        f"Auditory attention decoding, simulated EEG ({ds.attrs['speech_source']} talkers, "
        f"{ds.attrs['snr_db']:.0f} dB)",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


RECIPE = FigureRecipe(
    "aad-window-accuracy",
    compute,
    plot,
    "AAD accuracy vs decision window (simulated EEG, backward decoder) with the KU Leuven "
    "reference curve and MESD",
)
