"""Standardisation and validation splits of flat :class:`~._flat.Frames` (no torch).

One rule for constant columns everywhere in the package (the regressor, the ridge
and LSTM baselines): the statistics are scikit-learn's
:class:`~sklearn.preprocessing.StandardScaler` ones (population variance, weighted
by ``sample_weight`` where rows count several times), and a column whose variance
is zero up to floating-point rounding gets scale 1, as ``StandardScaler`` does. A
mean or variance that overflows float64 is an error naming the column, never a
silent scale of 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..preprocessing._statistics import mean_scale

__all__ = ["Standardizer", "split_validation"]

@dataclass
class Standardizer:
    """Feature and target means and scales (constant columns get scale 1).

    Fitted by :meth:`fit` on :class:`~._flat.Frames`; the emitter rows are weighted
    by how many frames use them, so the statistics are those of the materialised
    frames.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression.recordings._flat import Frames
    >>> frames = Frames(np.array([[0.0], [4.0]], np.float32),
    ...                 np.array([[1.0], [1.0], [3.0]], np.float32),
    ...                 np.array([0, 0, 1]), np.array([3]), np.zeros((3, 1)))
    >>> scaler = Standardizer.fit(frames)
    >>> scaler.emitter_mean.round(6), scaler.receiver_scale.round(6)
    (array([1.333333]), array([0.942809]))
    >>> float(scaler.target_scale[0])  # a constant column
    1.0
    """

    emitter_mean: np.ndarray
    emitter_scale: np.ndarray
    receiver_mean: np.ndarray
    receiver_scale: np.ndarray
    target_mean: np.ndarray
    target_scale: np.ndarray

    @classmethod
    def fit(cls, frames, enabled=True):
        """Statistics over the frames (emitter rows weighted by their use).

        Without targets (``frames.y is None``) the target statistics are empty.
        """
        n_e, n_r = frames.emitter.shape[1], frames.receiver.shape[1]
        k = 0 if frames.y is None else frames.y.shape[1]
        if not enabled:
            return cls(np.zeros(n_e), np.ones(n_e), np.zeros(n_r), np.ones(n_r),
                       np.zeros(k), np.ones(k))
        uses = np.bincount(frames.emitter_row, minlength=frames.emitter.shape[0])
        used = uses > 0
        e_mean, e_scale = mean_scale(frames.emitter[used], uses[used].astype(float),
                                      "emitter feature")
        r_mean, r_scale = mean_scale(frames.receiver, what="receiver feature")
        t_mean, t_scale = (np.zeros(0), np.ones(0)) if frames.y is None else \
            mean_scale(frames.y, what="target")
        return cls(e_mean, e_scale, r_mean, r_scale, t_mean, t_scale)

    def transform(self, frames):
        """Standardise the features and targets of ``frames`` in place (float32).

        The arrays of ``frames`` must be owned by the caller (the flattening
        functions of :mod:`sklearn_impression.recordings._flat` always return fresh
        arrays).
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
        """Targets in the original units, float64."""
        return np.asarray(y, dtype=np.float64) * self.target_scale + self.target_mean

    # -- persistence (see sklearn_impression.persistence) ----------------------
    def __sklearn_impression_state__(self):
        """The arrays to save, by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def __sklearn_impression_restore__(cls, state, where="Standardizer"):
        """Rebuild from :meth:`__sklearn_impression_state__`; a ValueError names
        ``where``."""
        names = {f.name for f in fields(cls)}
        if not isinstance(state, dict) or set(state) != names:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"model file: {where} has fields {got}, expected "
                             f"{sorted(names)}")
        return cls(**{k: np.asarray(v, dtype=np.float64) for k, v in state.items()})


def _held_out_ids(ids, fraction, rng):
    """A random ``round(fraction * n)`` of the ``n`` distinct ``ids`` (leaving
    at least one), or ``None`` when that is none or an id is missing."""
    distinct = list(dict.fromkeys(ids))
    k = min(int(np.floor(fraction * len(distinct) + 0.5)), len(distinct) - 1)
    if k < 1 or any(i is None for i in distinct):
        return None
    return {distinct[j] for j in rng.choice(len(distinct), k, replace=False)}


def _grouped_masks(frames, fraction, groups, rng):
    """Per recording ``(train, valid)`` masks holding out whole stimuli (and
    receivers), or ``None`` when the ids do not allow it."""
    kinds = {"stimulus": ("stimulus",), "receiver": ("receiver",),
             "receiver+stimulus": ("receiver", "stimulus")}[groups]
    held = {}
    for kind in kinds:
        ids = frames.stimuli if kind == "stimulus" else frames.receivers
        held[kind] = _held_out_ids(ids, fraction, rng)
        if held[kind] is None:
            return None
    member = {"receiver": np.array([r in held.get("receiver", ())
                                    for r in frames.receivers]),
              "stimulus": np.array([s in held.get("stimulus", ())
                                    for s in frames.stimuli])}
    valid = np.logical_and.reduce([member[k] for k in kinds])
    train = ~np.logical_or.reduce([member[k] for k in kinds])
    return train, valid


def split_validation(frames, fraction, window, rng, groups="recording"):
    """Split off validation frames: whole groups of recordings when possible,
    else whole recordings, else frames.

    ``groups="stimulus"`` holds out ``round(fraction * n_stimuli)`` whole
    stimuli (when that is at least one, leaving one): validation then scores content the
    network never saw, so early stopping cannot reward memorising it.
    ``"receiver+stimulus"`` holds out receivers and stimuli at once (validation:
    the held-out receivers on the held-out stimuli; the recordings of one but
    not the other are used for neither). ``"receiver"`` holds out receivers.
    Where the ids do not allow it (a missing id, or too few stimuli or
    receivers for one to be ``fraction`` of them), the next kind applies:
    stimuli, then receivers, then: with ``r`` recordings,
    ``round(fraction * r)`` whole recordings (at least one,
    leaving at least one for training) go to validation when that count is >= 1.
    Otherwise ``round(fraction * n_frames)`` frames do: random frames with
    ``window == 1``, the last frames of each recording with ``window > 1`` (so
    validation windows are contiguous). Returns ``(train, valid)``; ``valid`` is
    ``None`` when nothing can be held out. Both keep the recording grouping and
    the receiver and stimulus ids of their recordings.
    """
    if not fraction:
        return frames, None
    if groups != "recording":
        for kind in dict.fromkeys((groups, "stimulus", "receiver")):
            masks = _grouped_masks(frames, fraction, kind, rng)
            if masks is not None:
                train, valid = (np.repeat(m, frames.lengths) for m in masks)
                return (frames.take_frames(np.flatnonzero(train)),
                        frames.take_frames(np.flatnonzero(valid)))
    lengths = frames.lengths
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    n_rec = lengths.size
    n_valid_rec = int(np.floor(fraction * n_rec + 0.5))
    if 1 <= n_valid_rec < n_rec:
        chosen = np.zeros(n_rec, dtype=bool)
        chosen[rng.choice(n_rec, n_valid_rec, replace=False)] = True
        valid = np.repeat(chosen, lengths)
    else:
        n_valid = int(np.floor(fraction * frames.n_frames + 0.5))
        if n_valid < 1 or n_valid >= frames.n_frames:
            return frames, None
        valid = np.zeros(frames.n_frames, dtype=bool)
        if window == 1:
            valid[rng.choice(frames.n_frames, n_valid, replace=False)] = True
        else:
            tails = np.floor(fraction * lengths + 0.5).astype(np.int64)
            tails = np.clip(tails, 0, np.maximum(lengths - 1, 0))
            for o, n, t in zip(offsets, lengths, tails, strict=True):
                valid[o + n - t:o + n] = True
            if not valid.any():
                return frames, None
    return (frames.take_frames(np.flatnonzero(~valid)),
            frames.take_frames(np.flatnonzero(valid)))
