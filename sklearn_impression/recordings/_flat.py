"""Flat frames: the torch-free data layer of every estimator on frames.

:class:`~sklearn_impression.DyadicFrames` keeps one emitter block per stimulus and
one receiver block per recording. The estimators (the cross-domain regressor, the
baselines of :mod:`sklearn_impression.experiments`) and the protocols of
:mod:`sklearn_impression.model_selection` need the same few things from it, written
once here (no torch):

* :func:`flatten` / :func:`frames_from_array`: validated :class:`Frames`, flat
  arrays where frame ``j`` pairs ``receiver[j]`` with ``emitter[emitter_row[j]]``;
  the receiver and stimulus ids of every recording travel with them;
* :func:`frame_chunks`: the concatenated features of every recording in chunks,
  for estimators that stream (ridge) instead of flattening;
* :func:`check_targets`: one ``(n_frames_i, n_outputs)`` float64 array per
  recording, checked with errors naming the recording.

Standardisation and validation splits of :class:`Frames` are in
:mod:`sklearn_impression.regressor._standardize`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._frames import DyadicFrames

__all__ = ["Frames", "check_targets", "emitter_columns", "flatten", "frame_chunks",
           "frames_from_array", "recording_name"]


@dataclass
class Frames:
    """Flat frames: ``receiver[j]`` pairs with ``emitter[emitter_row[j]]``.

    ``lengths`` are the frame counts of consecutive recordings (one entry for a 2-D
    array), ``y`` the ``(N, k)`` targets or ``None``; ``receivers`` and ``stimuli``
    hold one id per recording (``None`` entries when unknown); ``listener`` is the
    ``(N,)`` int64 listener-table row of every frame (listener adaptation and
    enrolled receivers of :class:`~sklearn_impression.CrossDomainRegressor`; 0 is
    the population) or ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> X = DyadicFrames([np.ones((3, 1))], [np.zeros((3, 1))] * 2, [0, 0], ["e"],
    ...                  ["r"], receivers=["a", "b"], stimuli=[7, 7])
    >>> frames = flatten(X)
    >>> frames.lengths.tolist(), frames.emitter.shape, frames.emitter_row.tolist()
    ([3, 3], (3, 1), [0, 1, 2, 0, 1, 2])
    >>> frames.take_frames([1, 3, 4]).receivers
    ('a', 'b')
    """

    emitter: np.ndarray
    receiver: np.ndarray
    emitter_row: np.ndarray
    lengths: np.ndarray
    y: np.ndarray = None
    receivers: tuple = None
    stimuli: tuple = None
    listener: np.ndarray = None

    def __post_init__(self):
        n = len(self.lengths)
        if self.receivers is None:
            self.receivers = (None,) * n
        if self.stimuli is None:
            self.stimuli = (None,) * n
        self.receivers, self.stimuli = tuple(self.receivers), tuple(self.stimuli)

    @property
    def n_frames(self):
        return self.receiver.shape[0]

    def recording_of_frame(self):
        """Index of the recording of every frame, ``(n_frames,)`` int64."""
        return np.repeat(np.arange(len(self.lengths), dtype=np.int64), self.lengths)

    def take_frames(self, keep):
        """Frames ``keep`` (sorted indices), still grouped by recording.

        Recordings left without a frame are dropped with their ids.
        """
        keep = np.asarray(keep, dtype=np.int64)
        lengths = np.bincount(self.recording_of_frame()[keep],
                              minlength=len(self.lengths))
        kept = np.flatnonzero(lengths)
        return replace(self, receiver=self.receiver[keep],
                       emitter_row=self.emitter_row[keep],
                       lengths=lengths[kept].astype(np.int64),
                       y=None if self.y is None else self.y[keep],
                       receivers=tuple(self.receivers[i] for i in kept),
                       stimuli=tuple(self.stimuli[i] for i in kept),
                       listener=None if self.listener is None
                       else self.listener[keep])


def recording_name(X, i):
    """How errors name recording ``i`` of ``X`` (DyadicFrames or recordings)."""
    if isinstance(X, DyadicFrames):
        return (f"recording {i} (receiver={X.receivers[i]!r}, "
                f"stimulus={X.stimuli[i]!r})")
    name = getattr(X[i], "name", None)
    return name if isinstance(name, str) else f"recording {i}"


def _check_finite(block, what):
    if not np.isfinite(block).all():
        bad = np.argwhere(~np.isfinite(block))[0]
        raise ValueError(
            f"{what}: contains NaN or inf (first at frame {bad[0]}, feature {bad[1]});"
            " the estimators need finite features (see Resampler's nan_policy)"
        )


def _frame_counts(X):
    if isinstance(X, DyadicFrames):
        return X.frame_counts
    return [getattr(r, "n_frames", None) for r in X]


def check_targets(X, y):
    """One ``(n_frames_i, n_outputs)`` float64 array per recording of ``X``.

    Parameters
    ----------
    X : DyadicFrames or sequence of Recording
        Frame counts are checked where the recordings know them.
    y : sequence of array-like of shape (n_frames_i,) or (n_frames_i, n_outputs)

    Returns
    -------
    list of ndarray of shape (n_frames_i, n_outputs)

    Raises
    ------
    TypeError
        Targets that are not real numbers.
    ValueError
        Another count of target arrays than of recordings, one stacked array for
        several recordings, wrong rows, differing columns, no column, NaN or inf;
        the message names the recording.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> X = DyadicFrames([np.ones((3, 1))], [np.zeros((3, 1))], [0], ["e"], ["r"],
    ...                  receivers=["a"], stimuli=[7])
    >>> [t.shape for t in check_targets(X, [np.zeros(3)])]
    [(3, 1)]
    >>> check_targets(X, [np.zeros(2)])
    Traceback (most recent call last):
    ...
    ValueError: targets of recording 0 (receiver='a', stimulus=7): 2 rows but the \
recording has 3 frames
    """
    counts = _frame_counts(X)
    if (isinstance(y, np.ndarray) and y.dtype != object and y.ndim in (1, 2)
            and len(X) > 1 and y.shape[0] == sum(c or 0 for c in counts)):
        raise ValueError(
            "y for several recordings must be a list of per-recording target "
            "arrays, not one stacked array"
        )
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} target arrays for {len(X)} recordings")
    arrays, n_outputs = [], None
    for i, (target, n) in enumerate(zip(y, counts, strict=True)):
        name = recording_name(X, i)
        target = np.asarray(target)
        if target.dtype.kind not in "biuf":
            raise TypeError(f"targets of {name}: need real numbers, got dtype "
                            f"{target.dtype}")
        target = target.astype(np.float64)
        if target.ndim == 1:
            target = target[:, None]
        if target.ndim != 2:
            raise ValueError(f"targets of {name}: must be (n_frames, n_outputs), got "
                             f"shape {target.shape}")
        if n is not None and target.shape[0] != n:
            raise ValueError(f"targets of {name}: {target.shape[0]} rows but the "
                             f"recording has {n} frames")
        if n_outputs is None:
            n_outputs = target.shape[1]
        elif target.shape[1] != n_outputs:
            raise ValueError(f"targets of {name}: {target.shape[1]} columns, earlier "
                             f"recordings have {n_outputs}")
        if not np.isfinite(target).all():
            frame = np.argwhere(~np.isfinite(target))[0, 0]
            raise ValueError(f"targets of {name}: NaN or inf at frame {frame}")
        arrays.append(target)
    if n_outputs == 0:
        raise ValueError("targets have no columns")
    return arrays


def flatten(X, y=None):
    """Validated flat :class:`Frames` of a :class:`DyadicFrames` (and its targets).

    The distinct emitter blocks are concatenated once (never once per receiver).
    Non-finite features raise a ``ValueError`` naming the recording.
    """
    if len(X) == 0:
        raise ValueError("X has no recordings; at least one is needed")
    lengths = X.frame_counts.astype(np.int64)
    for s, block in enumerate(X.emitter_blocks):
        users = np.flatnonzero(X.emitter_index == s)
        if users.size:
            _check_finite(block, f"emitter block of {recording_name(X, users[0])}")
    for i, block in enumerate(X.receiver_blocks):
        _check_finite(block, f"receiver features of {recording_name(X, i)}")
    block_offsets = np.concatenate(
        [[0], np.cumsum([b.shape[0] for b in X.emitter_blocks])[:-1]]).astype(np.int64)
    emitter = np.concatenate(X.emitter_blocks).astype(np.float32, copy=False)
    emitter_row = np.concatenate([
        block_offsets[X.emitter_index[i]] + X.emitter_row_indices(i)
        for i in range(len(X))
    ]).astype(np.int64)
    receiver = np.concatenate(X.receiver_blocks).astype(np.float32, copy=False)
    targets = None if y is None else np.concatenate(check_targets(X, y))
    return Frames(emitter, receiver, emitter_row, lengths, targets,
                  X.receivers, X.stimuli)


def frame_chunks(X, chunk=8192):
    """Yield ``(i, rows, features)``: float64 features of recording ``i`` in chunks.

    ``features`` are the emitter then receiver columns of frames ``rows`` (a slice)
    of recording ``i``; only one chunk is materialised at a time.
    """
    for i in range(len(X)):
        block = X.emitter_blocks[X.emitter_index[i]]
        erows = X.emitter_row_indices(i)
        receiver = X.receiver_blocks[i]
        for start in range(0, receiver.shape[0], chunk):
            sl = slice(start, start + chunk)
            features = np.hstack([block[erows[sl]], receiver[sl]]).astype(np.float64)
            _check_finite(features, f"features of {recording_name(X, i)}")
            yield i, sl, features


def emitter_columns(emitter_features, n_features):
    """Column indices of the emitter and receiver domains of a 2-D array.

    Examples
    --------
    >>> emitter_columns(None, 5)
    (array([0, 1]), array([2, 3, 4]))
    >>> emitter_columns([4], 5)
    (array([4]), array([0, 1, 2, 3]))
    """
    if emitter_features is None:
        cols = np.arange(n_features // 2)
    elif isinstance(emitter_features, (int, np.integer)):
        cols = np.arange(int(emitter_features))
    else:
        cols = np.asarray(emitter_features)
        if cols.dtype == bool:
            if cols.shape != (n_features,):
                raise ValueError(f"emitter_features mask has shape {cols.shape}, X "
                                 f"has {n_features} features")
            cols = np.flatnonzero(cols)
        elif cols.dtype.kind not in "iu" or cols.ndim != 1:
            raise ValueError("emitter_features must be None, an int, a 1-D array of "
                             "column indices or a boolean mask")
        cols = np.where(cols < 0, cols + n_features, cols).astype(np.intp)
        if cols.size and (cols.min() < 0 or cols.max() >= n_features):
            raise ValueError(f"emitter_features {emitter_features!r} out of range for "
                             f"{n_features} features")
        if np.unique(cols).size != cols.size:
            raise ValueError("emitter_features lists a column twice")
    receiver = np.setdiff1d(np.arange(n_features), cols)
    if cols.size == 0 or receiver.size == 0:
        raise ValueError(
            f"emitter_features={emitter_features!r} leaves {cols.size} emitter and "
            f"{receiver.size} receiver columns out of n_features={n_features}; the "
            "two domains need at least one column each"
        )
    return cols, receiver


def frames_from_array(X, y, emitter_cols, receiver_cols):
    """Frames of a validated 2-D float array (one recording, rows in time order)."""
    X = np.asarray(X)
    emitter = np.ascontiguousarray(X[:, emitter_cols], dtype=np.float32)
    receiver = np.ascontiguousarray(X[:, receiver_cols], dtype=np.float32)
    n = X.shape[0]
    targets = None
    if y is not None:
        targets = np.asarray(y, dtype=np.float64)
        targets = targets.reshape(n, -1)
    return Frames(emitter, receiver, np.arange(n, dtype=np.int64),
                  np.array([n], dtype=np.int64), targets)
