"""Ablation table, baselines, reports and plots."""

import json
import warnings

import joblib
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_impression import (
    DyadicFrames,
    ModalityConcatenator,
    Resampler,
    make_impression,
)
from sklearn_impression.experiments import (
    ABLATION_ROWS,
    ConstantPredictor,
    LSTMBaseline,
    RidgeBaseline,
    StimulusMeanBaseline,
    ablation_rows,
    markdown_table,
    plot_loss_trends,
    plot_receiver_ccc,
    plot_traces,
    run_ablation,
    write_report,
)
from sklearn_impression.model_selection import evaluate_protocol, paper_split
from sklearn_impression.regressor._stimulus_traces import fit_stimulus_traces

from _builders import label_rate_frames

TINY_NET = {"hidden_size": 4, "num_layers": 1, "num_heads": 2, "fc_size": 4,
            "batch_size": 64}


@pytest.fixture(scope="module")
def data():
    return make_impression(4, 2, 6, random_state=0)


@pytest.fixture(scope="module")
def frames(data):
    return label_rate_frames(data.recordings)


def test_ridge_baseline_matches_sklearn_on_materialised_frames(frames, data):
    train, _, test = paper_split(frames, data.targets, random_state=0)
    ours = RidgeBaseline(alpha=3.0).fit(*train)
    X_train = train[0].to_frames().astype(np.float64)
    X_test = test[0].to_frames().astype(np.float64)
    ref = make_pipeline(StandardScaler(), Ridge(alpha=3.0)).fit(
        X_train, np.concatenate(train[1]))
    np.testing.assert_allclose(np.concatenate(ours.predict(test[0])),
                               ref.predict(X_test), rtol=1e-6, atol=1e-8)
    # the plain 2-D array path gives the same model
    flat = RidgeBaseline(alpha=3.0).fit(X_train, np.concatenate(train[1]))
    np.testing.assert_allclose(flat.predict(X_test), ref.predict(X_test),
                               rtol=1e-6, atol=1e-8)


def test_baselines_reject_bad_input(frames, data):
    targets = list(data.targets)
    targets[2] = targets[2][:10]
    with pytest.raises(ValueError, match=r"recording 2 \(receiver=1, "
                                         r"stimulus=0\): 10 rows but"):
        RidgeBaseline().fit(frames, targets)
    model = RidgeBaseline().fit(frames, data.targets)
    smaller = ModalityConcatenator(exclude=["receiver.physio"]).fit_transform(
        Resampler().fit_transform(data.recordings))
    with pytest.raises(ValueError, match="features, RidgeBaseline was fitted with"):
        model.predict(smaller)
    with pytest.raises(ValueError, match="alpha"):
        RidgeBaseline(alpha=-1).fit(frames, data.targets)


def _two_stimuli(stimuli=("s", "s", "s", "t")):
    """Receivers a, b, c on stimulus s (4 frames); a again on t (3 frames)."""
    counts = [4, 4, 4, 3]
    X = DyadicFrames([np.zeros((4, 1)), np.zeros((3, 1))],
                     [np.zeros((n, 1)) for n in counts], [0, 0, 0, 1], ["e"], ["r"],
                     receivers=["a", "b", "c", "a"], stimuli=list(stimuli))
    y = [np.c_[np.arange(4.0), -np.arange(4.0)], np.full((4, 2), 10.0),
         np.full((4, 2), -1.0), np.full((3, 2), 2.0)]
    return X, y


def test_stimulus_mean_averages_receiver_centred_annotations():
    X, y = _two_stimuli()
    plain = StimulusMeanBaseline(center_receivers=False).fit(X, y)
    np.testing.assert_allclose(plain.traces_["s"], (y[0] + y[1] + y[2]) / 3)
    np.testing.assert_allclose(plain.constant_, np.concatenate(y).mean(axis=0))
    model = StimulusMeanBaseline().fit(X, y)
    a = np.concatenate([y[0], y[3]]).mean(axis=0)  # receiver a's level
    levels = np.array([a, [10.0, 10.0], [-1.0, -1.0]])
    np.testing.assert_allclose(model.constant_, levels.mean(axis=0))
    centred = (y[0] - a + y[1] - levels[1] + y[2] - levels[2]) / 3
    np.testing.assert_allclose(model.traces_["s"], centred + model.constant_)
    np.testing.assert_allclose(model.predict(X[[1]])[0], model.traces_["s"])
    assert model.n_outputs_ == 2 and model.n_features_in_ == 2


def test_stimulus_mean_follows_the_stimulus_clock():
    X, y = _two_stimuli()
    # receiver b only annotated positions 0 and 3 of s: 1-2 are interpolated
    cut = X.select_frames([np.ones(4, bool), np.array([1, 0, 0, 1], bool),
                           np.ones(4, bool), np.ones(3, bool)])
    y_cut = [y[0], y[1][[0, 3]], y[2], y[3]]
    only_b = StimulusMeanBaseline(center_receivers=False).fit(cut[[1]], y_cut[1:2])
    np.testing.assert_allclose(only_b.traces_["s"], np.full((4, 2), 10.0))
    first = StimulusMeanBaseline(center_receivers=False).fit(cut[[0, 1]], y_cut[:2])
    np.testing.assert_allclose(first.traces_["s"][:, 0], [5.0, 1.0, 2.0, 6.5])
    # a recording cut to positions 2-3 is predicted from positions 2-3
    tail = X.select_frames([np.array([0, 0, 1, 1], bool)] + [np.ones(4, bool)] * 2
                           + [np.ones(3, bool)])
    np.testing.assert_allclose(first.predict(tail[[0]])[0],
                               first.traces_["s"][2:])
    # positions beyond the trace hold its last value
    longer = DyadicFrames([np.zeros((6, 1))], [np.zeros((6, 1))], [0], ["e"], ["r"],
                          receivers=["z"], stimuli=["s"])
    np.testing.assert_allclose(first.predict(longer)[0][4:],
                               first.traces_["s"][[3, 3]])


def test_stimulus_mean_warns_for_stimuli_without_a_trace():
    X, y = _two_stimuli()
    model = StimulusMeanBaseline().fit(X, y)
    new, _ = _two_stimuli(stimuli=("s", "s", "s", "u"))
    with pytest.warns(UserWarning, match=r"no training trace for stimulus 'u' "
                                         r"\(1 recording"):
        pred = model.predict(new)
    np.testing.assert_allclose(pred[3], np.tile(model.constant_, (3, 1)))
    np.testing.assert_allclose(pred[0], model.traces_["s"])
    no_ids, _ = _two_stimuli(stimuli=(None,) * 4)
    with pytest.warns(UserWarning, match="stimulus None"):
        model.predict(no_ids)
    # a plain array is frames without stimuli: the training mean, no warning
    flat = StimulusMeanBaseline().fit(np.zeros((5, 2)), np.arange(5.0))
    np.testing.assert_allclose(flat.predict(np.ones((3, 2))), [2.0, 2.0, 2.0])


def test_stimulus_mean_warns_once_naming_the_missing_stimuli_at_the_callers_line():
    X, y = _two_stimuli()
    model = StimulusMeanBaseline().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X)  # every stimulus has a trace: no warning
    new, _ = _two_stimuli(stimuli=("u", "s", "v", "u"))
    with pytest.warns(UserWarning, match=r"^StimulusMeanBaseline has no training "
                                         r"trace for stimulus 'u', 'v' \(3 "
                                         r"recording\(s\)\); they get the training "
                                         r"mean$") as record:
        model.predict(new)
    assert len(record) == 1
    # it points at the caller of predict, not into the package (mutmut's
    # trampoline, when mutation testing, is one more caller)
    where = record[0].filename
    assert "_stimulus_traces" not in where
    assert where == __file__ or "mutmut" in where


def test_fit_stimulus_traces_centres_receivers_by_default():
    """By hand: each receiver's mean level removed, the mean of the levels
    added back (receiver a watched both stimuli, b and c only s)."""
    X, y = _two_stimuli()
    constant, traces = fit_stimulus_traces(X, y)
    a = np.concatenate([y[0], y[3]]).mean(axis=0)
    levels = np.array([a, [10.0, 10.0], [-1.0, -1.0]])
    np.testing.assert_allclose(constant, levels.mean(axis=0))
    centred = (y[0] - a + y[1] - levels[1] + y[2] - levels[2]) / 3
    np.testing.assert_allclose(traces["s"], centred + constant)
    np.testing.assert_allclose(traces["t"], y[3] - a + constant)


def test_fit_stimulus_traces_computes_in_float64():
    X, y = _two_stimuli()
    y32 = [(t / 3).astype(np.float32) for t in y]
    for centre in (True, False):
        constant, traces = fit_stimulus_traces(X, y32, centre)
        exact, exact_traces = fit_stimulus_traces(
            X, [t.astype(np.float64) for t in y32], centre)
        assert constant.dtype == np.float64
        np.testing.assert_array_equal(constant, exact)
        for s in ("s", "t"):
            np.testing.assert_array_equal(traces[s], exact_traces[s])


def test_fit_stimulus_traces_keeps_receiver_ids_of_any_type_apart():
    X = DyadicFrames([np.zeros((4, 1))], [np.zeros((4, 1))] * 2, [0, 0], ["e"],
                     ["r"], receivers=[1, "1"], stimuli=["s", "s"])
    y = [np.c_[np.arange(4.0)] + 2.0, np.c_[np.arange(4.0)] + 6.0]
    constant, traces = fit_stimulus_traces(X, y)
    np.testing.assert_allclose(constant, [5.5])  # levels 3.5 and 7.5
    np.testing.assert_allclose(traces["s"][:, 0], [4.0, 5.0, 6.0, 7.0])


def test_fit_stimulus_traces_span_the_longest_recording_of_a_stimulus():
    X, y = _two_stimuli()
    full, head = np.ones(4, bool), np.array([1, 1, 0, 0], bool)
    cut = X.select_frames([full, full, head, np.ones(3, bool)])  # the last of s cut
    y_cut = [y[0], y[1], y[2][:2], y[3]]
    _, traces = fit_stimulus_traces(cut, y_cut, center_receivers=False)
    assert traces["s"].shape == (4, 2)
    np.testing.assert_allclose(traces["s"][:2], (y[0] + y[1] + y[2])[:2] / 3)
    np.testing.assert_allclose(traces["s"][2:], (y[0] + y[1])[2:] / 2)


def test_stimulus_mean_under_leave_receivers_out():
    data = make_impression(8, 2, 20, random_state=0)
    frames = label_rate_frames(data.recordings)
    result = evaluate_protocol(StimulusMeanBaseline(), frames, data.targets,
                               "receivers", n_splits=3)
    # it reads no test signal, yet the shared stimuli carry the impression
    assert min(result.ccc.values()) > 0.3
    constant = evaluate_protocol(ConstantPredictor(), frames, data.targets,
                                 "receivers", n_splits=3)
    assert max(constant.ccc.values()) < 0.05
    # every receiver watched every stimulus: centring changes nothing
    plain = evaluate_protocol(StimulusMeanBaseline(center_receivers=False), frames,
                              data.targets, "receivers", n_splits=3)
    np.testing.assert_allclose(np.concatenate(plain.predictions),
                               np.concatenate(result.predictions))


def test_constant_predictor(frames, data):
    model = ConstantPredictor().fit(frames, data.targets)
    np.testing.assert_allclose(model.constant_,
                               np.concatenate(data.targets).mean(axis=0))
    pred = model.predict(frames)
    assert [p.shape for p in pred] == [t.shape for t in data.targets]
    assert model.predict(data.recordings)[0].shape == data.targets[0].shape


def test_lstm_baseline_windows_cover_every_frame(frames, data):
    model = LSTMBaseline(hidden_size=4, num_layers=1, window=16, hop=8,
                         max_epochs=2, random_state=0).fit(frames, data.targets)
    pred = model.predict(frames)
    assert [p.shape for p in pred] == [t.shape for t in data.targets]
    assert all(np.isfinite(p).all() for p in pred) and len(model.history_) == 2
    again = LSTMBaseline(hidden_size=4, num_layers=1, window=16, hop=8,
                         max_epochs=2, random_state=0).fit(frames, data.targets)
    np.testing.assert_allclose(np.concatenate(again.predict(frames)),
                               np.concatenate(pred), atol=1e-6)


def test_lstm_baseline_pickles_and_validates(frames, data, tmp_path):
    model = LSTMBaseline(hidden_size=4, num_layers=1, max_epochs=1,
                         random_state=0).fit(frames, data.targets)
    joblib.dump(model, tmp_path / "lstm.joblib")
    loaded = joblib.load(tmp_path / "lstm.joblib")
    np.testing.assert_allclose(np.concatenate(loaded.predict(frames)),
                               np.concatenate(model.predict(frames)))
    with pytest.raises(ValueError, match="fewer than window=1000"):
        LSTMBaseline(window=1000).fit(frames, data.targets)
    with pytest.raises(ValueError, match="window"):
        LSTMBaseline(window=0).fit(frames, data.targets)


def test_ablation_rows():
    assert ABLATION_ROWS[:5] == ("full", "no_inter", "no_intra", "no_kd", "no_se")
    assert len(ABLATION_ROWS) == 5 + 6 + 4
    assert ABLATION_ROWS[-3:] == ("ridge", "stimulus_mean", "constant")
    rows = ablation_rows(["receiver.eye", "emitter.audio", "emitter.extra"])
    assert list(rows)[5:8] == ["no_emitter.audio", "no_receiver.eye",
                               "no_emitter.extra"]
    assert rows["no_receiver.eye"] == "(-) eye (R)"
    assert rows["no_emitter.extra"] == "(-) emitter.extra"


def test_run_ablation_tiny(data, tmp_path):
    result = run_ablation(data, protocol="receivers", n_splits=2, epochs=1, seed=0,
                          rows=["no_kd", "no_receiver.physio", "ridge",
                                "stimulus_mean", "constant"],
                          model_params=TINY_NET, data_name="tiny")
    keys = [r["key"] for r in result.rows]
    assert keys == ["full", "no_kd", "no_receiver.physio", "ridge", "stimulus_mean",
                    "constant"]
    full = result.rows[0]
    assert full["delta_competence"] is None
    for row in result.rows[1:]:
        assert row["delta_warmth"] == pytest.approx(row["warmth"] - full["warmth"])
    assert result.protocol == "receivers" and result.epochs == 1
    assert result.data["name"] == "tiny" and result.data["n_recordings"] == 8
    markdown = result.to_markdown()
    assert "(-) physio (R)" in markdown and "Seed: 0; epochs: 1" in markdown
    paths = write_report(result, tmp_path, "ablation")
    payload = json.loads(paths["json"].read_text())
    assert payload["rows"][3]["label"] == "Ridge"
    assert "results" not in payload
    assert paths["markdown"].read_text() == markdown


def test_run_ablation_errors(data):
    with pytest.raises(ValueError, match="unknown ablation row 'no_foo'"):
        run_ablation(data, rows=["no_foo"])
    two = make_impression(2, 1, 4, receiver_channels={"eye": 2, "face": 3},
                          random_state=0)
    with pytest.raises(ValueError, match="unknown ablation row 'no_receiver.physio'"):
        run_ablation(two, rows=["no_receiver.physio"])


def test_plots_write_pngs(tmp_path):
    history = [{"train_kd": 1.0 / e, "valid_kd": 1.1 / e, "train_se": 0.5 / e,
                "valid_se": 0.6 / e} for e in range(1, 4)]
    plot_loss_trends(history, path=tmp_path / "loss.png")
    with pytest.raises(ValueError, match="no 'train_foo' or 'valid_foo'"):
        plot_loss_trends(history, losses=("foo",))
    y = [np.zeros((30, 2)), np.ones((20, 2))]
    fig = plot_traces(y, y, labels=["a", "b"], path=tmp_path / "traces.png")
    assert len(fig.axes) == 4
    plot_receiver_ccc({0: {"competence": 0.3, "warmth": 0.1},
                       1: {"competence": -0.1, "warmth": 0.2}},
                      path=tmp_path / "receivers.png")
    for name in ("loss.png", "traces.png", "receivers.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_markdown_table_and_report_dict(tmp_path):
    table = markdown_table(["a", "b"], [["x", 1.23456]], digits=2)
    assert table.splitlines()[-1] == "| x | 1.23 |"
    paths = write_report({"seed": 1, "value": np.float32(0.5), "nan": float("nan"),
                          "markdown": "# hi\n"}, tmp_path / "sub", "r")
    assert json.loads(paths["json"].read_text()) == {"seed": 1, "value": 0.5,
                                                     "nan": None}
    assert paths["markdown"].read_text() == "# hi\n"


def test_constant_predictor_fitted_on_recordings_predicts_arrays():
    from types import SimpleNamespace

    model = ConstantPredictor().fit([SimpleNamespace(n_frames=3)], [np.ones((3, 2))])
    np.testing.assert_array_equal(model.predict(np.zeros((2, 4))), np.ones((2, 2)))
