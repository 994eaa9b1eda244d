"""Input checks of the transformers that take recordings: a non-empty sequence of
:class:`~sklearn_impression.Recording` objects sharing one layout, streams that
cover their labels, values that fit in float32.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..recordings._recording import Recording

_FLOAT32_MAX = float(np.finfo(np.float32).max)


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


def _check_stream_fits_float32(rec, name, channels, values):
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


