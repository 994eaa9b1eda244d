"""Causal resampling to the label rate, offline and chunk by chunk.

Label frame ``k`` (time ``k / frame_rate``) takes the value of the last input
sample at or before its time, ``j_k = floor(k * rate / frame_rate + 1e-9)``
(sample ``j`` is at ``j / rate``; rates within a relative ``1e-9`` count as
equal), so it depends on no later sample. A stream faster than the labels is
first low-passed by a causal IIR anti-aliasing filter
(:func:`scipy.signal.sosfilt`, its state carried from chunk to chunk and
started in the steady state of the channel's first valid sample, so a constant
passes without a start-up transient); a stream at or below the label rate is
only held.

:class:`CausalStreamResampler` does it for samples pushed in chunks of any size
with a bounded state; :func:`causal_frames` (and
``Resampler(method="causal")``, through it) runs the same object over a whole
stream, so the frames are bit-identical for any chunking.
"""

import math

import numpy as np
from scipy import signal

__all__ = ["CausalStreamResampler", "causal_frames"]

#: Anti-aliasing cutoff as a fraction of the label Nyquist frequency.
CUTOFF = 0.8

#: Candidate filters ``name -> (kind, order)``; ``"butter2"`` is the default,
#: chosen by ``benchmarks/bench_causal_resampling.py``.
DESIGNS = {
    "butter2": ("butter", 2),
    "butter4": ("butter", 4),
    "cheby8": ("cheby1", 8),  # scipy.signal.decimate's filter (0.05 dB ripple)
}
DEFAULT_DESIGN = "butter2"

_NAN_POLICIES = ("raise", "interpolate")


def rate_ratio(rate, frame_rate):
    """``rate / frame_rate``, exactly 1.0 for rates within a relative 1e-9."""
    if math.isclose(rate, frame_rate, rel_tol=1e-9):
        return 1.0
    return float(rate) / float(frame_rate)


def frame_samples(k_start, k_stop, ratio):
    """Index of the last sample at or before each frame ``k_start .. k_stop - 1``."""
    k = np.arange(k_start, k_stop, dtype=np.float64)
    return np.floor(k * ratio + 1e-9).astype(np.int64)


def design_sos(ratio, design=DEFAULT_DESIGN):
    """Second-order sections of the anti-aliasing low-pass for a stream at
    ``ratio`` times the label rate, or None when ``ratio <= 1`` (hold only)."""
    if ratio <= 1.0:
        return None
    kind, order = DESIGNS[design]
    wn = CUTOFF / ratio  # CUTOFF * (frame_rate / 2), relative to rate / 2
    if kind == "butter":
        return signal.butter(order, wn, output="sos")
    return signal.cheby1(order, 0.05, wn, output="sos")


class CausalStreamResampler:
    """Bring one stream to the label rate causally, from chunks of samples.

    Parameters
    ----------
    rate : float
        The stream's sampling rate in Hz (sample ``j`` is at ``j / rate``).
    frame_rate : float
        The label rate in Hz (frame ``k`` is at ``k / frame_rate``).
    n_channels : int
        Number of channels (columns) of every chunk.
    nan_policy : {"raise", "interpolate"}, default="interpolate"
        ``"raise"``: a NaN is a ValueError. ``"interpolate"``: each channel
        holds its last valid value through a NaN gap (causal filling); NaN
        before a channel's first valid sample become 0.0.
    name : str, optional
        Stream name used in error messages.
    channels : sequence of str, optional
        Channel names used in error messages.
    design : {"butter2", "butter4", "cheby8"}, default="butter2"
        The anti-aliasing filter (cutoff at 0.8 times the label Nyquist
        frequency). ``Resampler(method="causal")`` uses the default; the others
        are the candidates it was chosen from.

    Attributes
    ----------
    n_frames_out : int
        Frames returned so far (by :meth:`push` and :meth:`flush`).
    n_samples_in : int
        Samples pushed so far.

    Notes
    -----
    Frame ``k`` is complete, and returned by :meth:`push`, once sample ``j_k``
    has arrived. The state (filter state, last valid value and last output per
    channel, counters) has a fixed size, so memory does not grow with the
    stream; it is plain numpy attributes and pickles. A channel that is NaN
    from the start stays 0.0 until its first valid sample (the offline
    :func:`causal_frames` raises for a channel that is NaN throughout).
    """

    def __init__(self, rate, frame_rate, n_channels, nan_policy="interpolate", *,
                 name=None, channels=None, design=DEFAULT_DESIGN):
        for what, value in (("rate", rate), ("frame_rate", frame_rate)):
            if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{what} must be finite and > 0 Hz, got {value!r}")
        if nan_policy not in _NAN_POLICIES:
            raise ValueError(
                f"nan_policy must be one of {_NAN_POLICIES}, got {nan_policy!r}")
        if design not in DESIGNS:
            raise ValueError(f"design must be one of {tuple(DESIGNS)}, got {design!r}")
        self.rate = float(rate)
        self.frame_rate = float(frame_rate)
        self.n_channels = int(n_channels)
        self.nan_policy = nan_policy
        self.name = name
        self.channels = None if channels is None else tuple(channels)
        self.design = design
        self.ratio = rate_ratio(self.rate, self.frame_rate)
        self.sos = design_sos(self.ratio, design)
        self.zi_unit = None if self.sos is None else signal.sosfilt_zi(self.sos)
        self.reset()

    def reset(self):
        """Forget every sample: back to the state after ``__init__``."""
        c = self.n_channels
        self.n_frames_out = 0
        self.n_samples_in = 0
        self.last_valid = np.full(c, np.nan)  # NaN: no valid sample yet
        self.last_output = np.zeros(c)  # output at the latest sample
        self.zi = None if self.sos is None else np.zeros((len(self.sos), 2, c))
        return self

    def push(self, samples):
        """Add samples; return the frames they complete.

        Parameters
        ----------
        samples : array-like of shape (n_samples, n_channels)
            The next samples of the stream, ``n_samples >= 0``.

        Returns
        -------
        frames : ndarray of shape (n_new_frames, n_channels), float32
            Frames ``n_frames_out`` onward whose last sample has now arrived.
        """
        return self._push64(samples).astype(np.float32)

    def flush(self, n_frames):
        """Frames ``n_frames_out .. n_frames - 1``, holding the last output.

        For a stream that ended before its labels: the missing frames repeat
        the output at the last sample (0.0 if no sample came).

        Returns
        -------
        frames : ndarray of shape (max(n_frames - n_frames_out, 0), n_channels),
            float32
        """
        return self._flush64(n_frames).astype(np.float32)

    # -- float64 internals (Resampler checks the float32 range before casting)
    def _push64(self, samples):
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            raise ValueError(
                f"{self._where()}: samples must have shape (n, {self.n_channels}), "
                f"got {x.shape}")
        n = x.shape[0]
        if n == 0:
            return np.empty((0, self.n_channels))
        x, starts = self._held(x)
        y = x if self.sos is None else self._filtered(x, starts)
        first = self.n_samples_in
        self.n_samples_in += n
        self.last_output = y[-1].copy()
        # frames from n_frames_out whose sample j_k has arrived: k < N / ratio
        # (j_k >= first: the frames completed earlier were returned then)
        stop = math.floor(self.n_samples_in / self.ratio) + 2
        j = frame_samples(self.n_frames_out, stop, self.ratio)
        j = j[: np.searchsorted(j, self.n_samples_in)]
        self.n_frames_out += len(j)
        return y[j - first]

    def _flush64(self, n_frames):
        m = max(int(n_frames) - self.n_frames_out, 0)
        self.n_frames_out += m
        return np.repeat(self.last_output[np.newaxis], m, axis=0)

    def _held(self, x):
        """Checked samples with NaN held at the last valid value (0.0 before
        any), and ``{row: channels}`` where channels get their first valid
        sample in this chunk."""
        isnan = np.isnan(x)
        if not np.isfinite(x).all():
            bad = ~np.isfinite(x) & ~isnan
            if bad.any() or self.nan_policy == "raise":
                self._raise_bad(x, bad if bad.any() else isnan)
        had_valid = ~np.isnan(self.last_valid)
        if isnan.any():
            rows = np.arange(x.shape[0])[:, np.newaxis]
            src = np.maximum.accumulate(np.where(isnan, -1, rows), axis=0)
            x = np.where(src >= 0, np.take_along_axis(x, np.maximum(src, 0), axis=0),
                         self.last_valid)
            valid = ~np.isnan(x)
            self.last_valid = x[-1].copy()
            x[~valid] = 0.0
        else:
            valid = None
            self.last_valid = x[-1].copy()
        starts = {}
        for c in np.flatnonzero(~had_valid & ~np.isnan(self.last_valid)):
            row = 0 if valid is None else int(np.argmax(valid[:, c]))
            starts.setdefault(row, []).append(c)
        return x, starts

    def _filtered(self, x, starts):
        """``x`` low-passed; a channel's filter starts at its first valid sample
        in the steady state of that sample (before it: zero state, zero input)."""
        y = np.empty_like(x)
        a = 0
        for row in sorted(starts):
            if row > a:  # the samples before this start
                y[a:row], self.zi = signal.sosfilt(self.sos, x[a:row], axis=0,
                                                   zi=self.zi)
            for c in starts[row]:
                self.zi[:, :, c] = self.zi_unit * x[row, c]
            a = row
        y[a:], self.zi = signal.sosfilt(self.sos, x[a:], axis=0, zi=self.zi)
        return y

    def _where(self):
        return "stream" if self.name is None else f"stream {self.name!r}"

    def _raise_bad(self, x, bad):
        i, j = np.argwhere(bad)[0]
        channel = repr(self.channels[j]) if self.channels else str(j)
        what = "NaN" if np.isnan(x[i, j]) else f"{float(x[i, j])}"
        hint = ("; use nan_policy='interpolate' to hold the last valid value"
                if what == "NaN" else " (infinite values are never filled)")
        sample = self.n_samples_in + i
        raise ValueError(f"{self._where()}, channel {channel}: {what} at sample "
                         f"{sample} (t = {sample / self.rate:.3f} s){hint}")


def causal_frames64(values, rate, frame_rate, n_frames, nan_policy="interpolate", *,
                    name=None, channels=None, design=DEFAULT_DESIGN):
    """:func:`causal_frames` in float64 (for the float32 range check)."""
    x = np.asarray(values)
    if x.ndim != 2:
        raise ValueError(f"values must be 2-D (n_samples, n_channels), got {x.shape}")
    resampler = CausalStreamResampler(rate, frame_rate, x.shape[1], nan_policy,
                                      name=name, channels=channels, design=design)
    if not np.isfinite(x).all():  # the whole stream, as the other methods
        isnan = np.isnan(x)
        bad = ~np.isfinite(x) & ~isnan
        if bad.any() or nan_policy == "raise":
            resampler._raise_bad(x, bad if bad.any() else isnan)
        lost = np.flatnonzero(isnan.all(axis=0))
        if lost.size:
            channel = (repr(resampler.channels[lost[0]]) if resampler.channels
                       else str(lost[0]))
            raise ValueError(f"{resampler._where()}, channel {channel}: every "
                             "sample is NaN, nothing to hold")
    n_frames = int(n_frames)
    if n_frames <= 0:
        return np.empty((0, x.shape[1]))
    needed = int(frame_samples(n_frames - 1, n_frames, resampler.ratio)[0]) + 1
    out = resampler._push64(x[:needed])[:n_frames]
    return np.concatenate([out, resampler._flush64(n_frames)])


def causal_frames(values, rate, frame_rate, n_frames, nan_policy="interpolate", *,
                  name=None, channels=None):
    """Resample a whole stream causally to ``n_frames`` label frames.

    The same numbers as :class:`CausalStreamResampler` fed the stream in any
    chunks and flushed to ``n_frames``: frame ``k`` takes the (low-passed)
    value of the last sample at or before ``k / frame_rate``; frames after the
    stream's last sample hold it.

    Parameters
    ----------
    values : array-like of shape (n_samples, n_channels)
        The stream; sample ``j`` is at ``j / rate``.
    rate, frame_rate : float
        Stream and label rates in Hz.
    n_frames : int
        Number of label frames.
    nan_policy : {"raise", "interpolate"}, default="interpolate"
        As in :class:`CausalStreamResampler`; a channel that is NaN throughout
        raises with either policy, and inf always raises.
    name : str, optional
        Stream name for error messages.
    channels : sequence of str, optional
        Channel names for error messages.

    Returns
    -------
    frames : ndarray of shape (n_frames, n_channels), float32
    """
    return causal_frames64(values, rate, frame_rate, n_frames, nan_policy,
                           name=name, channels=channels).astype(np.float32)
