"""Evaluation protocols: paper frame split, leave-receivers-out (with or without
enrolment), leave-stimuli-out."""

from ._enrolment import EnrolmentSplit, adapt_pipeline, enrolment_masks, head_seconds
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
    "EnrolmentSplit",
    "LeaveGroupsOut",
    "PaperFrameSplit",
    "ProtocolResult",
    "adapt_pipeline",
    "describe_data",
    "enrolment_masks",
    "evaluate_protocol",
    "get_protocol",
    "head_seconds",
    "paper_split",
]
