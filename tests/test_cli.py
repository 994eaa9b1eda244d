"""The ``sklearn-impression`` command, run in-process through ``main``."""

import csv
import json

import numpy as np
import pytest

from sklearn_impression.cli import main
from sklearn_impression.cli._parser import build_parser

from _builders import one_error_line as _one_error_line

TINY = ["--n-receivers", "3", "--n-stimuli", "2", "--duration", "4"]


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "ablation", "train", "evaluate", "predict"):
        assert command in out


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["fly"], "invalid choice: 'fly'"),
    (["demo", "--epochs", "0"], "expected an integer >= 1, got 0"),
    (["demo", *TINY, "--enrol-seconds", "8"], "enrol_seconds=8 must be > 0 and "
                                               "leave frames to score"),
    (["ablation", "--protocol", "frames"], "invalid choice: 'frames'"),
    (["train", "--duration", "-3"], "expected a number > 0"),
    (["evaluate"], "the following arguments are required: --model"),
])
def test_argument_errors_are_one_line(capsys, argv, message):
    line = _one_error_line(capsys, main(argv))
    assert message in line


def test_bad_data_path_is_one_line(capsys, tmp_path):
    line = _one_error_line(capsys, main(["train", "--data", str(tmp_path / "nope")]))
    assert "no such folder" in line


def test_bad_model_file_is_one_line(capsys, tmp_path):
    line = _one_error_line(capsys, main(["predict", "--model",
                                         str(tmp_path / "missing.joblib")]))
    assert "no such file" in line
    junk = tmp_path / "junk.joblib"
    junk.write_text("not a model")
    line = _one_error_line(capsys, main(["evaluate", "--model", str(junk)]))
    assert "not a saved model" in line


def test_unknown_ablation_row_is_one_line(capsys):
    line = _one_error_line(capsys, main(["ablation", *TINY, "--rows", "full,nope",
                                         "--quiet"]))
    assert "unknown ablation row 'nope'" in line


def test_train_evaluate_predict(capsys, tmp_path):
    model_dir = tmp_path / "model"
    assert main(["train", *TINY, "--epochs", "1", "--quiet", "--out",
                 str(model_dir)]) == 0
    model = model_dir / "model.safetensors"  # the pickle-free format by default
    assert model.is_file()
    report = json.loads((model_dir / "train.json").read_text())
    assert report["seed"] == 0 and report["protocol"] == "none"
    capsys.readouterr()

    assert main(["evaluate", "--model", str(model), *TINY, "--seed", "1",
                 "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "| all frames |" in out and "receiver 2" in out
    scores = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert set(scores["ccc"]) == {"competence", "warmth"}
    assert scores["data"]["n_recordings"] == 6

    pred_dir = tmp_path / "pred"
    assert main(["predict", "--model", str(model), *TINY, "--out",
                 str(pred_dir)]) == 0
    files = sorted(pred_dir.glob("*.csv"))
    assert len(files) == 6
    assert files[0].name == "receiver-0_stimulus-0.csv"
    with open(files[0]) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["frame", "time", "competence", "warmth"]
    assert len(rows) == 1 + 100 and rows[2][1] == "0.0400"


def test_train_with_protocol_reports_it(tmp_path, capsys):
    assert main(["train", *TINY, "--epochs", "1", "--quiet", "--protocol",
                 "stimuli", "--n-splits", "2", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["evaluation"]["protocol"] == "stimuli"
    assert "leave-stimuli-out" in (tmp_path / "train.md").read_text()


def test_train_with_enrolment_protocol_scores_only_after_the_enrolment(tmp_path,
                                                                        capsys):
    # 4 s recordings at 25 Hz: 1 s of enrolment is the first 25 frames of each
    # test receiver's first recording, and those frames are never scored.
    assert main(["train", *TINY, "--epochs", "1", "--quiet", "--protocol",
                 "receivers+enrol", "--enrol-seconds", "1", "--n-splits", "3",
                 "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "train.json").read_text())
    assert report["enrol_seconds"] == 1.0
    evaluation = report["evaluation"]
    assert evaluation["protocol"] == "receivers+enrol"
    assert [f["n_enrol_frames"] for f in evaluation["folds"]] == [25, 25, 25]
    assert sum(f["n_test_frames"] for f in evaluation["folds"]) == 6 * 100 - 3 * 25


def test_enrol_seconds_must_be_positive(capsys):
    line = _one_error_line(capsys, main(["train", *TINY, "--protocol",
                                         "receivers+enrol", "--enrol-seconds", "0"]))
    assert "--enrol-seconds" in line and "> 0" in line


def test_ablation_writes_reports(tmp_path, capsys):
    assert main(["ablation", *TINY, "--epochs", "1", "--rows", "ridge,constant",
                 "--protocol", "paper", "--quiet", "--out", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "ablation.json").read_text())
    assert [r["key"] for r in payload["rows"]] == ["full", "ridge", "constant"]
    assert payload["protocol"] == "paper" and payload["seed"] == 0
    assert "| Ridge |" in capsys.readouterr().out


def test_demo_writes_report_and_plots(tmp_path, capsys):
    assert main(["demo", *TINY, "--epochs", "1", "--n-splits", "3", "--quiet",
                 "--enrol-seconds", "2", "--n-jobs", "1", "--out", str(tmp_path)]) == 0
    for name in ("demo.json", "demo.md", "loss_trends.png", "traces.png",
                 "receiver_ccc.png"):
        assert (tmp_path / name).is_file(), name
    report = json.loads((tmp_path / "demo.json").read_text())
    assert [row["model"] for row in report["table"]] == [
        "CrossDomainRegressor", "Ridge", "Stimulus mean", "Constant",
        "Oracle (noise-free impression)"]
    assert set(report["protocols"]) == {"paper", "receivers", "receivers+enrol",
                                        "receivers+stimuli"}
    # new content: 2 folds of 2 x 1 (3 receivers, 2 stimuli), no stimulus mean
    crossed = report["results"]["Ridge / receivers+stimuli"]
    assert [f["n_test_recordings"] for f in crossed["folds"]] == [2, 1]
    assert "Stimulus mean / receivers+stimuli" not in report["results"]
    enrol = report["results"]["Ridge / receivers+enrol"]
    # 2 s at 25 Hz of each of the 3 test receivers' 8 s are enrolment, not scored
    assert sum(f["n_test_frames"] for f in enrol["folds"]) == 6 * 100 - 3 * 50
    assert report["data"]["n_recordings"] == 6 and report["seed"] == 0
    out = capsys.readouterr().out
    assert "| CrossDomainRegressor |" in out and "paper competence" in out
    _check_oracle_row(report, (tmp_path / "demo.md").read_text())


def _check_oracle_row(report, markdown):
    """The oracle row: the noise-free impression's CCC on the frames each column
    scores (the paper split's test frames, the frames after enrolment, the
    crossed folds' test recordings), not all frames repeated."""
    from sklearn_impression import ModalityConcatenator, Resampler, make_impression
    from sklearn_impression.metrics import ccc_score
    from sklearn_impression.model_selection import enrolment_masks, get_protocol

    data = make_impression(3, 2, 4.0, random_state=0)
    frames = ModalityConcatenator().fit_transform(
        Resampler().fit_transform(data.recordings))
    every = [np.ones(len(t), dtype=bool) for t in data.targets]
    crossed = np.concatenate([test for _, test in get_protocol(
        "receivers+stimuli", 2).split(frames)])
    scored = {
        "paper": get_protocol("paper", random_state=0).frame_masks(
            frames.frame_counts)[2],
        "receivers": every,
        "receivers+enrol": [~m for m in enrolment_masks(frames, 2.0)],
        "receivers+stimuli": [m & (i in crossed) for i, m in enumerate(every)],
    }
    names = data.target_names
    row = report["table"][-1]
    for protocol, masks in scored.items():
        kept = [i for i, m in enumerate(masks) if m.any()]
        expected = ccc_score([data.targets[i][masks[i]] for i in kept],
                             [data.impression[i][masks[i]] for i in kept],
                             multioutput="raw_values")
        for name, value in zip(names, expected, strict=True):
            assert report["oracle"][protocol][name] == pytest.approx(value,
                                                                      abs=1e-12)
            assert row[f"{protocol} {name}"] == report["oracle"][protocol][name]
    # the columns score different frames, so the oracle differs between them
    assert len({tuple(v.values()) for v in report["oracle"].values()}) == 4
    assert "on the same frames as each column" in markdown.replace("\n", " ")


def test_parser_defaults():
    args = build_parser().parse_args(["ablation"])
    assert (args.data, args.protocol, args.epochs, args.seed) == (
        "synthetic", "receivers", 40, 0)


def test_released_layout_data(tmp_path, capsys):
    from sklearn_impression import Resampler, make_impression, write_impression

    data = make_impression(2, 2, 4, random_state=0)
    write_impression(tmp_path / "feats", Resampler().fit_transform(data.recordings),
                     data.targets)
    assert main(["ablation", "--data", str(tmp_path / "feats"), "--rows",
                 "ridge", "--protocol", "paper", "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "out")]) == 0
    payload = json.loads((tmp_path / "out" / "ablation.json").read_text())
    assert payload["data"]["n_receivers"] == 2
    assert payload["data"]["name"].startswith("released features")
    corrupt = tmp_path / "feats" / "labels" / "0.csv"
    corrupt.write_text("competence,warmth\n1,oops\n")
    line = _one_error_line(capsys, main(["ablation", "--data",
                                         str(tmp_path / "feats"), "--quiet"]))
    assert "0.csv" in line


def test_threads_option_is_restored(tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(["ablation", *TINY, "--threads", "1", "--rows", "nope"]) == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_enrol_writes_a_model_that_predict_and_evaluate_use(capsys, tmp_path):
    """``enrol`` fits each receiver's per-person state on their first seconds
    (as adapt_pipeline does in Python) and saves it in the model's format."""
    from sklearn_impression import load_model
    from sklearn_impression.datasets import make_impression
    from sklearn_impression.model_selection import adapt_pipeline, head_seconds

    model_dir = tmp_path / "model"
    assert main(["train", *TINY, "--epochs", "1", "--quiet", "--out",
                 str(model_dir)]) == 0
    model = model_dir / "model.safetensors"
    assert main(["enrol", "--model", str(model), *TINY, "--seed", "1",
                 "--seconds", "1", "--quiet"]) == 0
    enrolled = model_dir / "model-enrolled.safetensors"
    assert "enrolled 3 receivers (0, 1, 2) on 75 labelled frames" in \
        capsys.readouterr().out
    saved = load_model(enrolled)
    assert saved[-1].listener_ids_ == [0, 1, 2]
    # the same enrolment in Python, on the same data
    data = make_impression(3, 2, 4, random_state=1)
    expected = adapt_pipeline(load_model(model),
                              *head_seconds(data.recordings, data.targets, 1),
                              context=data.recordings)
    for a, b in zip(saved.predict(data.recordings),
                    expected.predict(data.recordings), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    plain = load_model(model).predict(data.recordings)
    assert not np.allclose(plain[0], saved.predict(data.recordings)[0])
    assert main(["evaluate", "--model", str(enrolled), *TINY, "--seed", "1",
                 "--quiet"]) == 0
    line = _one_error_line(capsys, main(["enrol", "--model", str(model), *TINY,
                                         "--out", str(model), "--quiet"]))
    assert "would overwrite --model" in line
