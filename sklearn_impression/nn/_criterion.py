"""The paper's training objective as one skorch criterion module (eq. 11)."""

from ..utils._torch import import_torch
from ._losses import kd_loss, se_loss, task_loss

torch = import_torch()

__all__ = ["TERMS", "CrossDomainLoss"]

#: Loss terms, in the order of :attr:`CrossDomainLoss.terms_`.
TERMS = ("task", "kd", "se")


class CrossDomainLoss(torch.nn.Module):
    """``task + kd_weight * KD + se_weight * SE`` of a cross-domain module's output.

    The criterion of :class:`~sklearn_impression.CrossDomainRegressor`'s skorch
    net: its parameters are reachable there as ``criterion__kd_weight`` and so on.
    A term whose weight is 0 is computed without gradient (logged, not
    back-propagated: the paper's ablation).

    Parameters
    ----------
    kd_weight, se_weight : float, default=1.0
    se_softmax_axis : {"feature", "batch"}, default="feature"
        See :func:`se_loss`.
    task_loss : {"mse", "ccc"}, default="mse"
        See :func:`task_loss`.

    Attributes
    ----------
    terms_ : tensor of shape (3,) or None
        The detached ``task``, ``kd`` and ``se`` values of the last call, on the
        device of the loss (read by the history callbacks; no host sync).

    Examples
    --------
    >>> import torch
    >>> loss = CrossDomainLoss(kd_weight=0.5, se_weight=0.0)
    >>> reps = [torch.zeros(4, 1, 3), torch.ones(4, 1, 3)] + [torch.zeros(4, 1, 3)] * 2
    >>> float(loss((torch.zeros(4, 1, 2), reps), torch.ones(4, 1, 2)))
    3.0
    >>> loss.terms_.tolist()
    [2.0, 2.0, 0.0]
    """

    def __init__(self, kd_weight=1.0, se_weight=1.0, se_softmax_axis="feature",
                 task_loss="mse"):
        super().__init__()
        self.kd_weight = kd_weight
        self.se_weight = se_weight
        self.se_softmax_axis = se_softmax_axis
        self.task_loss = task_loss
        self.terms_ = None

    @staticmethod
    def _term(weight, fn, *args, **kwargs):
        if weight:
            return fn(*args, **kwargs)
        with torch.no_grad():
            return fn(*args, **kwargs)

    def forward(self, y_pred, y_true, mask=None):
        """The weighted loss of ``y_pred = (y_hat, representations)``."""
        y_hat, reps = y_pred
        task = task_loss(y_hat, y_true, mask, kind=self.task_loss)
        kd = self._term(self.kd_weight, kd_loss, reps[0], reps[1], mask)
        se = self._term(self.se_weight, se_loss, *reps, mask=mask,
                        axis=self.se_softmax_axis)
        loss = task
        if self.kd_weight:
            loss = loss + self.kd_weight * kd
        if self.se_weight:
            loss = loss + self.se_weight * se
        self.terms_ = torch.stack([task, kd, se]).detach()
        return loss
