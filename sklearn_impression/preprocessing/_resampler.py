"""Bring every stream of a recording to the label rate (paper section 3.2)."""

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _RecordingTransformer
from ._recording_checks import _check_durations, _fit_recordings, _fitted_recordings
from ._resampling import _METHODS, _resample_stream

__all__ = ["Resampler"]


class Resampler(_RecordingTransformer, auto_wrap_output_keys=None):
    """Resample every stream of each recording to its label rate and frame count.

    Paper section 3.2: the modalities come at different rates (audio features at
    100 Hz, eye trackers at 50-250 Hz, video at 29.97-30 fps, physiology at 256 Hz)
    and are brought to the 25 Hz labels before they are joined. After
    :meth:`transform`, every stream of recording ``r`` has ``rate == r.frame_rate``
    and exactly ``r.n_frames`` samples.

    Parameters
    ----------
    method : {"paper", "polyphase", "fft", "causal"}, default="paper"
        How streams are resampled; filtering runs in float64 on all channels of a
        stream at once. The first three are offline (zero-phase or FFT: a frame
        depends on later samples too); ``"causal"`` is for live prediction.

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
        - ``"causal"``: frame ``k`` (at ``k / frame_rate``) depends only on
          samples at or before its time. A stream faster than the labels is
          low-passed by a causal order-2 Butterworth filter with its cutoff at
          0.8 times the label Nyquist frequency (:func:`scipy.signal.sosfilt`,
          started in the steady state of each channel's first valid sample,
          so without a start-up transient); then frame ``k`` takes the
          filtered value at the last sample at or before its time,
          ``j_k = floor(k * rate / frame_rate + 1e-9)`` (sample and hold). A
          stream at or below the label rate is only held. Frames after a
          stream's last sample hold it. The delay: the filter's group delay
          at low frequencies, ``sqrt(2) / (2 pi 0.4 frame_rate)`` (0.56 label
          frames, 22.5 ms at 25 Hz) for a stream well above the label rate and
          less for one just above it, plus the hold's lag of less than one
          input sample where the rates do not divide. The same numbers come
          from ``sklearn_impression.live``'s streaming resampler fed the
          stream in any chunks. The filter was chosen among Butterworth orders
          2 and 4, ``decimate``'s Chebyshev filter run causally and the
          trailing frame mean; see ``benchmarks/bench_causal_resampling.py``
          and its results for the accuracy, the alias attenuation and the
          delays measured.

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
        the nearest valid value. With ``method="causal"`` a NaN gap instead
        holds the channel's last valid value (interpolating would read later
        samples), and NaN before a channel's first valid sample become 0.0. A
        channel that is all NaN, and any inf, raise with either policy.

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
        "method": [StrOptions({"paper", "polyphase", "fft", "causal"})],
        "nan_policy": [StrOptions({"raise", "interpolate"})],
    }

    def __init__(self, *, method="paper", nan_policy="raise"):
        self.method = method
        self.nan_policy = nan_policy

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
        return self._transform_checked(recordings)

    def _transform_checked(self, recordings):
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
                    done[key] = _resample_stream(rec, name, stream, resample,
                                                 self.nan_policy)
                streams[name] = done[key]
            unchanged = all(streams[n] is s for n, s in rec.streams.items())
            out.append(rec if unchanged else rec.replace(streams=streams))
        return out

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
        tags.input_tags.allow_nan = self.nan_policy == "interpolate"
        return tags
