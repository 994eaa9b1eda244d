"""Live prediction: the causal pipeline, streaming, many people, enrolment."""

import pickle

import numpy as np
import pytest

pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_impression import (  # noqa: E402
    CrossDomainRegressor,
    ModalityConcatenator,
    Recording,
    Resampler,
    Stream,
    load_model,
    make_dyadic_drift,
    save_model,
)
from sklearn_impression.live import (  # noqa: E402
    CausalRegressor,
    LiveGroup,
    LivePredictor,
    NotCausalError,
    make_live_pipeline,
)
from sklearn_impression.model_selection import head_seconds  # noqa: E402
from sklearn_impression.regressor._causal import (  # noqa: E402
    RunningStatistics,
    TrailingFinisher,
    finish_causal,
    normalize_causal,
)

FAST = dict(hidden_size=4, num_layers=1, num_heads=2, fc_size=4, max_epochs=1,
            random_state=0)


def _data(seed, n_receivers=4, n_stimuli=1, duration=12.0):
    return make_dyadic_drift(n_receivers, n_stimuli, duration, random_state=seed)


@pytest.fixture(scope="module")
def fitted():
    """A causal pipeline on make_dyadic_drift (NaN gaps, several rates) with
    the defaults' per-person steps: 2.2 s delay, 2 s smoothing, receiver
    statistics, and 0.2 s of lookahead."""
    data = _data(0)
    pipe = make_live_pipeline(CrossDomainRegressor(**FAST), lookahead=0.2,
                              halflife=5.0)
    return pipe.fit(data.recordings, data.targets), data


def _rates(rec):
    return {m: s.rate for m, s in rec.streams.items()}


def _stream(pipe, rec, cuts, **kwargs):
    """Push ``rec`` through a LivePredictor, each stream cut at ``cuts[m]``."""
    live = LivePredictor(pipe, _rates(rec), receiver=rec.receiver, **kwargs)
    parts, starts = [], {m: 0 for m in rec.streams}
    n_pushes = max(len(c) for c in cuts.values()) + 1
    for k in range(n_pushes):
        chunk = {}
        for m, s in rec.streams.items():
            ends = list(cuts[m]) + [s.n_samples]
            if k < len(ends):
                chunk[m] = s.values[starts[m]:ends[k]]
                starts[m] = ends[k]
        parts.append(live.push(chunk))
    parts.append(live.flush(n_frames=rec.n_frames))
    return parts


def _values(parts):
    return np.concatenate([p.values for p in parts])


@st.composite
def _chunkings(draw, rec):
    cuts = {}
    for m, s in rec.streams.items():
        n = s.n_samples
        k = draw(st.integers(0, 6))
        points = draw(st.lists(st.integers(1, max(n - 1, 1)), min_size=k, max_size=k))
        cuts[m] = sorted(set(points))
    return cuts


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data(), seed=st.integers(1, 3), gaps=st.booleans(),
       known=st.booleans())
def test_streamed_predictions_equal_the_causal_pipeline_offline(fitted, data, seed,
                                                                gaps, known):
    """Random recordings of a known receiver (kept statistics) or a new one
    (running statistics from the prior), NaN gaps, random chunkings."""
    pipe, _ = fitted
    rec = _data(seed, n_receivers=1, duration=6.0).recordings[0]
    if not known:
        rec = rec.replace(receiver="stranger")
    if gaps:  # a NaN gap in every stream, held at its last value
        streams = {}
        for m, s in rec.streams.items():
            values = np.array(s.values)
            a = data.draw(st.integers(0, len(values) - 2))
            values[a:a + data.draw(st.integers(1, 40))] = np.nan
            streams[m] = Stream(values, rate=s.rate, channels=s.channels)
        rec = Recording(streams, n_frames=rec.n_frames, frame_rate=rec.frame_rate,
                        receiver=rec.receiver, stimulus=rec.stimulus)
    parts = _stream(pipe, rec, data.draw(_chunkings(rec)))
    frames = np.concatenate([p.frames for p in parts])
    np.testing.assert_array_equal(frames, np.arange(rec.n_frames))
    np.testing.assert_allclose(np.concatenate([p.times for p in parts]),
                               frames / rec.frame_rate)
    offline = pipe.predict([rec])[0]
    assert np.abs(_values(parts) - offline).max() <= 1e-5


def test_a_sample_at_a_time_and_a_stream_held_back(fitted):
    """One sample per push, and one stream arriving whole at the end: the same
    predictions; frames wait for the late stream."""
    pipe, data = fitted
    rec = data.recordings[1]
    late = sorted(rec.streams)[0]
    live = LivePredictor(pipe, _rates(rec), receiver=rec.receiver)
    longest = max(s.n_samples for s in rec.streams.values())
    parts = []
    for j in range(0, longest, 7):
        parts.append(live.push({m: s.values[j:j + 7] for m, s in rec.streams.items()
                                if m != late}))
    assert sum(len(p.frames) for p in parts) == 0  # every frame waits for it
    parts.append(live.push({late: rec.streams[late].values}))
    parts.append(live.flush(n_frames=rec.n_frames))
    assert np.abs(_values(parts) - pipe.predict([rec])[0]).max() <= 1e-5


def _changed_after(rec, t):
    """``rec`` with every sample after time ``t`` replaced by noise."""
    rng = np.random.default_rng(0)
    streams = {}
    for m, s in rec.streams.items():
        values = np.array(s.values)
        after = np.arange(len(values)) / s.rate > t
        values[after] = rng.normal(5, 3, size=values[after].shape)
        streams[m] = Stream(values, rate=s.rate, channels=s.channels)
    return Recording(streams, n_frames=rec.n_frames, frame_rate=rec.frame_rate,
                     receiver=rec.receiver, stimulus=rec.stimulus)


@pytest.mark.parametrize("t", [2.0, 5.0, 9.5])
def test_the_pipeline_reads_nothing_after_t_plus_lookahead(fitted, t):
    pipe, data = fitted
    rec = data.recordings[2]
    before, after = pipe.predict([rec, _changed_after(rec, t)])
    frame_times = np.arange(rec.n_frames) / rec.frame_rate
    lookahead = pipe[-1].lookahead
    same = frame_times <= t - lookahead + 1e-9
    np.testing.assert_array_equal(before[same], after[same])
    assert not np.allclose(before[frame_times > t + 1.0],
                           after[frame_times > t + 1.0])


def test_the_offline_pipeline_is_not_causal(fitted):
    """The control: the default pipeline's predictions before t change."""
    _, data = fitted
    offline = Pipeline([("resample", Resampler(nan_policy="interpolate")),
                        ("concat", ModalityConcatenator()),
                        ("model", CrossDomainRegressor(**FAST))])
    offline.fit(data.recordings, data.targets)
    rec = data.recordings[2]
    before, after = offline.predict([rec, _changed_after(rec, 5.0)])
    early = np.arange(rec.n_frames) / rec.frame_rate <= 5.0
    assert not np.array_equal(before[early], after[early])


def test_each_causal_step_alone_reads_nothing_after_t():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    y = np.array(x)
    y[150:] += 7.0
    a = RunningStatistics(3, halflife=20.0).transform(x)
    b = RunningStatistics(3, halflife=20.0).transform(y)
    np.testing.assert_array_equal(a[:150], b[:150])
    assert not np.allclose(a[150:], b[150:])
    # the trailing window: delay 55, smoothing 50, lookahead 0 and 10 frames
    p, q = x[:, :2].astype(np.float64), y[:, :2].astype(np.float64)
    for lookahead in (0, 10):
        for delay in (55, 5):  # a delay too short for the smoothing is raised
            f, g = finish_causal([p, q], [delay, delay], 50, lookahead)
            np.testing.assert_array_equal(f[:150 - lookahead], g[:150 - lookahead])
            assert not np.allclose(f[-50:], g[-50:])


def test_the_trailing_window_is_the_offline_window_inside_a_recording():
    """Delay 55, smoothing 50: the causal trace equals the offline one except
    within (50 - 1) // 2 frames of the end."""
    from sklearn_impression.regressor._temporal import finish_traces

    p = np.random.default_rng(2).normal(size=(400, 2))
    offline = finish_traces([p], 55, 50)[0]
    causal = finish_causal([p], [55], 50, 0)[0]
    np.testing.assert_allclose(causal[:-24], offline[:-24], rtol=0, atol=1e-12)
    assert not np.allclose(causal[-24:], offline[-24:])


def test_the_trailing_window_streams_in_any_chunks():
    p = np.random.default_rng(3).normal(size=(97, 2))
    for shift, width in ((30, 50), (0, 1), (-7, 11), (5, 1)):
        whole = TrailingFinisher(shift, width)
        expected = np.concatenate([whole.push(p), whole.flush()])
        parts = TrailingFinisher(shift, width)
        got = [parts.push(p[a:b]) for a, b in ((0, 1), (1, 2), (2, 40), (40, 97))]
        got = np.concatenate([g for g in got if len(g)] + [parts.flush()])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        assert len(expected) == len(p)


def test_running_statistics_warm_up_and_known_receivers_frozen(fitted):
    pipe, data = fitted
    regressor = pipe[-1].regressor_
    X = pipe[:-1].transform(data.recordings[:2])
    statistics = regressor.listeners_.statistics
    known = normalize_causal(X, "receiver", statistics, 125.0)
    offline = regressor.predict  # noqa: F841 (same object, offline path)
    from sklearn_impression.preprocessing._statistics import normalize_receivers

    frozen = normalize_receivers(X, "receiver", statistics)
    for a, b in zip(known.receiver_blocks, frozen.receiver_blocks, strict=True):
        np.testing.assert_array_equal(a, b)  # training receivers: kept, frozen
    stranger = X.subset([0])
    stranger = type(stranger)(stranger.emitter_blocks, stranger.receiver_blocks,
                              stranger.emitter_index,
                              stranger.emitter_feature_names,
                              stranger.receiver_feature_names,
                              receivers=["someone new"], stimuli=stranger.stimuli,
                              label_rate=stranger.label_rate)
    running = normalize_causal(stranger, "receiver", statistics, 125.0)
    block = running.receiver_blocks[0]
    assert np.all(block[0] == 0)  # one frame: its own mean, scale 1
    assert abs(float(block[200:].mean())) < 0.5  # settled


def test_adapt_keeps_the_total_delay_causal(fitted):
    """Offline, adapt may choose an extra delay that reads the future; the
    causal regressor's choice stays at or above the causal bound."""
    pipe, data = fitted
    clone = pickle.loads(pickle.dumps(pipe))
    model = clone[-1]
    new = _data(5, n_receivers=2).recordings
    targets = _data(5, n_receivers=2).targets
    X = clone[:-1].transform(new)
    model.adapt(*head_seconds(X, targets, 6.0), lag_range=2.0)
    regressor = model.regressor_
    low = model.steps_.min_extra_delay(regressor.label_delay_frames_,
                                       regressor.smoothing_frames_)
    assert low == (50 - 1) // 2 - 5 - 55  # smoothing 50, lookahead 5, delay 55
    rows = regressor.listeners_.rows_for([r.receiver for r in new], warn=False)
    assert np.all(regressor.listener_delay_[rows] >= low)
    # and the enrolled receivers' predictions still read nothing after t
    before, after = clone.predict([new[0], _changed_after(new[0], 4.0)])
    early = np.arange(new[0].n_frames) / new[0].frame_rate <= 4.0 - 0.2 + 1e-9
    np.testing.assert_array_equal(before[early], after[early])


def test_many_people_in_one_group_equal_each_alone(fitted):
    pipe, _ = fitted
    recs = _data(7, n_receivers=3, duration=8.0).recordings
    group = LiveGroup(pipe, _rates(recs[0]))
    got = {k: [] for k in range(3)}
    group.join(0, receiver=recs[0].receiver)
    step = 0.5
    for tick in range(int(8.0 / step)):
        if tick == 4:
            group.join(1, receiver=recs[1].receiver)  # joins 2 s late
        if tick == 6:
            group.join(2, receiver=recs[2].receiver)
        chunks = {}
        for k in group.people:
            start = tick - {0: 0, 1: 4, 2: 6}[k]
            chunks[k] = {m: s.values[int(start * step * s.rate):
                                     int((start + 1) * step * s.rate)]
                         for m, s in recs[k].streams.items()}
        for k, out in group.push(chunks).items():
            got[k].append(out)
    for k in range(3):
        rest = {m: s.values[int((16 - {0: 0, 1: 4, 2: 6}[k]) * step * s.rate):]
                for m, s in recs[k].streams.items()}
        got[k].append(group.push({k: rest})[k])
        got[k].append(group.leave(k, n_frames=recs[k].n_frames))
        offline = pipe.predict([recs[k]])[0]
        assert np.abs(_values(got[k]) - offline).max() <= 1e-5
    assert group.people == {}


def test_state_pickles_mid_stream_and_continues(fitted, tmp_path):
    pipe, data = fitted
    rec = data.recordings[3]
    live = LivePredictor(pipe, _rates(rec), receiver=rec.receiver)
    half = {m: s.values[: s.n_samples // 2] for m, s in rec.streams.items()}
    rest = {m: s.values[s.n_samples // 2:] for m, s in rec.streams.items()}
    first = live.push(half)
    saved = pickle.dumps(live)
    a = [live.push(rest), live.flush(n_frames=rec.n_frames)]
    restored = pickle.loads(saved)
    b = [restored.push(rest), restored.flush(n_frames=rec.n_frames)]
    np.testing.assert_array_equal(_values(a), _values(b))
    assert np.abs(np.concatenate([first.values, _values(a)])
                  - pipe.predict([rec])[0]).max() <= 1e-5
    live.reset()  # back to the start: the same first frames again
    np.testing.assert_array_equal(live.push(half).values, first.values)


def test_memory_does_not_grow_with_the_stream(fitted):
    """Half an hour of 0.16 s chunks (the recording's samples, looped): the
    state stays the size it had after a minute."""
    pipe, data = fitted
    rec = data.recordings[0]
    live = LivePredictor(pipe, _rates(rec), receiver="someone", keep_seconds=2.0)

    def chunk(i, dt=0.16):
        return {m: s.values[np.arange(int(i * dt * s.rate),
                                      int((i + 1) * dt * s.rate)) % s.n_samples]
                for m, s in rec.streams.items()}

    def size():
        return len(pickle.dumps(live.group.people["person"]))

    for i in range(400):
        live.push(chunk(i))
    after_a_minute = size()
    for i in range(400, 11_250):
        out = live.push(chunk(i))
    assert size() <= after_a_minute + 64
    assert out.frames[-1] >= 11_249 * 4 - 60  # frames keep coming


def test_enrolment_during_the_session(fitted):
    pipe, _ = fitted
    clone = pickle.loads(pickle.dumps(pipe))
    data = _data(9, n_receivers=1, duration=20.0)
    rec, y = data.recordings[0], data.targets[0]
    live = LivePredictor(clone, _rates(rec), receiver="newcomer", keep_seconds=8.0)
    cut = {m: int(10.0 * s.rate) for m, s in rec.streams.items()}
    before = live.push({m: s.values[:cut[m]] for m, s in rec.streams.items()})
    assert "newcomer" not in clone[-1].regressor_.listener_ids_
    live.enrol(y[:200])  # the first 8 s
    assert clone[-1].regressor_.listener_ids_ == ["newcomer"]
    after = live.push({m: s.values[cut[m]:] for m, s in rec.streams.items()})
    assert len(before.frames) + len(after.frames) + 5 >= rec.n_frames
    with pytest.raises(ValueError, match=r"y must have shape \(n, 2\) with 0 < n "
                                         r"<= 200"):
        live.enrol(y[:300])


def test_a_pipeline_that_is_not_causal_is_named(fitted):
    pipe, data = fitted
    rates = _rates(data.recordings[0])
    offline = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                        ("model", pipe[-1])])
    with pytest.raises(NotCausalError, match=r"step 'resample' \(Resampler\(method="
                                             r"'paper'\)\) is not causal"):
        LivePredictor(offline, rates)
    plain = Pipeline([("resample", pipe[0]), ("concat", pipe[1]),
                      ("net", pipe[-1].regressor_)])
    with pytest.raises(NotCausalError, match=r"step 'net' \(CrossDomainRegressor\) "
                                             r"is not causal here"):
        LivePredictor(plain, rates)
    windowed = make_live_pipeline(CrossDomainRegressor(window=5, **FAST))
    with pytest.raises(NotCausalError, match="window=5"):
        windowed.fit(data.recordings, data.targets)


def test_bad_live_input_is_named(fitted):
    pipe, data = fitted
    rec = data.recordings[0]
    rates = _rates(rec)
    with pytest.raises(ValueError, match="missing \\['emitter.audio'\\]"):
        LivePredictor(pipe, {m: r for m, r in rates.items() if m != "emitter.audio"})
    with pytest.raises(ValueError, match="rate of 'emitter.audio' must be a positive"):
        LivePredictor(pipe, {**rates, "emitter.audio": 0})
    live = LivePredictor(pipe, rates)
    with pytest.raises(ValueError, match="unknown stream 'emitter.voice'"):
        live.push({"emitter.voice": np.zeros((3, 1))})
    width = rec.streams["emitter.audio"].n_channels
    with pytest.raises(ValueError, match=rf"stream 'emitter.audio': samples must "
                                         rf"have shape \(n, {width}\)"):
        live.push({"emitter.audio": np.zeros((3, width + 1))})
    with pytest.raises(ValueError, match="infinite"):
        live.push({"emitter.audio": np.full((3, width), np.inf)})


def test_the_causal_regressor_saves_and_loads(fitted, tmp_path):
    pipe, data = fitted
    save_model(pipe, tmp_path / "live.safetensors")
    loaded = load_model(tmp_path / "live.safetensors")
    assert isinstance(loaded[-1], CausalRegressor)
    rec = data.recordings[0]
    np.testing.assert_array_equal(loaded.predict([rec])[0], pipe.predict([rec])[0])


def test_a_receivers_streams_carry_their_running_statistics(fitted):
    """Offline, a new receiver's recordings in order are one stream; live, the
    statistics go on when they leave and join again: the same predictions."""
    pipe, _ = fitted
    data = _data(11, n_receivers=1, n_stimuli=2, duration=6.0)
    first, second = (rec.replace(receiver="newcomer") for rec in data.recordings)
    group = LiveGroup(pipe, _rates(first))
    streamed = []
    for rec in (first, second):
        group.join("p", receiver="newcomer", stimulus=rec.stimulus)
        out = group.push({"p": {m: s.values for m, s in rec.streams.items()}})["p"]
        streamed.append(np.concatenate([out.values, group.leave(
            "p", n_frames=rec.n_frames).values]))
    offline = pipe.predict([first, second])
    for a, b in zip(streamed, offline, strict=True):
        assert np.abs(a - b).max() <= 1e-5
    alone = pipe.predict([second])[0]  # without the first stream's statistics
    assert not np.allclose(alone, offline[1])
    group.join("a", receiver="x")
    with pytest.raises(ValueError, match="receiver 'x' is already streaming as "
                                         "person 'a'"):
        group.join("b", receiver="x")


def test_the_running_statistics_start_from_the_prior():
    """A prior of w frames with mean m and variance v, then one frame x: the
    weighted moments by hand."""
    m, v, w, x, h = np.array([2.0]), np.array([9.0]), 40.0, 5.0, 100.0
    d = 0.5 ** (1 / h)
    t = d * (1 - d ** w) / (1 - d)  # the prior's weight when x arrives
    mean = (t * m + x) / (t + 1)
    var = (t * (v + m * m) + x * x) / (t + 1) - mean * mean
    got = RunningStatistics(1, h, prior=(m, v, w)).transform(np.array([[x]]))
    np.testing.assert_allclose(got[0], (x - mean) / np.sqrt(var), rtol=1e-6)
    assert RunningStatistics(1, h).transform(np.array([[x]]))[0, 0] == 0.0


def test_the_prior_is_the_training_receivers_statistics(fitted):
    pipe, _ = fitted
    model = pipe[-1]
    _, means, scales = model.regressor_.listeners_.statistics
    np.testing.assert_allclose(model.prior_mean_, means.mean(axis=0))
    np.testing.assert_allclose(model.prior_var_,
                               (scales ** 2).mean(axis=0) + means.var(axis=0))
    assert model.steps_.prior[2] == pytest.approx(30.0 * 25.0)


def test_make_live_pipeline_has_the_causal_regressors_defaults():
    model = make_live_pipeline()[-1]
    defaults = CausalRegressor().get_params()
    assert {k: model.get_params()[k] for k in ("lookahead", "halflife", "prior")} \
        == {k: defaults[k] for k in ("lookahead", "halflife", "prior")}
    assert make_live_pipeline(prior=0.0, halflife=5.0)[-1].get_params()["prior"] == 0.0


def test_the_concatenator_and_the_causal_regressor_alone_read_nothing_after_t(
        fitted):
    """The two other steps alone: label-rate recordings changed after frame
    ``k`` change no concatenated frame up to ``k``, and DyadicFrames changed
    after frame ``k`` change no prediction up to ``k - lookahead``."""
    pipe, data = fitted
    rec = pipe[0].transform(data.recordings[1:2])[0]  # at the label rate
    k = 120
    streams = {m: Stream(np.where(np.arange(s.n_samples)[:, None] > k, 9.0,
                                  s.values), rate=s.rate, channels=s.channels)
               for m, s in rec.streams.items()}
    changed = rec.replace(streams=streams)
    a, b = pipe[1].transform([rec]), pipe[1].transform([changed])
    np.testing.assert_array_equal(a.receiver_blocks[0][:k + 1],
                                  b.receiver_blocks[0][:k + 1])
    np.testing.assert_array_equal(a.emitter_blocks[0][:k + 1],
                                  b.emitter_blocks[0][:k + 1])
    assert not np.array_equal(a.receiver_blocks[0], b.receiver_blocks[0])
    before, after = pipe[-1].predict(a)[0], pipe[-1].predict(b)[0]
    same = k - pipe[-1].lookahead_frames_
    np.testing.assert_array_equal(before[:same + 1], after[:same + 1])
    assert not np.allclose(before, after)
