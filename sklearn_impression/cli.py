"""The ``sklearn-impression`` command: demo, ablation, train, evaluate, predict.

Run ``sklearn-impression demo`` first: it trains on synthetic data and shows the
paper's frame-split score next to the leave-receivers-out score. ``--data`` takes a
folder in the released IMPRESSION features-and-labels layout
(:func:`~sklearn_impression.load_impression`) or ``synthetic`` (the default, sized by
``--n-receivers``, ``--n-stimuli``, ``--duration``).

Errors in arguments, data or model files end the command with one line on stderr,
``sklearn-impression: error: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from contextlib import nullcontext
from pathlib import Path

__all__ = ["main"]

PROG = "sklearn-impression"


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) and exit status 2."""

    def error(self, message):
        raise _CommandError(message)


class _CommandError(Exception):
    pass


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {value}")
    return value


def _add_data(parser, *, default_duration=48.0):
    parser.add_argument(
        "--data", default="synthetic",
        help="folder in the released features-and-labels layout, or 'synthetic' "
             "(default)")
    parser.add_argument("--n-receivers", type=_positive_int, default=8,
                        help="synthetic data: receivers (default 8)")
    parser.add_argument("--n-stimuli", type=_positive_int, default=4,
                        help="synthetic data: stimuli (default 4)")
    parser.add_argument("--duration", type=_positive_float, default=default_duration,
                        help=f"synthetic data: seconds per stimulus (default "
                             f"{default_duration:g})")


def _add_common(parser, *, epochs=40, out="results"):
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--epochs", type=_positive_int, default=epochs,
                        help=f"training epochs (default {epochs})")
    parser.add_argument("--device", default="cpu",
                        help="torch device, e.g. cpu or cuda (default cpu)")
    parser.add_argument("--out", default=out,
                        help=f"output folder (default {out})")


def _add_protocol(parser, *, default="receivers", allow_none=False):
    choices = ["paper", "receivers", "stimuli"] + (["none"] if allow_none else [])
    parser.add_argument("--protocol", choices=choices, default=default,
                        help=f"evaluation protocol (default {default}); paper: all "
                             "frames shuffled 80/10/10 as the authors did (leaks); "
                             "receivers / stimuli: grouped cross-validation")
    parser.add_argument("--n-splits", type=_positive_int, default=5,
                        help="folds of the grouped protocols (default 5)")


def _add_saved_model(parser):
    """``--model``, the data options and the synthetic data's ``--seed``."""
    parser.add_argument("--model", required=True, help="model.joblib of 'train'")
    _add_data(parser)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the synthetic data (default 0)")


def build_parser():
    """The argument parser of ``sklearn-impression``."""
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0].replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train and score on synthetic data, write a "
                          "report (under 3 minutes on 2 CPU cores)")
    demo.add_argument("--out", default="results", help="output folder")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--epochs", type=_positive_int, default=8)
    demo.add_argument("--device", default="cpu")
    demo.add_argument("--n-receivers", type=_positive_int, default=8)
    demo.add_argument("--n-stimuli", type=_positive_int, default=4)
    demo.add_argument("--duration", type=_positive_float, default=48.0)
    demo.add_argument("--n-splits", type=_positive_int, default=4)
    demo.add_argument("--quiet", action="store_true", help="no progress lines")
    demo.add_argument("--threads", type=_positive_int, default=1,
                      help="torch CPU threads (default 1: on a busy 2-core machine "
                           "two threads ran 27 times slower than one)")

    ablation = sub.add_parser("ablation", help="the paper's Table 2 with baselines")
    _add_data(ablation)
    _add_protocol(ablation)
    _add_common(ablation, out="results/ablation")
    ablation.add_argument("--rows", default=None,
                          help="comma-separated row keys (default: all), e.g. "
                               "full,no_kd,ridge")
    ablation.add_argument("--n-jobs", type=int, default=None,
                          help="rows in parallel (default 1)")
    ablation.add_argument("--quiet", action="store_true")
    ablation.add_argument("--threads", type=_positive_int, default=None,
                          help="torch CPU threads (default: torch's choice)")
    ablation.add_argument("--scheduler", default=None, metavar="ADDRESS",
                          help="run the rows on the Dask scheduler at ADDRESS, e.g. "
                               "tcp://10.0.0.5:8786 (needs the 'distributed' extra)")

    train = sub.add_parser("train", help="fit the pipeline on all data, save it "
                           "with joblib")
    _add_data(train)
    _add_protocol(train, default="none", allow_none=True)
    _add_common(train, out="results/model")
    train.add_argument("--quiet", action="store_true")
    train.add_argument("--threads", type=_positive_int, default=None,
                       help="torch CPU threads (default: torch's choice)")

    evaluate = sub.add_parser("evaluate", help="score a saved model on data")
    _add_saved_model(evaluate)
    evaluate.add_argument("--out", default=None,
                          help="folder for evaluation.json and .md (optional)")

    predict = sub.add_parser("predict", help="write per-recording traces (CSV)")
    _add_saved_model(predict)
    predict.add_argument("--out", default="results/predictions",
                         help="folder for one CSV per recording")
    return parser


def _load_data(args):
    from .datasets import load_impression, make_impression

    if args.data == "synthetic":
        data = make_impression(args.n_receivers, args.n_stimuli, args.duration,
                               random_state=args.seed)
        name = (f"make_impression({args.n_receivers} receivers, {args.n_stimuli} "
                f"stimuli, {args.duration:g} s, seed={args.seed})")
        return data, name
    path = Path(args.data)
    if not path.exists():
        raise FileNotFoundError(f"--data {args.data}: no such folder")
    return load_impression(path), f"released features ({path})"


def _pipeline(args):
    from sklearn.pipeline import Pipeline

    from .preprocessing import ModalityConcatenator, Resampler
    from .regressor import CrossDomainRegressor

    # the paper split is scored with the paper's configuration
    build = (CrossDomainRegressor.paper_preset
             if getattr(args, "protocol", None) == "paper" else CrossDomainRegressor)
    return Pipeline([
        ("resample", Resampler()),
        ("concat", ModalityConcatenator()),
        ("model", build(max_epochs=args.epochs, random_state=args.seed,
                        device=args.device, verbose=0 if args.quiet else 1)),
    ])


def _load_model(path):
    import joblib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--model {path}: no such file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # pickle raises many types for a non-model file
        raise ValueError(f"--model {path}: not a saved model ({exc})") from None
    if not hasattr(model, "predict"):
        raise ValueError(f"--model {path}: holds a {type(model).__name__}, not a "
                         "model")
    return model


def _set_threads(args):
    """Apply ``--threads``; return the previous count to restore (or None)."""
    if not getattr(args, "threads", None):
        return None
    from ._torch import import_torch

    torch = import_torch()
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    return previous


def _say(text):
    print(text, flush=True)


def _cmd_demo(args):
    from .experiments import run_demo

    report = run_demo(args.out, seed=args.seed, epochs=args.epochs,
                      n_receivers=args.n_receivers, n_stimuli=args.n_stimuli,
                      duration=args.duration, n_splits=args.n_splits,
                      device=args.device, verbose=0 if args.quiet else 1)
    _say(report["markdown"])


def _cmd_ablation(args):
    from .experiments import run_ablation, write_report

    data, name = _load_data(args)
    rows = None if args.rows is None else [r.strip() for r in args.rows.split(",")
                                           if r.strip()]
    backend = nullcontext()
    if args.scheduler is not None:
        from ._cluster import dask_backend

        backend = dask_backend(args.scheduler, torch_threads=args.threads)
    with backend:
        result = run_ablation(data, protocol=args.protocol, n_splits=args.n_splits,
                              epochs=args.epochs, seed=args.seed, rows=rows,
                              device=args.device, n_jobs=args.n_jobs,
                              data_name=name, verbose=0 if args.quiet else 1)
    write_report(result, args.out, "ablation")
    _say(result.to_markdown())


def _cmd_train(args):
    import joblib

    from .experiments import write_report
    from .model_selection import evaluate_protocol

    data, name = _load_data(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"data_name": name, "seed": args.seed, "epochs": args.epochs,
              "protocol": args.protocol}
    lines = ["# Training report", "", f"- Data: {name}",
             f"- Seed: {args.seed}; epochs: {args.epochs}"]
    if args.protocol != "none":
        result = evaluate_protocol(_pipeline(args), data.recordings, data.targets,
                                   args.protocol, n_splits=args.n_splits,
                                   random_state=args.seed, data_name=name,
                                   verbose=0 if args.quiet else 1)
        report["evaluation"] = result.to_dict()
        lines += ["", "## Evaluation before the final fit", "", result.to_markdown()]
        _say(result.to_markdown())
    start = time.perf_counter()
    model = _pipeline(args).fit(data.recordings, data.targets)
    report["fit_time"] = round(time.perf_counter() - start, 2)
    path = out / "model.joblib"
    joblib.dump(model, path)
    report["model"] = str(path)
    lines += ["", f"Final model fitted on all {len(data.recordings)} recordings in "
              f"{report['fit_time']} s, saved to `{path}`.", ""]
    report["markdown"] = "\n".join(lines)
    write_report(report, out, "train")
    _say(f"saved {path}")


def _score(model, data, name):
    from .model_selection import describe_data
    from .model_selection._evaluate import _ccc, _named, _receiver_scores

    names = tuple(getattr(data, "target_names", ("competence", "warmth")))
    pred = model.predict(data.recordings)
    pooled = _named(_ccc(data.targets, pred), names)
    ids = (data.receivers.tolist() if hasattr(data.receivers, "tolist")
           else list(data.receivers))
    receivers = {str(r): scores for r, (scores, _) in
                 _receiver_scores(ids, data.targets, pred, names).items()}
    return {"data": describe_data(data.recordings, data.targets, name),
            "ccc": pooled, "receiver_ccc": receivers}


def _cmd_evaluate(args):
    from .experiments import markdown_table, write_report

    model = _load_model(args.model)
    data, name = _load_data(args)
    scores = _score(model, data, name)
    names = list(scores["ccc"])
    d = scores["data"]
    markdown = "\n".join([
        f"# Evaluation of {args.model}", "",
        f"- Data: {name}: {d['n_recordings']} recordings, {d['n_frames']} frames",
        "- CCC over all pooled frames (no split: the model is scored on all of "
        "the data given)", "",
        markdown_table(["part"] + names,
                       [["all frames"] + [scores["ccc"][n] for n in names]]
                       + [[f"receiver {r}"] + [v[n] for n in names]
                          for r, v in scores["receiver_ccc"].items()]),
        ""])
    scores["model"] = str(args.model)
    scores["markdown"] = markdown
    if args.out:
        write_report(scores, args.out, "evaluation")
    _say(markdown)


def _safe(value):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-") or "none"


def _cmd_predict(args):
    model = _load_model(args.model)
    data, _ = _load_data(args)
    pred = model.predict(data.recordings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(getattr(data, "target_names", ("competence", "warmth")))
    used = set()
    for i, (rec, values) in enumerate(zip(data.recordings, pred, strict=True)):
        stem = f"receiver-{_safe(rec.receiver)}_stimulus-{_safe(rec.stimulus)}"
        if stem in used:
            stem = f"{stem}_{i}"
        used.add(stem)
        with open(out / f"{stem}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["frame", "time"] + names)
            for k, row in enumerate(values):
                writer.writerow([k, f"{k / rec.frame_rate:.4f}"]
                                + [f"{v:.6g}" for v in row])
    _say(f"wrote {len(pred)} prediction files to {out}")


_COMMANDS = {"demo": _cmd_demo, "ablation": _cmd_ablation, "train": _cmd_train,
             "evaluate": _cmd_evaluate, "predict": _cmd_predict}


def main(argv=None):
    """Run ``sklearn-impression``; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 on an error in the arguments, the data or a model file.
    """
    parser = build_parser()
    previous_threads = None
    try:
        args = parser.parse_args(argv)
        previous_threads = _set_threads(args)
        _COMMANDS[args.command](args)
    except (_CommandError, ValueError, TypeError, FileNotFoundError,
            ImportError, OSError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    finally:  # in-process callers (tests, notebooks) keep their thread setting
        if previous_threads is not None:
            sys.modules["torch"].set_num_threads(previous_threads)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
