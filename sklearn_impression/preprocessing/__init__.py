"""Transformers from multi-rate recordings to label-rate emitter and receiver blocks."""

from ._concatenator import ModalityConcatenator
from ._normalizer import ReceiverNormalizer
from ._resampler import Resampler

__all__ = ["ModalityConcatenator", "ReceiverNormalizer", "Resampler"]
