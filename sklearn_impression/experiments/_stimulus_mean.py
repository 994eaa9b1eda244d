"""The crowd's trace: predict a stimulus's mean training annotation, frame by frame."""

from __future__ import annotations

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from ..regressor._stimulus_traces import fit_stimulus_traces, stimulus_trace_values
from ._baselines import _fit_inputs, _FrameBaseline, _predict_inputs, _predict_output

__all__ = ["StimulusMeanBaseline"]


class StimulusMeanBaseline(_FrameBaseline):
    """Predict, at each frame of a stimulus, what the training receivers annotated.

    Under leave-receivers-out the test receivers watch stimuli the training
    receivers annotated, so the mean training annotation of the same stimulus at the
    same moment (the crowd's trace) is a prediction that reads no signal of the
    test person at all. Its score is how much of a leave-receivers-out figure a
    model can earn by recognising the stimulus; a model of the receiver's signals
    earns its place only above it. Meaningless for stimuli never annotated in
    training (leave-stimuli-out), where it predicts the training mean.

    Frames are matched by their position from the stimulus's start: a recording's
    emitter rows when it was cut from a longer one
    (:meth:`~sklearn_impression.DyadicFrames.select_frames`), else its frame
    index. Positions no training recording reached are interpolated linearly
    between those that were; beyond the last one the trace holds its last value.

    Parameters
    ----------
    center_receivers : bool, default=True
        Subtract each training receiver's mean annotation (over all their frames)
        before averaging, and add the mean of those means back: receivers' slider
        offsets, which no test person shares, then do not move the trace when the
        receivers of two stimuli differ.

    Attributes
    ----------
    traces_ : dict
        Stimulus id to its ``(n_positions, n_outputs)`` trace.
    constant_ : ndarray of shape (n_outputs,)
        Training mean (of the receiver means, when centring): the prediction for
        a stimulus without a trace.
    n_features_in_ : int
    n_outputs_ : int

    Notes
    -----
    Needs :class:`~sklearn_impression.DyadicFrames` with stimulus ids (the
    :class:`~sklearn_impression.preprocessing.ModalityConcatenator` copies them
    from the recordings). Recordings without a stimulus id, or of a stimulus not
    seen in training, get :attr:`constant_` with one warning that names them. A
    plain 2-D array is a set of frames without stimuli: the prediction is
    :attr:`constant_`, like :class:`ConstantPredictor`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> blocks = [np.zeros((4, 1)), np.zeros((3, 1))]
    >>> receiver_blocks = [np.zeros((4, 1)), np.zeros((4, 1)), np.zeros((3, 1))]
    >>> X = DyadicFrames(blocks, receiver_blocks, [0, 0, 1], ["e"], ["r"],
    ...                  receivers=["a", "b", "a"], stimuli=["s", "s", "t"])
    >>> y = [np.arange(4.0), np.arange(4.0) + 2, np.full(3, 9.0)]
    >>> model = StimulusMeanBaseline(center_receivers=False).fit(X, y)
    >>> model.predict(X[[1]])[0].ravel()
    array([1., 2., 3., 4.])
    """

    _parameter_constraints = {"center_receivers": ["boolean"]}

    def __init__(self, *, center_receivers=True):
        self.center_receivers = center_receivers

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Average the training annotations of each stimulus position by position."""
        X, y = _fit_inputs(self, X, y)
        self.constant_, traces = fit_stimulus_traces(X, y, self.center_receivers)
        self.traces_ = {} if self._array_input else traces
        self.n_outputs_ = self.constant_.shape[0]
        return self

    def predict(self, X):
        """One ``(n_frames_i, n_outputs)`` array per recording: its stimulus's trace."""
        check_is_fitted(self)
        X, as_array = _predict_inputs(self, X)
        if as_array:
            return _predict_output(
                self, [np.tile(self.constant_, (X.frame_counts[0], 1))], True)
        return stimulus_trace_values(self.traces_, self.constant_, X,
                                     owner="StimulusMeanBaseline")
