"""The checks of what :func:`~sklearn_impression.datasets.write_impression` writes:
label-rate recordings with one set of columns, targets, stimuli and receiver ids
that the released layout can hold.
"""

from __future__ import annotations

import re
from numbers import Integral

import numpy as np

from ..recordings._recording import DOMAINS, Recording, at_label_rate
from ._released_layout import _columns

_SAFE_STEM = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")


def _check_all_streams_at_label_rate(rec):
    """Raise unless every stream of ``rec`` has its label frame count."""
    for name, stream in rec.streams.items():
        if not at_label_rate(stream, rec):
            raise ValueError(
                f"{rec.name}: stream {name!r} has {stream.n_samples} samples at "
                f"{stream.rate:g} Hz, but the released layout stores label-rate "
                f"features ({rec.n_frames} samples at {rec.frame_rate:g} Hz); "
                "resample first, e.g. with sklearn_impression.preprocessing.Resampler"
            )


def _checked_targets(recordings, targets):
    """The targets as float64 arrays, once every recording is known to be writable
    with the columns and frame rate of the first."""
    targets = list(targets)
    if len(recordings) != len(targets):
        raise ValueError(f"{len(recordings)} recordings but {len(targets)} targets")
    if not recordings:
        raise ValueError("no recordings to write")
    first = recordings[0]
    for i, rec in enumerate(recordings):
        if not isinstance(rec, Recording):
            raise TypeError(f"recordings[{i}] is a {type(rec).__name__}, expected a "
                            "Recording")
        _check_all_streams_at_label_rate(rec)
        for domain in DOMAINS:
            if _columns(rec, domain) != _columns(first, domain):
                raise ValueError(
                    f"{rec.name}: {domain} modalities or channels differ from "
                    f"{first.name}; all recordings need the same columns"
                )
        if rec.frame_rate != first.frame_rate:
            raise ValueError(f"{rec.name}: frame rate {rec.frame_rate:g} Hz differs "
                             f"from {first.name} ({first.frame_rate:g} Hz)")
        y = np.asarray(targets[i], dtype=np.float64)
        if y.shape != (rec.n_frames, 2):
            raise ValueError(f"{rec.name}: targets have shape {y.shape}, expected "
                             f"({rec.n_frames}, 2)")
        targets[i] = y
    return targets


def _stimulus_owners(recordings):
    """``{stimulus id: its first recording}``, once the recordings of each stimulus
    are known to agree on its emitter streams and every id fits a CSV cell."""
    owners = {}
    for rec in recordings:
        other = owners.setdefault(rec.stimulus, rec)
        if other is rec:
            continue
        same = other.n_frames == rec.n_frames and all(
            a is b or np.array_equal(a.values, b.values, equal_nan=True)
            for a, b in zip(other.domain_streams("emitter").values(),
                            rec.domain_streams("emitter").values(), strict=True)
        )
        if not same:
            raise ValueError(f"{rec.name}: emitter streams differ from {other.name} "
                             "of the same stimulus")
    for s in owners:
        if not isinstance(s, (str, Integral)) or re.search(r"[,\r\n]", str(s)):
            raise ValueError(f"{owners[s].name}: stimulus id {s!r} must be an int or "
                             "a string without commas or newlines")
    return owners


def _files_by_receiver(recordings, targets):
    """``{file stem: [(recording, targets)]}``, one file per receiver id."""
    by_receiver = {}
    for rec, y in zip(recordings, targets, strict=True):
        stem = str(rec.receiver)
        if not _SAFE_STEM.match(stem):
            raise ValueError(f"{rec.name}: receiver id {rec.receiver!r} cannot be a "
                             "file name (use letters, digits, '_', '-', '.')")
        if by_receiver.get(stem, [(rec, None)])[0][0].receiver != rec.receiver:
            raise ValueError(f"{rec.name}: receiver ids {rec.receiver!r} and "
                             f"{by_receiver[stem][0][0].receiver!r} give the same "
                             "file name")
        by_receiver.setdefault(stem, []).append((rec, y))
    return by_receiver
