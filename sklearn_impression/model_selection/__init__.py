"""Evaluation protocols: paper frame split, leave-receivers-out, leave-stimuli-out."""

from ._evaluate import ProtocolResult, describe_data, evaluate_protocol
from ._protocols import (
    PROTOCOLS,
    LeaveGroupsOut,
    PaperFrameSplit,
    get_protocol,
    paper_split,
)

__all__ = [
    "PROTOCOLS",
    "LeaveGroupsOut",
    "PaperFrameSplit",
    "ProtocolResult",
    "describe_data",
    "evaluate_protocol",
    "get_protocol",
    "paper_split",
]
