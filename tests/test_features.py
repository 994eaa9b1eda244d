"""Raw signals to streams: openSMILE audio, NeuroKit2 physiology, OpenFace and
timestamped CSV readers, alignment on one timeline.

Audio uses ``tests/data/speech.wav`` (eSpeak NG speech with pauses, see the README
there); physiology NeuroKit2's simulators. Tests needing the ``features`` extra skip
without it.
"""

from pathlib import Path

import numpy as np
import pytest

from sklearn_impression import Stream
from sklearn_impression.features import (
    TimedStream,
    align_streams,
    physio_kind,
    read_openface,
    read_timestamped_csv,
)

DATA = Path(__file__).parent / "data"
SPEECH = DATA / "speech.wav"
# Where tests/data/speech.wav speaks and where it is silent (README there).
SPEECH_PARTS = [(0.05, 1.35), (2.1, 2.9)]
PAUSES = [(1.45, 2.0), (3.0, 3.45)]

OPENFACE_HEADER = ("frame, face_id, timestamp, confidence, success, gaze_0_x, "
                   "gaze_angle_x, AU06_r, AU12_r, AU06_c, AU12_c")


def _openface_csv(path, rows):
    lines = [OPENFACE_HEADER] + [", ".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _mask(t, parts):
    return np.any([(t > a) & (t < b) for a, b in parts], axis=0)


# -- audio ---------------------------------------------------------------------------
def test_audio_features_speech_has_more_energy_than_pauses():
    pytest.importorskip("opensmile")
    from sklearn_impression.features import audio_features

    stream = audio_features(SPEECH)
    assert stream.rate == 100.0
    assert stream.n_channels == 16
    assert stream.channels[:2] == ("pcm_RMSenergy_sma", "pcm_fftMag_mfcc_sma[1]")
    assert {"pcm_zcr_sma", "voiceProb_sma", "F0_sma"} <= set(stream.channels)
    assert abs(stream.duration - 55646 / 16000) < 0.03  # one row per 10 ms
    t = np.arange(stream.n_samples) / stream.rate
    energy = stream.values[:, stream.channels.index("pcm_RMSenergy_sma")]
    speech, pause = energy[_mask(t, SPEECH_PARTS)], energy[_mask(t, PAUSES)]
    assert np.median(speech) > 0.005
    assert np.median(speech) > 20 * (pause.max() + 1e-4)
    voicing = stream.values[:, stream.channels.index("voiceProb_sma")]
    assert voicing[_mask(t, SPEECH_PARTS)].mean() > voicing[_mask(t, PAUSES)].mean()


@pytest.mark.parametrize("feature_set, n_channels, first", [
    ("eGeMAPS", 25, "Loudness_sma3"), ("ComParE", 65, "F0final_sma")])
def test_audio_features_other_feature_sets(feature_set, n_channels, first):
    pytest.importorskip("opensmile")
    import soundfile

    from sklearn_impression.features import audio_features

    signal, rate = soundfile.read(SPEECH, dtype="float32")
    stream = audio_features(signal[:16000], rate, feature_set=feature_set)
    assert (stream.n_channels, stream.channels[0], stream.rate) == (
        n_channels, first, 100.0)
    assert 95 <= stream.n_samples <= 100


def test_audio_bad_input(tmp_path):
    pytest.importorskip("opensmile")
    import soundfile

    from sklearn_impression.features import audio_features, read_audio

    mp3 = tmp_path / "talk.mp3"
    mp3.write_bytes(b"ID3")
    with pytest.raises(ValueError, match=r"talk\.mp3: unsupported audio format '.mp3'"):
        audio_features(mp3)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really")
    with pytest.raises(ValueError, match=r"junk\.wav: not a readable audio file"):
        read_audio(junk)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0), 16000)
    with pytest.raises(ValueError, match=r"empty\.wav: empty audio"):
        audio_features(empty)
    with pytest.raises(ValueError, match=r"speech\.wav: the file's sampling rate is "
                       r"16000 Hz, but 22050 Hz was stated"):
        audio_features(SPEECH, 22050)
    loud = np.clip(3 * np.sin(np.arange(16000) / 5.0), -1, 1)
    clipped = tmp_path / "clipped.wav"
    soundfile.write(clipped, loud, 16000, subtype="PCM_16")
    with pytest.raises(ValueError, match=r"clipped\.wav: clipped audio, \d+\.\d+% of "
                       r"the samples at full scale \(the first at t = 0\.\d{4} s"):
        audio_features(clipped)
    with pytest.raises(ValueError, match="pass the sampling rate"):
        audio_features(loud * 0.1)
    with pytest.raises(ValueError, match="feature_set must be one of"):
        audio_features(SPEECH, feature_set="IS10")


# -- physiology ----------------------------------------------------------------------
def test_physio_kind_from_channel_names():
    assert [physio_kind(n) for n in ("BVP", "ppg_green", "ECG", "gsr", "EDA",
                                     "temp")] == ["ppg", "ppg", "ecg", "eda", "eda",
                                                  None]


def test_physio_features_heart_rate_of_simulated_70_bpm():
    nk = pytest.importorskip("neurokit2")
    from sklearn_impression.features import physio_features

    rate = 100
    ppg = nk.ppg_simulate(duration=60, sampling_rate=rate, heart_rate=70,
                          random_state=0)
    ecg = nk.ecg_simulate(duration=60, sampling_rate=rate, heart_rate=70,
                          method="simple", random_state=0)
    eda = nk.eda_simulate(duration=60, sampling_rate=rate, scr_number=3,
                          random_state=0)
    raw = Stream(np.column_stack([ppg, ecg, eda]), rate, ["bvp", "ecg", "gsr"])
    out = physio_features(raw)
    assert out.rate == rate and out.n_samples == raw.n_samples
    assert out.channels == ("bvp_clean", "bvp_heart_rate", "ecg_clean",
                            "ecg_heart_rate", "gsr_clean", "gsr_tonic", "gsr_phasic")
    v = out.values
    assert abs(v[:, 1].mean() - 70) <= 2  # PPG
    assert abs(v[:, 3].mean() - 70) <= 2  # ECG
    # skin conductance: the slow level and the responses add up to the signal
    np.testing.assert_allclose(v[:, 5] + v[:, 6], v[:, 4], atol=0.05)
    assert np.std(np.diff(v[:, 5])) < 0.1 * np.std(np.diff(v[:, 4]))
    unchanged = physio_features(raw, processed=False)
    np.testing.assert_array_equal(unchanged.values, raw.values)


def test_physio_features_bad_input():
    pytest.importorskip("neurokit2")
    from sklearn_impression.features import physio_features

    x = np.zeros((500, 1))
    with pytest.raises(ValueError, match=r"physio, channel 'temp': unknown"):
        physio_features(x, 100, channels=["temp"])
    x[7] = np.nan
    with pytest.raises(ValueError, match=r"'gsr': nan at sample 7 \(t = 0\.070 s\)"):
        physio_features(x, 100, channels=["gsr"])
    with pytest.raises(ValueError, match=r"'bvp': constant signal \(a flat line"):
        physio_features(np.ones(1000), 100, channels=["bvp"])


# -- OpenFace ------------------------------------------------------------------------
def test_read_openface_failed_frames_become_nan(tmp_path):
    rows = [[k + 1, 0, f"{k / 30:.3f}", 0.95, 1, 0.1 * k, 0.2, 1.0, 2.0 + k, 1, 1]
            for k in range(60)]
    rows[10][3:5] = [0.0, 0]  # tracking failed: OpenFace writes zeros
    rows[11][3] = 0.3  # low confidence
    path = _openface_csv(tmp_path / "face.csv", rows)
    face = read_openface(path, min_confidence=0.5, offset=-1.0)
    assert face.stream.channels == ("AU06_r", "AU12_r", "AU06_c", "AU12_c")
    assert face.stream.rate == 30.0  # from timestamps rounded to milliseconds
    assert face.start == -1.0 and face.source == "face.csv"
    values = face.stream.values
    assert np.isnan(values[[10, 11]]).all()
    assert not np.isnan(np.delete(values, [10, 11], axis=0)).any()
    np.testing.assert_array_equal(values[12], [1.0, 14.0, 1.0, 1.0])  # kept exact
    eye = read_openface(path, select="eye")
    assert eye.stream.channels == ("gaze_0_x", "gaze_angle_x")


def test_read_openface_bad_input(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,AU12_r\n0,1\n0.04,2\n")
    with pytest.raises(ValueError, match=r"plain\.csv, line 1: no 'confidence' "
                       "column; expected OpenFace 2 output"):
        read_openface(plain)
    rows = [[k + 1, 0, k * 0.04, 0.9, 1, 0, 0, 1, 1, 1, 1] for k in range(5)]
    rows[3][2] = 0.02
    back = _openface_csv(tmp_path / "back.csv", rows)
    with pytest.raises(ValueError, match=r"back\.csv, line 5: timestamp 0\.02 s goes "
                       r"backwards from 0\.08 s \(line 4\)"):
        read_openface(back)
    no_au = tmp_path / "no_au.csv"
    no_au.write_text("timestamp, confidence, success, pose_Tx\n0, 1, 1, 0\n")
    with pytest.raises(ValueError, match=r"no_au\.csv, line 1: no face columns"):
        read_openface(no_au)


def test_read_openface_two_faces(tmp_path):
    # FaceLandmarkVidMulti: one row per face and frame. Face 0 is tracked all 30
    # frames at 0.9; face 1 at 0.97 in frames 0-4 and 20-29 only, so its mean over
    # the file's frames (0.49) is lower although its rows' mean is higher.
    rows = []
    for k in range(30):
        rows.append([k + 1, 0, f"{k / 30:.3f}", 0.9, 1, 0, 0, 1.0, 1.0, 1, 1])
        if k < 5 or k >= 20:
            rows.append([k + 1, 1, f"{k / 30:.3f}", 0.97, 1, 0, 0, 3.0, 3.0, 1, 1])
    path = _openface_csv(tmp_path / "two.csv", rows)
    with pytest.warns(UserWarning, match=r"two\.csv: 2 faces tracked \(mean "
                      r"confidence over the file's frames: face_id 0: 0\.90, "
                      r"face_id 1: 0\.49\); using face_id 0, the highest"):
        face = read_openface(path)
    assert face.stream.n_samples == 30 and face.stream.rate == 30.0
    assert (face.stream.values[:, 1] == 1.0).all()
    # face 1 on its own: its missing frames are a gap, reported on the file's lines
    with pytest.raises(ValueError, match=r"two\.csv, lines 11-28: no samples from "
                       r"t = 0\.133 to 0\.667 s"):
        read_openface(path, face_id=1)
    other = read_openface(path, face_id=1, on_gap="nan")
    assert other.stream.rate == 30.0  # from every face's timestamps
    assert np.isnan(other.stream.values[5:20]).all()
    np.testing.assert_array_equal(other.stream.values[21:, 1], 3.0)
    with pytest.raises(ValueError, match=r"two\.csv: no face_id 2; the file tracks "
                       r"face_id 0, 1"):
        read_openface(path, face_id=2)
    with pytest.raises(ValueError, match=r"face_id must be an int or None"):
        read_openface(path, face_id="1")


# -- timestamped CSV -----------------------------------------------------------------
def test_read_timestamped_csv_irregular_to_uniform(tmp_path, rng):
    t = np.cumsum(rng.uniform(0.5, 1.5, 300)) / 120 + 1.0  # ~120 Hz, jittered
    path = tmp_path / "eye.csv"
    np.savetxt(path, np.column_stack([t * 1000, 3 * t, -t]), delimiter=",",
               header="timestamp,gaze_x,gaze_y", comments="", fmt="%.9g")
    eye = read_timestamped_csv(path, rate=60, time_scale=0.001, offset=-1.0)
    assert eye.stream.rate == 60 and eye.stream.channels == ("gaze_x", "gaze_y")
    assert eye.start == pytest.approx(t[0] - 1.0)
    grid = t[0] + np.arange(eye.stream.n_samples) / 60
    assert grid[-1] <= t[-1] < grid[-1] + 1 / 60
    np.testing.assert_allclose(eye.stream.values[:, 0], 3 * grid, rtol=1e-6)


def test_read_timestamped_csv_gaps_and_clock(tmp_path):
    t = np.r_[np.arange(0, 1, 0.01), np.arange(1.5, 2, 0.01)]
    path = tmp_path / "eye.csv"
    np.savetxt(path, np.column_stack([t, t]), delimiter=",", header="time,gaze",
               comments="", fmt="%.6f")
    with pytest.raises(ValueError, match=r"eye\.csv, lines 101-102: no samples from "
                       r"t = 0\.99 to 1\.5 s"):
        read_timestamped_csv(path, rate=100, time_column="time")
    gappy = read_timestamped_csv(path, rate=100, time_column="time", on_gap="nan")
    values = gappy.stream.values[:, 0]
    assert np.isnan(values[100:150]).all()
    assert not np.isnan(np.delete(values, np.arange(100, 150))).any()
    # a device at its own rate: dropped samples and clock mismatch are errors
    with pytest.raises(ValueError, match=r"eye\.csv, line 102: timestamp 1\.5 s is "
                       r"0\.5000 s away from sample 100 at the stated 100 Hz"):
        read_timestamped_csv(path, rate=100, time_column="time", resample=False)
    fast = tmp_path / "fast.csv"
    t = np.arange(1000) / 128.5  # a clock 0.4% fast against the stated 128 Hz
    np.savetxt(fast, np.column_stack([t, t]), delimiter=",", header="timestamp,gsr",
               comments="", fmt="%.6f")
    with pytest.raises(ValueError, match=r"fast\.csv, line 1001: .* a clock running "
                       r"at 128\.5 Hz"):
        read_timestamped_csv(fast, rate=128, resample=False)
    assert read_timestamped_csv(fast, rate=128.5, resample=False).stream.n_samples \
        == 1000


# -- alignment -----------------------------------------------------------------------
def test_align_streams_cuts_to_span_and_records_it():
    physio = TimedStream(Stream(np.arange(1000.0), 100), start=-2.0, source="p.csv")
    video = TimedStream(Stream(np.arange(100.0), 25), start=0.01, source="v.csv")
    aligned, record = align_streams({"receiver.physio": physio,
                                     "receiver.face": video}, (0.0, 4.0),
                                    tolerance=0.04)
    np.testing.assert_array_equal(aligned["receiver.physio"].values[[0, -1], 0],
                                  [200.0, 599.0])
    assert aligned["receiver.physio"].n_samples == 400
    assert record["receiver.physio"]["first_sample"] == 200
    assert record["receiver.physio"]["source"] == "p.csv"
    # 10 ms late, a quarter frame: the nearest frames are kept, the shift recorded
    np.testing.assert_array_equal(aligned["receiver.face"].values[:, 0],
                                  np.arange(100.0))
    assert record["receiver.face"]["shift"] == pytest.approx(0.01)
    assert record["receiver.face"]["padded_start"] == 0.0


def test_align_streams_pads_within_tolerance_and_raises_beyond():
    video = TimedStream(Stream(np.arange(99.0), 25), start=0.0, source="v.csv")
    aligned, record = align_streams({"emitter.face": video}, (0.0, 4.0),
                                    tolerance=0.04)
    values = aligned["emitter.face"].values[:, 0]
    assert values.shape == (100,) and values[-1] == values[-2] == 98.0
    assert record["emitter.face"]["padded_stop"] == pytest.approx(0.04)
    late = TimedStream(Stream(np.arange(100.0), 25), start=0.5, source="late.csv")
    with pytest.raises(ValueError, match=r"stream 'emitter.face' \(late\.csv\) covers "
                       r"t = 0\.500 \.\. 4\.500 s but the annotation spans t = 0\.000 "
                       r"\.\. 4\.000 s: it misses 0\.500 s at the start"):
        align_streams({"emitter.face": late}, (0.0, 4.0), tolerance=0.04)
