"""Model files of the command line: the two formats, read and written.

Part of :mod:`sklearn_impression.cli`: ``train`` writes the pickle-free
safetensors format of :func:`~sklearn_impression.save_model` by default, joblib
on request; ``evaluate`` and ``predict`` read both, telling them apart by the
file's first bytes.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FORMATS", "load_model_file", "model_path", "save_model_file"]

#: Model file formats: name to (suffix, description).
FORMATS = {"safetensors": (".safetensors", "pickle-free safetensors (save_model)"),
           "joblib": (".joblib", "joblib pickle")}


def _sniff_format(path):
    # A safetensors file starts with an 8-byte header length, then a JSON header.
    with open(path, "rb") as f:
        head = f.read(9)
    return "safetensors" if len(head) == 9 and head[8:9] == b"{" else "joblib"


def load_model_file(path):
    """The model in ``path`` (either format) and the name of its format."""
    from .. import load_model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--model {path}: no such file")
    kind = _sniff_format(path)
    try:
        if kind == "safetensors":
            model = load_model(path)
        else:
            import joblib

            model = joblib.load(path)
    except Exception as exc:  # pickle raises many types for a non-model file
        raise ValueError(f"--model {path}: not a saved model ({exc})") from None
    if not hasattr(model, "predict"):
        raise ValueError(f"--model {path}: holds a {type(model).__name__}, not a "
                         "model")
    return model, kind


def model_path(args):
    """Where ``train`` saves and in which format."""
    path = None if args.model_file is None else Path(args.model_file)
    kind = args.format
    by_suffix = {".joblib": "joblib", ".pkl": "joblib", ".safetensors": "safetensors"}
    if path is not None and path.suffix.lower() in by_suffix:
        suffix_kind = by_suffix[path.suffix.lower()]
        if kind is not None and kind != suffix_kind:
            raise ValueError(f"--model-file {path} has a {suffix_kind} suffix but "
                             f"--format is {kind}")
        kind = suffix_kind
    kind = kind or "safetensors"
    if path is None:
        path = Path(args.out) / f"model{FORMATS[kind][0]}"
    return path, kind


def save_model_file(model, path, kind):
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "joblib":
        import joblib

        joblib.dump(model, path)
    else:
        from .. import save_model

        save_model(model, path)
