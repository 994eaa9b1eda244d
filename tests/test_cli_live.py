"""``sklearn-impression live``: a raw session replayed, or JSON lines from stdin,
give the causal pipeline's ``predict`` frame by frame."""

import io
import json
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("opensmile")
pytest.importorskip("neurokit2")

import joblib  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sklearn_impression import (  # noqa: E402
    CrossDomainRegressor,
    ModalityConcatenator,
    Resampler,
    save_model,
)
from sklearn_impression.cli import main  # noqa: E402
from sklearn_impression.features import (  # noqa: E402
    load_raw_sessions,
    make_raw_sessions,
)
from sklearn_impression.live import make_live_pipeline  # noqa: E402

from _builders import one_error_line as _one_error_line  # noqa: E402

FAST = dict(hidden_size=4, num_layers=1, num_heads=2, fc_size=4, max_epochs=1,
            random_state=0)


@pytest.fixture(scope="module")
def live_model(tmp_path_factory):
    """A raw-session folder, a causal pipeline fitted on it (saved both ways)
    and the recording of session p02/s1."""
    tmp = tmp_path_factory.mktemp("live")
    root = make_raw_sessions(tmp / "raw", n_receivers=2, n_stimuli=1, duration=4.0,
                             random_state=0)
    data = load_raw_sessions(root)  # failed tracking kept as NaN, held causally
    pipe = make_live_pipeline(CrossDomainRegressor(**FAST), halflife=2.0)
    pipe.fit(data.recordings, data.targets)
    save_model(pipe, tmp / "live.safetensors")
    joblib.dump(pipe, tmp / "live.joblib")
    rec = next(r for r in data.recordings if r.receiver == "p02")
    return {"root": root, "pipe": pipe, "rec": rec, "tmp": tmp,
            "safetensors": tmp / "live.safetensors", "joblib": tmp / "live.joblib"}


def _records(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _check_against_predict(records, live_model):
    rec, pipe = live_model["rec"], live_model["pipe"]
    expected = pipe.predict([rec])[0]
    frames = np.array([r["frame"] for r in records])
    np.testing.assert_array_equal(frames, np.arange(rec.n_frames))
    np.testing.assert_allclose([r["time"] for r in records],
                               frames / rec.frame_rate)
    values = np.array([[r["competence"], r["warmth"]] for r in records])
    assert np.abs(values - expected).max() <= 1e-5
    assert all(r["latency_ms"] >= 0 for r in records)
    assert set(records[0]) == {"frame", "time", "competence", "warmth", "latency_ms"}


def test_live_replays_a_raw_session_as_the_pipelines_predict(live_model, tmp_path,
                                                             capsys):
    out = tmp_path / "frames.jsonl"
    assert main(["live", "--model", str(live_model["safetensors"]), "--data",
                 str(live_model["root"]), "--session", "p02/s1", "--out", str(out),
                 "--quiet"]) == 0
    _check_against_predict(_records(out.read_text()), live_model)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("[live] 100 frames")  # the summary
    assert "p50" in err[0] and "p95" in err[0] and "p99" in err[0]
    # a receiver alone names its only session; uneven chunks give the same
    assert main(["live", "--model", str(live_model["joblib"]), "--data",
                 str(live_model["root"]), "--session", "p02", "--chunk", "0.37"]) == 0
    captured = capsys.readouterr()
    _check_against_predict(_records(captured.out), live_model)
    assert "[live] session p02: 100 frames" in captured.err  # progress


def _protocol_lines(rec, *, end=True):
    """The stdin protocol for ``rec``: each stream in 3 uneven parts, the first
    two as single-stream lines, the last as one streams line; NaN as null."""
    lines = [json.dumps({"rates": {m: s.rate for m, s in rec.streams.items()},
                         "receiver": rec.receiver, "stimulus": rec.stimulus})]

    def part(values):
        return np.where(np.isnan(values), None, values).tolist()

    last = {}
    for m, s in rec.streams.items():
        a, b = s.n_samples // 5, s.n_samples // 2 + 3
        lines.append(json.dumps({"stream": m, "samples": part(s.values[:a])}))
        lines.append("")  # blank lines are skipped
        lines.append(json.dumps({"stream": m, "samples": part(s.values[a:b])}))
        last[m] = part(s.values[b:])
    lines.append(json.dumps({"streams": last}))
    if end:
        lines.append(json.dumps({"end": True, "n_frames": rec.n_frames}))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("end", [True, False])
def test_live_reads_the_stdin_protocol(live_model, monkeypatch, capsys, end):
    rec = live_model["rec"]
    assert any(np.isnan(s.values).any() for s in rec.streams.values())  # nulls sent
    monkeypatch.setattr(sys, "stdin", io.StringIO(_protocol_lines(rec, end=end)))
    assert main(["live", "--model", str(live_model["safetensors"]), "--stdin",
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    _check_against_predict(_records(captured.out), live_model)
    assert captured.err.startswith("[live] 100 frames")


def test_live_refuses_a_model_that_is_not_causal(live_model, tmp_path, capsys):
    offline = Pipeline([("resample", Resampler()), ("concat", ModalityConcatenator()),
                        ("model", CrossDomainRegressor(**FAST))])
    path = tmp_path / "offline.joblib"
    joblib.dump(offline, path)
    # refused before the data is read: the folder does not exist
    line = _one_error_line(capsys, main(["live", "--model", str(path), "--data",
                                         str(tmp_path / "nowhere"), "--session",
                                         "p01/s1"]))
    assert f"--model {path}: step 'model' (CrossDomainRegressor) is not causal" in line
    assert "make_live_pipeline" in line


@pytest.mark.parametrize("argv, message", [
    (["--data", "X"], "--data needs --session RECEIVER/STIMULUS"),
    (["--stdin", "--realtime"], "--realtime: only with --data"),
    (["--stdin", "--data", "X"], "argument --data: not allowed with argument "
                                 "--stdin"),
    (["--data", "ROOT", "--session", "p09/s1"], "--session p09/s1: no such session "
                                                "in"),
])
def test_live_argument_errors(live_model, capsys, argv, message):
    argv = [str(live_model["root"]) if a == "ROOT" else a for a in argv]
    code = main(["live", "--model", str(live_model["joblib"]), "--quiet", *argv])
    assert message in _one_error_line(capsys, code)


def _bad_lines(rec):
    header = json.dumps({"rates": {m: s.rate for m, s in rec.streams.items()},
                         "receiver": rec.receiver})
    width = rec.streams["emitter.audio"].n_channels
    good = json.dumps({"stream": "emitter.audio", "samples": [[0.0] * width]})
    return {
        "not json": ([header, good, "{oops"], "stdin line 3: not JSON"),
        "no header": ([good], 'stdin line 1: the first line must be a header '
                              '{"rates"'),
        "missing rate": ([json.dumps({"rates": {"emitter.audio": 100}})],
                         "stdin line 1: rates must name exactly the modalities"),
        "unknown stream": ([header, good, json.dumps(
            {"stream": "emitter.voice", "samples": [[1.0]]})],
            "stdin line 3: unknown stream 'emitter.voice'"),
        "wrong width": ([header, "", json.dumps(
            {"stream": "emitter.audio", "samples": [[1.0] * (width + 1)]})],
            f"stdin line 3: stream 'emitter.audio': samples must have shape (n, "
            f"{width})"),
        "text samples": ([header, json.dumps({"stream": "emitter.audio",
                                              "samples": [["a"] * width]})],
                         "stdin line 2: stream 'emitter.audio': samples must be a "
                         "list of samples"),
        "unknown key": ([header, json.dumps({"stream": "emitter.audio",
                                             "samples": [], "t": 0})],
                        "stdin line 2: a stream line: unknown keys ['t']"),
        "after end": ([header, json.dumps({"end": True}), good],
                      "stdin line 3: a line after the end line"),
        "bad end": ([header, json.dumps({"end": True, "n_frames": 0})],
                    "stdin line 2: an end line is"),
        "empty": ([""], "stdin: no header line"),
    }


@pytest.mark.parametrize("case", ["not json", "no header", "missing rate",
                                  "unknown stream", "wrong width", "text samples",
                                  "unknown key", "after end", "bad end", "empty"])
def test_live_stdin_errors_name_the_line(live_model, monkeypatch, capsys, case):
    lines, message = _bad_lines(live_model["rec"])[case]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["live", "--model", str(live_model["joblib"]), "--stdin", "--quiet"])
    line = _one_error_line(capsys, code)
    assert message in line, line
