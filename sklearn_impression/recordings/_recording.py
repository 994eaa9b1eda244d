"""Containers for dyadic recordings: :class:`Stream`, :class:`Recording`.

These are the data contract of the package (``docs/user_guide/recordings.rst``):

* a :class:`Stream` is one modality of one recording, ``(n_samples, n_channels)``
  values sampled at ``rate`` Hz;
* a :class:`Recording` is one receiver watching one stimulus: a mapping from modality
  names (``"emitter.audio"``, ``"receiver.physio"``, ...) to streams, the label
  frame rate and frame count, and the receiver and stimulus ids. A sequence of
  recordings is the ``X`` that scikit-learn splits.

The label-rate blocks built from them, :class:`~sklearn_impression.DyadicFrames`, are
in ``_frames.py``. All are small, numpy-first and immutable by convention: arrays are
exposed as read-only views, so a transformer can never modify the caller's data in
place.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping

import numpy as np

from ._constants import DOMAINS

__all__ = ["DOMAINS", "Stream", "Recording", "split_modality_name"]



def split_modality_name(name):
    """Split ``"domain.modality"`` into ``(domain, modality)``, checking the domain.

    Parameters
    ----------
    name : str
        A modality name such as ``"emitter.audio"``.

    Returns
    -------
    domain, modality : tuple of str

    Examples
    --------
    >>> split_modality_name("receiver.physio")
    ('receiver', 'physio')
    """
    if not isinstance(name, str) or "." not in name:
        raise ValueError(
            f"modality name {name!r} must look like 'emitter.<modality>' or "
            "'receiver.<modality>'"
        )
    domain, modality = name.split(".", 1)
    if domain not in DOMAINS or not modality:
        raise ValueError(
            f"modality name {name!r} must start with one of {DOMAINS} followed by "
            "'.<modality>'"
        )
    return domain, modality


def _readonly(array):
    view = array.view()
    view.flags.writeable = False
    return view


def _as_real_2d(values, what):
    """Return ``values`` as a 2-D real floating array or raise naming ``what``."""
    try:
        array = np.asarray(values)
    except Exception as exc:  # ragged nested lists and the like
        raise ValueError(f"{what}: could not be read as an array ({exc})") from exc
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind == "c":
        raise TypeError(
            f"{what}: complex values are not supported (dtype {array.dtype})"
        )
    if array.dtype.kind != "f":
        raise TypeError(
            f"{what}: values must be real numbers, got dtype {array.dtype}"
        )
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise ValueError(
            f"{what}: values must be 2-D (n_samples, n_channels), got shape "
            f"{array.shape}"
        )
    return array


def _recording_name(receiver, stimulus):
    return f"recording (receiver={receiver!r}, stimulus={stimulus!r})"


def at_label_rate(stream, recording):
    """Whether ``stream`` has ``recording``'s label rate and ``n_frames`` samples."""
    return (
        math.isclose(stream.rate, recording.frame_rate, rel_tol=1e-9)
        and stream.n_samples == recording.n_frames
    )




def _check_rate(rate, what):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{what}: rate must be a real number in Hz, got {rate!r}")
    rate = float(rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"{what}: rate must be finite and > 0 Hz, got {rate!r}")
    return rate


class FrozenSlots:
    """Mixin of the immutable containers: no attribute may be set after
    ``__init__`` (which uses ``object.__setattr__``); pickled by their slots."""

    __slots__ = ()
    _immutable_hint = "build a new one instead"

    def __setattr__(self, name, value):
        raise AttributeError(
            f"{type(self).__name__} is immutable; {self._immutable_hint}")

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)


class Stream(FrozenSlots):
    """One modality of one recording: values sampled at a fixed rate.

    Parameters
    ----------
    values : array-like of shape (n_samples, n_channels) or (n_samples,)
        Real-valued samples; integers are converted to float64, a 1-D array becomes
        one channel. NaN and inf are allowed here and handled by the
        :class:`~sklearn_impression.preprocessing.Resampler`'s ``nan_policy``.
    rate : float
        Sampling rate in Hz, finite and positive (29.97 is fine).
    channels : sequence of str, default=None
        Channel names; ``None`` gives ``"ch0", "ch1", ...``.

    Attributes
    ----------
    values : ndarray of shape (n_samples, n_channels)
        Read-only view of the samples.
    rate : float
    channels : tuple of str

    Examples
    --------
    >>> import numpy as np
    >>> s = Stream(np.zeros((100, 2)), rate=50, channels=["gaze_x", "gaze_y"])
    >>> s.n_samples, s.n_channels, s.duration
    (100, 2, 2.0)
    """

    __slots__ = ("values", "rate", "channels")

    def __init__(self, values, rate, channels=None):
        values = _as_real_2d(values, "stream")
        rate = _check_rate(rate, "stream")
        if channels is None:
            channels = tuple(f"ch{i}" for i in range(values.shape[1]))
        else:
            channels = tuple(str(c) for c in channels)
        if values.shape[1] == 0:
            raise ValueError(f"stream: has no channels (shape {values.shape})")
        if len(channels) != values.shape[1]:
            raise ValueError(
                f"stream: {len(channels)} channel names for {values.shape[1]} channels"
            )
        if len(set(channels)) != len(channels):
            duplicate = next(c for c in channels if channels.count(c) > 1)
            raise ValueError(f"stream: duplicate channel name {duplicate!r}")
        object.__setattr__(self, "values", _readonly(values))
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "channels", channels)

    def __getstate__(self):
        return {"values": np.asarray(self.values), "rate": self.rate,
                "channels": self.channels}

    def __setstate__(self, state):
        object.__setattr__(self, "values", _readonly(state["values"]))
        object.__setattr__(self, "rate", state["rate"])
        object.__setattr__(self, "channels", state["channels"])

    @property
    def n_samples(self):
        """Number of samples (rows)."""
        return self.values.shape[0]

    @property
    def n_channels(self):
        """Number of channels (columns)."""
        return self.values.shape[1]

    @property
    def duration(self):
        """Duration in seconds, ``n_samples / rate``."""
        return self.n_samples / self.rate

    def __repr__(self):
        return (
            f"Stream(n_samples={self.n_samples}, n_channels={self.n_channels}, "
            f"rate={self.rate:g})"
        )


class Recording(FrozenSlots):
    """One receiver watching one stimulus: named streams plus the label timing.

    Parameters
    ----------
    streams : mapping of str to Stream
        Modality name (``"emitter.audio"``, ``"emitter.eye"``, ``"emitter.face"``,
        ``"receiver.eye"``, ``"receiver.face"``, ``"receiver.physio"`` or any other
        ``"<domain>.<modality>"`` name) to its stream. Each domain needs at least one
        stream. Emitter streams may be shared (the same :class:`Stream` object) by all
        recordings of one stimulus; the transformers then process them once.
    n_frames : int
        Number of label frames (the length of the target array).
    frame_rate : float, default=25.0
        Label rate in Hz (25 Hz in IMPRESSION).
    receiver : hashable, default=None
        Receiver (participant) id, the group for leave-receivers-out splits.
    stimulus : hashable, default=None
        Stimulus (emitter video) id, the group for leave-stimuli-out splits.

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording(
    ...     {"emitter.audio": Stream(np.zeros((400, 3)), rate=100),
    ...      "receiver.physio": Stream(np.zeros((1000, 1)), rate=250)},
    ...     n_frames=100, receiver="p01", stimulus="s03")
    >>> rec.modalities
    ('emitter.audio', 'receiver.physio')
    >>> rec.duration
    4.0
    """

    __slots__ = ("streams", "n_frames", "frame_rate", "receiver", "stimulus")

    def __init__(self, streams, n_frames, frame_rate=25.0, receiver=None,
                 stimulus=None):
        what = _recording_name(receiver, stimulus)
        if not isinstance(streams, Mapping):
            raise TypeError(f"{what}: streams must be a mapping of name to Stream")
        checked, domains = {}, set()
        for name, stream in streams.items():
            domains.add(split_modality_name(name)[0])
            if not isinstance(stream, Stream):
                raise TypeError(
                    f"{what}: stream {name!r} must be a Stream, got "
                    f"{type(stream).__name__}"
                )
            checked[name] = stream
        for domain in DOMAINS:
            if domain not in domains:
                raise ValueError(f"{what}: has no {domain} stream")
        if isinstance(n_frames, bool) or not isinstance(n_frames, numbers.Integral):
            raise TypeError(f"{what}: n_frames must be an integer, got {n_frames!r}")
        if n_frames < 1:
            raise ValueError(f"{what}: n_frames must be >= 1, got {n_frames}")
        if not isinstance(receiver, Hashable) or not isinstance(stimulus, Hashable):
            raise TypeError(f"{what}: receiver and stimulus ids must be hashable")
        object.__setattr__(self, "streams", dict(sorted(checked.items())))
        object.__setattr__(self, "n_frames", int(n_frames))
        object.__setattr__(self, "frame_rate", _check_rate(frame_rate, what))
        object.__setattr__(self, "receiver", receiver)
        object.__setattr__(self, "stimulus", stimulus)

    _immutable_hint = "use Recording.replace"

    @property
    def modalities(self):
        """Sorted modality names."""
        return tuple(self.streams)

    @property
    def duration(self):
        """Duration in seconds of the labels, ``n_frames / frame_rate``."""
        return self.n_frames / self.frame_rate

    @property
    def name(self):
        """Short description used in error messages."""
        return _recording_name(self.receiver, self.stimulus)

    def domain_streams(self, domain):
        """Streams of one domain, as ``{modality_name: Stream}``."""
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
        return {n: s for n, s in self.streams.items() if n.startswith(domain + ".")}

    def replace(self, **changes):
        """Return a copy with some fields replaced (``streams=...``, ...)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Recording(**fields)

    def __repr__(self):
        return (
            f"Recording(receiver={self.receiver!r}, stimulus={self.stimulus!r}, "
            f"n_frames={self.n_frames}, frame_rate={self.frame_rate:g}, "
            f"modalities={list(self.modalities)})"
        )
