"""A :class:`~sklearn_impression.CrossDomainRegressor` that predicts causally."""

from numbers import Real

from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ..recordings._frames import DyadicFrames
from ..regressor._causal import CausalSteps, population_prior
from ..regressor._params import ADAPT_CONSTRAINTS, network_tags

__all__ = ["CausalRegressor", "NotCausalError"]


class NotCausalError(ValueError):
    """A step or setting that reads the future where causal prediction is asked."""


class CausalRegressor(RegressorMixin, BaseEstimator):
    """A cross-domain regressor whose prediction of frame ``t`` reads no input
    after ``t + lookahead``.

    It trains its ``regressor`` exactly as offline (``fit`` is the regressor's);
    what changes is prediction and enrolment:

    * a receiver with kept statistics (seen in ``fit`` or enrolled with
      :meth:`adapt`) is standardised by them, frozen; anyone else by running
      statistics of their stream (their recordings in order are one stream),
      exponentially weighted with a half-life of ``halflife`` seconds and
      started from the training receivers' statistics as if ``prior`` seconds
      of them had come first: the warm-up, standardised by the population at
      first and more and more by the person;
    * the label delay and the smoothing become one trailing window (the same
      frames as offline where the delay is at least half the smoothing width,
      as with the defaults, except near a recording's end);
    * :meth:`adapt` chooses each receiver's extra reaction delay among those
      that keep the total delay causal.

    Its :meth:`predict` on whole recordings equals what
    :class:`~sklearn_impression.live.LivePredictor` streams. Use it after a
    ``Resampler(method="causal")`` and a ``ModalityConcatenator``
    (:func:`~sklearn_impression.live.make_live_pipeline`).

    Parameters
    ----------
    regressor : CrossDomainRegressor, default=None
        The model to train (cloned); ``None``: ``CrossDomainRegressor()``. It
        must be frame-level (``window=1``): windows read the future.
    lookahead : float >= 0, default=0.0
        Seconds after ``t`` that the prediction of frame ``t`` may read.
    halflife : float > 0, default=600.0
        Seconds of the running statistics' half-life.
    prior : float >= 0, default=30.0
        Seconds of the training receivers' statistics the running statistics
        start from (0: a stream's own frames only, its first frame all zeros).
        The defaults were chosen on seed 0 of both generators (user guide,
        "Going live").

    Attributes
    ----------
    regressor_ : CrossDomainRegressor
        The fitted model.
    label_rate_ : float or None
        Frames per second of the training data (``None`` for a 2-D array).
    lookahead_frames_ : int
        ``lookahead`` in label frames.
    halflife_frames_ : float
        ``halflife`` in label frames.
    prior_mean_, prior_var_ : ndarray of shape (n_receiver_features,) or None
        The training receivers' mean feature statistics (the variance of
        their pooled frames), ``None`` without kept statistics.
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn_impression import CrossDomainRegressor, make_impression
    >>> from sklearn_impression.live import make_live_pipeline
    >>> data = make_impression(3, 1, 8, random_state=0)
    >>> pipe = make_live_pipeline(CrossDomainRegressor(
    ...     hidden_size=4, num_heads=2, max_epochs=1, random_state=0))
    >>> pipe = pipe.fit(data.recordings, data.targets)
    >>> [p.shape for p in pipe.predict(data.recordings[:1])]
    [(200, 2)]
    """

    _parameter_constraints = {
        "regressor": [HasMethods(["fit", "predict", "adapt"]), None],
        "lookahead": [Interval(Real, 0, None, closed="left")],
        "halflife": [Interval(Real, 0, None, closed="neither")],
        "prior": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, regressor=None, *, lookahead=0.0, halflife=600.0,
                 prior=30.0):
        self.regressor = regressor
        self.lookahead = lookahead
        self.halflife = halflife
        self.prior = prior

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train the regressor as offline.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)
        y : list of arrays, or array-like
            As :meth:`CrossDomainRegressor.fit` takes them.

        Returns
        -------
        self
        """
        from ..regressor import CrossDomainRegressor

        regressor = (CrossDomainRegressor() if self.regressor is None
                     else clone(self.regressor))
        window = regressor.get_params().get("window", 1)
        if window != 1:
            raise NotCausalError(
                f"CausalRegressor needs a frame-level regressor (window=1), got "
                f"window={window}: a window's network reads the frames after each "
                "frame")
        self.regressor_ = regressor.fit(X, y)
        self.label_rate_ = X.label_rate if isinstance(X, DyadicFrames) else None
        rate = self.label_rate_ or 0.0
        self.lookahead_frames_ = int(round(self.lookahead * rate))
        self.halflife_frames_ = max(self.halflife * rate, 1.0)
        prior = population_prior(self.regressor_.listeners_.statistics)
        self.prior_mean_, self.prior_var_ = (None, None) if prior is None else prior
        self.n_features_in_ = self.regressor_.n_features_in_
        if hasattr(self.regressor_, "feature_names_in_"):
            self.feature_names_in_ = self.regressor_.feature_names_in_
        return self

    @property
    def steps_(self):
        """The causal settings in label frames
        (:class:`~sklearn_impression.regressor._causal.CausalSteps`)."""
        check_is_fitted(self, "regressor_")
        prior = None
        if self.prior_mean_ is not None and self.prior > 0:
            prior = (self.prior_mean_, self.prior_var_,
                     self.prior * (self.label_rate_ or 0.0))
        return CausalSteps(self.lookahead_frames_, self.halflife_frames_,
                           prior=prior)

    def predict(self, X):
        """Predict every frame causally.

        Parameters
        ----------
        X : DyadicFrames or array-like of shape (n_frames, n_features)
            Each recording of DyadicFrames is one stream from its start.

        Returns
        -------
        list of ndarray, or ndarray
            As :meth:`CrossDomainRegressor.predict` returns them.
        """
        from ..regressor._predict import predict_traces

        check_is_fitted(self, "regressor_")
        return predict_traces(self.regressor_, X, causal=self.steps_)

    @validate_params(ADAPT_CONSTRAINTS, prefer_skip_nested_validation=True)
    def adapt(self, X, y, *, context=None, calibration="auto", lag_range=2.0,
              steps=30, lr=0.1, l2=0.01):
        """Enrol receivers as :meth:`CrossDomainRegressor.adapt` does, with
        each receiver's extra delay chosen among the causal ones.

        Parameters
        ----------
        X, y, context, calibration, lag_range, steps, lr, l2
            As :meth:`CrossDomainRegressor.adapt` takes them.

        Returns
        -------
        self
        """
        from ..regressor._adapt import adapt

        check_is_fitted(self, "regressor_")
        adapt(self.regressor_, X, y, context=context, calibration=calibration,
              lag_range=lag_range, steps=steps, lr=lr, l2=l2, causal=self.steps_)
        return self

    def __sklearn_tags__(self):
        return network_tags(super().__sklearn_tags__())
