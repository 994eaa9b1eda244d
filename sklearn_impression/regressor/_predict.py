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
from ..utils._torch import import_torch
from ._causal import finish_causal, normalize_causal
from ._inputs import normalize, predict_frames
from ._net import frame_dataset, predict_standardized
from ._stimulus_traces import stimulus_deviation
from ._temporal import finish_traces

torch = import_torch()

__all__ = ["fitted_layout", "frame_outputs", "listener_rows", "network_outputs",
           "predict_traces"]


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
    frames = predict_frames(model, X, fitted_layout(model))
    if not isinstance(X, DyadicFrames):
        return frame_outputs(model, frames), None, None
    rows, traced = listener_rows(model, X.receivers, X.stimuli, warn=warn)
    y = frame_outputs(model, frames, rows, traced)
    return np.split(y, np.cumsum(frames.lengths)[:-1]), rows, traced


def listener_rows(model, receivers, stimuli, *, warn=True):
    """``(rows, traced)``: the listener-table row of every recording's receiver
    and whether its stimulus term applies, or ``None, None`` when the model
    has no per-receiver parameters."""
    table = model.listeners_
    if not (model.listener_adaptation or table.ids):
        return None, None
    rows = table.rows_for(receivers, warn=warn)
    return rows, table.traced(rows, stimuli, model.stimulus_ids_)


def frame_outputs(model, frames, rows=None, traced=None):
    """The calibrated network outputs ``(n_frames, n_outputs)``, in target
    units, of flat normalised :class:`~sklearn_impression.recordings._flat.Frames`
    (standardised in place: the caller's own arrays), with the rows and
    ``traced`` of :func:`listener_rows`.

    Frame-level models (``window=1``) run a batch of up to ``batch_size``
    frames as one call of the module in evaluation mode (what skorch's
    ``forward`` does for one batch, without its data loader: the live path's
    few frames a tick); anything else through
    :func:`~sklearn_impression.regressor._net.predict_standardized`.
    """
    frames = model.scaler_.transform(frames)
    if rows is not None:
        frames.listener = np.repeat(rows, frames.lengths)
    net = model.net_
    if model.window == 1 and 0 < frames.n_frames <= net.batch_size:
        data = frame_dataset(frames, net.device, window=1, hop=None,
                             listener_adaptation=model.listener_adaptation)
        if net.module_.training:
            net.module_.eval()
        with torch.inference_mode():
            y = net.infer(data.batch(slice(None))[0])[0]
        y = y.float().cpu().numpy()[:, 0, :].astype(np.float64)
    else:
        y = predict_standardized(net, frames, window=model.window, hop=model.hop,
                                 listener_adaptation=model.listener_adaptation)
    if rows is not None:
        y = model.listeners_.calibrate(y, rows, traced, frames.lengths)
    return model.scaler_.inverse_targets(y)


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
                             causal.halflife, prior=causal.prior)
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
