"""Synthetic IMPRESSION-shaped data and the released features-and-labels layout."""

from ._drift import make_dyadic_drift
from ._released import load_impression
from ._released_write import write_impression
from ._synthetic import make_impression

__all__ = [
    "load_impression",
    "make_dyadic_drift",
    "make_impression",
    "write_impression",
]
