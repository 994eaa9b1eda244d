"""The ``sklearn-impression`` command: demo, ablation, train, evaluate, enrol, predict.

Run ``sklearn-impression demo`` first: it trains on synthetic data and shows the
paper's frame-split score next to the leave-receivers-out score. ``--data`` takes a
folder in the released IMPRESSION features-and-labels layout
(:func:`~sklearn_impression.load_impression`), a folder of raw sessions with a
``manifest.csv`` (:func:`~sklearn_impression.features.load_raw_sessions`, the
``features`` extra; failed tracking is interpolated), or ``synthetic`` (the default,
sized by ``--n-receivers``, ``--n-stimuli``, ``--duration``).

``train``, ``evaluate`` and ``ablation`` take any parameter of the pipeline
``resample`` (:class:`~sklearn_impression.Resampler`) -> ``concat``
(:class:`~sklearn_impression.ModalityConcatenator`) -> ``model``
(:class:`~sklearn_impression.CrossDomainRegressor`): ``--set model__window=50``
(repeatable; values read as JSON or Python literals, else strings) or ``--config
FILE`` (TOML, or JSON with a ``.json`` suffix; flat ``model__window = 50`` or a
``[model]`` table). ``--set`` wins over ``--config``, both over ``--epochs``,
``--seed`` and ``--device``. The parameters are checked by the estimators' own
constraints before any training, and written into the run's report.

Progress (epochs, folds, rows) goes to stderr unless ``--quiet``; results go to
stdout. Errors in arguments, parameters, data or model files end the command with
one line on stderr, ``sklearn-impression: error: ...``, and exit status 2.

``enrol`` enrols the receivers of a data folder in a saved model on the first
``--seconds`` of their labels and saves the enrolled model (same format), which
``evaluate`` and ``predict`` then use.
"""

from __future__ import annotations

import csv
import re
import sys
import time
from contextlib import nullcontext, redirect_stdout
from pathlib import Path

from ._enrol import run_enrol
from ._live import run_live
from ._models import FORMATS, load_model_file, model_path, save_model_file
from ._params import apply_params, collect_params, pipeline_params
from ._parser import PROG, CommandError, build_parser, protocol_of

__all__ = ["main"]

def _load_data(args):
    from ..datasets import load_impression, make_impression

    if args.data == "synthetic":
        data = make_impression(args.n_receivers, args.n_stimuli, args.duration,
                               random_state=args.seed)
        name = (f"make_impression({args.n_receivers} receivers, {args.n_stimuli} "
                f"stimuli, {args.duration:g} s, seed={args.seed})")
        return data, name
    path = Path(args.data)
    if not path.exists():
        raise FileNotFoundError(f"--data {args.data}: no such folder")
    if (path / "manifest.csv").is_file():  # raw sessions: sklearn_impression.features
        from ..features import load_raw_sessions

        return (load_raw_sessions(path, nan_policy="interpolate"),
                f"raw sessions ({path})")
    return load_impression(path), f"released features ({path})"


def _pipeline(args, params=None):
    from sklearn.pipeline import Pipeline

    from .. import CrossDomainRegressor, ModalityConcatenator, Resampler

    # the paper split is scored with the paper's configuration
    build = (CrossDomainRegressor.paper_preset
             if getattr(args, "protocol", None) == "paper" else CrossDomainRegressor)
    pipeline = Pipeline([
        ("resample", Resampler()),
        ("concat", ModalityConcatenator()),
        ("model", build(max_epochs=args.epochs, random_state=args.seed,
                        device=args.device, verbose=0 if args.quiet else 1)),
    ])
    return apply_params(pipeline, params or {})


def _set_threads(args):
    """Apply ``--threads``; return the previous count to restore (or None)."""
    if not getattr(args, "threads", None):
        return None
    from ..utils._torch import import_torch

    torch = import_torch()
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    return previous


def _say(text):
    print(text, flush=True)


def _progress(args, text):
    if not getattr(args, "quiet", False):
        print(f"[{args.command}] {text}", file=sys.stderr, flush=True)


def _to_stderr(args):
    """While training: skorch's epoch table goes to stderr, or nowhere if quiet."""
    return nullcontext() if args.quiet else redirect_stdout(sys.stderr)


def _cmd_demo(args):
    from ..experiments import run_demo

    report = run_demo(args.out, seed=args.seed, epochs=args.epochs,
                      n_receivers=args.n_receivers, n_stimuli=args.n_stimuli,
                      duration=args.duration, n_splits=args.n_splits,
                      enrol_seconds=args.enrol_seconds,
                      device=args.device, n_jobs=args.n_jobs,
                      torch_threads=args.threads, verbose=0 if args.quiet else 1)
    _say(report["markdown"])


def _cmd_ablation(args):
    from .. import dask_backend
    from ..experiments import run_ablation, write_report

    params = collect_params(args.config, args.set)
    model_params = {}
    for name, value in params.items():
        step, _, param = name.partition("__")
        if step != "model":
            raise ValueError(f"ablation: only model__ parameters can be set, got "
                             f"{name} (each row sets the concatenator itself)")
        if param == "checkpoint_dir":
            raise ValueError("ablation: model__checkpoint_dir cannot be set (the "
                             "rows and folds would share one checkpoint); use "
                             "'train --checkpoint-dir'")
        model_params[param] = value
    if model_params:  # checked as fit would, before any row trains
        _pipeline(args, params)  # every name is model__ here
    data, name = _load_data(args)
    rows = None if args.rows is None else [r.strip() for r in args.rows.split(",")
                                           if r.strip()]
    backend = nullcontext()
    if args.scheduler is not None:
        backend = dask_backend(args.scheduler, torch_threads=args.threads)
    with backend, _to_stderr(args):
        result = run_ablation(data, protocol=protocol_of(args), n_splits=args.n_splits,
                              epochs=args.epochs, seed=args.seed, rows=rows,
                              device=args.device, n_jobs=args.n_jobs,
                              model_params=model_params, data_name=name,
                              verbose=0 if args.quiet else 1)
    write_report(result, args.out, "ablation")
    _say(result.to_markdown())


def _cmd_train(args):
    from ..experiments import write_report
    from ..model_selection import evaluate_protocol

    params = collect_params(args.config, args.set)
    if args.checkpoint_dir is not None:
        params.setdefault("model__checkpoint_dir", args.checkpoint_dir)
    final = _pipeline(args, params)  # validates the parameters before any work
    path, kind = model_path(args)
    data, name = _load_data(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    used = pipeline_params(final)
    epochs = used["model__max_epochs"]
    report = {"data_name": name, "seed": args.seed, "epochs": epochs,
              "protocol": args.protocol, "params_given": params, "params": used}
    if args.protocol.endswith("+enrol"):
        report["enrol_seconds"] = args.enrol_seconds
    lines = ["# Training report", "", f"- Data: {name}",
             f"- Seed: {args.seed} (data); model random_state: "
             f"{used['model__random_state']}; epochs: {epochs}",
             "- Parameters given: " + (", ".join(f"`{k}={v!r}`" for k, v in
                                                 params.items()) or "none")]
    if args.protocol != "none":
        # the folds never write checkpoints: only the final fit is long-lived
        evaluation = _pipeline(args, {**params, "model__checkpoint_dir": None})
        _progress(args, f"protocol {args.protocol!r}: {args.n_splits} folds")
        with _to_stderr(args):
            result = evaluate_protocol(evaluation, data.recordings, data.targets,
                                       protocol_of(args), n_splits=args.n_splits,
                                       random_state=args.seed, data_name=name,
                                       verbose=0 if args.quiet else 1)
        report["evaluation"] = result.to_dict()
        lines += ["", "## Evaluation before the final fit", "", result.to_markdown()]
        _say(result.to_markdown())
    _progress(args, f"final fit on all {len(data.recordings)} recordings, "
              f"{epochs} epochs")
    start = time.perf_counter()
    with _to_stderr(args):
        final.fit(data.recordings, data.targets)
    report["fit_time"] = round(time.perf_counter() - start, 2)
    save_model_file(final, path, kind)
    report["model"] = str(path)
    report["model_format"] = kind
    lines += ["", f"Final model fitted on all {len(data.recordings)} recordings "
              f"(protocol none: no test split) in {report['fit_time']} s, saved to "
              f"`{path}` ({FORMATS[kind][1]}).", ""]
    report["markdown"] = "\n".join(lines)
    write_report(report, out, "train")
    _say(f"saved {path} ({FORMATS[kind][1]})")


def _score(model, data, name):
    from ..model_selection import ccc_by_dimension, ccc_by_receiver, describe_data

    names = getattr(data, "target_names", None)
    pred = model.predict(data.recordings)
    ids = [str(r) for r in data.receivers]
    return {"data": describe_data(data.recordings, data.targets, name),
            "ccc": ccc_by_dimension(data.targets, pred, names),
            "receiver_ccc": ccc_by_receiver(data.targets, pred, ids, names)}


def _loaded(args, params=None):
    model, kind = load_model_file(args.model)
    _progress(args, f"loaded {args.model} ({FORMATS[kind][1]})")
    if params:
        if not hasattr(model, "steps"):
            raise ValueError(f"--set/--config: {args.model} holds a "
                             f"{type(model).__name__}, not a pipeline with steps")
        apply_params(model, params)
    return model, kind


def _cmd_evaluate(args):
    from ..experiments import markdown_table, write_report

    params = collect_params(args.config, args.set)
    model, kind = _loaded(args, params)
    data, name = _load_data(args)
    _progress(args, f"predicting {len(data.recordings)} recordings")
    scores = _score(model, data, name)
    names = list(scores["ccc"])
    d = scores["data"]
    protocol = "none (no split: the saved model is scored on all frames given)"
    markdown = "\n".join([
        f"# Evaluation of {args.model}", "",
        f"- Model: {args.model} ({FORMATS[kind][1]})",
        f"- Data: {name}: {d['n_recordings']} recordings, {d['n_frames']} frames",
        f"- Protocol: {protocol}; CCC over all pooled frames of each part",
        "- Parameters set: " + (", ".join(f"`{k}={v!r}`" for k, v in
                                          params.items()) or "none"), "",
        markdown_table(["part (protocol none)"] + names,
                       [["all frames"] + [scores["ccc"][n] for n in names]]
                       + [[f"receiver {r}"] + [v[n] for n in names]
                          for r, v in scores["receiver_ccc"].items()]),
        ""])
    scores.update(model=str(args.model), model_format=kind, protocol=protocol,
                  params_given=params,
                  params=pipeline_params(model) if hasattr(model, "steps") else {},
                  markdown=markdown)
    if args.out:
        write_report(scores, args.out, "evaluation")
    _say(markdown)


def _safe(value):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-") or "none"


def _cmd_predict(args):
    model, _ = _loaded(args)
    data, _ = _load_data(args)
    _progress(args, f"predicting {len(data.recordings)} recordings")
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
        if (i + 1) % 50 == 0:
            _progress(args, f"wrote {i + 1}/{len(pred)} files")
    _say(f"wrote {len(pred)} prediction files to {out}")


def _cmd_enrol(args):
    model, kind = _loaded(args)
    data, name = _load_data(args)
    summary = run_enrol(args, model, kind, data, name,
                        lambda text: _progress(args, text))
    _say(f"enrolled {len(summary['receivers'])} receivers "
         f"({', '.join(summary['receivers'])}) on {summary['n_enrol_frames']} "
         f"labelled frames; saved {summary['model']} ({FORMATS[kind][1]})")


def _cmd_live(args):
    run_live(args, load_model_file, lambda text: _progress(args, text))


_COMMANDS = {"demo": _cmd_demo, "ablation": _cmd_ablation, "train": _cmd_train,
             "evaluate": _cmd_evaluate, "enrol": _cmd_enrol, "predict": _cmd_predict,
             "live": _cmd_live}


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
    except (CommandError, ValueError, TypeError, FileNotFoundError,
            ImportError, OSError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    finally:  # in-process callers (tests, notebooks) keep their thread setting
        if previous_threads is not None:
            sys.modules["torch"].set_num_threads(previous_threads)
    return 0

