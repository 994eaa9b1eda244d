"""The command line exposes the model: ``--set``, ``--config``, formats, resuming."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sklearn_impression import load_model
from sklearn_impression.cli import main
from sklearn_impression.cli._params import collect_params, parse_value

TINY = ["--n-receivers", "3", "--n-stimuli", "2", "--duration", "4"]
SMALL_NET = ["--set", "model__hidden_size=4", "--set", "model__num_heads=2",
             "--set", "model__num_layers=1"]
REPO = Path(__file__).resolve().parents[1]


def _error_line(capsys, code):
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sklearn-impression: error: ")
    return lines[0]


def test_values_are_json_then_literals_then_strings():
    assert parse_value("50") == 50 and parse_value("0.5") == 0.5
    assert parse_value("None") is None and parse_value("false") is False
    assert parse_value('["a", "b"]') == ["a", "b"]
    assert parse_value("ccc") == "ccc"
    assert parse_value("receiver.physio", "concat__exclude") == ["receiver.physio"]


def test_config_then_set(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('model__lr = 0.01\n[model]\nwindow = 5\nhop = 2\n'
                    '[concat]\nexclude = "receiver.physio"\n')
    params = collect_params(toml, ["model__window=7"])
    assert params == {"model__lr": 0.01, "model__window": 7, "model__hop": 2,
                      "concat__exclude": ["receiver.physio"]}
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"model": {"task_loss": "ccc"}}))
    assert collect_params(js) == {"model__task_loss": "ccc"}


def test_train_with_set_and_config_saves_the_parameters(tmp_path, capsys):
    config = tmp_path / "net.toml"
    config.write_text("[model]\nwindow = 5\nbatch_size = 8\n")
    out = tmp_path / "run"
    assert main(["train", *TINY, "--epochs", "1", "--quiet", *SMALL_NET,
                 "--set", "concat__exclude=receiver.physio", "--config",
                 str(config), "--out", str(out)]) == 0
    assert "pickle-free" in capsys.readouterr().out
    model = load_model(out / "model.safetensors")
    assert model.get_params()["model__window"] == 5
    assert model.get_params()["model__batch_size"] == 8
    assert model.get_params()["model__hidden_size"] == 4
    assert model.get_params()["concat__exclude"] == ["receiver.physio"]
    assert not any(n.startswith("receiver.physio") for n in
                   model.named_steps["model"].feature_names_in_)
    report = json.loads((out / "train.json").read_text())
    assert report["params_given"]["model__window"] == 5
    assert report["params"]["model__window"] == 5
    assert report["params"]["model__max_epochs"] == 1
    assert report["model_format"] == "safetensors"

    # evaluate and predict read both formats and say which they loaded
    assert main(["train", *TINY, "--epochs", "1", "--quiet", *SMALL_NET,
                 "--format", "joblib", "--out", str(tmp_path / "jl")]) == 0
    capsys.readouterr()
    for path, word in ((out / "model.safetensors", "pickle-free"),
                       (tmp_path / "jl" / "model.joblib", "joblib pickle")):
        assert main(["evaluate", "--model", str(path), *TINY, "--out",
                     str(tmp_path / "eval")]) == 0
        captured = capsys.readouterr()
        assert word in captured.err and word in captured.out
        assert "protocol none" in captured.out
        assert main(["predict", "--model", str(path), *TINY, "--quiet", "--out",
                     str(tmp_path / "pred")]) == 0
        assert len(list((tmp_path / "pred").glob("*.csv"))) == 6


@pytest.mark.parametrize("argv, message", [
    (["train", "--set", "model__windw=5"],
     "CrossDomainRegressor has no parameter 'windw'; did you mean model__window?"),
    (["train", "--set", "modl__window=5"], "STEP__NAME with STEP one of"),
    (["train", "--set", "model__window=0"],
     "The 'window' parameter of CrossDomainRegressor must be an int in the range "
     "[1, inf). Got 0 instead."),
    (["train", "--set", "model__task_loss=mae"], "'task_loss' parameter"),
    (["train", "--set", "model__num_heads=5"], "num_heads=5 must divide"),
    (["train", "--set", "window"], "expected NAME=VALUE"),
    (["evaluate", "--model", "m.safetensors", "--set", "model__lr=-1"],
     "no such file"),
    (["ablation", "--set", "concat__exclude=x"], "only model__ parameters"),
    (["ablation", "--set", "model__dropout=2"], "'dropout' parameter"),
    (["ablation", "--set", "model__checkpoint_dir=x"], "cannot be set"),
    (["train", "--format", "joblib", "--model-file", "m.safetensors"],
     "safetensors suffix but --format is joblib"),
])
def test_bad_parameters_are_one_line_errors(capsys, argv, message):
    line = _error_line(capsys, main(argv))
    assert message in line


def test_bad_config_files_are_one_line_errors(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nwindow = 5\n")
    assert "not valid TOML" in _error_line(
        capsys, main(["train", "--config", str(bad)]))
    assert "no such file" in _error_line(
        capsys, main(["train", "--config", str(tmp_path / "none.toml")]))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[model]\nwindw = 5\n")
    line = _error_line(capsys, main(["train", "--config", str(unknown)]))
    assert f"--config {unknown} model__windw" in line
    assert "did you mean model__window?" in line


def _train_command(out, checkpoint):
    return [sys.executable, "-m", "sklearn_impression.cli", "train",
            "--n-receivers", "3", "--n-stimuli", "2", "--duration", "16",
            "--epochs", "3", "--threads", "1", "--quiet", *SMALL_NET,
            "--set", "model__batch_size=16", "--set", "model__window=4",
            "--out", str(out), "--checkpoint-dir", str(checkpoint)]


def test_killed_training_resumes_to_the_same_weights(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen(_train_command(tmp_path / "a", ckpt), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (ckpt / "checkpoint.pt").exists():
        if proc.poll() is not None:
            pytest.fail(f"training ended before a checkpoint: "
                        f"{proc.stderr.read().decode()}")
        assert time.monotonic() < deadline, "no checkpoint after 120 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # mid-epoch 2 (or later), no clean-up
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "a" / "model.safetensors").exists()

    import torch

    saved = torch.load(ckpt / "checkpoint.pt", weights_only=True)
    assert 1 <= saved["epoch"] < 3
    saved_history = json.loads(saved["history"])

    subprocess.run(_train_command(tmp_path / "a", ckpt), env=env, check=True,
                   capture_output=True)
    # the uninterrupted run, in this process (same code path, one thread)
    assert main(_train_command(tmp_path / "b", tmp_path / "fresh")[3:]) == 0
    resumed = load_model(tmp_path / "a" / "model.safetensors")
    fresh = load_model(tmp_path / "b" / "model.safetensors")
    want = fresh.named_steps["model"].net_.module_.state_dict()
    got = resumed.named_steps["model"].net_.module_.state_dict()
    assert set(want) == set(got)
    for name in want:
        assert (want[name] == got[name]).all(), name
    history = resumed.named_steps["model"].history_
    assert len(history) == 3
    # the epochs before the kill were not trained again: their timings are the
    # killed run's
    for epoch in range(saved["epoch"]):
        assert history[epoch]["dur"] == saved_history[epoch]["dur"]
