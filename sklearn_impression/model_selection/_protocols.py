"""Evaluation protocols: the paper's frame split and the leak-free grouped splits.

The named protocols (``docs/user_guide/protocols.rst``; :func:`get_protocol` in
``_registry.py`` returns them by name):

``"paper"``
    The authors' protocol: all frames of all recordings are pooled, shuffled with a
    seed and cut 80/10/10 into train, valid and test. Neighbouring frames of one
    receiver watching one stimulus (40 ms apart, nearly identical features and
    labels) land in both training and test, so the score measures interpolation
    between seen frames, not generalisation to new people or new stimuli. It is kept
    to reproduce the paper's numbers, next to the two protocols below.
``"receivers"``
    Leave-receivers-out: :class:`~sklearn.model_selection.GroupKFold` with the
    receiver (participant) id as the group. No person is in training and test.
``"stimuli"``
    Leave-stimuli-out: GroupKFold with the stimulus id as the group. No emitter
    video is in training and test.

``"receivers+enrol"``
    Leave-receivers-out where the first ``enrol_seconds`` (default 60) of each
    test receiver's data are given to the fitted model for enrolment and are not
    scored (:class:`~sklearn_impression.model_selection.EnrolmentSplit`): a
    stranger who annotated briefly.
``"receivers+stimuli"``, ``"receivers+stimuli+enrol"``
    New people on new content, without and with enrolment on a seen stimulus
    (``_crossed.py``).

Two further differences from the authors' released evaluation code:
the authors z-scored each split with its own mean and standard deviation (the test
set with test statistics); here the estimators standardise every split with
*training* statistics only. And their CCC pools all test frames; ours reports that
pooled CCC and, for the grouped protocols, the per-fold CCC too.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold
from sklearn.utils import check_random_state

from ..recordings._flat import check_targets
from ..recordings._frames import DyadicFrames
from ..recordings._ids import group_ids

__all__ = [
    "LeaveGroupsOut",
    "PaperFrameSplit",
    "RecordingGroupKFold",
    "paper_split",
]

_DESCRIPTIONS = {
    "paper": (
        "paper frame split: all frames of all recordings shuffled and cut "
        "{train:.0%}/{valid:.0%}/{test:.0%} train/valid/test (seed {seed}); "
        "neighbouring frames of one person are in train and test (leaks)"
    ),
    "receivers": (
        "leave-receivers-out: GroupKFold({n_splits}) by receiver id; no person in "
        "train and test"
    ),
    "stimuli": (
        "leave-stimuli-out: GroupKFold({n_splits}) by stimulus id; no stimulus in "
        "train and test"
    ),
}


def check_n_splits(name, n_splits):
    """A ValueError naming protocol ``name`` unless ``n_splits`` is an int >= 2."""
    if (isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral)
            or n_splits < 2):
        raise ValueError(f"protocol {name!r}: n_splits must be an integer >= 2, got "
                         f"{n_splits!r}")


class RecordingGroupKFold(GroupKFold):
    """:class:`~sklearn.model_selection.GroupKFold` over recordings, grouped by id.

    The groups are read from ``X`` (the receiver or stimulus id of every
    recording), so it can be passed as ``cv=`` to
    :func:`~sklearn.model_selection.cross_val_score` or
    :class:`~sklearn.model_selection.GridSearchCV` without a ``groups``
    argument: the ``"receivers"`` (leave-receivers-out) and ``"stimuli"``
    (leave-stimuli-out) protocols.

    Parameters
    ----------
    by : {"receiver", "stimulus"}, default="receiver"
        Which id groups the recordings.
    n_splits : int, default=5
        Number of folds; at most the number of distinct ids.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> X = [R(receiver=r, stimulus=s) for r in "abcd" for s in (1, 2)]
    >>> cv = RecordingGroupKFold("receiver", n_splits=2)
    >>> [sorted({X[i].receiver for i in test}) for _, test in cv.split(X)]
    [['b', 'd'], ['a', 'c']]
    """

    def __init__(self, by="receiver", n_splits=5):
        # Checked in split, with the protocol's name (GroupKFold checks here).
        self.by = by
        self.n_splits = n_splits
        self.shuffle = False
        self.random_state = None

    @property
    def name(self):
        """Protocol name: ``"receivers"`` or ``"stimuli"``."""
        return {"receiver": "receivers", "stimulus": "stimuli"}[self.by]

    @property
    def description(self):
        """One line saying what the protocol does."""
        return _DESCRIPTIONS[self.name].format(n_splits=self.n_splits)

    def _check(self):
        if self.by not in ("receiver", "stimulus"):
            raise ValueError(f"by must be 'receiver' or 'stimulus', got {self.by!r}")
        check_n_splits(self.name, self.n_splits)

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` recording indices, one pair per fold.

        Parameters
        ----------
        X : sequence of Recording or DyadicFrames
        y : ignored
        groups : array-like of shape (n_recordings,), default=None
            Ids overriding the ones read from ``X``.
        """
        self._check()
        ids = group_ids(X, self.by) if groups is None else np.asarray(groups)
        n_ids = len(set(ids.tolist()))
        if n_ids < self.n_splits:
            raise ValueError(
                f"protocol {self.name!r}: n_splits={self.n_splits} needs at least "
                f"{self.n_splits} distinct {self.by} ids, the data has {n_ids}"
            )
        codes = np.unique(ids.astype(str), return_inverse=True)[1]
        yield from super().split(np.zeros((len(ids), 1)), groups=codes)

    def __repr__(self):
        return f"{type(self).__name__}(by={self.by!r}, n_splits={self.n_splits})"


class LeaveGroupsOut(RecordingGroupKFold):
    """Deprecated name of :class:`RecordingGroupKFold` (kept for old code)."""


class PaperFrameSplit(BaseCrossValidator):
    """The authors' split: all frames shuffled, cut into train, valid and test.

    A scikit-learn splitter with one split. :meth:`split` splits the *rows* of
    ``X``, so as ``cv=`` it is the paper protocol for a 2-D array of frames (one
    row per frame): it yields the train and test frame indices, and the valid
    frames are in neither. scikit-learn indexes
    :class:`~sklearn_impression.DyadicFrames` and lists of recordings by
    recording, so for those :func:`paper_split` and
    :func:`~sklearn_impression.model_selection.evaluate_protocol` (which split
    the frames of every recording with :meth:`frame_masks`) do the job, and
    :meth:`split` raises a ``TypeError`` saying so.

    Parameters
    ----------
    test_size, valid_size : float, default=0.1
        Fractions of all frames; training gets the rest (80% by default).
    random_state : int, RandomState or None, default=None
        Seed of the shuffle.

    Examples
    --------
    >>> parts = PaperFrameSplit(random_state=0).frame_masks([50, 50])
    >>> [int(sum(m.sum() for m in part)) for part in parts]
    [80, 10, 10]
    >>> import numpy as np
    >>> from sklearn.model_selection import check_cv
    >>> cv = check_cv(PaperFrameSplit(random_state=0))
    >>> [(len(train), len(test)) for train, test in cv.split(np.zeros((100, 3)))]
    [(80, 10)]
    """

    name = "paper"

    def __init__(self, *, test_size=0.1, valid_size=0.1, random_state=None):
        self.test_size = test_size
        self.valid_size = valid_size
        self.random_state = random_state

    @property
    def description(self):
        """One line saying what the protocol does."""
        return _DESCRIPTIONS["paper"].format(
            train=1 - self.test_size - self.valid_size, valid=self.valid_size,
            test=self.test_size, seed=self.random_state,
        )

    def get_n_splits(self, X=None, y=None, groups=None):
        """One train/valid/test split."""
        return 1

    def split(self, X, y=None, groups=None):
        """Yield the one ``(train, test)`` pair of row indices of a frame array.

        Parameters
        ----------
        X : array-like of shape (n_frames, n_features)
            Frames, one per row (of one or several recordings).
        y, groups : ignored

        Yields
        ------
        train, test : ndarray of int
            Sorted row indices; the valid rows (``valid_size``) are in neither.
        """
        if isinstance(X, DyadicFrames) or (
                isinstance(X, (list, tuple)) and X and hasattr(X[0], "n_frames")):
            raise TypeError(
                "PaperFrameSplit.split splits the rows of a frame array; "
                "scikit-learn indexes DyadicFrames and recordings by recording. "
                "Use paper_split(frames, targets) or evaluate_protocol(..., "
                "protocol='paper') for them"
            )
        n_frames = X.shape[0] if hasattr(X, "shape") else len(X)
        train, _, test = self.frame_masks([n_frames])
        yield np.flatnonzero(train[0]), np.flatnonzero(test[0])

    def frame_masks(self, frame_counts):
        """Boolean masks of the train, valid and test frames of every recording.

        Parameters
        ----------
        frame_counts : sequence of int
            Frames per recording.

        Returns
        -------
        train, valid, test : list of ndarray of bool
            One mask per recording for each part.
        """
        for name, size in (("test_size", self.test_size),
                           ("valid_size", self.valid_size)):
            if (isinstance(size, bool) or not isinstance(size, numbers.Real)
                    or not 0 <= size < 1):
                raise ValueError(f"protocol 'paper': {name} must be in [0, 1), got "
                                 f"{size!r}")
        if self.test_size + self.valid_size >= 1:
            raise ValueError("protocol 'paper': test_size + valid_size must be < 1")
        counts = np.asarray(frame_counts, dtype=np.intp)
        total = int(counts.sum())
        n_test = int(round(total * self.test_size))
        n_valid = int(round(total * self.valid_size))
        n_train = total - n_test - n_valid
        if n_train < 1 or (self.test_size > 0 and n_test < 1):
            raise ValueError(
                f"protocol 'paper': {total} frames are too few for a "
                f"{n_train}/{n_valid}/{n_test} train/valid/test split"
            )
        order = check_random_state(self.random_state).permutation(total)
        part = np.empty(total, dtype=np.int8)
        part[order[:n_train]] = 0
        part[order[n_train:n_train + n_valid]] = 1
        part[order[n_train + n_valid:]] = 2
        per_recording = np.split(part, np.cumsum(counts)[:-1])
        return tuple([p == k for p in per_recording] for k in range(3))

    def __repr__(self):
        return (f"PaperFrameSplit(test_size={self.test_size}, "
                f"valid_size={self.valid_size}, random_state={self.random_state})")


def paper_split(frames, targets, *, test_size=0.1, valid_size=0.1,
                random_state=None):
    """Split frames the authors' way: all frames shuffled, 80/10/10.

    The split works on label-rate :class:`~sklearn_impression.DyadicFrames` (the
    output of :class:`~sklearn_impression.preprocessing.ModalityConcatenator`) and
    keeps sharing the emitter blocks, so memory stays that of the data. Recordings
    with no frame in a part are left out of that part (they still count in the
    others). The split leaks: see the module documentation.

    Parameters
    ----------
    frames : DyadicFrames
    targets : sequence of ndarray of shape (n_frames_i, n_outputs)
    test_size, valid_size : float, default=0.1
    random_state : int, RandomState or None, default=None

    Returns
    -------
    train, valid, test : tuple of (DyadicFrames, list of ndarray)
        Each part's frames (in time order within a recording) and targets.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> X = DyadicFrames([np.ones((50, 2))], [np.zeros((50, 1))] * 2, [0, 0],
    ...                  ["e0", "e1"], ["r0"], receivers=["a", "b"], stimuli=[1, 1])
    >>> y = [np.zeros((50, 2))] * 2
    >>> train, valid, test = paper_split(X, y, random_state=0)
    >>> train[0].n_frames, valid[0].n_frames, test[0].n_frames
    (80, 10, 10)
    """
    if not isinstance(frames, DyadicFrames):
        raise TypeError(
            "the paper protocol splits label-rate frames: pass the DyadicFrames of "
            "a ModalityConcatenator, got " + type(frames).__name__
        )
    targets = check_targets(frames, targets)
    masks = PaperFrameSplit(test_size=test_size, valid_size=valid_size,
                            random_state=random_state).frame_masks(frames.frame_counts)
    return tuple(_select(frames, targets, m) for m in masks)


def _select(frames, targets, masks):
    keep = np.array([m.any() for m in masks], dtype=bool)
    selected = frames.select_frames(masks)[np.flatnonzero(keep)]
    return selected, [t[m] for t, m, k in zip(targets, masks, keep, strict=True) if k]
