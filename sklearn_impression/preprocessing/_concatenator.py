"""Join label-rate modalities into an emitter and a receiver block (early fusion)."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..recordings._frames import DyadicFrames
from ..recordings._recording import DOMAINS, at_label_rate
from ._base import _RecordingTransformer
from ._recording_checks import (
    _check_stream_fits_float32,
    _fit_recordings,
    _fitted_recordings,
)

__all__ = ["ModalityConcatenator"]


def _as_names(value, param):
    """``include`` / ``exclude`` as a tuple of names (a lone string is one name)."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(
                f"{param} must hold modality names (str), got {type(name).__name__} "
                f"{name!r}"
            )
    return names


class ModalityConcatenator(_RecordingTransformer, auto_wrap_output_keys=None):
    """Concatenate the modalities of each domain into an emitter and a receiver block.

    Paper section 4.1 (early fusion): the label-rate features of the emitter's
    modalities are joined column-wise, in sorted modality order, into one emitter
    block (412 features in the paper) and those of the receiver into one receiver
    block (68 features). The result is a :class:`~sklearn_impression.DyadicFrames`,
    which carries the domain split to
    :class:`~sklearn_impression.CrossDomainRegressor`; dropping modalities here
    needs no second setting downstream.

    Parameters
    ----------
    include : str or sequence of str, default=None
        Modality names to keep (``"emitter.audio"``, ``"emitter.eye"``,
        ``"emitter.face"``, ``"receiver.eye"``, ``"receiver.face"``,
        ``"receiver.physio"`` or any other modality of the recordings); ``None``
        keeps all.
    exclude : str or sequence of str, default=None
        Modality names to drop, for the modality ablations of the paper's Table 2
        (``exclude=("receiver.physio",)``); it can be grid-searched as
        ``concat__exclude``. ``include`` and ``exclude`` may both be set if they
        do not overlap. Each domain must keep at least one modality.

    Attributes
    ----------
    modalities_ : tuple of str
        All modalities of the recordings seen in :meth:`fit`.
    channels_ : dict of str to tuple of str
        Channel names per modality (all modalities).
    emitter_modalities_, receiver_modalities_ : tuple of str
        The selected modalities of each domain, in block (sorted) order.
    emitter_feature_names_, receiver_feature_names_ : tuple of str
        Column names of the blocks, ``"<modality>.<channel>"``
        (``"emitter.audio.mfcc_1"``).

    See Also
    --------
    Resampler : Bring the streams to the label rate first.

    Notes
    -----
    Every selected stream must already be at its recording's label rate with
    ``n_frames`` samples (the output of :class:`Resampler`); otherwise a
    ValueError says to run the :class:`Resampler` first.

    Emitter blocks are stored once per distinct combination of emitter
    :class:`~sklearn_impression.Stream` objects (compared by identity) and frame
    count: the emitter streams of one stimulus are the same objects in all of its
    recordings (and stay shared through :class:`Resampler`), so 40 receivers
    watching a stimulus share one emitter block. ``DyadicFrames.emitter_index``
    maps each recording to its block. Blocks are float32.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_impression import ModalityConcatenator, Recording, Stream
    >>> audio = Stream(np.ones((50, 2)), rate=25, channels=["mfcc_1", "mfcc_2"])
    >>> recs = [
    ...     Recording({"emitter.audio": audio,
    ...                "receiver.eye": Stream(np.zeros((50, 1)), rate=25,
    ...                                       channels=["gaze_x"]),
    ...                "receiver.physio": Stream(np.zeros((50, 3)), rate=25,
    ...                                          channels=["bvp", "ecg", "gsr"])},
    ...               n_frames=50, frame_rate=25, receiver=r, stimulus="s1")
    ...     for r in ("p1", "p2")]
    >>> concat = ModalityConcatenator(exclude=["receiver.physio"])
    >>> frames = concat.fit_transform(recs)
    >>> frames
    DyadicFrames(n_recordings=2, n_frames=100, n_emitter_features=2, \
n_receiver_features=1, n_emitter_blocks=1)
    >>> concat.get_feature_names_out().tolist()
    ['emitter.audio.mfcc_1', 'emitter.audio.mfcc_2', 'receiver.eye.gaze_x']
    """

    _parameter_constraints = {
        "include": [None, str, list, tuple],
        "exclude": [None, str, list, tuple],
    }

    def __init__(self, *, include=None, exclude=None):
        self.include = include
        self.exclude = exclude

    def _fit(self, X):
        recordings, layout = _fit_recordings(X, type(self).__name__)
        selected = self._select(tuple(layout))
        self.modalities_ = tuple(layout)
        self.channels_ = dict(layout)
        for domain in DOMAINS:
            mods = tuple(m for m in selected if m.startswith(domain + "."))
            names = tuple(f"{m}.{c}" for m in mods for c in layout[m])
            setattr(self, f"{domain}_modalities_", mods)
            setattr(self, f"{domain}_feature_names_", names)
        return recordings

    def _select(self, available):
        include = _as_names(self.include, "include")
        exclude = _as_names(self.exclude, "exclude")
        for param, names in (("include", include), ("exclude", exclude)):
            unknown = sorted(set(names or ()) - set(available))
            if unknown:
                raise ValueError(
                    f"{param} names unknown modalities {unknown}; the recordings have "
                    f"{list(available)}"
                )
        if include is not None and exclude is not None:
            both = sorted(set(include) & set(exclude))
            if both:
                raise ValueError(f"modalities {both} are both included and excluded")
        selected = [
            m for m in available
            if (include is None or m in include) and m not in (exclude or ())
        ]
        for domain in DOMAINS:
            if not any(m.startswith(domain + ".") for m in selected):
                have = [m for m in available if m.startswith(domain + ".")]
                raise ValueError(
                    f"no {domain} modality left (include={self.include!r}, "
                    f"exclude={self.exclude!r}); the {domain} domain needs at least "
                    f"one of {have}"
                )
        return selected

    def transform(self, X):
        """Build the emitter and receiver blocks of every recording.

        Parameters
        ----------
        X : sequence of Recording
            Label-rate recordings with the modalities and channels seen in
            :meth:`fit`.

        Returns
        -------
        frames : DyadicFrames
            One receiver block per recording and one emitter block per distinct
            set of emitter streams, emitter columns first in the feature names.
        """
        return self._transform_checked(_fitted_recordings(self, X))

    def _transform_checked(self, recordings):
        """Blocks of checked recordings, each distinct emitter block once."""
        emitter_blocks, receiver_blocks, emitter_index = [], [], []
        block_of = {}  # (ids of the emitter streams, n_frames) -> block number
        for rec in recordings:
            for name in self.emitter_modalities_ + self.receiver_modalities_:
                _check_modality_at_label_rate(rec, name, rec.streams[name])
            streams = [rec.streams[m] for m in self.emitter_modalities_]
            key = (tuple(id(s) for s in streams), rec.n_frames)
            if key not in block_of:
                block_of[key] = len(emitter_blocks)
                emitter_blocks.append(_join(rec, self.emitter_modalities_, streams))
            emitter_index.append(block_of[key])
            receiver_blocks.append(
                _join(rec, self.receiver_modalities_,
                      [rec.streams[m] for m in self.receiver_modalities_])
            )
        return DyadicFrames(
            emitter_blocks,
            receiver_blocks,
            emitter_index,
            self.emitter_feature_names_,
            self.receiver_feature_names_,
            receivers=[rec.receiver for rec in recordings],
            stimuli=[rec.stimulus for rec in recordings],
            label_rate=_common_rate(recordings),
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output features, emitter block first.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Accepted for :class:`~sklearn.pipeline.Pipeline`; if given it must be
            the ``"<modality>.<channel>"`` names of all input channels (what
            ``Resampler.get_feature_names_out`` returns).

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<modality>.<channel>"``, emitter features then receiver features.
        """
        check_is_fitted(self)
        if input_features is not None:
            expected = [f"{m}.{c}" for m, chs in self.channels_.items() for c in chs]
            if list(input_features) != expected:
                raise ValueError(
                    "input_features must be the names of all input channels seen in "
                    f"fit, {_preview(expected)}, got {_preview(list(input_features))}"
                )
        names = self.emitter_feature_names_ + self.receiver_feature_names_
        return np.asarray(names, dtype=object)


def _preview(names, limit=4):
    if len(names) <= limit:
        return names
    return names[:limit] + [f"... ({len(names)} in all)"]


def _check_modality_at_label_rate(rec, name, stream):
    """Raise unless modality ``name`` of ``rec`` has its label frame count; the
    message points to the Resampler."""
    if not at_label_rate(stream, rec):
        raise ValueError(
            f"{rec.name}, modality {name!r}: {stream.n_samples} samples at "
            f"{stream.rate:g} Hz, but the recording has {rec.n_frames} label frames "
            f"at {rec.frame_rate:g} Hz; every modality needs the label frame count. "
            "Run the Resampler first (Pipeline([('resample', Resampler()), "
            "('concat', ModalityConcatenator()), ...]))"
        )


def _join(rec, names, streams):
    if len(streams) == 1 and streams[0].values.dtype == np.float32:
        return streams[0].values  # read-only already; no copy needed
    for name, stream in zip(names, streams, strict=True):
        # finite float64 beyond float32's range would become inf silently
        _check_stream_fits_float32(rec, name, stream.channels, stream.values)
    return np.concatenate([s.values for s in streams], axis=1, dtype=np.float32)


def _common_rate(recordings):
    """The label rate shared by all recordings, or None if they differ."""
    rates = {rec.frame_rate for rec in recordings}
    return rates.pop() if len(rates) == 1 else None
