"""Figures: regularisation loss trends, predicted traces, CCC per receiver.

Built on :class:`matplotlib.figure.Figure` directly (no ``pyplot``), so they never
open a window or change the caller's backend; ``path=`` saves a PNG.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_loss_trends", "plot_receiver_ccc", "plot_traces"]

from ..recordings._constants import TARGET_NAMES


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def _history_rows(history):
    """Per-epoch dicts of a skorch History, a fitted regressor or pipeline."""
    if hasattr(history, "steps"):
        history = history.steps[-1][1]
    if hasattr(history, "net_"):
        history = history.net_.history
    return [dict(epoch) for epoch in history]


def plot_loss_trends(history, *, losses=("kd", "se"), path=None):
    """Per-epoch train and valid regularisation losses (the paper's Figure 2).

    Parameters
    ----------
    history : skorch History, fitted CrossDomainRegressor or Pipeline, or list of dict
        Per-epoch records with keys ``train_<loss>`` and ``valid_<loss>``.
    losses : sequence of str, default=("kd", "se")
        One panel per loss name.
    path : str or Path, default=None
        Save the figure as a PNG there.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per loss: its train and valid values per epoch.

    Examples
    --------
    >>> fig = plot_loss_trends([{"train_kd": 1.0, "valid_kd": 1.2, "train_se": .5,
    ...                          "valid_se": .6}, {"train_kd": .8, "valid_kd": 1.0,
    ...                          "train_se": .4, "valid_se": .5}])
    >>> len(fig.axes)
    2
    """
    rows = _history_rows(history)
    if not rows:
        raise ValueError("the history has no epochs")
    fig = _figure(figsize=(4.5 * len(losses), 3.2), layout="constrained")
    epochs = np.arange(1, len(rows) + 1)
    for ax, loss in zip(fig.subplots(1, len(losses), squeeze=False)[0], losses,
                        strict=True):
        found = False
        for part, style in (("train", "-o"), ("valid", "--s")):
            key = f"{part}_{loss}"
            values = [r.get(key, np.nan) for r in rows]
            if not np.all(np.isnan(np.asarray(values, dtype=float))):
                ax.plot(epochs, values, style, ms=3, label=part)
                found = True
        if not found:
            raise ValueError(
                f"the history has no 'train_{loss}' or 'valid_{loss}' entries; "
                f"its keys are {sorted(rows[0])}"
            )
        ax.set_title(f"{loss.upper()} loss")
        ax.set_xlabel("epoch")
        ax.legend()
    return _save(fig, path)


def plot_traces(y_true, y_pred, *, labels=None, target_names=TARGET_NAMES,
                frame_rate=25.0, max_recordings=3, path=None):
    """Predicted against annotated traces for a few recordings.

    Parameters
    ----------
    y_true, y_pred : sequence of ndarray of shape (n_frames_i, n_outputs)
    labels : sequence of str, default=None
        Title per recording.
    target_names : sequence of str, default=("competence", "warmth")
    frame_rate : float, default=25.0
        For the time axis in seconds.
    max_recordings : int, default=3
        Plot the first ``max_recordings`` recordings.
    path : str or Path, default=None
        Save the figure as a PNG there.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One row of panels per recording, one panel per target.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_traces([np.zeros((50, 2))], [np.ones((50, 2))])
    >>> len(fig.axes)
    2
    """
    n = min(len(y_true), max_recordings)
    if n == 0 or len(y_pred) < n:
        raise ValueError("plot_traces needs at least one recording with predictions")
    k = len(target_names)
    fig = _figure(figsize=(4.5 * k, 2.4 * n), layout="constrained")
    axes = fig.subplots(n, k, squeeze=False)
    for i in range(n):
        true = np.asarray(y_true[i]).reshape(len(y_true[i]), -1)
        pred = np.asarray(y_pred[i]).reshape(len(y_pred[i]), -1)
        t = np.arange(true.shape[0]) / frame_rate
        for j, name in enumerate(target_names):
            ax = axes[i, j]
            ax.plot(t, true[:, j], color="black", lw=1.2, label="annotated")
            ax.plot(t, pred[:, j], color="tab:orange", lw=1, label="predicted")
            title = name if labels is None else f"{labels[i]}: {name}"
            ax.set_title(title, fontsize=9)
            if i == n - 1:
                ax.set_xlabel("time (s)")
    axes[0, 0].legend(fontsize=8)
    return _save(fig, path)


def plot_receiver_ccc(receiver_ccc, *, target_names=TARGET_NAMES, title=None,
                      path=None):
    """Bar chart of CCC per receiver: where the model fails, and for whom.

    Parameters
    ----------
    receiver_ccc : dict
        Receiver id to ``{dimension: CCC}``, as in
        :attr:`ProtocolResult.receiver_ccc
        <sklearn_impression.model_selection.ProtocolResult>`.
    target_names : sequence of str, default=("competence", "warmth")
    title : str, default=None
        Title of the chart; ``None`` means "CCC per receiver".
    path : str or Path, default=None
        Save the figure as a PNG there.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One group of bars per receiver, one bar per target.

    Examples
    --------
    >>> fig = plot_receiver_ccc({"p1": {"competence": .5, "warmth": .4},
    ...                          "p2": {"competence": .2, "warmth": .1}})
    >>> len(fig.axes[0].patches)
    4
    """
    if not receiver_ccc:
        raise ValueError("receiver_ccc is empty")
    ids = sorted(receiver_ccc, key=str)
    x = np.arange(len(ids))
    width = 0.8 / len(target_names)
    fig = _figure(figsize=(max(5.0, 0.35 * len(ids) + 2), 3.2), layout="constrained")
    ax = fig.subplots()
    for j, name in enumerate(target_names):
        ax.bar(x + (j - (len(target_names) - 1) / 2) * width,
               [receiver_ccc[r][name] for r in ids], width, label=name)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [str(r) for r in ids], rotation=90 if len(ids) > 12 else 0,
                  fontsize=8)
    ax.set_xlabel("receiver")
    ax.set_ylabel("CCC")
    ax.set_title(title or "CCC per receiver")
    ax.legend(fontsize=8)
    return _save(fig, path)
