"""Validated flat frame arrays for :class:`~sklearn_impression.CrossDomainRegressor`.

Everything here is numpy: inputs are checked and flattened before any torch code
runs, and errors name the recording and the domain.
"""

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["Frames", "Standardizer", "emitter_columns", "frames_from_array",
           "frames_from_dyadic", "split_validation"]


@dataclass
class Frames:
    """Flat frames: ``receiver[j]`` pairs with ``emitter[emitter_row[j]]``.

    ``lengths`` are the frame counts of consecutive recordings (one entry for a 2-D
    array), ``y`` the ``(N, k)`` targets or ``None``, ``listener`` the ``(N,)``
    int64 listener-table row of every frame (0: population) or ``None``.
    """

    emitter: np.ndarray
    receiver: np.ndarray
    emitter_row: np.ndarray
    lengths: np.ndarray
    y: np.ndarray = None
    listener: np.ndarray = None

    @property
    def n_frames(self):
        return self.receiver.shape[0]

    def take_frames(self, keep, lengths):
        """Frames ``keep`` (sorted indices), regrouped into recordings ``lengths``."""
        return replace(self, receiver=self.receiver[keep],
                       emitter_row=self.emitter_row[keep],
                       lengths=np.asarray(lengths, dtype=np.int64),
                       y=None if self.y is None else self.y[keep],
                       listener=None if self.listener is None
                       else self.listener[keep])


def _recording_name(X, i):
    return (f"recording {i} (receiver={X.receivers[i]!r}, "
            f"stimulus={X.stimuli[i]!r})")


def _check_finite(block, what):
    if not np.isfinite(block).all():
        bad = np.argwhere(~np.isfinite(block))[0]
        raise ValueError(
            f"{what}: contains NaN or inf (first at frame {bad[0]}, feature {bad[1]});"
            " the regressor needs finite features (see Resampler's nan_policy)"
        )


def frames_from_dyadic(X, y=None):
    """Flatten a :class:`DyadicFrames` (and its per-recording targets)."""
    if len(X) == 0:
        raise ValueError("X has no recordings; at least one is needed")
    if X.n_emitter_features == 0 or X.n_receiver_features == 0:
        raise ValueError(
            f"X has {X.n_emitter_features} emitter and {X.n_receiver_features} "
            "receiver features; the cross-domain network needs both domains"
        )
    lengths = X.frame_counts.astype(np.int64)
    if lengths.sum() == 0:
        raise ValueError("X has no frames (every recording is empty)")
    for s, block in enumerate(X.emitter_blocks):
        users = np.flatnonzero(X.emitter_index == s)
        if users.size:
            _check_finite(block, f"emitter block of {_recording_name(X, users[0])}")
    for i, block in enumerate(X.receiver_blocks):
        _check_finite(block, f"receiver features of {_recording_name(X, i)}")
    block_offsets = np.concatenate(
        [[0], np.cumsum([b.shape[0] for b in X.emitter_blocks])[:-1]]).astype(np.int64)
    emitter = np.concatenate(X.emitter_blocks).astype(np.float32, copy=False)
    emitter_row = np.concatenate([
        block_offsets[X.emitter_index[i]] + X.emitter_row_indices(i)
        for i in range(len(X))
    ]).astype(np.int64)
    receiver = np.concatenate(X.receiver_blocks).astype(np.float32, copy=False)
    targets = None if y is None else _targets_for(X, y, lengths)
    return Frames(emitter, receiver, emitter_row, lengths, targets)


def _targets_for(X, y, lengths):
    if isinstance(y, np.ndarray) and y.dtype != object and y.ndim in (1, 2) \
            and y.shape[0] == lengths.sum() and len(X) > 1:
        raise ValueError(
            "y for DyadicFrames must be a list of per-recording target arrays, "
            "not one stacked array"
        )
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} target arrays for {len(X)} recordings")
    arrays, n_outputs = [], None
    for i, target in enumerate(y):
        name = _recording_name(X, i)
        target = np.asarray(target)
        if target.dtype.kind not in "biuf":
            raise TypeError(f"targets of {name}: need real numbers, got dtype "
                            f"{target.dtype}")
        target = target.astype(np.float64)
        if target.ndim == 1:
            target = target[:, None]
        if target.ndim != 2:
            raise ValueError(f"targets of {name}: must be (n_frames, n_outputs), got "
                             f"shape {target.shape}")
        if target.shape[0] != lengths[i]:
            raise ValueError(f"targets of {name}: {target.shape[0]} rows but the "
                             f"recording has {lengths[i]} frames")
        if n_outputs is None:
            n_outputs = target.shape[1]
        elif target.shape[1] != n_outputs:
            raise ValueError(f"targets of {name}: {target.shape[1]} columns, earlier "
                             f"recordings have {n_outputs}")
        if not np.isfinite(target).all():
            frame = np.argwhere(~np.isfinite(target))[0, 0]
            raise ValueError(f"targets of {name}: NaN or inf at frame {frame}")
        arrays.append(target)
    if n_outputs == 0:
        raise ValueError("targets have no columns")
    return np.concatenate(arrays)


def emitter_columns(emitter_features, n_features):
    """Column indices of the emitter and receiver domains of a 2-D array.

    Examples
    --------
    >>> emitter_columns(None, 5)
    (array([0, 1]), array([2, 3, 4]))
    >>> emitter_columns([4], 5)
    (array([4]), array([0, 1, 2, 3]))
    """
    if emitter_features is None:
        cols = np.arange(n_features // 2)
    elif isinstance(emitter_features, (int, np.integer)):
        cols = np.arange(int(emitter_features))
    else:
        cols = np.asarray(emitter_features)
        if cols.dtype == bool:
            if cols.shape != (n_features,):
                raise ValueError(f"emitter_features mask has shape {cols.shape}, X "
                                 f"has {n_features} features")
            cols = np.flatnonzero(cols)
        elif cols.dtype.kind not in "iu" or cols.ndim != 1:
            raise ValueError("emitter_features must be None, an int, a 1-D array of "
                             "column indices or a boolean mask")
        cols = np.where(cols < 0, cols + n_features, cols).astype(np.intp)
        if cols.size and (cols.min() < 0 or cols.max() >= n_features):
            raise ValueError(f"emitter_features {emitter_features!r} out of range for "
                             f"{n_features} features")
        if np.unique(cols).size != cols.size:
            raise ValueError("emitter_features lists a column twice")
    receiver = np.setdiff1d(np.arange(n_features), cols)
    if cols.size == 0 or receiver.size == 0:
        raise ValueError(
            f"emitter_features={emitter_features!r} leaves {cols.size} emitter and "
            f"{receiver.size} receiver columns out of n_features={n_features}; the "
            "two domains need at least one column each"
        )
    return cols, receiver


def frames_from_array(X, y, emitter_cols, receiver_cols):
    """Frames of a validated 2-D float array (one recording, rows in time order)."""
    X = np.asarray(X)
    emitter = np.ascontiguousarray(X[:, emitter_cols], dtype=np.float32)
    receiver = np.ascontiguousarray(X[:, receiver_cols], dtype=np.float32)
    n = X.shape[0]
    targets = None
    if y is not None:
        targets = np.asarray(y, dtype=np.float64)
        targets = targets.reshape(n, -1)
    return Frames(emitter, receiver, np.arange(n, dtype=np.int64),
                  np.array([n], dtype=np.int64), targets)


def _stats(values, weights=None):
    """Mean and scale per column, accumulated in float64 without a float64 copy."""
    if weights is None:
        # One pass over float64 chunks, shifted by the first chunk's mean for
        # stability: no full-size float64 copy of millions of frames.
        chunk = 65536
        shift = values[:chunk].astype(np.float64).mean(axis=0)
        total = np.zeros(values.shape[1])
        squares = np.zeros(values.shape[1])
        for start in range(0, values.shape[0], chunk):
            part = values[start:start + chunk].astype(np.float64)
            part -= shift
            total += part.sum(axis=0)
            squares += np.einsum("ij,ij->j", part, part)
        offset = total / values.shape[0]
        mean = shift + offset
        var = squares / values.shape[0] - offset ** 2
    else:
        # Weighted (emitter rows by how often frames use them), in float64 chunks.
        weights = np.asarray(weights, dtype=np.float64)
        chunk = 65536
        total_weight = weights.sum()
        mean = np.zeros(values.shape[1])
        for start in range(0, values.shape[0], chunk):
            part = values[start:start + chunk].astype(np.float64)
            mean += weights[start:start + chunk] @ part
        mean /= total_weight
        var = np.zeros(values.shape[1])
        for start in range(0, values.shape[0], chunk):
            part = values[start:start + chunk].astype(np.float64) - mean
            var += weights[start:start + chunk] @ (part * part)
        var /= total_weight
    scale = np.sqrt(np.maximum(var, 0.0))
    # Constant columns get scale 1; an overflowed (non-finite) scale is kept so
    # that Standardizer.fit can name the column.
    scale[np.isfinite(scale) & ~(scale > 1e-6 * np.maximum(np.abs(mean), 1.0))] = 1.0
    return mean, scale


@dataclass
class Standardizer:
    """Feature and target means and scales (constant columns get scale 1)."""

    emitter_mean: np.ndarray
    emitter_scale: np.ndarray
    receiver_mean: np.ndarray
    receiver_scale: np.ndarray
    target_mean: np.ndarray
    target_scale: np.ndarray

    @classmethod
    def fit(cls, frames, enabled=True):
        """Statistics over the frames (emitter rows weighted by their use)."""
        n_e, n_r = frames.emitter.shape[1], frames.receiver.shape[1]
        k = frames.y.shape[1]
        if not enabled:
            return cls(np.zeros(n_e), np.ones(n_e), np.zeros(n_r), np.ones(n_r),
                       np.zeros(k), np.ones(k))
        uses = np.bincount(frames.emitter_row, minlength=frames.emitter.shape[0])
        used = uses > 0
        # Overflow is checked below, with a message naming the columns.
        with np.errstate(over="ignore", invalid="ignore"):
            e_mean, e_scale = _stats(frames.emitter[used], uses[used])
            r_mean, r_scale = _stats(frames.receiver)
            t_mean, t_scale = _stats(frames.y)
        for what, mean, scale in (("emitter feature", e_mean, e_scale),
                                  ("receiver feature", r_mean, r_scale),
                                  ("target", t_mean, t_scale)):
            bad = ~(np.isfinite(mean) & np.isfinite(scale))
            if bad.any():
                raise ValueError(
                    f"{what}s (column {int(np.flatnonzero(bad)[0])}) are too large "
                    "to standardise in float64 (the mean or variance overflows); "
                    "rescale them before fitting"
                )
        return cls(e_mean, e_scale, r_mean, r_scale, t_mean, t_scale)

    def transform(self, frames):
        """Standardise the features and targets of ``frames`` in place (float32).

        The arrays of ``frames`` must be owned by the caller (the ``frames_from_*``
        functions always return fresh arrays).
        """
        def scaled(values, mean, scale):
            values -= mean.astype(values.dtype)
            values /= scale.astype(values.dtype)
            return values
        y = None
        if frames.y is not None:
            y = scaled(frames.y.astype(np.float32), self.target_mean,
                       self.target_scale)
        return replace(
            frames,
            emitter=scaled(frames.emitter, self.emitter_mean, self.emitter_scale),
            receiver=scaled(frames.receiver, self.receiver_mean, self.receiver_scale),
            y=y,
        )

    def inverse_targets(self, y):
        return np.asarray(y, dtype=np.float64) * self.target_scale + self.target_mean


def split_validation(frames, fraction, window, rng):
    """Split off validation frames: whole recordings when possible, else frames.

    With ``r`` recordings, ``round(fraction * r)`` whole recordings (at least one,
    leaving at least one for training) go to validation when that count is >= 1.
    Otherwise ``round(fraction * n_frames)`` frames do: random frames with
    ``window == 1``, the last frames of each recording with ``window > 1`` (so
    validation windows are contiguous). Returns ``(train, valid)``; ``valid`` is
    ``None`` when nothing can be held out.
    """
    if not fraction:
        return frames, None
    lengths = frames.lengths
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_rec = lengths.size
    n_valid_rec = int(np.floor(fraction * n_rec + 0.5))
    if 1 <= n_valid_rec < n_rec:
        chosen = np.zeros(n_rec, dtype=bool)
        chosen[rng.choice(n_rec, n_valid_rec, replace=False)] = True
        parts = []
        for flags in (~chosen, chosen):
            keep = np.concatenate([np.arange(o, o + n) for o, n, f in
                                   zip(offsets, lengths, flags, strict=True) if f])
            parts.append(frames.take_frames(keep, lengths[flags]))
        return tuple(parts)
    n_valid = int(np.floor(fraction * frames.n_frames + 0.5))
    if n_valid < 1 or n_valid >= frames.n_frames:
        return frames, None
    valid = np.zeros(frames.n_frames, dtype=bool)
    if window == 1:
        valid[rng.choice(frames.n_frames, n_valid, replace=False)] = True
        return (frames.take_frames(np.flatnonzero(~valid), [frames.n_frames - n_valid]),
                frames.take_frames(np.flatnonzero(valid), [n_valid]))
    tails = np.floor(fraction * lengths + 0.5).astype(np.int64)
    tails = np.clip(tails, 0, np.maximum(lengths - 1, 0))
    for o, n, t in zip(offsets, lengths, tails, strict=True):
        valid[o + n - t:o + n] = True
    if not valid.any():
        return frames, None
    return (frames.take_frames(np.flatnonzero(~valid), lengths - tails),
            frames.take_frames(np.flatnonzero(valid), tails[tails > 0]))
