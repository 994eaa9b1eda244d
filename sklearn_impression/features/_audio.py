"""Audio to openSMILE low-level descriptors (paper Table 1: the IS09 set).

Audio at any rate is first resampled to 16 kHz, the rate the feature sets were
made for (see :func:`audio_features`, Notes). ``opensmile`` and ``soundfile`` are
imported when a function runs, never at ``import sklearn_impression``.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from ..recordings._recording import Stream

__all__ = ["audio_features", "read_audio"]

#: File types read by :func:`read_audio` (through libsndfile).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
#: openSMILE feature sets by name: the paper's IS09 and two richer ones.
FEATURE_SETS = {"IS09": "IS09", "eGeMAPS": "eGeMAPSv02", "ComParE": "ComParE_2016"}
#: The rate openSMILE analyses audio at: the feature sets were made for 16 kHz speech.
ANALYSIS_RATE = 16000
_FULL_SCALE = 1.0 - 1e-3


def _import(name):
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(
            f"sklearn_impression.features needs {name!r}: pip install "
            f"'sklearn-impression[features]' (or pip install {name})"
        ) from exc


def read_audio(path, *, rate=None):
    """Read an audio file as a mono float32 signal.

    Parameters
    ----------
    path : str or path
        A ``.wav``, ``.flac`` or ``.ogg`` file; several channels are averaged.
    rate : float, default=None
        The rate the file should have (from a manifest, say); a file at another
        rate is a ValueError rather than features at the wrong time scale.

    Returns
    -------
    signal : ndarray of shape (n_samples,), float32
        Samples in [-1, 1].
    rate : int
        The file's sampling rate in Hz.

    Raises
    ------
    ValueError
        Naming the file: an unsupported type, a file libsndfile cannot decode, a
        rate that disagrees with ``rate``.
    """
    path = Path(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise ValueError(f"{path}: unsupported audio format {path.suffix!r} "
                         f"(supported: {', '.join(AUDIO_SUFFIXES)})")
    if not path.is_file():
        raise ValueError(f"{path}: audio file not found")
    soundfile = _import("soundfile")
    try:
        signal, file_rate = soundfile.read(str(path), dtype="float32",
                                           always_2d=True)
    except Exception as exc:  # libsndfile's errors are RuntimeError / LibsndfileError
        raise ValueError(f"{path}: not a readable audio file ({exc})") from None
    if rate is not None and not np.isclose(float(rate), file_rate):
        raise ValueError(f"{path}: the file's sampling rate is {file_rate} Hz, but "
                         f"{rate:g} Hz was stated")
    return signal.mean(axis=1, dtype=np.float32), int(file_rate)


_PER_THREAD = threading.local()


def _smile(feature_set):
    """One openSMILE extractor per feature set and thread (set-up costs ~50 ms;
    an extractor is not shared between threads)."""
    cache = _PER_THREAD.__dict__.setdefault("smile", {})
    if feature_set not in cache:
        opensmile = _import("opensmile")
        cache[feature_set] = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, FEATURE_SETS[feature_set]),
            feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
        )
    return cache[feature_set]


def _check_signal(signal, rate, where, max_clipped):
    if signal.size == 0:
        raise ValueError(f"{where}: empty audio (0 samples)")
    if not np.isfinite(signal).all():
        k = int(np.flatnonzero(~np.isfinite(signal))[0])
        raise ValueError(f"{where}: non-finite sample at t = {k / rate:.4f} s")
    if signal.shape[0] < 0.1 * rate:
        raise ValueError(f"{where}: {signal.shape[0] / rate:.4f} s of audio, shorter "
                         "than the 0.1 s openSMILE needs for a few frames")
    peak = float(np.max(np.abs(signal)))
    if peak > 1.0 + 1e-6:
        raise ValueError(f"{where}: samples reach {peak:.4g}; audio must be scaled to "
                         "[-1, 1]")
    clipped = np.abs(signal) >= _FULL_SCALE
    fraction = float(clipped.mean())
    if fraction > max_clipped:
        k = int(np.flatnonzero(clipped)[0])
        raise ValueError(
            f"{where}: clipped audio, {100 * fraction:.2f}% of the samples at full "
            f"scale (the first at t = {k / rate:.4f} s; max_clipped={max_clipped:g})"
        )


def _to_analysis_rate(signal, rate):
    """Polyphase resampling to :data:`ANALYSIS_RATE` (16 kHz), as float32."""
    rate = int(round(rate))
    if rate == ANALYSIS_RATE:
        return signal
    g = math.gcd(ANALYSIS_RATE, rate)
    return resample_poly(signal, ANALYSIS_RATE // g, rate // g).astype(np.float32)


def _as_signal(audio, rate):
    """An array or a file to (mono float32 samples, rate, name for errors)."""
    if isinstance(audio, (str, Path)):
        signal, rate = read_audio(audio, rate=rate)
        return signal, rate, str(audio)
    where = "audio array"
    if rate is None:
        raise ValueError(f"{where}: pass the sampling rate (rate=...) with an array")
    signal = np.asarray(audio, dtype=np.float32)
    if signal.ndim == 2 and signal.shape[1] > signal.shape[0]:
        raise ValueError(f"{where}: shape {signal.shape} has more channels than "
                         "samples; pass (n_samples, n_channels), e.g. signal.T")
    if signal.ndim == 2:
        signal = signal.mean(axis=1, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"{where}: expected 1-D or 2-D samples, got shape "
                         f"{signal.shape}")
    return signal, rate, where


def audio_features(audio, rate=None, *, feature_set="IS09", max_clipped=0.001):
    """openSMILE low-level descriptors of audio, as a 100 Hz stream.

    Parameters
    ----------
    audio : str, path or array-like of shape (n_samples,) or (n_samples, n_ch)
        An audio file (see :func:`read_audio`) or samples in [-1, 1]; channels
        are averaged. Any sampling rate: audio not at 16 kHz is resampled to
        16 kHz first (see Notes).
    rate : float, default=None
        Sampling rate in Hz: required with an array; with a file, the rate it
        should have (a file at another rate raises).
    feature_set : {"IS09", "eGeMAPS", "ComParE"}, default="IS09"
        ``"IS09"``: the INTERSPEECH 2009 emotion challenge set the paper uses
        (RMS energy, MFCC 1-12, zero-crossing rate, voicing probability, F0;
        16 channels); ``"eGeMAPS"``: eGeMAPS v02 (25 channels); ``"ComParE"``:
        ComParE 2016 (65 channels).
    max_clipped : float, default=0.001
        Largest fraction of samples allowed at full scale (``|x| >= 0.999``),
        counted at the audio's own rate.

    Returns
    -------
    Stream
        One row per 10 ms openSMILE frame (rate 100 Hz; row ``k`` is the frame
        starting at ``k / 100`` s), channels as openSMILE names them, e.g.
        ``pcm_RMSenergy_sma``, ``pcm_fftMag_mfcc_sma[1]``, ``voiceProb_sma``.

    Raises
    ------
    ValueError
        Naming the file (or "audio array"): unsupported or unreadable file,
        empty, non-finite, too short or clipped audio, a rate that is not a
        positive number or disagrees with the file, an array with more channels
        than samples, audio openSMILE fails on.

    Notes
    -----
    The three feature sets were made for 16 kHz speech. Run at another rate,
    openSMILE's descriptors of the same sound change: the zero-crossing rate
    counts crossings per sample (a third of the 16 kHz value at 48 kHz), the RMS
    energy follows a pre-emphasis whose response depends on the rate (half the
    16 kHz value at 48 kHz), and at 11,025 or 22,050 Hz its 10 ms hop is no
    whole number of samples. So audio at any other rate is resampled to 16 kHz
    first (:func:`scipy.signal.resample_poly`, the rate rounded to whole Hz)
    and the stream is 100 Hz at every rate. Resampled descriptors stay much
    closer to the 16 kHz ones than native-rate ones (measured on speech and a
    tone at 8-96 kHz: the user guide's "From raw signals" has the table, from
    ``benchmarks/results/audio_rates.json``). Audio below 16 kHz lacks the band
    above half its rate, and the descriptors of that band differ either way.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(22050) / 22050
    >>> tone = 0.3 * np.sin(2 * np.pi * 200 * t)
    >>> stream = audio_features(tone, 22050)  # doctest: +SKIP
    >>> stream.rate, stream.channels[0]  # doctest: +SKIP
    (100.0, 'pcm_RMSenergy_sma')
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature_set must be one of {sorted(FEATURE_SETS)}, got "
                         f"{feature_set!r}")
    signal, rate, where = _as_signal(audio, rate)
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: rate must be a number in Hz, got "
                         f"{rate!r}") from None
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(f"{where}: rate must be > 0 Hz, got {rate!r}")
    _check_signal(signal, rate, where, max_clipped)
    signal = _to_analysis_rate(signal, rate)
    try:
        frame = _smile(feature_set).process_signal(signal, ANALYSIS_RATE)
    except Exception as exc:  # openSMILE's own errors are RuntimeErrors
        raise ValueError(f"{where}: openSMILE could not process the audio "
                         f"({type(exc).__name__}: {exc})") from None
    starts = frame.index.get_level_values("start").total_seconds().to_numpy()
    # openSMILE may close the input with a second, shorter frame at the start time
    # of the previous one; a stream has one row per start time.
    keep = np.ones(starts.shape[0], dtype=bool)
    keep[1:] = np.diff(starts) > 0.005
    step = np.diff(starts[keep])
    if step.size and not np.allclose(step, 0.01, atol=1e-6):
        raise ValueError(f"{where}: openSMILE returned frames every {step[0]:.9g} s "
                         "at 16 kHz, not 10 ms")
    return Stream(frame.to_numpy(dtype=np.float64)[keep], 100.0, list(frame.columns))
