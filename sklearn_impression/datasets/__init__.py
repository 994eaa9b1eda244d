"""Synthetic IMPRESSION-shaped data and the released features-and-labels layout."""

from ._released import load_impression, write_impression
from ._synthetic import make_impression

__all__ = ["load_impression", "make_impression", "write_impression"]
