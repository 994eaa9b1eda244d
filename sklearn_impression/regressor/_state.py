"""What a fitted :class:`~sklearn_impression.CrossDomainRegressor` persists.

:func:`~sklearn_impression.save_model` asks every estimator for its state
(``__sklearn_impression_state__``) and rebuilds it from that state
(``__sklearn_impression_restore__``); this module is the regressor's side of
that exchange: its fitted attributes as JSON values and arrays (the listener
table as its documented attributes), and its skorch net as a
:class:`NetworkState` (the module weights copied to CPU memory and the
history). Loading rebuilds the net with the regressor's own builder, so a
loaded model is built exactly as a trained one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._params import check_params

__all__ = ["NetworkState", "regressor_state", "restore_regressor"]


@dataclass
class NetworkState:
    """The weights (name to CPU ndarray) and the history of a skorch net."""

    weights: dict
    history: list


def regressor_state(regressor):
    """The fitted attributes of ``regressor``, its net as a :class:`NetworkState`."""
    params = regressor.get_params(deep=False)
    state = {name: value for name, value in vars(regressor).items()
             if name not in params}
    state.update(state.pop("listeners_").attributes())
    net = state.pop("net_")
    weights = {name: np.ascontiguousarray(tensor.detach().cpu().numpy())
               for name, tensor in net.module_.state_dict().items()}
    state["net_"] = NetworkState(weights, net.history.to_list())
    return state


def restore_regressor(cls, params, state, *, device="cpu", where="model"):
    """A fitted regressor from :func:`regressor_state`'s output, brought up to
    date (:func:`~sklearn_impression.persistence._upgrade.upgrade`: the
    listener table in ``listeners_``).

    ``device=None`` keeps the saved device (CPU, with a warning, when CUDA is
    missing). Errors are ``ValueError`` naming ``where`` in the model file.
    """
    import torch
    from skorch.history import History

    from ._net import build_net

    state = dict(state)
    network = state.pop("net_", None)
    regressor = cls(**params)
    for name, value in state.items():
        setattr(regressor, name, value)
    if network is None:
        return regressor
    if not isinstance(network, NetworkState):
        raise ValueError(f"model file: malformed network entry at {where}.net_")
    device = str(regressor.device) if device is None else str(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"the model was saved for device={device!r} but torch finds "
                      "no CUDA device; loading it on 'cpu'", UserWarning,
                      stacklevel=5)
        device = "cpu"
    regressor.device = device
    params = regressor.get_params()
    check_params(params)
    net = build_net(params, n_emitter_features=regressor.n_emitter_features_,
                    n_receiver_features=regressor.n_receiver_features_,
                    n_outputs=regressor.n_outputs_,
                    n_listeners=len(regressor.listeners_.ids), device=device)
    with torch.random.fork_rng(devices=[]):  # initialisation draws random weights
        net.initialize()
    weights = {k: torch.from_numpy(np.array(v)) for k, v in network.weights.items()}
    expected = set(net.module_.state_dict())
    missing = sorted(expected - set(weights))
    if missing:
        raise ValueError(f"model file: network tensors {missing[:5]} are missing "
                         f"from {where}.net_")
    extra = sorted(set(weights) - expected)
    if extra:
        raise ValueError(f"model file: unexpected network tensors {extra[:5]} in "
                         f"{where}.net_")
    try:
        net.module_.load_state_dict(weights, strict=True)
    except RuntimeError as exc:  # shape mismatches
        raise ValueError(f"model file: network tensors of {where}.net_ do not fit "
                         f"the network ({exc})") from None
    net.module_.to(device)
    net.module_.eval()
    net.history = History(network.history)
    regressor.net_ = net
    return regressor
