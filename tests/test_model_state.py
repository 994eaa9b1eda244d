"""Estimators own their persisted state: save_model asks them for it."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn_impression import load_model, save_model  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402
from sklearn_impression.regressor._standardize import Standardizer  # noqa: E402
from sklearn_impression.regressor._state import NetworkState  # noqa: E402

from _builders import tiny_net  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    return CrossDomainRegressor(**tiny_net(max_epochs=1)).fit(X, X[:, 0]), X


def test_regressor_state_is_arrays_values_and_a_network_state(fitted):
    model, _ = fitted
    state = model.__sklearn_impression_state__()
    assert not set(state) & set(model.get_params())
    assert isinstance(state["scaler_"], Standardizer)
    network = state["net_"]
    assert isinstance(network, NetworkState)
    assert set(network.weights) == set(model.net_.module_.state_dict())
    assert all(isinstance(a, np.ndarray) for a in network.weights.values())
    assert len(network.history) == len(model.history_)


def test_save_model_uses_the_estimator_hooks(fitted, tmp_path, monkeypatch):
    model, X = fitted
    calls = []
    get, restore = (CrossDomainRegressor.__sklearn_impression_state__,
                    CrossDomainRegressor.__sklearn_impression_restore__.__func__)

    def spy_get(self):
        calls.append("get")
        return get(self)

    def spy_restore(cls, params, state, **kwargs):
        calls.append(("restore", sorted(kwargs)))
        return restore(cls, params, state, **kwargs)

    monkeypatch.setattr(CrossDomainRegressor, "__sklearn_impression_state__", spy_get)
    monkeypatch.setattr(CrossDomainRegressor, "__sklearn_impression_restore__",
                        classmethod(spy_restore))
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert calls == ["get", ("restore", ["device", "where"])]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_standardizer_state_round_trip_and_errors():
    scaler = Standardizer(*(np.arange(k, k + 2.0) for k in range(6)))
    again = Standardizer.__sklearn_impression_restore__(
        scaler.__sklearn_impression_state__())
    for name, value in scaler.__sklearn_impression_state__().items():
        np.testing.assert_array_equal(getattr(again, name), value)
    with pytest.raises(ValueError, match=r"scaler_ has fields \['emitter_mean'\]"):
        Standardizer.__sklearn_impression_restore__({"emitter_mean": np.zeros(1)},
                                                    "scaler_")
