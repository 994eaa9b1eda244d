"""The one input adapter of the package's estimators: DyadicFrames or a 2-D array.

Every estimator on frames (:class:`~sklearn_impression.CrossDomainRegressor`
and the baselines of :mod:`sklearn_impression.experiments`) takes either the
:class:`~sklearn_impression.DyadicFrames` of a
:class:`~sklearn_impression.preprocessing.ModalityConcatenator`, with one target
array per recording, or a plain 2-D float array of frames with ``y`` of shape
``(n_frames,)`` or ``(n_frames, n_outputs)``. These functions tell them apart,
validate them (arrays through scikit-learn's ``validate_data``) and give an
array-fitted model's output its fitted shape. Torch-free.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import validate_data

from ._flat import check_targets
from ._frames import DyadicFrames
from ._recording import Recording

__all__ = ["array_output", "check_fit_input", "check_predict_input"]


def _reject_recordings(estimator, X):
    if isinstance(X, (list, tuple)) and X and isinstance(X[0], Recording):
        raise TypeError(
            f"{type(estimator).__name__} takes DyadicFrames or a 2-D array, got a "
            "list of Recording; put Resampler() and ModalityConcatenator() before "
            "it in a Pipeline"
        )


def check_fit_input(estimator, X, y, *, dtype=np.float64, ensure_min_features=1):
    """``(X, y, y_1d)`` for ``fit``.

    DyadicFrames come back with their targets checked (one float array per
    recording); anything else is validated as a 2-D array with ``y`` (which
    sets ``n_features_in_``, and ``feature_names_in_`` for a DataFrame, on
    ``estimator``); ``y_1d`` says whether ``y`` was one-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> X, y, y_1d = check_fit_input(Ridge(), [[0.0, 1.0], [2.0, 3.0]], [1, 2])
    >>> X.shape, y_1d
    ((2, 2), True)
    """
    if isinstance(X, DyadicFrames):
        return X, check_targets(X, y), False
    _reject_recordings(estimator, X)
    X, y = validate_data(estimator, X, y, dtype=dtype, multi_output=True,
                         y_numeric=True, ensure_min_features=ensure_min_features)
    return X, y, np.ndim(y) == 1


def check_predict_input(estimator, X, *, fitted_on_frames=None, dtype=np.float64):
    """DyadicFrames as they are, or a validated 2-D array, for ``predict``.

    ``fitted_on_frames``: ``True`` or ``False`` when the estimator takes at
    predict only the kind it was fitted on (a TypeError otherwise), ``None``
    when it takes both.
    """
    if isinstance(X, DyadicFrames):
        if fitted_on_frames is False:
            raise TypeError("this model was fitted on a 2-D array; predict needs a "
                            "2-D array too")
        return X
    _reject_recordings(estimator, X)
    if fitted_on_frames:
        raise TypeError("this model was fitted on DyadicFrames; predict needs "
                        "DyadicFrames too")
    return validate_data(estimator, X, reset=False, dtype=dtype)


def array_output(values, y_1d):
    """Predictions ``(n_frames, n_outputs)`` of an array-fitted model in the
    shape of its ``y``: ``(n_frames,)`` when ``y`` was one-dimensional."""
    return values[:, 0] if y_1d else values
