"""Models saved by earlier versions, brought up to date in one place.

Every parameter or fitted attribute added after a release gets an entry here,
with the value that makes an older model behave as it did when it was saved;
a regressor's per-person attributes, as model files store them, are gathered
into its :class:`~sklearn_impression.regressor._listeners.ListenerTable`.
:func:`~sklearn_impression.load_model` (through the model codec) and unpickling
(``__setstate__`` of the estimators below) call :func:`upgrade`; the rest of the
package can then rely on every attribute being there.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

import numpy as np

from ..regressor._listeners import ATTRIBUTES, ListenerTable

__all__ = ["LEGACY_MODULES", "install_legacy_module_finder", "upgrade"]

_REGRESSOR = "CrossDomainRegressor"
_NORMALIZER = "ReceiverNormalizer"

#: Parameters added after 0.1.0 and the values older models were trained with.
LEGACY_PARAMS = {
    _REGRESSOR: {"emitter_dropout": 0.0, "weight_decay": 0.0,
                 "validation_groups": "recording", "early_stopping": None},
    _NORMALIZER: {},
}


def _regressor_state(state):
    """Fill the fitted attributes a regressor saved by an older version lacks,
    then gather its per-person attributes into its listener table."""
    if "scaler_" not in state or "listeners_" in state:  # unfitted or current
        return
    n_outputs = int(state.get("n_outputs_", 2))
    state.setdefault("label_delay_frames_", 0)
    state.setdefault("smoothing_frames_", 0)
    state.setdefault("listener_ids_", [])
    state.setdefault("n_fitted_listeners_", 0)
    state.setdefault("listener_gain_", np.ones((len(state["listener_ids_"]) + 1,
                                               n_outputs)))
    gain = state["listener_gain_"]
    state.setdefault("listener_offset_", np.zeros_like(gain))
    state.setdefault("listener_delay_", np.zeros(len(gain), dtype=np.int64))
    state.setdefault("listener_stimulus_", np.zeros_like(gain))
    # one calibration served every recording before the no-trace one existed
    state.setdefault("listener_trace_gain_", np.array(gain, dtype=np.float64))
    state.setdefault("listener_trace_offset_",
                     np.array(state["listener_offset_"], dtype=np.float64))
    state.setdefault("stimulus_ids_", [])
    state.setdefault("stimulus_traces_", [])
    # statistics were recomputed from the recordings given (transductive)
    width = int(state.get("n_receiver_features_", 0))
    state.setdefault("normalization_receivers_", [])
    state.setdefault("normalization_means_", np.zeros((0, width)))
    state.setdefault("normalization_scales_", np.zeros((0, width)))
    state["listeners_"] = ListenerTable.from_attributes(
        {name: state.pop(name) for name in ATTRIBUTES})


def _normalizer_state(state):
    """Fill what a ReceiverNormalizer saved before it kept statistics lacks."""
    if "n_receiver_features_" not in state:
        return
    width = int(state["n_receiver_features_"])
    state.setdefault("receivers_", [])
    state.setdefault("means_", np.zeros((0, width)))
    state.setdefault("scales_", np.zeros((0, width)))


_FILL = {_REGRESSOR: _regressor_state, _NORMALIZER: _normalizer_state}


def upgrade(cls, params, state):
    """``(params, state)`` of an estimator of class ``cls`` with what later
    versions added filled in (both dicts are copied, not changed).

    Parameters
    ----------
    cls : type
    params : dict
        Its constructor parameters as saved.
    state : dict
        Its fitted attributes as saved.

    Returns
    -------
    params, state : dict

    Examples
    --------
    >>> from sklearn_impression import ReceiverNormalizer
    >>> params, state = upgrade(ReceiverNormalizer, {"by": "receiver"},
    ...                         {"n_receiver_features_": 3})
    >>> state["receivers_"], state["means_"].shape
    ([], (0, 3))
    """
    name = cls.__name__
    params = {**LEGACY_PARAMS.get(name, {}), **params}
    state = dict(state)
    if name in _FILL:
        _FILL[name](state)
    return params, state


def upgrade_pickled(estimator, state):
    """``__setstate__``'s state with :func:`upgrade` applied (parameters and
    fitted attributes share one dict in a pickle)."""
    names = set(type(estimator)._get_param_names())
    params = {k: v for k, v in state.items() if k in names}
    rest = {k: v for k, v in state.items() if k not in names}
    params, rest = upgrade(type(estimator), params, rest)
    return {**rest, **params}


#: Modules of versions before the subpackage layout, and where their classes
#: live now: a joblib or pickle file names the module of every object in it.
LEGACY_MODULES = {
    f"sklearn_impression.{old}": f"sklearn_impression.{new}" for old, new in (
        ("_recording", "recordings._recording"), ("_frames", "recordings._frames"),
        ("_flat", "recordings._flat"), ("_csv", "recordings._csv"),
        ("_constants", "recordings._constants"),
        ("_concordance", "metrics._concordance"), ("_torch", "utils._torch"),
        ("_cluster", "utils._cluster"), ("_results", "utils._results"),
        ("_regressor_inputs", "regressor._inputs"),
        ("_regressor_net", "regressor._net"), ("_callbacks", "regressor._callbacks"),
        ("_enrolment", "regressor._listeners"),
        ("_calibration", "regressor._calibration"),
        ("_temporal", "regressor._temporal"),
        ("_stimulus_traces", "regressor._stimulus_traces"),
        ("_presets", "regressor._presets"), ("_checkpoint", "regressor._checkpoint"),
        ("_standardize", "regressor._standardize"),
        ("_network_state", "regressor._state"),
        ("_persistence", "persistence._files"), ("_model_codec", "persistence._codec"),
        ("_upgrade", "persistence._upgrade"),
    )
}


class LegacyModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a module of :data:`LEGACY_MODULES` by its old name as the module
    that holds its classes now, so files pickled by earlier versions load."""

    def find_spec(self, name, path=None, target=None):
        if name not in LEGACY_MODULES:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        return importlib.import_module(LEGACY_MODULES[spec.name])

    def exec_module(self, module):
        """Nothing to run: the module was imported under its current name."""


def install_legacy_module_finder():
    """Put one :class:`LegacyModuleFinder` on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, LegacyModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(LegacyModuleFinder())
