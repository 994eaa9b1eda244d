"""Lin's concordance correlation coefficient for frame-level traces."""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import StrOptions, validate_params

from ._concordance import ccc_columns

__all__ = ["ccc_per_recording", "ccc_score", "ccc_scorer"]


def _is_recording_sequence(y):
    """True for a list/tuple of arrays or a ragged object array: one item per recording.

    Nested lists of numbers stay a single 1-D/2-D array, as in scikit-learn metrics.
    """
    if isinstance(y, np.ndarray):
        # An object array of plain numbers is one trace, not a set of recordings.
        return (
            y.dtype == object
            and y.ndim == 1
            and y.size > 0
            and all(
                isinstance(item, np.ndarray)
                or (isinstance(item, Sequence) and not isinstance(item, str | bytes))
                for item in y
            )
        )
    if isinstance(y, Sequence) and not isinstance(y, str) and len(y) > 0:
        return all(isinstance(item, np.ndarray) for item in y)
    return False


def _as_float_2d(values, what):
    """Return ``values`` as a float64 array with two axes (1-D becomes one column)."""
    try:
        kind = np.asarray(values).dtype.kind
    except (TypeError, ValueError):
        kind = None  # ragged or odd input: the float64 conversion below says why
    if kind == "c":
        raise ValueError(
            f"{what} is complex; the CCC needs real values (casting would drop the "
            "imaginary part)"
        )
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not numeric: {exc}") from exc
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim != 2:
        raise ValueError(
            f"{what} must be 1-D (n_frames,) or 2-D (n_frames, n_outputs), "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array).all(axis=1))[0])
        raise ValueError(
            f"{what} contains NaN or infinity (first at frame {bad}); the CCC of "
            "a trace with missing values is undefined: drop or impute them first"
        )
    return array


def _split_like(array, lengths):
    return np.split(array, np.cumsum(lengths)[:-1])


def _as_recordings(values, what, is_sequence):
    """One float64 2-D array per recording (a single array is one recording)."""
    if not is_sequence:
        return [_as_float_2d(values, what)]
    return [_as_float_2d(v, f"{what}[{i}] (recording {i})")
            for i, v in enumerate(values)]


def _check_pair(y_true, y_pred):
    """Validate both inputs and return them as matching lists of 2-D float64 arrays.

    A plain array facing a sequence of recordings is cut at the sequence's recording
    boundaries, so both sides always have the same recordings.
    """
    true_is_seq = _is_recording_sequence(y_true)
    pred_is_seq = _is_recording_sequence(y_pred)
    true = _as_recordings(y_true, "y_true", true_is_seq)
    pred = _as_recordings(y_pred, "y_pred", pred_is_seq)

    if true_is_seq != pred_is_seq:
        seq, flat = (true, pred) if true_is_seq else (pred, true)
        total = sum(len(s) for s in seq)
        if len(flat[0]) != total:
            raise ValueError(
                f"length mismatch: y_true has {sum(len(t) for t in true)} frames, "
                f"y_pred has {sum(len(p) for p in pred)}"
            )
        flat = _split_like(flat[0], [len(s) for s in seq])
        true, pred = (seq, flat) if true_is_seq else (flat, seq)

    if len(true) != len(pred):
        raise ValueError(
            f"length mismatch: y_true has {len(true)} recordings, "
            f"y_pred has {len(pred)}"
        )
    n_outputs = true[0].shape[1]
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        where = f" in recording {i}" if true_is_seq or pred_is_seq else ""
        if len(t) != len(p):
            raise ValueError(
                f"length mismatch{where}: y_true has {len(t)} frames, "
                f"y_pred has {len(p)}"
            )
        if t.shape[1] != p.shape[1]:
            raise ValueError(
                f"column count mismatch{where}: y_true has {t.shape[1]} output "
                f"columns, y_pred has {p.shape[1]}"
            )
        if t.shape[1] != n_outputs:
            raise ValueError(
                f"column count mismatch{where}: {t.shape[1]} output columns, "
                f"recording 0 has {n_outputs}"
            )
    return true, pred


def _average_outputs(scores, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return scores
        return float(np.mean(scores))
    weights = np.asarray(multioutput, dtype=np.float64)
    if weights.shape != (scores.shape[-1],):
        raise ValueError(
            f"multioutput weights have shape {weights.shape}, expected "
            f"({scores.shape[-1]},): one weight per output column"
        )
    return float(np.average(scores, weights=weights))


_MULTIOUTPUT = [StrOptions({"raw_values", "uniform_average"}), "array-like"]


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "multioutput": _MULTIOUTPUT,
    },
    prefer_skip_nested_validation=True,
)
def ccc_per_recording(y_true, y_pred, *, multioutput="raw_values"):
    """Concordance correlation coefficient of each recording separately.

    Parameters
    ----------
    y_true : sequence of array-like of shape (n_frames_i,) or (n_frames_i, n_outputs)
        Ground-truth traces, one per recording. A single 1-D or 2-D array counts as
        one recording.
    y_pred : sequence of array-like, same structure as ``y_true``
        Predicted traces. A single array facing a sequence is cut at the
        recording boundaries of the sequence.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape \
(n_outputs,), default="raw_values"
        How to combine the output columns within each recording.

    Returns
    -------
    scores : ndarray of shape (n_recordings, n_outputs) or (n_recordings,)
        One row per recording; averaged over columns unless ``"raw_values"``.

    Raises
    ------
    ValueError
        On a length or column mismatch (naming the recording), NaN or infinity, or
        a recording with fewer than 2 frames.

    See Also
    --------
    ccc_score : Pooled or recording-averaged CCC.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression.metrics import ccc_per_recording
    >>> y_true = [np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0])]
    >>> y_pred = [np.array([0.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0])]
    >>> ccc_per_recording(y_true, y_pred).round(4)
    array([[0.6667],
           [1.    ]])
    """
    true, pred = _check_pair(y_true, y_pred)
    rows = []
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        if len(t) < 2:
            raise ValueError(
                f"recording {i} has {len(t)} frame(s); the CCC of a recording needs "
                "at least 2 frames"
            )
        rows.append(ccc_columns(t, p))
    scores = np.stack(rows)
    if isinstance(multioutput, str) and multioutput == "raw_values":
        return scores
    return np.array([_average_outputs(row, multioutput) for row in scores])


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "multioutput": _MULTIOUTPUT,
        "average": [StrOptions({"pooled", "recording"})],
    },
    prefer_skip_nested_validation=True,
)
def ccc_score(y_true, y_pred, *, multioutput="uniform_average", average="pooled"):
    r"""Lin's concordance correlation coefficient (CCC), per output column.

    .. math::

        \rho_c = \frac{2 s_{tp}}{s_t^2 + s_p^2 + (\bar t - \bar p)^2}

    with population (``1/n``) variances :math:`s_t^2, s_p^2` and covariance
    :math:`s_{tp}`, computed in float64. It is 1 for identical traces, -1 for a
    trace reflected about its mean (``y_pred = 2 * mean(y_true) - y_true``), is
    symmetric in its arguments and lies in [-1, 1]. Unlike Pearson's correlation it
    penalises offsets and scale differences.

    Parameters
    ----------
    y_true : array-like of shape (n_frames,) or (n_frames, n_outputs), or sequence
        Ground truth. A list or tuple of numpy arrays (or a ragged object array) is a
        sequence of recordings, each ``(n_frames_i,)`` or ``(n_frames_i,
        n_outputs)``, as the targets and predictions of the recording pipeline
        are. Nested lists of numbers are a single array, as in scikit-learn.
    y_pred : array-like or sequence, same structure as ``y_true``
        Predictions. A single array facing a sequence is cut at the sequence's
        recording boundaries (total frame counts must agree).
    multioutput : str or array-like of shape (n_outputs,), default="uniform_average"
        ``"raw_values"`` returns one CCC per output column; ``"uniform_average"``
        their mean; an array gives the weights of a weighted mean.
    average : {"pooled", "recording"}, default="pooled"
        How recordings are combined:

        - ``"pooled"``: all frames of all recordings are concatenated and one CCC
          per column is computed over them (the paper's and audmetric's
          ``concordance_cc`` convention). Needs at least 2 frames in total.
        - ``"recording"``: the CCC of each recording separately, then their
          unweighted mean (the MuSe challenge convention). Each recording needs at
          least 2 frames. A single array counts as one recording, so both options
          agree on it.

    Returns
    -------
    score : float or ndarray of shape (n_outputs,)
        A float unless ``multioutput="raw_values"``.

    Raises
    ------
    ValueError
        When lengths differ (frames or recordings; the recording is named), column
        counts differ, a value is NaN or infinite, or there are fewer than 2
        frames.

    See Also
    --------
    ccc_per_recording : One CCC per recording.
    ccc_scorer : The scorer for ``GridSearchCV`` and ``cross_val_score``.

    Notes
    -----
    Constant inputs never give NaN. If either trace is constant its covariance with
    the other is 0, so the CCC is 0.0 (the denominator still holds the other
    variance or the squared mean difference). The one case with a zero
    denominator is both traces equal to the same constant: that is perfect
    agreement and scores 1.0, as :func:`sklearn.metrics.r2_score` does with
    ``force_finite=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression.metrics import ccc_score
    >>> ccc_score([0, 1, 2], [0, 1, 1])
    0.6666666666666665
    >>> y_true = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    >>> y_pred = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]])
    >>> ccc_score(y_true, y_pred, multioutput="raw_values")
    array([1. , 0.5])

    Per-recording sequences, pooled and averaged over recordings:

    >>> y_true = [np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0])]
    >>> y_pred = [np.array([0.0, 1.0, 1.0]), np.array([6.0, 5.0])]
    >>> round(ccc_score(y_true, y_pred), 4)
    0.9466
    >>> round(ccc_score(y_true, y_pred, average="recording"), 4)
    -0.1667
    """
    if average == "recording":
        per_column = ccc_per_recording(y_true, y_pred, multioutput="raw_values")
        return _average_outputs(per_column.mean(axis=0), multioutput)
    true, pred = _check_pair(y_true, y_pred)
    t, p = np.concatenate(true), np.concatenate(pred)
    if len(t) < 2:
        raise ValueError(f"got {len(t)} frame(s); the CCC needs at least 2 frames")
    return _average_outputs(ccc_columns(t, p), multioutput)


#: Scorer for ``GridSearchCV(scoring=...)`` and ``cross_val_score``: the pooled,
#: uniformly averaged CCC, ``make_scorer(ccc_score)`` (greater is better). It works
#: with estimators predicting 2-D arrays and with those predicting lists of
#: per-recording arrays.
ccc_scorer = make_scorer(ccc_score)
