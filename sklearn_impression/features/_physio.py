"""Receiver physiology through NeuroKit2: BVP/PPG, ECG, GSR/EDA.

``neurokit2`` is imported when a function runs, never at ``import
sklearn_impression``.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ..recordings._recording import Stream
from ._audio import _import

__all__ = ["physio_features", "physio_kind"]

_KINDS = (
    ("ppg", re.compile(r"bvp|ppg|pleth", re.IGNORECASE)),
    ("ecg", re.compile(r"ecg|ekg", re.IGNORECASE)),
    ("eda", re.compile(r"gsr|eda|skin_?cond", re.IGNORECASE)),
)
#: Channels of the processed output, per signal kind.
PROCESSED_CHANNELS = {
    "ppg": ("clean", "heart_rate"),
    "ecg": ("clean", "heart_rate"),
    "eda": ("clean", "tonic", "phasic"),
}


def physio_kind(channel):
    """The signal kind of a channel name: ``"ppg"``, ``"ecg"``, ``"eda"`` or None.

    Examples
    --------
    >>> physio_kind("BVP"), physio_kind("gsr"), physio_kind("ecg_lead2")
    ('ppg', 'eda', 'ecg')
    """
    for kind, pattern in _KINDS:
        if pattern.search(str(channel)):
            return kind
    return None


def _process(nk, kind, x, rate):
    if kind == "eda":
        clean = nk.eda_clean(x, sampling_rate=rate)
        parts = nk.eda_phasic(clean, sampling_rate=rate)
        return [clean, parts["EDA_Tonic"].to_numpy(), parts["EDA_Phasic"].to_numpy()]
    if kind == "ppg":
        clean = nk.ppg_clean(x, sampling_rate=rate)
        peaks = nk.ppg_findpeaks(clean, sampling_rate=rate)["PPG_Peaks"]
    else:
        clean = nk.ecg_clean(x, sampling_rate=rate)
        peaks = nk.ecg_peaks(clean, sampling_rate=rate)[1]["ECG_R_Peaks"]
    if len(peaks) < 2:
        raise ValueError(f"found {len(peaks)} beats, need at least 2 for a heart rate")
    rate_bpm = nk.signal_rate(peaks, sampling_rate=rate, desired_length=x.shape[0])
    return [clean, rate_bpm]


def physio_features(signal, rate=None, *, channels=None, processed=True,
                    source="physio"):
    """Clean physiological signals and derive heart rate and skin conductance parts.

    Each channel's kind comes from its name (:func:`physio_kind`): BVP/PPG (a
    photoplethysmograph), ECG, or GSR/EDA (skin conductance). Output stays at the
    device rate.

    Parameters
    ----------
    signal : Stream or array-like of shape (n_samples, n_channels)
        The raw signals.
    rate : float, default=None
        Sampling rate in Hz (taken from the Stream when one is given).
    channels : sequence of str, default=None
        Channel names of an array (taken from the Stream when one is given).
    processed : bool, default=True
        ``False`` returns the raw channels unchanged (the paper's input, after the
        same checks); ``True`` returns, per channel ``<name>``:
        ``<name>_clean`` and ``<name>_heart_rate`` (beats per minute, interpolated
        between beats) for BVP/PPG and ECG, ``<name>_clean``, ``<name>_tonic`` and
        ``<name>_phasic`` (skin conductance level and responses) for GSR/EDA, by
        NeuroKit2's default methods (``ppg_clean``/``ppg_findpeaks``,
        ``ecg_clean``/``ecg_peaks``, ``eda_clean``/``eda_phasic``).
    source : str, default="physio"
        Name used in error messages (the file).

    Returns
    -------
    Stream
        At ``rate``.

    Raises
    ------
    ValueError
        Naming ``source`` and the channel: a channel whose kind is unknown, a
        NaN or inf sample, a constant signal, fewer than two beats found.

    Examples
    --------
    >>> import neurokit2 as nk  # doctest: +SKIP
    >>> ppg = nk.ppg_simulate(duration=20, sampling_rate=100, heart_rate=70,
    ...                       random_state=0)  # doctest: +SKIP
    >>> out = physio_features(ppg, 100, channels=["bvp"])  # doctest: +SKIP
    >>> out.channels, round(float(np.median(out.values[:, 1])))  # doctest: +SKIP
    (('bvp_clean', 'bvp_heart_rate'), 69)
    """
    if isinstance(signal, Stream):
        rate, channels, values = signal.rate, signal.channels, np.asarray(
            signal.values, dtype=np.float64)
    else:
        stream = Stream(signal, 1.0 if rate is None else rate, channels)
        if rate is None:
            raise ValueError(f"{source}: pass the sampling rate with an array")
        rate, channels, values = stream.rate, stream.channels, np.asarray(
            stream.values, dtype=np.float64)
    kinds = []
    for j, name in enumerate(channels):
        kind = physio_kind(name)
        if kind is None:
            raise ValueError(f"{source}, channel {name!r}: unknown physiological "
                             "signal; name it bvp/ppg, ecg or gsr/eda")
        bad = np.flatnonzero(~np.isfinite(values[:, j]))
        if bad.size:
            raise ValueError(f"{source}, channel {name!r}: {values[bad[0], j]} at "
                             f"sample {bad[0]} (t = {bad[0] / rate:.3f} s)")
        if processed and np.ptp(values[:, j]) == 0:
            raise ValueError(f"{source}, channel {name!r}: constant signal (a flat "
                             "line: is the sensor connected?)")
        kinds.append(kind)
    if not processed:
        return Stream(values, rate, channels)
    nk = _import("neurokit2")
    columns, names = [], []
    for j, (name, kind) in enumerate(zip(channels, kinds, strict=True)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # NeuroKit2's advice on short data
                parts = _process(nk, kind, values[:, j], rate)
        except Exception as exc:
            raise ValueError(f"{source}, channel {name!r} ({kind}): NeuroKit2 could "
                             f"not process it ({exc})") from None
        columns += parts
        names += [f"{name}_{suffix}" for suffix in PROCESSED_CHANNELS[kind]]
    return Stream(np.column_stack(columns), rate, names)
