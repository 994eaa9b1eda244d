"""Listener adaptation, enrolment of new receivers (adapt), the enrolment protocol."""

import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_impression import (  # noqa: E402
    DyadicFrames,
    ModalityConcatenator,
    Resampler,
    UnknownReceiverWarning,
    make_impression,
)
from sklearn_impression.experiments import (  # noqa: E402
    RidgeBaseline,
    StimulusMeanBaseline,
)
from sklearn_impression.model_selection import (  # noqa: E402
    EnrolmentSplit,
    RecordingGroupKFold,
    adapt_pipeline,
    enrolment_masks,
    evaluate_protocol,
    get_protocol,
    head_seconds,
)
from sklearn_impression.persistence._files import load_model, save_model  # noqa: E402
from sklearn_impression.recordings._flat import flatten  # noqa: E402
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402
from sklearn_impression.regressor._inputs import normalize  # noqa: E402
from sklearn_impression.regressor._net import predict_standardized  # noqa: E402

from _builders import dyadic_frames, label_rate_frames, tiny_net  # noqa: E402

TINY = tiny_net(max_epochs=2)


def _target(r, e, p):
    return np.column_stack([r[:, 0] + e[:, 1] + 2.0 * p, -r[:, 1] - p])


@pytest.fixture(scope="module")
def data():
    """Frames of receivers p0..p3 (40 + 60 frames each), labels at 25 Hz."""
    X, y = dyadic_frames(_target, n_receivers=4, n_frames=(40, 60), seed=0)
    return _with_label_rate(X), y


def _split(data, receivers):
    X, y = data
    idx = [i for i, r in enumerate(X.receivers) if r in receivers]
    return X.subset(idx), [y[i] for i in idx]


def _fit(data, receivers=("p0", "p1"), **params):
    X, y = _split(data, receivers)
    return CrossDomainRegressor(**{**TINY, **params}).fit(X, y)


def _shared_state(model):
    state = {k: v.clone() for k, v in model.net_.module_.state_dict().items()}
    if "listener.weight" in state:  # the trained rows are shared as well
        rows = model.n_fitted_listeners_ + 1
        state["listener.weight"] = state["listener.weight"][:rows]
    return state


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key


def _quiet_predict(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownReceiverWarning)
        return model.predict(X)


# -- listener adaptation ------------------------------------------------------
def test_listener_adaptation_needs_receiver_ids(data, rng):
    X2d = rng.normal(size=(50, 4))
    with pytest.raises(ValueError, match="needs receiver ids.*ndarray has none"):
        CrossDomainRegressor(listener_adaptation=True, **TINY).fit(X2d, X2d[:, :2])
    X, y = data
    blind = X.subset([0, 1])
    blind = type(blind)(blind.emitter_blocks, blind.receiver_blocks,
                        blind.emitter_index, blind.emitter_feature_names,
                        blind.receiver_feature_names, stimuli=blind.stimuli)
    with pytest.raises(ValueError, match="recording 0 .* has receiver=None"):
        CrossDomainRegressor(listener_adaptation=True, **TINY).fit(blind, y[:2])


def test_listener_adaptation_learns_one_vector_per_receiver(data):
    """The vectors learn what tells the receivers apart: their targets differ
    by 2 / -1 per step p0, p1, p2 and nothing in their features says so, so
    the same frames predicted as p0's, p1's and p2's rise in that order on the
    first output and fall on the second."""
    model = _fit(data, ("p0", "p1", "p2"), listener_adaptation=True, max_epochs=6)
    table = model.net_.module_.listener.weight.detach()
    assert model.listener_ids_ == ["p0", "p1", "p2"]
    assert model.n_fitted_listeners_ == 3
    assert table.shape == (4, 2 * TINY["hidden_size"])
    X, _ = _split(data, ("p0",))

    def as_receiver(name):
        renamed = type(X)(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                          X.emitter_feature_names, X.receiver_feature_names,
                          receivers=[name] * len(X), stimuli=X.stimuli)
        return np.concatenate(model.predict(renamed)).mean(axis=0)

    levels = np.array([as_receiver(r) for r in ("p0", "p1", "p2")])
    assert np.all(np.diff(levels[:, 0]) > 0) and np.all(np.diff(levels[:, 1]) < 0)
    # an unknown receiver gets the population row (one warning naming them)
    with pytest.warns(UnknownReceiverWarning) as record:
        population = as_receiver("stranger")
    assert len(record) == 1 and "['stranger']" in str(record[0].message)
    assert not np.allclose(population, levels[0])


def test_unknown_receivers_get_the_population_vector_one_warning(data):
    model = _fit(data, ("p0", "p1"), listener_adaptation=True)
    X, _ = _split(data, ("p2", "p3"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        pred = model.predict(X)
    unknown = [w for w in record if issubclass(w.category, UnknownReceiverWarning)]
    assert len(unknown) == 1
    assert str(unknown[0].message) == (
        "receivers ['p2', 'p3'] have no per-receiver parameters in this model (not "
        "seen in fit, not enrolled with adapt); they get the population listener "
        "vector and no output calibration")
    # Row 0 for every frame: the same as an explicit population row.
    normalized = normalize(X, model.normalize_by, model.listeners_.statistics)
    frames = model.scaler_.transform(flatten(normalized))
    frames.listener = np.zeros(frames.n_frames, dtype=np.int64)
    expected = model.scaler_.inverse_targets(predict_standardized(
        model.net_, frames, window=model.window, hop=model.hop,
        listener_adaptation=True))
    np.testing.assert_allclose(np.concatenate(pred), expected, rtol=1e-6)


def test_model_without_per_receiver_parameters_does_not_warn(data):
    model = _fit(data)
    X, _ = _split(data, ("p2",))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownReceiverWarning)
        model.predict(X)
    assert model.listener_ids_ == [] and model.net_.module_.listener is None


# -- adapt --------------------------------------------------------------------
@pytest.mark.parametrize("listener_adaptation", [False, True])
def test_adapt_changes_only_enrolled_receivers(data, listener_adaptation):
    """Enrolled on their first recording, p2 (targets +4 / -2 from p0's, +2 /
    -1 from p1's) is predicted better on their other recording, which adapt
    never read; p3's predictions and the shared network stay bit-identical."""
    model = _fit(data, listener_adaptation=listener_adaptation)
    X, y = _split(data, ("p2", "p3"))
    mine = [i for i, r in enumerate(X.receivers) if r == "p2"]
    enrol, held = mine[:1], mine[1:]
    before_pred = _quiet_predict(model, X)
    before_state = _shared_state(model)
    model.adapt(X.subset(enrol), [y[i] for i in enrol], calibration="offset",
                lag_range=0)
    _assert_same_state(before_state, _shared_state(model))
    after_pred = _quiet_predict(model, X)
    for i, r in enumerate(X.receivers):
        if r == "p3":
            np.testing.assert_array_equal(after_pred[i], before_pred[i])
    n_fitted = 2 if listener_adaptation else 0
    assert model.listener_ids_[n_fitted:] == ["p2"]

    def error(pred):
        return np.mean([np.abs(pred[i] - y[i]).mean() for i in held])

    assert error(after_pred) < 0.5 * error(before_pred)
    if not listener_adaptation:  # the offset alone: the enrolment's mean residual
        residual = (y[enrol[0]] - before_pred[enrol[0]]).mean(axis=0)
        for i in held:
            np.testing.assert_allclose(after_pred[i] - before_pred[i],
                                       np.broadcast_to(residual, y[i].shape),
                                       rtol=1e-5, atol=1e-5)
        assert residual[0] > 1 and residual[1] < -0.5  # p2 is above, below the crowd


def test_adapt_gain_calibration_is_least_squares(data):
    model = _fit(data)
    X, _ = _split(data, ("p3",))
    raw = model.predict(X)
    # Targets that are an exact affine map of the predictions: recovered exactly.
    y = [np.column_stack([2.5 * p[:, 0] + 3.0, 0.5 * p[:, 1] - 1.0]) for p in raw]
    model.adapt(X, y, calibration="offset+gain", lag_range=0)
    for c, t in zip(model.predict(X), y, strict=True):
        np.testing.assert_allclose(c, t, rtol=1e-4, atol=1e-4)
    # A slope beyond [0.1, 10] is clipped; the offset then matches the means.
    y = [np.column_stack([50.0 * p[:, 0], p[:, 1]]) for p in raw]
    model.adapt(X, y, calibration="offset+gain", lag_range=0)
    calibrated, target = np.concatenate(model.predict(X)), np.concatenate(y)
    stacked = np.concatenate(raw)
    np.testing.assert_allclose(calibrated[:, 0] - calibrated[:, 0].mean(),
                               10.0 * (stacked[:, 0] - stacked[:, 0].mean()),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(calibrated.mean(axis=0), target.mean(axis=0),
                               rtol=1e-5, atol=1e-5)
    # a negative slope is clipped to 0.1
    y = [np.column_stack([-2.0 * p[:, 0], p[:, 1]]) for p in raw]
    model.adapt(X, y, calibration="offset+gain", lag_range=0)
    np.testing.assert_allclose(model.listener_gain_[1], [0.1, 1.0], rtol=1e-6)


def test_adapt_fits_the_vector_of_a_new_receiver_only(data):
    model = _fit(data, listener_adaptation=True)
    table_before = model.net_.module_.listener.weight.detach().clone()
    model.adapt(*_split(data, ("p3",)), calibration="none", lag_range=0)
    table = model.net_.module_.listener.weight.detach()
    assert table.shape[0] == table_before.shape[0] + 1
    assert torch.equal(table[:3], table_before)
    assert not torch.equal(table[3], table_before[0])  # moved from the population
    np.testing.assert_array_equal(model.listener_offset_, 0.0)
    # the offset is fitted on the outputs of the new vector: no bias left
    X, y = _split(data, ("p3",))
    model.adapt(X, y, calibration="offset", lag_range=0)
    bias = np.concatenate(y).mean(axis=0) - np.concatenate(model.predict(X)).mean(
        axis=0)
    np.testing.assert_allclose(bias, 0, atol=1e-5)
    # steps=0 keeps the population vector; "offset" then only shifts outputs.
    model.adapt(*_split(data, ("p3",)), steps=0, lag_range=0)
    assert torch.equal(model.net_.module_.listener.weight[3], table_before[0])
    assert np.abs(model.listener_offset_[3]).sum() > 0


def test_adapt_offset_calibration_is_the_mean_residual(data):
    model = _fit(data)
    X, y = _split(data, ("p3",))
    raw = model.predict(X)
    model.adapt(X, y, calibration="offset", lag_range=0)
    calibrated = model.predict(X)
    residual = np.concatenate(y) - np.concatenate(raw)
    shift = np.concatenate(calibrated) - np.concatenate(raw)
    np.testing.assert_allclose(shift, np.broadcast_to(residual.mean(axis=0),
                                                      shift.shape), atol=1e-5)


def _with_label_rate(X, rate=25.0):
    return DyadicFrames(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                        X.emitter_feature_names, X.receiver_feature_names,
                        X.receivers, X.stimuli, X.emitter_rows, label_rate=rate)


def _delayed_affine(model, X, delay, *, gain, offset):
    """Targets that are the model's own predictions, ``delay`` frames later
    (earlier when negative; one value or one per recording), times ``gain``
    plus ``offset``."""
    from sklearn_impression.regressor._temporal import delay_predictions

    raw = _quiet_predict(model, X)
    return [g * p + o for p, g, o in zip(
        delay_predictions(raw, delay), np.broadcast_to(gain, len(raw)),
        np.broadcast_to(offset, len(raw)), strict=True)]


def test_adapt_finds_each_receivers_reaction_delay(data):
    """Each enrolled receiver gets the extra delay (and calibration) that fits
    their targets; predict applies it to that receiver's recordings only."""
    model = _fit(data)
    X, _ = _split(data, ("p2", "p3"))
    truth = {"p2": (-3, 0.5, 2.0), "p3": (6, 1.5, -1.0)}  # delay, gain, offset
    delay, gain, offset = zip(*(truth[r] for r in X.receivers), strict=True)
    y = _delayed_affine(model, X, list(delay), gain=gain, offset=offset)
    model.adapt(X, y, calibration="offset+gain", lag_range=0.4)  # 10 frames
    for r, (frames, _, _) in truth.items():
        assert model.listener_delay_[model.listener_ids_.index(r) + 1] == frames
    for p, t in zip(model.predict(X), y, strict=True):
        np.testing.assert_allclose(p, t, rtol=1e-4, atol=1e-4)
    # without the search the same targets fit worse
    flat = pickle.loads(pickle.dumps(model)).adapt(X, y, calibration="offset+gain",
                                                     lag_range=0)
    assert not flat.listener_delay_.any()
    err = np.mean([np.abs(p - t).mean() for p, t in
                   zip(flat.predict(X), y, strict=True)])
    assert err > 1e-3  # 10x the tolerance met with the search


def test_adapt_bad_input(data, rng):
    model = _fit(data)
    X, y = _split(data, ("p3",))
    with pytest.raises(ValueError, match="adapt needs receiver ids"):
        model.adapt(rng.normal(size=(50, 5)), rng.normal(size=(50, 2)))
    short = X.subset([0]).select_frames([np.arange(40) < 10])
    with pytest.raises(ValueError, match="at least 25 labelled frames per receiver; "
                                         r"receivers \{'p3': 10\}"):
        model.adapt(short, [y[0][:10]])
    bad = [t.copy() for t in y]
    bad[1][5, 0] = np.nan
    with pytest.raises(ValueError, match="targets of recording 1 .*NaN"):
        model.adapt(X, bad)
    with pytest.raises(ValueError, match="needs the enrolment targets"):
        model.adapt(X, None)
    with pytest.raises(ValueError, match="'calibration' parameter of "
                                         "CrossDomainRegressor.adapt must be a str "
                                         "among .*Got 'gain'"):
        model.adapt(X, y, calibration="gain")
    with pytest.raises(ValueError, match="'lag_range' parameter .* must be a float "
                                         "in the range \\[0.0, inf\\)"):
        model.adapt(X, y, lag_range=-1.0)
    with pytest.raises(ValueError, match="lag_range=2.0 s needs the labels' rate"):
        model.adapt(_with_label_rate(X, None), y)
    with pytest.raises(NotFittedError):
        CrossDomainRegressor().adapt(X, y)
    array_model = CrossDomainRegressor(**TINY).fit(rng.normal(size=(60, 4)),
                                                   rng.normal(size=(60, 2)))
    with pytest.raises(ValueError, match="fitted on a 2-D array"):
        array_model.adapt(X, y)
    assert model.listener_ids_ == []  # nothing half-enrolled


def test_adapt_validates_every_number_by_name(data):
    model = _fit(data)
    X, y = _split(data, ("p3",))
    for name, value in (("steps", -1), ("steps", 2.5), ("lr", -0.1), ("l2", "0.1"),
                        ("lag_range", [1.0])):
        with pytest.raises(ValueError, match=rf"^The '{name}' parameter of "
                                             r"CrossDomainRegressor.adapt must be .* "
                                             rf"Got {re.escape(repr(value))} "
                                             r"instead\.$"):
            model.adapt(X, y, **{name: value})
    assert model.listener_ids_ == []  # checked before any state changed
    with pytest.raises(ValueError, match=r"^adapt needs the enrolment targets y$"):
        model.adapt(X, None)
    with pytest.raises(ValueError, match=r"^adapt needs receiver ids, and a ndarray "
                                         r"has none: pass the DyadicFrames of a "
                                         r"ModalityConcatenator \(built from "
                                         r"Recordings with a receiver id\) instead "
                                         r"of a 2-D array$"):
        model.adapt(np.zeros((30, 5)), np.zeros((30, 2)))
    array_model = CrossDomainRegressor(**TINY).fit(np.zeros((60, 4)),
                                                   np.arange(120.0).reshape(60, 2))
    with pytest.raises(ValueError, match=r"^adapt needs a model fitted on "
                                         r"DyadicFrames \(receiver ids travel with "
                                         r"them\); this one was fitted on a 2-D "
                                         r"array$"):
        array_model.adapt(X, y)
    with pytest.raises(ValueError, match=r"^y has 3 outputs, the model 2$"):
        model.adapt(X, [np.c_[t, t[:, :1]] for t in y])
    # exactly the fewest frames accepted
    first = X.subset([0]).select_frames([np.arange(40) < 25])
    model.adapt(first, [y[0][:25]], lag_range=0)
    assert model.listener_ids_ == ["p3"]


def test_calibrate_with_stimulus_is_least_squares_within_its_bounds():
    """``t ~ gain * p + weight * c + offset`` per output; a gain outside [0.1,
    10] or a weight outside [0, 10] is clipped and the rest fitted again (by
    hand: slopes as covariance over variance)."""
    from sklearn_impression.regressor._calibration import calibrate_with_stimulus

    phase = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    p = 1 + np.sin(phase) + 0.3 * np.cos(phase)  # correlated with c
    c = 2 + np.cos(phase)

    def slope(x, r):
        return np.cov(x, r, bias=True)[0, 1] / x.var()

    def fit(t):
        gain, offset, weight = calibrate_with_stimulus(p[:, None], t[:, None],
                                                        c[:, None])
        return gain[0], weight[0], offset[0]

    np.testing.assert_allclose(fit(2 * p + 3 * c + 1), (2, 3, 1), atol=1e-9)
    for gain, clipped in ((20, 10.0), (10.5, 10.0), (0.01, 0.1)):  # gain clipped
        t = gain * p + 3 * c + 1
        w = slope(c, t - clipped * p)
        np.testing.assert_allclose(fit(t), (clipped, w, np.mean(t - clipped * p
                                                                 - w * c)),
                                   rtol=1e-9)
    for weight, clipped in ((-3, 0.0), (20, 10.0), (10.5, 10.0)):  # weight clipped
        t = 2 * p + weight * c + 1
        g = slope(p, t - clipped * c)
        np.testing.assert_allclose(fit(t), (g, clipped, np.mean(t - g * p
                                                                - clipped * c)),
                                   rtol=1e-9)
    for gain, clipped in ((20, 10.0), (0.01, 0.1)):  # the gain, the weight, the gain
        t = gain * p - 5 * c + 1
        assert slope(c, t - clipped * p) < 0 and not 0.1 <= slope(p, t) <= 10
        np.testing.assert_allclose(fit(t), (clipped, 0.0, np.mean(t - clipped * p)),
                                   rtol=1e-9)


def test_predict_uses_the_stimulus_term_calibration_by_value(crowd):
    """For a recording of a stimulus with a trace, an enrolled receiver's
    prediction is ``(trace_gain * output + trace_offset)`` in target units plus
    ``weight * (trace - target mean)``."""
    X, y, fitted = crowd
    model = pickle.loads(pickle.dumps(fitted))
    model.adapt(X[[6]], y[6:7], calibration="offset+gain+stimulus", lag_range=0)
    row = model.listener_ids_.index(X.receivers[7]) + 1
    assert model.listener_stimulus_[row].any()
    assert not np.allclose(model.listener_trace_gain_[row], model.listener_gain_[row])
    bare = pickle.loads(pickle.dumps(model))
    bare.listener_gain_[row], bare.listener_offset_[row] = 1.0, 0.0
    bare.listener_stimulus_[row] = 0.0  # no term: the network's outputs alone
    scale, mean = model.scaler_.target_scale, model.scaler_.target_mean
    raw = (bare.predict(X[[7]])[0] - mean) / scale
    trace = model.stimulus_traces_[model.stimulus_ids_.index(X.stimuli[7])]
    expected = ((model.listener_trace_gain_[row] * raw
                 + model.listener_trace_offset_[row]) * scale + mean
                + model.listener_stimulus_[row] * (trace - mean))
    np.testing.assert_allclose(model.predict(X[[7]])[0], expected, rtol=1e-6,
                               atol=1e-9)


def test_adapt_keeps_only_the_enrolled_receivers_statistics(data):
    """A context with another receiver's recordings adds no statistics for
    them, and the training receivers keep theirs."""
    model = _fit(data, normalize_by="receiver")
    kept = (list(model.normalization_receivers_),
            model.normalization_means_.copy())
    X_head, y_head, X = _head_and_context(data)
    other, _ = _split(data, ("p2",))
    both = DyadicFrames(X.emitter_blocks + other.emitter_blocks,
                        X.receiver_blocks + other.receiver_blocks,
                        list(X.emitter_index) + [len(X.emitter_blocks) + k for k in
                                                 other.emitter_index],
                        X.emitter_feature_names, X.receiver_feature_names,
                        X.receivers + other.receivers, X.stimuli + other.stimuli,
                        label_rate=X.label_rate)
    model.adapt(X_head, y_head, context=both, lag_range=0)
    assert model.normalization_receivers_ == kept[0] + ["p3"]
    np.testing.assert_array_equal(model.normalization_means_[:len(kept[0])],
                                  kept[1])


def _small_pipeline(seed, **params):
    """Recordings of receivers 0-2, a Pipeline fitted on receivers 0 and 1, and
    the indices of the training and of receiver 2's recordings."""
    data = make_impression(3, 2, 4.0, emitter_channels={"audio": 3, "eye": 2,
                                                        "face": 2},
                           receiver_channels={"eye": 2, "face": 2, "physio": 1},
                           random_state=seed)
    recs, targets = data.recordings, data.targets
    train = [i for i, r in enumerate(recs) if r.receiver != 2]
    new = [i for i, r in enumerate(recs) if r.receiver == 2]
    pipe = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", CrossDomainRegressor(**{**TINY, **params}))])
    pipe.fit([recs[i] for i in train], [targets[i] for i in train])
    return recs, targets, train, new, pipe


def test_adapt_pipeline_on_recordings_cut_from_the_start():
    recs, targets, train, new, pipe = _small_pipeline(0)
    X_head, y_head = head_seconds([recs[i] for i in new], [targets[i] for i in new],
                                  2.0)
    assert [r.n_frames for r in X_head] == [50]
    before = pipe.predict([recs[i] for i in new + train[:1]])
    manual = pickle.loads(pickle.dumps(pipe))
    assert adapt_pipeline(pipe, X_head, y_head) is pipe
    with pytest.warns(UnknownReceiverWarning, match=r"receivers \[0\]"):
        after = pipe.predict([recs[i] for i in new + train[:1]])
    assert not np.allclose(after[0], before[0])
    np.testing.assert_array_equal(after[-1], before[-1])
    manual[-1].adapt(manual[:-1].transform(X_head), y_head)
    for a, b in zip(after, _quiet_predict(manual, [recs[i] for i in new + train[:1]]),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="has no adapt method"):
        adapt_pipeline(Pipeline([("ridge", RidgeBaseline())]), X_head, y_head)


def _head_and_context(data):
    """Receiver p3's first recording (labelled) and both of its recordings, the
    second from a session whose receiver sensors read 3 higher."""
    X, y = _split(data, ("p3",))
    context = _with_receiver_blocks(X, [X.receiver_blocks[0],
                                        X.receiver_blocks[1] + 3.0])
    return X.subset([0]), y[:1], context


def _with_receiver_blocks(X, blocks, names=None):
    """``X`` with other receiver feature blocks (and names)."""
    return DyadicFrames(X.emitter_blocks, blocks, X.emitter_index,
                        X.emitter_feature_names,
                        X.receiver_feature_names if names is None else names,
                        X.receivers, X.stimuli, X.emitter_rows,
                        label_rate=X.label_rate)


def test_adapt_keeps_the_statistics_it_calibrated_in(data):
    """The enrolled receiver's normalisation statistics are fitted at enrolment
    (clip plus context) and kept: the offset leaves predict's outputs for the
    enrolment frames unbiased, with or without context, whatever recordings
    reach predict, and predicting them one at a time equals all together."""
    model = _fit(data, normalize_by="receiver")
    X_head, y_head, X = _head_and_context(data)
    with_context = pickle.loads(pickle.dumps(model)).adapt(
        X_head, y_head, context=X, calibration="offset", lag_range=0)
    alone = model.adapt(X_head, y_head, calibration="offset", lag_range=0)
    for enrolled in (with_context, alone):
        for given in (X, X.subset([0])):
            bias = (y_head[0] - enrolled.predict(given)[0]).mean(axis=0)
            np.testing.assert_allclose(bias, 0, atol=1e-5)
        together = enrolled.predict(X)
        one_by_one = [enrolled.predict(X.subset([i]))[0] for i in range(len(X))]
        for a, b in zip(together, one_by_one, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    # the context's second session (sensors 3 higher) moves the statistics
    k = with_context.normalization_receivers_.index("p3")
    assert not np.allclose(with_context.normalization_means_[k],
                           alone.normalization_means_[k])
    np.testing.assert_allclose(
        alone.normalization_means_[k], X_head.receiver_blocks[0].mean(axis=0),
        rtol=1e-6)
    np.testing.assert_array_equal(with_context.listener_gain_, alone.listener_gain_)
    assert not np.allclose(with_context.listener_offset_, alone.listener_offset_)


@pytest.mark.parametrize("normalize_by", [None, "recording"])
def test_adapt_context_has_no_effect_without_receiver_statistics(data, normalize_by):
    model = _fit(data, normalize_by=normalize_by)
    X_head, y_head, X = _head_and_context(data)
    a = pickle.loads(pickle.dumps(model)).adapt(X_head, y_head, context=X)
    b = model.adapt(X_head, y_head)
    for p, q in zip(a.predict(X), b.predict(X), strict=True):
        np.testing.assert_array_equal(p, q)


def test_adapt_context_bad_input(data, rng):
    model = _fit(data, normalize_by="receiver")
    X_head, y_head, X = _head_and_context(data)
    with pytest.raises(TypeError, match=r"^adapt's context must be DyadicFrames "
                                        r"\(the enrolled receivers' recordings as "
                                        r"predict gets them\), got ndarray$"):
        model.adapt(X_head, y_head, context=rng.normal(size=(50, 8)))
    other, _ = _split(data, ("p2",))
    with pytest.raises(ValueError, match=r"^adapt's context has no recordings of "
                                         r"receivers \['p3'\]: it must hold every "
                                         r"enrolled receiver's recordings$"):
        model.adapt(X_head, y_head, context=other)
    anonymous = DyadicFrames(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                             X.emitter_feature_names, X.receiver_feature_names,
                             stimuli=X.stimuli, label_rate=X.label_rate)
    with pytest.raises(ValueError, match=r"^adapt's context needs receiver ids, but "
                                         r"recording 0 "):
        model.adapt(X_head, y_head, context=anonymous)
    narrow = _with_receiver_blocks(X, [b[:, :-1] for b in X.receiver_blocks],
                                   X.receiver_feature_names[:-1])
    with pytest.raises(ValueError, match="adapt's context has .* receiver features"):
        model.adapt(X_head, y_head, context=narrow)
    holes = [b.copy() for b in X.receiver_blocks]
    holes[1][3, 0] = np.nan
    gappy = _with_receiver_blocks(X, holes)
    with pytest.raises(ValueError, match=r"adapt's context: receiver features of "
                                         r"recording 1 .* NaN or inf \(first at "
                                         r"frame 3, feature 0\)"):
        model.adapt(X_head, y_head, context=gappy)
    assert model.listener_ids_ == []  # nothing half-enrolled


def test_adapt_pipeline_transforms_the_context():
    recs, targets, _, new, pipe = _small_pipeline(1, normalize_by="receiver")
    new, y_new = [recs[i] for i in new], [targets[i] for i in new]
    X_head, y_head = head_seconds(new, y_new, 2.0)
    manual = pickle.loads(pickle.dumps(pipe))
    adapt_pipeline(pipe, X_head, y_head, context=new, calibration="offset+gain")
    manual[-1].adapt(manual[:-1].transform(X_head), y_head,
                     context=manual[:-1].transform(new), calibration="offset+gain")
    np.testing.assert_array_equal(pipe[-1].listener_offset_,
                                  manual[-1].listener_offset_)
    own = pickle.loads(pickle.dumps(manual))
    adapt_pipeline(own, X_head, y_head, calibration="offset+gain")
    assert not np.array_equal(own[-1].listener_offset_, manual[-1].listener_offset_)


@pytest.mark.parametrize("how", ["pickle", "joblib", "save_model"])
def test_round_trips_keep_enrolled_receivers(data, how, tmp_path):
    model = _fit(data, listener_adaptation=True)
    X_new, _ = _split(data, ("p3",))
    y_new = _delayed_affine(model, X_new, 4, gain=2.0, offset=1.0)
    model.adapt(X_new, y_new, calibration="offset+gain", lag_range=0.4)
    assert model.listener_delay_.tolist() == [0, 0, 0, 4]
    assert model.listener_delay_.dtype == np.int64  # whole label frames
    X, _ = _split(data, ("p2", "p3"))
    expected = _quiet_predict(model, X)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(model))
    elif how == "joblib":
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        buffer.seek(0)
        loaded = joblib.load(buffer)
    else:
        save_model(model, tmp_path / "model.safetensors")
        loaded = load_model(tmp_path / "model.safetensors")
    assert loaded.listener_ids_ == ["p0", "p1", "p3"]
    np.testing.assert_array_equal(loaded.listener_gain_, model.listener_gain_)
    np.testing.assert_array_equal(loaded.listener_delay_, model.listener_delay_)
    for a, b in zip(_quiet_predict(loaded, X), expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# -- the stimulus term of adapt ---------------------------------------------------
def _crowd_data(stimuli=(0, 1) * 4):
    """Receivers a, b, c annotate what their stimulus does (plus noise), from
    features that carry nothing; receiver n annotates 3x that, plus 2."""
    rng = np.random.default_rng(0)
    t = np.arange(200) / 25
    signal = [np.c_[np.sin(t / 1.3), np.cos(t / 0.9)],
              np.c_[np.sin(t / 0.7 + 1), np.cos(t / 1.7)]]
    receivers = ["a", "a", "b", "b", "c", "c", "n", "n"]
    X = DyadicFrames([rng.normal(size=(200, 3)) for _ in range(2)],
                     [rng.normal(size=(200, 2)) for _ in receivers], [0, 1] * 4,
                     ["e0", "e1", "e2"], ["r0", "r1"], receivers=receivers,
                     stimuli=list(stimuli), label_rate=25.0)
    y = [signal[k % 2] + 0.1 * rng.normal(size=(200, 2)) for k in range(6)]
    y += [3 * signal[0] + 2, 3 * signal[1] + 2]
    return X, y


@pytest.fixture(scope="module")
def crowd():
    X, y = _crowd_data()
    return X, y, CrossDomainRegressor(**TINY).fit(X[:6], y[:6])


def test_fit_keeps_each_stimulus_trace(crowd):
    X, y, model = crowd
    assert model.stimulus_ids_ == [0, 1]
    for k, trace in zip(model.stimulus_ids_, model.stimulus_traces_, strict=True):
        np.testing.assert_allclose(trace, np.mean(y[k:6:2], axis=0), atol=1e-12)
    assert model.listener_stimulus_.shape == (1, 2)
    assert not model.listener_stimulus_.any()


def test_adapt_weighs_the_stimulus_trace_per_receiver(crowd):
    """A new receiver who follows the crowd 3x (features useless) is predicted on
    a stimulus after enrolment on the other one; an offset (and gain) cannot."""
    from sklearn_impression.metrics import ccc_score

    X, y, fitted = crowd
    scores = {}
    for calibration in ("offset", "offset+gain", "offset+gain+stimulus"):
        model = pickle.loads(pickle.dumps(fitted))
        model.adapt(X[[6]], y[6:7], calibration=calibration, lag_range=0,
                    context=X[[6, 7]])
        scores[calibration] = ccc_score(y[7], model.predict(X[[7]])[0])
    assert scores["offset+gain+stimulus"] > 0.95
    assert max(scores["offset"], scores["offset+gain"]) < 0.5
    np.testing.assert_allclose(model.listener_stimulus_[1], 3.0, atol=0.4)
    assert not model.listener_stimulus_[0].any()
    # other receivers keep their predictions
    np.testing.assert_allclose(_quiet_predict(model, X[[0]])[0],
                               _quiet_predict(fitted, X[[0]])[0], rtol=1e-6)


@pytest.mark.parametrize("how", ["joblib", "save_model"])
def test_round_trips_keep_the_stimulus_term(crowd, how, tmp_path):
    X, y, fitted = crowd
    model = pickle.loads(pickle.dumps(fitted))
    model.adapt(X[[6]], y[6:7], calibration="offset+gain+stimulus", lag_range=0)
    if how == "joblib":
        joblib.dump(model, tmp_path / "m.joblib")
        loaded = joblib.load(tmp_path / "m.joblib")
    else:
        save_model(model, tmp_path / "m.safetensors")
        loaded = load_model(tmp_path / "m.safetensors")
    assert loaded.stimulus_ids_ == [0, 1]
    np.testing.assert_array_equal(loaded.listener_stimulus_, model.listener_stimulus_)
    np.testing.assert_allclose(loaded.predict(X[[7]])[0], model.predict(X[[7]])[0],
                               rtol=1e-6, atol=1e-6)


def test_stimulus_term_is_fitted_on_the_recordings_with_a_trace(crowd):
    """Enrolled on a seen and an unseen stimulus, the stimulus-term
    calibration is the one fitted on the seen stimulus's recording alone; the
    no-trace calibration reads both."""
    X, y, fitted = crowd
    X_mixed, _ = _crowd_data(stimuli=[0, 1, 0, 1, 0, 1, 0, "new"])
    both, alone = (pickle.loads(pickle.dumps(fitted)) for _ in range(2))
    both.adapt(X_mixed[[6, 7]], y[6:8], calibration="offset+gain+stimulus",
               lag_range=0)
    alone.adapt(X_mixed[[6]], y[6:7], calibration="offset+gain+stimulus",
                lag_range=0)
    for name in ("listener_trace_gain_", "listener_trace_offset_",
                 "listener_stimulus_"):
        np.testing.assert_allclose(getattr(both, name), getattr(alone, name),
                                   rtol=1e-6, atol=1e-9)
    assert not np.allclose(both.listener_offset_, alone.listener_offset_)


def test_stimulus_term_without_traces_is_offset_and_gain(crowd):
    """Fitted without stimulus ids, the stimulus calibration is offset and gain
    alone; predicting a stimulus never seen uses the no-trace calibration,
    checked by value against a model whose stimulus-term calibration is gone."""
    X, y, _ = crowd
    X_none, _ = _crowd_data(stimuli=[None] * 8)
    model = CrossDomainRegressor(**TINY).fit(X_none[:6], y[:6])
    assert model.stimulus_ids_ == [] and model.stimulus_traces_ == []
    plain = pickle.loads(pickle.dumps(model))
    plain.adapt(X_none[[6]], y[6:7], calibration="offset+gain", lag_range=0)
    model.adapt(X_none[[6]], y[6:7], calibration="offset+gain+stimulus",
                lag_range=0)
    for name in ("listener_gain_", "listener_offset_", "listener_trace_gain_",
                 "listener_trace_offset_"):
        np.testing.assert_allclose(getattr(model, name), plain.listener_gain_
                                   if "gain" in name else plain.listener_offset_,
                                   rtol=1e-5, atol=1e-6)
    assert not model.listener_stimulus_.any()
    # an enrolled receiver watching a stimulus unseen in training
    _, _, fitted = crowd
    enrolled = pickle.loads(pickle.dumps(fitted))
    enrolled.adapt(X[[6]], y[6:7], calibration="offset+gain+stimulus", lag_range=0)
    row = enrolled.listener_ids_.index(X.receivers[6]) + 1
    assert enrolled.listener_stimulus_[row].any()
    assert not np.allclose(enrolled.listener_trace_gain_[row],
                           enrolled.listener_gain_[row])
    X_new, _ = _crowd_data(stimuli=[0, 1, 0, 1, 0, 1, 0, "new"])
    no_term = pickle.loads(pickle.dumps(enrolled))
    no_term.listener_stimulus_[row] = 0.0
    no_term.listener_trace_gain_[row] = 123.0  # unused without the term
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the no-trace calibration
        new = enrolled.predict(X_new[[7]])[0]
    np.testing.assert_allclose(new, no_term.predict(X_new[[7]])[0], rtol=1e-12)
    # a seen stimulus uses the stimulus-term calibration instead
    assert not np.allclose(enrolled.predict(X[[7]])[0], no_term.predict(X[[7]])[0])
    # and the no-trace calibration by value: the network's outputs, calibrated
    bare = pickle.loads(pickle.dumps(enrolled))
    bare.listener_gain_[row], bare.listener_offset_[row] = 1.0, 0.0
    scale = enrolled.scaler_.target_scale
    mean = enrolled.scaler_.target_mean
    raw = (bare.predict(X_new[[7]])[0] - mean) / scale
    expected = (enrolled.listener_gain_[row] * raw
                + enrolled.listener_offset_[row]) * scale + mean
    np.testing.assert_allclose(new, expected, rtol=1e-6, atol=1e-9)


def test_auto_calibration_uses_the_stimulus_term_when_fit_had_stimuli(crowd):
    """"auto": offset and gain with the stimulus term where a trace exists, the
    offset alone where none does."""
    X, y, fitted = crowd
    X_none, _ = _crowd_data(stimuli=[None] * 8)
    without = CrossDomainRegressor(**TINY).fit(X_none[:6], y[:6])
    names = ("listener_gain_", "listener_offset_", "listener_stimulus_",
             "listener_trace_gain_", "listener_trace_offset_")
    auto = pickle.loads(pickle.dumps(without)).adapt(X_none[[6]], y[6:7],
                                                     lag_range=0)
    offset = pickle.loads(pickle.dumps(without)).adapt(
        X_none[[6]], y[6:7], calibration="offset", lag_range=0)
    for name in names:
        np.testing.assert_array_equal(getattr(auto, name), getattr(offset, name))
    auto = pickle.loads(pickle.dumps(fitted)).adapt(X[[6]], y[6:7], lag_range=0)
    full = pickle.loads(pickle.dumps(fitted)).adapt(
        X[[6]], y[6:7], calibration="offset+gain+stimulus", lag_range=0)
    offset = pickle.loads(pickle.dumps(fitted)).adapt(
        X[[6]], y[6:7], calibration="offset", lag_range=0)
    for name in names[2:]:
        np.testing.assert_array_equal(getattr(auto, name), getattr(full, name))
    for name in names[:2]:
        np.testing.assert_array_equal(getattr(auto, name), getattr(offset, name))
    assert np.all(auto.listener_gain_ == 1.0)


def test_models_from_before_the_stimulus_term_still_predict(crowd):
    """Unpickling fills what later versions added (one upgrade step)."""
    X, y, fitted = crowd
    state = dict(fitted.__getstate__())  # a copy: it can be the live __dict__
    state.update(state.pop("listeners_").attributes())  # attributes, as then
    for name in ("listener_stimulus_", "stimulus_ids_", "stimulus_traces_",
                 "listener_trace_gain_", "listener_trace_offset_",
                 "normalization_receivers_", "normalization_means_",
                 "normalization_scales_", "emitter_dropout", "validation_groups"):
        del state[name]
    old = CrossDomainRegressor.__new__(CrossDomainRegressor)
    old.__setstate__(state)
    assert old.validation_groups == "recording" and old.emitter_dropout == 0.0
    assert old.normalization_receivers_ == [] and old.stimulus_ids_ == []
    np.testing.assert_array_equal(old.listener_trace_gain_, fitted.listener_gain_)
    old.adapt(X[[6]], y[6:7], calibration="offset", lag_range=0)
    assert old.listener_stimulus_.shape == (2, 2)


# -- adapt with the default parameters (class and adapt defaults) -----------------
DEFAULTS = dict(hidden_size=4, num_layers=1, num_heads=2, fc_size=4, max_epochs=2,
                random_state=0)  # CCC, receiver statistics, 2.2 s delay, 2 s smoothing


@pytest.fixture(scope="module")
def crowd_defaults():
    X, y = _crowd_data()
    return X, y, CrossDomainRegressor(**DEFAULTS).fit(X[:6], y[:6])


def test_adapt_defaults_recover_an_offset_on_new_content(crowd_defaults):
    """New content (stimuli without a training trace), every adapt default:
    targets that are the model's own predictions plus (4, -2) are met exactly,
    with no extra delay (the search's ties go to the smallest shift); the
    offset is stored in standardised units; nobody else moves."""
    _, _, fitted = crowd_defaults
    X, _ = _crowd_data(stimuli=[0, 1, 0, 1, 0, 1, "new", "other"])
    model = pickle.loads(pickle.dumps(fitted))
    assert (model.label_delay_frames_, model.smoothing_frames_) == (55, 50)
    before = _quiet_predict(model, X[[6, 7]])
    others = [model.predict(X[[i]])[0] for i in range(6)]  # by fit's statistics
    state = _shared_state(model)
    y_new = [p + [4.0, -2.0] for p in before]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about
        model.adapt(X[[6, 7]], y_new)
    _assert_same_state(state, _shared_state(model))
    assert model.listener_ids_ == ["n"] and model.listener_delay_.tolist() == [0, 0]
    np.testing.assert_allclose(model.listener_offset_[1] * model.scaler_.target_scale,
                               [4.0, -2.0], rtol=1e-6)
    np.testing.assert_array_equal(model.listener_gain_[1], 1.0)  # "auto": offset
    assert not model.listener_stimulus_.any()
    for p, t in zip(model.predict(X[[6, 7]]), y_new, strict=True):
        np.testing.assert_allclose(p, t, rtol=1e-6, atol=1e-6)
    for i, b in enumerate(others):
        np.testing.assert_array_equal(_quiet_predict(model, X[[i]])[0], b)


def test_adapt_defaults_weigh_the_crowd_on_seen_content(crowd_defaults):
    """Every default: a receiver who follows the crowd 3x plus 2 (features
    useless), enrolled on one stimulus, is predicted on the other, which adapt
    never read, far better than before; the weight of the trace is about 3."""
    from sklearn_impression.metrics import ccc_score

    X, y, fitted = crowd_defaults
    model = pickle.loads(pickle.dumps(fitted))
    before = ccc_score(y[7], _quiet_predict(model, X[[7]])[0])
    model.adapt(X[[6]], y[6:7], context=X[[6, 7]])
    after = ccc_score(y[7], model.predict(X[[7]])[0])
    assert after > 0.9 and after > before + 0.3
    np.testing.assert_allclose(model.listener_stimulus_[1], 3.0, atol=0.5)
    assert abs(model.listener_delay_[1]) <= 50  # within lag_range=2 s
    # the no-trace calibration is the offset alone ("auto")
    np.testing.assert_array_equal(model.listener_gain_[1], 1.0)
    np.testing.assert_allclose(_quiet_predict(model, X[[0]])[0],
                               _quiet_predict(fitted, X[[0]])[0], rtol=1e-12)


# -- head_seconds and the protocol -----------------------------------------------
def test_head_seconds_cuts_recordings_in_order():
    data = make_impression(2, 3, 2.0, random_state=0)  # 50 frames a recording
    X_head, y_head = head_seconds(data.recordings, data.targets, 3.0)
    assert [(r.receiver, r.stimulus, r.n_frames) for r in X_head] == [
        (0, 0, 50), (0, 1, 25), (1, 0, 50), (1, 1, 25)]
    np.testing.assert_array_equal(y_head[1], data.targets[1][:25])
    cut = X_head[1].streams["receiver.eye"]
    full = data.recordings[1].streams["receiver.eye"]
    assert cut.n_samples == round(1.0 * full.rate)
    np.testing.assert_array_equal(cut.values, full.values[:cut.n_samples])
    # Emitter streams of one stimulus stay shared between the cut recordings.
    assert (X_head[1].streams["emitter.audio"]
            is X_head[3].streams["emitter.audio"])
    frames = label_rate_frames(data.recordings)
    F_head, Fy_head = head_seconds(frames, data.targets, 3.0)
    assert list(F_head.frame_counts) == [50, 25, 50, 25]
    with pytest.raises(ValueError, match="enrol_seconds must be a positive"):
        head_seconds(frames, data.targets, 0)


def test_get_protocol_receivers_enrol():
    proto = get_protocol("receivers+enrol", 3, enrol_seconds=30)
    assert isinstance(proto, EnrolmentSplit)
    assert (proto.name, proto.n_splits, proto.enrol_seconds) == (
        "receivers+enrol", 3, 30)
    assert "first 30 s of each test receiver" in proto.description


class _ZeroModel(RegressorMixin, BaseEstimator):
    """Predicts 0; remembers what it was given."""

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return [np.zeros((n, 2)) for n in X.frame_counts]


class _AdaptSpy(_ZeroModel):
    def adapt(self, X, y):
        self.adapt_targets_ = [np.array(t) for t in y]
        self.adapt_receivers_ = list(X.receivers)
        return self


class _ContextSpy(_ZeroModel):
    def adapt(self, X, y, context=None):
        self.context_counts_ = list(zip(context.receivers, context.frame_counts,
                                        strict=True))
        return self


def test_enrolment_protocol_passes_the_test_recordings_as_context(data):
    """adapt sees the whole test recordings' features (what predict normalises
    with) and only the enrolment frames' targets."""
    X, y = data
    result = evaluate_protocol(_ContextSpy(), X, y, "receivers+enrol", n_splits=2,
                               enrol_seconds=1.6, return_estimators=True)
    for est, (_, test) in zip(result.estimators,
                              RecordingGroupKFold("receiver", 2).split(X),
                              strict=True):
        assert est.context_counts_ == [(X.receivers[i], X.frame_counts[i])
                                       for i in test]


class _ReceiverLevel(_ZeroModel):
    """Transductive: predicts each receiver's mean first feature over everything
    passed together (what a per-receiver normaliser's statistics depend on)."""

    def predict(self, X):
        level = {}
        for r, block in zip(X.receivers, X.receiver_blocks, strict=True):
            level.setdefault(r, []).append(block[:, 0])
        level = {r: np.concatenate(v).mean() for r, v in level.items()}
        return [np.full((n, 2), level[r])
                for r, n in zip(X.receivers, X.frame_counts, strict=True)]


def test_enrolment_protocol_offsets_what_is_scored_for_a_model_without_adapt(data):
    """The offset of a model without adapt is its error on the enrolment frames
    of the predictions that are scored: the whole test recordings', not the
    enrolment seconds' alone (which a transductive step sees differently)."""
    X, _ = data
    y = [np.full((n, 2), 5.0) for n in X.frame_counts]  # every receiver reads 5
    result = evaluate_protocol(_ReceiverLevel(), X, y, "receivers+enrol",
                               n_splits=2, enrol_seconds=1.6)
    scored = [p for p in result.predictions if p is not None]
    assert len(scored) == len(X) // 2  # the 40-frame ones are wholly enrolment
    for pred in scored:
        np.testing.assert_allclose(pred, 5.0, rtol=1e-6)
    # the enrolment seconds alone have another level than the whole recordings
    head, _ = head_seconds(X, y, 1.6)
    assert not np.allclose(_ReceiverLevel().predict(head)[0],
                           _ReceiverLevel().predict(X)[0][:40])


@pytest.mark.parametrize("model", [_AdaptSpy(), _ZeroModel()])
def test_enrolment_never_reads_the_scored_frames(data, model):
    X, y = data
    seconds = 1.6  # 40 frames: the first recording (40 frames) of every receiver
    masks = enrolment_masks(X, seconds)
    poisoned = [np.where(m[:, None], t, 1e12) for t, m in zip(y, masks, strict=True)]
    result = evaluate_protocol(model, X, poisoned, "receivers+enrol", n_splits=2,
                               enrol_seconds=seconds, return_estimators=True)
    assert result.protocol == "receivers+enrol"
    for fold in result.folds:
        assert fold["n_enrol_frames"] == 2 * 40  # two test receivers a fold
    for i, (m, idx) in enumerate(zip(masks, result.frame_indices, strict=True)):
        if m.all():  # wholly enrolment: never scored
            assert idx is None and result.predictions[i] is None
            continue
        np.testing.assert_array_equal(idx, np.flatnonzero(~m))
        assert np.abs(result.predictions[i]).max() < 1e3  # nothing poisoned
    if isinstance(model, _AdaptSpy):
        for est in result.estimators:
            assert all(np.abs(t).max() < 1e3 for t in est.adapt_targets_)
            assert sum(t.shape[0] for t in est.adapt_targets_) == 80
    else:  # the zero model is offset by the mean of each receiver's head
        for i, idx in enumerate(result.frame_indices):
            r = X.receivers[i]
            head = np.concatenate([t[m] for t, m, q in
                                   zip(y, masks, X.receivers, strict=True)
                                   if q == r])
            if idx is not None:
                np.testing.assert_allclose(result.predictions[i],
                                           np.broadcast_to(head.mean(axis=0),
                                                           (idx.size, 2)),
                                           rtol=1e-5)


def test_enrol_protocol_with_the_network_is_fit_adapt_predict_by_hand(data):
    """Each fold: fit on the training receivers, adapt on the test receivers'
    first 1.2 s (the whole test recordings as context), predict the test
    recordings; the protocol scores those predictions after the enrolment
    frames, and its CCC is theirs."""
    from sklearn.base import clone

    from sklearn_impression.metrics import ccc_score

    X, y = data
    result = evaluate_protocol(CrossDomainRegressor(**TINY), X, y, "receivers+enrol",
                               n_splits=2, enrol_seconds=1.2)
    masks = enrolment_masks(X, 1.2)
    for train, test in RecordingGroupKFold("receiver", 2).split(X):
        model = clone(CrossDomainRegressor(**TINY)).fit(
            X.subset(train), [y[i] for i in train])
        X_test, y_test = X.subset(test), [y[i] for i in test]
        model.adapt(*head_seconds(X_test, y_test, 1.2), context=X_test)
        for i, pred in zip(test, model.predict(X_test), strict=True):
            np.testing.assert_array_equal(result.frame_indices[i],
                                          np.flatnonzero(~masks[i]))
            np.testing.assert_array_equal(result.predictions[i], pred[~masks[i]])
    assert sum(f["n_test_frames"] for f in result.folds) == X.n_frames - 4 * 30
    assert [f["n_enrol_frames"] for f in result.folds] == [2 * 30, 2 * 30]
    expected = ccc_score([y[i][~m] for i, m in enumerate(masks)],
                         result.predictions, multioutput="raw_values")
    np.testing.assert_allclose(list(result.ccc.values()), expected, rtol=1e-12)
    assert result.estimators is None


# -- poisoned labels through the public protocols, real models --------------------
ENROL_SECONDS = 4.0


@pytest.fixture(scope="module")
def sessions():
    """Recordings of 4 receivers x 2 stimuli x 8 s (200 frames at 25 Hz)."""
    data = make_impression(4, 2, 8.0, emitter_channels={"audio": 3, "eye": 2,
                                                        "face": 2},
                           receiver_channels={"eye": 2, "face": 2, "physio": 1},
                           random_state=0)
    return data.recordings, data.targets


def _real_pipeline(kind):
    final = (CrossDomainRegressor(hidden_size=4, num_heads=2, max_epochs=1,
                                  random_state=0)
             if kind == "network" else StimulusMeanBaseline())
    return Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                     ("model", final)])


def _post_enrolment_poisoned(recordings, targets, protocol):
    """Targets with every label of fold 1's test receivers set to 1e6, except
    the enrolment frames the protocol gives to adapt; the other labels (those
    fold 1 trains on) clean. Returns them, the same with the enrolment frames
    shifted by 1 as well, and fold 1's test indices."""
    proto = get_protocol(protocol, 2, enrol_seconds=ENROL_SECONDS)
    train, test = next(iter(proto.split(recordings)))
    if protocol == "receivers+enrol":
        enrol = dict(zip(test, enrolment_masks([recordings[i] for i in test],
                                               ENROL_SECONDS), strict=True))
    else:  # calibration recordings: the test receivers on training stimuli
        cal = proto.calibration_indices(recordings, train, test)
        enrol = dict(zip(cal, enrolment_masks([recordings[i] for i in cal],
                                              ENROL_SECONDS), strict=True))
    tested = {recordings[i].receiver for i in test}
    poisoned, shifted = [], []
    for i, (rec, t) in enumerate(zip(recordings, targets, strict=True)):
        keep = enrol.get(i, np.zeros(len(t), dtype=bool))
        mine = rec.receiver in tested
        poisoned.append(np.where(keep[:, None], t, 1e6) if mine else t)
        shifted.append(np.where(keep[:, None], t + 1.0, 1e6) if mine else t)
    assert not any(np.any(poisoned[i] != targets[i]) for i in train)
    return poisoned, shifted, test


ENROLMENT_STATE = ("listener_ids_", "listener_gain_", "listener_offset_",
                   "listener_delay_", "listener_stimulus_", "listener_trace_gain_",
                   "listener_trace_offset_", "normalization_receivers_",
                   "normalization_means_", "normalization_scales_")


@pytest.mark.parametrize("kind", ["network", "stimulus_mean"])
@pytest.mark.parametrize("protocol", ["receivers+enrol", "receivers+stimuli+enrol"])
def test_enrolment_protocols_never_read_post_enrolment_labels(sessions, protocol,
                                                              kind):
    """Only the test receivers' labels after (or besides) their enrolment
    seconds are poisoned: that fold's predictions and everything fitted at
    enrolment are bit-identical to the clean run's; only its scores move."""
    recordings, targets = sessions
    poisoned, shifted, test = _post_enrolment_poisoned(recordings, targets, protocol)
    with warnings.catch_warnings():  # the stimulus mean on unseen stimuli
        warnings.filterwarnings("ignore", "StimulusMeanBaseline has no training")
        clean, dirty, moved = (
            evaluate_protocol(_real_pipeline(kind), recordings, t, protocol,
                              n_splits=2, enrol_seconds=ENROL_SECONDS,
                              return_estimators=True)
            for t in (targets, poisoned, shifted))
    for i in test:
        np.testing.assert_array_equal(dirty.predictions[i], clean.predictions[i])
        assert (clean.frame_indices[i] is None) == (dirty.frame_indices[i] is None)
    a, b = clean.estimators[0][-1], dirty.estimators[0][-1]
    if kind == "network":
        assert a.listener_ids_ == sorted({recordings[i].receiver for i in test})
        for name in ENROLMENT_STATE:
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), name)
    else:
        np.testing.assert_array_equal(b.constant_, a.constant_)
        assert b.traces_.keys() == a.traces_.keys()
    assert clean.fold_ccc[0] != dirty.fold_ccc[0]  # the poison reached the scores
    # not vacuous: the enrolment frames' labels do move the predictions
    for i in test:
        assert not np.allclose(moved.predictions[i], clean.predictions[i])


def test_module_listener_vectors_enter_after_the_receiver_lstm():
    from sklearn_impression.nn import CrossDomainModule

    torch.manual_seed(0)
    net = CrossDomainModule(3, 2, hidden_size=4, num_heads=2, num_layers=1,
                            n_listeners=2).eval()
    assert tuple(net.listener.weight.shape) == (3, 8)
    with torch.no_grad():
        net.listener.weight.copy_(torch.randn(3, 8))
    e, r = torch.randn(5, 4, 3), torch.randn(5, 4, 2)
    rows = torch.tensor([0, 1, 2, 1, 0])[:, None].expand(5, 4)
    y, _ = net(e, r, listener=rows)
    z_e, z_r = net.encode(e, r)
    expected = net.decode(z_e, (z_r + net.listener.weight[rows]) / 2)[0]
    torch.testing.assert_close(y, expected)
    # No listener index: the population row for everyone.
    torch.testing.assert_close(net(e, r)[0], net(e, r, listener=0 * rows)[0])
    assert CrossDomainModule(3, 2, hidden_size=4, num_heads=2).listener is None


def test_enrolment_protocol_refuses_seconds_that_leave_nothing_to_score():
    from sklearn_impression.experiments import ConstantPredictor

    rng = np.random.default_rng(0)
    X = DyadicFrames([rng.normal(size=(50, 2))], [rng.normal(size=(50, 1))] * 4,
                     [0] * 4, ["e0", "e1"], ["r0"], receivers=list("abcd"),
                     stimuli=[0] * 4, label_rate=25.0)
    y = [rng.normal(size=(50, 2)) for _ in range(4)]
    with pytest.raises(ValueError, match="enrol_seconds=2 leaves no frame to score "
                                         "in fold 1"):
        evaluate_protocol(ConstantPredictor(), X, y, "receivers+enrol",
                          n_splits=2, enrol_seconds=2.0)


def test_enrolment_masks_use_the_frames_label_rate():
    X = DyadicFrames([np.zeros((30, 1))], [np.zeros((30, 1))], [0], ["e"], ["r"],
                     receivers=["a"], label_rate=10.0)
    assert enrolment_masks(X, 1.0)[0].sum() == 10
    no_rate = DyadicFrames([np.zeros((30, 1))], [np.zeros((30, 1))], [0], ["e"],
                           ["r"], receivers=["a"])
    with pytest.raises(ValueError, match="enrolment seconds need the labels' rate"):
        enrolment_masks(no_rate, 1.0)


def test_the_unknown_receiver_warning_points_at_the_callers_line(data):
    model = _fit(data, ("p0", "p1"), listener_adaptation=True)
    X, _ = _split(data, ("p2",))
    with pytest.warns(UnknownReceiverWarning) as record:
        model.predict(X)
    # the user's line, not the package's (mutmut runs a copy of the tests)
    assert record[0].filename == __file__ or "mutants" in record[0].filename
