"""The ``sklearn-impression`` command: ``demo``, ``ablation``, ``train``,
``evaluate``, ``predict`` and ``enrol`` (``sklearn-impression --help``)."""

from ._main import main

__all__ = ["main"]
