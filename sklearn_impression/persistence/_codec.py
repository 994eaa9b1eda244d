"""Encoding estimators to a JSON description plus tensors, and back.

The two halves of :mod:`sklearn_impression.persistence._files`'s model file: an
:class:`Encoder` turns a fitted estimator (its class from :data:`ALLOWED_CLASSES`,
its ``get_params()`` and the state it hands over through
``__sklearn_impression_state__()``, or its fitted attributes) into JSON values
with arrays moved to ``tensors``; a :class:`Decoder` rebuilds it, resolving
class names through the allowlist only and calling
``__sklearn_impression_restore__`` where the class has one.
"""

from __future__ import annotations

import json
import math
import re
from importlib import import_module

import numpy as np

__all__ = ["ALLOWED_CLASSES", "Decoder", "Encoder"]


#: Estimator classes a model file may name, as ``module:qualname``. Loading looks
#: names up here only (the module is imported from this fixed list, never from
#: the file).
ALLOWED_CLASSES = (
    "sklearn.pipeline:Pipeline",
    "sklearn.preprocessing._data:StandardScaler",
    "sklearn.preprocessing._data:MinMaxScaler",
    "sklearn.linear_model._ridge:Ridge",
    "sklearn.linear_model._base:LinearRegression",
    "sklearn.dummy:DummyRegressor",
    "sklearn_impression.preprocessing._resampler:Resampler",
    "sklearn_impression.preprocessing._concatenator:ModalityConcatenator",
    "sklearn_impression.preprocessing._normalizer:ReceiverNormalizer",
    "sklearn_impression.regressor._estimator:CrossDomainRegressor",
    "sklearn_impression.live._causal_regressor:CausalRegressor",
)
_REGRESSOR = "sklearn_impression.regressor._estimator:CrossDomainRegressor"
#: Fitted-state objects that are not estimators, by the tag that marks them.
_STATE_TAG = "__standardizer__"
_PUBLIC_NAMES = {  # shorter names used in the file and in messages
    "sklearn.preprocessing._data:StandardScaler":
        "sklearn.preprocessing.StandardScaler",
    "sklearn.preprocessing._data:MinMaxScaler": "sklearn.preprocessing.MinMaxScaler",
    "sklearn.linear_model._ridge:Ridge": "sklearn.linear_model.Ridge",
    "sklearn.linear_model._base:LinearRegression":
        "sklearn.linear_model.LinearRegression",
    "sklearn.dummy:DummyRegressor": "sklearn.dummy.DummyRegressor",
    "sklearn.pipeline:Pipeline": "sklearn.pipeline.Pipeline",
    "sklearn_impression.preprocessing._resampler:Resampler":
        "sklearn_impression.Resampler",
    "sklearn_impression.preprocessing._concatenator:ModalityConcatenator":
        "sklearn_impression.ModalityConcatenator",
    "sklearn_impression.preprocessing._normalizer:ReceiverNormalizer":
        "sklearn_impression.ReceiverNormalizer",
    _REGRESSOR: "sklearn_impression.CrossDomainRegressor",
    "sklearn_impression.live._causal_regressor:CausalRegressor":
        "sklearn_impression.live.CausalRegressor",
}
_BY_PUBLIC_NAME = {v: k for k, v in _PUBLIC_NAMES.items()}
_ATTRIBUTE = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_NUMERIC_KINDS = "biuf"


def _table_attribute(cls, name):
    """A regressor's per-person attribute: a read-only property of the class,
    stored in files and gathered into its listener table at load."""
    from ..regressor._listeners import ATTRIBUTES

    return _class_key(cls) == _REGRESSOR and name in ATTRIBUTES


def _class_key(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve_class(public_name, where):
    key = _BY_PUBLIC_NAME.get(public_name) if isinstance(public_name, str) else None
    if key is None:
        raise ValueError(
            f"model file: {where} names class {public_name!r}, which is not one of "
            f"the loadable classes {sorted(_BY_PUBLIC_NAME)}; refusing to load it"
        )
    module, qualname = key.split(":")
    return getattr(import_module(module), qualname)


# -- encoding ------------------------------------------------------------------
class Encoder:
    """JSON-able description of estimators; numeric arrays go to ``tensors``."""

    def __init__(self):
        self.tensors = {}

    def array(self, value, path):
        value = np.asarray(value)
        if value.dtype.kind in _NUMERIC_KINDS:
            self.tensors[path] = np.ascontiguousarray(value)
            return {"__ndarray__": path}
        if value.dtype.kind in "OUS" and all(isinstance(v, str)
                                             for v in value.ravel().tolist()):
            return {"__strarray__": value.ravel().tolist(),
                    "shape": list(value.shape), "kind": value.dtype.kind}
        raise TypeError(f"{path}: cannot store an array of dtype {value.dtype} "
                        "(only numbers and strings)")

    def value(self, value, path):
        """Encode one parameter or attribute value, or raise naming ``path``."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            if isinstance(value, np.integer):
                return {"__npscalar__": value.dtype.str, "value": int(value)}
            return value
        if isinstance(value, (float, np.floating)):
            number = float(value)
            encoded = number if math.isfinite(number) else {"__float__": repr(number)}
            if isinstance(value, np.floating):
                return {"__npscalar__": value.dtype.str, "value": encoded}
            return encoded
        if isinstance(value, np.bool_):
            return {"__npscalar__": "|b1", "value": bool(value)}
        if isinstance(value, np.ndarray):
            return self.array(value, path)
        if isinstance(value, tuple):
            return {"__tuple__": [self.value(v, f"{path}.{i}")
                                  for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.value(v, f"{path}.{i}") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{path}: a dict with non-string keys cannot be "
                                "stored")
            return {"__dict__": {k: self.value(v, f"{path}.{k}")
                                 for k, v in value.items()}}
        from sklearn.base import BaseEstimator

        from ..regressor._standardize import Standardizer
        from ..regressor._state import NetworkState

        if isinstance(value, BaseEstimator):
            return {"__estimator__": self.estimator(value, path)}
        if isinstance(value, NetworkState):
            return {"__net__": self.net(value, path)}
        if isinstance(value, Standardizer):
            return {_STATE_TAG: {
                name: self.value(v, f"{path}.{name}")
                for name, v in value.__sklearn_impression_state__().items()}}
        raise TypeError(
            f"{path}: a {type(value).__module__}.{type(value).__qualname__} cannot be "
            "stored in a model file (only JSON values, numbers, strings, arrays and "
            "loadable estimators)"
        )

    def estimator(self, est, path):
        key = _class_key(type(est))
        if key not in _PUBLIC_NAMES:
            raise TypeError(
                f"{path}: {type(est).__module__}.{type(est).__qualname__} is not a "
                f"class save_model can store; loadable classes are "
                f"{sorted(_BY_PUBLIC_NAME)}"
            )
        params = est.get_params(deep=False)
        out = {"class": _PUBLIC_NAMES[key], "params": {}, "state": {}}
        for name, value in params.items():
            try:
                out["params"][name] = self.value(value, f"{path}.{name}")
            except TypeError as exc:
                raise TypeError(f"parameter {name!r} of {path} "
                                f"({type(est).__name__}): {exc}") from None
        getter = getattr(est, "__sklearn_impression_state__", None)
        state = getter() if getter is not None else {
            name: value for name, value in vars(est).items() if name not in params}
        for name, value in state.items():
            if not _ATTRIBUTE.match(name):
                raise TypeError(f"{path}: attribute {name!r} cannot be stored")
            where = f"{path}.{name}"
            try:
                out["state"][name] = self.value(value, where)
            except TypeError as exc:
                raise TypeError(f"fitted attribute {name!r} of {path} "
                                f"({type(est).__name__}): {exc}") from None
        return out

    def net(self, network, path):
        """A :class:`NetworkState`: weights as tensors, the history as JSON."""
        for name, array in network.weights.items():
            self.tensors[f"{path}.module.{name}"] = np.ascontiguousarray(array)
        history = json.loads(json.dumps(network.history, default=_plain,
                                        allow_nan=True))
        return {"module": f"{path}.module.",
                "history": self.value(history, f"{path}.history")}


def _plain(value):  # numpy scalars in the history
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"history value {value!r} is not JSON-serialisable")


# -- decoding ------------------------------------------------------------------
class Decoder:
    def __init__(self, tensors, device):
        self.tensors = tensors
        self.device = device

    def tensor(self, key):
        if not isinstance(key, str) or key not in self.tensors:
            raise ValueError(f"model file: tensor {key!r} is missing from the file")
        return self.tensors[key]

    def value(self, value, path):
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, list):
            return [self.value(v, f"{path}.{i}") for i, v in enumerate(value)]
        if not isinstance(value, dict) or len(value) not in (1, 2, 3):
            raise ValueError(f"model file: malformed value at {path}")
        if "__ndarray__" in value:
            return np.array(self.tensor(value["__ndarray__"]))
        if "__strarray__" in value:
            items = value["__strarray__"]
            if not all(isinstance(v, str) for v in items):
                raise ValueError(f"model file: malformed string array at {path}")
            dtype = object if value.get("kind") == "O" else str
            return np.asarray(items, dtype=dtype).reshape(value.get("shape", [-1]))
        if "__float__" in value:
            text = value["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise ValueError(f"model file: malformed float at {path}")
            return float(text)
        if "__npscalar__" in value:
            dtype = np.dtype(str(value["__npscalar__"]))
            if dtype.kind not in _NUMERIC_KINDS:
                raise ValueError(f"model file: bad scalar dtype at {path}")
            return dtype.type(self.value(value["value"], path))
        if "__tuple__" in value:
            return tuple(self.value(v, f"{path}.{i}")
                         for i, v in enumerate(value["__tuple__"]))
        if "__dict__" in value:
            return {str(k): self.value(v, f"{path}.{k}")
                    for k, v in value["__dict__"].items()}
        if "__estimator__" in value:
            return self.estimator(value["__estimator__"], path)
        if _STATE_TAG in value:
            from ..regressor._standardize import Standardizer

            raw = value[_STATE_TAG]
            if not isinstance(raw, dict):
                raise ValueError(f"model file: malformed entry at {path}")
            return Standardizer.__sklearn_impression_restore__(
                {k: self.value(v, f"{path}.{k}") for k, v in raw.items()}, path)
        if "__net__" in value:
            return self.net(value["__net__"], path)
        raise ValueError(f"model file: unknown value tag {sorted(value)} at {path}")

    def estimator(self, spec, path):
        if not isinstance(spec, dict) or set(spec) != {"class", "params", "state"}:
            raise ValueError(f"model file: malformed estimator entry at {path}")
        cls = _resolve_class(spec["class"], path)
        params = {name: self.value(v, f"{path}.{name}")
                  for name, v in spec["params"].items()}
        valid = set(cls._get_param_names())
        unknown = sorted(set(params) - valid)
        if unknown:
            raise ValueError(f"model file: {path} ({spec['class']}) has unknown "
                             f"parameters {unknown}")
        state = {}
        for name, raw in spec["state"].items():
            if (not isinstance(name, str) or not _ATTRIBUTE.match(name)
                    or name in valid or (hasattr(cls, name)
                                         and not _table_attribute(cls, name))):
                raise ValueError(f"model file: {path} has a forbidden attribute name "
                                 f"{name!r}")
            state[name] = self.value(raw, f"{path}.{name}")
        from ._upgrade import upgrade

        params, state = upgrade(cls, params, state)  # models of older versions
        restore = getattr(cls, "__sklearn_impression_restore__", None)
        if restore is not None:
            return restore(params, state, device=self.device, where=path)
        from ..regressor._state import NetworkState

        est = cls(**params)
        for name, value in state.items():
            if isinstance(value, NetworkState):
                raise ValueError(f"model file: unexpected network at {path}.{name}")
            setattr(est, name, value)
        return est

    def net(self, spec, path):
        from ..regressor._state import NetworkState

        prefix = spec.get("module") if isinstance(spec, dict) else None
        if not isinstance(prefix, str):
            raise ValueError(f"model file: malformed network entry at {path}")
        weights = {k[len(prefix):]: v for k, v in self.tensors.items()
                   if k.startswith(prefix)}
        history = self.value(spec.get("history", []), f"{path}.history")
        return NetworkState(weights, history)
