"""Timestamped CSV files: OpenFace 2 output and eye-tracker or device exports.

Both readers return a :class:`~sklearn_impression.features.TimedStream`: uniform
samples at a stated rate, placed on the session timeline by the file's first
timestamp plus an ``offset``. Parsing reuses the checked CSV reader of the released
layout, so every error names the file and line.
"""

from __future__ import annotations

import re
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np

from ..recordings._csv import _read_csv
from ..recordings._recording import Stream, _check_rate
from ._align import TimedStream

__all__ = ["read_openface", "read_timestamped_csv"]

_OPENFACE_SELECTIONS = {
    "face": re.compile(r"^AU\d+_[rc]$"),
    "eye": re.compile(r"^gaze_"),
    "all": re.compile(r"^(AU\d+_[rc]|gaze_)"),
}
_OPENFACE_REQUIRED = ("timestamp", "confidence", "success")
_VIDEO_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0, 100.0,
                119.88, 120.0)


def _shown(path, root):
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    return path.relative_to(root) if path.is_relative_to(root) else path


def _lines(t, lines):
    """File line of each row: row ``k`` is on line ``k + 2`` unless rows were
    picked out of the file (one face of several)."""
    return np.arange(t.shape[0]) + 2 if lines is None else lines


def _check_times(t, shown, lines=None):
    """Finite, strictly increasing timestamps, or ValueError naming the line."""
    lines = _lines(t, lines)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise ValueError(f"{shown}, line {lines[bad[0]]}: timestamp {t[bad[0]]!r} is "
                         "not a finite number")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        k = back[0] + 1
        verb = "repeats" if t[k] == t[k - 1] else "goes backwards from"
        raise ValueError(f"{shown}, line {lines[k]}: timestamp {t[k]:.6g} s {verb} "
                         f"{t[k - 1]:.6g} s (line {lines[k - 1]}); timestamps must "
                         "increase")


def _regular_drift(t, rate):
    """Largest distance of the timestamps from ``t[0] + k / rate`` and its row."""
    dev = t - (t[0] + np.arange(t.shape[0]) / rate)
    k = int(np.argmax(np.abs(dev)))
    return abs(float(dev[k])), k


def _check_regular(t, rate, shown, max_drift):
    drift, k = _regular_drift(t, rate)
    if drift > max_drift:
        implied = (t.shape[0] - 1) / (t[-1] - t[0]) if t[-1] > t[0] else float("nan")
        raise ValueError(
            f"{shown}, line {k + 2}: timestamp {t[k]:.6g} s is {drift:.4f} s away from "
            f"sample {k} at the stated {rate:g} Hz (more than max_drift={max_drift:g} "
            f"s): dropped samples, or a clock running at {implied:.6g} Hz"
        )


def _to_uniform(t, values, rate, shown, max_gap, on_gap, lines=None):
    """Linear interpolation of irregular samples onto ``t[0] + k / rate``."""
    n = int(np.floor((t[-1] - t[0]) * rate + 1e-9)) + 1
    grid = t[0] + np.arange(n) / rate
    right = np.clip(np.searchsorted(t, grid, side="right"), 1, t.shape[0] - 1)
    left = right - 1
    w = ((grid - t[left]) / (t[right] - t[left]))[:, np.newaxis]
    w = np.clip(w, 0.0, 1.0)
    out = values[left] * (1.0 - w) + values[right] * w
    exact = w[:, 0] == 0.0  # keep exact samples exact (and NaN only where NaN)
    out[exact] = values[left[exact]]
    gaps = np.flatnonzero(np.diff(t) > max_gap)
    if gaps.size and on_gap == "raise":
        k = gaps[0]
        lines = _lines(t, lines)
        raise ValueError(
            f"{shown}, lines {lines[k]}-{lines[k + 1]}: no samples from t = "
            f"{t[k]:.6g} to {t[k + 1]:.6g} s ({t[k + 1] - t[k]:.4g} s, more than "
            f"max_gap={max_gap:g} s); pass on_gap='nan' to leave such gaps as NaN"
        )
    for k in gaps:  # on_gap == "nan"
        inside = (grid > t[k]) & (grid < t[k + 1])
        out[inside] = np.nan
    return out


def _video_rate(t):
    """Frame rate from timestamps rounded to milliseconds, as OpenFace writes them:
    a least-squares slope, snapped to a common video rate within 0.02%."""
    k = np.arange(t.shape[0], dtype=np.float64)
    rate = 1.0 / np.polyfit(k, t, 1)[0]
    for common in _VIDEO_RATES:
        if abs(rate / common - 1.0) < 2e-4:
            return common
    return round(rate, 3)


def _check_gap_policy(max_gap, on_gap):
    if on_gap not in ("raise", "nan"):
        raise ValueError(f"on_gap must be 'raise' or 'nan', got {on_gap!r}")
    if not max_gap > 0:
        raise ValueError(f"max_gap must be > 0 seconds, got {max_gap!r}")


def _select_face(names, data, face_id, shown):
    """The rows of one tracked face (``face_id``, or the best-tracked face) and
    their file lines (None: all rows, row ``k`` on line ``k + 2``)."""
    if "face_id" not in names:
        if face_id is not None:
            raise ValueError(f"{shown}, line 1: no 'face_id' column to select "
                             f"face_id={face_id} in")
        return data, None
    ids = data[:, names.index("face_id")]
    faces = np.unique(ids)
    if face_id is not None:
        if face_id not in faces:
            raise ValueError(f"{shown}: no face_id {face_id}; the file tracks face_id "
                             f"{', '.join(f'{f:g}' for f in faces)}")
        return data[ids == face_id], np.flatnonzero(ids == face_id) + 2
    if faces.size == 1:
        return data, None
    # Mean over all the file's frames, a frame without the face counting as 0: a
    # face glimpsed briefly does not win over the person tracked throughout.
    n_frames = np.unique(data[:, names.index("timestamp")]).size
    confidence = data[:, names.index("confidence")]
    score = np.array([confidence[ids == f].sum() / n_frames for f in faces])
    best = faces[np.argmax(score)]
    scores = ", ".join(f"face_id {f:g}: {c:.2f}"
                       for f, c in zip(faces, score, strict=True))
    warnings.warn(
        f"{shown}: {faces.size} faces tracked (mean confidence over the file's "
        f"frames: {scores}); using face_id {best:g}, the highest. Pass face_id to "
        "choose (in a manifest: a '<modality>.face_id' column)", UserWarning,
        stacklevel=3)
    return data[ids == best], np.flatnonzero(ids == best) + 2


def read_openface(path, *, select="face", rate=None, offset=0.0, min_confidence=0.0,
                  face_id=None, max_gap=0.25, on_gap="raise", _root=None):
    """Read an OpenFace 2 ``FeatureExtraction`` CSV into a timed stream.

    Frames where tracking failed (``success == 0``) or whose ``confidence`` is
    below ``min_confidence`` become NaN in every channel, so the
    :class:`~sklearn_impression.Resampler`'s ``nan_policy`` decides what happens to
    them. When the timestamps sit on a regular grid at ``rate`` (to within half a
    frame: OpenFace writes them rounded to milliseconds) the frames are kept as
    they are; otherwise (a variable-rate webcam) they are linearly interpolated
    onto that grid.

    Parameters
    ----------
    path : str or path
        The CSV file. Column names may have the spaces OpenFace puts after commas.
    select : {"face", "eye", "all"} or list of str, default="face"
        ``"face"``: the action units ``AUxx_r`` (intensity) and ``AUxx_c``
        (presence); ``"eye"``: the ``gaze_*`` columns (direction vectors and
        angles); ``"all"``: both; or a list of column names.
    rate : float, default=None
        Frame rate in Hz; ``None`` estimates it from the timestamps (a straight
        line through them: the video's rate when no frame is missing; with
        several faces, through the frames any face was tracked in), snapped to
        a common video rate (23.976, 24, 25, 29.97, 30, 50, 59.94, 60, ... fps)
        within 0.02%, else rounded to 3 decimals.
    offset : float, default=0.0
        Seconds added to the file's timestamps to place them on the session
        timeline.
    min_confidence : float, default=0.0
        Frames with a lower ``confidence`` count as failed.
    face_id : int, default=None
        The face to read when OpenFace tracked several (``FaceLandmarkVidMulti``
        writes one row per face and frame, told apart by ``face_id``). ``None``
        reads the face with the highest mean ``confidence`` over the file's
        frames (a frame without that face counting as 0), with a
        ``UserWarning`` naming the faces and their scores when there are
        several. Frames where the chosen face is missing are a gap, as dropped
        frames are (see ``max_gap``).
    max_gap : float, default=0.25
        Longest time in seconds between two rows before it counts as a gap.
    on_gap : {"raise", "nan"}, default="raise"
        A gap is a ValueError naming the lines, or NaN samples in the stream.

    Returns
    -------
    TimedStream
        Channels named as OpenFace names them, starting at the first timestamp
        plus ``offset``.

    Raises
    ------
    ValueError
        Naming the file and line: a missing ``timestamp``, ``confidence`` or
        ``success`` column or no selected column (not OpenFace output), a
        ``face_id`` the file does not have, timestamps that do not increase, a
        gap longer than ``max_gap``.

    Warns
    -----
    UserWarning
        When the file tracks several faces and ``face_id`` is None.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "face.csv"
    >>> _ = path.write_text(
    ...     "frame, face_id, timestamp, confidence, success, AU12_r, AU12_c\\n"
    ...     "1, 0, 0.000, 0.98, 1, 1.5, 1\\n"
    ...     "2, 0, 0.040, 0.10, 0, 0.0, 0\\n"
    ...     "3, 0, 0.080, 0.97, 1, 2.0, 1\\n")
    >>> face = read_openface(path)
    >>> face.stream.rate, face.stream.channels
    (25.0, ('AU12_r', 'AU12_c'))
    >>> face.stream.values[:, 0]
    array([1.5, nan, 2. ])
    """
    _check_gap_policy(max_gap, on_gap)
    if face_id is not None and (isinstance(face_id, bool)
                                or not isinstance(face_id, Integral)):
        raise ValueError(f"face_id must be an int or None, got {face_id!r}")
    path = Path(path)
    shown = _shown(path, _root)
    names, data = _read_csv(path, path.parent if _root is None else _root)
    for column in _OPENFACE_REQUIRED:
        if column not in names:
            raise ValueError(f"{shown}, line 1: no {column!r} column; expected "
                             "OpenFace 2 output (timestamp, confidence, success, "
                             "AUxx_r, AUxx_c, gaze_*)")
    if isinstance(select, str):
        if select not in _OPENFACE_SELECTIONS:
            raise ValueError(f"select must be 'face', 'eye', 'all' or a list of "
                             f"columns, got {select!r}")
        pattern = _OPENFACE_SELECTIONS[select]
        channels = [n for n in names if pattern.search(n)]
    else:
        channels = [str(c) for c in select]
        unknown = [c for c in channels if c not in names]
        if unknown:
            raise ValueError(f"{shown}, line 1: no column {unknown[0]!r}")
    if rate is not None:
        rate = _check_rate(rate, str(shown))
    if not channels:
        raise ValueError(f"{shown}, line 1: no {select} columns (AUxx_r, AUxx_c, "
                         "gaze_*); expected OpenFace 2 output")
    frames = data[:, names.index("timestamp")]  # every face's: the video's frames
    data, lines = _select_face(names, data, face_id, shown)
    t = data[:, names.index("timestamp")]
    _check_times(t, shown, lines)
    if t.shape[0] < 2:
        raise ValueError(f"{shown}: needs at least 2 frames, got {t.shape[0]}")
    values = data[:, [names.index(c) for c in channels]]
    failed = (data[:, names.index("success")] == 0) | (
        data[:, names.index("confidence")] < min_confidence)
    values[failed] = np.nan
    if rate is None:
        rate = _video_rate(t if lines is None else
                           np.unique(frames[np.isfinite(frames)]))
    if _regular_drift(t, rate)[0] > 0.5 / rate:
        values = _to_uniform(t, values, rate, shown, max_gap, on_gap, lines)
    else:
        gaps = np.flatnonzero(np.diff(t) > max_gap)
        if gaps.size and on_gap == "raise":
            _to_uniform(t, values, rate, shown, max_gap, on_gap, lines)  # raises
    return TimedStream(Stream(values, rate, channels), float(t[0]) + offset,
                       str(shown))


def read_timestamped_csv(path, *, rate, time_column="timestamp", columns=None,
                         time_scale=1.0, offset=0.0, resample=True, max_gap=0.25,
                         on_gap="raise", max_drift=0.02, _root=None):
    """Read a timestamped CSV (an eye tracker or a wearable's export).

    Parameters
    ----------
    path : str or path
        Comma-separated file with a header row and one row per sample.
    rate : float
        The stream's rate in Hz. With ``resample=True`` the (irregular) samples are
        linearly interpolated onto ``first_timestamp + k / rate``; with
        ``resample=False`` the samples are taken as they are, at the device's
        ``rate``, and the timestamps must agree with it (see ``max_drift``).
    time_column : str, default="timestamp"
        Column of the timestamps.
    columns : list of str, default=None
        Channels to keep; ``None`` keeps all columns but the time column.
    time_scale : float, default=1.0
        Seconds per timestamp unit (0.001 for milliseconds).
    offset : float, default=0.0
        Seconds added to the (scaled) timestamps to place them on the session
        timeline.
    resample : bool, default=True
        Interpolate onto a uniform grid (eye trackers) or keep the device's samples
        (physiology at its device rate).
    max_gap : float, default=0.25
        With ``resample=True``: longest time in seconds between two rows before it
        counts as a gap (a dropped stretch of samples).
    on_gap : {"raise", "nan"}, default="raise"
        A gap is a ValueError naming the lines, or NaN samples in the stream.
    max_drift : float, default=0.02
        With ``resample=False``: largest distance in seconds allowed between a
        timestamp and ``first + k / rate``. More means dropped samples or a clock
        whose rate differs from the stated one: a ValueError naming the line and
        the rate the timestamps imply.

    Returns
    -------
    TimedStream

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "eye.csv"
    >>> _ = path.write_text("timestamp,gaze_x\\n0.0,0\\n0.013,1.3\\n0.02,2\\n")
    >>> eye = read_timestamped_csv(path, rate=100)
    >>> eye.stream.values[:, 0]
    array([0., 1., 2.])
    """
    _check_gap_policy(max_gap, on_gap)
    path = Path(path)
    shown = _shown(path, _root)
    rate = _check_rate(rate, str(shown))
    names, data = _read_csv(path, path.parent if _root is None else _root)
    if time_column not in names:
        raise ValueError(f"{shown}, line 1: no time column {time_column!r} (columns "
                         f"{names[:8]})")
    channels = [n for n in names if n != time_column] if columns is None else \
        [str(c) for c in columns]
    for c in channels:
        if c not in names:
            raise ValueError(f"{shown}, line 1: no column {c!r}")
    if not channels:
        raise ValueError(f"{shown}, line 1: no data columns besides {time_column!r}")
    t = data[:, names.index(time_column)] * time_scale
    _check_times(t, shown)
    if t.shape[0] < 2:
        raise ValueError(f"{shown}: needs at least 2 samples, got {t.shape[0]}")
    values = data[:, [names.index(c) for c in channels]]
    if resample:
        values = _to_uniform(t, values, rate, shown, max_gap, on_gap)
    else:
        _check_regular(t, rate, shown, max_drift)
    return TimedStream(Stream(values, rate, channels), float(t[0]) + offset,
                       str(shown))
