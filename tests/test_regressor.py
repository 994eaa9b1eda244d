"""Tests of CrossDomainRegressor: API, learning, windows, errors, persistence."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import sklearn_impression.regressor._callbacks as cd_callbacks  # noqa: E402
from sklearn_impression import DyadicFrames  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

from _builders import dyadic_frames, tiny_net  # noqa: E402

TINY = tiny_net(max_epochs=2)


def _learnable(r, e, p):
    return np.column_stack([2.0 * r[:, 0] + e[:, 1] + 0.3 * p,
                            -1.5 * r[:, 1] + 0.5 * e[:, 2]])


def make_frames(n_stimuli=2, n_receivers=3, n_frames=(40, 55), seed=0, short=None):
    """Tiny learnable DyadicFrames: targets follow receiver and emitter features.

    ``short``: one more recording, shorter than any window.
    """
    return dyadic_frames(_learnable, n_stimuli=n_stimuli, n_receivers=n_receivers,
                         n_frames=n_frames, n_emitter_features=4,
                         n_receiver_features=3, noise=0.05, short=short, seed=seed)


@pytest.fixture(scope="module")
def data():
    return make_frames()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        return CrossDomainRegressor(**TINY).fit(X, y)


def _ccc(a, b):
    return 2 * np.cov(a, b, bias=True)[0, 1] / (a.var() + b.var() +
                                                 (a.mean() - b.mean()) ** 2)


def test_predict_dyadic_frames_per_recording(fitted, data):
    """One array per recording, in the order given, each depending on its own
    recording only: predicting a recording alone, or the recordings reversed,
    gives the same arrays."""
    X, y = data
    pred = fitted.predict(X)
    assert [p.shape for p in pred] == [t.shape for t in y]
    assert all(p.dtype == np.float64 for p in pred)
    assert fitted.n_features_in_ == 7 and fitted.n_outputs_ == 2
    assert fitted.n_emitter_features_ == 4 and fitted.n_receiver_features_ == 3
    backwards = fitted.predict(X[list(range(len(X)))[::-1]])[::-1]
    for i, (p, q) in enumerate(zip(pred, backwards, strict=True)):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(p, fitted.predict(X[[i]])[0], rtol=1e-6,
                                   atol=1e-7)
    assert not np.allclose(pred[0], pred[1][:40])  # not one trace for all


def test_history_logs_all_loss_terms_and_valid_ccc(fitted):
    row = fitted.history_[-1]
    for key in ("train_loss", "valid_loss", "train_task", "train_kd", "train_se",
                "valid_task", "valid_kd", "valid_se", "valid_ccc_0", "valid_ccc_1",
                "valid_ccc"):
        assert np.isfinite(row[key]), key
    assert len(fitted.history_) == 2
    assert fitted.history_ is fitted.net_.history
    # with kd=se=1 the back-propagated loss is the sum of the three terms
    assert row["train_loss"] == pytest.approx(
        row["train_task"] + row["train_kd"] + row["train_se"], rel=1e-4)


def test_zero_weight_terms_are_still_logged(data):
    X, y = data
    model = CrossDomainRegressor(**{**TINY, "kd_weight": 0.0, "se_weight": 0.0,
                                    "max_epochs": 1}).fit(X, y)
    row = model.history_[-1]
    assert row["train_kd"] > 0 and row["train_se"] >= 0
    assert row["train_loss"] == pytest.approx(row["train_task"], rel=1e-4)


def test_learns_tiny_problem(data):
    X, y = data
    model = CrossDomainRegressor(**{**TINY, "hidden_size": 8, "num_heads": 2,
                                    "max_epochs": 12, "batch_size": 16,
                                    "dropout": 0.0, "validation_fraction": None})
    model.fit(X, y)
    losses = model.history_[:, "train_task"]
    assert losses[-1] < 0.5 * losses[0]
    pred, true = np.vstack(model.predict(X)), np.vstack(y)
    assert min(_ccc(pred[:, k], true[:, k]) for k in range(2)) > 0.6


def _stitched(model, X, i, window, hop):
    """Recording ``i``'s predictions made by hand: each window of ``window``
    frames, ``hop`` apart plus one aligned to the end, predicted on its own,
    and the windows averaged where they overlap."""
    n = X.frame_counts[i]
    if n <= window:
        return model.predict(X[[i]])[0]  # one window, padded
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] + window < n:
        starts.append(n - window)
    frame = np.arange(n)
    total, count = np.zeros((n, model.n_outputs_)), np.zeros((n, 1))
    for s in starts:
        keep = (frame >= s) & (frame < s + window)
        total[keep] += model.predict(X[[i]].select_frames([keep]))[0]
        count[keep] += 1
    return total / count


def test_array_input_1d_and_2d_targets():
    """A 2-D array is one recording: ``emitter_features`` picks the emitter
    columns (wherever they are), and a 1-D target is the one-column fit."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 6))
    y2 = X[:, [0, 4]]
    model = CrossDomainRegressor(**TINY).fit(X, y2)
    assert model.predict(X).shape == (120, 2)
    assert model.n_emitter_features_ == 3 and model.n_receiver_features_ == 3
    one = CrossDomainRegressor(**TINY, emitter_features=[5]).fit(X, y2[:, 0])
    assert one.n_emitter_features_ == 1 and one.n_receiver_features_ == 5
    pred = one.predict(X)
    assert pred.shape == (120,)
    column = CrossDomainRegressor(**TINY, emitter_features=[5]).fit(X, y2[:, :1])
    np.testing.assert_array_equal(column.predict(X), pred[:, None])
    # the emitter column moved to the front, named by its new place: same model
    moved = X[:, [5, 0, 1, 2, 3, 4]]
    front = CrossDomainRegressor(**TINY, emitter_features=[0]).fit(moved, y2[:, 0])
    np.testing.assert_allclose(front.predict(moved), pred, rtol=1e-5, atol=1e-6)
    assert not np.allclose(front.predict(X), pred, atol=1e-3)


@pytest.mark.parametrize("window, hop", [(4, None), (5, 5), (3, 1)])
def test_window_predicts_every_frame(window, hop):
    """Every frame gets the mean of the windows that hold it (``hop`` defaults
    to half the window), the recording shorter than a window its padded one."""
    X, y = make_frames(n_frames=(13, 21), short=2)
    model = CrossDomainRegressor(**{**TINY, "window": window, "hop": hop})
    model.fit(X, y)
    pred = model.predict(X)
    assert [p.shape for p in pred] == [t.shape for t in y]
    assert np.isfinite(model.history_[-1, "valid_ccc"])
    for i in (0, 3, len(X) - 1):  # 13 and 21 frames, and the 2-frame one
        np.testing.assert_allclose(
            pred[i], _stitched(model, X, i, window, hop or max(1, window // 2)),
            rtol=1e-5, atol=1e-6)


def test_window_on_array_input():
    """A 2-D array is windowed as one recording: 11 frames with window 8 (hop
    4) are the windows at 0 and 3, averaged on frames 3 to 7."""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    model = CrossDomainRegressor(**{**TINY, "window": 8}).fit(X, y)
    pred = model.predict(X[:11])
    assert pred.shape == (11,)
    a, b = model.predict(X[:8]), model.predict(X[3:11])
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pred[:3], a[:3], **tol)
    np.testing.assert_allclose(pred[3:8], (a[3:] + b[:5]) / 2, **tol)
    np.testing.assert_allclose(pred[8:], b[5:], **tol)


def _fit(data, **params):
    X, y = data
    return CrossDomainRegressor(**{**TINY, **params}).fit(X, y)


def test_option_se_softmax_axis_reaches_the_loss(data, fitted):
    model = _fit(data, se_softmax_axis="batch")
    assert model.net_.criterion_.se_softmax_axis == "batch"
    assert not np.allclose(model.history_[:, "train_se"],
                           fitted.history_[:, "train_se"])


@pytest.mark.parametrize("task_loss", ["ccc", "mse"])
def test_option_task_loss_is_what_the_validation_logs(data, task_loss):
    """With the validation frames in one batch, the CCC loss is the sum over
    outputs of 1 - CCC, the validation CCC logged beside it; MSE is not."""
    model = _fit(data, task_loss=task_loss, batch_size=1000)
    row = model.history_[-1]
    assert row["valid_batch_count"] == 1
    one_minus_ccc = 2 * (1 - row["valid_ccc"])
    if task_loss == "ccc":
        assert row["valid_task"] == pytest.approx(one_minus_ccc, rel=1e-5)
    else:
        assert abs(row["valid_task"] - one_minus_ccc) > 1e-3


def test_option_shared_attention_false_gives_each_call_its_own(data):
    attention = _fit(data, shared_attention=False).net_.module_.attention
    assert isinstance(attention, torch.nn.ModuleDict) and len(attention) == 4
    weights = [a.in_proj_weight.detach() for a in attention.values()]
    assert not any(torch.equal(weights[0], w) for w in weights[1:])


@pytest.mark.parametrize("option", ["intra", "inter"])
def test_option_intra_or_inter_off_leaves_two_representations_in_the_head(
        data, option):
    """Attention width 2 x hidden_size; the head reads two of the four
    representations, and the two left out do not move the output."""
    model = _fit(data, **{option: False})
    module = model.net_.module_.eval()
    width = 2 * TINY["hidden_size"]
    assert module.head[0].in_features == 2 * width
    torch.manual_seed(0)
    e, r = torch.randn(3, 5, 4), torch.randn(3, 5, 3)
    with torch.no_grad():
        z_e, z_r = module.encode(e, r)
        y, reps = module.decode(z_e, z_r)
        kept = reps[2:] if option == "intra" else reps[:2]
        torch.testing.assert_close(y, module.head(torch.cat(kept, dim=-1)))


def test_option_grad_clip_limits_the_steps(data):
    """Adam's steps shrink with the gradient once it is clipped below Adam's
    epsilon: clipped to 1e-12 the network stays where it started (what lr
    1e-12 gives), unclipped it moves."""
    X, _ = data
    start = np.vstack(_fit(data, lr=1e-12).predict(X))
    clipped = np.vstack(_fit(data, grad_clip=1e-12).predict(X))
    free = np.vstack(_fit(data).predict(X))
    np.testing.assert_allclose(clipped, start, atol=1e-5)
    assert np.abs(free - start).max() > 1e-2


@pytest.mark.parametrize("standardize", [True, False])
def test_option_standardize_makes_the_fit_follow_the_target_units(data,
                                                                   standardize):
    """Standardised targets: targets 10 y + 3 give predictions 10 p + 3."""
    X, y = data
    p = _fit(data, standardize=standardize).predict(X)
    q = _fit((X, [10 * t + 3 for t in y]), standardize=standardize).predict(X)
    error = max(np.abs(10 * a + 3 - b).max() for a, b in zip(p, q, strict=True))
    assert (error < 1e-5) if standardize else (error > 0.1)


def test_option_amp_runs_bfloat16_close_to_float32(data, fitted):
    X, _ = data
    amp = np.vstack(_fit(data, amp=True).predict(X))
    fp32 = np.vstack(fitted.predict(X))
    assert amp.dtype == np.float64
    assert not np.array_equal(amp, fp32)  # autocast did run
    np.testing.assert_allclose(amp, fp32, atol=0.02)


def test_option_early_stopping_keeps_the_best_epoch(data):
    """Patience 1: training stops after the first epoch whose validation loss
    is not below the best so far, and the model kept is the best epoch's (the
    model of a run that stopped there)."""
    params = dict(validation_fraction=0.5, lr=0.03, max_epochs=6)
    stopped = _fit(data, early_stopping=1, **params)
    losses = stopped.history_[:, "valid_loss"]
    best = int(np.argmin(losses))
    assert len(losses) == best + 2 < 6  # one epoch without improvement
    X, _ = data
    at_best = _fit(data, early_stopping=None, **{**params, "max_epochs": best + 1})
    for a, b in zip(stopped.predict(X), at_best.predict(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_same_seed_same_predictions_different_seed_differs(data):
    X, y = data
    a = np.vstack(CrossDomainRegressor(**TINY).fit(X, y).predict(X))
    b = np.vstack(CrossDomainRegressor(**TINY).fit(X, y).predict(X))
    c = np.vstack(CrossDomainRegressor(**{**TINY, "random_state": 1})
                  .fit(X, y).predict(X))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_torch_rng_alone(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    CrossDomainRegressor(**{**TINY, "max_epochs": 1}).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_validation_split_by_recording_or_frames(data):
    X, y = data
    many = CrossDomainRegressor(**{**TINY, "validation_fraction": 0.34}).fit(X, y)
    n_valid = many.history_[-1, "valid_batch_count"]
    assert n_valid >= 1
    none = CrossDomainRegressor(**{**TINY, "validation_fraction": 0}).fit(X, y)
    assert "valid_loss" not in none.history_[-1]
    one = CrossDomainRegressor(**TINY).fit(X[[0]], y[:1])  # 1 recording: frames
    assert "valid_ccc" in one.history_[-1]


def test_pickle_and_joblib_round_trip_identical(fitted, data):
    X, _ = data
    expected = np.vstack(fitted.predict(X))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(np.vstack(restored.predict(X)), expected)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(np.vstack(joblib.load(buffer).predict(X)), expected)
    assert fitted.net_.train_split is None  # no validation tensors in the file


def test_model_saved_for_cuda_loads_on_cpu(fitted, data):
    X, _ = data
    if torch.cuda.is_available():
        pytest.skip("needs a CPU-only machine")
    expected = np.vstack(fitted.predict(X))
    model = pickle.loads(pickle.dumps(fitted))
    model.net_.device = "cuda"  # what a model trained on a GPU carries
    blob = pickle.dumps(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning
        restored = pickle.loads(blob)
    assert str(restored.net_.device) == "cpu"
    np.testing.assert_array_equal(np.vstack(restored.predict(X)), expected)


def test_grid_search_over_heads_and_dropout():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 4))
    y = X[:, 0] - X[:, 3]
    search = GridSearchCV(CrossDomainRegressor(**{**TINY, "max_epochs": 1}),
                          {"num_heads": [2, 4], "dropout": [0.1, 0.3]}, cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"num_heads", "dropout"}


@pytest.mark.parametrize("params, match", [
    (dict(num_heads=3), "must divide the attention width"),
    (dict(dropout=-0.1), "'dropout' parameter"),
    (dict(window=0), "'window' parameter"),
    (dict(window=2, hop=3), "hop=3 must be <= window=2"),
    (dict(intra=False, inter=False), "intra and inter are both False"),
    (dict(device="tpu"), "device must be"),
    (dict(se_softmax_axis="time"), "'se_softmax_axis' parameter"),
])
def test_invalid_parameters_fail_at_fit(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        CrossDomainRegressor(**{**TINY, **params}).fit(X, y)


def test_bad_targets_name_the_recording(data):
    X, y = data
    short = [t.copy() for t in y]
    short[2] = short[2][:-1]
    with pytest.raises(ValueError, match=r"receiver='p2', stimulus='s0'.*39 rows"):
        CrossDomainRegressor(**TINY).fit(X, short)
    nan = [t.copy() for t in y]
    nan[4][3, 1] = np.nan
    with pytest.raises(ValueError, match=r"receiver='p1', stimulus='s1'.*NaN"):
        CrossDomainRegressor(**TINY).fit(X, nan)
    with pytest.raises(ValueError, match="5 target arrays for 6 recordings"):
        CrossDomainRegressor(**TINY).fit(X, y[:5])
    with pytest.raises(ValueError, match="requires y"):
        CrossDomainRegressor(**TINY).fit(X, None)


def test_bad_features_name_the_recording(data):
    X, y = data
    receivers = [b.copy() for b in X.receiver_blocks]
    receivers[1][5, 2] = np.inf
    bad = DyadicFrames(X.emitter_blocks, receivers, X.emitter_index,
                       X.emitter_feature_names, X.receiver_feature_names,
                       X.receivers, X.stimuli)
    with pytest.raises(ValueError, match=r"receiver features of .*'p1'.*frame 5"):
        CrossDomainRegressor(**TINY).fit(bad, y)
    with pytest.raises(ValueError, match="emitter_features"):
        CrossDomainRegressor(**TINY, emitter_features=7).fit(X.to_frames(),
                                                            np.vstack(y))
    with pytest.raises(TypeError, match="ModalityConcatenator"):
        from sklearn_impression import Recording, Stream
        rec = Recording({"emitter.a": Stream(np.zeros((4, 1)), 25),
                         "receiver.b": Stream(np.zeros((4, 1)), 25)}, 4)
        CrossDomainRegressor(**TINY).fit([rec], [np.zeros((4, 2))])


def test_predict_checks_fitted_and_features(fitted, data):
    X, _ = data
    with pytest.raises(NotFittedError):
        CrossDomainRegressor(**TINY).predict(X)
    fewer = DyadicFrames([b[:, :3] for b in X.emitter_blocks], X.receiver_blocks,
                         X.emitter_index, ["e0", "e1", "e2"],
                         X.receiver_feature_names)
    with pytest.raises(ValueError, match="3 emitter and 3 receiver features"):
        fitted.predict(fewer)
    renamed = DyadicFrames(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                           ["e0", "e1", "x", "e3"], X.receiver_feature_names)
    with pytest.raises(ValueError, match="feature 2 is 'x'"):
        fitted.predict(renamed)
    with pytest.raises(TypeError, match="fitted on DyadicFrames"):
        fitted.predict(X.to_frames())


def test_diverging_run_names_epoch_and_term(data):
    X, y = data
    huge = [t * 1e30 for t in y]
    with pytest.raises(FloatingPointError, match=r"epoch 1.*task=inf"):
        CrossDomainRegressor(**TINY, standardize=False).fit(X, huge)


def test_keyboard_interrupt_leaves_a_model_that_predicts(data, monkeypatch):
    X, y = data
    original = cd_callbacks.LossTerms.on_epoch_end

    def interrupt(self, net, **kwargs):
        original(self, net, **kwargs)
        if len(net.history) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cd_callbacks.LossTerms, "on_epoch_end", interrupt)
    model = CrossDomainRegressor(**{**TINY, "max_epochs": 5}).fit(X, y)
    assert len(model.history_) == 2
    assert all(np.isfinite(p).all() for p in model.predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_loads_and_predicts_on_cpu_only_process(data, tmp_path):
    import subprocess
    import sys

    X, y = data
    model = CrossDomainRegressor(**TINY, device="cuda").fit(X, y)
    expected = np.vstack(model.predict(X))
    joblib.dump((model, X), tmp_path / "model.joblib")
    script = (
        "import sys, warnings, joblib, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        "model, X = joblib.load(sys.argv[1])\n"
        "np.save(sys.argv[2], np.vstack(model.predict(X)))\n"
    )
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "model.joblib"),
                    str(tmp_path / "pred.npy")], check=True, env=env)
    np.testing.assert_allclose(np.load(tmp_path / "pred.npy"), expected, rtol=1e-4,
                               atol=1e-5)


def test_sync_free_epoch_loop_records_the_same_history(data, monkeypatch):
    X, y = data
    reference = CrossDomainRegressor(**TINY).fit(X, y).history_
    monkeypatch.setattr(cd_callbacks.CrossDomainNet, "_sync_free_epochs", True)
    history = CrossDomainRegressor(**TINY).fit(X, y).history_
    for key in ("train_loss", "valid_loss", "train_kd", "valid_ccc"):
        np.testing.assert_allclose(history[:, key], reference[:, key], rtol=1e-6)
    assert all(isinstance(b.get("train_loss", b.get("valid_loss")), float)
               for b in history[-1, "batches"])
    huge = [t * 1e30 for t in y]
    with pytest.raises(FloatingPointError, match=r"epoch 1: .*task=inf"):
        CrossDomainRegressor(**TINY, standardize=False).fit(X, huge)


def test_predict_leaves_global_torch_rng_alone(fitted, data):
    X, _ = data
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    fitted.predict(X)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.parametrize("params", [dict(num_heads=0), dict(hidden_size=1.5)])
def test_parameter_types_are_validated_before_other_checks(data, params):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = data
    with pytest.raises(InvalidParameterError, match="parameter of CrossDomain"):
        CrossDomainRegressor(**{**TINY, **params}).fit(X, y)

