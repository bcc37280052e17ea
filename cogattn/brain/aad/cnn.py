"""Locus-of-attention CNN (Vandecappelle et al. 2021, eLife 10:e56481), re-implemented in torch.

Architecture (≈5.5 k parameters for 64 channels):

1. one 2-D convolution with ``n_filters = 5`` kernels spanning ``kernel_ms = 130`` ms
   (17 samples at 128 Hz) × all channels, zero-padded so the output keeps T samples;
2. ReLU, then average pooling over the whole time axis (any window length works);
3. fully connected 5 → 5 with a sigmoid;
4. fully connected 5 → n_classes (2: attended left / right), softmax / cross-entropy.

Weights are initialised ``0.5·N(0, 1)`` as in the paper. Inputs are divided by a
per-subject scale computed on the training data: ``sqrt(median over channels of the 20 %
trimmed mean of squared samples)``. The last ``validation_fraction`` (15 %) of every training
trial is held out and the weights of the epoch with the lowest validation loss are kept.

Deviations (stated): the paper trains with MATLAB SGD (batch 20, 100 epochs, a step schedule
and separate weight/bias learning-rate factors 0.3/1.7); here ``optimizer="sgd"`` keeps SGD
with momentum, the bias factors and a step schedule, and the default is Adam
(``learning_rate=5e-3``), which converges in fewer CPU epochs.

A label decoder: it sees no speech. It is exposed to trial and gaze confounds (Rotaru et al.
2024), so :func:`~cogattn.brain.aad.evaluate_windows` only allows trial-wise splits for it.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn

from cogattn.brain.aad._base import check_recordings, is_recordings
from cogattn.brain.aad._label import (
    _LabelDecoderMixin,
    _validate_windows,
    recordings_windows,
    train_torch_classifier,
)

__all__ = ["LocusCNN", "LocusNet"]


class LocusNet(nn.Module):
    """The Vandecappelle et al. (2021) network: input ``(batch, time, channel)`` → logits."""

    def __init__(
        self, n_channels: int, n_classes: int = 2, *, kernel_samples: int = 17,
        n_filters: int = 5, n_hidden: int = 5,
    ) -> None:  # fmt: skip
        super().__init__()
        self.kernel_samples = int(kernel_samples)
        self.conv = nn.Conv2d(1, n_filters, kernel_size=(self.kernel_samples, n_channels))
        self.fc1 = nn.Linear(n_filters, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_classes)
        with torch.no_grad():
            for layer in (self.conv, self.fc1, self.fc2):
                layer.weight.normal_(0.0, 0.5)
                layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)``."""
        k = self.kernel_samples
        x = nn.functional.pad(x, (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2))
        h = torch.relu(self.conv(x[:, None]))  # (B, F, T, 1)
        h = h.mean(dim=(2, 3))
        return self.fc2(torch.sigmoid(self.fc1(h)))


class LocusCNN(_LabelDecoderMixin, ClassifierMixin, BaseEstimator):
    """Locus-of-attention CNN decoder (Vandecappelle et al. 2021).

    Parameters
    ----------
    sfreq_hz : float, optional
        Sampling rate (from the ``Recordings``; needed for arrays to size the kernel).
    kernel_ms : float
        Temporal extent of the convolution kernels (130 ms).
    n_filters, n_hidden : int
        Convolution filters and hidden units (5, 5).
    window_s : float
        Training-window length for ``Recordings`` input (1 s; decisions can use any length).
    overlap : float
        Overlap of training windows (0.5).
    validation_fraction : float
        Tail of each training trial used for early stopping (0.15; 0 disables).
    epochs, batch_size, learning_rate, optimizer, weight_decay
        Training (see the module docstring).
    device : str
        Torch device (``"cpu"``, ``"cuda"``...).
    random_state : int
        Seeds initialisation and batching.
    verbose : bool
        Show a progress bar over epochs.

    Attributes
    ----------
    model_ : LocusNet
    classes_ : array
        Class labels (attended stream indices for ``Recordings``).
    scale_ : float
        Per-subject input scale.
    history_ : dict
        Training and validation loss per epoch, ``best_epoch``.
    sfreq_hz_ : float or None
    n_features_in_ : int
        Channels (3-D input) or features (2-D input, read as a 1-channel sequence).
    """

    _parameter_constraints: ClassVar[dict] = {
        "sfreq_hz": [Interval(Real, 0, None, closed="neither"), None],
        "kernel_ms": [Interval(Real, 0, None, closed="neither")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
        "window_s": [Interval(Real, 0, None, closed="neither")],
        "overlap": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        *,
        sfreq_hz: float | None = None,
        kernel_ms: float = 130.0,
        n_filters: int = 5,
        n_hidden: int = 5,
        window_s: float = 1.0,
        overlap: float = 0.5,
        validation_fraction: float = 0.15,
        epochs: int = 100,
        batch_size: int = 20,
        learning_rate: float = 5e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        device: str = "cpu",
        random_state: Any = 0,
        verbose: bool = False,
    ) -> None:
        self.sfreq_hz = sfreq_hz
        self.kernel_ms = kernel_ms
        self.n_filters = n_filters
        self.n_hidden = n_hidden
        self.window_s = window_s
        self.overlap = overlap
        self.validation_fraction = validation_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, (int, np.integer)):
            return int(rs)
        return int(np.random.default_rng(None if rs is None else 0).integers(2**31))

    def fit(self, X: Any, y: Any = None):
        """Fit on a ``Recordings`` (class = attended stream) or windows ``(n, time, channel)``.

        Returns
        -------
        self
        """
        self._validate_params()
        if is_recordings(X):
            if y is not None:
                raise ValueError("y must be None when X is a Recordings dataset")
            ds = check_recordings(X, need_attended=True)
            fs = float(ds.attrs["sfreq_hz"])
            x, labels, xv, yv = recordings_windows(
                ds, ds["attended"].values, window_s=self.window_s, overlap=self.overlap,
                validation_fraction=self.validation_fraction,
            )  # fmt: skip
            self.n_features_in_ = x.shape[2]
        else:
            x, labels = _validate_windows(self, X, y, reset=True)
            if labels is None:
                raise ValueError("LocusCNN requires y to be passed, but the target y is None")
            if self.sfreq_hz is None:
                raise ValueError("LocusCNN: sfreq_hz is required for array input")
            fs = float(self.sfreq_hz)
            xv, yv = None, None
        check_classification_targets(labels)
        self.classes_, y_idx = np.unique(labels, return_inverse=True)
        self.sfreq_hz_ = fs
        sq = x.reshape(-1, x.shape[2]) ** 2
        trimmed = stats.trim_mean(sq, 0.2, axis=0)
        scale = float(np.sqrt(np.median(trimmed)))
        self.scale_ = scale if scale > 0 else 1.0
        kernel = max(1, round(self.kernel_ms * fs / 1000.0))
        torch.manual_seed(self._seed())
        self.model_ = LocusNet(
            x.shape[2], max(len(self.classes_), 2), kernel_samples=kernel,
            n_filters=self.n_filters, n_hidden=self.n_hidden,
        )  # fmt: skip
        yv_idx = None if yv is None else np.searchsorted(self.classes_, yv)
        groups = None
        if self.optimizer == "sgd":
            w = [p for n, p in self.model_.named_parameters() if n.endswith("weight")]
            b = [p for n, p in self.model_.named_parameters() if n.endswith("bias")]
            groups = [
                {"params": w, "lr": 0.3 * self.learning_rate},
                {"params": b, "lr": 1.7 * self.learning_rate},
            ]
        self.history_ = train_torch_classifier(
            self.model_, x / self.scale_, y_idx, x_val=None if xv is None else xv / self.scale_,
            y_val=yv_idx, epochs=self.epochs, batch_size=self.batch_size,
            learning_rate=self.learning_rate, optimizer=self.optimizer,
            weight_decay=self.weight_decay, device=self.device, seed=self._seed(),
            verbose=self.verbose, desc="LocusCNN", param_groups=groups,
        )  # fmt: skip
        # inference in float64: predictions do not depend on the batch composition
        self.model_.to("cpu").double()
        return self

    def _proba_windows(self, w: np.ndarray) -> np.ndarray:
        self.model_.eval()
        with torch.no_grad():
            logits = self.model_(torch.as_tensor(w / self.scale_, dtype=torch.float64))
            p = torch.softmax(logits, dim=1).numpy().astype(float)
        return p[:, : len(self.classes_)] / p[:, : len(self.classes_)].sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for windows ``(n, time, channel)`` (or ``(n, feature)``)."""
        check_is_fitted(self)
        x, _ = _validate_windows(self, X, reset=False)
        return self._proba_windows(x)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
