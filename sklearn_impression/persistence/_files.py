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

Every estimator says what it persists: one with a
``__sklearn_impression_state__()`` method returns its fitted state (JSON
values, arrays, nested estimators, a
:class:`~sklearn_impression.regressor._state.NetworkState` or a
:class:`~sklearn_impression.regressor._standardize.Standardizer`) and is rebuilt
by its ``__sklearn_impression_restore__(params, state, device=..., where=...)``
classmethod (hooks named like scikit-learn's ``__sklearn_tags__``); for other
estimators (the allowlisted scikit-learn ones) the state is their fitted
attributes (``vars`` minus the parameters), set back one by one.

Loading parses JSON and reads raw tensors, nothing else: class names must be in
:data:`ALLOWED_CLASSES` (this package's estimators and a few plain scikit-learn
ones), parameter and attribute values are JSON values or arrays, and no pickle,
``eval`` or import named by the file is ever run. The digests detect corrupted or
edited files (they are not a signature: anyone can write a new valid file).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .._version import __version__
from ._codec import ALLOWED_CLASSES, Decoder, Encoder

__all__ = ["ALLOWED_CLASSES", "FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

#: Value of the ``format`` metadata entry.
FORMAT = "sklearn-impression-model"
#: Version of the layout described above; files of another version are refused.
FORMAT_VERSION = 1

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

    encoder = Encoder()
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
    return Decoder(tensors, device).value(spec["model"], "model")
