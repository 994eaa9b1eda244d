"""The base of the transformers that take a sequence of recordings."""

from sklearn.base import BaseEstimator, TransformerMixin, _fit_context


class _RecordingTransformer(TransformerMixin, BaseEstimator,
                            auto_wrap_output_keys=None):
    """A transformer of :class:`~sklearn_impression.Recording` sequences.

    :meth:`fit` checks the recordings and learns their layout in ``_fit(X)``,
    which returns the checked recordings; :meth:`fit_transform` passes those to
    ``_transform_checked`` instead of checking them a second time in
    ``transform``. A subclass defines both steps, ``transform`` and its
    ``_parameter_constraints``, and repeats ``auto_wrap_output_keys=None`` in its
    class statement (``set_output`` cannot wrap recordings).
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the recordings and record their modalities and channels.

        Parameters
        ----------
        X : sequence of Recording
            All recordings must have the same modalities and channels; the class
            documentation says what else each transformer checks.
        y : ignored

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to ``X`` and transform it, checking the recordings once.

        Parameters
        ----------
        X : sequence of Recording
            As in :meth:`fit`.
        y : ignored

        Returns
        -------
        X_out
            As returned by :meth:`transform`.
        """
        return self._transform_checked(self._fit(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input is a sequence of Recording objects, not a feature matrix.
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []  # outputs float32
        return tags
