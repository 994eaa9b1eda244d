"""CCC per impression dimension, pooled and per receiver, as named dictionaries."""

from __future__ import annotations

import numpy as np

from ..metrics import ccc_score
from ..recordings._constants import TARGET_NAMES

__all__ = ["ccc_by_dimension", "ccc_by_receiver"]


def _target_names(target_names, n_outputs):
    if target_names is None:
        target_names = (TARGET_NAMES if n_outputs == 2
                        else tuple(f"output_{k}" for k in range(n_outputs)))
    target_names = tuple(target_names)
    if len(target_names) != n_outputs:
        raise ValueError(f"{len(target_names)} target names for {n_outputs} outputs")
    return target_names


def ccc_by_dimension(y_true, y_pred, target_names=None):
    """CCC of every output over all frames pooled, by dimension name.

    Parameters
    ----------
    y_true, y_pred : sequence of ndarray of shape (n_frames_i, n_outputs)
        Targets and predictions, one array per recording (or one array).
    target_names : sequence of str, default=None
        Names of the outputs; ``("competence", "warmth")`` for two outputs,
        ``output_0, ...`` otherwise.

    Returns
    -------
    dict
        Dimension name to CCC (:func:`~sklearn_impression.metrics.ccc_score`,
        pooled).

    Examples
    --------
    >>> import numpy as np
    >>> y = [np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])]
    >>> ccc_by_dimension(y, y)
    {'competence': 1.0, 'warmth': 1.0}
    """
    scores = np.asarray(ccc_score(y_true, y_pred, multioutput="raw_values",
                                  average="pooled"), dtype=float).reshape(-1)
    names = _target_names(target_names, scores.size)
    return {n: float(v) for n, v in zip(names, scores, strict=True)}


def ccc_by_receiver(y_true, y_pred, receivers, target_names=None):
    """CCC of every output over each receiver's frames, by receiver id.

    Parameters
    ----------
    y_true, y_pred : sequence of ndarray of shape (n_frames_i, n_outputs)
        Targets and predictions, one array per recording.
    receivers : sequence of hashable
        The receiver id of every recording.
    target_names : sequence of str, default=None
        As in :func:`ccc_by_dimension`.

    Returns
    -------
    dict
        Receiver id (in order of first appearance) to ``{dimension: CCC,
        "n_frames": int}`` over all frames of that receiver's recordings.

    Examples
    --------
    >>> import numpy as np
    >>> t = [np.arange(4.0), np.arange(4.0), np.arange(3.0)]
    >>> p = [np.arange(4.0), 3.0 - np.arange(4.0), np.arange(3.0)]
    >>> ccc_by_receiver(t, p, ["a", "b", "a"], target_names=["warmth"])
    {'a': {'warmth': 1.0, 'n_frames': 7}, 'b': {'warmth': -1.0, 'n_frames': 4}}
    """
    if len(receivers) != len(y_true) or len(y_pred) != len(y_true):
        raise ValueError(f"{len(receivers)} receiver ids, {len(y_true)} target and "
                         f"{len(y_pred)} prediction arrays: one each per recording")
    positions = {}
    for j, r in enumerate(receivers):
        positions.setdefault(r, []).append(j)
    out = {}
    for r, idx in positions.items():
        scores = ccc_by_dimension([y_true[j] for j in idx], [y_pred[j] for j in idx],
                                  target_names)
        scores["n_frames"] = int(sum(len(y_true[j]) for j in idx))
        out[r] = scores
    return out
