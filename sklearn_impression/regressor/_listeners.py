"""Per-receiver parameters of :class:`~sklearn_impression.CrossDomainRegressor`.

Two kinds, both stored per row of one *listener table* (row 0: the population,
rows ``1..n``: the receivers in ``listener_ids_``):

* the **listener vector** of listener adaptation (a row of the module's
  ``listener`` embedding), learned in ``fit`` for training receivers and in
  ``adapt`` for enrolled ones;
* an **output calibration** ``y = gain * y_net + offset`` per output, in
  standardised target units (gain 1 and offset 0 unless ``adapt`` fitted them),
  plus ``weight * (stimulus trace - target mean)`` in target units, where the
  stimulus trace is the training receivers' mean target of the recording's
  stimulus at that moment (weight 0 unless ``adapt`` fitted it).

``adapt`` fits only these rows of new receivers from a short labelled segment; the
shared network is never touched. Importing this module does not import torch.
"""

import numbers
import warnings

import numpy as np

from ..recordings._flat import _check_finite, recording_name
from ..recordings._frames import DyadicFrames
from ._calibration import fit_delay_and_calibration
from ._stimulus_traces import fit_stimulus_traces, stimulus_trace_values

__all__ = ["MIN_ENROLMENT_FRAMES", "UnknownReceiverWarning"]

#: Fewest labelled frames per receiver that :meth:`CrossDomainRegressor.adapt`
#: accepts (1 s at 25 Hz).
MIN_ENROLMENT_FRAMES = 25

_CALIBRATIONS = ("auto", "none", "offset", "offset+gain", "offset+gain+stimulus")
#: Most frames per receiver (in evenly spaced frames or windows) used to fit its
#: vector.
_MAX_FRAMES = 512


class UnknownReceiverWarning(UserWarning):
    """``predict`` met receivers without per-receiver parameters.

    They get the population parameters: the population listener vector and no
    output calibration. Filter it with :func:`warnings.filterwarnings` when that is
    expected (for example under leave-receivers-out without enrolment).
    """


def receiver_ids(X, what):
    """The receiver id of every recording of ``X``, or a ValueError saying why not."""
    if not isinstance(X, DyadicFrames):
        raise ValueError(
            f"{what} needs receiver ids, and a {type(X).__name__} has none: pass the "
            "DyadicFrames of a ModalityConcatenator (built from Recordings with a "
            "receiver id) instead of a 2-D array"
        )
    for i, r in enumerate(X.receivers):
        if r is None:
            raise ValueError(
                f"{what} needs receiver ids, but recording {i} (stimulus="
                f"{X.stimuli[i]!r}) has receiver=None; set Recording.receiver")
    return list(X.receivers)


def listener_rows(model, receivers, lengths=None, *, warn):
    """Listener-table row of every frame (``None``: nothing per receiver).

    ``receivers`` holds the id of each recording (``None`` for a 2-D array) and
    ``lengths`` its frame count; without ``lengths`` the rows are per recording.
    Receivers not in ``model.listener_ids_`` get row 0; with ``warn`` one
    :class:`UnknownReceiverWarning` lists them.
    """
    ids = list(model.listener_ids_)
    if not (model.listener_adaptation or ids) or receivers is None:
        return None
    table = {r: k + 1 for k, r in enumerate(ids)}
    rows = np.array([table.get(r, 0) for r in receivers], dtype=np.int64)
    unknown = list(dict.fromkeys(r for r, k in zip(receivers, rows, strict=True)
                                 if k == 0))
    if unknown and warn:
        warnings.warn(
            f"receivers {unknown} have no per-receiver parameters in this model "
            "(not seen in fit, not enrolled with adapt); they get the population "
            "listener vector and no output calibration", UnknownReceiverWarning,
            stacklevel=3)
    if lengths is None:
        return rows
    return np.repeat(rows, np.asarray(lengths, dtype=np.int64))


def init_table(model, receivers):
    """Listener ids and identity calibration after ``fit``."""
    model.listener_ids_ = list(dict.fromkeys(receivers)) if receivers else []
    model.n_fitted_listeners_ = len(model.listener_ids_)
    n = model.n_fitted_listeners_ + 1
    model.listener_gain_ = np.ones((n, model.n_outputs_))
    model.listener_offset_ = np.zeros((n, model.n_outputs_))
    model.listener_delay_ = np.zeros(n, dtype=np.int64)
    model.listener_stimulus_ = np.zeros((n, model.n_outputs_))
    model.listener_trace_gain_ = np.ones((n, model.n_outputs_))
    model.listener_trace_offset_ = np.zeros((n, model.n_outputs_))


def fit_stimulus_table(model, X, y):
    """``stimulus_ids_`` and ``stimulus_traces_`` from the training data."""
    traces = {}
    if isinstance(X, DyadicFrames):
        traces = fit_stimulus_traces(X, y)[1]
    model.stimulus_ids_ = list(traces)
    model.stimulus_traces_ = list(traces.values())


def traced_recordings(model, X, recording_rows):
    """Per recording of ``X``: does its receiver's stimulus term apply (a
    weight fitted at enrolment and a stimulus with a trace from ``fit``)?"""
    if recording_rows is None:
        return None
    weights = model.listener_stimulus_[recording_rows]
    known = set(model.stimulus_ids_)
    return np.array([bool(np.any(w != 0)) and s in known
                     for w, s in zip(weights, X.stimuli, strict=True)], dtype=bool)


def calibrate_outputs(model, y, recording_rows, traced, lengths):
    """Standardised outputs ``y`` (all recordings' frames) with each row's
    calibration: the stimulus-term one for traced recordings, the other
    otherwise."""
    rows = np.repeat(recording_rows, lengths)
    gain, offset = model.listener_gain_[rows], model.listener_offset_[rows]
    if traced is not None and traced.any():
        trace_gain, trace_offset = (model.listener_trace_gain_,
                                    model.listener_trace_offset_)
        frames = np.repeat(traced, lengths)
        gain = np.where(frames[:, None], trace_gain[rows], gain)
        offset = np.where(frames[:, None], trace_offset[rows], offset)
    return y * gain + offset


def _stimulus_deviation(model, X):
    """Per recording of ``X``: its stimulus trace minus the target mean, in
    target units (0, silently, for a stimulus without a trace: callers use
    the no-trace calibration there)."""
    traces = dict(zip(model.stimulus_ids_, model.stimulus_traces_, strict=True))
    mean = model.scaler_.target_mean
    return [v - mean for v in stimulus_trace_values(
        traces, mean, X, owner="CrossDomainRegressor", warn=False)]


def add_stimulus_term(model, X, recording_rows, traced, traces):
    """``traces`` plus each enrolled receiver's weighted stimulus trace, for the
    recordings whose stimulus has a trace (``traced``)."""
    if recording_rows is None or traced is None or not traced.any():
        return traces
    weights = model.listener_stimulus_[recording_rows]
    used = np.flatnonzero(traced)
    deviation = _stimulus_deviation(model, X[used])
    traces = list(traces)
    for k, i in enumerate(used):
        traces[i] = traces[i] + weights[i] * deviation[k]
    return traces


def _grow_table(model, new_ids):
    """Append rows for ``new_ids`` (population-initialised)."""
    import torch

    module = model.net_.module_
    model.listener_ids_ = list(model.listener_ids_) + list(new_ids)
    n_new = len(new_ids)
    k = model.n_outputs_
    model.listener_gain_ = np.vstack([model.listener_gain_, np.ones((n_new, k))])
    model.listener_offset_ = np.vstack([model.listener_offset_,
                                        np.zeros((n_new, k))])
    model.listener_delay_ = np.concatenate([model.listener_delay_,
                                            np.zeros(n_new, dtype=np.int64)])
    model.listener_stimulus_ = np.vstack([model.listener_stimulus_,
                                          np.zeros((n_new, k))])
    model.listener_trace_gain_ = np.vstack([model.listener_trace_gain_,
                                            np.ones((n_new, k))])
    model.listener_trace_offset_ = np.vstack([model.listener_trace_offset_,
                                              np.zeros((n_new, k))])
    if module.listener is not None and n_new:
        old = module.listener.weight.detach()
        grown = torch.nn.Embedding(old.shape[0] + n_new, old.shape[1]).to(old.device)
        with torch.no_grad():
            grown.weight[:old.shape[0]] = old
            grown.weight[old.shape[0]:] = old[0]
        module.listener = grown


def _fit_vectors(model, dataset, rows, *, steps, lr, l2):
    """Fit the listener vectors of ``rows`` (sorted, unique) on a frozen network."""
    import torch

    module = model.net_.module_
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            x, y = dataset.batch(slice(0, len(dataset)))
            z_e, z_r = module.encode(x["emitter"], x["receiver"])
            table = module.listener.weight.detach()
        local = torch.searchsorted(torch.as_tensor(rows, device=z_r.device),
                                   x["listener"])
        start = table[torch.as_tensor(rows, device=table.device)].clone()
        vectors = start.clone().requires_grad_(True)
        mask = x.get("mask")
        weight = None if mask is None else mask.unsqueeze(-1).to(y.dtype)
        optimizer = torch.optim.Adam([vectors], lr=lr)
        for _ in range(steps):
            y_hat = module.decode(z_e, module.listen(z_r, vectors[local]), mask)[0]
            err = (y_hat - y) ** 2
            err = err.mean() if weight is None else (err * weight).sum() / (
                weight.sum() * y.shape[-1])
            loss = err + l2 * ((vectors - start) ** 2).sum(dim=-1).mean()
            # only the vectors' gradient: the frozen network gets none
            (vectors.grad,) = torch.autograd.grad(loss, [vectors])
            optimizer.step()
        with torch.no_grad():
            module.listener.weight[torch.as_tensor(rows, device=table.device)] = \
                vectors.detach()
    finally:
        module.train(was_training)


def _vector_dataset(model, frames, frame_rows, rows):
    """Training units for the vectors: frames, or windows ``window`` apart.

    At most ``_MAX_FRAMES`` frames per receiver, in evenly spaced units: the 25 Hz
    frames of a minute are highly redundant, and the enrolment must take
    seconds on a CPU.
    """
    import torch

    from ..nn import FrameDataset, window_table

    device = model.net_.device

    def tensor(a, dtype=torch.float32):
        return torch.as_tensor(np.ascontiguousarray(a)).to(device, dtype)

    if model.window == 1:
        units = np.flatnonzero(np.isin(frame_rows, rows))[:, None]
        mask = None
    else:
        index, mask = window_table(frames.lengths, model.window, model.window)
        first = np.isin(frame_rows[index[:, 0]], rows)
        units, mask = index[first], None if mask is None else mask[first]
    keep, most = [], max(1, _MAX_FRAMES // model.window)
    for row in rows:
        mine = np.flatnonzero(frame_rows[units[:, 0]] == row)
        if mine.size > most:
            mine = mine[np.linspace(0, mine.size - 1, most).astype(np.intp)]
        keep.append(mine)
    keep = np.concatenate(keep)
    units = units[keep]
    mask = None if mask is None else mask[keep]
    return FrameDataset(tensor(frames.emitter), tensor(frames.receiver),
                        tensor(frames.emitter_row, torch.int64),
                        tensor(frames.y), tensor(units, torch.int64),
                        None if mask is None else tensor(mask, torch.bool),
                        tensor(frame_rows, torch.int64))


def _check_context(model, context, receivers):
    """``adapt``'s ``context``: the model's feature layout, and finite
    recordings of every enrolled receiver."""
    if not isinstance(context, DyadicFrames):
        raise TypeError(
            "adapt's context must be DyadicFrames (the enrolled receivers' "
            f"recordings as predict gets them), got {type(context).__name__}")
    model._check_dyadic_features(context, "adapt's context")
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


def adapt(model, X, y, *, context, calibration, lag_range, steps, lr, l2):  # noqa: C901
    """Body of :meth:`CrossDomainRegressor.adapt` (validated before torch runs)."""
    import torch

    from ..recordings._flat import flatten
    from ._temporal import delay_frames, delay_targets

    if calibration not in _CALIBRATIONS:
        raise ValueError(f"calibration must be one of {_CALIBRATIONS}, got "
                         f"{calibration!r}")
    for name, value in (("lag_range", lag_range), ("steps", steps), ("lr", lr),
                        ("l2", l2)):
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not value >= 0):
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    receivers = receiver_ids(X, "adapt")
    if model.input_kind_ != "frames":
        raise ValueError("adapt needs a model fitted on DyadicFrames (receiver ids "
                         "travel with them); this one was fitted on a 2-D array")
    if y is None:
        raise ValueError("adapt needs the enrolment targets y")
    model._check_dyadic_features(X)
    if context is not None:
        _check_context(model, context, receivers)
    label_rate = X.label_rate
    enrolled = X  # positions on the stimuli's clocks
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
    max_shift = delay_frames(lag_range, label_rate, "lag_range")
    # Checked: now the state changes. The receivers' normalisation statistics,
    # from the labelled recordings and the unlabelled ones of context, are
    # kept for predict.
    model._keep_statistics(X, *(() if context is None else (context,)),
                           receivers=set(receivers), reset=False)
    if model.normalize_by is not None:
        X = model._normalize(X)
        frames = flatten(X, y)
    fitted = set(model.listener_ids_[:model.n_fitted_listeners_])
    known = {r: k + 1 for k, r in enumerate(model.listener_ids_)}
    _grow_table(model, [r for r in counts if r not in known])
    known = {r: k + 1 for k, r in enumerate(model.listener_ids_)}
    rows = np.array(sorted(known[r] for r in counts), dtype=np.int64)
    module = model.net_.module_
    new_rows = np.array(sorted(known[r] for r in counts if r not in fitted),
                        dtype=np.int64)
    if module.listener is not None and new_rows.size:
        weight = module.listener.weight
        with torch.no_grad():  # a re-enrolled receiver starts from the population
            weight[torch.as_tensor(new_rows, device=weight.device)] = \
                weight[0].detach().clone()
    model.listener_gain_[rows] = 1.0
    model.listener_offset_[rows] = 0.0
    model.listener_delay_[rows] = 0
    model.listener_stimulus_[rows] = 0.0
    model.listener_trace_gain_[rows] = 1.0
    model.listener_trace_offset_[rows] = 0.0
    trace_rows = listener_rows(model, receivers, warn=False)
    frame_rows = np.repeat(trace_rows, frames.lengths)
    frames = model.scaler_.transform(frames)
    frames.listener = frame_rows
    if module.listener is not None and new_rows.size and steps:
        # the vectors learn the targets at t from the features at t - label delay
        delayed = model.scaler_.transform(flatten(
            delay_targets(X, model.label_delay_frames_), y))
        delayed.listener = frame_rows
        dataset = _vector_dataset(model, delayed, frame_rows, new_rows)
        _fit_vectors(model, dataset, new_rows, steps=int(steps), lr=float(lr),
                     l2=float(l2))
    bounds = np.cumsum(frames.lengths)[:-1]
    traces = np.split(model._predict_standardized(frames), bounds)
    targets = np.split(np.asarray(frames.y, dtype=np.float64), bounds)
    stimulus = None
    if calibration in ("auto", "offset+gain+stimulus"):
        scale = model.scaler_.target_scale
        known = set(model.stimulus_ids_)
        deviation = _stimulus_deviation(model, enrolled)
        stimulus = [d / scale if s in known else None
                    for d, s in zip(deviation, enrolled.stimuli, strict=True)]
    fit_delay_and_calibration(model, traces, targets, trace_rows, rows,
                               calibration=calibration, max_shift=max_shift,
                               stimulus=stimulus)
    return model
