"""The plain LSTM baseline of the ablation table, on skorch like the regressor.

Same inputs and outputs as the other baselines (:mod:`._baselines`); training runs
through a :class:`skorch.NeuralNetRegressor` with the regressor's gather-based data
path (:class:`~sklearn_impression.nn.FrameDataset`,
:class:`~sklearn_impression.nn.BatchIterator`), seeded without touching torch's
global random state.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..recordings._flat import flatten
from ..regressor._standardize import Standardizer
from ._baselines import (
    _fit_inputs,
    _FrameBaseline,
    _predict_inputs,
    _predict_output,
    _split_rows,
)

__all__ = ["LSTMBaseline"]


class LSTMBaseline(_FrameBaseline):
    """A plain LSTM on the concatenated emitter and receiver features.

    The dataset paper's baseline (row "LSTM [7]" of the paper's Table 2): no domain
    split, no attention, no regularisers. A (bidirectional) LSTM reads ``window``
    frames of concatenated features and a linear layer predicts every frame's
    outputs. With ``window=1`` (the default, like the cross-domain model) every frame
    is its own sequence. Prediction covers every frame: windows are placed
    ``window`` frames apart, the last one aligned with the recording's end, and the
    frames two windows share get the mean of both predictions.

    Parameters
    ----------
    hidden_size : int, default=64
    num_layers : int, default=2
    dropout : float, default=0.5
        Dropout between LSTM layers.
    bidirectional : bool, default=True
    window : int, default=1
        Frames per training and prediction sequence; at most the shortest
        recording.
    hop : int or None, default=None
        Frames between training windows; ``None`` = ``window``.
    lr : float, default=1e-3
        Adam learning rate.
    max_epochs : int, default=40
    batch_size : int, default=256
        Sequences per batch.
    standardize : bool, default=True
        Scale features with training means and standard deviations.
    device : str, default="cpu"
    random_state : int or None, default=None
        Seeds weight initialisation, dropout and batch order (torch's global
        random state is left alone).

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted net (MSE criterion, Adam).
    module_ : torch.nn.Module
        ``net_.module_``.
    history_ : list of float
        Mean training MSE per epoch (``net_.history[:, "train_loss"]``).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import DyadicFrames
    >>> rng = np.random.default_rng(0)
    >>> X = DyadicFrames([rng.normal(size=(60, 3))], [rng.normal(size=(60, 2))],
    ...                  [0], ["e0", "e1", "e2"], ["r0", "r1"])
    >>> model = LSTMBaseline(hidden_size=8, max_epochs=2, random_state=0)
    >>> model.fit(X, [rng.normal(size=(60, 2))]).predict(X)[0].shape
    (60, 2)
    """

    #: lr 1e-3 and one batch per epoch on the checks' tiny data: R2 may be low.
    _poor_score = True

    _parameter_constraints = {
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "hop": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, *, hidden_size=64, num_layers=2, dropout=0.5,
                 bidirectional=True, window=1, hop=None, lr=1e-3, max_epochs=40,
                 batch_size=256, standardize=True, device="cpu", random_state=None):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.window = window
        self.hop = hop
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.standardize = standardize
        self.device = device
        self.random_state = random_state

    # -- data layout -------------------------------------------------------
    def _frames(self, X, y=None):
        """Validated flat frames (before torch), standardised; with targets
        (``fit``) the scaler is fitted first."""
        frames = flatten(X, y)
        if y is not None:
            self.scaler_ = Standardizer.fit(replace(frames, y=None), self.standardize)
        return replace(self.scaler_.transform(replace(frames, y=None)), y=frames.y)

    def _check_windows(self, counts, as_array):
        """Raise before any torch code if the windows do not fit the frames."""
        if as_array and self.window != 1:
            raise ValueError("a 2-D frame array needs window=1 (rows are independent "
                             "frames); pass DyadicFrames for window > 1")
        for i, n in enumerate(counts):
            if n < self.window:
                raise ValueError(
                    f"recording {i} has {n} frames, fewer than window={self.window}"
                )

    def _dataset(self, frames, hop, device):
        """A :class:`FrameDataset` of the frames cut into windows."""
        from ..nn import FrameDataset, window_table

        windows = window_table(frames.lengths, self.window, hop)[0]
        return FrameDataset.from_frames(frames, device, windows=windows)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on all frames of all recordings."""
        X, y = _fit_inputs(self, X, y)
        self._check_windows(X.frame_counts, self._array_input)
        frames = self._frames(X, y)  # validates before torch
        from ..utils._torch import import_torch

        import_torch()
        from skorch import NeuralNetRegressor

        from ..regressor._callbacks import frame_net_params, seeded_torch
        from ._lstm_module import LSTMRegressorModule

        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        device = str(self.device)
        frames = replace(frames, y=frames.y.astype(np.float32))
        dataset = self._dataset(frames, self.hop or self.window, device)
        self.net_ = NeuralNetRegressor(
            LSTMRegressorModule,
            module__n_features=X.n_features,
            module__n_outputs=frames.y.shape[1],
            module__hidden_size=self.hidden_size,
            module__num_layers=self.num_layers,
            module__dropout=self.dropout,
            module__bidirectional=self.bidirectional,
            train_split=None,
            device=device,
            verbose=0,
            **frame_net_params(lr=self.lr, max_epochs=self.max_epochs,
                               batch_size=self.batch_size, seed=seed),
        )
        with seeded_torch(seed, device):  # weights, dropout; global state untouched
            self.net_.fit(dataset, None)
        self.module_ = self.net_.module_
        self.module_.eval()
        self.history_ = [float(v) for v in self.net_.history[:, "train_loss"]]
        self.n_outputs_ = int(frames.y.shape[1])
        return self

    def predict(self, X):
        """One ``(n_frames_i, n_outputs)`` array per recording."""
        check_is_fitted(self)
        X, as_array = _predict_inputs(self, X)
        counts = X.frame_counts
        self._check_windows(counts, as_array)
        frames = self._frames(X)
        from ..utils._torch import import_torch

        import_torch()
        from ..nn import average_windows

        dataset = self._dataset(frames, self.window, self.net_.device)
        y_windows = self.net_.forward(dataset, training=False,
                                      device=self.net_.device).cpu().numpy()
        values = average_windows(y_windows, dataset.windows.cpu().numpy(), None,
                                 int(counts.sum()))
        return _predict_output(self, _split_rows(values, counts), as_array)
