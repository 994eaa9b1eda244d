"""The ``sklearn-impression`` command's argument parser.

Part of :mod:`sklearn_impression.cli`: the subcommands, their options and the
argument types; an argument error is one line and exit status 2.
"""

from __future__ import annotations

import argparse

from ._enrol import add_enrol_parser
from ._live import add_live_parser

__all__ = ["PROG", "CommandError", "build_parser", "protocol_of"]

PROG = "sklearn-impression"

class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and exit status 2."""

    def error(self, message):
        raise CommandError(message)


class CommandError(Exception):
    pass


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def add_data(parser, *, default_duration=48.0):
    parser.add_argument(
        "--data", default="synthetic",
        help="folder in the released features-and-labels layout, a folder of raw "
             "sessions with a manifest.csv (needs the 'features' extra), or "
             "'synthetic' (default)")
    parser.add_argument("--n-receivers", type=positive_int, default=8,
                        help="synthetic data: receivers (default 8)")
    parser.add_argument("--n-stimuli", type=positive_int, default=4,
                        help="synthetic data: stimuli (default 4)")
    parser.add_argument("--duration", type=positive_float, default=default_duration,
                        help=f"synthetic data: seconds per stimulus (default "
                             f"{default_duration:g})")


def add_common(parser, *, epochs=40, out="results"):
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help=f"training epochs (default {epochs})")
    parser.add_argument("--device", default="cpu",
                        help="torch device, e.g. cpu or cuda (default cpu)")
    parser.add_argument("--out", default=out,
                        help=f"output folder (default {out})")


def addprotocol_of(parser, *, default="receivers", allow_none=False):
    from ..model_selection import PROTOCOLS

    choices = [*PROTOCOLS, *(["none"] if allow_none else [])]
    parser.add_argument("--protocol", choices=choices, default=default,
                        help=f"evaluation protocol (default {default}); paper: all "
                             "frames shuffled 80/10/10 as the authors did (leaks); "
                             "receivers / stimuli: grouped cross-validation; "
                             "receivers+enrol: leave-receivers-out where the first "
                             "--enrol-seconds of each test receiver enrol the model "
                             "(adapt; an offset for models without it) and are not "
                             "scored; receivers+stimuli: new people on new content "
                             "(both held out); receivers+stimuli+enrol: the same, "
                             "enrolled on --enrol-seconds of training stimuli")
    parser.add_argument("--n-splits", type=positive_int, default=5,
                        help="folds of the grouped protocols (default 5)")
    parser.add_argument("--enrol-seconds", type=positive_float, default=60.0,
                        help="the +enrol protocols: labelled seconds per test "
                             "receiver given for enrolment (default 60)")


def protocol_of(args):
    """The protocol object of ``--protocol`` with its options."""
    from ..model_selection import get_protocol

    return get_protocol(args.protocol, args.n_splits, random_state=args.seed,
                        enrol_seconds=args.enrol_seconds)


def add_params(parser, *, steps="resample, concat, model"):
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help=f"a pipeline parameter (steps: {steps}), e.g. "
                             "model__window=50 or concat__exclude=receiver.physio; "
                             "repeatable")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="pipeline parameters from a TOML or JSON (.json) file")


def add_saved_model(parser):
    """``--model``, the data options and the synthetic data's ``--seed``."""
    parser.add_argument("--model", required=True,
                        help="model file of 'train' (.safetensors or .joblib)")
    add_data(parser)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the synthetic data (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def build_parser():
    """The argument parser of ``sklearn-impression``."""
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0].replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train and score on synthetic data, write a "
                          "report (the README has the measured time)")
    demo.add_argument("--out", default="results", help="output folder")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--epochs", type=positive_int, default=8)
    demo.add_argument("--device", default="cpu")
    demo.add_argument("--n-receivers", type=positive_int, default=8)
    demo.add_argument("--n-stimuli", type=positive_int, default=8)
    demo.add_argument("--duration", type=positive_float, default=24.0)
    demo.add_argument("--n-splits", type=positive_int, default=4)
    demo.add_argument("--enrol-seconds", type=positive_float, default=60.0,
                      help="receivers+enrol: labelled seconds per test receiver "
                           "given for enrolment (default 60)")
    demo.add_argument("--quiet", action="store_true", help="no progress lines")
    demo.add_argument("--threads", type=positive_int, default=1,
                      help="torch CPU threads per process (default 1: on a busy "
                           "2-core machine two threads ran 27 times slower than one)")
    demo.add_argument("--n-jobs", type=int, default=-1,
                      help="processes training folds in parallel (default -1: one "
                           "per CPU core)")

    ablation = sub.add_parser("ablation", help="the paper's Table 2 with baselines")
    add_data(ablation)
    addprotocol_of(ablation)
    add_common(ablation, out="results/ablation")
    ablation.add_argument("--rows", default=None,
                          help="comma-separated row keys (default: all), e.g. "
                               "full,no_kd,ridge")
    ablation.add_argument("--n-jobs", type=int, default=None,
                          help="rows in parallel (default 1)")
    ablation.add_argument("--quiet", action="store_true", help="no progress lines")
    add_params(ablation, steps="model; the rows set concat themselves")
    ablation.add_argument("--threads", type=positive_int, default=None,
                          help="torch CPU threads (default: torch's choice)")
    ablation.add_argument("--scheduler", default=None, metavar="ADDRESS",
                          help="run the rows on the Dask scheduler at ADDRESS, e.g. "
                               "tcp://10.0.0.5:8786 (needs the 'distributed' extra)")

    train = sub.add_parser("train", help="fit the pipeline on all data and save it "
                           "(pickle-free safetensors, or joblib)")
    add_data(train)
    addprotocol_of(train, default="none", allow_none=True)
    add_common(train, out="results/model")
    add_params(train)
    train.add_argument("--format", choices=["safetensors", "joblib"], default=None,
                       help="model file format (default: from --model-file's "
                            "suffix, else safetensors, the pickle-free format of "
                            "save_model)")
    train.add_argument("--model-file", default=None, metavar="PATH",
                       help="where to save the model (default OUT/model.safetensors "
                            "or OUT/model.joblib)")
    train.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                       help="write a checkpoint every epoch to DIR; rerunning the "
                            "same command resumes from the last finished epoch")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--threads", type=positive_int, default=None,
                       help="torch CPU threads (default: torch's choice)")

    evaluate = sub.add_parser("evaluate", help="score a saved model on data")
    add_saved_model(evaluate)
    add_params(evaluate)
    evaluate.add_argument("--out", default=None,
                          help="folder for evaluation.json and .md (optional)")

    add_enrol_parser(sub, add_saved_model, positive_float)

    predict = sub.add_parser("predict", help="write per-recording traces (CSV)")
    add_saved_model(predict)
    predict.add_argument("--out", default="results/predictions",
                         help="folder for one CSV per recording")

    add_live_parser(sub, positive_int, positive_float)
    return parser
