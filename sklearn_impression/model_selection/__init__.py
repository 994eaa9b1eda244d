"""Evaluation protocols: paper frame split, leave-receivers-out, leave-stimuli-out."""

from ._describe import describe_data
from ._evaluate import ProtocolResult, evaluate_protocol
from ._protocols import (
    PROTOCOLS,
    LeaveGroupsOut,
    PaperFrameSplit,
    RecordingGroupKFold,
    get_protocol,
    paper_split,
)
from ._scores import ccc_by_dimension, ccc_by_receiver

__all__ = [
    "PROTOCOLS",
    "LeaveGroupsOut",
    "PaperFrameSplit",
    "ProtocolResult",
    "RecordingGroupKFold",
    "ccc_by_dimension",
    "ccc_by_receiver",
    "describe_data",
    "evaluate_protocol",
    "get_protocol",
    "paper_split",
]
