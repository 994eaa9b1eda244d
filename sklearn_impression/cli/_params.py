"""Pipeline parameters from the command line: ``--set NAME=VALUE`` and ``--config``.

Part of :mod:`sklearn_impression.cli`. Values are read as JSON, then as Python
literals, then kept as strings; a config file is TOML (``.toml``) or JSON, either
flat (``"model__window" = 50``) or with one table per step (``[model]``,
``window = 50``). Names and values are checked by the estimators' own parameter
constraints before anything is trained.
"""

from __future__ import annotations

import ast
import difflib
import json
from pathlib import Path

__all__ = ["apply_params", "collect_params", "parse_value", "pipeline_params"]

#: Parameters that take a list of modality names (``a,b`` is split at commas).
_NAME_LISTS = ("include", "exclude")


def parse_value(text, name=""):
    """``text`` as JSON, else as a Python literal, else the string itself.

    Examples
    --------
    >>> parse_value("50"), parse_value("null"), parse_value("[1, 2]")
    (50, None, [1, 2])
    >>> parse_value("None"), parse_value("True"), parse_value("mse")
    (None, True, 'mse')
    >>> parse_value("receiver.physio,emitter.audio", "concat__exclude")
    ['receiver.physio', 'emitter.audio']
    """
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = text
    if isinstance(value, str) and name.rsplit("__", 1)[-1] in _NAME_LISTS:
        value = [part.strip() for part in value.split(",") if part.strip()]
    return value


def _flatten(mapping, where, prefix=""):
    out = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{where}: parameter names must be non-empty strings, "
                             f"got {key!r}")
        name = f"{prefix}__{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, where, name))
        else:
            out[name] = value
    return out


def read_config(path):
    """The parameters of a TOML or JSON config file, flattened to ``a__b`` names."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config {path}: no such file")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"--config {path}: not valid JSON ({exc})") from None
    else:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            try:
                import tomli as tomllib
            except ImportError:
                raise ImportError(f"--config {path}: reading TOML needs Python >= "
                                  "3.11 or the tomli package; or write the "
                                  "parameters as JSON (.json)") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"--config {path}: not valid TOML ({exc}); JSON files "
                             "need the .json suffix") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: expected a table of parameters, got "
                         f"{type(data).__name__}")
    return _flatten(data, f"--config {path}")


class Params(dict):
    """Parameters by name, with ``sources``: where each came from (``--set`` or
    ``--config FILE``), for error messages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = {}


def collect_params(config=None, assignments=()):
    """The parameters of ``--config`` then ``--set`` (a later value wins)."""
    params = Params()
    if config is not None:
        params.update(read_config(config))
        params.sources.update(dict.fromkeys(params, f"--config {config}"))
    for item in assignments or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. "
                             "model__window=50")
        params[name] = parse_value(text.strip(), name)
        params.sources[name] = "--set"
    for name, value in params.items():
        if name.rsplit("__", 1)[-1] in _NAME_LISTS and isinstance(value, str):
            params[name] = parse_value(value, name)
    return params


def apply_params(pipeline, params):
    """Set ``params`` on ``pipeline`` and validate them as ``fit`` would.

    Unknown names are a ValueError naming the step and suggesting the closest
    parameter; values are checked by each estimator's ``_parameter_constraints``
    (and the regressor's checks across parameters), so errors come before any
    training.
    """
    steps = dict(pipeline.steps)
    sources = getattr(params, "sources", {})
    for name in params:
        source = sources.get(name, "--set")
        step, sep, param = name.partition("__")
        if not sep or step not in steps:
            raise ValueError(
                f"{source} {name}: parameter names are STEP__NAME with STEP one of "
                f"{list(steps)}, e.g. model__window"
            )
        valid = steps[step].get_params(deep=True)
        if param not in valid:
            close = difflib.get_close_matches(param, list(valid), n=1)
            hint = f"; did you mean {step}__{close[0]}?" if close else ""
            raise ValueError(f"{source} {name}: {type(steps[step]).__name__} has no "
                             f"parameter {param!r}{hint}")
    pipeline.set_params(**params)
    for step in steps.values():
        _check_step_params(step)
    return pipeline


def _check_step_params(step):
    """A step's parameters as its ``fit`` would check them, before any data is
    read: scikit-learn's declared constraints, and the regressor's rules
    between parameters."""
    from sklearn.utils._param_validation import validate_parameter_constraints

    from ..regressor import CrossDomainRegressor
    from ..regressor._params import check_param_combinations

    constraints = getattr(type(step), "_parameter_constraints", None)
    if constraints is not None:
        validate_parameter_constraints(constraints, step.get_params(deep=False),
                                       caller_name=type(step).__name__)
    if isinstance(step, CrossDomainRegressor):
        check_param_combinations(step.get_params(deep=False))


def pipeline_params(pipeline):
    """The pipeline's parameters as JSON values, for the run's report."""
    out = {}
    for name, value in pipeline.get_params(deep=True).items():
        if "__" not in name:
            continue
        if hasattr(value, "get_params"):
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = repr(value)
        out[name] = value
    return out
