"""sklearn-impression: continuous warmth and competence recognition from dyadic signals.

A scikit-learn compatible implementation of the cross-domain network of Li & Lai
(Interspeech 2022): multi-rate emitter and receiver streams are resampled to the label
rate (:class:`Resampler`), joined into an emitter and a receiver block
(:class:`ModalityConcatenator`) and regressed frame by frame by
:class:`CrossDomainRegressor`, a skorch network. Scores use Lin's concordance
correlation coefficient (:func:`ccc_score`, :data:`ccc_scorer`).

Importing this package does not import torch; the torch-backed objects
(:class:`CrossDomainRegressor`, :mod:`sklearn_impression.nn`) load it on first use.
"""

from importlib import import_module

from ._version import __version__
from .datasets import (
    load_impression,
    make_dyadic_drift,
    make_impression,
    write_impression,
)
from .metrics import ccc_score, ccc_scorer
from .persistence._files import load_model, save_model
from .persistence._upgrade import install_legacy_module_finder
from .preprocessing import ModalityConcatenator, ReceiverNormalizer, Resampler
from .recordings._frames import DyadicFrames
from .recordings._recording import Recording, Stream
from .regressor._listeners import UnknownReceiverWarning
from .utils._cluster import dask_backend, scatter_inputs

__all__ = [
    "CrossDomainRegressor",
    "DyadicFrames",
    "ModalityConcatenator",
    "ReceiverNormalizer",
    "Recording",
    "Resampler",
    "Stream",
    "UnknownReceiverWarning",
    "__version__",
    "ccc_score",
    "ccc_scorer",
    "dask_backend",
    "load_impression",
    "load_model",
    "make_dyadic_drift",
    "make_impression",
    "save_model",
    "scatter_inputs",
    "write_impression",
]

install_legacy_module_finder()  # files pickled before the subpackage layout

# Torch-backed names, imported on first attribute access (PEP 562).
_LAZY = {"CrossDomainRegressor": "sklearn_impression.regressor"}


def __getattr__(name):
    if name in _LAZY:
        from .utils._torch import import_torch

        import_torch()  # a clear "install torch" message before skorch needs it
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sklearn_impression' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
