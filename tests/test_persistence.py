"""Tests of save_model / load_model (safetensors + JSON) and joblib round trips."""

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from safetensors import safe_open  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVR  # noqa: E402

from sklearn_impression import (  # noqa: E402
    DyadicFrames,
    ModalityConcatenator,
    Resampler,
    UnknownReceiverWarning,
    make_impression,
)
from sklearn_impression._version import __version__  # noqa: E402
from sklearn_impression.persistence._files import (  # noqa: E402
    _tensor_digest,
    load_model,
    save_model,
)
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

from _builders import dyadic_frames, tiny_net  # noqa: E402

TINY = tiny_net(max_epochs=2)
DATA = Path(__file__).parent / "data"


def tiny_frames(seed=0):
    return dyadic_frames(lambda r, e, p: np.column_stack([r[:, 0] + e[:, 1], -r[:, 1]]),
                         n_frames=(30, 45), seed=seed)


@pytest.fixture(scope="module")
def impression():
    return make_impression(2, 2, 2.0, emitter_channels={"audio": 3, "eye": 2,
                                                        "face": 2},
                           receiver_channels={"eye": 2, "face": 2, "physio": 1},
                           random_state=0)


@pytest.fixture(scope="module")
def pipeline(impression):
    torch.set_num_threads(1)
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", CrossDomainRegressor(**TINY))])
    with torch.random.fork_rng():
        return pipe.fit(impression.recordings, impression.targets)


@pytest.fixture(scope="module")
def saved(pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "pipe.safetensors"
    save_model(pipeline, path)
    return path


def assert_same_predictions(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    else:
        np.testing.assert_array_equal(a, b)


def rewrite(src, dst, *, metadata=None, tensors=None, rehash=True):
    """Copy a model file, editing its metadata / tensors (and digests if rehash)."""
    with safe_open(src, framework="numpy") as handle:
        meta = dict(handle.metadata())
    arrays = load_file(src)
    if metadata is not None:
        metadata(meta)
    if tensors is not None:
        tensors(arrays)
    if rehash:
        import hashlib

        meta["model_sha256"] = hashlib.sha256(meta["model"].encode()).hexdigest()
        meta["tensors_sha256"] = _tensor_digest(arrays)
    save_file(arrays, dst, metadata=meta)
    return dst


def edit_model_json(edit):
    def mutate(meta):
        spec = json.loads(meta["model"])
        edit(spec)
        meta["model"] = json.dumps(spec)
    return mutate


# -- round trips -------------------------------------------------------------------
@pytest.mark.parametrize("one_d", [True, False])
def test_regressor_on_2d_array_round_trip(tmp_path, one_d):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = X[:, 0] - X[:, 4] if one_d else np.column_stack([X[:, 0], X[:, 1] * X[:, 3]])
    model = CrossDomainRegressor(**TINY, emitter_features=[0, 2]).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert type(loaded) is CrossDomainRegressor
    assert loaded.get_params() == {**model.get_params(), "emitter_features": [0, 2]}
    pred = loaded.predict(X)
    assert pred.shape == ((120,) if one_d else (120, 2))
    assert_same_predictions(model.predict(X), pred)
    np.testing.assert_array_equal(loaded._emitter_cols, model._emitter_cols)


def test_regressor_on_dyadic_frames_round_trip_with_windows(tmp_path):
    X, y = tiny_frames()
    model = CrossDomainRegressor(**{**TINY, "window": 4, "hop": 2}).fit(X, y)
    save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert_same_predictions(model.predict(X), loaded.predict(X))
    assert loaded.feature_names_in_.tolist() == ["e0", "e1", "e2", "r0", "r1"]
    assert loaded.n_outputs_ == model.n_outputs_ == 2
    for name in ("emitter_mean", "receiver_scale", "target_mean", "target_scale"):
        np.testing.assert_array_equal(getattr(loaded.scaler_, name),
                                      getattr(model.scaler_, name))
    # the history is kept; the loaded net is a usable skorch net
    assert loaded.history_[:, "train_loss"] == model.history_[:, "train_loss"]
    assert str(loaded.net_.device) == "cpu"
    with pytest.raises(ValueError, match="feature 1 is 'zz'"):
        loaded.predict(DyadicFrames(X.emitter_blocks, X.receiver_blocks,
                                    X.emitter_index, ["e0", "zz", "e2"],
                                    ["r0", "r1"]))


def test_whole_pipeline_round_trip(pipeline, saved, impression):
    loaded = load_model(saved)
    assert [name for name, _ in loaded.steps] == ["resample", "concat", "model"]
    assert loaded.get_params(deep=True).keys() == pipeline.get_params(deep=True).keys()
    assert loaded.named_steps["resample"].channels_ == \
        pipeline.named_steps["resample"].channels_
    assert loaded.named_steps["concat"].emitter_feature_names_ == \
        pipeline.named_steps["concat"].emitter_feature_names_
    assert_same_predictions(pipeline.predict(impression.recordings),
                            loaded.predict(impression.recordings))
    # a loaded model can be refitted like a fresh one
    loaded.set_params(model__max_epochs=1).fit(impression.recordings[:2],
                                               impression.targets[:2])


def test_plain_sklearn_pipeline_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=0.3))])
    pipe.fit(X, y)
    save_model(pipe, tmp_path / "r.safetensors")
    np.testing.assert_array_equal(load_model(tmp_path / "r.safetensors").predict(X),
                                  pipe.predict(X))


def test_joblib_round_trip_of_whole_pipeline(pipeline, impression):
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    assert_same_predictions(pipeline.predict(impression.recordings),
                            restored.predict(impression.recordings))


# -- CUDA -> CPU -------------------------------------------------------------------
def test_saved_tensors_are_cpu_numpy_and_cuda_device_falls_back(pipeline, impression,
                                                                 tmp_path):
    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only fallback")
    regressor = pipeline.named_steps["model"]
    path = tmp_path / "cuda.safetensors"
    # What a GPU-trained pipeline carries: its device parameter and net device.
    regressor.set_params(device="cuda")
    regressor.net_.device = "cuda"
    try:
        save_model(pipeline, path)
    finally:
        regressor.set_params(device="cpu")
        regressor.net_.device = "cpu"
    with safe_open(path, framework="numpy") as handle:
        spec = json.loads(handle.metadata()["model"])
    assert '"device": "cuda"' in json.dumps(spec)
    with pytest.warns(UserWarning, match="no CUDA device; loading it on 'cpu'"):
        keep = load_model(path, device=None)
    assert keep.named_steps["model"].device == "cpu"
    default = load_model(path)  # device="cpu": no warning, device param set to cpu
    assert default.named_steps["model"].get_params()["device"] == "cpu"
    assert_same_predictions(pipeline.predict(impression.recordings),
                            default.predict(impression.recordings))


class _FakeCudaTensor:
    """Stands in for a CUDA tensor: ``numpy()`` fails unless ``cpu()`` came first."""

    moved = 0

    def __init__(self, tensor):
        self.tensor = tensor

    def detach(self):
        return self

    def cpu(self):
        _FakeCudaTensor.moved += 1
        return self.tensor.detach().cpu()

    def numpy(self):
        raise TypeError("can't convert cuda:0 device type tensor to numpy")


def test_save_moves_network_tensors_to_cpu(pipeline, impression, tmp_path,
                                           monkeypatch):
    module = pipeline.named_steps["model"].net_.module_
    real = {k: v.clone() for k, v in module.state_dict().items()}
    monkeypatch.setattr(module, "state_dict",
                        lambda: {k: _FakeCudaTensor(v) for k, v in real.items()})
    save_model(pipeline, tmp_path / "m.safetensors")
    monkeypatch.undo()
    assert _FakeCudaTensor.moved == len(real)
    assert_same_predictions(pipeline.predict(impression.recordings),
                            load_model(tmp_path / "m.safetensors").predict(
                                impression.recordings))


def test_joblib_of_cuda_marked_pipeline_loads_on_cpu(pipeline, impression):
    if torch.cuda.is_available():
        pytest.skip("checks the CPU-only fallback")
    expected = pipeline.predict(impression.recordings)
    regressor = pipeline.named_steps["model"]
    regressor.net_.device = "cuda"
    try:
        buffer = io.BytesIO()
        joblib.dump(pipeline, buffer)
    finally:
        regressor.net_.device = "cpu"
    buffer.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning
        restored = joblib.load(buffer)
    assert str(restored.named_steps["model"].net_.device) == "cpu"
    assert_same_predictions(expected, restored.predict(impression.recordings))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trained_on_cuda_loads_on_cpu(impression, tmp_path):
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", CrossDomainRegressor(**TINY, device="cuda"))])
    pipe.fit(impression.recordings, impression.targets)
    expected = np.vstack(pipe.predict(impression.recordings))
    save_model(pipe, tmp_path / "gpu.safetensors")
    loaded = load_model(tmp_path / "gpu.safetensors")  # device="cpu"
    regressor = loaded.named_steps["model"]
    assert regressor.device == "cpu"
    assert all(p.device.type == "cpu" for p in regressor.net_.module_.parameters())
    np.testing.assert_allclose(np.vstack(loaded.predict(impression.recordings)),
                               expected, rtol=1e-4, atol=1e-5)
    # joblib: written with the net on CUDA, read by a process that sees no GPU
    joblib.dump((pipe, impression.recordings), tmp_path / "gpu.joblib")
    script = (
        "import sys, warnings, joblib, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        "pipe, X = joblib.load(sys.argv[1])\n"
        "np.save(sys.argv[2], np.vstack(pipe.predict(X)))\n"
        "from sklearn_impression.persistence._files import load_model\n"
        "np.save(sys.argv[3], np.vstack(load_model(sys.argv[4]).predict(X)))\n"
    )
    import os

    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "gpu.joblib"),
                    str(tmp_path / "a.npy"), str(tmp_path / "b.npy"),
                    str(tmp_path / "gpu.safetensors")], check=True, env=env)
    for name in ("a.npy", "b.npy"):
        np.testing.assert_allclose(np.load(tmp_path / name), expected, rtol=1e-4,
                                   atol=1e-5)


# -- refusing bad files ------------------------------------------------------------
def test_tampered_tensor_payload(saved, tmp_path):
    def flip(arrays):
        key = next(k for k in sorted(arrays) if "head.3.weight" in k)
        arrays[key] = arrays[key] + np.float32(1e-3)
    bad = rewrite(saved, tmp_path / "t.safetensors", tensors=flip, rehash=False)
    with pytest.raises(ValueError, match="tensor payload does not match its SHA-256"):
        load_model(bad)


def test_tampered_bytes_on_disk(saved, tmp_path):
    raw = bytearray(saved.read_bytes())
    raw[-5] ^= 0xFF  # a byte of the last tensor
    (tmp_path / "b.safetensors").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="tensor payload does not match"):
        load_model(tmp_path / "b.safetensors")


def test_tampered_description(saved, tmp_path):
    def edit(spec):
        spec["model"]["__estimator__"]["params"]["verbose"] = 1
    bad = rewrite(saved, tmp_path / "d.safetensors", metadata=edit_model_json(edit),
                  rehash=False)
    with pytest.raises(ValueError, match="model description does not match"):
        load_model(bad)


@pytest.mark.parametrize("keep", [10, 200, -40])
def test_truncated_file(saved, tmp_path, keep):
    raw = saved.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[:keep])
    with pytest.raises(ValueError, match="truncated or not safetensors"):
        load_model(tmp_path / "cut.safetensors")


def test_not_a_model_file(tmp_path):
    (tmp_path / "junk.safetensors").write_text("hello")
    with pytest.raises(ValueError, match="not a readable model file"):
        load_model(tmp_path / "junk.safetensors")
    save_file({"w": np.zeros(2, np.float32)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not a sklearn-impression model file"):
        load_model(tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


def test_wrong_format_version(saved, tmp_path):
    def newer(meta):
        meta["format_version"] = "2"
    bad = rewrite(saved, tmp_path / "v.safetensors", metadata=newer)
    with pytest.raises(ValueError, match="format version '2'.*reads version 1"):
        load_model(bad)


def test_package_version_mismatch_warns(saved, tmp_path, impression):
    def older(meta):
        meta["sklearn_impression_version"] = "0.0.1"
    old = rewrite(saved, tmp_path / "o.safetensors", metadata=older)
    with pytest.warns(UserWarning, match=f"saved by sklearn-impression 0.0.1, this is "
                      f"{__version__}"):
        model = load_model(old)
    assert len(model.predict(impression.recordings[:1])) == 1


@pytest.mark.parametrize("name", ["antigravity.Fly", "builtins.eval",
                                  "sklearn.svm.SVR", "os:system"])
def test_unknown_class_is_refused_without_importing_it(saved, tmp_path, name):
    def edit(spec):
        spec["model"]["__estimator__"]["params"]["steps"][0]["__tuple__"][1][
            "__estimator__"]["class"] = name
    bad = rewrite(saved, tmp_path / "c.safetensors", metadata=edit_model_json(edit))
    with pytest.raises(ValueError, match=f"names class '{name}'.*not one of the "
                                         "loadable classes"):
        load_model(bad)
    assert "antigravity" not in sys.modules


def test_forbidden_attribute_names_are_refused(saved, tmp_path):
    def edit(spec):
        spec["model"]["__estimator__"]["params"]["steps"][1]["__tuple__"][1][
            "__estimator__"]["state"]["__class__"] = "x"
    bad = rewrite(saved, tmp_path / "a.safetensors", metadata=edit_model_json(edit))
    with pytest.raises(ValueError, match="forbidden attribute name '__class__'"):
        load_model(bad)


def test_missing_tensors(saved, tmp_path):
    def drop_weight(arrays):
        del arrays[next(k for k in sorted(arrays) if "receiver_lstm.weight_hh" in k)]
    bad = rewrite(saved, tmp_path / "w.safetensors", tensors=drop_weight)
    with pytest.raises(ValueError, match=r"network tensors \['receiver_lstm.weight_hh"):
        load_model(bad)

    def drop_scaler(arrays):
        del arrays[next(k for k in sorted(arrays) if k.endswith("target_mean"))]
    bad = rewrite(saved, tmp_path / "s.safetensors", tensors=drop_scaler)
    with pytest.raises(ValueError, match=r"tensor '.*scaler_.target_mean' is missing"):
        load_model(bad)


def test_save_refuses_what_it_cannot_store(tmp_path, pipeline):
    with pytest.raises(NotFittedError):
        save_model(CrossDomainRegressor(), tmp_path / "u.safetensors")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    with pytest.raises(TypeError, match="sklearn.svm._classes.SVR is not a class "
                                        "save_model can store"):
        save_model(SVR().fit(X, y), tmp_path / "svr.safetensors")
    model = CrossDomainRegressor(**{**TINY, "max_epochs": 1}).fit(X, y)
    model.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="parameter 'random_state' of model "
                                        r"\(CrossDomainRegressor\).*RandomState"):
        save_model(model, tmp_path / "rs.safetensors")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
    with pytest.raises(TypeError, match="needs an estimator"):
        save_model({"a": 1}, tmp_path / "d.safetensors")


@pytest.mark.parametrize("suffix", [".safetensors", ".joblib"])
@pytest.mark.parametrize("tag, kept", [("v0_1_0", []), ("8c95ae1", [0, 1, 2])])
def test_a_model_file_of_an_earlier_version_loads_and_predicts_as_it_did(
        tag, kept, suffix):
    """Files written by earlier versions (made by ``tests/data/make_model_file.py``
    with them): release 0.1.0, before per-person state was kept (loading fills
    what later versions added), and the last commit before the package was
    reorganised into subpackages (its joblib file names the old module paths).
    Both predict exactly as they did then."""
    path = DATA / f"model_{tag}{suffix}"
    model = load_model(path) if suffix == ".safetensors" else joblib.load(path)
    params = model[-1].get_params()
    assert params["early_stopping"] == (None if tag == "v0_1_0" else "auto")
    assert params["validation_groups"] == ("recording" if tag == "v0_1_0"
                                           else "stimulus")
    assert model[-1].listener_ids_ == [2]
    assert model[-1].normalization_receivers_ == kept
    data = make_impression(3, 2, 4, random_state=1)
    saved = np.load(DATA / f"model_{tag}_predictions.npz")
    with pytest.warns(UnknownReceiverWarning):
        predicted = model.predict(data.recordings)
    for i, p in enumerate(predicted):
        np.testing.assert_allclose(p, saved[f"arr_{i}"], rtol=1e-5, atol=1e-6)
