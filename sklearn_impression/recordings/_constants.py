"""Names shared across the package: targets, domains and modalities (no imports).

Examples
--------
>>> from sklearn_impression.recordings._constants import MODALITIES, TARGET_NAMES
>>> TARGET_NAMES
('competence', 'warmth')
>>> [m for m in MODALITIES if m.startswith("receiver.")]
['receiver.eye', 'receiver.face', 'receiver.physio']
"""

__all__ = ["DOMAINS", "MODALITIES", "TARGET_NAMES"]

#: The two impression dimensions, in the column order of every target array.
TARGET_NAMES = ("competence", "warmth")

#: The two sides of a dyad: who is seen (the stimulus) and who watches.
DOMAINS = ("emitter", "receiver")

#: The six modalities of IMPRESSION-shaped recordings, ``"<domain>.<modality>"``.
MODALITIES = (
    "emitter.audio",
    "emitter.eye",
    "emitter.face",
    "receiver.eye",
    "receiver.face",
    "receiver.physio",
)
