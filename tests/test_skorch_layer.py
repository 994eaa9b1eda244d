"""The skorch layer: criterion module, term callback, the pinned epoch loop."""

import hashlib
import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skorch import NeuralNet  # noqa: E402

import sklearn_impression.regressor._callbacks as cd_callbacks  # noqa: E402
from sklearn_impression.nn import CrossDomainLoss  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

from _builders import dyadic_frames, tiny_net  # noqa: E402


def _target(r, e, p):
    return np.column_stack([r[:, 0] + e[:, 1], e[:, 0] - 0.5 * p])


@pytest.fixture(scope="module")
def data():
    return dyadic_frames(_target, n_stimuli=2, n_receivers=3, n_frames=(30, 35),
                         n_emitter_features=3, n_receiver_features=2, seed=1)


def test_loss_weights_are_criterion_parameters(data):
    X, y = data
    model = CrossDomainRegressor(**{**tiny_net(max_epochs=1), "kd_weight": 0.25,
                                    "se_weight": 0.0, "task_loss": "ccc"}).fit(X, y)
    params = model.net_.get_params()
    assert params["criterion"] is CrossDomainLoss
    assert (params["criterion__kd_weight"], params["criterion__se_weight"],
            params["criterion__task_loss"]) == (0.25, 0.0, "ccc")
    criterion = model.net_.criterion_
    assert isinstance(criterion, CrossDomainLoss)
    assert (criterion.kd_weight, criterion.se_weight) == (0.25, 0.0)
    # the net itself carries no per-batch or per-epoch loss state
    assert not any(hasattr(model.net_, a) for a in ("term_sums_", "last_terms_"))


def test_history_terms_are_batch_weighted_means_of_the_criterion(data):
    X, y = data
    model = CrossDomainRegressor(**tiny_net(max_epochs=1)).fit(X, y)
    row = model.history_[-1]
    # kd_weight = se_weight = 1: the epoch mean of the loss is the sum of the
    # epoch means of the three terms (all weighted by batch size)
    for prefix in ("train", "valid"):
        total = sum(row[f"{prefix}_{t}"] for t in cd_callbacks.TERMS)
        assert total == pytest.approx(row[f"{prefix}_loss"], rel=1e-5)


def test_pinned_skorch_epoch_loop_is_the_installed_one():
    source = inspect.getsource(NeuralNet.run_single_epoch)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == cd_callbacks.SKORCH_EPOCH_LOOP_SHA256, (
        "skorch's run_single_epoch changed: re-check CrossDomainNet.run_single_epoch "
        "against it and update SKORCH_EPOCH_LOOP_SHA256"
    )
    assert cd_callbacks._skorch_loop_matches()


def test_sync_free_loop_steps_aside_for_another_skorch_loop(data, monkeypatch):
    X, y = data
    calls = []
    original = NeuralNet.run_single_epoch

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cd_callbacks.CrossDomainNet, "_sync_free_epochs", True)
    monkeypatch.setattr(NeuralNet, "run_single_epoch", spy)
    monkeypatch.setattr(cd_callbacks, "_skorch_loop_matches", lambda: False)
    CrossDomainRegressor(**tiny_net(max_epochs=1)).fit(X, y)
    assert len(calls) == 2  # train and valid ran skorch's own loop
    calls.clear()
    monkeypatch.setattr(cd_callbacks, "_skorch_loop_matches", lambda: True)
    CrossDomainRegressor(**tiny_net(max_epochs=1)).fit(X, y)
    assert calls == []  # the checked copy ran instead


def test_lstm_baseline_runs_on_skorch_and_leaves_global_rng_alone(data):
    from sklearn_impression.experiments import LSTMBaseline

    X, y = data
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    model = LSTMBaseline(hidden_size=4, num_layers=1, max_epochs=2,
                         random_state=0).fit(X, y)
    model.predict(X)
    torch.testing.assert_close(torch.rand(3), expected)
    assert len(model.history_) == 2
    assert model.history_ == list(model.net_.history[:, "train_loss"])
    assert model.module_ is model.net_.module_
    again = LSTMBaseline(hidden_size=4, num_layers=1, max_epochs=2,
                         random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.concatenate(again.predict(X)),
                                  np.concatenate(model.predict(X)))
