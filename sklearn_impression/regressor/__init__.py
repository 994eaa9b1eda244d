"""The cross-domain network as a scikit-learn regressor, and its parts.

:class:`CrossDomainRegressor` (torch-backed, imported on first use) with its
input checks, skorch net and callbacks, per-person state (the listener table),
enrolment (``adapt``), label delay and smoothing, stimulus traces, presets and
checkpoints, each in its own private module.
"""

from importlib import import_module

from ._listeners import MIN_ENROLMENT_FRAMES, UnknownReceiverWarning
from ._presets import PAPER_PARAMS

__all__ = ["MIN_ENROLMENT_FRAMES", "PAPER_PARAMS", "CrossDomainRegressor",
           "UnknownReceiverWarning"]


def __getattr__(name):
    if name == "CrossDomainRegressor":
        from ..utils._torch import import_torch

        import_torch()  # a clear "install torch" message before skorch needs it
        return import_module("._estimator", __name__).CrossDomainRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"CrossDomainRegressor"})
