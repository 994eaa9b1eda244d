"""The protocol names: :data:`PROTOCOLS` and :func:`get_protocol`.

Kept apart from the splitters so that every protocol module imports only the
ones it builds on (no import cycle through the registry).
"""

from __future__ import annotations

from ._crossed import CrossedEnrolmentSplit, CrossedGroupKFold
from ._enrolment import EnrolmentSplit
from ._protocols import PaperFrameSplit, RecordingGroupKFold

__all__ = ["PROTOCOLS", "get_protocol"]

#: Names accepted by :func:`get_protocol`.
PROTOCOLS = ("paper", "receivers", "stimuli", "receivers+enrol",
             "receivers+stimuli", "receivers+stimuli+enrol")


def get_protocol(name, n_splits=5, *, test_size=0.1, valid_size=0.1,
                 random_state=None, enrol_seconds=60.0):
    """Return a protocol object by name.

    Parameters
    ----------
    name : {"paper", "receivers", "stimuli", "receivers+enrol", \
"receivers+stimuli", "receivers+stimuli+enrol"} or protocol object
        A protocol object (:class:`PaperFrameSplit`, :class:`RecordingGroupKFold`,
        :class:`EnrolmentSplit`, :class:`CrossedGroupKFold`,
        :class:`CrossedEnrolmentSplit`) is returned unchanged.
    n_splits : int, default=5
        Folds of the grouped protocols.
    test_size, valid_size : float, default=0.1
        Fractions of the paper protocol.
    random_state : int or None, default=None
        Seed of the paper protocol's shuffle.
    enrol_seconds : float, default=60
        Enrolment seconds per test receiver of ``"receivers+enrol"`` and
        ``"receivers+stimuli+enrol"``.

    Returns
    -------
    PaperFrameSplit, RecordingGroupKFold, EnrolmentSplit, CrossedGroupKFold or \
CrossedEnrolmentSplit

    Examples
    --------
    >>> get_protocol("receivers", n_splits=4)
    RecordingGroupKFold(by='receiver', n_splits=4)
    >>> get_protocol("receivers+stimuli", n_splits=2)
    CrossedGroupKFold(n_splits=2)
    >>> get_protocol("paper", random_state=1).description.split(":")[0]
    'paper frame split'
    """
    if isinstance(name, (PaperFrameSplit, RecordingGroupKFold, CrossedGroupKFold)):
        return name
    if name == "paper":
        return PaperFrameSplit(test_size=test_size, valid_size=valid_size,
                               random_state=random_state)
    if name == "receivers":
        return RecordingGroupKFold("receiver", n_splits)
    if name == "stimuli":
        return RecordingGroupKFold("stimulus", n_splits)
    if name == "receivers+enrol":
        return EnrolmentSplit(n_splits, enrol_seconds)
    if name == "receivers+stimuli":
        return CrossedGroupKFold(n_splits)
    if name == "receivers+stimuli+enrol":
        return CrossedEnrolmentSplit(n_splits, enrol_seconds)
    raise ValueError(f"unknown protocol {name!r}; choose one of {PROTOCOLS}")
