"""Feature statistics: the package's one scaling rule, and per-receiver statistics.

One rule for constant columns everywhere in the package (the regressor, the
ridge and LSTM baselines, the per-person normalisation): the statistics are
scikit-learn's :class:`~sklearn.preprocessing.StandardScaler` ones (population
variance, weighted by ``sample_weight`` where rows count several times), and a
column whose variance is zero up to floating-point rounding gets scale 1, as
``StandardScaler`` does. A mean or variance that overflows float64 is an error
naming the column, never a silent scale of 1. Per-receiver statistics
(``(ids, means, scales)``) are computed, merged and applied here, for
:class:`ReceiverNormalizer` and the regressor's kept per-person statistics.
Torch-free.
"""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler

from ..recordings._frames import DyadicFrames

__all__ = ["column_scaler", "mean_scale", "merge_statistics", "normalize_receivers",
           "receiver_statistics", "with_receiver_blocks", "zscore"]

#: Rows per ``partial_fit`` call: no full-size float64 copy of millions of frames.
_CHUNK = 65536


def column_scaler(values, weights=None, what="feature"):
    """A :class:`~sklearn.preprocessing.StandardScaler` fitted on ``values``.

    Fitted chunk by chunk with ``partial_fit`` (``weights`` as ``sample_weight``).

    Raises
    ------
    ValueError
        When the mean or variance of a column overflows float64; names ``what``
        and the column.

    Examples
    --------
    >>> import numpy as np
    >>> scaler = column_scaler(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> scaler.mean_, scaler.scale_
    (array([1., 5.]), array([1., 1.]))
    >>> column_scaler(np.array([[1e300], [-1e300]]), what="target")
    Traceback (most recent call last):
    ...
    ValueError: targets (column 0) are too large to standardise in float64 (the mean \
or variance overflows); rescale them before fitting
    """
    scaler = StandardScaler()
    # Overflow is checked below, with a message naming the column.
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, max(values.shape[0], 1), _CHUNK):
            part = values[start:start + _CHUNK]
            weight = None if weights is None else weights[start:start + _CHUNK]
            scaler.partial_fit(part, sample_weight=weight)
    bad = ~(np.isfinite(scaler.mean_) & np.isfinite(scaler.var_))
    if bad.any():
        raise ValueError(
            f"{what}s (column {int(np.flatnonzero(bad)[0])}) are too large to "
            "standardise in float64 (the mean or variance overflows); rescale them "
            "before fitting"
        )
    return scaler


def mean_scale(values, weights=None, what="feature"):
    """Column means and scales of ``values`` by :func:`column_scaler`'s rule."""
    if values.shape[1] == 0:  # a domain without columns (the baselines' arrays)
        return np.zeros(0), np.ones(0)
    scaler = column_scaler(values, weights, what)
    return scaler.mean_.astype(np.float64), scaler.scale_.astype(np.float64)


def zscore(block, mean, scale):
    """``block`` standardised by ``mean`` and ``scale``, in its own dtype."""
    return ((block - mean) / scale).astype(block.dtype, copy=False)


def _moments(blocks):
    """Mean and scale over the rows of ``blocks``, by the package's one rule for
    constant columns (scale 1) and overflow (a named error)."""
    return mean_scale(np.concatenate(blocks, axis=0).astype(np.float64, copy=False))


def with_receiver_blocks(X, blocks):
    """``X`` with other receiver blocks (the emitter blocks shared)."""
    return DyadicFrames(X.emitter_blocks, blocks, X.emitter_index,
                        X.emitter_feature_names, X.receiver_feature_names,
                        X.receivers, X.stimuli, X.emitter_rows,
                        label_rate=X.label_rate)


def receiver_statistics(*datasets, receivers=None):
    """Mean and scale of each receiver's features over their recordings.

    Parameters
    ----------
    *datasets : DyadicFrames
        One or more sets of recordings with the same receiver features; a
        receiver's statistics pool their recordings in all of them.
    receivers : collection, default=None
        Only these receivers (``None``: every receiver with an id).

    Returns
    -------
    ids : list
        Receiver ids, in order of first appearance.
    means, scales : ndarray of shape (len(ids), n_receiver_features)
    """
    blocks = {}
    for X in datasets:
        for block, r in zip(X.receiver_blocks, X.receivers, strict=True):
            if r is not None and (receivers is None or r in receivers):
                blocks.setdefault(r, []).append(block)
    n = datasets[0].n_receiver_features
    stats = [_moments(b) for b in blocks.values()]
    means = np.array([m for m, _ in stats], dtype=np.float64).reshape(-1, n)
    scales = np.array([s for _, s in stats], dtype=np.float64).reshape(-1, n)
    return list(blocks), means, scales


def merge_statistics(known, new):
    """``known`` statistics ``(ids, means, scales)`` with ``new`` ones added; a
    receiver in both takes the new values."""
    ids, means, scales = (list(known[0]), np.array(known[1], dtype=np.float64),
                          np.array(known[2], dtype=np.float64))
    position = {r: k for k, r in enumerate(ids)}
    for r, m, s in zip(*new, strict=True):
        if r in position:
            means[position[r]], scales[position[r]] = m, s
        else:
            position[r] = len(ids)
            ids.append(r)
            means = np.vstack([means.reshape(-1, m.size), m])
            scales = np.vstack([scales.reshape(-1, s.size), s])
    return ids, means, scales


def normalize_receivers(X, by, known=None):
    """``X``'s receiver features z-scored per group (the transform of
    :class:`ReceiverNormalizer`).

    ``by="recording"``: each recording by its own statistics. ``by="receiver"``:
    a receiver in ``known`` (``(ids, means, scales)`` of
    :func:`receiver_statistics`) by those statistics, any other receiver by the
    statistics of all their recordings in ``X`` (recordings without an id: each
    by its own).
    """
    blocks = list(X.receiver_blocks)
    stored = {} if known is None else {
        r: (m, s) for r, m, s in zip(*known, strict=True)}
    groups, alone = {}, []
    for i, r in enumerate(X.receivers):
        if by == "recording" or r is None:
            alone.append([i])
        else:
            groups.setdefault(r, []).append(i)
    for r, members in list(groups.items()) + [(None, a) for a in alone]:
        mean, scale = stored[r] if r in stored else _moments(
            [blocks[i] for i in members])
        for i in members:
            blocks[i] = zscore(blocks[i], mean, scale)
    return with_receiver_blocks(X, blocks)
