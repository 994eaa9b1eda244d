"""Per-receiver or per-recording feature normalisation: :class:`ReceiverNormalizer`."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ..recordings._frames import DyadicFrames
from ._statistics import _moments, normalize_receivers, receiver_statistics, zscore

__all__ = ["ReceiverNormalizer"]


class ReceiverNormalizer(TransformerMixin, BaseEstimator):
    """Z-score each person's receiver features with their own statistics.

    Each receiver moves, sweats and looks in their own range, and sensors drift
    between sessions, so statistics learnt on the training people do not centre a
    new person's features. This transformer standardises the receiver block of
    every group of recordings (all recordings of one receiver, or each recording)
    by that group's own mean and standard deviation.

    With ``by="receiver"``, ``fit`` keeps each receiver's statistics (their
    fitted state): a receiver seen in ``fit`` is standardised with those, so a
    known person's recordings of new content keep their level relative to what
    the person did before, and transforming them one at a time or together
    gives the same values. A receiver not seen in ``fit`` is standardised
    **transductively**: with the statistics of all their recordings passed to
    ``transform`` together (never labels). Under leave-receivers-out this is
    what the released code's per-split z-scoring amounted to. Emitter features
    (the stimulus, shared by every receiver) pass through unchanged.

    Parameters
    ----------
    by : {"receiver", "recording"}, default="receiver"
        The group: all recordings with the same ``receivers`` id (recordings
        without an id form one group each), or each recording on its own
        (undoes per-session sensor offsets and drift as well).

    Attributes
    ----------
    n_features_in_ : int
        Emitter plus receiver features (all columns for a 2-D array).
    n_receiver_features_ : int
        Receiver features (columns normalised).
    receivers_ : list
        ``by="receiver"`` with :class:`DyadicFrames`: the receivers seen in
        ``fit``, in order of first appearance (empty otherwise).
    means_, scales_ : ndarray of shape (n_kept, n_receiver_features)
        Their feature means and scales, row ``k`` for ``receivers_[k]`` (a
        constant column has scale 1).

    See Also
    --------
    ModalityConcatenator : Makes the :class:`~sklearn_impression.DyadicFrames`
        this transformer takes.

    Notes
    -----
    A plain 2-D array is one group: each column is standardised with the
    array's own statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> from sklearn_impression.preprocessing import ReceiverNormalizer
    >>> frames = DyadicFrames([np.zeros((4, 1))],
    ...                       [np.arange(4.0)[:, None], 10 + np.arange(4.0)[:, None]],
    ...                       [0, 0], ["e"], ["r"], receivers=["a", "b"])
    >>> out = ReceiverNormalizer().fit_transform(frames)
    >>> print(out.receiver_blocks[0].ravel().round(2))
    [-1.34 -0.45  0.45  1.34]
    >>> print(out.receiver_blocks[1].ravel().round(2))
    [-1.34 -0.45  0.45  1.34]

    A receiver seen in ``fit`` keeps the statistics of ``fit``:

    >>> later = DyadicFrames([np.zeros((2, 1))], [np.array([[0.0], [3.0]])], [0],
    ...                      ["e"], ["r"], receivers=["a"])
    >>> print(ReceiverNormalizer().fit(frames).transform(later)
    ...       .receiver_blocks[0].ravel().round(2))
    [-1.34  1.34]
    """

    _parameter_constraints = {"by": [StrOptions({"receiver", "recording"})]}

    #: Checks that cannot hold, with the reason.
    _expected_failed_checks = {
        "check_methods_subset_invariance": "transductive: a group's statistics come "
        "from the rows being transformed (for receivers not seen in fit), so a "
        "subset is normalised differently",
    }

    def __init__(self, *, by="receiver"):
        self.by = by

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the feature counts and, with ``by="receiver"``, each receiver's
        statistics.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)
        y : ignored

        Returns
        -------
        self
        """
        if isinstance(X, DyadicFrames):
            self.n_features_in_ = X.n_features
            self.n_receiver_features_ = X.n_receiver_features
            self.feature_names_in_ = np.asarray(X.feature_names, dtype=object)
            stats = receiver_statistics(X if self.by == "receiver" else X[:0])
            self.receivers_, self.means_, self.scales_ = stats
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32])
            self.n_receiver_features_ = X.shape[1]
            # a 2-D array has no receiver ids: nothing to keep
            self.receivers_ = []
            self.means_ = self.scales_ = np.zeros((0, X.shape[1]))
        return self

    def transform(self, X):
        """Standardise each group's receiver features by its own statistics.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)

        Returns
        -------
        X_new : DyadicFrames or ndarray
            Same type and shape; emitter blocks are shared, not copied.
        """
        check_is_fitted(self, "n_receiver_features_")
        if not isinstance(X, DyadicFrames):
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
            return zscore(X, *_moments([X]))
        if X.n_receiver_features != self.n_receiver_features_:
            raise ValueError(
                f"X has {X.n_receiver_features} receiver features, but "
                f"ReceiverNormalizer was fitted with {self.n_receiver_features_}"
            )
        known = (self.receivers_, self.means_, self.scales_)
        return normalize_receivers(X, self.by, known if known[0] else None)

    def __setstate__(self, state):
        from ..persistence._upgrade import upgrade_pickled

        super().__setstate__(upgrade_pickled(self, state))

    def get_feature_names_out(self, input_features=None):
        """Feature names, unchanged (emitter then receiver for DyadicFrames)."""
        check_is_fitted(self, "n_features_in_")
        return _check_feature_names_in(self, input_features)
