"""Evaluation protocols: paper frame split, leave-receivers-out (with or without
enrolment), leave-stimuli-out, and receivers and stimuli held out at once (with or
without enrolment)."""

from ._crossed import CrossedEnrolmentSplit, CrossedGroupKFold
from ._describe import describe_data
from ._enrolment import EnrolmentSplit, adapt_pipeline, enrolment_masks, head_seconds
from ._evaluate import ProtocolResult, evaluate_protocol
from ._protocols import (
    LeaveGroupsOut,
    PaperFrameSplit,
    RecordingGroupKFold,
    paper_split,
)
from ._registry import PROTOCOLS, get_protocol
from ._scores import ccc_by_dimension, ccc_by_receiver

__all__ = [
    "PROTOCOLS",
    "CrossedEnrolmentSplit",
    "CrossedGroupKFold",
    "EnrolmentSplit",
    "LeaveGroupsOut",
    "PaperFrameSplit",
    "ProtocolResult",
    "RecordingGroupKFold",
    "adapt_pipeline",
    "ccc_by_dimension",
    "ccc_by_receiver",
    "describe_data",
    "enrolment_masks",
    "evaluate_protocol",
    "get_protocol",
    "head_seconds",
    "paper_split",
]
