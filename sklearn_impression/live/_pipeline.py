"""The causal pipeline: built by :func:`make_live_pipeline`, checked by
:func:`check_causal`."""

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..preprocessing import ModalityConcatenator, Resampler
from ._causal_regressor import CausalRegressor, NotCausalError

__all__ = ["check_causal", "make_live_pipeline"]


def make_live_pipeline(regressor=None, *, lookahead=0.0, halflife=600.0, prior=30.0,
                       nan_policy="interpolate", include=None, exclude=None):
    """The causal form of the package's pipeline, unfitted.

    ``Resampler(method="causal")``, ``ModalityConcatenator`` and a
    :class:`CausalRegressor`: every prediction of frame ``t`` depends only on
    input samples time-stamped at or before ``t + lookahead``. Fit it like the
    offline pipeline; give it to :class:`LivePredictor` to stream.

    Parameters
    ----------
    regressor : CrossDomainRegressor, default=None
        The model (frame-level, ``window=1``); ``None``: the defaults.
    lookahead, halflife, prior : float, default=0.0, 600.0, 30.0
        Seconds; see :class:`CausalRegressor`.
    nan_policy : {"interpolate", "raise"}, default="interpolate"
        The Resampler's: ``"interpolate"`` holds a channel's last valid value
        through a NaN gap.
    include, exclude : sequence of str, default=None
        The ModalityConcatenator's.

    Returns
    -------
    Pipeline
        Steps ``"resample"``, ``"concat"``, ``"model"``.

    Examples
    --------
    >>> pipe = make_live_pipeline(lookahead=0.5)
    >>> [name for name, _ in pipe.steps], pipe[-1].lookahead
    (['resample', 'concat', 'model'], 0.5)
    """
    return Pipeline([
        ("resample", Resampler(method="causal", nan_policy=nan_policy)),
        ("concat", ModalityConcatenator(include=include, exclude=exclude)),
        ("model", CausalRegressor(regressor, lookahead=lookahead,
                                  halflife=halflife, prior=prior)),
    ])


def check_causal(pipeline):
    """``(resampler, concatenator, model)`` of a fitted causal pipeline.

    Raises
    ------
    NotCausalError
        Naming the first step that is not causal (or missing), and what to use.
    TypeError
        For something that is not a Pipeline.
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"a live prediction needs a fitted Pipeline "
                        f"(make_live_pipeline), got {type(pipeline).__name__}")
    expected = ((Resampler, "Resampler(method='causal')"),
                (ModalityConcatenator, "ModalityConcatenator()"),
                (CausalRegressor, "CausalRegressor(CrossDomainRegressor(...))"))
    steps = list(pipeline.steps)
    for k, (name, step) in enumerate(steps):
        if k >= len(expected) or not isinstance(step, expected[k][0]):
            want = expected[k][1] if k < len(expected) else "no further step"
            raise NotCausalError(
                f"step {name!r} ({type(step).__name__}) is not causal here: a live "
                f"pipeline is Resampler(method='causal'), ModalityConcatenator(), "
                f"CausalRegressor(...) (make_live_pipeline); step {k} must be "
                f"{want}")
    if len(steps) < len(expected):
        raise NotCausalError(f"the pipeline has {len(steps)} steps; a live pipeline "
                             "needs a causal Resampler, a ModalityConcatenator and a "
                             "CausalRegressor (make_live_pipeline)")
    (resample_name, resampler), _, (model_name, model) = steps
    if resampler.method != "causal":
        raise NotCausalError(
            f"step {resample_name!r} (Resampler(method={resampler.method!r})) is not "
            "causal: its filters read the future; use Resampler(method='causal')")
    check_is_fitted(model, "regressor_")
    if model.label_rate_ is None:
        raise NotCausalError(f"step {model_name!r} was fitted on a 2-D array, which "
                             "has no time: fit the pipeline on recordings")
    return resampler, steps[1][1], model
