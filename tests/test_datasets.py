"""Tests of make_impression, write_impression and load_impression."""

import numpy as np
import pytest

from sklearn_impression import Recording, Stream
from sklearn_impression.datasets import (
    load_impression,
    make_impression,
    write_impression,
)
from sklearn_impression.datasets._synthetic import DEFAULT_RATES
from sklearn_impression.metrics import ccc_score


def to_label_rate(recordings):
    """Pick the stream sample at each label frame (sharing stays shared)."""
    done, out = {}, []
    for rec in recordings:
        streams = {}
        for name, s in rec.streams.items():
            if id(s) not in done:
                pick = np.arange(rec.n_frames) * s.rate / rec.frame_rate
                pick = np.minimum(pick.astype(int), s.n_samples - 1)
                done[id(s)] = Stream(s.values[pick], rec.frame_rate, s.channels)
            streams[name] = done[id(s)]
        out.append(rec.replace(streams=streams))
    return out


@pytest.fixture(scope="module")
def data():
    return make_impression(n_receivers=3, n_stimuli=2, stimulus_duration=[4.0, 6.0],
                           random_state=0)


@pytest.fixture(scope="module")
def label_rate(data):
    return to_label_rate(data.recordings)


def write_csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(",".join(str(v) for v in row) + "\n" for row in rows)
    path.write_text(header + "\n" + body)


def small_layout(root, sti_header="a,b", rec_header="x,idx", n=4, stops=None):
    """A hand-made released layout: 2 participants, sti.csv with ``n`` rows."""
    n_sti, n_rec = sti_header.count(",") + 1, rec_header.count(",")
    write_csv(root / "feats_stimuli" / "sti.csv", sti_header,
              [[i + 0.5 * j for j in range(n_sti)] for i in range(n)])
    for p in (0, 1):
        rows = [[p + 0.25 * k + j for j in range(n_rec)] + [k]
                for k in range(n if stops is None else stops[p])]
        write_csv(root / "feats_participant" / f"{p}.csv", rec_header, rows)
        write_csv(root / "labels" / f"{p}.csv", "competence,warmth",
                  [[k, -k] for k in range(len(rows))])


# -- make_impression -------------------------------------------------------------
def test_make_impression_bunch_layout(data):
    assert len(data.recordings) == len(data.targets) == len(data.impression) == 6
    assert data.target_names == ("competence", "warmth")
    assert data.frame_rate == 25.0
    assert data.receivers.tolist() == [0, 0, 1, 1, 2, 2]
    assert data.stimuli.tolist() == [0, 1, 0, 1, 0, 1]
    assert "Generative process" in data.DESCR
    for rec, y, u, r, s in zip(data.recordings, data.targets, data.impression,
                               data.receivers, data.stimuli, strict=True):
        assert (rec.receiver, rec.stimulus) == (r, s)
        assert rec.n_frames == (100 if s == 0 else 150)
        assert y.shape == u.shape == (rec.n_frames, 2)
        assert y.dtype == u.dtype == np.float64
        assert rec.modalities == tuple(sorted(DEFAULT_RATES))


def test_make_impression_stream_rates_and_lengths(data):
    for rec in data.recordings:
        for name, stream in rec.streams.items():
            assert stream.rate == DEFAULT_RATES[name]
            assert stream.n_samples == round(rec.duration * stream.rate)
            assert stream.values.dtype == np.float32
            assert np.all(np.isfinite(stream.values))
    face = data.recordings[1].streams["receiver.face"]
    assert face.rate == 29.97 and face.n_samples == 180  # round(6 s * 29.97)


def test_make_impression_emitter_streams_shared_per_stimulus(data):
    recs = data.recordings
    for name in recs[0].domain_streams("emitter"):
        assert recs[0].streams[name] is recs[2].streams[name] is recs[4].streams[name]
        assert recs[0].streams[name] is not recs[1].streams[name]
    assert recs[0].streams["receiver.eye"] is not recs[2].streams["receiver.eye"]


def test_make_impression_channel_names(data):
    streams = data.recordings[0].streams
    assert streams["emitter.audio"].channels[-3:] == ("voice_prob", "rms_energy", "zcr")
    assert streams["emitter.audio"].channels[0] == "mfcc_1"
    assert streams["emitter.face"].channels[:2] == ("AU01_r", "AU02_r")
    assert "AU12_c" in streams["receiver.face"].channels
    assert streams["receiver.physio"].channels == ("bvp", "ecg", "gsr")
    assert streams["receiver.eye"].channels[0] == "gaze_duration"
    presence = streams["emitter.face"].values[:, 17:]  # AU.._c columns
    assert set(np.unique(presence)) <= {0.0, 1.0}


def test_make_impression_targets_stepwise_with_oracle(data):
    for y, u in zip(data.targets, data.impression, strict=True):
        moves = np.abs(np.diff(y, axis=0)) > 0
        assert moves.mean() < 0.5  # the slider rests most of the time
        for d in range(2):
            steps = np.abs(np.diff(y[:, d]))
            steps = steps[steps > 0]
            if steps.size:  # every move is a whole number of the receiver's step
                q = steps.min()
                np.testing.assert_allclose(steps / q, np.rint(steps / q), atol=1e-6)
        assert np.max(np.abs(y - u)) < 3  # quantisation keeps it close
    oracle = ccc_score(data.impression, data.targets)
    assert 0.9 < oracle < 1.0
    assert np.vstack(data.targets).std() > 1  # unbounded, wider than [-1, 1]


def test_make_impression_exposes_each_receivers_slider():
    data = make_impression(n_receivers=3, n_stimuli=2, stimulus_duration=40,
                           random_state=2)
    assert data.offsets.shape == data.scales.shape == (3, 2)
    assert data.lags.shape == (3,)
    assert np.all((data.scales >= 1) & (data.scales <= 2.5))
    assert np.all((data.lags >= 0.5) & (data.lags <= 3))
    # (u - o_r) / a_r is p_rs(t - l_r): undoing each receiver's lag puts two
    # receivers of one stimulus on a common clock (they share the stimulus's
    # latent impression and differ by their idiosyncratic half)

    def mean_correlation(sign):
        perceived = []
        for u, r, s in zip(data.impression, data.receivers, data.stimuli,
                           strict=True):
            if s == 1:
                lag = 1.75 + sign * (data.lags[r] - 1.75)  # sign -1: lag mirrored
                start = int(round((lag - 0.5) * data.frame_rate))
                perceived.append(((u - data.offsets[r]) / data.scales[r])
                                 [start:start + 800, 0])  # p_rs(t - 0.5 s)
        return np.mean(np.corrcoef(perceived)[np.triu_indices(3, 1)])

    assert mean_correlation(1) > 0.8
    assert mean_correlation(1) > mean_correlation(-1)
    # the raw traces are not on a common scale: offsets differ by receiver
    levels = [np.mean(u, axis=0) for u in data.impression[::2]]
    assert np.ptp([lv[0] for lv in levels]) > 0.1


def test_make_impression_receiver_signals_stronger_than_emitter():
    data = make_impression(n_receivers=4, n_stimuli=3, stimulus_duration=30,
                           random_state=1)
    frames = to_label_rate(data.recordings)
    y = np.vstack(data.targets)

    def best_corr(domain):
        x = np.vstack([np.hstack([s.values for s in r.domain_streams(domain).values()])
                       for r in frames])
        x = x[:, x.std(axis=0) > 0]
        return max(abs(np.corrcoef(x[:, j], y[:, d])[0, 1])
                   for j in range(x.shape[1]) for d in range(2))

    assert best_corr("receiver") > best_corr("emitter") > 0.05


def test_make_impression_reproducible():
    a = make_impression(1, 1, 2.0, random_state=3)
    b = make_impression(1, 1, 2.0, random_state=3)
    c = make_impression(1, 1, 2.0, random_state=4)
    np.testing.assert_array_equal(a.targets[0], b.targets[0])
    np.testing.assert_array_equal(a.recordings[0].streams["receiver.physio"].values,
                                  b.recordings[0].streams["receiver.physio"].values)
    assert not np.array_equal(a.impression[0], c.impression[0])


def test_make_impression_return_X_y():
    recordings, targets = make_impression(1, 2, 1.0, random_state=0, return_X_y=True)
    assert len(recordings) == len(targets) == 2
    assert isinstance(recordings[0], Recording)


def test_make_impression_frames_channels_and_rates():
    data = make_impression(2, 3, stimulus_frames=[10, 20, 31], emitter_channels=60,
                           receiver_channels={"face": 4, "physio": 2},
                           rates={"receiver.eye": 50.0}, frame_rate=10.0,
                           random_state=0)
    assert [r.n_frames for r in data.recordings[:3]] == [10, 20, 31]
    rec = data.recordings[2]
    assert rec.frame_rate == 10.0
    assert rec.streams["emitter.audio"].n_channels == 60 - 8 - 35
    assert rec.streams["emitter.audio"].n_samples == 310  # 3.1 s at 100 Hz
    assert rec.modalities[3:] == ("receiver.face", "receiver.physio")
    assert rec.streams["receiver.face"].channels == ("AU01_r", "AU02_r", "AU01_c",
                                                     "AU02_c")
    assert rec.streams["receiver.physio"].channels == ("bvp", "ecg")


def test_make_impression_paper_channel_counts():
    data = make_impression(1, 1, stimulus_frames=5, emitter_channels=412,
                           receiver_channels=68, random_state=0)
    rec = data.recordings[0]
    assert sum(s.n_channels for s in rec.domain_streams("emitter").values()) == 412
    assert sum(s.n_channels for s in rec.domain_streams("receiver").values()) == 68


@pytest.mark.parametrize("kwargs, match", [
    ({"emitter_channels": 10}, "too small"),
    ({"receiver_channels": {"nose": 3}}, "unknown modalities"),
    ({"receiver_channels": {"eye": 0}}, "needs >= 1 channel"),
    ({"stimulus_duration": 1.0, "stimulus_frames": 25}, "not both"),
    ({"stimulus_duration": [1.0, 2.0, 3.0]}, "sequence of 2"),
    ({"stimulus_duration": 0.01}, ">= 1 label frame"),
    ({"rates": {"emitter.nose": 3.0}}, "unknown modality"),
    ({"rates": {"emitter.eye": -3.0}}, "positive"),
])
def test_make_impression_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_impression(1, 2, **{"stimulus_duration": None, **kwargs})


def test_make_impression_param_validation():
    with pytest.raises(ValueError, match="n_receivers"):
        make_impression(0)


# -- write + load round trip ---------------------------------------------------------
def test_round_trip(tmp_path, data, label_rate):
    write_impression(tmp_path, label_rate, data.targets)
    loaded = load_impression(tmp_path)
    assert loaded.receivers.tolist() == data.receivers.tolist()
    assert loaded.stimuli.tolist() == data.stimuli.tolist()
    assert loaded.boundaries.tolist() == [0, 100]
    for a, b, ya, yb in zip(label_rate, loaded.recordings, data.targets,
                            loaded.targets, strict=True):
        assert (a.receiver, a.stimulus, a.n_frames) == (b.receiver, b.stimulus,
                                                        b.n_frames)
        assert a.modalities == b.modalities
        for name in a.modalities:
            assert b.streams[name].channels == a.streams[name].channels
            assert b.streams[name].rate == 25.0
            assert b.streams[name].values.dtype == np.float32
            np.testing.assert_array_equal(b.streams[name].values,
                                          a.streams[name].values)
        np.testing.assert_array_equal(yb, ya)
    recs = loaded.recordings
    assert recs[0].streams["emitter.audio"] is recs[4].streams["emitter.audio"]
    X, y = load_impression(tmp_path, return_X_y=True)
    assert len(X) == len(y) == 6


def test_load_cuts_at_index_discontinuities(tmp_path, data, label_rate):
    # receiver 2 watches the stimuli in reverse order: a jump in its index column
    order = [0, 1, 2, 3, 5, 4]
    write_impression(tmp_path, [label_rate[i] for i in order],
                     [data.targets[i] for i in order])
    (tmp_path / "feats_stimuli" / "stimuli.csv").unlink()  # as in the release
    loaded = load_impression(tmp_path)
    assert loaded.boundaries.tolist() == [0, 100]
    assert loaded.stimuli.tolist() == [0, 1, 0, 1, 1, 0]
    np.testing.assert_array_equal(loaded.targets[4], data.targets[5])
    shared = loaded.recordings[0].streams["emitter.eye"]
    assert loaded.recordings[5].streams["emitter.eye"] is shared


def test_load_boundaries_override(tmp_path, data, label_rate):
    write_impression(tmp_path, label_rate, data.targets)
    (tmp_path / "feats_stimuli" / "stimuli.csv").unlink()
    whole = load_impression(tmp_path)  # in-order index: one stimulus
    assert whole.stimuli.tolist() == [0, 0, 0]
    assert [r.n_frames for r in whole.recordings] == [250] * 3
    listed = load_impression(tmp_path, boundaries=[100])
    assert listed.stimuli.tolist() == [0, 1, 0, 1, 0, 1]
    seen = {}

    def from_index(columns):
        seen.update(columns)
        return [0, 50, 100]

    called = load_impression(tmp_path, boundaries=from_index, receivers=[1])
    assert sorted(seen) == [1] and seen[1].tolist() == list(range(250))
    assert called.stimuli.tolist() == [0, 1, 2]
    assert called.receivers.tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="outside"):
        load_impression(tmp_path, boundaries=[300])


def test_load_partial_stimulus_gets_its_rows(tmp_path):
    small_layout(tmp_path, n=4, stops=[4, 2])
    loaded = load_impression(tmp_path, boundaries=[2])
    assert loaded.receivers.tolist() == [0, 0, 1]
    assert loaded.stimuli.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(
        loaded.recordings[2].streams["emitter.features"].values, [[0, 0.5], [1, 1.5]])
    assert (loaded.recordings[2].streams["emitter.features"]
            is loaded.recordings[0].streams["emitter.features"])


def test_load_splits_modalities_from_tool_names(tmp_path):
    small_layout(tmp_path, sti_header="pcm_RMSenergy_sma, AU12_r",
                 rec_header="bvp,gaze_x,row")
    rec = load_impression(tmp_path).recordings[0]
    assert rec.modalities == ("emitter.audio", "emitter.face", "receiver.eye",
                              "receiver.physio")
    assert rec.streams["emitter.face"].channels == ("AU12_r",)
    np.testing.assert_array_equal(rec.streams["receiver.eye"].values[:, 0],
                                  [1, 1.25, 1.5, 1.75])
    one = load_impression(tmp_path, split_modalities=False).recordings[0]
    assert one.modalities == ("emitter.features", "receiver.features")


def test_load_unrecognised_names_keep_one_stream(tmp_path):
    small_layout(tmp_path, sti_header="0,1", rec_header="mfcc_1,row")
    rec = load_impression(tmp_path).recordings[0]
    assert rec.modalities == ("emitter.features", "receiver.audio")
    assert rec.streams["emitter.features"].channels == ("0", "1")


def test_load_strips_bom(tmp_path):
    small_layout(tmp_path)
    sti = tmp_path / "feats_stimuli" / "sti.csv"
    sti.write_bytes(b"\xef\xbb\xbf" + sti.read_bytes())
    rec = load_impression(tmp_path).recordings[0]
    assert rec.streams["emitter.features"].channels == ("a", "b")


def _corrupt(root, relative, text):
    (root / relative).write_text(text)


@pytest.mark.parametrize("relative, text, match", [
    ("feats_stimuli/sti.csv", "", r"sti.csv, line 1: empty file"),
    ("feats_stimuli/sti.csv", "a,b\n", r"sti.csv, line 2: header only"),
    ("feats_stimuli/sti.csv", "a,b\n0,1\n2,3,4\n0,1\n0,1\n",
     r"sti.csv, line 3: 3 values, the header has 2"),
    ("feats_stimuli/sti.csv", "a,b\n0,1\n0,1\n0,1\n0,",
     r"sti.csv, line 5, column 2: non-numeric value ''"),
    ("feats_stimuli/sti.csv", "a,b\n0,1\n0,1\n0,1\n0\n",
     r"sti.csv, line 5: 1 values.*truncated"),
    ("feats_participant/1.csv", "x,idx\n0,0\n0,1\nabc,2\n0,3\n",
     r"1.csv, line 4, column 1: non-numeric value 'abc'"),
    ("feats_participant/1.csv", "x,idx\n0,0\n0,1\n0,9\n0,3\n",
     r"1.csv, line 4: index 9 points outside .*sti.csv"),
    ("feats_participant/1.csv", "x,idx\n0,0\n0,1.5\n0,2\n0,3\n",
     r"1.csv, line 3: index 1.5 .* not an integer"),
    ("feats_participant/1.csv", "x,idx\n0,0\n0,1\n0,2\n",
     r"labels.1.csv, line 5: 4 label rows but .*1.csv has 3 feature rows"),
    ("feats_participant/1.csv", "y,idx\n0,0\n0,1\n0,2\n0,3\n",
     r"1.csv, line 1: header differs"),
    ("labels/0.csv", "competence\n1\n2\n3\n4\n", r"0.csv, line 1: expected 2 label"),
])
def test_load_bad_files(tmp_path, relative, text, match):
    small_layout(tmp_path)
    _corrupt(tmp_path, relative, text)
    with pytest.raises(ValueError, match=match):
        load_impression(tmp_path)


def test_load_missing_files(tmp_path):
    with pytest.raises(ValueError, match="directory not found"):
        load_impression(tmp_path)
    small_layout(tmp_path)
    (tmp_path / "labels" / "1.csv").unlink()
    with pytest.raises(ValueError, match=r"labels.1.csv: file not found"):
        load_impression(tmp_path)
    small_layout(tmp_path)
    (tmp_path / "feats_stimuli" / "sti.csv").unlink()
    with pytest.raises(ValueError, match=r"sti.csv: file not found"):
        load_impression(tmp_path)
    small_layout(tmp_path)
    (tmp_path / "feats_participant" / "0.csv").unlink()
    with pytest.raises(ValueError, match=r"labels.0.csv: labels without"):
        load_impression(tmp_path)
    small_layout(tmp_path)
    with pytest.raises(ValueError, match=r"receivers \['7'\] not found"):
        load_impression(tmp_path, receivers=[7])


# -- writer errors ---------------------------------------------------------------
def test_write_requires_label_rate(tmp_path, data):
    with pytest.raises(ValueError, match=r"receiver=0.*emitter.audio.*resample first"):
        write_impression(tmp_path, data.recordings, data.targets)


def test_write_checks_inputs(tmp_path, data, label_rate):
    with pytest.raises(ValueError, match="6 recordings but 5 targets"):
        write_impression(tmp_path, label_rate, data.targets[:5])
    bad = list(data.targets)
    bad[1] = bad[1][:-1]
    with pytest.raises(ValueError, match=r"stimulus=1.*shape \(149, 2\)"):
        write_impression(tmp_path, label_rate, bad)
    other = to_label_rate(make_impression(3, 2, [4.0, 6.0], random_state=1).recordings)
    with pytest.raises(ValueError, match="emitter streams differ"):
        write_impression(tmp_path, [label_rate[0], other[2]], data.targets[:1] * 2)
    odd = label_rate[0].replace(receiver="a/b")
    with pytest.raises(ValueError, match="cannot be a file name"):
        write_impression(tmp_path, [odd], data.targets[:1])


def test_write_refuses_to_overwrite(tmp_path, data, label_rate):
    write_impression(tmp_path, label_rate, data.targets)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_impression(tmp_path, label_rate, data.targets)
    write_impression(tmp_path, label_rate[:2], data.targets[:2], overwrite=True)
    assert load_impression(tmp_path).receivers.tolist() == [0, 0]


def test_load_in_parallel_equals_serial(tmp_path, data, label_rate):
    write_impression(tmp_path, label_rate, data.targets)
    serial = load_impression(tmp_path)
    parallel = load_impression(tmp_path, n_jobs=2)
    assert parallel.receivers.tolist() == serial.receivers.tolist()
    assert parallel.stimuli.tolist() == serial.stimuli.tolist()
    for a, b, ya, yb in zip(serial.recordings, parallel.recordings, serial.targets,
                            parallel.targets, strict=True):
        assert a.modalities == b.modalities
        for name in a.modalities:
            np.testing.assert_array_equal(b.streams[name].values,
                                          a.streams[name].values)
        np.testing.assert_array_equal(yb, ya)
    recs = parallel.recordings
    assert recs[0].streams["emitter.audio"] is recs[4].streams["emitter.audio"]


def test_load_in_parallel_reports_the_same_error(tmp_path):
    small_layout(tmp_path)
    _corrupt(tmp_path, "feats_participant/1.csv", "x,idx\n0,0\n0,1\nabc,2\n0,3\n")
    match = r"1.csv, line 4, column 1: non-numeric value 'abc'"
    with pytest.raises(ValueError, match=match):
        load_impression(tmp_path)
    with pytest.raises(ValueError, match=match):
        load_impression(tmp_path, n_jobs=2)


@pytest.mark.parametrize("relative, text, match", [
    ("feats_stimuli/sti.csv", "a,b\n0,1\n0,1e39\n0,1\n0,1\n",
     r"sti.csv, line 3, column 2: value .* beyond float32's range"),
    ("feats_stimuli/sti.csv", "a,b\n0,1\n0,1\ninf,1\n0,1\n",
     r"sti.csv, line 4, column 1: value .*infinite"),
    ("feats_participant/1.csv", "x,idx\n0,0\n-2e40,1\n0,2\n0,3\n",
     r"1.csv, line 3, column 1: value .* beyond float32's range"),
])
def test_load_rejects_values_float32_cannot_hold(tmp_path, relative, text, match):
    small_layout(tmp_path)
    _corrupt(tmp_path, relative, text)
    with pytest.raises(ValueError, match=match):
        load_impression(tmp_path)


def test_write_accepts_rate_within_tolerance(tmp_path):
    # What the Resampler keeps as is (rate within 1e-9 of the label rate) the
    # writer accepts as label-rate features.
    near = 25.0 * (1 + 1e-12)
    rec = Recording({"emitter.audio": Stream(np.ones((4, 1)), near, ["zcr"]),
                     "receiver.physio": Stream(np.zeros((4, 1)), 25.0, ["gsr"])},
                    n_frames=4, receiver=1, stimulus=0)
    write_impression(tmp_path, [rec], [np.zeros((4, 2))])
    loaded = load_impression(tmp_path)
    np.testing.assert_array_equal(
        loaded.recordings[0].streams["emitter.audio"].values, np.ones((4, 1)))
