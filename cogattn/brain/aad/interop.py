"""Getting data in and out: ``Recordings`` from arrays or MNE, preprocessing, topographies.

The robust path for real EEG (e.g. trials × time × channel at 128 Hz with two candidate
envelopes)::

    from cogattn.brain import aad
    rec = aad.recordings_from_arrays(eeg, envelopes, attended, sfreq_hz=128)
    rec = aad.preprocess_recordings(rec, band_hz=(1, 9), out_sfreq_hz=64)
    result = aad.evaluate_windows(aad.BackwardDecoder(), rec)

``recordings_from_arrays`` accepts the envelopes as ``(trial, stream, time)``,
``(trial, time, stream)`` or per-trial lists, matches their time axis to the EEG's, and trims
small length mismatches (≤ ``max_trim_s``) with a logged warning instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from cogattn.brain.aad._base import check_recordings, iter_trials
from cogattn.brain.aad.features import bandpass, resample
from cogattn.data import DataError, recordings

__all__ = [
    "plot_trf_topomap",
    "preprocess_recordings",
    "recordings_from_arrays",
    "recordings_from_mne",
    "to_mne_info",
]

logger = logging.getLogger(__name__)


def _trial_list(x: Any, name: str) -> list[np.ndarray]:
    if isinstance(x, (list, tuple)):
        return [np.asarray(t, dtype=float) for t in x]
    arr = np.asarray(x, dtype=float)
    if arr.ndim < 2:
        raise DataError(f"expected trials of arrays, got shape {arr.shape}", field=name)
    return list(arr)


def recordings_from_arrays(
    eeg: Any,
    envelopes: Any,
    attended: Any = None,
    *,
    sfreq_hz: float,
    channel_names: Sequence[str] | None = None,
    stream_names: Sequence[str] | None = None,
    group: Any = None,
    subject: Any = None,
    max_trim_s: float = 1.0,
) -> xr.Dataset:
    """Build a ``Recordings`` dataset from EEG trials and candidate envelopes.

    Parameters
    ----------
    eeg : array (trial, time, channel) or list of (time, channel)
        A single trial may be given as (time, channel).
    envelopes : array (trial, stream, time), (trial, time, stream), or lists per trial
        Candidate stimulus envelopes at ``sfreq_hz``; the time axis is found by matching the
        EEG's length.
    attended : int or sequence of int, optional
        Attended stream index per trial (-1 = unknown).
    sfreq_hz : float
        Sampling rate of both.
    channel_names, stream_names : sequence of str, optional
    group, subject : per-trial labels, optional
    max_trim_s : float
        Length mismatches up to this many seconds are fixed by trimming both to the shorter
        (logged); larger ones raise ``DataError``.

    Returns
    -------
    xarray.Dataset (Recordings)
    """
    eeg_list = _trial_list(eeg, "eeg")
    if len(eeg_list) and eeg_list[0].ndim == 1:  # a single (time, channel) trial was passed
        eeg_list = [np.asarray(eeg, dtype=float)]
    env_list = _trial_list(envelopes, "envelopes")
    if len(env_list) != len(eeg_list):
        if len(eeg_list) == 1 and np.ndim(envelopes) == 2:
            env_list = [np.asarray(envelopes, dtype=float)]
        else:
            raise DataError(
                f"expected envelopes for {len(eeg_list)} trials, got {len(env_list)}",
                field="envelopes",
            )
    fixed_eeg, fixed_env = [], []
    max_trim = round(max_trim_s * sfreq_hz)
    for i, (e, s) in enumerate(zip(eeg_list, env_list)):
        if e.ndim != 2:
            raise DataError(f"expected (time, channel), got {e.shape}", record=i, field="eeg")
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2:
            raise DataError(
                f"expected (stream, time) or (time, stream), got {s.shape}",
                record=i,
                field="envelopes",
            )
        n = e.shape[0]
        # orient as (stream, time): the axis closer to the EEG length is time
        if abs(s.shape[0] - n) < abs(s.shape[1] - n):
            s = s.T
        m = s.shape[1]
        if m != n:
            if abs(m - n) > max_trim:
                raise DataError(
                    f"EEG has {n} samples but the envelopes {m} ({abs(m - n) / sfreq_hz:.2f} s "
                    f"apart, more than max_trim_s={max_trim_s}): are both at {sfreq_hz} Hz?",
                    record=i,
                    field="envelopes",
                )
            k = min(m, n)
            logger.warning(
                "trial %d: EEG (%d samples) and envelopes (%d) differ; both trimmed to %d",
                i, n, m, k,
            )  # fmt: skip
            e, s = e[:k], s[:, :k]
        fixed_eeg.append(e)
        fixed_env.append(s)
    att = None if attended is None else np.atleast_1d(np.asarray(attended)).astype(np.int64)
    if att is not None and att.size == 1 and len(fixed_eeg) > 1:
        att = np.full(len(fixed_eeg), int(att[0]))
    return recordings(
        fixed_eeg,
        sfreq_hz=sfreq_hz,
        streams=fixed_env,
        attended=att,
        channel_names=channel_names,
        stream_names=stream_names,
        group=group,
        subject=subject,
        source="arrays",
    )


def preprocess_recordings(
    recordings_ds: xr.Dataset,
    *,
    band_hz: tuple[float, float] | None = (1.0, 9.0),
    out_sfreq_hz: float | None = None,
    zscore: bool = True,
    filter_streams: bool = True,
) -> xr.Dataset:
    """Band-pass, resample and z-score EEG and streams trial by trial (KU Leuven recipe).

    The same zero-phase Butterworth band-pass (default 1–9 Hz) is applied to the EEG and, with
    ``filter_streams``, to the streams; then both are resampled (anti-aliased polyphase) to
    ``out_sfreq_hz`` (e.g. 64 Hz) and z-scored per trial and channel/feature.
    """
    ds = check_recordings(recordings_ds)
    fs = float(ds.attrs["sfreq_hz"])
    out_fs = fs if out_sfreq_hz is None else float(out_sfreq_hz)
    if band_hz is not None and band_hz[1] >= out_fs / 2:
        raise ValueError(
            f"band_hz upper edge {band_hz[1]} Hz must be below the output Nyquist {out_fs / 2} Hz"
        )
    eeg_out, st_out = [], []
    has_streams = "streams" in ds.data_vars
    for t in iter_trials(ds):
        e = t.eeg
        if band_hz is not None:
            e = bandpass(e, sfreq_hz=fs, band_hz=band_hz)
        e = resample(e, sfreq_hz=fs, out_sfreq_hz=out_fs, axis=0)
        if has_streams:
            s = t.streams
            if band_hz is not None and filter_streams:
                s = bandpass(s, sfreq_hz=fs, band_hz=band_hz, axis=1)
            s = resample(s, sfreq_hz=fs, out_sfreq_hz=out_fs, axis=1)
            k = min(e.shape[0], s.shape[1])
            e, s = e[:k], s[:, :k]
            if zscore:
                s = (s - s.mean(axis=1, keepdims=True)) / np.where(
                    s.std(axis=1, keepdims=True) > 0, s.std(axis=1, keepdims=True), 1
                )
            st_out.append(s)
        if zscore:
            sd = e.std(axis=0)
            e = (e - e.mean(axis=0)) / np.where(sd > 0, sd, 1)
        eeg_out.append(e)
    attrs = {k: v for k, v in ds.attrs.items() if k not in ("cogattn_schema", "sfreq_hz", "source")}
    attrs["preprocessing"] = (
        f"band-pass {band_hz} Hz (Butterworth order 4, zero-phase), resampled {fs} -> {out_fs} Hz"
        + (", z-scored per trial" if zscore else "")
    )
    out = recordings(
        eeg_out,
        sfreq_hz=out_fs,
        streams=st_out if has_streams else None,
        attended=ds["attended"].values,
        channel_names=ds["channel"].values,
        stream_names=ds["stream"].values if has_streams else None,
        feature_names=ds["feature"].values if has_streams else None,
        group=ds["group"].values,
        subject=ds["subject"].values,
        source=str(ds.attrs.get("source", "")),
        attrs=attrs,
    )
    for name in ("channel_pos", "stream_embedding", "stream_talker"):
        if name in ds.data_vars:
            out[name] = ds[name]
    return out


def recordings_from_mne(
    inst: Any,
    *,
    streams: Any = None,
    attended: Any = None,
    picks: Any = "data",
    stream_names: Sequence[str] | None = None,
    group: Any = None,
    subject: Any = None,
) -> xr.Dataset:
    """``Recordings`` from an MNE ``Raw`` (one trial) or ``Epochs`` (one trial per epoch).

    Parameters
    ----------
    inst : mne.io.Raw or mne.Epochs
    streams : array, optional
        Candidate streams aligned with the data, ``(stream, time)`` for Raw or
        ``(epoch, stream, time)`` for Epochs, at the data's sampling rate.
    attended : int or sequence, optional
    picks : MNE picks
        Channels to keep (default: data channels).

    Returns
    -------
    xarray.Dataset (Recordings) with ``channel_pos`` (metres, head frame) when the
    channels have positions.
    """
    import mne

    if isinstance(inst, mne.BaseEpochs):
        inst = inst.copy().pick(picks)
        data = inst.get_data().transpose(0, 2, 1)  # (epoch, time, channel)
        sts = None if streams is None else np.asarray(streams, dtype=float)
    elif isinstance(inst, mne.io.BaseRaw):
        inst = inst.copy().pick(picks)
        data = inst.get_data().T[None]
        sts = None if streams is None else np.asarray(streams, dtype=float)[None]
    else:
        raise TypeError(f"expected an mne Raw or Epochs, got {type(inst).__name__}")
    info = inst.info
    ds = recordings(
        data,
        sfreq_hz=float(info["sfreq"]),
        streams=sts,
        attended=attended,
        channel_names=info["ch_names"],
        stream_names=stream_names,
        group=group,
        subject=subject,
        source=f"mne:{type(inst).__name__}",
    )
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    if np.isfinite(pos).all() and (np.abs(pos).sum(axis=1) > 0).all():
        ds["channel_pos"] = (("channel", "axis"), pos)
        ds = ds.assign_coords(axis=["x", "y", "z"])
    return ds


def to_mne_info(recordings_ds: xr.Dataset, *, ch_types: str = "eeg") -> Any:
    """An ``mne.Info`` for the channels (with a montage when ``channel_pos`` is present)."""
    import mne

    ds = check_recordings(recordings_ds)
    names = [str(c) for c in ds["channel"].values]
    info = mne.create_info(names, float(ds.attrs["sfreq_hz"]), ch_types)
    if "channel_pos" in ds.data_vars:
        mont = mne.channels.make_dig_montage(
            ch_pos=dict(zip(names, ds["channel_pos"].values)), coord_frame="head"
        )
        info.set_montage(mont)
    return info


def plot_trf_topomap(
    weights: xr.DataArray,
    info: Any,
    *,
    times_s: Sequence[float] = (0.05, 0.1, 0.18),
    axes: Any = None,
    cmap: str = "RdBu_r",
):
    """Topographies of TRF (or decoder pattern) weights at given lags, through MNE.

    Parameters
    ----------
    weights : DataArray with dims including ``lag`` (s) and ``channel``
        E.g. ``ForwardTRF.trf_.sel(feature=...)`` or ``BackwardDecoder.patterns_``; other
        dims must have size 1.
    info : mne.Info
        With channel positions (see :func:`to_mne_info`).
    times_s : sequence of float
        Lags to show (nearest available lag).
    axes : sequence of matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import mne

    if "lag" not in weights.dims or "channel" not in weights.dims:
        raise ValueError(f"expected dims 'lag' and 'channel', got {weights.dims}")
    w = weights.squeeze(drop=True).transpose("lag", "channel")
    if w.ndim != 2:
        raise ValueError(f"select one feature/output first; dims left: {weights.dims}")
    if info.get_montage() is None:
        raise ValueError(
            "the channels have no positions; build the info with to_mne_info() from recordings "
            "with 'channel_pos', or set a montage (info.set_montage(...))"
        )
    chans = [str(c) for c in w["channel"].values]
    missing = [c for c in chans if c not in info["ch_names"]]
    if missing:
        raise ValueError(f"channels not in info: {missing[:5]}")
    sub = mne.pick_info(info, [info["ch_names"].index(c) for c in chans])
    if axes is None:
        fig, axes = plt.subplots(1, len(times_s), figsize=(2.6 * len(times_s), 2.6))
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    vmax = float(np.abs(w.values).max()) or 1.0
    lags = w["lag"].values
    for ax, t in zip(axes, times_s):
        i = int(np.argmin(np.abs(lags - t)))
        mne.viz.plot_topomap(
            w.values[i], sub, axes=ax, show=False, cmap=cmap, vlim=(-vmax, vmax), contours=0
        )
        ax.set_title(f"{1000 * lags[i]:.0f} ms")
    return fig
