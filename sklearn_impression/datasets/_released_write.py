"""Writing the released IMPRESSION features-and-labels layout:
:func:`write_impression` (what it accepts is checked in ``_released_checks.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import validate_params

from ..recordings._constants import TARGET_NAMES
from ..recordings._csv import _write_rows
from ._released_checks import _checked_targets, _files_by_receiver, _stimulus_owners
from ._released_layout import (
    INDEX_COLUMN,
    LABEL_DIR,
    PARTICIPANT_DIR,
    STIMULUS_FILE,
    STIMULUS_INDEX_FILE,
    _columns,
)

__all__ = ["write_impression"]


@validate_params(
    {
        "root": [str, os.PathLike],
        "recordings": ["array-like"],
        "targets": ["array-like"],
        "float_format": [str],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def write_impression(root, recordings, targets, *, float_format="%.9g",
                     overwrite=False):
    """Write label-rate recordings in the released IMPRESSION layout.

    Writes ``feats_stimuli/sti.csv`` (the emitter features of every stimulus,
    stacked in sorted stimulus-id order), one ``feats_participant/<receiver>.csv``
    per receiver (its recordings in the given order; receiver features, then a last
    column ``sti_row`` with the row of ``sti.csv`` shown at that frame) and
    ``labels/<receiver>.csv`` (competence, warmth), each with a header row. Column
    names are ``<domain>.<modality>.<channel>`` (e.g. ``emitter.audio.mfcc_1``), so
    :func:`load_impression` recovers the modalities. It also writes
    ``feats_stimuli/stimuli.csv`` (stimulus id, first row, row count), which is not
    part of the release, so the loader recovers the stimulus boundaries and ids
    even where the index column runs on without a jump.

    Parameters
    ----------
    root : str or path
        Output folder (created if needed).
    recordings : sequence of Recording
        Label-rate recordings: every stream at ``rate == frame_rate`` with
        ``n_frames`` samples (the output of
        :class:`~sklearn_impression.preprocessing.Resampler`). All share the same
        modalities and channels; recordings of one stimulus have identical emitter
        streams. Receiver ids become file names, so they must be simple names.
    targets : sequence of array-like of shape (n_frames, 2)
        Competence and warmth per recording.
    float_format : str, default="%.9g"
        Format of feature values; ``"%.9g"`` round-trips float32 exactly. Labels
        are always written with ``"%.17g"`` (exact float64).
    overwrite : bool, default=False
        Replace the CSV files of an existing layout under ``root`` (every ``*.csv``
        in its three folders is removed first). Without it, an existing layout
        raises :class:`FileExistsError`.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_impression import Recording, Stream
    >>> rec = Recording({"emitter.audio": Stream(np.ones((4, 1)), 25.0, ["zcr"]),
    ...                  "receiver.physio": Stream(np.zeros((4, 1)), 25.0, ["gsr"])},
    ...                 n_frames=4, receiver=7, stimulus="intro")
    >>> root = tempfile.mkdtemp()
    >>> write_impression(root, [rec], [np.zeros((4, 2))])
    >>> sorted(os.listdir(os.path.join(root, "feats_participant")))
    ['7.csv']
    """
    root = Path(root)
    recordings = list(recordings)
    targets = _checked_targets(recordings, targets)
    first = recordings[0]

    # stimuli, each stored once; recordings of a stimulus must agree on it
    owners = _stimulus_owners(recordings)
    try:
        stimulus_order = sorted(owners)
    except TypeError:
        stimulus_order = list(owners)
    stimulus_start, row = {}, 0
    for s in stimulus_order:
        stimulus_start[s] = row
        row += owners[s].n_frames
    by_receiver = _files_by_receiver(recordings, targets)

    folders = [root / STIMULUS_FILE.parent, root / PARTICIPANT_DIR, root / LABEL_DIR]
    existing = [p for f in folders if f.is_dir() for p in f.glob("*.csv")]
    if existing and not overwrite:
        raise FileExistsError(f"{root} already holds a layout ({existing[0]}); pass "
                              "overwrite=True to replace it")
    for path in existing:
        path.unlink()
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)

    def header(domain):
        return ",".join(f"{m}.{c}" for m, chans in _columns(first, domain)
                        for c in chans)

    def features(rec, domain):
        return np.hstack([s.values for s in rec.domain_streams(domain).values()])

    with open(root / STIMULUS_FILE, "w", newline="") as handle:
        handle.write(header("emitter") + "\n")
        for s in stimulus_order:
            _write_rows(handle, features(owners[s], "emitter"), float_format)
    with open(root / STIMULUS_INDEX_FILE, "w", newline="") as handle:
        handle.write("stimulus,start_row,n_rows\n")
        for s in stimulus_order:
            handle.write(f"{s},{stimulus_start[s]},{owners[s].n_frames}\n")
    for stem, items in by_receiver.items():
        with open(root / PARTICIPANT_DIR / f"{stem}.csv", "w", newline="") as handle:
            handle.write(header("receiver") + f",{INDEX_COLUMN}\n")
            for rec, _ in items:
                rows = stimulus_start[rec.stimulus] + np.arange(rec.n_frames)
                _write_rows(handle, features(rec, "receiver"), float_format, rows)
        with open(root / LABEL_DIR / f"{stem}.csv", "w", newline="") as handle:
            handle.write(",".join(TARGET_NAMES) + "\n")
            for _, y in items:
                _write_rows(handle, y, "%.17g")
