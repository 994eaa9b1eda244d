"""Stimulus traces: the training receivers' mean annotation of each stimulus.

Shared by :class:`~sklearn_impression.experiments.StimulusMeanBaseline` (which
predicts them) and :class:`~sklearn_impression.CrossDomainRegressor` (whose
``adapt(calibration="offset+gain+stimulus")`` weighs them per receiver). Frames
are matched by their position from the stimulus's start. Torch-free.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["fit_stimulus_traces", "stimulus_deviation", "stimulus_positions",
           "stimulus_trace_values"]


def stimulus_positions(X, i):
    """Frame positions of recording ``i`` of DyadicFrames ``X`` on its stimulus's
    clock: its emitter rows when it was cut from a longer one, else 0, 1, ..."""
    if X.emitter_rows is not None:
        return np.asarray(X.emitter_rows[i])
    return np.arange(X.frame_counts[i])


def fit_stimulus_traces(X, y, center_receivers=True):
    """``(constant, {stimulus: trace})`` from DyadicFrames ``X`` and targets ``y``.

    ``trace`` has shape ``(n_positions, n_outputs)``: the mean target over the
    recordings of that stimulus at each position (each receiver's own mean level
    removed first and the mean of those levels added back, when
    ``center_receivers``). Positions no recording reached are interpolated
    linearly; ``constant`` is the mean level. Recordings without a stimulus id
    count for ``constant`` only.
    """
    y = [np.asarray(t, dtype=np.float64) for t in y]
    if center_receivers:
        receivers = np.asarray(X.receivers, dtype=object)
        levels = {r: np.concatenate([y[i] for i in np.flatnonzero(receivers == r)])
                  .mean(axis=0) for r in dict.fromkeys(X.receivers)}
        constant = np.mean(list(levels.values()), axis=0)
        y = [t - levels[r] for t, r in zip(y, X.receivers, strict=True)]
        offset = constant
    else:
        constant = np.concatenate(y).mean(axis=0)
        offset = 0.0
    positions = {i: stimulus_positions(X, i) for i, s in enumerate(X.stimuli)
                 if s is not None and X.frame_counts[i]}
    length = {}
    for i, pos in positions.items():
        length[X.stimuli[i]] = max(length.get(X.stimuli[i], 0), int(pos.max()) + 1)
    n_outputs = constant.shape[0]
    sums = {s: np.zeros((n, n_outputs)) for s, n in length.items()}
    counts = {s: np.zeros(n) for s, n in length.items()}
    for i, pos in positions.items():
        np.add.at(sums[X.stimuli[i]], pos, y[i])
        np.add.at(counts[X.stimuli[i]], pos, 1)
    traces = {}
    for stimulus, total in sums.items():
        at = np.flatnonzero(counts[stimulus])
        mean = total[at] / counts[stimulus][at, np.newaxis]
        every = np.arange(len(total))
        traces[stimulus] = offset + np.column_stack(
            [np.interp(every, at, mean[:, j]) for j in range(n_outputs)])
    return constant, traces


def stimulus_trace_values(traces, constant, X, *, owner, warn=True):
    """One ``(n_frames_i, n_outputs)`` array per recording of ``X``: its
    stimulus's trace at its positions (the last value beyond the trace's end),
    or ``constant`` for a stimulus without a trace, with one warning naming
    them (``owner`` names the estimator)."""
    out, missing = [], []
    for i, stimulus in enumerate(X.stimuli):
        trace = traces.get(stimulus)
        if trace is None:
            missing.append(stimulus)
            out.append(np.tile(constant, (X.frame_counts[i], 1)))
        else:
            out.append(trace[np.minimum(stimulus_positions(X, i), len(trace) - 1)])
    if missing and warn:
        names = sorted({repr(s) for s in missing})
        warnings.warn(
            f"{owner} has no training trace for stimulus {', '.join(names)} "
            f"({len(missing)} recording(s)); they get the training mean",
            UserWarning, stacklevel=3)
    return out


def stimulus_deviation(stimulus_ids, stimulus_traces, target_mean, X):
    """Per recording of ``X``: its stimulus's trace minus ``target_mean``, in
    target units (0, silently, for a stimulus without a trace: the regressor
    serves those recordings with its no-trace calibration).

    ``stimulus_ids`` and ``stimulus_traces`` are a fitted regressor's
    ``stimulus_ids_`` and ``stimulus_traces_``.
    """
    traces = dict(zip(stimulus_ids, stimulus_traces, strict=True))
    return [v - target_mean for v in stimulus_trace_values(
        traces, target_mean, X, owner="CrossDomainRegressor", warn=False)]
