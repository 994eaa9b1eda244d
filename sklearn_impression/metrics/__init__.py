"""Concordance correlation coefficient and its scikit-learn scorer."""

from ._ccc import ccc_per_recording, ccc_score, ccc_scorer

__all__ = ["ccc_per_recording", "ccc_score", "ccc_scorer"]
