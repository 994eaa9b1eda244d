"""The data side of :class:`~sklearn_impression.CrossDomainRegressor` (torch-free).

Input validation into flat frames, the per-person normalisation before the
network and the label delay and smoothing after it: the steps that act on
:class:`~sklearn_impression.DyadicFrames` or 2-D arrays, not on tensors.
"""

import numpy as np
from sklearn.utils.validation import validate_data

from ..preprocessing._normalizer import (
    merge_statistics,
    normalize_receivers,
    receiver_statistics,
)
from ..recordings._flat import emitter_columns, flatten, frames_from_array
from ..recordings._frames import DyadicFrames
from ..recordings._recording import Recording
from ._temporal import delay_predictions, smooth_traces

__all__ = ["DyadicInputsMixin"]


class DyadicInputsMixin:
    """Inputs and per-recording steps of the regressor (uses its parameters)."""

    def _normalize(self, X):
        """Per-receiver (or per-recording) normalisation: a receiver with kept
        statistics (seen in ``fit`` or enrolled) by those, anyone else by the
        statistics of their recordings in ``X``."""
        if self.normalize_by is None or not isinstance(X, DyadicFrames):
            return X
        known = self._receiver_statistics()
        return normalize_receivers(X, self.normalize_by, known if known[0] else None)

    def _receiver_statistics(self):
        """``(ids, means, scales)`` kept per receiver (empty before they existed)."""
        return (list(self.normalization_receivers_), self.normalization_means_,
                self.normalization_scales_)

    def _keep_statistics(self, *datasets, receivers=None, reset):
        """Keep the statistics of ``receivers`` (default: all) pooled over their
        recordings in ``datasets``; with ``reset`` replace all kept statistics,
        else add or replace theirs."""
        new = ([], np.zeros((0, 0)), np.zeros((0, 0)))
        if self.normalize_by == "receiver" and isinstance(datasets[0], DyadicFrames):
            new = receiver_statistics(*datasets, receivers=receivers)
        if not reset and self._receiver_statistics()[0]:
            new = merge_statistics(self._receiver_statistics(), new)
        (self.normalization_receivers_, self.normalization_means_,
         self.normalization_scales_) = new

    def _finish_traces(self, traces, extra_delay=0):
        """Label delay (plus ``extra_delay`` frames, one or one per trace), then
        smoothing."""
        delays = self.label_delay_frames_ + np.asarray(extra_delay, dtype=np.int64)
        return smooth_traces(delay_predictions(traces, delays), self.smoothing_frames_)

    def _frames(self, X, y=None, *, reset):
        """Validate ``X`` (and ``y``) into flat :class:`Frames`."""
        if isinstance(X, DyadicFrames):
            if not reset:
                self._check_dyadic_features(X)
            if X.n_emitter_features == 0 or X.n_receiver_features == 0:
                raise ValueError(
                    f"X has {X.n_emitter_features} emitter and "
                    f"{X.n_receiver_features} receiver features; the cross-domain "
                    "network needs both domains"
                )
            frames = flatten(X, y)
            if frames.n_frames == 0:
                raise ValueError("X has no frames (every recording is empty)")
            if reset:
                self.input_kind_ = "frames"
                self.n_emitter_features_ = X.n_emitter_features
                self.n_receiver_features_ = X.n_receiver_features
                self.n_features_in_ = X.n_features
                self.feature_names_in_ = np.asarray(X.feature_names, dtype=object)
                self._y_1d = False
            return frames
        if isinstance(X, (list, tuple)) and X and isinstance(X[0], Recording):
            raise TypeError(
                "CrossDomainRegressor takes DyadicFrames or a 2-D array, got a list "
                "of Recording; put Resampler() and ModalityConcatenator() before it "
                "in a Pipeline"
            )
        if not reset and self.input_kind_ != "array":
            raise TypeError("this model was fitted on DyadicFrames; predict needs "
                            "DyadicFrames too")
        if reset:
            X, y = validate_data(self, X, y, dtype=[np.float32, np.float64],
                                 ensure_min_features=2, multi_output=True,
                                 y_numeric=True)
            self.input_kind_ = "array"
            self._y_1d = np.ndim(y) == 1
            self._emitter_cols, self._receiver_cols = emitter_columns(
                self.emitter_features, X.shape[1])
            self.n_emitter_features_ = self._emitter_cols.size
            self.n_receiver_features_ = self._receiver_cols.size
        else:
            X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return frames_from_array(X, y, self._emitter_cols, self._receiver_cols)

    def _check_dyadic_features(self, X, what="X"):
        """``X`` has the fitted feature layout (errors name it ``what``)."""
        if self.input_kind_ != "frames":
            raise TypeError("this model was fitted on a 2-D array; predict needs a "
                            "2-D array too")
        got = (X.n_emitter_features, X.n_receiver_features)
        want = (self.n_emitter_features_, self.n_receiver_features_)
        if got != want:
            raise ValueError(
                f"{what} has {got[0]} emitter and {got[1]} receiver features, but "
                f"CrossDomainRegressor was fitted with {want[0]} and {want[1]}"
            )
        names = np.asarray(X.feature_names, dtype=object)
        if not np.array_equal(names, self.feature_names_in_):
            first = int(np.flatnonzero(names != self.feature_names_in_)[0])
            raise ValueError(
                f"{what}'s feature {first} is {names[first]!r}, but the model was "
                f"fitted with {self.feature_names_in_[first]!r} there"
            )
