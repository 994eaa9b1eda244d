"""Per-receiver or per-recording feature normalisation: :class:`ReceiverNormalizer`."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._frames import DyadicFrames
from .._standardize import mean_scale

__all__ = ["ReceiverNormalizer"]


def _zscore(block, mean, scale):
    return ((block - mean) / scale).astype(block.dtype, copy=False)


def _moments(blocks):
    """Mean and scale over the rows of ``blocks``, by the package's one rule for
    constant columns (scale 1) and overflow (a named error)."""
    return mean_scale(np.concatenate(blocks, axis=0).astype(np.float64, copy=False))


def _with_receiver_blocks(X, blocks):
    return DyadicFrames(X.emitter_blocks, blocks, X.emitter_index,
                        X.emitter_feature_names, X.receiver_feature_names,
                        X.receivers, X.stimuli, X.emitter_rows,
                        label_rate=X.label_rate)


def normalize_with_statistics_of(X, context):
    """``X``'s receiver features z-scored per receiver with the statistics of that
    receiver's recordings in ``context`` (``by="receiver"`` of
    :class:`ReceiverNormalizer`, the statistics taken from other recordings).

    Every receiver of ``X`` must have recordings in ``context``; the caller checks
    ids and feature counts.
    """
    members = {}
    for i, r in enumerate(context.receivers):
        members.setdefault(r, []).append(i)
    wanted = set(X.receivers)
    stats = {r: _moments([context.receiver_blocks[i] for i in idx])
             for r, idx in members.items() if r in wanted}
    return _with_receiver_blocks(X, [_zscore(b, *stats[r]) for b, r in
                                     zip(X.receiver_blocks, X.receivers,
                                         strict=True)])


class ReceiverNormalizer(TransformerMixin, BaseEstimator):
    """Z-score each person's receiver features with their own statistics.

    Each receiver moves, sweats and looks in their own range, and sensors drift
    between sessions, so statistics learnt on the training people do not centre a
    new person's features. This transformer standardises the receiver block of
    every group of recordings (all recordings of one receiver, or each recording)
    by that group's own mean and standard deviation, computed when the group is
    transformed.

    It is **transductive and unsupervised**: at predict time it uses the new
    person's features (all their recordings passed to ``transform`` together),
    never labels, and ``fit`` learns nothing but the feature count. Under
    leave-receivers-out this is what the released code's per-split z-scoring
    amounted to. Emitter features (the stimulus, shared by every receiver) pass
    through unchanged. Because a group's statistics come from the data being
    transformed, transforming a subset of a group's recordings gives different
    values than transforming all of them: pass each person's recordings together.

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
    """

    _parameter_constraints = {"by": [StrOptions({"receiver", "recording"})]}

    #: Checks that cannot hold, with the reason.
    _expected_failed_checks = {
        "check_methods_subset_invariance": "transductive: a group's statistics come "
        "from the rows being transformed, so a subset is normalised differently",
    }

    def __init__(self, *, by="receiver"):
        self.by = by

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the feature counts; the statistics are computed in ``transform``.

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
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32])
            self.n_receiver_features_ = X.shape[1]
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
            return _zscore(X, *_moments([X]))
        if X.n_receiver_features != self.n_receiver_features_:
            raise ValueError(
                f"X has {X.n_receiver_features} receiver features, but "
                f"ReceiverNormalizer was fitted with {self.n_receiver_features_}"
            )
        blocks = list(X.receiver_blocks)
        for members in self._groups(X):
            stats = _moments([blocks[i] for i in members])
            for i in members:
                blocks[i] = _zscore(blocks[i], *stats)
        return _with_receiver_blocks(X, blocks)

    def _groups(self, X):
        if self.by == "recording":
            return [[i] for i in range(len(X))]
        groups, alone = {}, []
        for i, r in enumerate(X.receivers):
            if r is None:
                alone.append([i])
            else:
                groups.setdefault(r, []).append(i)
        return list(groups.values()) + alone

    def get_feature_names_out(self, input_features=None):
        """Feature names, unchanged (emitter then receiver for DyadicFrames)."""
        check_is_fitted(self, "n_features_in_")
        if input_features is not None:
            return np.asarray(input_features, dtype=object)
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return np.asarray(names, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
