"""The ``Recordings`` schema: EEG / MEG / iEEG trials with candidate stimulus streams.

Conventions:

- variable ``eeg`` with dims ``trial × time × channel`` (any neural signal; the name is kept
  short); trials of unequal length are NaN-padded at the end and ``n_samples`` (per trial)
  holds the real length;
- variable ``streams`` with dims ``trial × stream × time × feature``: the candidate stimulus
  features (e.g. the speech envelope of each talker) on the same time base as ``eeg``;
- ``attended`` (per trial): index of the attended stream, ``-1`` when unknown;
- coord ``time`` in seconds from trial start (``time = sample / sfreq_hz``), ``channel`` names,
  ``stream`` names, ``group`` per trial (story, subject, session: used by leave-one-group-out
  cross-validation);
- attr ``sfreq_hz``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from cogattn.data._common import SCHEMA_ATTR, as_float_array, per_trial, require_schema
from cogattn.data.errors import DataError

__all__ = ["RecordingsAccessor", "recordings", "validate_recordings"]


def recordings(
    eeg: Any,
    *,
    sfreq_hz: float,
    streams: Any = None,
    attended: Any = None,
    channel_names: Any = None,
    stream_names: Any = None,
    feature_names: Any = None,
    group: Any = None,
    subject: Any = None,
    source: str = "",
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated ``Recordings`` dataset.

    Parameters
    ----------
    eeg : array (trial, time, channel) or list of arrays (time, channel)
        Neural data. A list may hold trials of different lengths.
    sfreq_hz : float
        Sampling rate of ``eeg`` and ``streams`` in Hz.
    streams : array (trial, stream, time[, feature]) or list of arrays (stream, time[, feature]), optional
        Candidate stimulus features aligned sample-by-sample with ``eeg``.
    attended : array (trial,) of int, optional
        Index of the attended stream per trial (``-1`` = unknown).
    channel_names, stream_names, feature_names : sequence of str, optional
        Labels (defaults ``ch0..``, ``stream0..``, ``feature0..``).
    group : scalar or sequence (trial,), optional
        Grouping label per trial for leave-one-group-out splits (default: the trial index).
    subject : scalar or sequence (trial,), optional
        Subject label per trial.
    source : str
        Provenance.
    attrs : dict, optional
        Extra attributes.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ds = recordings(rng.normal(size=(3, 128, 4)), sfreq_hz=64.0,
    ...                 streams=rng.normal(size=(3, 2, 128)), attended=[0, 1, 0])
    >>> dict(ds.sizes)["time"], ds["streams"].dims
    (128, ('trial', 'stream', 'time', 'feature'))
    """
    sfreq = float(sfreq_hz)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise DataError(
            f"expected a positive sampling rate in Hz, got {sfreq_hz!r}", field="sfreq_hz"
        )
    eeg_arr, n_samples = _stack_trials(eeg, "eeg")
    n_trials, n_times, n_ch = eeg_arr.shape
    data_vars: dict[str, Any] = {"eeg": (("trial", "time", "channel"), eeg_arr)}
    coords: dict[str, Any] = {
        "trial": np.arange(n_trials),
        "time": ("time", np.arange(n_times) / sfreq, {"units": "s"}),
        "channel": _names(channel_names, n_ch, "ch", "channel_names"),
        "n_samples": ("trial", n_samples),
        "group": (
            "trial",
            per_trial(
                np.arange(n_trials) if group is None else group, n_trials, "group", default=0
            ),
        ),
        "subject": ("trial", per_trial(subject, n_trials, "subject", default="")),
    }
    if streams is not None:
        st, st_samples = _stack_trials(streams, "streams")
        if st.ndim == 3:  # (trial, stream, time) -> add feature axis
            st = st[..., None]
        if st.shape[0] != n_trials:
            raise DataError(
                f"expected {n_trials} trials (as in eeg), got {st.shape[0]}", field="streams"
            )
        if st.shape[2] != n_times or not np.array_equal(st_samples, n_samples):
            raise DataError(
                f"streams must have as many samples per trial as eeg ({n_samples.tolist()[:5]}...), got "
                f"{st_samples.tolist()[:5]}...: resample streams to sfreq_hz first",
                field="streams",
            )
        data_vars["streams"] = (("trial", "stream", "time", "feature"), st)
        coords["stream"] = _names(stream_names, st.shape[1], "stream", "stream_names")
        coords["feature"] = _names(feature_names, st.shape[3], "feature", "feature_names")
    att = np.full(n_trials, -1) if attended is None else np.asarray(attended)
    if att.ndim == 0:
        att = np.full(n_trials, att.item())
    if att.shape != (n_trials,) or att.dtype.kind not in "iu":
        raise DataError(
            f"expected {n_trials} integer stream indices, got {att.dtype} {att.shape}",
            field="attended",
        )
    data_vars["attended"] = ("trial", att.astype(np.int64))
    ds_attrs = {SCHEMA_ATTR: "recordings", "sfreq_hz": sfreq, "source": str(source)}
    ds_attrs.update(attrs or {})
    return validate_recordings(xr.Dataset(data_vars, coords=coords, attrs=ds_attrs))


def _stack_trials(value: Any, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Stack trials (an array, or a list of arrays of unequal length) into a NaN-padded array.

    The time axis is axis 0 of each ``eeg`` trial and axis 1 of each ``streams`` trial.
    Returns the padded array and the number of samples of each trial.
    """
    if isinstance(value, (list, tuple)):
        trials = [as_float_array(v, field) for v in value]
        if not trials:
            raise DataError("expected at least one trial", field=field)
    else:
        arr = as_float_array(value, field)
        trials = list(arr)
    time_axis = 0 if field == "eeg" else 1
    lengths = []
    for i, t in enumerate(trials):
        if field == "eeg" and t.ndim != 2:
            raise DataError(
                f"expected (time, channel) per trial, got shape {t.shape}", record=i, field=field
            )
        if field == "streams" and t.ndim not in (2, 3):
            raise DataError(
                f"expected (stream, time[, feature]) per trial, got shape {t.shape}",
                record=i,
                field=field,
            )
        lengths.append(t.shape[time_axis])
    other = {tuple(np.delete(t.shape, time_axis)) for t in trials}
    if len(other) != 1:
        raise DataError(f"trials disagree in their non-time dims: {sorted(other)}", field=field)
    n_max = max(lengths)
    out_shape = list(trials[0].shape)
    out_shape[time_axis] = n_max
    out = np.full((len(trials), *out_shape), np.nan)
    for i, t in enumerate(trials):
        index = [i] + [slice(None)] * t.ndim
        index[1 + time_axis] = slice(0, t.shape[time_axis])
        out[tuple(index)] = t
        if not np.isfinite(t).all():
            bad = np.argwhere(~np.isfinite(t))[0]
            raise DataError(
                f"expected finite values, found {t[tuple(bad)]!r} at index {tuple(int(b) for b in bad)}",
                record=i,
                field=field,
            )
    return out, np.asarray(lengths, dtype=np.int64)


def _names(value: Any, n: int, prefix: str, field: str) -> np.ndarray:
    if value is None:
        return np.array([f"{prefix}{i}" for i in range(n)], dtype=object)
    arr = np.asarray(value, dtype=object)
    if arr.shape != (n,):
        raise DataError(f"expected {n} names, got shape {arr.shape}", field=field)
    if len(set(arr.tolist())) != n:
        raise DataError("names must be unique", field=field)
    return arr


def validate_recordings(ds: xr.Dataset) -> xr.Dataset:
    """Check a ``Recordings`` dataset against the schema; return it unchanged."""
    require_schema(ds, "recordings")
    if "eeg" not in ds.data_vars or ds["eeg"].dims != ("trial", "time", "channel"):
        raise DataError("expected a variable 'eeg' with dims (trial, time, channel)", field="eeg")
    sfreq = ds.attrs.get("sfreq_hz")
    if sfreq is None or not float(sfreq) > 0:
        raise DataError(f"expected a positive sampling rate attr, got {sfreq!r}", field="sfreq_hz")
    n_samples = ds["n_samples"].values
    if (n_samples < 1).any() or (n_samples > ds.sizes["time"]).any():
        raise DataError(f"expected sample counts in [1, {ds.sizes['time']}]", field="n_samples")
    valid = np.arange(ds.sizes["time"])[None, :] < n_samples[:, None]
    eeg = ds["eeg"].values
    finite = np.isfinite(eeg).all(axis=2)
    if (valid & ~finite).any():
        t = int(np.argwhere(valid & ~finite)[0, 0])
        raise DataError("expected finite values within the trial", record=t, field="eeg")
    if "streams" in ds.data_vars:
        if ds["streams"].dims != ("trial", "stream", "time", "feature"):
            raise DataError(
                f"expected dims (trial, stream, time, feature), got {ds['streams'].dims}",
                field="streams",
            )
        st_finite = np.isfinite(ds["streams"].values).all(axis=(1, 3))
        if (valid & ~st_finite).any():
            t = int(np.argwhere(valid & ~st_finite)[0, 0])
            raise DataError("expected finite values within the trial", record=t, field="streams")
    att = ds["attended"].values
    n_streams = ds.sizes.get("stream", 0)
    if ((att < -1) | (att >= max(n_streams, 0))).any() and (att != -1).any():
        t = int(np.argwhere((att < -1) | (att >= n_streams))[0, 0])
        raise DataError(
            f"expected -1 (unknown) or a stream index in [0, {n_streams}), got {att[t]}",
            record=t,
            field="attended",
        )
    return ds


@xr.register_dataset_accessor("recordings")
class RecordingsAccessor:
    """Helpers on a ``Recordings`` dataset: ``ds.recordings.<method>``."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def validate(self) -> xr.Dataset:
        """Validate against the schema (see :func:`validate_recordings`)."""
        return validate_recordings(self._ds)

    @property
    def sfreq_hz(self) -> float:
        """Sampling rate in Hz."""
        return float(self._ds.attrs["sfreq_hz"])

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return int(self._ds.sizes["trial"])

    def trial(self, index: int) -> tuple[np.ndarray, np.ndarray | None, int]:
        """Return ``(eeg (time, channel), streams (stream, time, feature) or None, attended)``
        for trial ``index`` (positional), without padding."""
        ds = self._ds
        n = int(ds["n_samples"].values[index])
        eeg = ds["eeg"].values[index, :n]
        streams = ds["streams"].values[index, :, :n] if "streams" in ds.data_vars else None
        return eeg, streams, int(ds["attended"].values[index])

    def durations_s(self) -> np.ndarray:
        """Length of each trial in seconds."""
        return self._ds["n_samples"].values / self.sfreq_hz
