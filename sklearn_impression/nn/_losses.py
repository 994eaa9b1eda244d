"""Task, knowledge-distillation and similarity-enhancement losses (paper eq. 5-11).

Every function takes ``(batch, time, ...)`` tensors and an optional boolean
``mask`` of shape ``(batch, time)`` (``True`` = real frame); padded frames never
contribute. Losses are computed in float32 whatever the autocast dtype of the inputs.
"""

from ..metrics._concordance import ccc_columns
from ..utils._torch import import_torch

torch = import_torch()
F = torch.nn.functional

__all__ = ["ccc_per_output", "kd_loss", "se_loss", "task_loss"]


def _valid(tensor, mask):
    """Flatten ``(batch, time, d)`` to ``(n_valid, d)`` vectors, at least float32."""
    if tensor.dtype != torch.float64:
        tensor = tensor.float()
    if mask is None:
        return tensor.reshape(-1, tensor.shape[-1])
    return tensor[mask]


def ccc_per_output(y_pred, y_true):
    """Concordance correlation coefficient of each column of ``(n, k)`` tensors.

    The package's one CCC definition (shared with the metric), so
    the ``task_loss="ccc"`` loss, the ``valid_ccc`` history and
    :func:`~sklearn_impression.metrics.ccc_score` agree: population moments, as in
    Lin (1989), safe for huge values; two columns that are the same constant get
    1.0, a constant facing anything else 0.0. Differentiable.

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]])
    >>> ccc_per_output(y, y)
    tensor([1., 1.])
    >>> ccc_per_output(torch.zeros(3, 1), torch.zeros(3, 1))
    tensor([1.])
    """
    return ccc_columns(y_true, y_pred)


def task_loss(y_pred, y_true, mask=None, kind="mse"):
    """Sum over outputs of the per-output MSE (eq. 10), or of ``1 - CCC``.

    Examples
    --------
    >>> import torch
    >>> task_loss(torch.zeros(4, 1, 2), torch.ones(4, 1, 2))
    tensor(2.)
    """
    y_pred, y_true = _valid(y_pred, mask), _valid(y_true, mask)
    if kind == "mse":
        return ((y_pred - y_true) ** 2).mean(0).sum()
    if kind == "ccc":
        return (1.0 - ccc_per_output(y_pred, y_true)).sum()
    raise ValueError(f"task loss must be 'mse' or 'ccc', got {kind!r}")


def kd_loss(h_emitter, h_receiver, mask=None):
    """``MSE(H^e, H^r) + MSE(H^r, H^e)`` (eq. 5), no detach, as released.

    Examples
    --------
    >>> import torch
    >>> kd_loss(torch.zeros(2, 1, 3), torch.ones(2, 1, 3))
    tensor(2.)
    """
    h_e, h_r = _valid(h_emitter, mask), _valid(h_receiver, mask)
    return F.mse_loss(h_e, h_r) + F.mse_loss(h_r, h_e)


def _kl(p_from, q_from, axis):
    """KL(P || Q) of softmax-normalised vectors, summed, divided by the vector count."""
    dim = 1 if axis == "feature" else 0
    return F.kl_div(F.log_softmax(q_from, dim=dim), F.log_softmax(p_from, dim=dim),
                    reduction="batchmean", log_target=True)


def se_loss(h_emitter, h_receiver, h_e2r, h_r2e, mask=None, axis="feature"):
    """Similarity-enhancement loss ``KL(H^{e->r}, H^e) + KL(H^{r->e}, H^r)`` (eq. 7).

    The representations of all real frames are flattened to ``(n, d)`` vectors.

    * ``axis="feature"``: each vector is softmax-normalised over its ``d`` features
      (eq. 9 read per vector) and the loss is ``KL(P(H^{e->r}) || P(H^e)) +
      KL(P(H^{r->e}) || P(H^r))`` as eq. 8 writes it, averaged over vectors.
    * ``axis="batch"``: the released code, ``KLDivLoss(log_softmax(inter, dim=0),
      softmax(intra, dim=0), reduction="batchmean")``: softmax over the batch axis
      (each feature is a distribution over the frames of the batch), and, as
      ``KLDivLoss(input, target)`` computes ``KL(target || input)``, the direction
      ``KL(P(H^e) || P(H^{e->r})) + KL(P(H^r) || P(H^{r->e}))``.

    Examples
    --------
    >>> import torch
    >>> h = torch.randn(5, 1, 4)
    >>> float(se_loss(h, h, h, h))
    0.0
    """
    h_e, h_r = _valid(h_emitter, mask), _valid(h_receiver, mask)
    h_er, h_re = _valid(h_e2r, mask), _valid(h_r2e, mask)
    if axis == "feature":
        return _kl(h_er, h_e, axis) + _kl(h_re, h_r, axis)
    if axis == "batch":
        return _kl(h_e, h_er, axis) + _kl(h_r, h_re, axis)
    raise ValueError(f"SE softmax axis must be 'feature' or 'batch', got {axis!r}")
