"""Recording-level steps around the network: label delay and trace smoothing.

Torch-free helpers of :class:`~sklearn_impression.CrossDomainRegressor`'s
``label_delay`` and ``smoothing`` parameters, applied to
:class:`~sklearn_impression.DyadicFrames` (whose recordings are in time order).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

__all__ = ["delay_frames", "delay_targets", "delay_predictions", "smooth_traces"]


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


def delay_targets(X, y, delay):
    """Pair the features at ``t`` with the targets at ``t + delay``.

    Returns ``(X', y')`` where recording ``i`` keeps its first ``n_i - delay``
    frames and the targets from frame ``delay`` on. A recording of ``delay`` frames
    or fewer keeps nothing to learn from and is a ``ValueError``.
    """
    if not delay:
        return X, y
    counts = X.frame_counts
    short = [i for i, n in enumerate(counts) if n <= delay]
    if short:
        i = short[0]
        raise ValueError(
            f"recording {i} (receiver={X.receivers[i]!r}, stimulus="
            f"{X.stimuli[i]!r}) has {counts[i]} frames, but label_delay is {delay} "
            "frames: it needs more frames than the delay"
        )
    X = X.select_frames([np.arange(n) < n - delay for n in counts])
    return X, [np.asarray(t)[delay:] for t in y]


def delay_predictions(traces, delay):
    """Shift each trace ``delay`` frames later; the start repeats the first value."""
    if not delay:
        return traces
    out = []
    for p in traces:
        if p.shape[0] <= delay:
            out.append(np.repeat(p[:1], p.shape[0], axis=0))
        else:
            out.append(np.concatenate([np.repeat(p[:1], delay, axis=0),
                                       p[:-delay]]))
    return out


def smooth_traces(traces, width):
    """Centred moving average of ``width`` frames over each trace (edges held)."""
    if width <= 1:
        return traces
    return [uniform_filter1d(p, width, axis=0, mode="nearest") for p in traces]
