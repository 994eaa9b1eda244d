"""From raw recordings to :class:`~sklearn_impression.Recording` objects.

openSMILE low-level descriptors for audio, NeuroKit2 for physiology, readers for
OpenFace 2 and timestamped eye-tracker CSVs, alignment on one timeline, and a
folder layout with a manifest (:func:`load_raw_sessions`, :func:`make_raw_sessions`).
Needs the ``features`` extra (``pip install 'sklearn-impression[features]'``);
``opensmile``, ``soundfile`` and ``neurokit2`` are imported only when a function
needs them, so importing this module (or :mod:`sklearn_impression`) stays cheap.
"""

from ._align import TimedStream, align_streams
from ._audio import audio_features, read_audio
from ._generate import make_raw_sessions
from ._physio import physio_features, physio_kind
from ._sessions import MANIFEST, load_raw_sessions
from ._tables import read_openface, read_timestamped_csv

__all__ = [
    "MANIFEST",
    "TimedStream",
    "align_streams",
    "audio_features",
    "load_raw_sessions",
    "make_raw_sessions",
    "physio_features",
    "physio_kind",
    "read_audio",
    "read_openface",
    "read_timestamped_csv",
]
