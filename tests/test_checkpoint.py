"""Training that survives a crash: ``CrossDomainRegressor(checkpoint_dir=...)``."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn_impression import CrossDomainRegressor, _checkpoint  # noqa: E402

PARAMS = dict(hidden_size=4, num_heads=2, num_layers=2, max_epochs=4, batch_size=32,
              lr_step=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    return X, X[:, :2] @ [1.0, -1.0] + X[:, 4]


def _interrupt_after(monkeypatch, epoch):
    save = _checkpoint.EpochCheckpoint.on_epoch_end

    def save_then_die(self, net, **kwargs):
        save(self, net, **kwargs)
        if len(net.history) == epoch:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(_checkpoint.EpochCheckpoint, "on_epoch_end", save_then_die)


def test_resumed_fit_equals_uninterrupted_fit(data, tmp_path, monkeypatch):
    X, y = data
    reference = CrossDomainRegressor(**PARAMS).fit(X, y)
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 3)  # past the LR step: the scheduler state matters
        with pytest.raises(RuntimeError, match="simulated crash"):
            CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)
    assert (tmp_path / "checkpoint.pt").is_file()
    assert not list(tmp_path.glob(".checkpoint-*"))  # no temporary file left
    resumed = CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)
    want = reference.net_.module_.state_dict()
    got = resumed.net_.module_.state_dict()
    assert all(torch.equal(want[k], got[k]) for k in want)
    assert len(resumed.history_) == 4
    assert resumed.history_[:, "train_loss"] == reference.history_[:, "train_loss"]
    np.testing.assert_array_equal(resumed.predict(X), reference.predict(X))


def test_finished_checkpoint_trains_no_more(data, tmp_path):
    X, y = data
    first = CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)
    again = CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)
    np.testing.assert_array_equal(first.predict(X), again.predict(X))
    assert len(again.history_) == 4


def test_mismatched_or_corrupt_checkpoint_is_an_error(data, tmp_path):
    X, y = data
    CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)
    with pytest.raises(ValueError, match=r"other parameters \(lr=0.001 there, "
                                         r"0.01 now\)"):
        CrossDomainRegressor(checkpoint_dir=str(tmp_path), **{**PARAMS, "lr": 0.01}
                             ).fit(X, y)
    with pytest.raises(ValueError, match="data of other shapes"):
        CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X[:200],
                                                                         y[:200])
    with pytest.raises(ValueError, match="other data"):
        CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y + 1)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(_checkpoint.CheckpointError, match="cannot be read"):
        CrossDomainRegressor(checkpoint_dir=str(tmp_path), **PARAMS).fit(X, y)


def test_checkpoint_with_early_stopping_is_refused(data, tmp_path):
    X, y = data
    with pytest.raises(ValueError, match="cannot be combined with early_stopping"):
        CrossDomainRegressor(checkpoint_dir=str(tmp_path), early_stopping=2,
                             **PARAMS).fit(X, y)
    assert not (tmp_path / "checkpoint.pt").exists()
