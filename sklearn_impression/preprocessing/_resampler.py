"""Bring every stream of a recording to the label rate (paper section 3.2)."""

from fractions import Fraction

import numpy as np
from scipy import signal
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ..recordings._recording import Recording, Stream, at_label_rate

__all__ = ["Resampler"]

# scipy.signal.decimate's documentation: "call decimate multiple times for
# downsampling factors higher than 13" (the order-8 IIR filter becomes unstable).
_MAX_DECIMATION_STAGE = 13
_IIR_ORDER = 8
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# -- helpers shared with the concatenator --------------------------------------------
def _check_recordings(X, owner):
    """``X`` as a non-empty list of :class:`Recording`, or raise naming ``owner``."""
    if isinstance(X, (Recording, str, bytes)) or not hasattr(X, "__iter__"):
        raise TypeError(
            f"{owner} takes a sequence of Recording objects, got {type(X).__name__}"
        )
    recordings = list(X)
    if not recordings:
        raise ValueError(f"{owner} needs at least one recording, got an empty sequence")
    for i, rec in enumerate(recordings):
        if not isinstance(rec, Recording):
            raise TypeError(
                f"{owner} takes a sequence of Recording objects; element {i} is a "
                f"{type(rec).__name__} (tabular arrays are not accepted: build "
                "Recording objects, e.g. with make_impression or load_impression)"
            )
    return recordings


def _fit_recordings(X, owner):
    """``(recordings, layout)`` for ``fit``: one ``{modality: channel names}`` layout
    shared by all recordings, or a ValueError."""
    recordings = _check_recordings(X, owner)
    first = recordings[0]
    layout = {name: s.channels for name, s in first.streams.items()}
    for rec in recordings[1:]:
        _check_layout(rec, layout, f"in {first.name}")
    return recordings, layout


def _fitted_recordings(estimator, X):
    """Recordings for ``transform``: ``estimator`` is fitted and every recording has
    the layout (``channels_``) seen in ``fit``."""
    check_is_fitted(estimator)
    recordings = _check_recordings(X, type(estimator).__name__)
    for rec in recordings:
        _check_layout(rec, estimator.channels_, "seen in fit")
    return recordings


def _check_layout(rec, layout, where):
    """Raise unless ``rec`` has exactly the modalities and channels of ``layout``."""
    if tuple(rec.streams) != tuple(layout):
        missing = sorted(set(layout) - set(rec.streams))
        extra = sorted(set(rec.streams) - set(layout))
        raise ValueError(
            f"{rec.name}: modalities {list(rec.streams)} differ from those {where} "
            f"{list(layout)} (missing {missing}, unexpected {extra})"
        )
    for name, stream in rec.streams.items():
        if stream.channels != layout[name]:
            raise ValueError(
                f"{rec.name}, modality {name!r}: {stream.n_channels} channels "
                f"{_short(stream.channels)} differ from the {len(layout[name])} "
                f"channels {where} {_short(layout[name])}"
            )


def _check_float32_range(rec, name, channels, values):
    """Raise if finite ``values`` would overflow to inf when cast to float32."""
    if values.dtype.itemsize <= 4 or values.size == 0:
        return  # float32 (or narrower) already: nothing can overflow
    magnitude = np.abs(values)
    if not magnitude.max() > _FLOAT32_MAX:
        return
    i, j = np.argwhere(magnitude > _FLOAT32_MAX)[0]
    raise ValueError(
        f"{rec.name}, stream {name!r}, channel {channels[j]!r}: value "
        f"{float(values[i, j]):g} at sample {i} is beyond float32's range "
        f"(|x| <= {_FLOAT32_MAX:.4g}); streams are converted to float32, so rescale "
        "this channel first"
    )


def _short(names, limit=6):
    names = list(names)
    if len(names) <= limit:
        return names
    return names[:limit] + [f"... ({len(names) - limit} more)"]


def _check_durations(recordings):
    for rec in recordings:
        for name, stream in rec.streams.items():
            _check_duration(rec, name, stream)


def _check_duration(rec, name, stream):
    """The stream must cover the labels to within one label frame."""
    if stream.n_samples == 0:
        raise ValueError(f"{rec.name}, stream {name!r}: has no samples")
    gap = abs(stream.duration - rec.duration)
    if gap > (1.0 + 1e-9) / rec.frame_rate:
        raise ValueError(
            f"{rec.name}, stream {name!r}: lasts {stream.duration:.4f} s "
            f"({stream.n_samples} samples at {stream.rate:g} Hz) but the labels last "
            f"{rec.duration:.4f} s ({rec.n_frames} frames at {rec.frame_rate:g} Hz); "
            f"a stream may differ from its labels by at most one frame "
            f"({1.0 / rec.frame_rate:.4f} s)"
        )


# -- numerics ------------------------------------------------------------------------
def _finite_values(rec, name, stream, nan_policy):
    """``(values, whether NaN were filled)``; filled values are float64; inf raises."""
    values = stream.values
    finite = np.isfinite(values)
    if finite.all():
        return values, False
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
    x = np.array(values, dtype=np.float64)  # own copy: the stream is read-only
    t = np.arange(x.shape[0])
    for j in np.flatnonzero(isnan.any(axis=0)):
        gaps = isnan[:, j]
        if gaps.all():
            raise ValueError(
                f"{rec.name}, stream {name!r}, channel {stream.channels[j]!r}: every "
                "sample is NaN, nothing to interpolate from"
            )
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


_METHODS = {
    "paper": _resample_paper,
    "polyphase": _resample_polyphase,
    "fft": _resample_fft,
}


class Resampler(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Resample every stream of each recording to its label rate and frame count.

    Paper section 3.2: the modalities come at different rates (audio features at
    100 Hz, eye trackers at 50-250 Hz, video at 29.97-30 fps, physiology at 256 Hz)
    and are brought to the 25 Hz labels before they are joined. After
    :meth:`transform`, every stream of recording ``r`` has ``rate == r.frame_rate``
    and exactly ``r.n_frames`` samples.

    Parameters
    ----------
    method : {"paper", "polyphase", "fft"}, default="paper"
        How streams are resampled; filtering runs in float64 on all channels of a
        stream at once.

        - ``"paper"`` reproduces section 3.2. When the rate ratio is an integer
          ``q`` and the stream has exactly ``q * n_frames`` samples,
          :func:`scipy.signal.decimate` (order-8 Chebyshev I, zero phase) by ``q``.
          Otherwise decimate by ``n_samples // n_frames`` (close to, but not
          below, the label count) and finish with an FFT resample
          (:func:`scipy.signal.resample`) to exactly ``n_frames`` samples; this is
          also the path for upsampling (factor 1, FFT only) and for rates such as
          29.97 fps. Factors above 13 are decimated in stages of at most 13, as
          scipy recommends (``250 Hz -> 25 Hz`` is one stage of 10,
          ``1000 Hz -> 25 Hz`` stages of 10 and 4); a factor with a prime above 13
          is decimated by the largest product of stages not exceeding it, the FFT
          finishing. A stream too short for a decimation filter (fewer than 28
          samples for the order-8 filter) skips the remaining decimation stages
          and is FFT-resampled instead: a documented fallback, not an error.
        - ``"polyphase"``: :func:`scipy.signal.resample_poly` by ``up / down``,
          the simplest fraction approximating ``frame_rate / rate`` whose drift
          over the stream is below half a frame (``25 / 29.97`` becomes
          ``669 / 802`` for streams under about 95 minutes, else the exact
          ``2500 / 2997``), with ``padtype="line"``; the result keeps the
          stream's time axis and is cut to ``n_frames`` samples or padded by
          repeating its last sample (a stream may be up to one frame shorter than
          its labels).
        - ``"fft"``: :func:`scipy.signal.resample` straight to ``n_frames``.

        ``"paper"`` and ``"fft"`` map the (decimated) samples onto the labels'
        duration, as the paper does: when the lengths do not divide exactly
        (a stream a fraction of a frame longer or shorter than its labels, or
        ``ceil`` rounding in ``decimate``), the time axis is stretched by up to
        one frame at the end. The FFT also treats the signal as periodic, so a
        large jump between the first and last sample rings near the ends.
    nan_policy : {"raise", "interpolate"}, default="raise"
        ``"raise"``: a NaN is a ValueError naming the recording, stream, channel
        and first bad sample. ``"interpolate"``: NaN gaps in a channel (an eye
        tracker losing the gaze during a blink) are filled by linear
        interpolation over time before resampling; gaps at the start or end take
        the nearest valid value. A channel that is all NaN, and any inf, raise with
        either policy.

    Attributes
    ----------
    modalities_ : tuple of str
        Sorted modality names seen in :meth:`fit`; every recording must have them.
    channels_ : dict of str to tuple of str
        Channel names per modality.
    n_channels_ : dict of str to int
        Channel count per modality.

    See Also
    --------
    ModalityConcatenator : Join the label-rate modalities into emitter and
        receiver blocks.

    Notes
    -----
    Resampled streams are float32 (the network trains in float32 and a
    paper-scale recording set halves its memory). A stream already at the label
    rate with ``n_frames`` finite samples is returned as is (same object, dtype
    kept). Streams may last up to one label frame more or less than the labels;
    more is a ValueError naming the recording and stream.

    A :class:`~sklearn_impression.Stream` object shared by several recordings
    (the emitter streams of one stimulus) is resampled once per :meth:`transform`
    call and the resulting stream is shared by the output recordings, which lets
    :class:`ModalityConcatenator` store each stimulus once.

    Accuracy, measured in ``tests/test_resampler.py`` on 40 s of 100 Hz signal
    brought to 25 Hz (Nyquist 12.5 Hz, frames 50 from either end): tones at
    1.13, 3.71 and 7.3 Hz keep a relative RMS error below 1 % with every method,
    and likewise from 250, 256 and 29.97 Hz (``"paper"``: 0.7 %, the Chebyshev
    passband ripple; 1.6 % from 1000 Hz, decimated in two stages; where the
    lengths do not divide, below 2 % against the stretched time axis). A 20 Hz
    tone, which would alias to 5 Hz, is attenuated by 83 dB (``"paper"``),
    66 dB (``"polyphase"``) and completely (``"fft"``); including the filters'
    transients in the first and last second: 43 dB and 39 dB.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import Recording, Resampler, Stream
    >>> t = np.arange(400) / 100
    >>> audio = Stream(np.c_[np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)], rate=100,
    ...                channels=["mfcc_1", "mfcc_2"])
    >>> gsr = Stream(np.linspace(0, 1, 16), rate=4, channels=["gsr"])
    >>> rec = Recording({"emitter.audio": audio, "receiver.physio": gsr},
    ...                 n_frames=100, frame_rate=25, receiver=0, stimulus=0)
    >>> out = Resampler().fit_transform([rec])
    >>> out[0].streams["emitter.audio"]
    Stream(n_samples=100, n_channels=2, rate=25)
    >>> out[0].streams["receiver.physio"].values.dtype
    dtype('float32')
    """

    _parameter_constraints = {
        "method": [StrOptions({"paper", "polyphase", "fft"})],
        "nan_policy": [StrOptions({"raise", "interpolate"})],
    }

    def __init__(self, *, method="paper", nan_policy="raise"):
        self.method = method
        self.nan_policy = nan_policy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the recordings and record their modalities and channels.

        Parameters
        ----------
        X : sequence of Recording
            All recordings must have the same modalities and channels, and every
            stream must last as long as its labels (to within one frame).
        y : ignored

        Returns
        -------
        self : Resampler
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to ``X`` and resample it, checking the recordings once.

        Parameters
        ----------
        X : sequence of Recording
            As in :meth:`fit`.
        y : ignored

        Returns
        -------
        recordings : list of Recording
            As returned by :meth:`transform`.
        """
        return self._resample(self._fit(X))

    def _fit(self, X):
        recordings, layout = _fit_recordings(X, type(self).__name__)
        _check_durations(recordings)
        self.modalities_ = tuple(layout)
        self.channels_ = dict(layout)
        self.n_channels_ = {name: len(ch) for name, ch in layout.items()}
        return recordings

    def transform(self, X):
        """Resample every stream to its recording's label rate and frame count.

        Parameters
        ----------
        X : sequence of Recording
            Recordings with the modalities and channels seen in :meth:`fit`.

        Returns
        -------
        recordings : list of Recording
            New recordings (the input is not modified) whose streams all have
            ``rate == frame_rate`` and ``n_frames`` samples.
        """
        recordings = _fitted_recordings(self, X)
        _check_durations(recordings)
        return self._resample(recordings)

    def _resample(self, recordings):
        """Resample checked recordings, each shared stream once."""
        resample = _METHODS[self.method]
        # (id(stream), n_frames, frame_rate) -> result; ``recordings`` keeps the
        # streams alive, so their ids stay unique during the loop
        done = {}
        out = []
        for rec in recordings:
            streams = {}
            for name, stream in rec.streams.items():
                key = (id(stream), rec.n_frames, rec.frame_rate)
                if key not in done:
                    done[key] = self._resample_stream(rec, name, stream, resample)
                streams[name] = done[key]
            unchanged = all(streams[n] is s for n, s in rec.streams.items())
            out.append(rec if unchanged else rec.replace(streams=streams))
        return out

    def _resample_stream(self, rec, name, stream, resample):
        x, filled = _finite_values(rec, name, stream, self.nan_policy)
        if at_label_rate(stream, rec):
            if not filled:
                return stream  # finite and aligned already: nothing to do
            y = x
        elif stream.n_samples == 1:
            y = np.repeat(x, rec.n_frames, axis=0)  # a constant, whatever the method
        else:
            x = np.asarray(x, dtype=np.float64)
            y = resample(x, rec.n_frames, stream.rate, rec.frame_rate)
        _check_float32_range(rec, name, stream.channels, y)
        return Stream(y.astype(np.float32), rate=rec.frame_rate,
                      channels=stream.channels)

    def get_feature_names_out(self, input_features=None):
        """Names of all channels, ``"<modality>.<channel>"``, in modality order.

        Parameters
        ----------
        input_features : None
            Unused: the input is recordings, whose channels name themselves.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = [f"{m}.{c}" for m, chs in self.channels_.items() for c in chs]
        if input_features is not None and list(input_features) != names:
            raise ValueError(
                "input_features must be None or the channel names seen in fit"
            )
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Input is a sequence of Recording objects, not a feature matrix.
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = self.nan_policy == "interpolate"
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = []  # outputs float32 streams
        return tags
