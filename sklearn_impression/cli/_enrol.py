"""``sklearn-impression enrol``: enrol the receivers of a folder in a saved model.

Part of :mod:`sklearn_impression.cli`. The first ``--seconds`` of each
receiver's labelled data (recording order, :func:`~sklearn_impression.
model_selection.head_seconds`) enrol that receiver in the saved pipeline
(:func:`~sklearn_impression.model_selection.adapt_pipeline`, with all of the
receiver's recordings in the folder as unlabelled ``context``); the enrolled
model is written in the same format, for ``predict`` and ``evaluate``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_enrol_parser", "enrolled_path", "run_enrol"]


def add_enrol_parser(sub, add_saved_model, positive_float):
    """The ``enrol`` subcommand's parser."""
    enrol = sub.add_parser(
        "enrol", help="enrol the receivers of a data folder in a saved model "
                      "(their first seconds of labels) and save it")
    add_saved_model(enrol)
    enrol.add_argument("--seconds", type=positive_float, default=60.0,
                       help="labelled seconds per receiver used for enrolment "
                            "(default 60)")
    enrol.add_argument("--out", default=None, metavar="FILE",
                       help="where to save the enrolled model (default: the "
                            "model's name with '-enrolled', same format)")
    return enrol


def enrolled_path(model_path, out):
    """``--out``, or ``NAME-enrolled.SUFFIX`` beside the model."""
    if out is not None:
        return Path(out)
    path = Path(model_path)
    return path.with_name(f"{path.stem}-enrolled{path.suffix}")


def run_enrol(args, model, kind, data, name, progress):
    """Enrol every receiver of ``data`` in ``model`` and save it; return a
    summary dict (receivers, enrolment frames, path)."""
    from ..model_selection import adapt_pipeline, head_seconds
    from ._models import save_model_file

    if not hasattr(model, "steps") or not hasattr(model.steps[-1][1], "adapt"):
        raise ValueError(f"--model {args.model}: enrolment needs a pipeline ending in "
                         "a model with adapt (CrossDomainRegressor), got "
                         f"{type(model).__name__}")
    path = enrolled_path(args.model, args.out)
    if path.resolve() == Path(args.model).resolve():
        raise ValueError(f"--out {path}: would overwrite --model; choose another file")
    X_head, y_head = head_seconds(data.recordings, data.targets, args.seconds)
    receivers = list(dict.fromkeys(r.receiver for r in X_head))
    progress(f"enrolling {len(receivers)} receivers on their first "
             f"{args.seconds:g} s ({sum(len(t) for t in y_head)} labelled frames)")
    adapt_pipeline(model, X_head, y_head, context=list(data.recordings))
    save_model_file(model, path, kind)
    return {"data": name, "receivers": [str(r) for r in receivers],
            "seconds": args.seconds,
            "n_enrol_frames": int(sum(len(t) for t in y_head)),
            "model": str(path), "format": kind}
