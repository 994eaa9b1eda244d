"""New people on new content: receivers and stimuli held out at once.

``"receivers+stimuli"`` assigns the receivers to ``n_splits`` groups and the
stimuli to ``n_splits`` groups (each as :class:`~sklearn.model_selection.GroupKFold`
does on the sorted ids). Fold ``k`` trains on the recordings of receivers outside
receiver-group ``k`` watching stimuli outside stimulus-group ``k``, and tests on
those of receivers in receiver-group ``k`` watching stimuli in stimulus-group
``k``; its other recordings are unused. ``"receivers+stimuli+enrol"`` keeps the
folds and enrols each test receiver on the first seconds of their recordings of
*training* stimuli (the calibration recordings) before the unseen stimuli are
scored. Torch-free.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold

from ..recordings._ids import group_ids
from ._enrolment import _check_seconds
from ._protocols import check_n_splits

__all__ = ["CrossedEnrolmentSplit", "CrossedGroupKFold"]


def _fold_of(ids, n_splits):
    """Fold of every recording when GroupKFold(n_splits) tests its id's group."""
    codes = np.unique(ids.astype(str), return_inverse=True)[1]
    fold = np.empty(len(ids), dtype=np.intp)
    splits = GroupKFold(n_splits).split(np.zeros((len(ids), 1)), groups=codes)
    for k, (_, test) in enumerate(splits):
        fold[test] = k
    return fold


class CrossedGroupKFold(BaseCrossValidator):
    """Hold out receivers and stimuli at once: new people on new content.

    Receivers are assigned to ``n_splits`` groups and stimuli to ``n_splits``
    groups, each as :class:`~sklearn.model_selection.GroupKFold` assigns the
    sorted ids. Fold ``k`` tests the recordings whose receiver is in
    receiver-group ``k`` *and* whose stimulus is in stimulus-group ``k``, and
    trains on those whose receiver is not in receiver-group ``k`` *and* whose
    stimulus is not in stimulus-group ``k``. The other recordings (a test
    receiver on a training stimulus, a training receiver on a test stimulus)
    are unused in that fold, so no person and no stimulus is on both sides.
    The ids are read from ``X``, so it can be passed as ``cv=`` to
    :func:`~sklearn.model_selection.cross_val_score` or
    :class:`~sklearn.model_selection.GridSearchCV`. This is the
    ``"receivers+stimuli"`` protocol.

    Parameters
    ----------
    n_splits : int, default=4
        Number of folds; at most the number of distinct receivers and of distinct
        stimuli.

    See Also
    --------
    RecordingGroupKFold : Receivers or stimuli held out, not both.
    CrossedEnrolmentSplit : The same folds, each test receiver enrolled on a
        training stimulus.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> X = [R(receiver=r, stimulus=s) for r in "abcd" for s in (1, 2, 3, 4)]
    >>> cv = CrossedGroupKFold(n_splits=2)
    >>> for train, test in cv.split(X):
    ...     print(sorted({(X[i].receiver, X[i].stimulus) for i in test}))
    [('b', 2), ('b', 4), ('d', 2), ('d', 4)]
    [('a', 1), ('a', 3), ('c', 1), ('c', 3)]
    """

    name = "receivers+stimuli"

    def __init__(self, n_splits=4):
        self.n_splits = n_splits

    @property
    def description(self):
        """One line saying what the protocol does."""
        return (f"new people on new content: receivers and stimuli each in "
                f"GroupKFold({self.n_splits}) groups; fold k trains on the other "
                "receivers watching the other stimuli and tests the fold's "
                "receivers on the fold's stimuli (the rest unused)")

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds, ``n_splits``."""
        return self.n_splits

    def _check(self):
        check_n_splits(self.name, self.n_splits)

    def _ids(self, X, groups):
        if groups is None:
            return group_ids(X, "receiver"), group_ids(X, "stimulus")
        pairs = np.asarray(groups, dtype=object)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(
                f"protocol {self.name!r}: groups must hold a (receiver, stimulus) "
                f"id pair per recording, shape (n_recordings, 2); got shape "
                f"{pairs.shape}"
            )
        return pairs[:, 0], pairs[:, 1]

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` recording indices, one pair per fold.

        Parameters
        ----------
        X : sequence of Recording or DyadicFrames
        y : ignored
        groups : array-like of shape (n_recordings, 2), default=None
            (receiver, stimulus) id pairs overriding the ones read from ``X``.

        Yields
        ------
        train, test : ndarray of int
        """
        self._check()
        receivers, stimuli = self._ids(X, groups)
        for by, ids in (("receiver", receivers), ("stimulus", stimuli)):
            n_ids = len(set(ids.tolist()))
            if n_ids < self.n_splits:
                raise ValueError(
                    f"protocol {self.name!r}: n_splits={self.n_splits} needs at "
                    f"least {self.n_splits} distinct {by} ids, the data has {n_ids}"
                )
        receiver_fold = _fold_of(receivers, self.n_splits)
        stimulus_fold = _fold_of(stimuli, self.n_splits)
        folds = [(np.flatnonzero((receiver_fold != k) & (stimulus_fold != k)),
                  np.flatnonzero((receiver_fold == k) & (stimulus_fold == k)))
                 for k in range(self.n_splits)]
        for k, (train, test) in enumerate(folds):  # all checked before the first
            for part, indices, why in (
                    ("training", train, "no receiver outside it watched a "
                                        "stimulus outside it"),
                    ("test", test, "none of its receivers watched one of its "
                                   "stimuli")):
                if not indices.size:
                    raise ValueError(
                        f"protocol {self.name!r}: fold {k + 1} has no {part} "
                        f"recording ({why}); every receiver must watch stimuli "
                        "of every fold: use fewer n_splits or more recordings "
                        "per receiver"
                    )
        yield from folds

    def __repr__(self):
        return f"{type(self).__name__}(n_splits={self.n_splits})"


class CrossedEnrolmentSplit(CrossedGroupKFold):
    """New people on new content, each test receiver enrolled on a seen stimulus.

    The folds are those of :class:`CrossedGroupKFold`. In
    :func:`~sklearn_impression.model_selection.evaluate_protocol`, for each
    fold the *calibration recordings* are the test receivers' recordings of
    training stimuli (:meth:`calibration_indices`). The first ``enrol_seconds``
    of each test receiver's calibration recordings (in the order given, see
    :func:`~sklearn_impression.model_selection.head_seconds`) go to the fitted
    model's ``adapt``, with the calibration recordings as ``context``; a model
    without ``adapt`` gets an output offset per receiver, the mean error over
    those seconds of its predictions of the calibration recordings. The fold's
    test recordings (its receivers on its unseen stimuli) are then predicted and
    scored in full. This is the ``"receivers+stimuli+enrol"`` protocol.

    Parameters
    ----------
    n_splits : int, default=4
    enrol_seconds : float, default=60
        Labelled seconds per test receiver, cut from their calibration
        recordings.

    See Also
    --------
    EnrolmentSplit : Enrolment on the first seconds of the scored stimuli.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> X = [R(receiver=r, stimulus=s) for r in "abcd" for s in (1, 2, 3, 4)]
    >>> cv = CrossedEnrolmentSplit(n_splits=2, enrol_seconds=30)
    >>> train, test = next(cv.split(X))
    >>> [(X[i].receiver, X[i].stimulus) for i in cv.calibration_indices(X, train, test)]
    [('b', 1), ('b', 3), ('d', 1), ('d', 3)]
    """

    name = "receivers+stimuli+enrol"

    def __init__(self, n_splits=4, enrol_seconds=60.0):
        super().__init__(n_splits)
        self.enrol_seconds = enrol_seconds

    @property
    def description(self):
        """One line saying what the protocol does."""
        return (f"new people on new content with enrolment: the folds of "
                f"receivers+stimuli ({self.n_splits}); the first "
                f"{self.enrol_seconds:g} s of each test receiver's recordings of "
                "training stimuli are given for enrolment (adapt, or an output "
                "offset), the unseen stimuli are scored")

    def _check(self):
        super()._check()
        _check_seconds(self.enrol_seconds)

    def calibration_indices(self, X, train, test):
        """The test receivers' recordings of training stimuli, in the order given.

        Parameters
        ----------
        X : sequence of Recording or DyadicFrames
        train, test : array-like of int
            One fold of :meth:`split`.

        Returns
        -------
        ndarray of int
        """
        receivers, stimuli = group_ids(X, "receiver"), group_ids(X, "stimulus")
        seen = set(stimuli[np.asarray(train, dtype=np.intp)].tolist())
        tested = set(receivers[np.asarray(test, dtype=np.intp)].tolist())
        return np.array([i for i, (r, s) in enumerate(zip(receivers, stimuli,
                                                          strict=True))
                         if r in tested and s in seen], dtype=np.intp)

    def __repr__(self):
        return (f"CrossedEnrolmentSplit(n_splits={self.n_splits}, "
                f"enrol_seconds={self.enrol_seconds})")
