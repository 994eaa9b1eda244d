"""Training faults: divergence, interruption, gradient clipping, early stopping in
parallel grid searches, determinism."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

import sklearn_impression.nn._criterion as cd_criterion  # noqa: E402
from sklearn_impression import (  # noqa: E402
    ModalityConcatenator,
    Resampler,
    make_impression,
)
from sklearn_impression.metrics import ccc_scorer  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402
from sklearn_impression.regressor._callbacks import CrossDomainNet  # noqa: E402

from _builders import dyadic_frames, tiny_net  # noqa: E402

TINY = tiny_net(max_epochs=3)


def frames(seed=0, n_frames=40):
    return dyadic_frames(
        lambda r, e, p: np.column_stack([r[:, 0] + e[:, 1] + 0.3 * p, -r[:, 1]]),
        n_receivers=3, n_frames=(n_frames,), seed=seed)


@pytest.fixture(scope="module")
def data():
    return frames()


def stack(predictions):
    return np.vstack(predictions)


# -- divergence ------------------------------------------------------------------
def test_huge_learning_rate_stops_with_epoch_and_term(data):
    X, y = data
    with pytest.raises(FloatingPointError,
                       match=r"loss diverged in epoch \d+, batch \d+: non-finite "
                             r"(task|kd|se)=(nan|inf|-inf).*Lower lr"):
        CrossDomainRegressor(**{**TINY, "max_epochs": 20}, lr=1e6).fit(X, y)


@pytest.mark.parametrize("term", ["kd", "se", "task"])
def test_non_finite_term_in_epoch_two_is_named(data, monkeypatch, term):
    X, y = data
    state = {"epoch": 0}
    original_begin = CrossDomainNet.on_epoch_begin

    def on_epoch_begin(self, net, **kwargs):
        original_begin(self, net, **kwargs)  # skorch starts the history row here
        state["epoch"] = len(net.history)

    loss_fn = getattr(cd_criterion, f"{term}_loss")

    def poisoned(*args, **kwargs):
        value = loss_fn(*args, **kwargs)
        return value * np.nan if state["epoch"] == 2 else value

    monkeypatch.setattr(CrossDomainNet, "on_epoch_begin", on_epoch_begin)
    monkeypatch.setattr(cd_criterion, f"{term}_loss", poisoned)
    with pytest.raises(FloatingPointError,
                       match=rf"train loss diverged in epoch 2, batch 1: non-finite "
                             rf"{term}=nan"):
        CrossDomainRegressor(**TINY).fit(X, y)


# -- interruption ----------------------------------------------------------------
@pytest.mark.parametrize("hook, early_stopping", [("on_epoch_end", None),
                                                  ("on_batch_end", None),
                                                  ("on_batch_end", 5)])
def test_keyboard_interrupt_leaves_a_model_that_predicts(data, monkeypatch, hook,
                                                         early_stopping):
    X, y = data
    original = getattr(CrossDomainNet, hook)
    calls = {"n": 0}

    def interrupt(self, net, **kwargs):
        original(self, net, **kwargs)
        if len(net.history) == 2 and (hook == "on_epoch_end"
                                      or kwargs.get("training")):
            calls["n"] += 1
            if hook == "on_epoch_end" or calls["n"] == 2:  # mid-epoch: batch 2
                raise KeyboardInterrupt

    monkeypatch.setattr(CrossDomainNet, hook, interrupt)
    model = CrossDomainRegressor(**{**TINY, "max_epochs": 6},
                                 early_stopping=early_stopping).fit(X, y)
    monkeypatch.undo()
    assert len(model.history_) == 2
    pred = model.predict(X)
    assert [p.shape for p in pred] == [(40, 2)] * 6
    assert all(np.isfinite(p).all() for p in pred)
    # no half-finished epoch state is kept (the sums are LossTerms' own state)
    assert dict(model.net_.callbacks_)["loss_terms"].sums_ == {}
    assert not hasattr(model.net_, "term_sums_")


# -- gradient clipping -------------------------------------------------------------
def _record_grad_norms(monkeypatch):
    norms = []
    step = torch.optim.Adam.step

    def recording_step(self, closure):
        # skorch computes (and clips) the gradients inside the closure
        def recorded():
            loss = closure()
            grads = [p.grad for group in self.param_groups for p in group["params"]
                     if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g) for g in grads]))))
            return loss
        return step(self, recorded)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    return norms


def test_grad_clip_bounds_every_step_and_changes_training(data, monkeypatch):
    X, y = data
    norms = _record_grad_norms(monkeypatch)
    free = CrossDomainRegressor(**TINY).fit(X, y)
    free_norms, norms[:] = list(norms), []
    clipped = CrossDomainRegressor(**TINY, grad_clip=0.01).fit(X, y)
    assert len(norms) == len(free_norms) > 0
    assert max(norms) <= 0.01 * (1 + 1e-4)
    assert max(free_norms) > 0.01  # so the clip did act
    assert not np.allclose(stack(free.predict(X)), stack(clipped.predict(X)))
    assert "grad_clip" in dict(clipped.net_.callbacks_)


def test_tiny_grad_clip_freezes_weights(data):
    # Adam normalises the step, but a gradient far below its eps=1e-8 gives steps
    # of about lr * g / eps: the weights stay at their initial values.
    X, y = data
    frozen = CrossDomainRegressor(**TINY, grad_clip=1e-14).fit(X, y)
    initial = CrossDomainRegressor(**TINY, lr=1e-14).fit(X, y)
    trained = CrossDomainRegressor(**TINY).fit(X, y)
    for (name, a), b in zip(frozen.net_.module_.state_dict().items(),
                            initial.net_.module_.state_dict().values(),
                            strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=name)
    assert not np.allclose(stack(frozen.predict(X)), stack(trained.predict(X)))


# -- early stopping ----------------------------------------------------------------
def noisy_frames():
    """Validation targets unrelated to training: the valid loss soon rises."""
    X, _ = frames(seed=1, n_frames=30)
    rng = np.random.default_rng(5)
    return X, [rng.normal(size=(30, 2)) for _ in range(len(X))]


def test_early_stopping_restores_best_epoch_weights():
    X, y = noisy_frames()
    params = dict(TINY, lr=0.05, max_epochs=12, validation_fraction=0.34)
    model = CrossDomainRegressor(**params, early_stopping=2).fit(X, y)
    valid = model.history_[:, "valid_loss"]
    best = int(np.argmin(valid)) + 1
    assert len(valid) < 12, "early stopping never triggered"
    assert best < len(valid)
    # The first `best` epochs of any run with this seed are the same, so the
    # restored weights are those of a run that stops at `best`.
    reference = CrossDomainRegressor(**{**params, "max_epochs": best}).fit(X, y)
    np.testing.assert_array_equal(stack(model.predict(X)),
                                  stack(reference.predict(X)))


def test_early_stopping_in_parallel_grid_search_writes_no_files(tmp_path,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = noisy_frames()
    model = CrossDomainRegressor(**{**TINY, "lr": 0.05, "max_epochs": 6},
                                 early_stopping=1, validation_fraction=0.34)
    grid = {"dropout": [0.0, 0.3]}
    cv = GroupKFold(2)
    groups = list(X.receivers)
    kwargs = dict(scoring=ccc_scorer, cv=cv, error_score="raise")
    parallel = GridSearchCV(model, grid, n_jobs=2, **kwargs).fit(X, y, groups=groups)
    serial = GridSearchCV(model, grid, n_jobs=1, **kwargs).fit(X, y, groups=groups)
    assert os.listdir(tmp_path) == []  # weights kept in memory, no checkpoint files
    # Each job got its own in-memory best weights: the scores match a serial run.
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=1e-4,
                               atol=1e-6)
    assert np.isfinite(parallel.cv_results_["mean_test_score"]).all()


# -- determinism -----------------------------------------------------------------
def test_same_seed_identical_pipeline_predictions_different_seed_differs():
    data = make_impression(2, 2, 2.0, emitter_channels={"audio": 3, "eye": 2,
                                                        "face": 2},
                           receiver_channels={"eye": 2, "face": 2, "physio": 1},
                           random_state=0)

    def fit(seed):
        pipe = Pipeline([("resample", Resampler()),
                         ("concat", ModalityConcatenator()),
                         ("model", CrossDomainRegressor(**{**TINY,
                                                           "random_state": seed}))])
        return stack(pipe.fit(data.recordings, data.targets).predict(data.recordings))

    first, again, other = fit(3), fit(3), fit(4)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_diverged_fit_leaves_no_fitted_model():
    from sklearn.exceptions import NotFittedError

    model = CrossDomainRegressor(**{**TINY, "max_epochs": 20}, lr=1e6)
    with pytest.raises(FloatingPointError, match="diverged"):
        model.fit(*frames())
    with pytest.raises(NotFittedError):
        model.predict(frames()[0])
