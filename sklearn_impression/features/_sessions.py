"""Raw dyadic sessions on disk: a manifest of files per recording, loaded as the
same bunch as :func:`~sklearn_impression.load_impression`.
"""

from __future__ import annotations

import csv
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..recordings._bunch import recordings_bunch
from ..recordings._csv import _as_id, _read_csv
from ..recordings._recording import Recording, Stream, split_modality_name
from ._align import TimedStream, align_streams
from ._audio import AUDIO_SUFFIXES, FEATURE_SETS, audio_features
from ._physio import physio_features
from ._tables import (
    _OPENFACE_REQUIRED,
    _check_regular,
    _check_times,
    read_openface,
    read_timestamped_csv,
)

__all__ = ["MANIFEST", "load_raw_sessions"]

#: File name of the manifest in a raw-session folder.
MANIFEST = "manifest.csv"
_ID_COLUMNS = ("receiver", "stimulus", "labels")
_SUFFIXES = (".rate", ".offset", ".face_id")


def _number(text, what, line):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{MANIFEST}, line {line}: {what} {text!r} is not a "
                         "number") from None
    if not np.isfinite(value):
        raise ValueError(f"{MANIFEST}, line {line}: {what} must be finite")
    return value


def _face_id(text, what, line):
    value = _number(text, what, line)
    if value != int(value):
        raise ValueError(f"{MANIFEST}, line {line}: {what} {text!r} is not a whole "
                         "number")
    return int(value)


def _read_manifest(root):
    path = root / MANIFEST
    if not path.is_file():
        raise ValueError(f"{path}: no manifest; a raw-session folder needs "
                         f"{MANIFEST} (see load_raw_sessions)")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    rows = [(k, [c.strip() for c in r]) for k, r in enumerate(rows, 1) if any(r)]
    if len(rows) < 2:
        raise ValueError(f"{MANIFEST}, line 1: needs a header and at least one row")
    header = rows[0][1]
    for column in _ID_COLUMNS:
        if column not in header:
            raise ValueError(f"{MANIFEST}, line 1: no {column!r} column")
    modalities = [c for c in header
                  if c not in _ID_COLUMNS and not c.endswith(_SUFFIXES)]
    for c in header:
        base = next((c[:-len(s)] for s in _SUFFIXES if c.endswith(s)), None)
        if base is not None and base not in modalities:
            raise ValueError(f"{MANIFEST}, line 1: column {c!r} has no modality "
                             f"column {base!r}")
    if not modalities:
        raise ValueError(f"{MANIFEST}, line 1: no modality columns such as "
                         "'emitter.audio' or 'receiver.physio'")
    for name in modalities:
        try:
            split_modality_name(name)
        except ValueError as exc:
            raise ValueError(f"{MANIFEST}, line 1: {exc}") from None
    entries, first, seen = [], None, {}
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ValueError(f"{MANIFEST}, line {line}: {len(cells)} cells, the "
                             f"header has {len(header)}")
        row = dict(zip(header, cells, strict=True))
        recording = (_as_id(row["receiver"]), _as_id(row["stimulus"]))
        if recording in seen:
            raise ValueError(
                f"{MANIFEST}, lines {seen[recording]} and {line}: receiver "
                f"{row['receiver']!r} with stimulus {row['stimulus']!r} is listed "
                "twice; list each recording once (its frames would be trained on "
                "twice)")
        seen[recording] = line
        files = {}
        for name in modalities:
            if not row[name]:
                continue
            rate, face = row.get(name + ".rate", ""), row.get(name + ".face_id", "")
            files[name] = (
                row[name],
                _number(rate, f"{name}.rate", line) if rate else None,
                _number(row.get(name + ".offset") or "0", f"{name}.offset", line),
                _face_id(face, f"{name}.face_id", line) if face else None,
            )
        if first is None:
            first = (line, set(files))
        elif set(files) != first[1]:
            missing = sorted(first[1] ^ set(files))[0]
            raise ValueError(
                f"{MANIFEST}, line {line}: modality {missing!r} is "
                f"{'missing' if missing in first[1] else 'given'} here but "
                f"{'given' if missing in first[1] else 'missing'} on line "
                f"{first[0]}; every recording needs the same modalities")
        entries.append((line, row, files))
    return entries


def _csv_header(path):
    with open(path, encoding="utf-8-sig") as handle:
        return [n.strip() for n in handle.readline().split(",")]


def _extract(root, name, file, rate, offset, face_id, feature_set, physio, gaps):
    # gaps: max_gap, on_gap, max_drift and the audio's max_clipped
    """One file to a TimedStream (runs in a joblib worker)."""
    path = root / file
    shown = Path(file)
    if not path.is_file():
        raise ValueError(f"{shown}: file not found under {root} (modality {name!r})")
    modality = split_modality_name(name)[1]
    suffix = path.suffix.lower()
    if suffix not in AUDIO_SUFFIXES + (".csv",):
        raise ValueError(f"{shown}: unsupported file format {path.suffix!r} for "
                         f"modality {name!r} (audio: {', '.join(AUDIO_SUFFIXES)}; "
                         "tables: .csv)")
    names = _csv_header(path) if suffix == ".csv" else []
    openface = suffix == ".csv" and (
        modality == "face" or all(c in names for c in _OPENFACE_REQUIRED))
    if face_id is not None and not openface:
        raise ValueError(f"{shown}: '{name}.face_id' is set, but the file is not "
                         "OpenFace output (timestamp, confidence, success)")
    if suffix in AUDIO_SUFFIXES:
        try:
            stream = audio_features(path, rate, feature_set=feature_set,
                                    max_clipped=gaps["max_clipped"])
        except ValueError as exc:
            raise ValueError(str(exc).replace(str(path), str(shown), 1)) from None
        return TimedStream(stream, offset, str(shown))
    if openface:
        select = modality if modality in ("face", "eye") else "all"
        return read_openface(path, select=select, rate=rate, offset=offset,
                             face_id=face_id, _root=root, max_gap=gaps["max_gap"],
                             on_gap=gaps["on_gap"])
    time_column = next((c for c in ("timestamp", "time") if c in names), None)
    if time_column is None:
        raise ValueError(f"{shown}, line 1: no 'timestamp' or 'time' column, and not "
                         "OpenFace output (timestamp, confidence, success)")
    if rate is None:
        raise ValueError(f"{shown}: state its rate in the manifest column "
                         f"'{name}.rate'")
    if modality == "physio":
        timed = read_timestamped_csv(path, rate=rate, time_column=time_column,
                                     offset=offset, resample=False, _root=root,
                                     max_drift=gaps["max_drift"])
        stream = physio_features(timed.stream, processed=physio == "processed",
                                 source=str(shown))
        return TimedStream(stream, timed.start, timed.source)
    return read_timestamped_csv(path, rate=rate, time_column=time_column,
                                offset=offset, _root=root, max_gap=gaps["max_gap"],
                                on_gap=gaps["on_gap"])


def _fill_nan(stream, source, nan_policy):
    values = np.asarray(stream.values)
    isnan = np.isnan(values)
    if not isnan.any():
        return stream, 0
    empty = np.flatnonzero(isnan.all(axis=0))
    if empty.size:
        raise ValueError(f"{source}, channel {stream.channels[empty[0]]!r}: no valid "
                         "sample within the annotation span (all NaN)")
    if nan_policy == "keep":
        return stream, 0
    filled = values.copy()
    t = np.arange(values.shape[0])
    for j in np.flatnonzero(isnan.any(axis=0)):
        gaps = isnan[:, j]
        filled[gaps, j] = np.interp(t[gaps], t[~gaps], values[~gaps, j])
    return Stream(filled, stream.rate, stream.channels), int(isnan.sum())


def _read_labels(root, file, frame_rate, line):
    if not file:
        raise ValueError(f"{MANIFEST}, line {line}: no labels file")
    path = root / file
    names, data = _read_csv(path, root)
    shown = Path(file)
    if len(names) != 3 or names[0] not in ("time", "timestamp"):
        raise ValueError(f"{shown}, line 1: expected columns time, competence, warmth;"
                         f" got {names}")
    t, labels = data[:, 0], data[:, 1:]
    _check_times(t, shown)
    if t.shape[0] > 1:
        _check_regular(t, frame_rate, shown, 0.5 / frame_rate)
    bad = np.flatnonzero(~np.isfinite(labels).all(axis=1))
    if bad.size:
        raise ValueError(f"{shown}, line {bad[0] + 2}: NaN or inf label")
    return labels, (float(t[0]), float(t[0]) + t.shape[0] / frame_rate)


@validate_params(
    {
        "root": [str, os.PathLike],
        "frame_rate": [Interval(Real, 0, None, closed="neither")],
        "feature_set": [StrOptions(set(FEATURE_SETS))],
        "physio": [StrOptions({"raw", "processed"})],
        "tolerance": [Interval(Real, 0, None, closed="left"), None],
        "max_gap": [Interval(Real, 0, None, closed="neither")],
        "on_gap": [StrOptions({"raise", "nan"})],
        "max_drift": [Interval(Real, 0, None, closed="neither")],
        "max_clipped": [Interval(Real, 0, 1, closed="both")],
        "nan_policy": [StrOptions({"keep", "interpolate"})],
        "n_jobs": [Integral, None],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_raw_sessions(root, *, frame_rate=25.0, feature_set="IS09", physio="raw",
                      tolerance=None, max_gap=0.25, on_gap="raise", max_drift=0.02,
                      max_clipped=0.001, nan_policy="keep", n_jobs=None,
                      return_X_y=False):
    """Load a folder of raw dyadic sessions as recordings with features.

    The folder holds ``manifest.csv``, one row per recording (one receiver
    watching one stimulus), with paths relative to the folder::

        receiver,stimulus,labels,emitter.audio,emitter.face,receiver.physio,...
        p01,s1,labels/p01_s1.csv,stimuli/s1/audio.wav,stimuli/s1/face.csv,...

    * ``labels``: CSV ``time,competence,warmth``, one row per label frame at
      ``frame_rate``; its times define the session timeline and the span every
      stream is cut to.
    * one column per modality (``<domain>.<modality>``), the file that gives it;
      an optional ``<modality>.offset`` column adds seconds to the file's times to
      place it on the timeline (a wearable started 2 s before the video:
      ``-2``), ``<modality>.rate`` states a rate (required for a timestamped
      CSV, checked against an audio file), and ``<modality>.face_id`` picks the
      face of an OpenFace file that tracks several (see :func:`read_openface`).

    Each recording (receiver and stimulus) is listed once: a second row for it
    is a ValueError naming both lines.

    Files are read by type: ``.wav``/``.flac``/``.ogg`` through openSMILE
    (:func:`audio_features`, ``feature_set``); a CSV with OpenFace's
    ``timestamp``, ``confidence``, ``success`` columns (and any CSV of a ``face``
    modality) by :func:`read_openface` (``AUxx_r``/``AUxx_c`` for a ``face``
    modality, ``gaze_*`` for ``eye``); any
    other CSV with a ``timestamp`` or ``time`` column by
    :func:`read_timestamped_csv`: a ``physio`` modality at its device rate
    (timestamps checked, ``max_drift``) through :func:`physio_features`, other
    modalities interpolated to their stated rate (``max_gap``, ``on_gap``).
    Each distinct file is read once, in parallel (``n_jobs``); the emitter streams
    of a stimulus are then shared by its recordings, as in
    :func:`~sklearn_impression.load_impression`.

    Parameters
    ----------
    root : str or path
        The folder holding ``manifest.csv``.
    frame_rate : float, default=25.0
        Label rate in Hz.
    feature_set : {"IS09", "eGeMAPS", "ComParE"}, default="IS09"
        openSMILE low-level descriptors for audio.
    physio : {"raw", "processed"}, default="raw"
        Raw physiological channels (the paper's input) or NeuroKit2's cleaned
        signals, heart rate and tonic/phasic skin conductance.
    tolerance : float, default=None
        Seconds a stream may miss at either end of the annotation span (filled by
        repeating its edge sample, recorded in ``alignment``); ``None`` means one
        label frame. A stream missing more is a ValueError naming the file and
        the times.
    max_gap, on_gap : float and {"raise", "nan"}
        Gap policy of the interpolated CSV streams (:func:`read_timestamped_csv`,
        :func:`read_openface`).
    max_drift : float, default=0.02
        Largest distance in seconds between a device timestamp and its sample's
        time at the stated rate (dropped samples, clock rate mismatch).
    max_clipped : float, default=0.001
        Largest fraction of an audio file's samples allowed at full scale
        (:func:`audio_features`).
    nan_policy : {"keep", "interpolate"}, default="keep"
        NaN samples (failed face tracking, eye-tracker gaps with
        ``on_gap="nan"``) are kept for the
        :class:`~sklearn_impression.Resampler`'s ``nan_policy`` to handle, or
        filled here by linear interpolation over time within the annotation span
        at the stream's own rate (the edges take the nearest valid value); the
        count filled is recorded as ``nan_filled`` in ``alignment``. A channel
        with no valid sample in the span raises either way.
    n_jobs : int, default=None
        Files processed in parallel (joblib semantics).
    return_X_y : bool, default=False
        Return ``(recordings, targets)``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``recordings``, ``targets``, ``receivers``, ``stimuli`` as
        :func:`~sklearn_impression.load_impression` gives them, plus ``alignment``
        (per recording, per modality, the record of
        :func:`align_streams`: source file, rate, the stream's own start and stop
        on the timeline, the first sample kept, the sub-sample shift, the padding),
        ``spans`` (the annotation span of each recording), ``target_names``,
        ``frame_rate``, ``DESCR``.

    Raises
    ------
    ValueError
        Naming the manifest line or the file and line or time.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_impression.features import make_raw_sessions
    >>> root = make_raw_sessions(tempfile.mkdtemp(), n_receivers=2,
    ...                          n_stimuli=1)  # doctest: +SKIP
    >>> data = load_raw_sessions(root)  # doctest: +SKIP
    >>> data.recordings[0].modalities  # doctest: +SKIP
    ('emitter.audio', 'emitter.eye', 'emitter.face', 'receiver.eye', 'receiver.face',
     'receiver.physio')
    """
    root = Path(root)
    entries = _read_manifest(root)
    gaps = {"max_gap": max_gap, "on_gap": on_gap, "max_drift": max_drift,
            "max_clipped": max_clipped}
    jobs = {}
    for _, _, files in entries:
        for name, spec in files.items():
            jobs.setdefault((name, *spec), None)
    tasks = [delayed(_extract)(root, name, *spec, feature_set, physio, gaps)
             for name, *spec in jobs]
    for key, timed in zip(jobs, Parallel(n_jobs=n_jobs)(tasks), strict=True):
        jobs[key] = timed
    tol = 1.0 / frame_rate if tolerance is None else float(tolerance)

    shared = {}
    recordings, targets, receivers, stimuli, alignment, spans = ([] for _ in range(6))
    for line, row, files in entries:
        labels, span = _read_labels(root, row["labels"], frame_rate, line)
        receiver, stimulus = _as_id(row["receiver"]), _as_id(row["stimulus"])
        timed = {name: jobs[(name, *spec)] for name, spec in files.items()}
        try:
            aligned, record = align_streams(timed, span, tolerance=tol)
        except ValueError as exc:
            raise ValueError(f"{MANIFEST}, line {line}: {exc}") from None
        for name in aligned:
            aligned[name], record[name]["nan_filled"] = _fill_nan(
                aligned[name], record[name]["source"], nan_policy)
        for name, spec in files.items():  # one emitter Stream per stimulus and span
            if name.startswith("emitter."):
                aligned[name] = shared.setdefault((name, *spec, span), aligned[name])
        try:
            recordings.append(Recording(aligned, labels.shape[0], frame_rate,
                                        receiver=receiver, stimulus=stimulus))
        except ValueError as exc:
            raise ValueError(f"{MANIFEST}, line {line}: {exc}") from None
        targets.append(labels)
        receivers.append(receiver)
        stimuli.append(stimulus)
        alignment.append(record)
        spans.append(span)
    return recordings_bunch(
        recordings, targets, receivers, stimuli, alignment=alignment, spans=spans,
        frame_rate=frame_rate, return_X_y=return_X_y,
        descr=f"raw dyadic sessions loaded from {root} ({feature_set} audio, "
              f"{physio} physiology)",
    )
