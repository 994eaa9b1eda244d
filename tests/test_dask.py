"""Grid search and cross-validation on a real Dask cluster (2 local processes)."""

import json
import os
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
torch = pytest.importorskip("torch")

from joblib import Parallel, delayed  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    GroupKFold,
    cross_validate,
)
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_impression import (  # noqa: E402
    ModalityConcatenator,
    Resampler,
    ccc_scorer,
    make_impression,
)
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402
from sklearn_impression.utils._cluster import dask_backend, scatter_inputs  # noqa: E402

# A scheduler's HTTP server (health routes; no dashboard without bokeh) takes port
# 8787 on 127.0.0.1, or another port when 8787 is taken: harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as lc:
        yield lc


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        c.wait_for_workers(2)
        yield c


@pytest.fixture(scope="module")
def data():
    return make_impression(n_receivers=3, n_stimuli=2, stimulus_duration=3.0,
                           random_state=0)


def _pipeline():
    model = CrossDomainRegressor(hidden_size=4, num_heads=2, fc_size=4, max_epochs=2,
                                 batch_size=32, random_state=0)
    return Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", model)])


@pytest.fixture
def one_torch_thread():
    """Run local fits with one torch thread, as Dask's workers do."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_workers_use_one_torch_thread(client):
    assert set(client.run(torch.get_num_threads).values()) == {1}
    with dask_backend(client, torch_threads=1):
        assert set(client.run(torch.get_num_threads).values()) == {1}


def test_grid_search_on_cluster_equals_local(client, data, one_torch_thread):
    X, y, groups = data.recordings, data.targets, data.receivers
    grid = {"model__lr": [1e-3, 1e-2]}

    def search():
        return GridSearchCV(_pipeline(), grid, scoring=ccc_scorer, cv=GroupKFold(3),
                            refit=False)

    local = search().fit(X, y, groups=groups)
    with dask_backend(client, scatter=[X, y]):
        remote = search().fit(X, y, groups=groups)
    keys = [f"split{k}_test_score" for k in range(3)] + ["mean_test_score",
                                                         "rank_test_score"]
    for key in keys:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key],
                                      err_msg=key)
    assert remote.best_params_ == local.best_params_
    # The grid is not degenerate: the two learning rates score differently.
    assert local.cv_results_["mean_test_score"][0] != \
        local.cv_results_["mean_test_score"][1]


def test_fitted_models_come_back_usable(client, data, one_torch_thread):
    X, y, groups = data.recordings, data.targets, data.receivers
    kwargs = dict(cv=GroupKFold(3), groups=groups, scoring=ccc_scorer,
                  return_estimator=True)
    local = cross_validate(_pipeline(), X, y, **kwargs)
    with dask_backend(client, scatter=[X, y]):
        remote = cross_validate(_pipeline(), X, y, **kwargs)
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])
    for fitted, reference in zip(remote["estimator"], local["estimator"],
                                 strict=True):
        model = fitted[-1]
        assert str(model.net_.device) == "cpu"
        assert all(p.device.type == "cpu" for p in model.net_.module_.parameters())
        # Predicting in this process with the model fitted on a worker.
        got, want = fitted.predict(X[:2]), reference.predict(X[:2])
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def _identity_on_worker(obj):
    """(pid, id) of ``obj`` in the worker; keeps it alive so ids are not reused."""
    worker = distributed.get_worker()
    kept = getattr(worker, "_test_kept", None)
    if kept is None:
        kept = worker._test_kept = []
    kept.append(obj)
    return os.getpid(), id(obj)


def _copies(objects, n_tasks=6):
    # batch_size=1: one Dask task per call, so a non-scattered argument is
    # deserialised once per task.
    out = Parallel(batch_size=1)(delayed(_identity_on_worker)(objects)
                                 for _ in range(n_tasks))
    return len(set(out))


def test_lists_are_sent_once_with_scatter(client, data):
    X = list(data.recordings)  # joblib does not auto-scatter lists
    with dask_backend(client):
        assert _copies(X) > 2  # copies per task, more than one per worker
    with dask_backend(client, scatter=[X]):
        assert _copies(X) <= 2  # one copy per worker
    with dask_backend(client), scatter_inputs(X):
        assert _copies(X) <= 2
        with scatter_inputs(X, data.targets):  # nested: already scattered
            assert _copies(X) <= 2


def test_scatter_inputs_outside_dask_is_a_no_op(data):
    X = data.recordings
    with scatter_inputs(X):
        assert Parallel(n_jobs=1)(delayed(len)(X) for _ in range(2)) == [6, 6]


def test_scheduler_address_opens_and_closes_a_client(cluster, data):
    with dask_backend(cluster.scheduler_address) as own:
        assert own.status == "running"
        assert Parallel()(delayed(len)(data.recordings) for _ in range(2)) == [6, 6]
    assert own.status == "closed"
    with dask_backend(cluster) as own:  # a cluster object
        assert own.scheduler.address == cluster.scheduler_address
    assert own.status == "closed"


def test_bad_arguments(client):
    with pytest.raises(TypeError, match="scheduler must be an address"):
        with dask_backend(42):
            pass
    with pytest.raises(TypeError, match="scatter must be a list or tuple"):
        with dask_backend(client, scatter=np.zeros(3)):
            pass


def test_missing_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"sklearn-impression\[distributed\]"):
        with dask_backend("tcp://127.0.0.1:1"):
            pass


def _in_worker(_):
    return distributed.get_worker().address


def test_single_thread_cluster_still_gets_the_tasks():
    # joblib runs n_jobs=1 in the calling process; a one-GPU cluster has 1 thread.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as lc, \
            dask_backend(lc) as own:
        (address,) = own.nthreads()
        assert Parallel()(delayed(_in_worker)(i) for i in range(3)) == [address] * 3


def test_cli_ablation_runs_rows_on_the_scheduler(cluster, tmp_path):
    from sklearn_impression.cli import main

    argv = ["ablation", "--n-receivers", "3", "--n-stimuli", "2", "--duration", "4",
            "--epochs", "1", "--rows", "ridge,constant", "--protocol", "receivers",
            "--n-splits", "3", "--quiet", "--threads", "1", "--out"]
    assert main([*argv, str(tmp_path / "local")]) == 0
    assert main([*argv, str(tmp_path / "dask"), "--scheduler",
                 cluster.scheduler_address]) == 0
    local = json.loads((tmp_path / "local" / "ablation.json").read_text())
    remote = json.loads((tmp_path / "dask" / "ablation.json").read_text())
    assert [r["key"] for r in remote["rows"]] == ["full", "ridge", "constant"]
    for a, b in zip(local["rows"], remote["rows"], strict=True):
        assert a["competence"] == pytest.approx(b["competence"], abs=1e-12)
        assert a["warmth"] == pytest.approx(b["warmth"], abs=1e-12)
