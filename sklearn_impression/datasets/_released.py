"""The released IMPRESSION features-and-labels layout: :func:`load_impression`,
:func:`write_impression`.

Layout (all files comma-separated with one header row, one row per label frame)::

    root/feats_stimuli/sti.csv            emitter features, all stimuli stacked
    root/feats_participant/<id>.csv       receiver features, last column: sti.csv row
    root/labels/<id>.csv                  competence, warmth

Parsing and writing the CSV files is in ``_csv.py``, splitting a domain's columns
into modalities in ``_modalities.py``.
"""

from __future__ import annotations

import os
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..recordings._constants import TARGET_NAMES
from ..recordings._csv import _as_id, _read_csv, _read_text_table, _write_rows
from ..recordings._recording import DOMAINS, Recording, Stream, at_label_rate
from ._modalities import _split_columns

__all__ = ["load_impression", "write_impression"]

STIMULUS_FILE = Path("feats_stimuli", "sti.csv")
#: Written by :func:`write_impression`, not part of the release: stimulus ids and
#: their rows in ``sti.csv``.
STIMULUS_INDEX_FILE = Path("feats_stimuli", "stimuli.csv")
PARTICIPANT_DIR = Path("feats_participant")
LABEL_DIR = Path("labels")
INDEX_COLUMN = "sti_row"

_SAFE_STEM = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")


# -- reading -----------------------------------------------------------------------
def _stimulus_starts(root, boundaries, index_columns, n_rows):
    """Start rows of the stimuli in ``sti.csv`` and their ids."""
    sidecar = root / STIMULUS_INDEX_FILE
    ids = None
    if boundaries is None and sidecar.is_file():
        names, table = _read_text_table(sidecar, root)
        try:
            starts = np.asarray([int(row[1]) for row in table], dtype=np.int64)
        except ValueError:
            raise ValueError(f"{STIMULUS_INDEX_FILE}: start rows must be integers")\
                from None
        ids = [_as_id(row[0]) for row in table]
        if starts.size and starts.max() >= n_rows:
            raise ValueError(f"{STIMULUS_INDEX_FILE}: start row {starts.max()} points "
                             f"outside {STIMULUS_FILE} ({n_rows} rows)")
    elif boundaries is None or (isinstance(boundaries, str) and boundaries == "index"):
        cuts = [np.zeros(1, dtype=np.int64)]
        for idx in index_columns.values():
            jump = np.flatnonzero(np.diff(idx) != 1) + 1
            cuts.append(idx[jump])
            cuts.append(idx[jump - 1] + 1)  # where the previous run stopped
            cuts.append(idx[:1])
            cuts.append(idx[-1:] + 1)
        starts = np.unique(np.concatenate(cuts))
        starts = starts[starts < n_rows]
    else:
        if callable(boundaries):
            starts = boundaries(dict(index_columns))
        else:
            starts = boundaries
        starts = np.asarray(starts)
        if starts.ndim != 1 or starts.dtype.kind not in "iu":
            raise ValueError(
                "boundaries must give a 1-D sequence of integer start rows of the "
                f"stimuli in {STIMULUS_FILE}, got {starts!r}"
            )
        if starts.size and (starts.min() < 0 or starts.max() >= n_rows):
            raise ValueError(
                f"boundaries {starts.tolist()} point outside {STIMULUS_FILE} "
                f"({n_rows} rows)"
            )
        starts = np.unique(np.concatenate([[0], starts]))
    if ids is None:
        ids = list(range(len(starts)))
    if starts.size == 0 or starts[0] != 0 or np.any(np.diff(starts) <= 0):
        raise ValueError(f"{STIMULUS_INDEX_FILE}: start rows must increase from 0")
    return starts.astype(np.int64), ids


def _participant_stems(root, receivers):
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


@validate_params(
    {
        "root": [str, os.PathLike],
        "boundaries": [StrOptions({"index"}), "array-like", callable, None],
        "frame_rate": [Interval(Real, 0, None, closed="neither")],
        "split_modalities": ["boolean"],
        "receivers": ["array-like", None],
        "return_X_y": ["boolean"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def load_impression(root, *, boundaries=None, frame_rate=25.0, split_modalities=True,
                    receivers=None, return_X_y=False, n_jobs=None):
    """Load the released IMPRESSION features-and-labels layout as recordings.

    The layout (see :func:`write_impression`) holds label-rate features:
    ``feats_stimuli/sti.csv`` (emitter features of all stimuli stacked),
    ``feats_participant/<id>.csv`` (receiver features, then a last column with the
    row of ``sti.csv`` shown at that frame) and ``labels/<id>.csv`` (competence,
    warmth), each with a header row. Every participant file becomes one or more
    :class:`~sklearn_impression.Recording` objects whose streams are at the label
    rate.

    **How recordings are cut.** The stimulus rows of ``sti.csv`` are split into
    stimuli at start rows chosen by ``boundaries``:

    * ``None`` (default): the ``feats_stimuli/stimuli.csv`` file that
      :func:`write_impression` writes, when present (it also gives the stimulus
      ids); otherwise as ``"index"``;
    * ``"index"``: wherever any participant's index column is discontinuous (a
      row ``k`` whose index is not the previous one plus 1), pooled over all
      loaded participants, so one participant who watched in a different order reveals
      the boundaries for all. Files in which every participant watched the rows
      in order give a single stimulus: pass the boundaries then;
    * a sequence of start rows (0 is implied), or a callable that receives
      ``{receiver_id: index_column}`` and returns the start rows.

    Each participant's frames are then cut into maximal runs of consecutive rows
    inside one stimulus; each run is a recording. A run covering its whole
    stimulus shares that stimulus's emitter :class:`~sklearn_impression.Stream`
    objects with all other such recordings; a partial run gets a view of its rows.
    Stimulus ids are ``0, 1, ...`` in ``sti.csv`` order unless ``stimuli.csv``
    names them; receiver ids are the file names (as int when all digits).

    **How modalities are split.** When every column of a domain's file is named
    ``<domain>.<modality>.<channel>`` (as written by :func:`write_impression`), or
    every column matches a known tool's naming (OpenFace ``AU01_r`` / ``AU01_c``
    -> face; ``gaze_*``, ``eye_*``, ``pupil*`` -> eye; openSMILE ``mfcc``,
    ``voiceProb``, ``pcm_RMSenergy``, ``pcm_zcr`` -> audio; ``bvp``, ``ecg``,
    ``gsr`` -> physio), the domain is split into those modalities. Otherwise (for
    instance numbered columns) the domain is one stream, ``emitter.features`` or
    ``receiver.features``.

    Parameters
    ----------
    root : str or path
        Folder holding ``feats_stimuli/``, ``feats_participant/`` and ``labels/``.
    boundaries : None, "index", sequence of int or callable, default=None
        Start rows of the stimuli in ``sti.csv`` (see above).
    frame_rate : float, default=25.0
        Label rate of the files in Hz (the layout does not store it).
    split_modalities : bool, default=True
        Split domains into modalities from the headers when possible; False keeps
        one ``<domain>.features`` stream per domain.
    receivers : sequence, default=None
        Load only these participants (file names without ``.csv``).
    return_X_y : bool, default=False
        Return ``(recordings, targets)`` instead of a Bunch.
    n_jobs : int, default=None
        Processes parsing the participant and label files (joblib semantics:
        ``None`` means 1 unless in a :func:`joblib.parallel_config` context, -1
        all CPUs). Parsing is CPU-bound, about 0.6 s per 40 MB file; errors are
        the same, and reported for the first bad file in file order, either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``recordings`` (list of Recording, float32 streams at ``frame_rate``),
        ``targets`` (list of ``(n_frames, 2)`` float64), ``receivers`` and
        ``stimuli`` (one id per recording), ``boundaries`` (start rows of the
        stimuli in ``sti.csv``), ``target_names``, ``frame_rate``, ``DESCR``.
    (recordings, targets) : tuple if ``return_X_y`` is True.

    Raises
    ------
    ValueError
        Naming the file and line: a missing file or folder, an empty or header-only
        file, a ragged, truncated or non-numeric row, an index that is not an
        integer or points outside ``sti.csv``, label and feature row counts that
        differ, headers that differ between participants.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_impression import Recording, Stream
    >>> from sklearn_impression.datasets import load_impression, write_impression
    >>> rng = np.random.default_rng(0)
    >>> face = Stream(rng.random((50, 2)), 25.0, ["AU01_r", "AU01_c"])
    >>> recs = [Recording({"emitter.face": face,
    ...                    "receiver.physio": Stream(rng.random((50, 1)), 25.0,
    ...                                              ["gsr"])},
    ...                   n_frames=50, receiver=r, stimulus=0) for r in range(2)]
    >>> root = tempfile.mkdtemp()
    >>> write_impression(root, recs, [np.zeros((50, 2))] * 2)
    >>> data = load_impression(root)
    >>> data.recordings[1].modalities, data.receivers
    (('emitter.face', 'receiver.physio'), array([0, 1]))
    """
    root = Path(root)
    stems = _participant_stems(root, receivers)
    sti_names, sti = _read_csv(root / STIMULUS_FILE, root, np.float32,
                               features=True)
    n_rows = sti.shape[0]

    reads = (delayed(_read_participant)(root, stem, n_rows, split_modalities)
             for stem in stems)
    if effective_n_jobs(n_jobs) > 1 and len(stems) > 1:
        # Workers return their errors, so all files are read and the results are
        # checked below in file order, exactly as in the serial loop.
        results = Parallel(n_jobs=n_jobs)(reads)
    else:
        results = (function(*a, **kw) for function, a, kw in reads)

    participants, index_columns, header = [], {}, None
    for stem, (names, early, late, payload) in zip(stems, results, strict=True):
        if early is not None:
            raise early
        if header is None:
            header, header_file = names, PARTICIPANT_DIR / f"{stem}.csv"
        elif names != header:
            raise ValueError(f"{PARTICIPANT_DIR / f'{stem}.csv'}, line 1: header "
                             f"differs from {header_file}")
        if late is not None:
            raise late
        arrays, index, labels = payload
        index_columns[_as_id(stem)] = index
        participants.append((stem, arrays, labels))

    starts, stimulus_ids = _stimulus_starts(root, boundaries, index_columns, n_rows)
    stops = np.append(starts[1:], n_rows)

    emitter_split = _split_columns("emitter", sti_names, split_modalities)
    emitter_arrays = [(m, np.ascontiguousarray(sti[:, cols], dtype=np.float32), ch)
                      for m, cols, ch in emitter_split]
    del sti
    emitter_cache = {}

    def emitter_streams(first, stop):
        if (first, stop) not in emitter_cache:
            emitter_cache[first, stop] = {
                m: Stream(values[first:stop], frame_rate, ch)
                for m, values, ch in emitter_arrays
            }
        return emitter_cache[first, stop]

    for s in range(len(starts)):  # whole stimuli first, so they are shared
        emitter_streams(int(starts[s]), int(stops[s]))

    recordings, targets, receiver_ids, stimuli = [], [], [], []
    for stem, arrays, labels in participants:
        index = index_columns[_as_id(stem)]
        block = np.searchsorted(starts, index, side="right") - 1
        cut = np.ones(index.shape[0], dtype=bool)
        cut[1:] = (np.diff(index) != 1) | (np.diff(block) != 0)
        run_starts = np.flatnonzero(cut)
        run_stops = np.append(run_starts[1:], index.shape[0])
        for a, b in zip(run_starts, run_stops, strict=True):
            streams = dict(emitter_streams(int(index[a]), int(index[b - 1]) + 1))
            streams.update({m: Stream(v[a:b], frame_rate, ch) for m, v, ch in arrays})
            stimulus = stimulus_ids[block[a]]
            recordings.append(Recording(streams, int(b - a), frame_rate,
                                        receiver=_as_id(stem), stimulus=stimulus))
            targets.append(labels[a:b])
            receiver_ids.append(_as_id(stem))
            stimuli.append(stimulus)
    if return_X_y:
        return recordings, targets
    return Bunch(
        recordings=recordings, targets=targets, receivers=np.asarray(receiver_ids),
        stimuli=np.asarray(stimuli), boundaries=starts, target_names=TARGET_NAMES,
        frame_rate=float(frame_rate),
        DESCR=f"IMPRESSION features and labels loaded from {root}",
    )


# -- writing -----------------------------------------------------------------------
def _check_label_rate(rec):
    for name, stream in rec.streams.items():
        if not at_label_rate(stream, rec):
            raise ValueError(
                f"{rec.name}: stream {name!r} has {stream.n_samples} samples at "
                f"{stream.rate:g} Hz, but the released layout stores label-rate "
                f"features ({rec.n_frames} samples at {rec.frame_rate:g} Hz); "
                "resample first, e.g. with sklearn_impression.preprocessing.Resampler"
            )


def _columns(rec, domain):
    return [(m, stream.channels) for m, stream in rec.domain_streams(domain).items()]


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
    recordings, targets = list(recordings), list(targets)
    if len(recordings) != len(targets):
        raise ValueError(f"{len(recordings)} recordings but {len(targets)} targets")
    if not recordings:
        raise ValueError("no recordings to write")
    first = recordings[0]
    for i, rec in enumerate(recordings):
        if not isinstance(rec, Recording):
            raise TypeError(f"recordings[{i}] is a {type(rec).__name__}, expected a "
                            "Recording")
        _check_label_rate(rec)
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

    # stimuli, each stored once; recordings of a stimulus must agree on it
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
    try:
        stimulus_order = sorted(owners)
    except TypeError:
        stimulus_order = list(owners)
    stimulus_start, row = {}, 0
    for s in stimulus_order:
        stimulus_start[s] = row
        row += owners[s].n_frames

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
