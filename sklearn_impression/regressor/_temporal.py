"""Recording-level steps around the network: label delay and trace smoothing.

Torch-free helpers of :class:`~sklearn_impression.CrossDomainRegressor`'s
``label_delay`` and ``smoothing`` parameters, applied to
:class:`~sklearn_impression.DyadicFrames` (whose recordings are in time order).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

__all__ = ["delay_frames", "delay_predictions", "delay_targets", "finish_traces",
           "smooth_traces"]


def delay_frames(seconds, label_rate, what):
    """``seconds`` as a whole number of label frames; needs the label rate."""
    if not seconds:
        return 0
    if label_rate is None:
        raise ValueError(
            f"{what}={seconds} s needs the labels' rate, but these DyadicFrames "
            "have label_rate=None (recordings with different frame rates, or built "
            f"by hand): pass label_rate to DyadicFrames or set {what}=0"
        )
    return int(round(seconds * label_rate))


def delay_targets(X, delay):
    """Pair the targets at ``t`` with the features at ``t - delay``.

    Returns ``X'`` whose frame ``t`` of each recording is frame
    ``max(t - delay, 0)`` of ``X`` (the first ``delay`` frames repeat the first
    one, as :func:`delay_predictions` does at predict time), still sharing the
    emitter blocks; the targets are unchanged. Every recording keeps its length.
    """
    if not delay:
        return X
    return X.select_frames([np.maximum(np.arange(n) - delay, 0)
                            for n in X.frame_counts])


def delay_predictions(traces, delay):
    """Shift each trace ``delay`` frames later; the start repeats the first value.

    ``delay`` is one int for all traces or one per trace; a negative delay shifts
    earlier and repeats the last value at the end.
    """
    delays = np.broadcast_to(np.asarray(delay, dtype=np.int64), (len(traces),))
    if not delays.any():
        return traces
    return [_shift(p, int(d)) for p, d in zip(traces, delays, strict=True)]


def _shift(p, delay):
    n = p.shape[0]
    if delay == 0 or n == 0:
        return p
    if abs(delay) >= n:
        edge = p[:1] if delay > 0 else p[-1:]
        return np.repeat(edge, n, axis=0)
    if delay > 0:
        return np.concatenate([np.repeat(p[:1], delay, axis=0), p[:-delay]])
    return np.concatenate([p[-delay:], np.repeat(p[-1:], -delay, axis=0)])


def smooth_traces(traces, width):
    """Centred moving average of ``width`` frames over each trace (edges held)."""
    if width <= 1:
        return traces
    return [uniform_filter1d(p, width, axis=0, mode="nearest") for p in traces]


def finish_traces(traces, delay, smoothing, extra_delay=0):
    """``traces`` shifted ``delay`` label frames later (plus ``extra_delay``,
    one int or one per trace), then smoothed over ``smoothing`` frames: the
    regressor's steps after the network."""
    delays = delay + np.asarray(extra_delay, dtype=np.int64)
    return smooth_traces(delay_predictions(traces, delays), smoothing)
