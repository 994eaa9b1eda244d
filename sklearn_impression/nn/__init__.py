"""Torch building blocks of the cross-domain network (imports torch).

:class:`CrossDomainModule` is the network, the loss functions implement the paper's
task, knowledge-distillation and similarity-enhancement terms,
:class:`CrossDomainLoss` weighs them into the training criterion, and
:class:`FrameDataset` / :class:`BatchIterator` are the gather-based data path that
:class:`~sklearn_impression.CrossDomainRegressor` trains with.
"""

from ._criterion import TERMS, CrossDomainLoss
from ._data import BatchIterator, FrameDataset, average_windows, window_table
from ._listener_vectors import (
    fit_listener_vectors,
    grow_listener_embedding,
    reset_listener_vectors,
)
from ._losses import ccc_per_output, kd_loss, se_loss, task_loss
from ._network import REPRESENTATIONS, CrossDomainModule

__all__ = [
    "REPRESENTATIONS",
    "TERMS",
    "BatchIterator",
    "CrossDomainLoss",
    "CrossDomainModule",
    "FrameDataset",
    "average_windows",
    "ccc_per_output",
    "fit_listener_vectors",
    "grow_listener_embedding",
    "kd_loss",
    "reset_listener_vectors",
    "se_loss",
    "task_loss",
    "window_table",
]
