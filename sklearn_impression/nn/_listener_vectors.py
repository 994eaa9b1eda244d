"""The listener embedding of listener adaptation: grown, reset and fitted.

Row 0 of :class:`~sklearn_impression.nn.CrossDomainModule`'s ``listener``
embedding is the population vector; row ``k + 1`` belongs to the regressor's
``listener_ids_[k]``. Enrolment (``CrossDomainRegressor.adapt``) appends rows for
new receivers and fits only those rows with the rest of the network frozen.
"""

import numpy as np

from ..utils._torch import import_torch

torch = import_torch()

__all__ = ["fit_listener_vectors", "grow_listener_embedding",
           "reset_listener_vectors"]


def grow_listener_embedding(module, n_new):
    """Append ``n_new`` rows, each a copy of the population vector (row 0).

    Parameters
    ----------
    module : CrossDomainModule
        Changed in place (no effect without a listener embedding).
    n_new : int
    """
    if module.listener is None or not n_new:
        return
    old = module.listener.weight.detach()
    grown = torch.nn.Embedding(old.shape[0] + n_new, old.shape[1]).to(old.device)
    with torch.no_grad():
        grown.weight[:old.shape[0]] = old
        grown.weight[old.shape[0]:] = old[0]
    module.listener = grown


def reset_listener_vectors(module, rows):
    """Set the vectors of ``rows`` to the population vector (row 0)."""
    if module.listener is None or not len(rows):
        return
    weight = module.listener.weight
    with torch.no_grad():
        weight[torch.as_tensor(np.asarray(rows), device=weight.device)] = \
            weight[0].detach().clone()


def fit_listener_vectors(module, dataset, rows, *, steps, lr, l2):
    """Fit the vectors of ``rows`` (sorted, unique) with the network frozen.

    Full-batch Adam on the task MSE of ``dataset`` (whose ``listener`` tensor
    holds every frame's row) plus ``l2`` times the squared distance of each
    vector from where it started; only the vectors get a gradient, so the
    network's weights stay bit-identical.

    Parameters
    ----------
    module : CrossDomainModule
    dataset : FrameDataset
    rows : int ndarray
    steps : int
    lr, l2 : float
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            x, y = dataset.batch(slice(0, len(dataset)))
            z_e, z_r = module.encode(x["emitter"], x["receiver"])
            table = module.listener.weight.detach()
        local = torch.searchsorted(torch.as_tensor(rows, device=z_r.device),
                                   x["listener"])
        start = table[torch.as_tensor(rows, device=table.device)].clone()
        vectors = start.clone().requires_grad_(True)
        mask = x.get("mask")
        weight = None if mask is None else mask.unsqueeze(-1).to(y.dtype)
        optimizer = torch.optim.Adam([vectors], lr=lr)
        for _ in range(steps):
            y_hat = module.decode(z_e, module.listen(z_r, vectors[local]), mask)[0]
            err = (y_hat - y) ** 2
            err = err.mean() if weight is None else (err * weight).sum() / (
                weight.sum() * y.shape[-1])
            loss = err + l2 * ((vectors - start) ** 2).sum(dim=-1).mean()
            # only the vectors' gradient: the frozen network gets none
            (vectors.grad,) = torch.autograd.grad(loss, [vectors])
            optimizer.step()
        with torch.no_grad():
            module.listener.weight[torch.as_tensor(rows, device=table.device)] = \
                vectors.detach()
    finally:
        module.train(was_training)
