"""Pickle-free model files: :func:`save_model` and :func:`load_model`.

A model file is one `safetensors <https://huggingface.co/docs/safetensors>`_ file:

* the **tensors** are every numeric array of the fitted estimators (the network
  weights, the regressor's standardisation statistics, fitted arrays of other
  steps), always written from CPU memory;
* the **metadata** (a string-to-string map in the safetensors header) holds
  ``format`` (``"sklearn-impression-model"``), ``format_version``, the
  ``sklearn_impression`` version that wrote the file, a JSON ``model`` description
  (the pipeline's structure, each step's class name, ``get_params()`` and fitted
  state, with references to the tensors) and SHA-256 digests of that description
  and of the tensor payload.

Loading parses JSON and reads raw tensors, nothing else: class names must be in
:data:`ALLOWED_CLASSES` (this package's estimators and a few plain scikit-learn
ones), parameter and attribute values are JSON values or arrays, and no pickle,
``eval`` or import named by the file is ever run. The digests detect corrupted or
edited files (they are not a signature: anyone can write a new valid file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
import warnings
from importlib import import_module
from pathlib import Path

import numpy as np

from ._version import __version__

__all__ = ["ALLOWED_CLASSES", "FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

#: Value of the ``format`` metadata entry.
FORMAT = "sklearn-impression-model"
#: Version of the layout described above; files of another version are refused.
FORMAT_VERSION = 1

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
    "sklearn_impression.regressor:CrossDomainRegressor",
)
_REGRESSOR = "sklearn_impression.regressor:CrossDomainRegressor"
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
}
_BY_PUBLIC_NAME = {v: k for k, v in _PUBLIC_NAMES.items()}
_ATTRIBUTE = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_NUMERIC_KINDS = "biuf"


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
class _Encoder:
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

        if isinstance(value, BaseEstimator):
            return {"__estimator__": self.estimator(value, path)}
        if type(value).__name__ == "Standardizer" and dataclasses.is_dataclass(value):
            return {"__standardizer__": {
                f.name: self.value(getattr(value, f.name), f"{path}.{f.name}")
                for f in dataclasses.fields(value)}}
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
        for name, value in vars(est).items():
            if name in params:
                continue
            if not _ATTRIBUTE.match(name):
                raise TypeError(f"{path}: attribute {name!r} cannot be stored")
            where = f"{path}.{name}"
            if key == _REGRESSOR and name == "net_":
                out["state"][name] = {"__net__": self.net(value, where)}
                continue
            try:
                out["state"][name] = self.value(value, where)
            except TypeError as exc:
                raise TypeError(f"fitted attribute {name!r} of {path} "
                                f"({type(est).__name__}): {exc}") from None
        return out

    def net(self, net, path):
        """The module weights (on CPU) and the training history of ``net_``."""
        for name, tensor in net.module_.state_dict().items():
            self.tensors[f"{path}.module.{name}"] = np.ascontiguousarray(
                tensor.detach().cpu().numpy())
        history = json.loads(json.dumps(net.history.to_list(), default=_plain,
                                        allow_nan=True))
        return {"module": f"{path}.module.",
                "history": self.value(history, f"{path}.history")}


def _plain(value):  # numpy scalars in the history
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"history value {value!r} is not JSON-serialisable")


# -- decoding ------------------------------------------------------------------
class _Decoder:
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
        if "__standardizer__" in value:
            from .nn._inputs import Standardizer

            fields = {f.name for f in dataclasses.fields(Standardizer)}
            raw = value["__standardizer__"]
            if set(raw) != fields:
                raise ValueError(f"model file: {path} has fields {sorted(raw)}, "
                                 f"expected {sorted(fields)}")
            return Standardizer(**{k: self.value(v, f"{path}.{k}")
                                   for k, v in raw.items()})
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
        est = cls(**params)
        net = None
        for name, raw in spec["state"].items():
            if (not isinstance(name, str) or not _ATTRIBUTE.match(name)
                    or name in valid or hasattr(cls, name)):
                raise ValueError(f"model file: {path} has a forbidden attribute name "
                                 f"{name!r}")
            if isinstance(raw, dict) and "__net__" in raw:
                if _class_key(cls) != _REGRESSOR or name != "net_":
                    raise ValueError(f"model file: unexpected network at {path}."
                                     f"{name}")
                net = raw["__net__"]
                continue
            setattr(est, name, self.value(raw, f"{path}.{name}"))
        if net is not None:
            est.net_ = self.net(est, net, f"{path}.net_")
        return est

    def net(self, regressor, spec, path):
        import torch
        from skorch.history import History

        device = self.device if self.device is not None else str(regressor.device)
        if device.startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(f"the model was saved for device={device!r} but torch finds "
                          "no CUDA device; loading it on 'cpu'", UserWarning,
                          stacklevel=4)
            device = "cpu"
        regressor.device = device
        prefix = spec.get("module") if isinstance(spec, dict) else None
        if not isinstance(prefix, str):
            raise ValueError(f"model file: malformed network entry at {path}")
        state = {k[len(prefix):]: torch.from_numpy(np.array(v))
                 for k, v in self.tensors.items() if k.startswith(prefix)}
        regressor._validate_params()
        net = regressor._make_net(device)
        with torch.random.fork_rng(devices=[]):  # initialisation draws random weights
            net.initialize()
        expected = set(net.module_.state_dict())
        missing = sorted(expected - set(state))
        if missing:
            raise ValueError(f"model file: network tensors {missing[:5]} are missing "
                             f"from {path}")
        extra = sorted(set(state) - expected)
        if extra:
            raise ValueError(f"model file: unexpected network tensors {extra[:5]} in "
                             f"{path}")
        try:
            net.module_.load_state_dict(state, strict=True)
        except RuntimeError as exc:  # shape mismatches
            raise ValueError(f"model file: network tensors of {path} do not fit the "
                             f"network ({exc})") from None
        net.module_.to(device)
        net.module_.eval()
        history = self.value(spec.get("history", []), f"{path}.history")
        net.history = History(history)
        return net


# -- hashing and the file --------------------------------------------------------
def _tensor_digest(tensors):
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def save_model(model, path):
    """Save a fitted estimator or pipeline to a pickle-free safetensors file.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted :class:`~sklearn_impression.CrossDomainRegressor`, a
        :class:`~sklearn.pipeline.Pipeline` of :class:`Resampler`,
        :class:`ModalityConcatenator` and the regressor, or any composition of
        the classes in :data:`ALLOWED_CLASSES`. Parameters must be JSON values
        (numbers, strings, booleans, None, lists, tuples, string-keyed dicts),
        arrays or such estimators; anything else (a callable, a ``RandomState``)
        is a TypeError naming the step and parameter.
    path : str or path-like
        File to write (``.safetensors`` is the natural suffix). It is written
        to a temporary file first and renamed, so a failed save never leaves a
        half-written model behind.

    Notes
    -----
    Network weights and all other numeric arrays are stored as tensors, copied
    to CPU memory first, so a model trained on CUDA loads on a CPU-only machine.
    The file keeps the training history but not the optimizer state (``fit``
    starts a new optimizer anyway).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> X = np.eye(3)
    >>> model = Ridge().fit(X, [0.0, 1.0, 2.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "ridge.safetensors")
    >>> save_model(model, path)
    >>> loaded = load_model(path)
    >>> loaded
    Ridge()
    >>> bool((loaded.predict(X) == model.predict(X)).all())
    True
    """
    from safetensors.numpy import save_file

    encoder = _Encoder()
    spec = {"model": encoder.value(model, "model")}
    if not isinstance(spec["model"], dict) or "__estimator__" not in spec["model"]:
        raise TypeError(f"save_model needs an estimator, got {type(model).__name__}")
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    text = json.dumps(spec, allow_nan=False, sort_keys=False)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "sklearn_impression_version": __version__,
        "model": text,
        "model_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "tensors_sha256": _tensor_digest(encoder.tensors),
    }
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=path.name,
                                   suffix=".tmp")
    os.close(handle)
    try:
        save_file(encoder.tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_model(path, *, device="cpu"):
    """Load a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        The model file.
    device : str or None, default="cpu"
        Where the network of each
        :class:`~sklearn_impression.CrossDomainRegressor` goes (``"cpu"``,
        ``"cuda"``, ``"cuda:N"``); its ``device`` parameter is set to the same.
        ``None`` keeps the saved device, falling back to CPU with a warning
        when CUDA is not available.

    Returns
    -------
    model : estimator or Pipeline
        The fitted estimator, predicting exactly as the saved one on the same
        device.

    Raises
    ------
    ValueError
        The file is not a model file, is truncated, was modified (its SHA-256
        digests do not match), has another format version, names a class
        outside :data:`ALLOWED_CLASSES`, or lacks tensors it refers to.

    Warns
    -----
    UserWarning
        When the file was written by another ``sklearn_impression`` version.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> path = os.path.join(tempfile.mkdtemp(), "ridge.safetensors")
    >>> save_model(Ridge().fit(np.eye(2), [0.0, 1.0]), path)
    >>> load_model(path).predict(np.eye(2)).round(3)
    array([0.25, 0.75])
    >>> with open(path, "r+b") as f:  # flip one byte of the file
    ...     _ = f.seek(-1, os.SEEK_END); _ = f.write(b"!")
    >>> load_model(path)
    Traceback (most recent call last):
    ...
    ValueError: ...
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    try:
        from safetensors import safe_open

        with safe_open(path, framework="numpy") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable model file (truncated or not "
                         f"safetensors): {exc}") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a sklearn-impression model file (format "
                         f"{metadata.get('format')!r})")
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise ValueError(f"{path}: model format version {version!r}; this "
                         f"sklearn-impression ({__version__}) reads version "
                         f"{FORMAT_VERSION}")
    text = metadata.get("model", "")
    if hashlib.sha256(text.encode()).hexdigest() != metadata.get("model_sha256"):
        raise ValueError(f"{path}: the model description does not match its "
                         "SHA-256 digest; the file was modified or corrupted")
    if _tensor_digest(tensors) != metadata.get("tensors_sha256"):
        raise ValueError(f"{path}: the tensor payload does not match its SHA-256 "
                         "digest; the file was modified or corrupted")
    saved = metadata.get("sklearn_impression_version")
    if saved != __version__:
        warnings.warn(f"{path} was saved by sklearn-impression {saved}, this is "
                      f"{__version__}; predictions may differ", UserWarning,
                      stacklevel=2)
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: malformed model description ({exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("model"), dict) \
            or "__estimator__" not in spec["model"]:
        raise ValueError(f"{path}: malformed model description (no estimator)")
    if device is not None:
        device = str(device)
    return _Decoder(tensors, device).value(spec["model"], "model")
