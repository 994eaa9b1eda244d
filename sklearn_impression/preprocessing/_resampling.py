"""How one stream is brought to the label rate: NaN filling and the four
resampling methods of :class:`~sklearn_impression.preprocessing.Resampler`
(``"causal"`` runs :mod:`._causal_stream`, which holds NaN gaps itself).
"""

from fractions import Fraction

import numpy as np
from scipy import signal

from ..recordings._recording import Stream, at_label_rate
from ._causal_stream import causal_frames64
from ._recording_checks import _check_stream_fits_float32

# scipy.signal.decimate's documentation: "call decimate multiple times for
# downsampling factors higher than 13" (the order-8 IIR filter becomes unstable).
_MAX_DECIMATION_STAGE = 13
_IIR_ORDER = 8


def _check_values(rec, name, stream, nan_policy):
    """Raise for inf, for NaN under ``nan_policy="raise"`` and for a channel that
    is NaN throughout; return the NaN mask, or None when all values are finite."""
    values = stream.values
    finite = np.isfinite(values)
    if finite.all():
        return None
    isnan = np.isnan(values)
    bad = ~finite & ~isnan
    if bad.any() or nan_policy == "raise":
        if not bad.any():
            bad = isnan
        i, j = np.argwhere(bad)[0]
        what = "NaN" if isnan[i, j] else f"{float(values[i, j])}"
        hint = (
            "; set nan_policy='interpolate' to fill NaN gaps"
            if what == "NaN"
            else " (infinite values are never interpolated)"
        )
        raise ValueError(
            f"{rec.name}, stream {name!r}, channel {stream.channels[j]!r}: {what} at "
            f"sample {i} (t = {i / stream.rate:.3f} s){hint}"
        )
    lost = np.flatnonzero(isnan.all(axis=0))
    if lost.size:
        raise ValueError(
            f"{rec.name}, stream {name!r}, channel {stream.channels[lost[0]]!r}: "
            "every sample is NaN, nothing to interpolate from"
        )
    return isnan


def _finite_values(rec, name, stream, nan_policy):
    """``(values, whether NaN were filled)``; filled values are float64; inf raises."""
    isnan = _check_values(rec, name, stream, nan_policy)
    if isnan is None:
        return stream.values, False
    x = np.array(stream.values, dtype=np.float64)  # own copy: the stream is read-only
    t = np.arange(x.shape[0])
    for j in np.flatnonzero(isnan.any(axis=0)):
        gaps = isnan[:, j]
        # np.interp holds the first/last valid value beyond the ends.
        x[gaps, j] = np.interp(t[gaps], t[~gaps], x[~gaps, j])
    return x, True


def _min_decimate_length(q):
    """Shortest input ``scipy.signal.decimate(x, q)`` (zero-phase IIR) accepts."""
    sos = signal.cheby1(_IIR_ORDER, 0.05, 0.8 / q, output="sos")
    ntaps = 2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    return 3 * ntaps + 1  # sosfiltfilt's default padlen must be < the length


def _decimation_stages(factor):
    """Factors <= 13 whose product is the largest 13-smooth integer <= ``factor``."""
    for total in range(factor, 1, -1):
        primes, rest = [], total
        for p in (2, 3, 5, 7, 11, 13):
            while rest % p == 0:
                primes.append(p)
                rest //= p
        if rest == 1:
            break
    else:
        return []
    stages = []  # first-fit decreasing: few stages, the biggest first
    for p in sorted(primes, reverse=True):
        for k, s in enumerate(stages):
            if s * p <= _MAX_DECIMATION_STAGE:
                stages[k] = s * p
                break
        else:
            stages.append(p)
    return sorted(stages, reverse=True)


def _resample_paper(x, n_frames, rate, frame_rate):
    n = x.shape[0]
    ratio = rate / frame_rate
    q = round(ratio)
    if q >= 2 and abs(ratio - q) <= 1e-9 * ratio and n == q * n_frames:
        factor = q  # the paper's integer case: decimate straight to the labels
    else:
        factor = n // n_frames  # decimate to just above the labels, then FFT
    for stage in _decimation_stages(factor):
        if x.shape[0] < _min_decimate_length(stage):
            break  # too short for the filter: the FFT below does the rest
        x = signal.decimate(x, stage, axis=0, zero_phase=True)
    if x.shape[0] != n_frames:
        x = signal.resample(x, n_frames, axis=0)
    return x


def _resample_polyphase(x, n_frames, rate, frame_rate):
    n = x.shape[0]
    exact = Fraction(frame_rate).limit_denominator(10**6) / Fraction(
        rate
    ).limit_denominator(10**6)
    for max_denominator in (10, 100, 1_000, 10_000, 100_000, 10**6):
        approx = exact.limit_denominator(max_denominator)
        if abs(approx - exact) * n < 0.5:  # drift over the stream < half a frame
            break
    y = signal.resample_poly(
        x, approx.numerator, approx.denominator, axis=0, padtype="line"
    )
    if y.shape[0] >= n_frames:
        return y[:n_frames]
    return np.concatenate([y, np.repeat(y[-1:], n_frames - y.shape[0], axis=0)])


def _resample_fft(x, n_frames, rate, frame_rate):
    return signal.resample(x, n_frames, axis=0)


def _resample_causal(x, n_frames, rate, frame_rate):
    # NaN left in x (nan_policy="interpolate") are held, causally
    return causal_frames64(x, rate, frame_rate, n_frames, "interpolate")


_resample_causal.holds_nan = True  # takes the checked values, NaN unfilled

_METHODS = {
    "paper": _resample_paper,
    "polyphase": _resample_polyphase,
    "fft": _resample_fft,
    "causal": _resample_causal,
}


def _resample_stream(rec, name, stream, resample, nan_policy):
    """``stream`` of ``rec`` at the label rate as float32, resampled by ``resample``
    (one of :data:`_METHODS`); a finite stream already there is returned as is."""
    if getattr(resample, "holds_nan", False):
        isnan = _check_values(rec, name, stream, nan_policy)
        if isnan is None and at_label_rate(stream, rec):
            return stream  # frame k holds sample k: nothing to do
        y = resample(stream.values, rec.n_frames, stream.rate, rec.frame_rate)
        _check_stream_fits_float32(rec, name, stream.channels, y)
        return Stream(y.astype(np.float32), rate=rec.frame_rate,
                      channels=stream.channels)
    x, filled = _finite_values(rec, name, stream, nan_policy)
    if at_label_rate(stream, rec):
        if not filled:
            return stream  # finite and aligned already: nothing to do
        y = x
    elif stream.n_samples == 1:
        y = np.repeat(x, rec.n_frames, axis=0)  # a constant, whatever the method
    else:
        x = np.asarray(x, dtype=np.float64)
        y = resample(x, rec.n_frames, stream.rate, rec.frame_rate)
    _check_stream_fits_float32(rec, name, stream.channels, y)
    return Stream(y.astype(np.float32), rate=rec.frame_rate,
                  channels=stream.channels)
