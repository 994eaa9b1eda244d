"""Tests of the new-people options: ReceiverNormalizer, label delay, smoothing,
the paper preset and DyadicFrames.label_rate."""

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from sklearn_impression import DyadicFrames, ReceiverNormalizer
from sklearn_impression.datasets import make_impression
from sklearn_impression.regressor._temporal import (
    delay_frames,
    delay_predictions,
    delay_targets,
    smooth_traces,
)

from _builders import dyadic_frames, label_rate_frames, tiny_net


def _frames(label_rate=25.0):
    X, y = dyadic_frames(lambda r, e, p: np.column_stack([r[:, 0] + p, e[:, 0]]),
                         n_stimuli=2, n_receivers=3, n_frames=(40, 55), seed=0)
    return (DyadicFrames(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                         X.emitter_feature_names, X.receiver_feature_names,
                         X.receivers, X.stimuli, label_rate=label_rate), y)


# -- DyadicFrames.label_rate ---------------------------------------------------
def test_label_rate_filled_by_concatenator_and_kept_by_subsets():
    data = make_impression(2, 1, 2, frame_rate=10.0, random_state=0)
    X = label_rate_frames(data.recordings)
    assert X.label_rate == 10.0
    assert X[[1]].label_rate == 10.0
    assert X.select_frames([np.arange(5), np.arange(3)]).label_rate == 10.0
    assert ReceiverNormalizer().fit_transform(X).label_rate == 10.0


def test_label_rate_none_when_recordings_differ_and_bad_rate_raises():
    a = make_impression(1, 1, 2, frame_rate=10.0, random_state=0).recordings
    b = make_impression(1, 1, 2, frame_rate=20.0, random_state=0).recordings
    assert label_rate_frames(a + b).label_rate is None
    X, _ = _frames()
    with pytest.raises(ValueError, match="label_rate must be a positive"):
        DyadicFrames(X.emitter_blocks, X.receiver_blocks, X.emitter_index,
                     X.emitter_feature_names, X.receiver_feature_names,
                     label_rate=-1.0)


# -- ReceiverNormalizer --------------------------------------------------------
@pytest.mark.parametrize("by", ["receiver", "recording"])
def test_receiver_normalizer_standardises_each_group(by):
    X, _ = _frames()
    out = ReceiverNormalizer(by=by).fit(X).transform(X)
    groups = ({r: [i for i, q in enumerate(X.receivers) if q == r]
               for r in set(X.receivers)}.values() if by == "receiver"
              else [[i] for i in range(len(X))])
    for members in groups:
        stacked = np.vstack([out.receiver_blocks[i] for i in members])
        np.testing.assert_allclose(stacked.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(stacked.std(axis=0), 1, atol=1e-4)
    # the stimulus is nobody's person: emitter blocks pass through, shared
    assert all(a is b for a, b in zip(out.emitter_blocks, X.emitter_blocks,
                                      strict=True))
    assert out.receivers == X.receivers and out.stimuli == X.stimuli


def _moved(X, receiver, gain, offset):
    blocks = [gain * b + offset if r == receiver else b
              for b, r in zip(X.receiver_blocks, X.receivers, strict=True)]
    return DyadicFrames(X.emitter_blocks, blocks, X.emitter_index,
                        X.emitter_feature_names, X.receiver_feature_names,
                        X.receivers, X.stimuli, label_rate=X.label_rate)


def test_receiver_normalizer_removes_a_new_persons_offset_and_gain():
    X, _ = _frames()
    moved = _moved(X, "p1", 3.0, 7.0)
    others = [i for i, r in enumerate(X.receivers) if r != "p1"]
    norm = ReceiverNormalizer().fit(X[others])
    assert norm.receivers_ == ["p0", "p2"]
    for a, b in zip(norm.transform(X).receiver_blocks,
                    norm.transform(moved).receiver_blocks, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_receiver_normalizer_keeps_the_statistics_of_fitted_receivers():
    """A receiver seen in fit keeps fit's statistics: one recording alone is
    transformed as it was in fit, and a later shift of their sensors shows."""
    X, _ = _frames()
    norm = ReceiverNormalizer().fit(X)
    k = norm.receivers_.index("p1")
    mine = [i for i, r in enumerate(X.receivers) if r == "p1"]
    pooled = np.concatenate([X.receiver_blocks[i] for i in mine])
    np.testing.assert_allclose(norm.means_[k], pooled.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(norm.scales_[k], pooled.std(axis=0), rtol=1e-4)
    whole = norm.transform(X).receiver_blocks[mine[0]]
    alone = norm.transform(X[[mine[0]]]).receiver_blocks[0]
    np.testing.assert_array_equal(whole, alone)
    shifted = norm.transform(_moved(X, "p1", 1.0, 2.0)).receiver_blocks[mine[0]]
    np.testing.assert_allclose(shifted - whole, np.broadcast_to(
        2.0 / norm.scales_[k], whole.shape), rtol=1e-4)
    # "recording" keeps nothing: every recording by its own statistics
    assert ReceiverNormalizer(by="recording").fit(X).receivers_ == []


def test_receiver_normalizer_array_constant_column_and_errors():
    X = np.column_stack([np.arange(6.0), np.full(6, 4.0)])
    out = ReceiverNormalizer().fit_transform(X)
    np.testing.assert_allclose(out[:, 0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(out[:, 1], 0)  # constant: centred, scale 1
    frames, _ = _frames()
    norm = ReceiverNormalizer().fit(frames)
    narrow = DyadicFrames(frames.emitter_blocks,
                          [b[:, :1] for b in frames.receiver_blocks],
                          frames.emitter_index, frames.emitter_feature_names,
                          ["r0"])
    with pytest.raises(ValueError, match="1 receiver features.*fitted with 2"):
        norm.transform(narrow)
    with pytest.raises(ValueError, match="by"):
        ReceiverNormalizer(by="stimulus").fit(frames)


# -- label delay and smoothing helpers ------------------------------------------
def test_delay_targets_pairs_labels_at_t_with_features_at_t_minus_delay():
    X, _ = _frames()
    Xd = delay_targets(X, 5)
    assert Xd.frame_counts.tolist() == X.frame_counts.tolist()
    np.testing.assert_array_equal(Xd.receiver_blocks[2][5:],
                                  X.receiver_blocks[2][:-5])
    np.testing.assert_array_equal(Xd.receiver_blocks[2][:5],
                                  np.repeat(X.receiver_blocks[2][:1], 5, axis=0))
    np.testing.assert_array_equal(Xd.emitter_frames(4)[5:], X.emitter_frames(4)[:-5])
    assert Xd.emitter_blocks[0] is X.emitter_blocks[0]
    # longer than a recording: every frame is the first one
    np.testing.assert_array_equal(delay_targets(X, 100).receiver_blocks[0],
                                  np.repeat(X.receiver_blocks[0][:1], 40, axis=0))


@pytest.mark.parametrize("delay, expected", [
    (1, [0, 0, 1, 2, 3, 4]), (3, [0, 0, 0, 0, 1, 2]), (-2, [2, 3, 4, 5, 5, 5]),
    (6, [0] * 6), (100, [0] * 6), (-6, [5] * 6), (-100, [5] * 6),
])
def test_delay_predictions_by_hand(delay, expected):
    """Later by ``delay`` frames repeating the first value, earlier repeating the
    last; a delay as long as the trace leaves only the edge value."""
    p = np.arange(6.0)[:, None] * [1.0, -1.0]
    (shifted,) = delay_predictions([p], delay)
    np.testing.assert_array_equal(shifted, np.c_[expected, np.negative(expected)])


def test_delay_predictions_one_delay_per_trace():
    p, q = np.arange(6.0)[:, None], np.arange(4.0)[:, None] + 10
    a, b = delay_predictions([p, q], [0, 2])
    np.testing.assert_array_equal(a, p)
    np.testing.assert_array_equal(b[:, 0], [10, 10, 10, 11])
    a, b = delay_predictions([p, q], np.array([-1, 1]))
    np.testing.assert_array_equal(a[:, 0], [1, 2, 3, 4, 5, 5])
    np.testing.assert_array_equal(b[:, 0], [10, 10, 11, 12])
    traces = [p, q]
    assert delay_predictions(traces, [0, 0]) is traces
    (empty,) = delay_predictions([np.empty((0, 2))], 3)
    assert empty.shape == (0, 2)


@pytest.mark.parametrize("width, expected", [
    (2, [0, 0.5, 1.5, 2.5, 3.5, 4.5]),  # even: this frame and the one before
    (3, [1 / 3, 1, 2, 3, 4, 14 / 3]),  # the edges repeat the end values
    (4, [0.25, 0.75, 1.5, 2.5, 3.5, 4.25]),
])
def test_smooth_traces_by_hand(width, expected):
    p = np.arange(6.0)[:, None] * [1.0, -1.0]
    (smooth,) = smooth_traces([p], width)
    np.testing.assert_allclose(smooth, np.c_[expected, np.negative(expected)],
                               rtol=1e-12)


def test_smoothing_calms_noise_and_width_one_is_none():
    p = np.arange(10.0)[:, None]
    noisy = np.random.default_rng(0).normal(size=(200, 2))
    (calm,) = smooth_traces([noisy], 25)
    assert calm.std() < 0.5 * noisy.std()
    assert smooth_traces([p], 1)[0] is p
    assert smooth_traces([p], 0)[0] is p


def test_delay_frames_rounds_seconds_at_the_label_rate():
    assert delay_frames(0.4, 25.0, "label_delay") == 10
    assert delay_frames(0.05, 25.0, "label_delay") == 1  # 1.25 frames
    assert delay_frames(-0.4, 25.0, "lag") == -10
    assert delay_frames(0.0, None, "label_delay") == 0  # no rate needed for 0
    with pytest.raises(ValueError, match=r"^smoothing=1.5 s needs the labels' rate, "
                                         r"but these DyadicFrames have "
                                         r"label_rate=None \(recordings with "
                                         r"different frame rates, or built by "
                                         r"hand\): pass label_rate to DyadicFrames "
                                         r"or set smoothing=0$"):
        delay_frames(1.5, None, "smoothing")


# -- regressor options -------------------------------------------------------------
torch = pytest.importorskip("torch")
from sklearn_impression.regressor import CrossDomainRegressor  # noqa: E402

TINY = tiny_net(max_epochs=2)
OFF = dict(normalize_by=None, label_delay=0.0, smoothing=0.0, window=1)


def test_regressor_smoothing_is_a_moving_average_of_the_same_net():
    X, y = _frames()
    plain = CrossDomainRegressor(**{**TINY, **OFF}).fit(X, y)
    smooth = CrossDomainRegressor(**{**TINY, **OFF, "smoothing": 0.2}).fit(X, y)
    assert smooth.smoothing_frames_ == 5
    for a, b in zip(plain.predict(X), smooth.predict(X), strict=True):
        np.testing.assert_allclose(b, uniform_filter1d(a, 5, axis=0, mode="nearest"),
                                   rtol=1e-5, atol=1e-6)


def test_regressor_label_delay_shifts_traces_and_needs_a_rate():
    X, y = _frames()
    model = CrossDomainRegressor(**{**TINY, **OFF, "label_delay": 0.4}).fit(X, y)
    assert model.label_delay_frames_ == 10
    for p in model.predict(X):
        assert p.shape[1] == 2
        np.testing.assert_array_equal(p[:10], np.repeat(p[:1], 10, axis=0))
    no_rate, _ = _frames(label_rate=None)
    with pytest.raises(ValueError, match="label_delay=0.4 s needs the labels' rate"):
        CrossDomainRegressor(**{**TINY, **OFF, "label_delay": 0.4}).fit(no_rate, y)
    # a delay longer than a recording is fine: its frames all see the first one
    long = CrossDomainRegressor(**{**TINY, **OFF, "label_delay": 2.0}).fit(X, y)
    assert [p.shape for p in long.predict(X)] == [t.shape for t in y]


def test_regressor_normalize_by_receiver_ignores_a_persons_offset_and_gain():
    X, y = _frames()
    model = CrossDomainRegressor(**{**TINY, **OFF, "normalize_by": "receiver"})
    others = [i for i, r in enumerate(X.receivers) if r != "p2"]
    model.fit(X[others], [y[i] for i in others])
    assert model.normalization_receivers_ == ["p0", "p1"]
    moved = _moved(X, "p2", 0.5, -2.0)
    for a, b in zip(model.predict(X), model.predict(moved), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    plain = CrossDomainRegressor(**{**TINY, **OFF}).fit(X, y)
    changed = [not np.allclose(a, b, atol=1e-4) for a, b in
               zip(plain.predict(X), plain.predict(moved), strict=True)]
    assert any(changed)


def test_paper_preset_is_the_paper_configuration():
    from sklearn_impression.regressor._presets import PAPER_PARAMS

    model = CrossDomainRegressor.paper_preset(max_epochs=3)
    params = model.get_params()
    assert params["max_epochs"] == 3
    assert {k: params[k] for k in PAPER_PARAMS if k != "max_epochs"} == {
        k: v for k, v in PAPER_PARAMS.items() if k != "max_epochs"}
    assert (params["window"], params["task_loss"], params["batch_size"],
            params["label_delay"], params["normalize_by"]) == (1, "mse", 512, 0.0,
                                                               None)


def test_ablation_uses_the_paper_preset():
    from sklearn_impression.experiments._ablation import _row_pipeline

    model = _row_pipeline("full", None, epochs=2, seed=0, device="cpu",
                          model_params=None)[-1]
    assert model.get_params()["window"] == 1
    assert model.get_params()["task_loss"] == "mse"
    assert model.get_params()["label_delay"] == 0.0


def test_regressor_long_chunks_with_attention_span_stitch_the_windows():
    """Chunks of 30 frames, 30 apart, plus one aligned to the end: each frame's
    prediction is its chunk's (their mean where two overlap), so it equals
    predicting each chunk on its own."""
    X, y = _frames()
    model = CrossDomainRegressor(**{**TINY, **OFF, "window": 30, "hop": 30,
                                    "attention_span": 5, "batch_size": 4})
    pred = model.fit(X, y).predict(X)
    assert model.net_.module_.attention_span == 5
    i = int(np.flatnonzero(X.frame_counts == 55)[0])
    frame = np.arange(55)

    def chunk(start):
        keep = (frame >= start) & (frame < start + 30)
        return model.predict(X[[i]].select_frames([keep]))[0]

    first, last = chunk(0), chunk(25)  # the end-aligned chunk starts at 55 - 30
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pred[i][:25], first[:25], **tol)
    np.testing.assert_allclose(pred[i][25:30], (first[25:] + last[:5]) / 2, **tol)
    np.testing.assert_allclose(pred[i][30:], last[5:], **tol)
    # the span matters: the same fit without it predicts otherwise
    free = CrossDomainRegressor(**{**TINY, **OFF, "window": 30, "hop": 30,
                                   "batch_size": 4}).fit(X, y)
    assert not np.allclose(free.predict(X[[i]])[0], pred[i], atol=1e-4)


def test_regressor_defaults_fit_recordings_and_survive_save_model(tmp_path):
    """The class defaults (CCC, per-receiver normalisation, label delay,
    smoothing) on real recordings: predict is the network's trace delayed by
    the label delay, then smoothed; a new receiver's sensor offset and gain do
    not move it; a round trip of the safe format keeps it."""
    import pickle

    from sklearn_impression import load_model, save_model
    from sklearn_impression.datasets import make_dyadic_drift
    from sklearn_impression.preprocessing import ModalityConcatenator, Resampler

    data = make_dyadic_drift(3, 2, 12, random_state=0)
    X = ModalityConcatenator().fit_transform(
        Resampler(nan_policy="interpolate").fit_transform(data.recordings))
    model = CrossDomainRegressor(hidden_size=4, num_layers=1, num_heads=2,
                                 fc_size=4, max_epochs=1, random_state=0)
    assert (model.window, model.task_loss, model.normalize_by) == (1, "ccc",
                                                                  "receiver")
    train = [i for i, r in enumerate(X.receivers) if r != X.receivers[-1]]
    test = [i for i, r in enumerate(X.receivers) if r == X.receivers[-1]]
    pred = model.fit(X[train], [data.targets[i] for i in train]).predict(X[test])
    assert (model.label_delay_frames_, model.smoothing_frames_) == (55, 50)
    bare = pickle.loads(pickle.dumps(model))
    bare.label_delay_frames_, bare.smoothing_frames_ = 0, 0
    expected = smooth_traces(delay_predictions(bare.predict(X[test]), 55), 50)
    for p, e in zip(pred, expected, strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-6, atol=1e-9)
    moved = _moved(X[test], X.receivers[-1], 2.5, -4.0)
    for a, b in zip(pred, model.predict(moved), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    save_model(model, tmp_path / "m.safetensors")
    again = load_model(tmp_path / "m.safetensors").predict(X[test])
    for a, b in zip(pred, again, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
