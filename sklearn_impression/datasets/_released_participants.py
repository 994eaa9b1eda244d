"""Finding and reading the participant files of the released layout, checked."""

from __future__ import annotations

import numpy as np

from ..recordings._csv import _read_csv
from ._modalities import _split_columns
from ._released_layout import LABEL_DIR, PARTICIPANT_DIR, STIMULUS_FILE


def _participant_stems(root, receivers):
    """File stems of the participants to load, in file order, or ValueError."""
    folder = root / PARTICIPANT_DIR
    for needed in (folder, root / LABEL_DIR, root / STIMULUS_FILE.parent):
        if not needed.is_dir():
            raise ValueError(f"{needed}: directory not found (expected the released "
                             "layout feats_stimuli/, feats_participant/, labels/)")
    stems = sorted((p.stem for p in folder.glob("*.csv")),
                   key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))
    label_stems = {p.stem for p in (root / LABEL_DIR).glob("*.csv")}
    orphans = sorted(label_stems - set(stems))
    if orphans:
        raise ValueError(f"{LABEL_DIR / (orphans[0] + '.csv')}: labels without "
                         f"{PARTICIPANT_DIR / (orphans[0] + '.csv')}")
    if not stems:
        raise ValueError(f"{folder}: no participant CSV files")
    if receivers is not None:
        wanted = {str(r) for r in receivers}
        missing = sorted(wanted - set(stems))
        if missing:
            raise ValueError(f"receivers {missing} not found in {folder}")
        stems = [s for s in stems if s in wanted]
    return stems


def _read_participant(root, stem, n_rows, split_modalities):
    """Read and check one participant's feature and label files.

    Runs in a worker process when ``load_impression`` reads in parallel, so errors
    are returned, not raised: ``(names, early, late, payload)`` where ``early`` is
    an error found before the header can be compared with the other files' (the
    file cannot be read, or has fewer than 2 columns), ``late`` one found after
    (index column, label file), and ``payload`` is ``(arrays, index, labels)``
    with the receiver features as float32 ``[(modality, values, channels)]``.
    """
    path = PARTICIPANT_DIR / f"{stem}.csv"
    try:
        names, data = _read_csv(root / path, root, features=True)
    except ValueError as exc:
        return None, exc, None, None
    if len(names) < 2:
        return names, ValueError(f"{path}, line 1: needs receiver features and a "
                                 "last index column"), None, None
    index = data[:, -1]
    label_path = LABEL_DIR / f"{stem}.csv"
    try:
        bad = np.flatnonzero(~np.isfinite(index) | (index != np.round(index)))
        if bad.size:
            raise ValueError(f"{path}, line {bad[0] + 2}: index "
                             f"{float(index[bad[0]])!r} into {STIMULUS_FILE} is not "
                             "an integer")
        bad = np.flatnonzero((index < 0) | (index >= n_rows))
        if bad.size:
            raise ValueError(
                f"{path}, line {bad[0] + 2}: index {int(index[bad[0]])} points outside "
                f"{STIMULUS_FILE} (rows 0..{n_rows - 1})"
            )
        _, labels = _read_csv(root / label_path, root)
        if labels.shape[1] != 2:
            raise ValueError(f"{label_path}, line 1: expected 2 label columns "
                             f"(competence, warmth), got {labels.shape[1]}")
        bad = np.flatnonzero(~np.isfinite(labels).all(axis=1))
        if bad.size:
            raise ValueError(f"{label_path}, line {bad[0] + 2}: NaN or inf label")
        if labels.shape[0] != data.shape[0]:
            raise ValueError(
                f"{label_path}, line {min(labels.shape[0], data.shape[0]) + 2}: "
                f"{labels.shape[0]} label rows but {path} has {data.shape[0]} "
                "feature rows"
            )
    except ValueError as exc:
        return names, None, exc, None
    # float32 per modality right away: the float64 parse is dropped per file
    arrays = [(m, np.ascontiguousarray(data[:, cols], dtype=np.float32), ch)
              for m, cols, ch in _split_columns("receiver", names[:-1],
                                                split_modalities)]
    return names, None, None, (arrays, index.astype(np.int64), labels)
