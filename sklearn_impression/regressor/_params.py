"""What :class:`~sklearn_impression.CrossDomainRegressor`'s parameters may be.

Each parameter's constraints (scikit-learn's ``_parameter_constraints``, checked
by ``fit`` before torch runs) and the rules between parameters. Torch-free
except for the CUDA check of ``device``.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

__all__ = ["ADAPT_CONSTRAINTS", "PARAMETER_CONSTRAINTS", "check_param_combinations",
           "check_params", "network_tags"]


def _positive_int():
    return Interval(Integral, 1, None, closed="left")


def _fraction():
    return Interval(Real, 0, 1, closed="left")


def _non_negative():
    return Interval(Real, 0, None, closed="left")


PARAMETER_CONSTRAINTS = {
    "hidden_size": [_positive_int()],
    "num_layers": [_positive_int()],
    "lstm_dropout": [_fraction()],
    "num_heads": [_positive_int()],
    "fc_size": [_positive_int()],
    "dropout": [_fraction()],
    "window": [_positive_int()],
    "hop": [_positive_int(), None],
    "attention_span": [_positive_int(), None],
    "intra": ["boolean"],
    "inter": ["boolean"],
    "shared_attention": ["boolean"],
    "kd_weight": [_non_negative()],
    "se_weight": [_non_negative()],
    "se_softmax_axis": [StrOptions({"feature", "batch"})],
    "task_loss": [StrOptions({"mse", "ccc"})],
    "emitter_dropout": [_fraction()],
    "weight_decay": [_non_negative()],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "lr_step": [_positive_int()],
    "lr_gamma": [Interval(Real, 0, 1, closed="right")],
    "max_epochs": [_positive_int()],
    "batch_size": [_positive_int()],
    "validation_fraction": [_fraction(), None],
    "validation_groups": [StrOptions({"stimulus", "receiver+stimulus", "receiver",
                                      "recording"})],
    "early_stopping": [_positive_int(), StrOptions({"auto"}), None],
    "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
    "listener_adaptation": ["boolean"],
    "standardize": ["boolean"],
    "emitter_features": [_positive_int(), "array-like", None],
    "normalize_by": [StrOptions({"receiver", "recording"}), None],
    "label_delay": [_non_negative()],
    "smoothing": [_non_negative()],
    "device": [str],
    "amp": ["boolean"],
    "random_state": ["random_state"],
    "checkpoint_dir": [str, None],
    "verbose": ["verbose"],
}


#: The arguments of :meth:`CrossDomainRegressor.adapt`.
ADAPT_CONSTRAINTS = {
    "calibration": [StrOptions({"auto", "none", "offset", "offset+gain",
                                "offset+gain+stimulus"})],
    "lag_range": [_non_negative()],
    "steps": [Interval(Integral, 0, None, closed="left")],
    "lr": [_non_negative()],
    "l2": [_non_negative()],
}


def network_tags(tags):
    """scikit-learn tags of a regressor built on the network (set in place,
    returned): one output or several; a poor score allowed, since a network
    trained for few epochs on a few hundred rows (the checks' data) need not
    reach the R^2 > 0.5 the default regressor check asks for."""
    tags.target_tags.multi_output = True
    tags.target_tags.single_output = True
    tags.regressor_tags.poor_score = True
    return tags


def check_param_combinations(params):
    """The rules between parameters (``params``: a ``get_params()`` dict);
    a ValueError names the broken one."""
    width = 2 * params["hidden_size"]
    if width % params["num_heads"]:
        raise ValueError(f"num_heads={params['num_heads']} must divide the attention "
                         f"width 2 * hidden_size = {width}")
    if not (params["intra"] or params["inter"]):
        raise ValueError("intra and inter are both False: nothing would feed the "
                         "output layer; enable at least one")
    if params["hop"] is not None and params["hop"] > params["window"]:
        raise ValueError(f"hop={params['hop']} must be <= window={params['window']}, "
                         "or frames would be skipped")
    device = str(params["device"])
    if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but torch finds no CUDA device")
    if params["checkpoint_dir"] is not None and params["early_stopping"] not in (
            None, "auto"):
        raise ValueError("checkpoint_dir cannot be combined with early_stopping "
                         "(its best weights are kept in memory only)")


def check_params(params):
    """Every parameter's constraints, then the rules between them.

    Examples
    --------
    >>> from sklearn_impression import CrossDomainRegressor
    >>> check_params(CrossDomainRegressor(num_heads=5).get_params())
    Traceback (most recent call last):
    ...
    ValueError: num_heads=5 must divide the attention width 2 * hidden_size = 128
    """
    validate_parameter_constraints(PARAMETER_CONSTRAINTS, params,
                                   caller_name="CrossDomainRegressor")
    check_param_combinations(params)
