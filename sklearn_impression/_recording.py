"""Containers for dyadic recordings: :class:`Stream`, :class:`Recording`, :class:`DyadicFrames`.

These are the data contract of the package (``DESIGN.md`` section 2):

* a :class:`Stream` is one modality of one recording, ``(n_samples, n_channels)``
  values sampled at ``rate`` Hz;
* a :class:`Recording` is one receiver watching one stimulus: a mapping from modality
  names (``"emitter.audio"``, ``"receiver.physio"``, ...) to streams, the label
  frame rate and frame count, and the receiver and stimulus ids. A sequence of
  recordings is the ``X`` that scikit-learn splits;
* :class:`DyadicFrames` is what :class:`~sklearn_impression.preprocessing.ModalityConcatenator`
  returns: per recording an emitter block and a receiver block at the label rate, with
  the emitter block of a stimulus stored once however many receivers watched it.

All three are small, numpy-first and immutable by convention: arrays are exposed as
read-only views, so a transformer can never modify the caller's data in place.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

__all__ = ["DOMAINS", "Stream", "Recording", "DyadicFrames", "split_modality_name"]

#: The two signal domains the cross-domain network relates.
DOMAINS = ("emitter", "receiver")


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
        raise TypeError(f"{what}: complex values are not supported (dtype {array.dtype})")
    if array.dtype.kind != "f":
        raise TypeError(
            f"{what}: values must be real numbers, got dtype {array.dtype}"
        )
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise ValueError(
            f"{what}: values must be 2-D (n_samples, n_channels), got shape {array.shape}"
        )
    return array


def _check_rate(rate, what):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{what}: rate must be a real number in Hz, got {rate!r}")
    rate = float(rate)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"{what}: rate must be finite and > 0 Hz, got {rate!r}")
    return rate


class Stream:
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

    def __setattr__(self, name, value):
        raise AttributeError("Stream is immutable; build a new one instead")

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


class Recording:
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
        what = f"recording (receiver={receiver!r}, stimulus={stimulus!r})"
        if not isinstance(streams, Mapping):
            raise TypeError(f"{what}: streams must be a mapping of name to Stream")
        checked = {}
        for name, stream in streams.items():
            split_modality_name(name)
            if not isinstance(stream, Stream):
                raise TypeError(
                    f"{what}: stream {name!r} must be a Stream, got "
                    f"{type(stream).__name__}"
                )
            checked[name] = stream
        for domain in DOMAINS:
            if not any(n.startswith(domain + ".") for n in checked):
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

    def __setattr__(self, name, value):
        raise AttributeError("Recording is immutable; use Recording.replace")

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

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
        return f"recording (receiver={self.receiver!r}, stimulus={self.stimulus!r})"

    def domain_streams(self, domain):
        """Streams of one domain, as ``{modality_name: Stream}``."""
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
        return {n: s for n, s in self.streams.items() if n.startswith(domain + ".")}

    def replace(self, **changes):
        """Return a copy with some fields replaced (``streams=...``, ``n_frames=...``)."""
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields.update(changes)
        return Recording(**fields)

    def __repr__(self):
        return (
            f"Recording(receiver={self.receiver!r}, stimulus={self.stimulus!r}, "
            f"n_frames={self.n_frames}, frame_rate={self.frame_rate:g}, "
            f"modalities={list(self.modalities)})"
        )


class DyadicFrames(Sequence):
    """Label-rate emitter and receiver blocks of several recordings.

    The output of :class:`~sklearn_impression.preprocessing.ModalityConcatenator`
    and an input of :class:`~sklearn_impression.CrossDomainRegressor`. The domain
    split travels with the data, so dropping a modality in the concatenator needs no
    second setting downstream. Each distinct emitter block (one per stimulus) is
    stored once and shared by every recording of that stimulus.

    It behaves like a sequence of recordings for scikit-learn: ``len`` is the number
    of recordings, ``shape == (n_recordings,)`` and indexing with an integer array,
    a boolean mask or a slice gives another :class:`DyadicFrames` that still shares
    the emitter blocks. Indexing with an integer gives ``(emitter, receiver)`` arrays.

    Parameters
    ----------
    emitter_blocks : sequence of ndarray of shape (n_frames_s, n_emitter_features)
        Distinct emitter blocks.
    receiver_blocks : sequence of ndarray of shape (n_frames_i, n_receiver_features)
        One receiver block per recording.
    emitter_index : array-like of int of shape (n_recordings,)
        Recording ``i`` uses ``emitter_blocks[emitter_index[i]]``.
    emitter_rows : sequence of int arrays, default=None
        Row ``k`` of recording ``i`` pairs ``receiver_blocks[i][k]`` with
        ``emitter_blocks[emitter_index[i]][emitter_rows[i][k]]``. ``None`` means
        ``arange(n_frames_i)``, which needs the emitter block to have exactly the
        recording's frame count. Explicit rows let a frame-level split
        (:meth:`select_frames`) keep sharing the emitter blocks.
    emitter_feature_names, receiver_feature_names : sequence of str
    receivers, stimuli : sequence of hashable, default=None
        Ids per recording.

    Examples
    --------
    >>> import numpy as np
    >>> shared = np.ones((10, 3))
    >>> frames = DyadicFrames([shared], [np.zeros((10, 2)), np.zeros((10, 2))], [0, 0],
    ...                       ["a", "b", "c"], ["x", "y"])
    >>> len(frames), frames.n_frames, frames.n_features
    (2, 20, 5)
    >>> frames[[1]].emitter_blocks[0] is frames.emitter_blocks[0]
    True
    """

    def __init__(self, emitter_blocks, receiver_blocks, emitter_index,
                 emitter_feature_names, receiver_feature_names, receivers=None,
                 stimuli=None, emitter_rows=None):
        emitter_blocks = tuple(
            _as_block(b, f"emitter block {i}") for i, b in enumerate(emitter_blocks)
        )
        receiver_blocks = tuple(
            _as_block(b, f"receiver block {i}") for i, b in enumerate(receiver_blocks)
        )
        emitter_index = np.asarray(emitter_index, dtype=np.intp).reshape(-1)
        n = len(receiver_blocks)
        if emitter_index.shape[0] != n:
            raise ValueError(
                f"emitter_index has {emitter_index.shape[0]} entries for {n} recordings"
            )
        if n and (emitter_index.min() < 0 or emitter_index.max() >= len(emitter_blocks)):
            raise ValueError("emitter_index points outside emitter_blocks")
        emitter_feature_names = tuple(str(f) for f in emitter_feature_names)
        receiver_feature_names = tuple(str(f) for f in receiver_feature_names)
        for blocks, names, domain in (
            (emitter_blocks, emitter_feature_names, "emitter"),
            (receiver_blocks, receiver_feature_names, "receiver"),
        ):
            for i, b in enumerate(blocks):
                if b.shape[1] != len(names):
                    raise ValueError(
                        f"{domain} block {i} has {b.shape[1]} features, "
                        f"{len(names)} {domain} feature names given"
                    )
        if emitter_rows is None:
            for i, (e, r) in enumerate(zip(emitter_index, receiver_blocks)):
                if emitter_blocks[e].shape[0] != r.shape[0]:
                    raise ValueError(
                        f"recording {i}: emitter block has "
                        f"{emitter_blocks[e].shape[0]} frames, receiver block "
                        f"{r.shape[0]}"
                    )
        else:
            emitter_rows = list(emitter_rows)
            if len(emitter_rows) != n:
                raise ValueError(f"emitter_rows has {len(emitter_rows)} entries for {n} "
                                 "recordings")
            for i, (e, r) in enumerate(zip(emitter_index, receiver_blocks)):
                rows = np.asarray(emitter_rows[i], dtype=np.intp).reshape(-1)
                if rows.shape[0] != r.shape[0]:
                    raise ValueError(
                        f"recording {i}: {rows.shape[0]} emitter rows for "
                        f"{r.shape[0]} receiver frames"
                    )
                if rows.size and (rows.min() < 0 or
                                  rows.max() >= emitter_blocks[e].shape[0]):
                    raise ValueError(f"recording {i}: emitter_rows out of range")
                emitter_rows[i] = _readonly(rows)
            emitter_rows = tuple(emitter_rows)
        self.emitter_rows = emitter_rows
        self.emitter_blocks = emitter_blocks
        self.receiver_blocks = receiver_blocks
        self.emitter_index = _readonly(emitter_index)
        self.emitter_feature_names = emitter_feature_names
        self.receiver_feature_names = receiver_feature_names
        self.receivers = tuple(receivers) if receivers is not None else (None,) * n
        self.stimuli = tuple(stimuli) if stimuli is not None else (None,) * n
        if len(self.receivers) != n or len(self.stimuli) != n:
            raise ValueError("receivers and stimuli need one id per recording")

    # -- sequence protocol -------------------------------------------------
    def __len__(self):
        return len(self.receiver_blocks)

    @property
    def shape(self):
        """``(n_recordings,)``, so scikit-learn counts and indexes recordings."""
        return (len(self),)

    def __getitem__(self, key):
        if isinstance(key, numbers.Integral):
            i = range(len(self))[key]
            return self.emitter_frames(i), self.receiver_blocks[i]
        indices = np.arange(len(self))[key]
        return self.subset(indices)

    def subset(self, indices):
        """Recordings ``indices`` as a new :class:`DyadicFrames` sharing the blocks."""
        indices = np.asarray(indices, dtype=np.intp).reshape(-1)
        used, new_index = np.unique(self.emitter_index[indices], return_inverse=True)
        return DyadicFrames(
            [self.emitter_blocks[u] for u in used],
            [self.receiver_blocks[i] for i in indices],
            new_index,
            self.emitter_feature_names,
            self.receiver_feature_names,
            [self.receivers[i] for i in indices],
            [self.stimuli[i] for i in indices],
            None if self.emitter_rows is None
            else [self.emitter_rows[i] for i in indices],
        )

    def select_frames(self, masks):
        """Keep some frames of each recording, still sharing the emitter blocks.

        Parameters
        ----------
        masks : sequence of bool or int arrays, one per recording
            Frames to keep (a boolean mask or row indices into the recording).

        Returns
        -------
        DyadicFrames
            Recording ``i`` holds the selected frames, in the given order.
        """
        if len(masks) != len(self):
            raise ValueError(f"{len(masks)} masks for {len(self)} recordings")
        rows, blocks = [], []
        for i, mask in enumerate(masks):
            keep = np.arange(self.receiver_blocks[i].shape[0])[np.asarray(mask)]
            rows.append(self.emitter_row_indices(i)[keep])
            blocks.append(self.receiver_blocks[i][keep])
        return DyadicFrames(self.emitter_blocks, blocks, self.emitter_index,
                            self.emitter_feature_names, self.receiver_feature_names,
                            self.receivers, self.stimuli, rows)

    def emitter_row_indices(self, i):
        """Rows of ``emitter_blocks[emitter_index[i]]`` paired with recording ``i``."""
        if self.emitter_rows is None:
            return np.arange(self.receiver_blocks[i].shape[0])
        return self.emitter_rows[i]

    def emitter_frames(self, i):
        """Emitter features of recording ``i``, ``(n_frames_i, n_emitter_features)``."""
        block = self.emitter_blocks[self.emitter_index[i]]
        if self.emitter_rows is None:
            return block
        return block[self.emitter_rows[i]]

    # -- summaries ---------------------------------------------------------
    @property
    def frame_counts(self):
        """Frames per recording, ``ndarray`` of int."""
        return np.array([b.shape[0] for b in self.receiver_blocks], dtype=np.intp)

    @property
    def n_frames(self):
        """Total number of frames over all recordings."""
        return int(self.frame_counts.sum())

    @property
    def n_emitter_features(self):
        return len(self.emitter_feature_names)

    @property
    def n_receiver_features(self):
        return len(self.receiver_feature_names)

    @property
    def n_features(self):
        return self.n_emitter_features + self.n_receiver_features

    @property
    def feature_names(self):
        """Emitter then receiver feature names."""
        return self.emitter_feature_names + self.receiver_feature_names

    def to_frames(self):
        """Materialise ``(n_frames, n_features)``: emitter columns first.

        This copies each emitter block once per recording; use it for small data or
        for baselines that need one flat array (ridge, plain LSTM).
        """
        rows = [
            np.hstack([self.emitter_frames(i), r])
            for i, r in enumerate(self.receiver_blocks)
        ]
        if not rows:
            return np.empty((0, self.n_features), dtype=np.float32)
        return np.vstack(rows)

    def __repr__(self):
        return (
            f"DyadicFrames(n_recordings={len(self)}, n_frames={self.n_frames}, "
            f"n_emitter_features={self.n_emitter_features}, "
            f"n_receiver_features={self.n_receiver_features}, "
            f"n_emitter_blocks={len(self.emitter_blocks)})"
        )


def _as_block(block, what):
    array = _as_real_2d(block, what)
    if array.dtype == np.float32 and not array.flags.writeable:
        return array  # already a read-only block: share it, don't re-view it
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    return _readonly(array)
