"""Baselines of the ablation table: constant and ridge (the LSTM is in ``_lstm.py``).

All three baselines take what :class:`~sklearn_impression.CrossDomainRegressor`
takes (the :class:`~sklearn_impression.DyadicFrames` of a
:class:`~sklearn_impression.preprocessing.ModalityConcatenator`, targets one
``(n_frames_i, n_outputs)`` array per recording) and predict one array per
recording, so they drop into the same pipeline and protocols. None of them copies an
emitter block once per receiver: rows are gathered by index (the shared data layer,
:mod:`sklearn_impression.recordings._flat`).

They also accept a plain 2-D float array of frames (every row an independent frame)
with ``y`` of shape ``(n_frames,)`` or ``(n_frames, n_outputs)``, and then return an
array, like :class:`~sklearn_impression.CrossDomainRegressor`.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..recordings._flat import frame_chunks
from ..recordings._frames import DyadicFrames
from ..recordings._inputs import array_output, check_fit_input, check_predict_input

__all__ = ["ConstantPredictor", "RidgeBaseline"]


def _wrap_array(X):
    """A 2-D frame array as one recording of DyadicFrames (no emitter columns)."""
    return DyadicFrames([np.zeros((X.shape[0], 0))], [X], [0], [],
                        [f"x{j}" for j in range(X.shape[1])])


def _fit_inputs(estimator, X, y):
    """``(frames, targets)`` for fit; remembers whether input was an array.

    Raises a ``ValueError`` naming the estimator when there is no frame to fit.
    """
    X, y, y_1d = check_fit_input(estimator, X, y)
    estimator._array_input = not isinstance(X, DyadicFrames)
    if estimator._array_input:
        estimator._y_1d = y_1d
        X, y = _wrap_array(X), [y.reshape(len(y), -1)]
    else:
        estimator.n_features_in_ = X.n_features
    if X.n_frames < 1:
        raise ValueError(f"{type(estimator).__name__} needs at least one frame")
    return X, y


def _predict_inputs(estimator, X):
    X = check_predict_input(estimator, X)
    if isinstance(X, DyadicFrames):
        _check_features(X, estimator)
        return X, False
    return _wrap_array(X), True


def _predict_output(estimator, values, as_array):
    if not as_array:
        return values
    return array_output(values[0], getattr(estimator, "_y_1d", False))


def _check_features(X, estimator):
    if X.n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.n_features} features, {type(estimator).__name__} was fitted "
            f"with {estimator.n_features_in_}"
        )


def _split_rows(values, counts):
    return np.split(values, np.cumsum(counts)[:-1]) if len(counts) else []


class _FrameBaseline(RegressorMixin, BaseEstimator):
    """The baselines' tags: multi-output; ``_poor_score`` for sklearn's R2 check."""

    _poor_score = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = self._poor_score
        return tags


class ConstantPredictor(_FrameBaseline):
    """Predict the training mean of every output for every frame.

    Its CCC on one test set is 0 by definition (a constant has no covariance with
    the targets): the floor of the ablation table. Pooled over the folds of a
    grouped protocol it can be slightly negative, since every fold predicts its own
    training mean.

    Attributes
    ----------
    constant_ : ndarray of shape (n_outputs,)
        Mean of the training targets over all frames.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> recs = [SimpleNamespace(n_frames=3), SimpleNamespace(n_frames=2)]
    >>> model = ConstantPredictor().fit(recs, [np.ones((3, 2)), np.zeros((2, 2))])
    >>> model.predict(recs[1:])[0]
    array([[0.6, 0.6],
           [0.6, 0.6]])
    """

    _poor_score = True  # a constant explains nothing: R2 0

    def fit(self, X, y):
        """Store the mean of the targets over all frames of all recordings."""
        if _is_recordings(X):
            if len(y) != len(X) or not len(y):
                raise ValueError(f"{len(y)} target arrays for {len(X)} recordings")
            y = [np.asarray(t, dtype=np.float64) for t in y]
            y = np.concatenate([t[:, np.newaxis] if t.ndim == 1 else t for t in y])
        else:
            _, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
            self._y_1d = np.ndim(y) == 1
            y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if not np.isfinite(y).all():
            raise ValueError("targets contain NaN or inf")
        self.constant_ = y.mean(axis=0)
        return self

    def predict(self, X):
        """One ``(n_frames_i, n_outputs)`` array per recording, all the mean."""
        check_is_fitted(self)
        if _is_recordings(X):
            counts = (X.frame_counts if isinstance(X, DyadicFrames)
                      else [int(r.n_frames) for r in X])
            return [np.tile(self.constant_, (n, 1)) for n in counts]
        X = validate_data(self, X, reset=False)
        return _predict_output(self, [np.tile(self.constant_, (X.shape[0], 1))], True)


def _is_recordings(X):
    if isinstance(X, DyadicFrames):
        return True
    return (isinstance(X, (list, tuple)) and len(X) > 0
            and hasattr(X[0], "n_frames"))


class RidgeBaseline(_FrameBaseline):
    """Ridge regression on every frame's concatenated emitter and receiver features.

    Equivalent to ``make_pipeline(StandardScaler(), Ridge(alpha))`` on
    ``X.to_frames()`` (tested), computed from accumulated sufficient statistics so the
    emitter blocks are never copied per receiver.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 penalty on the standardised coefficients.
    standardize : bool, default=True
        Scale features to unit variance (training statistics) before the penalty.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features, n_outputs)
    intercept_ : ndarray of shape (n_outputs,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(size=(100, 2))
    >>> X = DyadicFrames([e], [rng.normal(size=(100, 1))], [0], ["e0", "e1"], ["r0"])
    >>> model = RidgeBaseline(alpha=1e-6).fit(X, [np.c_[e[:, 0], -e[:, 1]]])
    >>> np.abs(model.coef_).round(3)
    array([[1., 0.],
           [0., 1.],
           [0., 0.]])
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "standardize": ["boolean"],
    }

    def __init__(self, *, alpha=1.0, standardize=True):
        self.alpha = alpha
        self.standardize = standardize

    _poor_score = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on all frames of all recordings."""
        X, y = _fit_inputs(self, X, y)
        shift_x = shift_y = None
        n = 0
        scaler = StandardScaler()
        for i, sl, features in frame_chunks(X):
            target = y[i][sl]
            scaler.partial_fit(features)
            if shift_x is None:  # a provisional mean keeps the sums well conditioned
                shift_x, shift_y = features.mean(axis=0), target.mean(axis=0)
                sx = np.zeros_like(shift_x)
                sy = np.zeros_like(shift_y)
                sxx = np.zeros((features.shape[1],) * 2)
                sxy = np.zeros((features.shape[1], target.shape[1]))
            f, t = features - shift_x, target - shift_y
            n += f.shape[0]
            sx += f.sum(axis=0)
            sy += t.sum(axis=0)
            sxx += f.T @ f
            sxy += f.T @ t
        mx, my = sx / n, sy / n
        cov = sxx - n * np.outer(mx, mx)
        cxy = sxy - n * np.outer(mx, my)
        # The package's one rule for constant columns (StandardScaler's scale 1).
        scale = scaler.scale_ if self.standardize else np.ones(cov.shape[0])
        cov_s = cov / np.outer(scale, scale)
        cxy_s = cxy / scale[:, np.newaxis]
        coef_s = np.linalg.lstsq(cov_s + self.alpha * np.eye(cov.shape[0]), cxy_s,
                                 rcond=None)[0]
        self.coef_ = coef_s / scale[:, np.newaxis]
        self.intercept_ = (my + shift_y) - (mx + shift_x) @ self.coef_
        self.n_outputs_ = self.coef_.shape[1]
        return self

    def predict(self, X):
        """One ``(n_frames_i, n_outputs)`` array per recording."""
        check_is_fitted(self)
        X, as_array = _predict_inputs(self, X)
        out = [np.empty((n, self.n_outputs_)) for n in X.frame_counts]
        for i, sl, features in frame_chunks(X):
            out[i][sl] = features @ self.coef_ + self.intercept_
        return _predict_output(self, out, as_array)
