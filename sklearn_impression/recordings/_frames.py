"""Label-rate emitter and receiver blocks of several recordings: :class:`DyadicFrames`.

What :class:`~sklearn_impression.preprocessing.ModalityConcatenator` returns: per
recording an emitter block and a receiver block at the label rate, with the emitter
block of a stimulus stored once however many receivers watched it (see the user guide,
``docs/user_guide/data.rst``). Like :class:`~sklearn_impression.Stream` and
:class:`~sklearn_impression.Recording` it is immutable by convention: the blocks are
read-only float32 arrays.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ._recording import _as_real_2d, _readonly

__all__ = ["DyadicFrames"]


class DyadicFrames(Sequence):
    """Label-rate emitter and receiver blocks of several recordings.

    The output of :class:`~sklearn_impression.preprocessing.ModalityConcatenator`
    and an input of :class:`~sklearn_impression.CrossDomainRegressor`. The domain
    split travels with the data, so dropping a modality in the concatenator needs no
    second setting downstream. Each distinct emitter block (one per stimulus) is
    stored once and shared by every recording of that stimulus.

    It behaves like a sequence of recordings for scikit-learn: ``len`` is the number
    of recordings, ``shape == (n_recordings,)`` and indexing with an integer array,
    a boolean mask or a slice gives another :class:`DyadicFrames` that still shares
    the emitter blocks. Indexing with an integer gives ``(emitter, receiver)`` arrays.

    Parameters
    ----------
    emitter_blocks : sequence of ndarray of shape (n_frames_s, n_emitter_features)
        Distinct emitter blocks.
    receiver_blocks : sequence of ndarray of shape (n_frames_i, n_receiver_features)
        One receiver block per recording.
    emitter_index : array-like of int of shape (n_recordings,)
        Recording ``i`` uses ``emitter_blocks[emitter_index[i]]``.
    emitter_rows : sequence of int arrays, default=None
        Row ``k`` of recording ``i`` pairs ``receiver_blocks[i][k]`` with
        ``emitter_blocks[emitter_index[i]][emitter_rows[i][k]]``. ``None`` means
        ``arange(n_frames_i)``, which needs the emitter block to have exactly the
        recording's frame count. Explicit rows let a frame-level split
        (:meth:`select_frames`) keep sharing the emitter blocks.
    emitter_feature_names, receiver_feature_names : sequence of str
    receivers, stimuli : sequence of hashable, default=None
        Ids per recording.
    label_rate : float, default=None
        Frames per second (the labels' rate), when every recording has the same;
        lets a model take durations in seconds. ``None``: unknown.

    Examples
    --------
    >>> import numpy as np
    >>> shared = np.ones((10, 3))
    >>> frames = DyadicFrames([shared], [np.zeros((10, 2)), np.zeros((10, 2))], [0, 0],
    ...                       ["a", "b", "c"], ["x", "y"])
    >>> len(frames), frames.n_frames, frames.n_features
    (2, 20, 5)
    >>> frames[[1]].emitter_blocks[0] is frames.emitter_blocks[0]
    True
    """

    def __init__(self, emitter_blocks, receiver_blocks, emitter_index,
                 emitter_feature_names, receiver_feature_names, receivers=None,
                 stimuli=None, emitter_rows=None, label_rate=None):
        emitter_blocks = tuple(
            _as_block(b, f"emitter block {i}") for i, b in enumerate(emitter_blocks)
        )
        receiver_blocks = tuple(
            _as_block(b, f"receiver block {i}") for i, b in enumerate(receiver_blocks)
        )
        emitter_index = np.asarray(emitter_index, dtype=np.intp).reshape(-1)
        n = len(receiver_blocks)
        if emitter_index.shape[0] != n:
            raise ValueError(
                f"emitter_index has {emitter_index.shape[0]} entries for {n} recordings"
            )
        if n and (emitter_index.min() < 0
                  or emitter_index.max() >= len(emitter_blocks)):
            raise ValueError("emitter_index points outside emitter_blocks")
        emitter_feature_names = tuple(str(f) for f in emitter_feature_names)
        receiver_feature_names = tuple(str(f) for f in receiver_feature_names)
        for blocks, names, domain in (
            (emitter_blocks, emitter_feature_names, "emitter"),
            (receiver_blocks, receiver_feature_names, "receiver"),
        ):
            for i, b in enumerate(blocks):
                if b.shape[1] != len(names):
                    raise ValueError(
                        f"{domain} block {i} has {b.shape[1]} features, "
                        f"{len(names)} {domain} feature names given"
                    )
        if emitter_rows is None:
            pairs = zip(emitter_index, receiver_blocks, strict=True)  # n checked
            for i, (e, r) in enumerate(pairs):
                if emitter_blocks[e].shape[0] != r.shape[0]:
                    raise ValueError(
                        f"recording {i}: emitter block has "
                        f"{emitter_blocks[e].shape[0]} frames, receiver block "
                        f"{r.shape[0]}"
                    )
        else:
            emitter_rows = list(emitter_rows)
            if len(emitter_rows) != n:
                raise ValueError(f"emitter_rows has {len(emitter_rows)} entries for "
                                 f"{n} recordings")
            pairs = zip(emitter_index, receiver_blocks, strict=True)  # n checked
            for i, (e, r) in enumerate(pairs):
                rows = np.asarray(emitter_rows[i], dtype=np.intp).reshape(-1)
                if rows.shape[0] != r.shape[0]:
                    raise ValueError(
                        f"recording {i}: {rows.shape[0]} emitter rows for "
                        f"{r.shape[0]} receiver frames"
                    )
                if rows.size and (rows.min() < 0 or
                                  rows.max() >= emitter_blocks[e].shape[0]):
                    raise ValueError(f"recording {i}: emitter_rows out of range")
                emitter_rows[i] = _readonly(rows)
            emitter_rows = tuple(emitter_rows)
        self.emitter_rows = emitter_rows
        self.emitter_blocks = emitter_blocks
        self.receiver_blocks = receiver_blocks
        self.emitter_index = _readonly(emitter_index)
        self.emitter_feature_names = emitter_feature_names
        self.receiver_feature_names = receiver_feature_names
        self.receivers = tuple(receivers) if receivers is not None else (None,) * n
        self.stimuli = tuple(stimuli) if stimuli is not None else (None,) * n
        if len(self.receivers) != n or len(self.stimuli) != n:
            raise ValueError("receivers and stimuli need one id per recording")
        if label_rate is not None:
            label_rate = float(label_rate)
            if not (np.isfinite(label_rate) and label_rate > 0):
                raise ValueError(f"label_rate must be a positive number of frames "
                                 f"per second, got {label_rate}")
        self.label_rate = label_rate

    # -- sequence protocol -------------------------------------------------
    def __len__(self):
        return len(self.receiver_blocks)

    @property
    def shape(self):
        """``(n_recordings,)``, so scikit-learn counts and indexes recordings."""
        return (len(self),)

    def __getitem__(self, key):
        if isinstance(key, numbers.Integral):
            i = range(len(self))[key]
            return self.emitter_frames(i), self.receiver_blocks[i]
        indices = np.arange(len(self))[key]
        return self.subset(indices)

    def subset(self, indices):
        """Recordings ``indices`` as a new :class:`DyadicFrames` sharing the blocks."""
        indices = np.asarray(indices, dtype=np.intp).reshape(-1)
        used, new_index = np.unique(self.emitter_index[indices], return_inverse=True)
        return DyadicFrames(
            [self.emitter_blocks[u] for u in used],
            [self.receiver_blocks[i] for i in indices],
            new_index,
            self.emitter_feature_names,
            self.receiver_feature_names,
            [self.receivers[i] for i in indices],
            [self.stimuli[i] for i in indices],
            None if self.emitter_rows is None
            else [self.emitter_rows[i] for i in indices],
            label_rate=self.label_rate,
        )

    def select_frames(self, masks):
        """Keep some frames of each recording, still sharing the emitter blocks.

        Parameters
        ----------
        masks : sequence of bool or int arrays, one per recording
            Frames to keep (a boolean mask or row indices into the recording).

        Returns
        -------
        DyadicFrames
            Recording ``i`` holds the selected frames, in the given order.
        """
        if len(masks) != len(self):
            raise ValueError(f"{len(masks)} masks for {len(self)} recordings")
        rows, blocks = [], []
        for i, mask in enumerate(masks):
            keep = np.arange(self.receiver_blocks[i].shape[0])[np.asarray(mask)]
            rows.append(self.emitter_row_indices(i)[keep])
            blocks.append(self.receiver_blocks[i][keep])
        return DyadicFrames(self.emitter_blocks, blocks, self.emitter_index,
                            self.emitter_feature_names, self.receiver_feature_names,
                            self.receivers, self.stimuli, rows,
                            label_rate=self.label_rate)

    def emitter_row_indices(self, i):
        """Rows of ``emitter_blocks[emitter_index[i]]`` paired with recording ``i``."""
        if self.emitter_rows is None:
            return np.arange(self.receiver_blocks[i].shape[0])
        return self.emitter_rows[i]

    def emitter_frames(self, i):
        """Emitter features of recording ``i``, ``(n_frames_i, n_emitter_features)``."""
        block = self.emitter_blocks[self.emitter_index[i]]
        if self.emitter_rows is None:
            return block
        return block[self.emitter_rows[i]]

    # -- summaries ---------------------------------------------------------
    @property
    def frame_counts(self):
        """Frames per recording, ``ndarray`` of int."""
        return np.array([b.shape[0] for b in self.receiver_blocks], dtype=np.intp)

    @property
    def n_frames(self):
        """Total number of frames over all recordings."""
        return int(self.frame_counts.sum())

    @property
    def n_emitter_features(self):
        return len(self.emitter_feature_names)

    @property
    def n_receiver_features(self):
        return len(self.receiver_feature_names)

    @property
    def n_features(self):
        return self.n_emitter_features + self.n_receiver_features

    @property
    def feature_names(self):
        """Emitter then receiver feature names."""
        return self.emitter_feature_names + self.receiver_feature_names

    def to_frames(self):
        """Materialise ``(n_frames, n_features)``: emitter columns first.

        This copies each emitter block once per recording; use it for small data or
        for baselines that need one flat array (ridge, plain LSTM).
        """
        rows = [
            np.hstack([self.emitter_frames(i), r])
            for i, r in enumerate(self.receiver_blocks)
        ]
        if not rows:
            return np.empty((0, self.n_features), dtype=np.float32)
        return np.vstack(rows)

    def __repr__(self):
        return (
            f"DyadicFrames(n_recordings={len(self)}, n_frames={self.n_frames}, "
            f"n_emitter_features={self.n_emitter_features}, "
            f"n_receiver_features={self.n_receiver_features}, "
            f"n_emitter_blocks={len(self.emitter_blocks)})"
        )


def _as_block(block, what):
    array = _as_real_2d(block, what)
    if array.dtype == np.float32 and not array.flags.writeable:
        return array  # already a read-only block: share it, don't re-view it
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    return _readonly(array)
