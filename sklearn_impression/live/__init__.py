"""Live prediction: causal, frame by frame, while the interaction runs.

:func:`make_live_pipeline` builds the causal form of the package's pipeline
(a causal Resampler, the ModalityConcatenator and a :class:`CausalRegressor`);
:class:`LivePredictor` streams one person through a fitted one, and
:class:`LiveGroup` many people at once, one batched network step per push.
"""

from ._causal_regressor import CausalRegressor, NotCausalError
from ._group import LiveGroup, LiveOutput
from ._pipeline import check_causal, make_live_pipeline
from ._predictor import LivePredictor

__all__ = ["CausalRegressor", "LiveGroup", "LiveOutput", "LivePredictor",
           "NotCausalError", "check_causal", "make_live_pipeline"]
