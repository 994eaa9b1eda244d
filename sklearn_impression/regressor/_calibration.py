"""The output calibration of an enrolled receiver, and its reaction delay.

Part of :meth:`~sklearn_impression.CrossDomainRegressor.adapt`
(:mod:`sklearn_impression.regressor._adapt`): least squares of the targets on the
network's outputs (an offset, a gain, a weight of the stimulus's training
trace), with the extra reaction delay chosen on the network's own output.
Torch-free.
"""

import numpy as np

from ._temporal import finish_traces

__all__ = ["calibrate", "calibrate_with_stimulus", "fit_delay_and_calibration",
           "no_trace_calibration"]


def calibrate(p, t, calibration, c=None):
    """Gain, offset and stimulus weight per output of
    ``t ~ gain * p + weight * c + offset``."""
    if calibration == "offset+gain+stimulus":
        return calibrate_with_stimulus(p, t, c)
    gain = np.ones(p.shape[1])
    if calibration == "offset+gain":
        pc = p - p.mean(axis=0)
        var = (pc ** 2).mean(axis=0)
        cov = (pc * (t - t.mean(axis=0))).mean(axis=0)
        gain = np.where(var > 1e-8, cov / np.maximum(var, 1e-8), 1.0)
        gain = np.clip(gain, 0.1, 10.0)
    offset = np.zeros(p.shape[1])
    if calibration != "none":
        offset = (t - gain * p).mean(axis=0)
    return gain, offset, np.zeros(p.shape[1])


def calibrate_with_stimulus(p, t, c):
    """Least squares of ``t ~ gain * p + weight * c + offset`` per output, with
    the gain kept in [0.1, 10] and the weight in [0, 10] (a clipped coefficient is
    fixed and the others fitted again)."""
    k = p.shape[1]
    gain, offset, weight = np.ones(k), np.zeros(k), np.zeros(k)
    ones = np.ones(len(p))
    for j in range(k):
        g, w, o = np.linalg.lstsq(np.column_stack([p[:, j], c[:, j], ones]),
                                  t[:, j], rcond=None)[0]
        if not 0.1 <= g <= 10.0:
            g = float(np.clip(g, 0.1, 10.0))
            w, o = np.linalg.lstsq(np.column_stack([c[:, j], ones]),
                                   t[:, j] - g * p[:, j], rcond=None)[0]
        if not 0.0 <= w <= 10.0:
            w = float(np.clip(w, 0.0, 10.0))
            g = np.linalg.lstsq(np.column_stack([p[:, j], ones]),
                                t[:, j] - w * c[:, j], rcond=None)[0][0]
            g = float(np.clip(g, 0.1, 10.0))
            o = float(np.mean(t[:, j] - g * p[:, j] - w * c[:, j]))
        gain[j], weight[j], offset[j] = g, w, o
    return gain, offset, weight


def no_trace_calibration(calibration):
    """The calibration fitted for recordings whose stimulus has no trace."""
    return {"auto": "offset", "offset+gain+stimulus": "offset+gain"}.get(
        calibration, calibration)


def fit_delay_and_calibration(table, traces, targets, trace_rows, rows, *,
                               calibration, max_shift, stimulus, delay, smoothing,
                               min_shift=None, finish=finish_traces):
    """Per receiver row of ``table`` (a
    :class:`~sklearn_impression.regressor._listeners.ListenerTable`, set in
    place): the extra delay (within ``max_shift`` frames of the label delay
    ``delay``), the calibration of the network's outputs alone and, with a
    stimulus term, the calibration with it.

    ``traces`` are the network's standardised outputs per recording before the
    label delay and smoothing. The delay is chosen on the network's own output
    (never on a memorised stimulus trace): each candidate delay is applied the
    way ``predict`` applies it (shift, then ``smoothing``), the no-trace
    calibration fitted and the squared error kept; ties go to the smallest
    shift. ``min_shift`` (default ``-max_shift``) bounds the extra delay from
    below, and ``finish(traces, delay, smoothing, extra)`` applies it (the
    causal predictor's trailing window instead of the offline steps). ``stimulus``
    holds each recording's standardised stimulus trace, or ``None`` for a recording
    (or everything) without one; the stimulus-term calibration is fitted on the
    recordings that have one, at the chosen delay.
    """
    plain = no_trace_calibration(calibration)
    with_trace = calibration in ("auto", "offset+gain+stimulus")
    low = -max_shift if min_shift is None else min_shift
    candidates = sorted(range(low, max(max_shift, low) + 1), key=abs)
    for row in rows:
        mine = np.flatnonzero(trace_rows == row)
        t = np.concatenate([targets[i] for i in mine])
        best = None
        for extra in candidates:
            p = np.concatenate(finish([traces[i] for i in mine], delay, smoothing,
                                      extra))
            gain, offset, _ = calibrate(p, t, plain)
            error = float(((t - gain * p - offset) ** 2).sum())
            if best is None or error < best[0]:
                best = (error, extra, gain, offset, p)
        _, extra, gain, offset, p = best
        trace_gain, trace_offset, weight = gain, offset, 0.0
        has = [k for k, i in enumerate(mine)
               if stimulus is not None and stimulus[i] is not None]
        if with_trace and has:
            starts = np.concatenate([[0], np.cumsum([len(targets[i]) for i in mine])])
            pick = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in has])
            c = np.concatenate([stimulus[mine[k]] for k in has])
            # the weight is kept in target units: predict adds the stimulus term
            # after undoing the scaling
            trace_gain, trace_offset, weight = calibrate(p[pick], t[pick],
                                                         "offset+gain+stimulus", c)
        table.set_row(row, delay=extra, gain=gain, offset=offset,
                      trace_gain=trace_gain, trace_offset=trace_offset,
                      stimulus=weight)
