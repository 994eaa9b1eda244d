"""Reading the released IMPRESSION features-and-labels layout: :func:`load_impression`.

The layout is described in ``_released_layout.py``; the participant files are
found and read in ``_released_participants.py``.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..recordings._bunch import recordings_bunch
from ..recordings._csv import _as_id, _read_csv, _read_text_table
from ..recordings._recording import Recording, Stream
from ._modalities import _split_columns
from ._released_layout import PARTICIPANT_DIR, STIMULUS_FILE, STIMULUS_INDEX_FILE
from ._released_participants import _participant_stems, _read_participant

__all__ = ["load_impression"]


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
        all CPUs). Parsing is CPU-bound; errors are the same, and reported for
        the first bad file in file order, either way.

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
    return recordings_bunch(
        recordings, targets, receiver_ids, stimuli, boundaries=starts,
        frame_rate=frame_rate, return_X_y=return_X_y,
        descr=f"IMPRESSION features and labels loaded from {root}",
    )
