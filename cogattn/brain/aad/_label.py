"""Shared code of the *label* decoders (private): windowing for training, torch training loop.

A label decoder predicts a class from the neural data alone (the attended side for the locus
CNN, the attended speaker's cluster for the speaker-cluster decoder, any class for
:class:`WindowClassifier`). Training windows are cut from the training trials with
``overlap`` (50 % by default); decisions use non-overlapping windows of the requested length.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from cogattn.brain.aad._base import AADDecoderMixin, Trial, check_recordings, iter_trials

__all__ = ["WindowClassifier", "cut_windows", "train_torch_classifier"]

logger = logging.getLogger(__name__)


def cut_windows(
    eeg: np.ndarray, length: int, *, overlap: float = 0.0, end: int | None = None, start: int = 0
) -> np.ndarray:
    """Windows ``(n, length, channel)`` from ``eeg[start:end]`` with fractional ``overlap``."""
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must lie in [0, 1), got {overlap}")
    seg = eeg[start:end]
    step = max(1, round(length * (1 - overlap)))
    if seg.shape[0] < length:
        return np.zeros((0, length, eeg.shape[1]))
    starts = np.arange(0, seg.shape[0] - length + 1, step)
    idx = starts[:, None] + np.arange(length)[None, :]
    return seg[idx]


def recordings_windows(
    ds: xr.Dataset,
    labels: np.ndarray,
    *,
    window_s: float,
    overlap: float,
    validation_fraction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training (and validation: the last ``validation_fraction`` of each trial) windows."""
    fs = float(ds.attrs["sfreq_hz"])
    length = round(window_s * fs)
    if length < 2:
        raise ValueError(f"window_s={window_s} is shorter than 2 samples at {fs} Hz")
    xs, ys, xv, yv = [], [], [], []
    for t in iter_trials(ds):
        n = t.eeg.shape[0]
        cut = n - round(validation_fraction * n) if validation_fraction > 0 else n
        w = cut_windows(t.eeg, length, overlap=overlap, end=cut)
        xs.append(w)
        ys.append(np.full(len(w), labels[t.index]))
        if validation_fraction > 0:
            v = cut_windows(t.eeg, length, overlap=0.0, start=cut)
            xv.append(v)
            yv.append(np.full(len(v), labels[t.index]))
    x = np.concatenate(xs)
    if len(x) == 0:
        raise ValueError(f"no training trial is at least {window_s} s long")
    xval = np.concatenate(xv) if xv else np.zeros((0, length, x.shape[2]))
    yval = np.concatenate(yv) if yv else np.zeros(0)
    return x, np.concatenate(ys), xval, yval


def train_torch_classifier(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    optimizer: str,
    weight_decay: float,
    device: str,
    seed: int,
    verbose: bool,
    desc: str,
    param_groups: list[dict] | None = None,
) -> dict[str, Any]:
    """Mini-batch training with cross-entropy; keeps the weights of the best validation epoch.

    Returns a history dict (``loss``, ``val_loss``, ``best_epoch``).
    """
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(seed)
    model.to(device)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    params = param_groups if param_groups is not None else model.parameters()
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=learning_rate, weight_decay=weight_decay)
        sched = None
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=learning_rate, momentum=0.9, weight_decay=weight_decay)
        # step schedule of Vandecappelle et al. (2021): lr, lr/2 after 10 %, lr/4 after 35 %
        m1, m2 = max(1, int(0.1 * epochs)), max(2, int(0.35 * epochs))
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[m1, m2], gamma=0.5)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    # class-balanced loss: with leave-one-trial-out, the held-out trial's class is always the
    # training minority; an unweighted loss would bias chance-level models below 50 %
    counts = np.bincount(np.asarray(y, dtype=int), minlength=int(np.max(y)) + 1).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0.0)
    n_out = model(xt[:1].to(device)).shape[1] if len(xt) else len(weights)
    weights = np.pad(weights, (0, max(0, n_out - len(weights))))[:n_out]
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.as_tensor(weights, dtype=torch.float32, device=device)
    )
    has_val = x_val is not None and len(x_val) > 0
    if has_val:
        xv = torch.as_tensor(x_val, dtype=torch.float32, device=device)
        yv = torch.as_tensor(y_val, dtype=torch.long, device=device)
        val_fn = torch.nn.CrossEntropyLoss(weight=loss_fn.weight)
    best = (np.inf, None, -1)
    hist: dict[str, Any] = {"loss": [], "val_loss": []}
    n = len(xt)
    for epoch in tqdm(range(epochs), desc=desc, disable=not verbose, leave=False):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = xt[idx].to(device), yt[idx].to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if sched is not None:
            sched.step()
        hist["loss"].append(total / n)
        if has_val:
            model.eval()
            with torch.no_grad():
                vl = float(val_fn(model(xv), yv))
            hist["val_loss"].append(vl)
            if vl < best[0]:
                best = (vl, {k: v.detach().clone() for k, v in model.state_dict().items()}, epoch)
    if has_val and best[1] is not None:
        model.load_state_dict(best[1])
    hist["best_epoch"] = best[2] if has_val else epochs - 1
    model.eval()
    return hist


def as_windows(X: Any) -> np.ndarray:
    """Array input of label decoders: (n, time, channel), or (n, feature) as (n, feature, 1)."""
    x = np.asarray(X, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"expected windows (n, time, channel) or (n, feature), got {x.shape}")
    return x


class _LabelDecoderMixin(AADDecoderMixin):
    """Windows → class probabilities; decisions map classes onto candidate streams."""

    _aad_kind = "label"
    _needs_streams_to_decide = False

    def _stream_scores(self, proba: np.ndarray, trial: Trial) -> np.ndarray:
        # default: class c = stream c (locus decoders: stream 0 = left, 1 = right)
        n_streams = trial.streams.shape[0] if trial.streams is not None else proba.shape[1]
        out = np.zeros((proba.shape[0], n_streams))
        for j, c in enumerate(self.classes_):
            if 0 <= int(c) < n_streams:
                out[:, int(c)] = proba[:, j]
        return out

    def _n_decision_classes(self, ds: xr.Dataset) -> int:
        return int(ds.sizes["stream"]) if "stream" in ds.sizes else len(self.classes_)

    def _window_scores(self, trial: Trial, starts: np.ndarray, length: int) -> np.ndarray:
        idx = starts[:, None] + np.arange(length)[None, :]
        proba = self._proba_windows(trial.eeg[idx])
        return self._stream_scores(proba, trial)


class WindowClassifier(_LabelDecoderMixin, ClassifierMixin, BaseEstimator):
    """Any scikit-learn classifier on per-window features of the neural data (a label decoder).

    Used to show the trial-identity leakage of random window splits (spec §2.7): with
    ``features="mean"`` and a per-trial offset in the data, logistic regression "decodes"
    attention far above chance under random splits and at chance under leave-one-trial-out.

    Parameters
    ----------
    estimator : sklearn classifier, optional
        Default: standardisation + logistic regression.
    features : {"mean", "logvar", "mean+logvar"}
        Per-channel window mean, log variance (CSP-like power), or both. A 2-D array input
        ``(n, feature)`` is taken as ready-made features.
    window_s : float
        Training-window length (Recordings input).
    overlap : float
        Overlap of training windows.

    Attributes
    ----------
    estimator_ : fitted classifier
    classes_ : array
    n_features_in_ : int
        Number of channels.
    sfreq_hz_ : float or None
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        features: str = "mean",
        window_s: float = 1.0,
        overlap: float = 0.5,
    ) -> None:
        self.estimator = estimator
        self.features = features
        self.window_s = window_s
        self.overlap = overlap

    def _features(self, w: np.ndarray) -> np.ndarray:
        if getattr(self, "_flat_", False):  # 2-D array input: already features
            return w[:, :, 0]
        if self.features == "mean":
            return w.mean(axis=1)
        lv = np.log(w.var(axis=1) + 1e-12)
        if self.features == "logvar":
            return lv
        if self.features == "mean+logvar":
            return np.concatenate([w.mean(axis=1), lv], axis=1)
        raise ValueError(
            f"features must be 'mean', 'logvar' or 'mean+logvar', got {self.features!r}"
        )

    def fit(self, X: Any, y: Any = None):
        """Fit on a ``Recordings`` (label = attended stream) or on windows ``(n, time, ch)``."""
        from cogattn.brain.aad._base import is_recordings

        est = (
            self.estimator
            if self.estimator is not None
            else make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced")
            )
        )
        if is_recordings(X):
            ds = check_recordings(X, need_attended=True)
            w, labels, _, _ = recordings_windows(
                ds, ds["attended"].values, window_s=self.window_s, overlap=self.overlap
            )
            self.sfreq_hz_ = float(ds.attrs["sfreq_hz"])
            self.n_features_in_ = w.shape[2]
            self._flat_ = False
        else:
            if y is None:
                raise ValueError(
                    "WindowClassifier requires y to be passed, but the target y is None"
                )
            w, labels = _validate_windows(self, X, y, reset=True)
            self.sfreq_hz_ = None
            self._flat_ = not _is_windows(X)
        check_classification_targets(labels)
        self.estimator_ = clone(est).fit(self._features(w), labels)
        self.classes_ = self.estimator_.classes_
        return self

    def _proba_windows(self, w: np.ndarray) -> np.ndarray:
        return self.estimator_.predict_proba(self._features(w))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of windows ``(n, time, channel)``."""
        check_is_fitted(self)
        w, _ = _validate_windows(self, X, reset=False)
        return self._proba_windows(w)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes of windows."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _is_windows(X: Any) -> bool:
    """True for 3-D window input (an array, or a list of 2-D windows)."""
    if getattr(X, "ndim", None) == 3:
        return True
    return isinstance(X, (list, tuple)) and len(X) > 0 and np.ndim(X[0]) == 2


def _validate_windows(est: BaseEstimator, X: Any, y: Any = None, *, reset: bool):
    """sklearn validation of 2-D arrays (n, feature) or plain checks of 3-D windows."""
    if _is_windows(X):
        xw = np.asarray(X, dtype=float)
        if not np.isfinite(xw).all():
            raise ValueError("X contains NaN or infinity")
        if reset:
            est.n_features_in_ = xw.shape[2]
        elif xw.shape[2] != est.n_features_in_:
            raise ValueError(
                f"X has {xw.shape[2]} features, but {type(est).__name__} is expecting "
                f"{est.n_features_in_} features as input"
            )
        return xw, (None if y is None else np.asarray(y))
    if y is None:
        x2 = validate_data(est, X, reset=reset, dtype=np.float64)
        return np.asarray(x2)[:, :, None], None
    x2, y2 = validate_data(est, X, y, reset=reset, dtype=np.float64)
    return np.asarray(x2)[:, :, None], y2
