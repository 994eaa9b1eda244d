"""JSON and Markdown reports; every one states protocol, data, size and seed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["markdown_table", "write_report"]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return value


def markdown_table(header, rows, *, digits=3):
    """A Markdown table; floats are printed with ``digits`` decimals.

    Parameters
    ----------
    header : sequence of str
    rows : sequence of sequence
        ``None`` prints as an empty cell.
    digits : int, default=3

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown_table(["model", "CCC"], [["ridge", 0.51234], ["oracle", None]]))
    | model | CCC |
    | --- | ---: |
    | ridge | 0.512 |
    | oracle |  |
    """
    def cell(v):
        if v is None:
            return ""
        if isinstance(v, (float, np.floating)):
            return f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(result, out_dir, name):
    """Write ``<name>.json`` and ``<name>.md`` for a result.

    Parameters
    ----------
    result : object with ``to_dict()`` and ``to_markdown()``, or a dict
        A :class:`~sklearn_impression.model_selection.ProtocolResult`, an
        :class:`AblationResult`, or a dict with a ``"markdown"`` entry (written as
        the Markdown file; the rest goes to JSON).
    out_dir : str or Path
        Created if missing.
    name : str
        File stem.

    Returns
    -------
    dict
        ``{"json": Path, "markdown": Path}``.

    Examples
    --------
    >>> import json, tempfile
    >>> out = tempfile.mkdtemp()
    >>> paths = write_report({"seed": 0, "markdown": "# Demo"}, out, "demo")
    >>> json.loads(paths["json"].read_text())
    {'seed': 0}
    >>> paths["markdown"].read_text().strip()
    '# Demo'
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(result, dict):
        payload = {k: v for k, v in result.items() if k != "markdown"}
        markdown = result.get("markdown", "")
    else:
        payload, markdown = result.to_dict(), result.to_markdown()
    paths = {"json": out / f"{name}.json", "markdown": out / f"{name}.md"}
    paths["json"].write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
    paths["markdown"].write_text(markdown)
    return paths
