"""Enrolment: the algorithm of :meth:`CrossDomainRegressor.adapt`.

For every receiver of the enrolment data, with the shared network frozen: the
listener vector (listener adaptation), the normalisation statistics
(``normalize_by="receiver"``), the reaction delay and the output calibrations,
all stored in the regressor's
:class:`~sklearn_impression.regressor._listeners.ListenerTable`. Everything is
checked before any state changes.
"""

import numpy as np

from ..recordings._flat import _check_finite, flatten, recording_name
from ..recordings._frames import DyadicFrames
from ..recordings._ids import receiver_ids
from ._calibration import fit_delay_and_calibration
from ._causal import finish_causal
from ._inputs import check_feature_layout, fit_statistics, normalize
from ._listeners import MIN_ENROLMENT_FRAMES
from ._net import predict_standardized
from ._predict import fitted_layout
from ._stimulus_traces import stimulus_deviation
from ._temporal import delay_frames, delay_targets, finish_traces

__all__ = ["adapt"]

#: Most frames per receiver (in evenly spaced frames or windows) used to fit its
#: vector.
_MAX_FRAMES = 512


def _check_context(model, context, receivers):
    """``adapt``'s ``context``: the model's feature layout, and finite
    recordings of every enrolled receiver."""
    if not isinstance(context, DyadicFrames):
        raise TypeError(
            "adapt's context must be DyadicFrames (the enrolled receivers' "
            f"recordings as predict gets them), got {type(context).__name__}")
    check_feature_layout(context, *fitted_layout(model)[1],
                         what="adapt's context")
    have = receiver_ids(context, "adapt's context")
    missing = sorted({str(r) for r in set(receivers) - set(have)})
    if missing:
        raise ValueError(
            f"adapt's context has no recordings of receivers {missing}: it must "
            "hold every enrolled receiver's recordings")
    enrolled = set(receivers)
    for i, r in enumerate(have):
        if r in enrolled:  # the statistics read these
            _check_finite(context.receiver_blocks[i], "adapt's context: receiver "
                          f"features of {recording_name(context, i)}")


def _check_enrolment(model, X, y, context):
    """The enrolment data's receivers and flat frames, or the error that says
    what is wrong with them."""
    receivers = receiver_ids(X, "adapt")
    if model.input_kind_ != "frames":
        raise ValueError("adapt needs a model fitted on DyadicFrames (receiver ids "
                         "travel with them); this one was fitted on a 2-D array")
    if y is None:
        raise ValueError("adapt needs the enrolment targets y")
    check_feature_layout(X, *fitted_layout(model)[1])
    if context is not None:
        _check_context(model, context, receivers)
    frames = flatten(X, y)  # checks y against X
    if frames.y.shape[1] != model.n_outputs_:
        raise ValueError(f"y has {frames.y.shape[1]} outputs, the model "
                         f"{model.n_outputs_}")
    counts = {}
    for r, n in zip(receivers, frames.lengths, strict=True):
        counts[r] = counts.get(r, 0) + int(n)
    few = {r: n for r, n in counts.items() if n < MIN_ENROLMENT_FRAMES}
    if few:
        raise ValueError(
            f"adapt needs at least {MIN_ENROLMENT_FRAMES} labelled frames per "
            f"receiver; receivers {few} (receiver: frames) have fewer")
    return receivers, frames


def _vector_units(window, lengths, frame_rows, rows):
    """Units (frames, or windows ``window`` apart) for the listener vectors:
    at most ``_MAX_FRAMES`` frames per receiver, evenly spaced (the 25 Hz
    frames of a minute are highly redundant, and enrolment must take seconds
    on a CPU)."""
    if window == 1:
        units, mask = np.flatnonzero(np.isin(frame_rows, rows))[:, None], None
    else:
        from ..nn import window_table

        index, mask = window_table(lengths, window, window)
        first = np.isin(frame_rows[index[:, 0]], rows)
        units, mask = index[first], None if mask is None else mask[first]
    keep, most = [], max(1, _MAX_FRAMES // window)
    for row in rows:
        mine = np.flatnonzero(frame_rows[units[:, 0]] == row)
        if mine.size > most:
            mine = mine[np.linspace(0, mine.size - 1, most).astype(np.intp)]
        keep.append(mine)
    keep = np.concatenate(keep)
    return units[keep], None if mask is None else mask[keep]


def _fit_vectors(model, X, y, frame_rows, rows, *, steps, lr, l2):
    """The listener vectors of ``rows``: they learn the targets at ``t`` from
    the features at ``t - label delay``."""
    from ..nn import FrameDataset, fit_listener_vectors

    delayed = model.scaler_.transform(flatten(
        delay_targets(X, model.label_delay_frames_), y))
    units, mask = _vector_units(model.window, delayed.lengths, frame_rows, rows)
    dataset = FrameDataset.from_frames(delayed, model.net_.device, windows=units,
                                       window_mask=mask, listener=frame_rows)
    fit_listener_vectors(model.net_.module_, dataset, rows, steps=int(steps),
                         lr=float(lr), l2=float(l2))


def adapt(model, X, y, *, context, calibration, lag_range, steps, lr, l2,
          causal=None):
    """Body of :meth:`CrossDomainRegressor.adapt` (arguments validated there).

    ``causal`` (a :class:`~sklearn_impression.regressor._causal.CausalSteps`):
    choose each receiver's extra delay among those that keep its predictions
    causal, judged on the causal trailing window.
    """
    from ..nn import grow_listener_embedding, reset_listener_vectors

    receivers, frames = _check_enrolment(model, X, y, context)
    max_shift = delay_frames(lag_range, X.label_rate, "lag_range")
    min_shift, finish = -max_shift, finish_traces
    if causal is not None and causal.trailing:
        min_shift = max(min_shift, causal.min_extra_delay(
            model.label_delay_frames_, model.smoothing_frames_))

        def finish(traces, delay, smoothing, extra):
            return finish_causal(traces, delay + extra, smoothing, causal.lookahead)
    table = model.listeners_
    # Checked: now the state changes. The receivers' normalisation statistics,
    # from the labelled recordings and the unlabelled ones of context, are
    # kept for predict.
    enrolled = X  # positions on the stimuli's clocks
    table.keep_statistics(fit_statistics(
        model.normalize_by, X, *(() if context is None else (context,)),
        receivers=set(receivers)), reset=False)
    if model.normalize_by is not None:
        X = normalize(X, model.normalize_by, table.statistics)
        frames = flatten(X, y)
    fitted = set(table.ids[:table.n_fitted])
    unique = list(dict.fromkeys(receivers))
    n_before = len(table.ids)
    rows = np.sort(table.grow(unique))
    module = model.net_.module_
    grow_listener_embedding(module, len(table.ids) - n_before)
    new_rows = np.sort(table.rows_for([r for r in unique if r not in fitted],
                                      warn=False))
    reset_listener_vectors(module, new_rows)  # re-enrolled: from the population
    table.reset(rows)
    trace_rows = table.rows_for(receivers, warn=False)
    frame_rows = np.repeat(trace_rows, frames.lengths)
    if module.listener is not None and new_rows.size and steps:
        _fit_vectors(model, X, y, frame_rows, new_rows, steps=steps, lr=lr, l2=l2)
    frames = model.scaler_.transform(frames)
    frames.listener = frame_rows
    bounds = np.cumsum(frames.lengths)[:-1]
    traces = np.split(predict_standardized(
        model.net_, frames, window=model.window, hop=model.hop,
        listener_adaptation=model.listener_adaptation), bounds)
    targets = np.split(np.asarray(frames.y, dtype=np.float64), bounds)
    stimulus = None
    if calibration in ("auto", "offset+gain+stimulus"):
        scale = model.scaler_.target_scale
        known = set(model.stimulus_ids_)
        deviation = stimulus_deviation(model.stimulus_ids_, model.stimulus_traces_,
                                       model.scaler_.target_mean, enrolled)
        stimulus = [d / scale if s in known else None
                    for d, s in zip(deviation, enrolled.stimuli, strict=True)]
    fit_delay_and_calibration(table, traces, targets, trace_rows, rows,
                              calibration=calibration, max_shift=max_shift,
                              stimulus=stimulus, delay=model.label_delay_frames_,
                              smoothing=model.smoothing_frames_,
                              min_shift=min_shift, finish=finish)
    return model
