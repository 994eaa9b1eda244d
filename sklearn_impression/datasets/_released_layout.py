"""The released IMPRESSION features-and-labels layout: its paths and columns.

Layout (all files comma-separated with one header row, one row per label frame)::

    root/feats_stimuli/sti.csv            emitter features, all stimuli stacked
    root/feats_participant/<id>.csv       receiver features, last column: sti.csv row
    root/labels/<id>.csv                  competence, warmth

:func:`~sklearn_impression.datasets.load_impression` reads it (``_released.py``,
the participant files in ``_released_participants.py``),
:func:`~sklearn_impression.datasets.write_impression` writes it
(``_released_write.py``, its checks in ``_released_checks.py``). Parsing and
writing the CSV files is in ``recordings/_csv.py``, splitting a domain's columns
into modalities in ``_modalities.py``.
"""

from __future__ import annotations

from pathlib import Path

STIMULUS_FILE = Path("feats_stimuli", "sti.csv")
#: Written by :func:`write_impression`, not part of the release: stimulus ids and
#: their rows in ``sti.csv``.
STIMULUS_INDEX_FILE = Path("feats_stimuli", "stimuli.csv")
PARTICIPANT_DIR = Path("feats_participant")
LABEL_DIR = Path("labels")
INDEX_COLUMN = "sti_row"


def _columns(rec, domain):
    """``[(modality, channel names)]`` of ``rec``'s streams in ``domain``."""
    return [(m, stream.channels) for m, stream in rec.domain_streams(domain).items()]
