"""The receiver and stimulus ids of recordings: the one reader of them.

Recordings (sequences of :class:`~sklearn_impression.Recording`) and
:class:`~sklearn_impression.DyadicFrames` carry a receiver and a stimulus id per
recording; protocols group by them, the regressor keys per-person state by
them. Torch-free.
"""

from __future__ import annotations

import numpy as np

from ._frames import DyadicFrames

__all__ = ["group_ids", "receiver_ids", "recording_ids"]

_KINDS = ("receiver", "stimulus")


def recording_ids(X, by):
    """The ``by`` id of every recording of ``X`` (``None`` where it has none).

    Parameters
    ----------
    X : DyadicFrames or sequence of Recording
    by : {"receiver", "stimulus"}

    Returns
    -------
    list

    Examples
    --------
    >>> import numpy as np
    >>> X = DyadicFrames([np.zeros((2, 1))], [np.zeros((2, 1))] * 2, [0, 0],
    ...                  ["e"], ["r"], receivers=["a", None])
    >>> recording_ids(X, "receiver")
    ['a', None]
    """
    if by not in _KINDS:
        raise ValueError(f"by must be 'receiver' or 'stimulus', got {by!r}")
    if isinstance(X, DyadicFrames):
        return list(X.receivers if by == "receiver" else X.stimuli)
    return [getattr(recording, by, None) for recording in X]


def group_ids(X, by):
    """The ``by`` id of every recording of ``X``, every one present.

    Parameters
    ----------
    X : DyadicFrames or sequence of Recording
    by : {"receiver", "stimulus"}

    Returns
    -------
    ndarray of object of shape (n_recordings,)

    Raises
    ------
    TypeError
        For an item that cannot carry the id (not a Recording).
    ValueError
        Naming the first recording without one.
    """
    if by not in _KINDS:
        raise ValueError(f"by must be 'receiver' or 'stimulus', got {by!r}")
    if not isinstance(X, DyadicFrames):
        for i, recording in enumerate(X):
            if not hasattr(recording, by):
                raise TypeError(
                    f"recording {i}: cannot read its {by} id from a "
                    f"{type(recording).__name__}; pass groups explicitly")
    ids = np.array(recording_ids(X, by) + [None], dtype=object)[:-1]
    for i, value in enumerate(ids):
        if value is None:
            name = X[i].name if hasattr(X[i], "name") else f"recording {i}"
            raise ValueError(f"{name}: has no {by} id, needed to group the splits")
    return ids


def receiver_ids(X, what):
    """The receiver id of every recording of DyadicFrames ``X``, or a
    ValueError saying why not (``what`` names what needs them).

    Examples
    --------
    >>> import numpy as np
    >>> receiver_ids(np.zeros((3, 2)), "adapt")
    Traceback (most recent call last):
    ...
    ValueError: adapt needs receiver ids, and a ndarray has none: ...
    """
    if not isinstance(X, DyadicFrames):
        raise ValueError(
            f"{what} needs receiver ids, and a {type(X).__name__} has none: pass the "
            "DyadicFrames of a ModalityConcatenator (built from Recordings with a "
            "receiver id) instead of a 2-D array"
        )
    ids = recording_ids(X, "receiver")
    for i, r in enumerate(ids):
        if r is None:
            raise ValueError(
                f"{what} needs receiver ids, but recording {i} (stimulus="
                f"{X.stimuli[i]!r}) has receiver=None; set Recording.receiver")
    return ids
