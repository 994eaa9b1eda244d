"""The causal forms of the regressor's steps around the network.

Offline, :class:`~sklearn_impression.CrossDomainRegressor` standardises an
unknown person with the statistics of all their recordings and smooths its
traces with a centred window: both read the future. The causal forms here make
a frame's prediction depend only on frames up to ``lookahead`` after it:

* :class:`RunningStatistics`: per-stream feature statistics, exponentially
  weighted from the stream's start (the adjusted average, so the first frames
  weigh equally: the warm-up), for receivers without kept statistics;
* :class:`TrailingFinisher`: the label delay and the smoothing as one trailing
  window. Offline, frame ``t`` is the mean of the network outputs at
  ``t - D - w // 2 .. t - D + (w - 1) // 2`` (``D``: the delay, ``w``: the
  smoothing width); the window ends ``S = D - (w - 1) // 2`` frames before
  ``t``, so it is causal as it is whenever ``S >= -lookahead``, and identical
  to the offline value except within ``(w - 1) // 2`` frames of a recording's
  end (where the offline filter repeats the last value). A shorter delay is
  raised to ``-lookahead``: the trace then lags the offline one.

Both keep a bounded state and give the same numbers for a whole recording as
for the same frames pushed in any chunks (the streaming predictor of
:mod:`sklearn_impression.live` uses them). Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from ..preprocessing._statistics import with_receiver_blocks, zscore

__all__ = ["CausalSteps", "RunningStatistics", "TrailingFinisher",
           "causal_shift", "finish_causal", "normalize_blocks",
           "normalize_causal", "population_prior", "running_needed"]


@dataclass(frozen=True)
class CausalSteps:
    """How far ahead a causal prediction may read, and how fast the running
    statistics forget, both in label frames; ``running`` and ``trailing``
    switch each causal step on (both for live prediction; one alone measures
    what it costs)."""

    lookahead: int = 0
    halflife: float = 1500.0
    running: bool = True
    trailing: bool = True
    prior: tuple = None  # (mean, var, weight in frames) the running ones start from

    def min_extra_delay(self, delay, smoothing):
        """The smallest per-receiver extra delay (label frames) that keeps a
        model with label delay ``delay`` and smoothing ``smoothing`` causal."""
        return (max(smoothing, 1) - 1) // 2 - self.lookahead - delay


def causal_shift(delay, smoothing, lookahead):
    """How many frames before ``t`` the trailing window of frame ``t`` ends:
    ``delay - (smoothing - 1) // 2``, at least ``-lookahead``."""
    return max(int(delay) - (max(int(smoothing), 1) - 1) // 2, -int(lookahead))


class RunningStatistics:
    """Exponentially weighted feature statistics of one stream, from its start.

    Frame ``t`` is standardised by the weighted mean and standard deviation of
    frames ``0 .. t`` (weights halving every ``halflife`` frames, normalised to
    sum to one, so the first frames of a stream weigh equally); a column whose
    variance is zero up to rounding gets scale 1, as everywhere in the package.
    With a ``prior``, the stream starts as if ``weight`` frames with that mean
    and variance (the population's) had come before it, so its first frames
    are standardised by the population and then more and more by its own.

    Parameters
    ----------
    n_features : int
    halflife : float
        In frames.
    prior : tuple (mean, var, weight), default=None
        Arrays of ``n_features`` and a weight in frames.

    Examples
    --------
    >>> stats = RunningStatistics(1, halflife=10.0)
    >>> x = np.arange(6, dtype=np.float32)[:, None]
    >>> whole = stats.transform(x)
    >>> again = RunningStatistics(1, halflife=10.0)
    >>> parts = np.vstack([again.transform(x[:2]), again.transform(x[2:])])
    >>> bool(np.array_equal(whole, parts)), float(whole[0, 0])
    (True, 0.0)
    """

    def __init__(self, n_features, halflife, prior=None):
        self.decay = 0.5 ** (1.0 / float(halflife))
        self.state = np.zeros((3, 1, n_features))  # lfilter states of 1, x, x**2
        if prior is not None and prior[2] > 0:
            mean, var, weight = (np.asarray(prior[0], np.float64),
                                 np.asarray(prior[1], np.float64), float(prior[2]))
            # the filters' states after `weight` frames of those moments
            total = (1.0 - self.decay ** weight) / (1.0 - self.decay)
            self.state[:, 0] = self.decay * total * np.stack(
                [np.ones_like(mean), mean, var + mean * mean])

    def transform(self, block):
        """``block`` (frames in time order) standardised, float32; the
        statistics then include it."""
        x = np.asarray(block, dtype=np.float64)
        if not len(x):  # (lfilter's final state of no input is not its zi)
            return x.astype(np.float32)
        a = [1.0, -self.decay]
        sums = []
        for k, values in enumerate((np.ones_like(x), x, x * x)):
            out, self.state[k] = lfilter([1.0], a, values, axis=0, zi=self.state[k])
            sums.append(out)
        return _standardized(x, *sums)

    @classmethod
    def transform_many(cls, stats, blocks):
        """``[s.transform(b) for s, b in zip(stats, blocks)]``, the same numbers,
        vectorised over the streams (many people's next frame or two).

        Streams whose blocks have the same length ``<= 8`` advance together,
        frame by frame (``y = x + decay * y_prev``: the operations ``lfilter``
        does); longer blocks go through :meth:`transform`.

        Examples
        --------
        >>> x = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
        >>> one = [RunningStatistics(2, 5.0) for _ in range(3)]
        >>> many = [RunningStatistics(2, 5.0) for _ in range(3)]
        >>> a = [s.transform(b) for s, b in zip(one, x)]
        >>> b = RunningStatistics.transform_many(many, list(x))
        >>> all(np.array_equal(u, v) for u, v in zip(a, b))
        True
        """
        out = [None] * len(blocks)
        groups = {}
        for i, block in enumerate(blocks):
            n = len(block)
            if n == 0 or n > _SHORT:
                out[i] = stats[i].transform(block)
            else:
                groups.setdefault(n, []).append(i)
        for n, members in groups.items():
            x = np.stack([blocks[i] for i in members]).astype(np.float64)  # (P, n, F)
            state = np.stack([stats[i].state[:, 0] for i in members])   # (P, 3, F)
            decay = np.array([stats[i].decay for i in members])[:, None, None]
            sums = np.empty((3, *x.shape))
            for t in range(n):
                state = state + np.stack([np.ones_like(x[:, t]), x[:, t],
                                          x[:, t] * x[:, t]], axis=1)
                sums[:, :, t] = state.transpose(1, 0, 2)
                state = decay * state
            for k, i in enumerate(members):
                stats[i].state[:, 0] = state[k]
            z = _standardized(x, *sums)
            for k, i in enumerate(members):
                out[i] = z[k]
        return out


#: Longest block :meth:`RunningStatistics.transform_many` runs frame by frame.
_SHORT = 8


def _standardized(x, weight, total, squares):
    """``x`` standardised by the weighted sums of 1, x and x**2 (float32)."""
    mean = total / weight
    var = squares / weight - mean * mean
    scale = np.where(var > 1e-10 * (1.0 + mean * mean),
                     np.sqrt(np.maximum(var, 0.0)), 1.0)
    return ((x - mean) / scale).astype(np.float32)


def population_prior(statistics):
    """``(mean, var)`` of the training receivers' kept ``statistics``
    (``(ids, means, scales)``): their mean feature means, and the variance of
    their frames pooled (mean within-receiver variance plus the variance of
    their means); ``None`` without statistics."""
    if statistics is None:
        return None
    _, means, scales = statistics
    return means.mean(axis=0), (scales ** 2).mean(axis=0) + means.var(axis=0)


def running_needed(normalize_by, statistics, receiver):
    """Does a stream of ``receiver`` need :class:`RunningStatistics` (no kept
    ``statistics`` for them, or ``normalize_by="recording"``)?"""
    if normalize_by is None:
        return False
    return (normalize_by == "recording" or statistics is None
            or receiver not in set(statistics[0]))


def normalize_causal(X, normalize_by, statistics, halflife, running=None,
                     prior=None):
    """Receiver features of DyadicFrames ``X`` standardised causally.

    A receiver with kept ``statistics`` (``(ids, means, scales)`` or ``None``)
    by those, frozen; anyone else by :class:`RunningStatistics` (starting
    from ``prior``): a receiver's recordings are one stream, in the order of
    ``X`` (each recording alone with ``normalize_by="recording"`` or without a
    receiver id), or ``running[i]`` standardises recording ``i`` (updated in
    place: a stream's state between chunks). ``normalize_by=None`` leaves
    ``X`` as it is.
    """
    if normalize_by is None:
        return X
    return with_receiver_blocks(X, normalize_blocks(
        X.receiver_blocks, X.receivers, normalize_by, statistics, halflife, running,
        prior))


def normalize_blocks(blocks, receivers, normalize_by, statistics, halflife,
                     running=None, prior=None):
    """:func:`normalize_causal` of receiver ``blocks`` (one per stream, of
    ``receivers``): a new list. Frozen statistics are read for the receivers
    that have them only; given ``running``, the running ones advance together
    (:meth:`RunningStatistics.transform_many`)."""
    blocks = list(blocks)
    if normalize_by is None:
        return blocks
    ids, means, scales = ([], None, None) if statistics is None else statistics
    position = {r: k for k, r in enumerate(ids)}
    streams = []
    for i, r in enumerate(receivers):
        if normalize_by == "recording" or r not in position:
            streams.append(i)
        else:
            blocks[i] = zscore(blocks[i], means[position[r]],
                                      scales[position[r]])
    if streams and running is None:  # whole recordings: a receiver's in order
        carried = {}
        for i in streams:
            r = receivers[i]
            key = ("recording", i) if normalize_by == "recording" or r is None else r
            if key not in carried:
                carried[key] = RunningStatistics(blocks[i].shape[1], halflife, prior)
            blocks[i] = carried[key].transform(blocks[i])
    elif streams:
        normalised = RunningStatistics.transform_many(
            [running[i] for i in streams], [blocks[i] for i in streams])
        for i, block in zip(streams, normalised, strict=True):
            blocks[i] = block
    return blocks


class TrailingFinisher:
    """The label delay and the smoothing of one trace as a trailing window.

    ``push`` takes the network's outputs of the next frames (target units) and
    returns the finished predictions of every frame it can finish: frame ``t``
    is the mean of the outputs ``t - shift - width + 1 .. t - shift`` (the
    first output standing in before the start), available once output
    ``t - shift`` is in (``shift < 0``: ``-shift`` frames later). ``flush``
    finishes the frames a negative shift held back, repeating the last mean.

    Parameters
    ----------
    shift : int
        :func:`causal_shift`.
    width : int
        Smoothing width in frames (1 or 0: none).
    """

    def __init__(self, shift, width):
        self.shift, self.width = int(shift), max(int(width), 1)
        self.outputs = None  # the last width - 1 outputs
        self.means = None    # the last max(shift, 0) means
        self.n_in = self.n_out = 0

    def push(self, outputs):
        """Finished predictions ``(n, n_outputs)`` of the frames now done."""
        outputs = np.asarray(outputs, dtype=np.float64)
        if not len(outputs):
            return outputs[:0]
        if self.outputs is None:
            self.outputs = np.repeat(outputs[:1], self.width - 1, axis=0)
            self.means = np.empty((0, outputs.shape[1]))
        rows = np.concatenate([self.outputs, outputs])
        sums = np.cumsum(np.concatenate([np.zeros((1, rows.shape[1])), rows]), axis=0)
        means = (sums[self.width:] - sums[:-self.width]) / self.width
        self.outputs = rows[len(rows) - (self.width - 1):]
        self.n_in += len(outputs)
        if self.shift >= 0:
            if not len(self.means):  # before the start: the first mean
                self.means = np.repeat(means[:1], self.shift, axis=0)
            history = np.concatenate([self.means, means])
            self.means = history[len(history) - self.shift:]
            done = history[:len(means)]
        else:
            done = means[max(0, -self.shift - (self.n_in - len(means))):]
            self.means = means[-1:]
        self.n_out += len(done)
        return done

    def flush(self):
        """The frames a negative shift held back, with the last mean."""
        left = self.n_in - self.n_out
        self.n_out = self.n_in
        if self.means is None or left <= 0:
            return np.empty((0, 0 if self.means is None else self.means.shape[1]))
        return np.repeat(self.means[-1:], left, axis=0)


def finish_causal(traces, delays, smoothing, lookahead):
    """Each trace finished by a :class:`TrailingFinisher` (one delay per trace,
    in label frames), pushed whole and flushed."""
    delays = np.broadcast_to(np.asarray(delays, dtype=np.int64), (len(traces),))
    out = []
    for trace, delay in zip(traces, delays, strict=True):
        finisher = TrailingFinisher(causal_shift(delay, smoothing, lookahead),
                                    smoothing)
        done = finisher.push(trace)
        rest = finisher.flush()
        out.append(np.concatenate([done, rest]) if len(rest) else done)
    return out
