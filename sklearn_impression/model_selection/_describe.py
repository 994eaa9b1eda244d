"""What every result states about its data: :func:`describe_data`."""

from __future__ import annotations

from ..recordings._frames import DyadicFrames
from ..recordings._ids import recording_ids

__all__ = ["describe_data"]


def describe_data(X, y=None, name=None):
    """Name and size of a data set, as stated in every result.

    Parameters
    ----------
    X : sequence of Recording or DyadicFrames
    y : sequence of ndarray, default=None
        Targets; used for the frame count when ``X`` does not know it.
    name : str, default=None

    Returns
    -------
    dict
        ``name``, ``n_recordings``, ``n_frames``, ``n_receivers``, ``n_stimuli``
        and ``hours`` (at the recordings' frame rate, 25 Hz if unknown).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> X = DyadicFrames([np.ones((50, 2))], [np.zeros((50, 1))] * 2, [0, 0],
    ...                  ["e0", "e1"], ["r0"], receivers=["a", "b"], stimuli=[1, 1])
    >>> describe_data(X, name="toy")["n_frames"]
    100
    """
    if isinstance(X, DyadicFrames):
        n_frames = X.n_frames
        rate = float(X.label_rate or 25.0)
    else:
        counts = [getattr(r, "n_frames", None) for r in X]
        if any(c is None for c in counts) and y is not None:
            counts = [len(t) for t in y]
        n_frames = int(sum(c or 0 for c in counts))
        rate = float(getattr(X[0], "frame_rate", 25.0)) if len(X) else 25.0
    receivers = {r for r in recording_ids(X, "receiver") if r is not None}
    stimuli = {s for s in recording_ids(X, "stimulus") if s is not None}
    return {
        "name": name or "unnamed",
        "n_recordings": len(X),
        "n_frames": int(n_frames),
        "n_receivers": len(receivers),
        "n_stimuli": len(stimuli),
        "hours": round(n_frames / rate / 3600, 3),
    }
