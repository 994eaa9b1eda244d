"""Raw-session folders: make_raw_sessions writes them, load_raw_sessions reads them
into the bunch of load_impression, the CLI trains and predicts from them."""

import csv
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("opensmile")
pytest.importorskip("neurokit2")

from sklearn_impression import Recording, Resampler  # noqa: E402
from sklearn_impression.cli import main  # noqa: E402
from sklearn_impression.features import (  # noqa: E402
    load_raw_sessions,
    make_raw_sessions,
)

DURATION = 4.0
# The rate eSpeak NG and many corpora write, at which 10 ms is no whole number of
# samples (openSMILE sees it resampled to 16 kHz).
AUDIO_RATE = 22050


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory):
    return make_raw_sessions(tmp_path_factory.mktemp("raw"), n_receivers=2,
                             n_stimuli=2, duration=DURATION, audio_rate=AUDIO_RATE,
                             random_state=0)


@pytest.fixture(scope="module")
def raw_data(raw_root):
    return load_raw_sessions(raw_root)


@pytest.fixture
def copy(raw_root, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(raw_root, root)
    return root


def _edit_manifest(root, column, value, row=0):
    with open(root / "manifest.csv", newline="") as f:
        rows = list(csv.reader(f))
    rows[row + 1][rows[0].index(column)] = value
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)


def test_load_raw_sessions_gives_the_load_impression_bunch(raw_data):
    data = raw_data
    assert len(data.recordings) == len(data.targets) == 4
    assert data.receivers.tolist() == ["p01", "p01", "p02", "p02"]
    assert data.stimuli.tolist() == ["s1", "s2", "s1", "s2"]
    assert data.target_names == ("competence", "warmth")
    rec = data.recordings[0]
    assert isinstance(rec, Recording) and rec.n_frames == 100
    assert rec.modalities == ("emitter.audio", "emitter.eye", "emitter.face",
                              "receiver.eye", "receiver.face", "receiver.physio")
    rates = {n: s.rate for n, s in rec.streams.items()}
    assert rates == {"emitter.audio": 100.0, "emitter.eye": 25.0,
                     "emitter.face": 25.0, "receiver.eye": 60.0,
                     "receiver.face": 30.0, "receiver.physio": 128.0}
    for name, stream in rec.streams.items():  # every stream spans the labels
        assert stream.n_samples == round(DURATION * stream.rate), name
    assert rec.streams["emitter.audio"].channels[0] == "pcm_RMSenergy_sma"
    assert rec.streams["receiver.physio"].channels == ("bvp", "ecg", "gsr")
    # one emitter Stream per stimulus, shared by the receivers who watched it
    assert data.recordings[2].streams["emitter.audio"] is rec.streams["emitter.audio"]
    assert data.targets[0].shape == (100, 2)


def test_load_raw_sessions_aligns_by_offsets(raw_root, raw_data):
    record = raw_data.alignment[0]
    physio = record["receiver.physio"]
    # the wearable started 2 s before the stimulus: 256 samples at 128 Hz skipped
    assert (physio["start"], physio["first_sample"], physio["shift"]) == (-2.0, 256,
                                                                          0.0)
    file = np.loadtxt(raw_root / physio["source"], delimiter=",", skiprows=1)
    np.testing.assert_allclose(
        raw_data.recordings[0].streams["receiver.physio"].values,
        file[256:256 + 512, 1:])
    assert record["receiver.face"]["start"] == -0.5
    assert record["receiver.face"]["first_sample"] == 15
    audio = record["emitter.audio"]  # openSMILE's last frame ends with the file
    assert audio["padded_start"] == 0 and 0 < audio["padded_stop"] <= 0.04
    assert raw_data.spans[0] == (0.0, DURATION)


def test_load_raw_sessions_failed_tracking(raw_root, raw_data):
    face = raw_data.recordings[0].streams["emitter.face"].values
    assert np.isnan(face).any()  # failed frames kept as NaN by default
    with pytest.raises(ValueError, match="nan_policy='interpolate'"):
        Resampler().fit_transform(raw_data.recordings)
    filled = load_raw_sessions(raw_root, nan_policy="interpolate", physio="processed")
    rec = filled.recordings[0]
    assert not np.isnan(rec.streams["emitter.face"].values).any()
    assert filled.alignment[0]["emitter.face"]["nan_filled"] == np.isnan(face).sum()
    assert rec.streams["receiver.physio"].channels[:2] == ("bvp_clean",
                                                           "bvp_heart_rate")
    hr = rec.streams["receiver.physio"].values[:, 1]
    assert 55 < hr.mean() < 85  # simulated between 60 and 80 bpm
    out = Resampler().fit_transform(filled.recordings)
    assert all(s.n_samples == 100 for s in out[0].streams.values())


def test_load_raw_sessions_threads_give_the_same(raw_root, raw_data):
    from joblib import parallel_config

    with parallel_config(backend="threading"):
        again = load_raw_sessions(raw_root, n_jobs=2)
    for a, b in zip(raw_data.recordings, again.recordings, strict=True):
        for name in a.streams:
            np.testing.assert_array_equal(a.streams[name].values,
                                          b.streams[name].values)


@pytest.mark.parametrize("edit, message", [
    (("emitter.audio", "stimuli/s1/audio.mp3"),
     r"stimuli/s1/audio\.mp3: unsupported file format '.mp3'"),
    (("emitter.audio.rate", "16000"),
     r"stimuli/s1/audio\.wav: the file's sampling rate is 22050 Hz, but 16000 Hz"),
    (("receiver.physio.offset", "1.0"),
     r"manifest\.csv, line 2: stream 'receiver.physio' \(receivers/p01/s1/physio"
     r"\.csv\) covers t = 1\.000 \.\. 8\.000 s but the annotation spans t = 0\.000 "
     r"\.\. 4\.000 s: it misses 1\.000 s at the start"),
    (("receiver.eye.rate", ""), r"state its rate in the manifest column "
     r"'receiver\.eye\.rate'"),
    (("receiver.physio.rate", "130"),
     r"receivers/p01/s1/physio\.csv, line \d+: timestamp .* away from sample \d+ at "
     r"the stated 130 Hz .* a clock running at 128 Hz"),
    (("receiver.eye", ""), r"manifest\.csv, line 3: modality 'receiver\.eye' is "
     r"given here but missing on line 2; every recording needs the same"),
    (("emitter.face", "receivers/p01/s1/eye.csv"),
     r"receivers/p01/s1/eye\.csv, line 1: no 'confidence' column; expected "
     r"OpenFace 2 output"),
])
def test_load_raw_sessions_bad_manifest_entries(copy, edit, message):
    (copy / "stimuli" / "s1" / "audio.mp3").write_bytes(b"ID3")
    _edit_manifest(copy, *edit)
    with pytest.raises(ValueError, match=message):
        load_raw_sessions(copy)


def test_load_raw_sessions_bad_files(raw_root, copy):
    eye = copy / "receivers" / "p02" / "s2" / "eye.csv"
    lines = eye.read_text().splitlines()
    lines[5], lines[6] = lines[6], lines[5]
    eye.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"receivers/p02/s2/eye\.csv, line 7: "
                       r"timestamp .* goes backwards"):
        load_raw_sessions(copy)
    eye.write_text("\n".join(lines[:5] + lines[40:]) + "\n")
    with pytest.raises(ValueError, match=r"eye\.csv, lines 5-6: no samples from"):
        load_raw_sessions(copy)
    gappy = load_raw_sessions(copy, on_gap="nan").recordings[3]
    assert gappy.stimulus == "s2" and gappy.receiver == "p02"
    assert np.isnan(gappy.streams["receiver.eye"].values[:10]).all()  # t < 0.17 s
    (copy / "stimuli" / "s2" / "audio.wav").write_bytes(b"")
    with pytest.raises(ValueError, match=r"stimuli/s2/audio\.wav: not a readable"):
        load_raw_sessions(copy, on_gap="nan")
    shutil.copy(raw_root / "stimuli" / "s2" / "audio.wav", copy / "stimuli" / "s2")
    labels = copy / "labels" / "p01_s1.csv"
    labels.write_text("time,competence,warmth\n0,0.1,0.2\n0.04,nan,0.1\n")
    with pytest.raises(ValueError, match=r"labels/p01_s1\.csv, line 3: NaN or inf"):
        load_raw_sessions(copy, on_gap="nan")
    (copy / "manifest.csv").unlink()
    with pytest.raises(ValueError, match=r"no manifest"):
        load_raw_sessions(copy)


def test_load_raw_sessions_manifest_rows(copy):
    with open(copy / "manifest.csv", newline="") as f:
        rows = list(csv.reader(f))
    with open(copy / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows + [rows[1]])  # p01 watching s1 again
    with pytest.raises(ValueError, match=r"manifest\.csv, lines 2 and 6: receiver "
                       r"'p01' with stimulus 's1' is listed twice"):
        load_raw_sessions(copy)
    rows[0] += ["emitter.face.face_id", "receiver.eye.face_id"]
    for row in rows[1:]:
        row += ["1", ""]
    with open(copy / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ValueError, match=r"stimuli/s1/face\.csv: no face_id 1; the "
                       r"file tracks face_id 0"):
        load_raw_sessions(copy)
    for row in rows[1:]:
        row[-2:] = ["0", "0"]
    with open(copy / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ValueError, match=r"receivers/p01/s1/eye\.csv: "
                       r"'receiver\.eye\.face_id' is set, but the file is not "
                       r"OpenFace output"):
        load_raw_sessions(copy)


def test_cli_train_and_predict_from_raw_files(raw_root, tmp_path, capsys):
    import soundfile

    # the case: a session folder whose WAV is at 22,050 Hz
    assert soundfile.info(raw_root / "stimuli" / "s1" / "audio.wav").samplerate == (
        AUDIO_RATE)
    model_dir = tmp_path / "model"
    assert main(["train", "--data", str(raw_root), "--epochs", "1", "--quiet",
                 "--threads", "1", "--out", str(model_dir)]) == 0
    report = json.loads((model_dir / "train.json").read_text())
    assert report["data_name"] == f"raw sessions ({raw_root})"
    out = tmp_path / "traces"
    assert main(["predict", "--model", str(model_dir / "model.safetensors"), "--data",
                 str(raw_root), "--out", str(out)]) == 0
    files = sorted(p.name for p in out.glob("*.csv"))
    assert files == [f"receiver-{r}_stimulus-{s}.csv" for r in ("p01", "p02")
                     for s in ("s1", "s2")]
    table = np.loadtxt(out / files[0], delimiter=",", skiprows=1)
    assert table.shape == (100, 4) and np.isfinite(table).all()
    assert "wrote 4 prediction files" in capsys.readouterr().out
