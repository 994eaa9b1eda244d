"""adapt's checks come before any change to the model's per-person state."""

import pickle

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn_impression import DyadicFrames  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

from _builders import tiny_net  # noqa: E402


def _frames(receivers, n_frames, seed=0):
    rng = np.random.default_rng(seed)
    X = DyadicFrames([rng.normal(size=(n_frames, 3))],
                     [rng.normal(size=(n_frames, 2)) + 5 * k
                      for k in range(len(receivers))],
                     [0] * len(receivers), ["e0", "e1", "e2"], ["r0", "r1"],
                     receivers=receivers, stimuli=[0] * len(receivers),
                     label_rate=25.0)
    y = [rng.normal(size=(n_frames, 2)) for _ in receivers]
    return X, y


@pytest.mark.parametrize("bad", ["few_frames", "lag_range"])
def test_a_refused_enrolment_leaves_the_model_as_it_was(bad):
    X, y = _frames(["a", "b"], 100)
    params = {**tiny_net(max_epochs=1), "normalize_by": "receiver"}
    model = CrossDomainRegressor(**params).fit(X, y)
    before = pickle.dumps(model)
    new, y_new = _frames(["new"], 10 if bad == "few_frames" else 100, seed=1)
    kwargs = {"lag_range": -1.0} if bad == "lag_range" else {}
    with pytest.raises(ValueError, match="at least 25 labelled frames|lag_range"):
        model.adapt(new, y_new, **kwargs)
    assert model.normalization_receivers_ == ["a", "b"]
    after = pickle.loads(before)
    for name in ("normalization_means_", "listener_gain_", "listener_offset_"):
        np.testing.assert_array_equal(getattr(model, name), getattr(after, name))
    assert model.listener_ids_ == after.listener_ids_ == []


@pytest.mark.parametrize("name", ["lag_range", "steps", "lr", "l2"])
def test_adapt_names_a_non_numeric_argument(name):
    X, y = _frames(["a", "b"], 100)
    model = CrossDomainRegressor(**tiny_net(max_epochs=1)).fit(X, y)
    new, y_new = _frames(["new"], 100, seed=1)
    with pytest.raises(ValueError, match=f"^The '{name}' parameter of "
                                         "CrossDomainRegressor.adapt must be .*"
                                         "Got '1' instead.$"):
        model.adapt(new, y_new, **{name: "1"})
    assert model.listener_ids_ == []
