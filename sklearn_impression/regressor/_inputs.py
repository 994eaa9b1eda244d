"""The data side of :class:`~sklearn_impression.CrossDomainRegressor` (torch-free).

Inputs validated into flat frames, with the fitted layout they imply, and the
per-person normalisation before the network: functions of explicit arguments
that act on :class:`~sklearn_impression.DyadicFrames` or 2-D arrays, never on
tensors.
"""

import numpy as np

from ..preprocessing._statistics import normalize_receivers, receiver_statistics
from ..recordings._flat import emitter_columns, flatten, frames_from_array
from ..recordings._frames import DyadicFrames
from ..recordings._inputs import check_fit_input, check_predict_input

__all__ = ["check_feature_layout", "fit_frames", "fit_statistics", "normalize",
           "predict_frames"]

_ARRAY_DTYPES = [np.float32, np.float64]
_NO_STATISTICS = ([], np.zeros((0, 0)), np.zeros((0, 0)))


def fit_statistics(normalize_by, *datasets, receivers=None):
    """``(ids, means, scales)`` of ``receivers`` (default: all) pooled over
    their recordings in ``datasets``, with ``normalize_by="receiver"`` and
    DyadicFrames; none otherwise."""
    if normalize_by == "receiver" and isinstance(datasets[0], DyadicFrames):
        return receiver_statistics(*datasets, receivers=receivers)
    return _NO_STATISTICS


def normalize(X, normalize_by, statistics):
    """Per-receiver (or per-recording) normalisation of ``X``'s receiver
    features: a receiver with kept ``statistics`` (``(ids, means, scales)`` or
    ``None``) by those, anyone else by the statistics of their recordings in
    ``X``. A 2-D array, or ``normalize_by=None``, is returned as it is."""
    if normalize_by is None or not isinstance(X, DyadicFrames):
        return X
    return normalize_receivers(X, normalize_by, statistics)


def fit_frames(estimator, X, y, *, emitter_features):
    """Flat frames of the training data and the fitted layout they imply.

    Returns ``(frames, layout)``: ``layout`` maps fitted attribute names
    (``input_kind_``, ``n_emitter_features_``, ...) to values, for ``fit`` to
    set. A 2-D array is validated with scikit-learn's ``validate_data``, which
    sets ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``.
    """
    X, y, y_1d = check_fit_input(estimator, X, y, dtype=_ARRAY_DTYPES,
                                 ensure_min_features=2)
    if isinstance(X, DyadicFrames):
        _check_both_domains(X)
        frames = _nonempty(flatten(X, y))
        return frames, {
            "input_kind_": "frames", "n_emitter_features_": X.n_emitter_features,
            "n_receiver_features_": X.n_receiver_features,
            "n_features_in_": X.n_features,
            "feature_names_in_": np.asarray(X.feature_names, dtype=object),
            "_y_1d": False}
    emitter, receiver = emitter_columns(emitter_features, X.shape[1])
    return frames_from_array(X, y, emitter, receiver), {
        "input_kind_": "array", "_y_1d": y_1d, "_emitter_cols": emitter,
        "_receiver_cols": receiver, "n_emitter_features_": emitter.size,
        "n_receiver_features_": receiver.size}


def predict_frames(estimator, X, layout):
    """Flat frames of ``X`` checked against the fitted ``layout``:
    ``("frames", (n_emitter_features, n_receiver_features, feature_names))``
    or ``("array", (emitter_columns, receiver_columns))``."""
    kind, fitted = layout
    X = check_predict_input(estimator, X, fitted_on_frames=kind == "frames",
                            dtype=_ARRAY_DTYPES)
    if isinstance(X, DyadicFrames):
        check_feature_layout(X, *fitted)
        _check_both_domains(X)
        return _nonempty(flatten(X))
    return frames_from_array(X, None, *fitted)


def check_feature_layout(X, n_emitter, n_receiver, feature_names, what="X"):
    """DyadicFrames ``X`` has the fitted feature layout (errors name ``what``)."""
    got = (X.n_emitter_features, X.n_receiver_features)
    if got != (n_emitter, n_receiver):
        raise ValueError(
            f"{what} has {got[0]} emitter and {got[1]} receiver features, but "
            f"CrossDomainRegressor was fitted with {n_emitter} and {n_receiver}"
        )
    names = np.asarray(X.feature_names, dtype=object)
    if not np.array_equal(names, feature_names):
        first = int(np.flatnonzero(names != feature_names)[0])
        raise ValueError(
            f"{what}'s feature {first} is {names[first]!r}, but the model was "
            f"fitted with {feature_names[first]!r} there"
        )


def _check_both_domains(X):
    if X.n_emitter_features == 0 or X.n_receiver_features == 0:
        raise ValueError(
            f"X has {X.n_emitter_features} emitter and {X.n_receiver_features} "
            "receiver features; the cross-domain network needs both domains"
        )


def _nonempty(frames):
    if frames.n_frames == 0:
        raise ValueError("X has no frames (every recording is empty)")
    return frames
