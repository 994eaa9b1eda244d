"""What :meth:`CrossDomainRegressor.predict` computes, offline or causally.

One path for both: the per-person normalisation, the network, each enrolled
receiver's calibration, then the label delay and smoothing and the stimulus
term. ``causal`` (a :class:`~sklearn_impression.regressor._causal.CausalSteps`)
swaps the two steps that read the future for their causal forms (running
statistics for people without kept ones, a trailing window): the
:class:`~sklearn_impression.live.CausalRegressor` predicts this way.
"""

import numpy as np

from ..recordings._frames import DyadicFrames
from ..recordings._inputs import array_output
from ._causal import finish_causal, normalize_causal
from ._inputs import normalize, predict_frames
from ._net import predict_standardized
from ._stimulus_traces import stimulus_deviation
from ._temporal import finish_traces

__all__ = ["fitted_layout", "network_outputs", "predict_traces"]


def fitted_layout(model):
    """The input layout a fitted regressor checks ``X`` against (see
    :func:`~sklearn_impression.regressor._inputs.predict_frames`)."""
    if model.input_kind_ == "frames":
        return "frames", (model.n_emitter_features_, model.n_receiver_features_,
                          model.feature_names_in_)
    return "array", (model._emitter_cols, model._receiver_cols)


def network_outputs(model, X, *, warn=True):
    """The calibrated network outputs of normalised ``X``, in target units.

    Returns ``(y, rows, traced)``: for DyadicFrames one array per recording,
    each recording's listener-table row (``None`` when the model has no
    per-receiver parameters) and whether its stimulus term applies; for a 2-D
    array one array and ``None``, ``None``.
    """
    table = model.listeners_
    frames = model.scaler_.transform(predict_frames(model, X, fitted_layout(model)))
    rows = traced = None
    if isinstance(X, DyadicFrames) and (model.listener_adaptation or table.ids):
        rows = table.rows_for(X.receivers, warn=warn)
        frames.listener = np.repeat(rows, frames.lengths)
    y = predict_standardized(model.net_, frames, window=model.window, hop=model.hop,
                             listener_adaptation=model.listener_adaptation)
    if rows is not None:
        traced = table.traced(rows, X.stimuli, model.stimulus_ids_)
        y = table.calibrate(y, rows, traced, frames.lengths)
    y = model.scaler_.inverse_targets(y)
    if not isinstance(X, DyadicFrames):
        return y, None, None
    return np.split(y, np.cumsum(frames.lengths)[:-1]), rows, traced


def predict_traces(model, X, *, causal=None):
    """The predictions of fitted regressor ``model`` for ``X``: one array per
    recording for DyadicFrames, an array for a 2-D array.

    Parameters
    ----------
    model : CrossDomainRegressor
    X : DyadicFrames or array-like of shape (n_frames, n_features)
    causal : CausalSteps, default=None
        ``None``: the offline steps.
    """
    table = model.listeners_
    if causal is None or not causal.running or not isinstance(X, DyadicFrames):
        X = normalize(X, model.normalize_by, table.statistics)
    else:
        X = normalize_causal(X, model.normalize_by, table.statistics,
                             causal.halflife)
    y, rows, traced = network_outputs(model, X)
    if model.input_kind_ != "frames":
        return array_output(y, model._y_1d)
    traces = y
    extra = 0 if rows is None else table.delay[rows]
    if causal is None or not causal.trailing:
        traces = finish_traces(traces, model.label_delay_frames_,
                               model.smoothing_frames_, extra)
    else:
        traces = finish_causal(traces, model.label_delay_frames_ + np.asarray(extra),
                               model.smoothing_frames_, causal.lookahead)
    if rows is None or not traced.any():
        return traces
    used = np.flatnonzero(traced)
    return table.add_stimulus_terms(traces, rows, used, stimulus_deviation(
        model.stimulus_ids_, model.stimulus_traces_, model.scaler_.target_mean,
        X[used]))
